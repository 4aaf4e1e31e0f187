//! A view for fuzzing the host functions guests call (the `host_calls`
//! fuzz target, `bash bench/fuzz.sh`). Its request body is a script of host
//! calls with arbitrary arguments, run in order; errors the host returns are
//! noted and otherwise ignored. Unless the script returns or raises, the view
//! answers 200 with a transcript, one line per call and its outcome.
//!
//! Each call's result is also checked against the contract `wit/` states
//! (a header that was set reads back, a refused `set-status` changes
//! nothing, a value stored in a key-value store reads back...). A broken
//! contract is a host bug: the view then answers with
//! `x-fuzz-violation: <what>`, a header scripts cannot set themselves, and
//! the harness fails.
//!
//! Grants it expects: `key_value_stores = ["fuzz"]` and
//! `allowed_outbound_hosts = ["http://127.0.0.1:1"]` (the imports need
//! grants; the store names and URLs in a script are arbitrary).
//!
//! Encoding: every byte string is some script.
//! - An op is one byte, modulo the number of ops (see [`run`]).
//! - `str` and `bytes`: a length byte and that many bytes (a length byte of
//!   255 is followed by a little-endian u16 length), cut short by the end of
//!   the body; a `str` is decoded as lossy UTF-8.
//! - `u16`, `u64`, `i64`: little-endian; bytes past the end read as 0.
//! - `ttl`: a byte; odd means a `u64` of milliseconds follows, even none.
//! - `resp` and `store`: a byte, modulo the number of responses or stores
//!   made so far; an op on an empty list reads its arguments and does nothing.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;

use shallot_guest::http::{OutgoingRequest, send};
use shallot_guest::{Error, ErrorKind, Request, Response, ViewInfo, config, kv, log, view};

/// How many ops there are; an op byte is taken modulo this.
const OPS: u8 = 25;

/// Every error kind a guest can raise, host-made ones included.
const KINDS: [ErrorKind; 11] = [
    ErrorKind::NotFound,
    ErrorKind::PermissionDenied,
    ErrorKind::BadRequest,
    ErrorKind::SuspiciousOperation,
    ErrorKind::Internal,
    ErrorKind::Trap,
    ErrorKind::MemoryLimit,
    ErrorKind::CpuLimit,
    ErrorKind::FuelLimit,
    ErrorKind::StackLimit,
    ErrorKind::Unavailable,
];

#[view]
fn handle(req: &Request, _view: ViewInfo) -> Result<Response, Error> {
    let script = req.body();
    let mut state = State::default();
    let end = run(req, &mut Reader(&script), &mut state);
    if let Some(what) = state.violation.take() {
        let resp = Response::text(500, &state.transcript);
        resp.set_header(VIOLATION, &what.escape_default().to_string())?;
        return Ok(resp);
    }
    end.unwrap_or_else(|| Ok(Response::text(200, &state.transcript)))
}

/// The header that reports a broken host contract.
const VIOLATION: &str = "x-fuzz-violation";

#[derive(Default)]
struct State {
    responses: Vec<Response>,
    stores: Vec<kv::Store>,
    transcript: String,
    /// The first broken contract.
    violation: RefCell<Option<String>>,
}

impl State {
    fn note(&mut self, line: impl std::fmt::Display) {
        let _ = writeln!(self.transcript, "{line}");
    }

    fn response(&self, index: u8) -> Option<&Response> {
        pick(&self.responses, index).map(|i| &self.responses[i])
    }

    fn store(&self, index: u8) -> Option<&kv::Store> {
        pick(&self.stores, index).map(|i| &self.stores[i])
    }

    /// Records `what` as a broken contract unless `ok`.
    fn check(&self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.violation.borrow_mut().get_or_insert_with(what);
        }
    }
}

fn pick<T>(list: &[T], index: u8) -> Option<usize> {
    (!list.is_empty()).then(|| usize::from(index) % list.len())
}

/// `Response::new` with a check of what a new response holds.
fn new_response(s: &mut State, status: u16) {
    let resp = Response::new(status);
    s.check(
        resp.status() == status && resp.headers().is_empty() && resp.body().is_empty(),
        || format!("new {status}: not empty"),
    );
    s.responses.push(resp);
    s.note(format_args!("new {status}"));
}

/// Whether `key` cannot expire within the next second, so what one call
/// reads the next one still finds.
fn steady(store: &kv::Store, key: &str) -> bool {
    match store.ttl_ms(key) {
        Ok(None) => true,
        Ok(Some(ms)) => ms >= 1000,
        Err(_) => false,
    }
}

/// `header` is `header-values` joined with ", ", none when there are none.
fn check_joined(s: &State, what: &str, name: &str, joined: &Option<String>, values: &[String]) {
    let expected = (!values.is_empty()).then(|| values.join(", "));
    s.check(*joined == expected, || {
        format!("{what} header {name:?} is {joined:?}, values {values:?}")
    });
}

/// `ok VALUE` or `err KIND`.
fn outcome<T: std::fmt::Debug>(result: &Result<T, Error>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(e) => format!("err {:?}", e.kind),
    }
}

/// Runs the script; `Some` when it returned or raised.
fn run(req: &Request, r: &mut Reader<'_>, s: &mut State) -> Option<Result<Response, Error>> {
    while !r.0.is_empty() {
        match r.byte() % OPS {
            0 => {
                // Outside 200..=599 the host traps this call: a 500.
                let status = r.u16();
                new_response(s, status);
            }
            1 => new_response(s, 200 + r.u16() % 400),
            2 => {
                let (i, status) = (r.byte(), r.u16());
                if let Some(resp) = s.response(i) {
                    let before = resp.status();
                    let result = resp.set_status(status);
                    let valid = (200..=599).contains(&status);
                    let after = resp.status();
                    s.check(result.is_ok() == valid, || {
                        format!("set-status {status} gave {result:?}")
                    });
                    s.check(after == if valid { status } else { before }, || {
                        format!("set-status {status} on {before} left {after}")
                    });
                    let line = format!("set-status {status} {}", outcome(&result));
                    s.note(line);
                }
            }
            op @ (3 | 4) => {
                let (i, name, value) = (r.byte(), r.str(), r.str());
                if name.eq_ignore_ascii_case(VIOLATION) {
                    continue;
                }
                if let Some(resp) = s.response(i) {
                    let before = resp.header_values(&name);
                    let (verb, result) = if op == 3 {
                        ("set-header", resp.set_header(&name, &value))
                    } else {
                        ("append-header", resp.append_header(&name, &value))
                    };
                    let after = resp.header_values(&name);
                    let expected = match (&result, op) {
                        (Err(_), _) => before.clone(),
                        (Ok(()), 3) => vec![value.clone()],
                        (Ok(()), _) => [before.clone(), vec![value.clone()]].concat(),
                    };
                    s.check(after == expected, || {
                        format!(
                            "{verb} {name:?} {value:?} gave {result:?}: {before:?} became {after:?}"
                        )
                    });
                    s.check(result.is_err() || resp.has_header(&name), || {
                        format!("{verb} {name:?}: has-header is false")
                    });
                    s.note(format_args!("{verb} {}", outcome(&result)));
                }
            }
            5 => {
                let (i, name) = (r.byte(), r.str());
                if let Some(resp) = s.response(i) {
                    resp.remove_header(&name);
                    s.check(!resp.has_header(&name), || {
                        format!("remove-header {name:?}: still there")
                    });
                    s.note("remove-header");
                }
            }
            6 => {
                let (i, name) = (r.byte(), r.str());
                if let Some(resp) = s.response(i) {
                    let (joined, values) = (resp.header(&name), resp.header_values(&name));
                    check_joined(s, "response", &name, &joined, &values);
                    s.check(resp.has_header(&name) != values.is_empty(), || {
                        format!("response has-header {name:?} disagrees with {values:?}")
                    });
                    s.check((200..=599).contains(&resp.status()), || {
                        format!("response status {}", resp.status())
                    });
                    let line = format!(
                        "response status={} header={:?} values={} headers={} has={} body={}",
                        resp.status(),
                        joined,
                        values.len(),
                        resp.headers().len(),
                        resp.has_header(&name),
                        resp.body().len(),
                    );
                    s.note(line);
                }
            }
            7 => {
                let (i, body) = (r.byte(), r.bytes());
                if let Some(resp) = s.response(i) {
                    resp.set_body(&body);
                    s.check(resp.body() == body, || {
                        "set-body: body reads back different".into()
                    });
                    s.note(format_args!("set-body {}", body.len()));
                }
            }
            8 => {
                let name = r.str();
                let (joined, values) = (req.header(&name), req.header_values(&name));
                check_joined(s, "request", &name, &joined, &values);
                s.check(req.path().starts_with('/'), || {
                    format!("request path {:?}", req.path())
                });
                s.note(format_args!(
                    "request {} {} query={:?} header={:?} values={} headers={} body={} client={} scheme={}",
                    req.method(),
                    req.path(),
                    req.query(),
                    joined,
                    values.len(),
                    req.headers().len(),
                    req.body().len(),
                    req.client_addr(),
                    req.scheme(),
                ));
            }
            9 => {
                let name = r.str();
                s.note(format_args!("attribute {:?}", req.attribute(&name)));
            }
            10 => {
                let (name, value) = (r.str(), r.str());
                req.set_attribute(&name, &value);
                s.check(req.attribute(&name).as_ref() == Some(&value), || {
                    format!(
                        "set-attribute {name:?}: reads back {:?}",
                        req.attribute(&name)
                    )
                });
                s.note("set-attribute");
            }
            11 => {
                let key = r.str();
                let (value, all) = (config::get(&key), config::all());
                let listed = all.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
                s.check(value.as_ref() == listed, || {
                    format!("config {key:?}: get {value:?}, get-all {listed:?}")
                });
                s.note(format_args!("config {value:?} of {}", all.len()));
            }
            12 => {
                let (level, text) = (r.byte(), r.str());
                match level % 4 {
                    0 => log::debug(&text),
                    1 => log::info(&text),
                    2 => log::warn(&text),
                    _ => log::error(&text),
                }
                s.note("log");
            }
            13 => {
                let name = r.str();
                match kv::Store::open(&name) {
                    Ok(store) => {
                        s.stores.push(store);
                        s.note("kv-open ok");
                    }
                    Err(e) => s.note(format_args!("kv-open err {:?}", e.kind)),
                }
            }
            14 => {
                let (i, key) = (r.byte(), r.str());
                if let Some(store) = s.store(i) {
                    let line = match store.get(&key) {
                        Ok(value) => format!("kv-get ok {:?}", value.map(|v| v.len())),
                        Err(e) => format!("kv-get err {:?}", e.kind),
                    };
                    s.note(line);
                }
            }
            15 => {
                let (i, key, value, ttl) = (r.byte(), r.str(), r.bytes(), r.ttl());
                if let Some(store) = s.store(i) {
                    let result = store.set(&key, &value, ttl);
                    // A TTL of a second or more cannot run out before the read.
                    if result.is_ok() && ttl.is_none_or(|ms| ms >= 1000) {
                        let stored = store.get(&key);
                        s.check(matches!(&stored, Ok(Some(v)) if *v == value), || {
                            format!(
                                "kv-set {key:?} ({} bytes): get gave {stored:?}",
                                value.len()
                            )
                        });
                        let left = store.ttl_ms(&key);
                        s.check(
                            match (&left, ttl) {
                                (Ok(None), None) => true,
                                (Ok(Some(left)), Some(ttl)) => *left <= ttl,
                                _ => false,
                            },
                            || format!("kv-set {key:?} with ttl {ttl:?}: ttl-ms gave {left:?}"),
                        );
                    }
                    let line = format!("kv-set {}", outcome(&result));
                    s.note(line);
                }
            }
            16 => {
                let (i, key, delta, ttl) = (r.byte(), r.str(), r.i64(), r.ttl());
                if let Some(store) = s.store(i) {
                    let steady = steady(store, &key);
                    let before = store.get(&key);
                    let result = store.increment(&key, delta, ttl);
                    if let (Ok(n), Ok(before), true) = (&result, &before, steady) {
                        let old = before.as_ref().map_or(Some(0), |v| {
                            std::str::from_utf8(v).ok()?.parse::<i64>().ok()
                        });
                        s.check(old.and_then(|o| o.checked_add(delta)) == Some(*n), || {
                            format!("kv-increment {key:?} by {delta} from {before:?} gave {n}")
                        });
                        // A new key gets `ttl`, which may run out at once.
                        let stored = store.get(&key);
                        s.check(
                            ttl.is_some_and(|ms| ms < 1000)
                                || matches!(&stored, Ok(Some(v)) if *v == n.to_string().as_bytes()),
                            || format!("kv-increment {key:?} gave {n}, get {stored:?}"),
                        );
                    }
                    let line = format!("kv-increment {}", outcome(&result));
                    s.note(line);
                }
            }
            17 => {
                let (i, key) = (r.byte(), r.str());
                if let Some(store) = s.store(i) {
                    let steady = steady(store, &key);
                    let existed = store.get(&key).map(|v| v.is_some());
                    let result = store.delete(&key);
                    if let (Ok(deleted), Ok(existed), true) = (&result, existed, steady) {
                        s.check(*deleted == existed, || {
                            format!("kv-delete {key:?}: existed {existed}, delete said {deleted}")
                        });
                        let after = store.get(&key);
                        s.check(matches!(after, Ok(None)), || {
                            format!("kv-delete {key:?}: get gave {after:?}")
                        });
                    }
                    let line = format!("kv-delete {}", outcome(&result));
                    s.note(line);
                }
            }
            18 => {
                let (i, key) = (r.byte(), r.str());
                if let Some(store) = s.store(i) {
                    let line = format!("kv-ttl {}", outcome(&store.ttl_ms(&key)));
                    s.note(line);
                }
            }
            19 => {
                if let Some(i) = pick(&s.responses, r.byte()) {
                    drop(s.responses.remove(i));
                    s.note("drop-response");
                }
            }
            20 => {
                if let Some(i) = pick(&s.stores, r.byte()) {
                    drop(s.stores.remove(i));
                    s.note("drop-store");
                }
            }
            21 => {
                let (stream, text) = (r.byte(), r.bytes());
                let written = if stream % 2 == 0 {
                    std::io::stdout().write_all(&text)
                } else {
                    std::io::stderr().write_all(&text)
                };
                s.note(format_args!("print {}", written.is_ok()));
            }
            22 => {
                let (method, url) = (r.str(), r.str());
                let headers = (0..r.byte() % 8).map(|_| (r.str(), r.str())).collect();
                let body = r.bytes();
                let result = send(&OutgoingRequest {
                    method,
                    url,
                    headers,
                    body,
                });
                let line = match result {
                    Ok(resp) => format!("send ok {}", resp.status),
                    Err(e) => format!("send err {:?}", e.kind),
                };
                s.note(line);
            }
            23 => {
                if let Some(i) = pick(&s.responses, r.byte()) {
                    return Some(Ok(s.responses.swap_remove(i)));
                }
            }
            _ => {
                let (kind, message) = (r.byte(), r.str());
                let kind = KINDS[usize::from(kind) % KINDS.len()];
                return Some(Err(Error::new(kind, message)));
            }
        }
    }
    None
}

/// Reads a script's arguments; past the end, everything reads as zero.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let head = self.take(N);
        out[..head.len()].copy_from_slice(head);
        out
    }

    fn byte(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.array())
    }

    fn bytes(&mut self) -> Vec<u8> {
        let len = match self.byte() {
            255 => usize::from(self.u16()),
            n => usize::from(n),
        };
        self.take(len).to_vec()
    }

    fn str(&mut self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    fn ttl(&mut self) -> Option<u64> {
        (self.byte() % 2 == 1).then(|| self.u64())
    }
}
