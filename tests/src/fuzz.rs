//! Fuzz harnesses: one function per cargo-fuzz target in `fuzz/`, also run
//! on stable over the committed seed corpora by `tests/tests/all/fuzz_corpus.rs`.
//!
//! Each takes arbitrary bytes and panics only when it finds a bug: a panic
//! in the host, or a broken invariant (asserted here with the reason).
//!
//! - [`config`]: `Config::parse` on arbitrary text.
//! - [`routes`]: route tables and paths in a small line format (see there).
//! - [`handle`]: a raw HTTP/1.1 request through the quickstart pipeline.
//! - [`host_calls`]: a script of host calls run by the `fuzz-host` view.

use std::sync::OnceLock;

use bytes::Bytes;
use shallot::router::{Pattern, RouteDef, Router, Target};
use shallot::{Config, ConfigError, Pipeline};

/// `Config::parse("fuzz.toml", text)` with `{guest-name}` placeholders
/// filled in (so seeds can name real components). It returns a config or an
/// error that names the file, a line and column inside the text, and says
/// what is wrong; a config it accepts is consistent.
pub fn config(data: &[u8]) {
    let text = crate::with_guests(&String::from_utf8_lossy(data));
    match Config::parse("fuzz.toml", &text) {
        Ok(config) => {
            for endpoint in config.router.endpoints() {
                assert!(
                    config.views.contains_key(&endpoint.view),
                    "an accepted config routes to an undefined view: {endpoint:?}"
                );
            }
            for (i, mw) in config.middleware.iter().enumerate() {
                assert!(
                    !config.middleware[..i].iter().any(|m| m.name == mw.name),
                    "an accepted config has two middleware named {:?}",
                    mw.name
                );
            }
            let _ = shallot::router::show_urls(&config.router);
            let _ = shallot::EngineOptions::for_config(&config);
        }
        Err(err) => {
            let message = err.to_string();
            let detail = message
                .strip_prefix("fuzz.toml:")
                .unwrap_or_else(|| panic!("a config error must start with the file: {message:?}"));
            assert!(
                !detail.trim().is_empty(),
                "a config error must say what is wrong: {message:?}"
            );
            if let ConfigError::Invalid { line, column, .. } = &err {
                let lines = text.split('\n').count();
                assert!(
                    (1..=lines).contains(line) && *column >= 1,
                    "{message:?}: line {line} column {column} is outside the text ({lines} lines)"
                );
            }
        }
    }
}

/// Builds a route table from the input and resolves paths against it.
///
/// The input is read as lossy UTF-8, one item per line. Leading spaces give
/// the nesting depth: a line belongs to the nearest include above it with a
/// smaller depth. The first character after them says what the line is:
/// - `p PATTERN` / `r REGEX`: an endpoint (`path=` / `regex=`) for view
///   `vN`; a tab and text after the pattern name it;
/// - `P PATTERN` / `R REGEX`: an include; a tab and text set its namespace;
/// - `>PATH`: a raw request path to resolve (`>/items/42/`);
/// - anything else is ignored.
///
/// Without `>` lines, `/` and `/` + each pattern are resolved. Besides not
/// panicking: an error names the route's position and says what is wrong,
/// a match names a defined view, resolving is deterministic, and a literal
/// top-level `path()` endpoint resolves (to it or to an earlier route).
pub fn routes(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut items = Vec::new();
    let mut paths = Vec::new();
    for line in text.split('\n') {
        let body = line.trim_start_matches(' ');
        let depth = line.len() - body.len();
        let mut chars = body.chars();
        let kind = chars.next();
        let rest = chars.as_str();
        if kind == Some('>') {
            paths.push(rest.to_owned());
            continue;
        }
        let Some(kind @ ('p' | 'r' | 'P' | 'R')) = kind else {
            continue;
        };
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        let (pattern, name) = match rest.split_once('\t') {
            Some((pattern, name)) => (pattern, Some(name.to_owned())),
            None => (rest, None),
        };
        items.push(RouteItem {
            depth,
            kind,
            pattern: pattern.to_owned(),
            name,
        });
    }
    let mut views = 0;
    let defs = route_tree(&items, &mut 0, 0, &mut views);
    let router = match Router::new(defs) {
        Ok(router) => router,
        Err(err) => {
            let message = err.to_string();
            assert!(
                err.at().starts_with("routes[") && message.starts_with(err.at()),
                "a route error must name the route: {message:?}"
            );
            assert!(
                !err.detail().is_empty(),
                "a route error must say what is wrong"
            );
            return;
        }
    };
    let endpoints = router.endpoints();
    assert_eq!(endpoints.len(), views, "every endpoint is listed once");
    let _ = shallot::router::show_urls(&router);

    if paths.is_empty() {
        paths.push("/".to_owned());
        paths.extend(items.iter().map(|item| format!("/{}", item.pattern)));
    }
    for path in &paths {
        let decoded = shallot::router::decode_path(path);
        assert!(
            decoded.starts_with('/'),
            "request.path always starts with '/': {path:?} gave {decoded:?}"
        );
        let found = router.resolve(path);
        if let Some(m) = &found {
            assert!(
                endpoints.iter().any(|e| e.view == m.view),
                "{path:?} resolved to an unknown view: {m:?}"
            );
        }
        assert_eq!(found, router.resolve(path), "resolving {path:?} twice");
    }
    for item in items
        .iter()
        .filter(|item| item.depth == 0 && item.kind == 'p')
    {
        if item.pattern.contains(['<', '>', '%']) {
            continue;
        }
        let path = format!("/{}", item.pattern);
        assert!(
            router.resolve(&path).is_some(),
            "the literal route {:?} does not resolve {path:?}",
            item.pattern
        );
    }
}

struct RouteItem {
    depth: usize,
    kind: char,
    pattern: String,
    name: Option<String>,
}

/// The routes at `depth` from `items[*pos]` on, with their includes.
fn route_tree(
    items: &[RouteItem],
    pos: &mut usize,
    depth: usize,
    views: &mut usize,
) -> Vec<RouteDef> {
    let mut out = Vec::new();
    while let Some(item) = items.get(*pos) {
        if item.depth < depth {
            break;
        }
        *pos += 1;
        let pattern = match item.kind {
            'p' | 'P' => Pattern::Path(item.pattern.clone()),
            _ => Pattern::Regex(item.pattern.clone()),
        };
        let (target, name) = if item.kind.is_lowercase() {
            *views += 1;
            (Target::View(format!("v{views}")), item.name.clone())
        } else {
            let routes = route_tree(items, pos, depth + 1, views);
            let namespace = item.name.clone();
            (Target::Include { namespace, routes }, None)
        };
        out.push(RouteDef {
            pattern,
            name,
            target,
        });
    }
    out
}

/// A pipeline and the runtime its requests run on, built once per process.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    pipeline: Pipeline,
}

impl Fixture {
    fn new(path: &str, toml: &str) -> Fixture {
        let config = Config::parse(path, toml)
            .unwrap_or_else(|e| panic!("the fuzz pipeline's config is invalid: {e}"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let pipeline = runtime
            .block_on(Pipeline::load_with(crate::runtime(), &config))
            .unwrap_or_else(|e| panic!("the fuzz pipeline does not load: {e}"));
        Fixture { runtime, pipeline }
    }

    /// Runs one request and checks what holds for every response.
    fn handle(&self, req: http::Request<Bytes>) -> http::Response<Bytes> {
        let resp = self.runtime.block_on(self.pipeline.handle(req));
        let status = resp.status().as_u16();
        assert!(
            (200..=599).contains(&status),
            "status {status} is not a final response"
        );
        for framing in ["content-length", "transfer-encoding", "connection"] {
            assert!(
                !resp.headers().contains_key(framing),
                "a response carries the framing header {framing}"
            );
        }
        resp
    }
}

/// Routes added to the quickstart for [`handle`]: every converter, regex
/// groups named and not, an include with a namespace, all to the probe view.
const HANDLE_ROUTES: &str = r#"
[views.probe]
component = "{probe-view}"

[[routes]]
path = "s/<slug:slug>/<str:name>"
view = "probe"
name = "slug"

[[routes]]
regex = '^api/(?P<version>v[0-9]+)/'
namespace = "api"
include = [
    { path = "things/<uuid:id>/", view = "probe", name = "thing" },
    { path = "files/<path:rest>", view = "probe", name = "file" },
    { regex = '^(\d+)/(\w+)?$', view = "probe" },
    { path = "n/<int:n>", view = "probe", name = "n" },
]
"#;

/// A raw HTTP/1.1 request (request line, headers, blank line, body; `\n`
/// line ends accepted) through the quickstart's six middleware and views
/// plus [`HANDLE_ROUTES`]. An input that is not a well-formed request
/// (method, target, header names and values as `http` accepts them) is
/// skipped, header by header for headers. Every request gets a final status,
/// without framing headers, and passes the outermost middleware
/// (`request-id`), whose `process_response` runs on every response and
/// echoes a request's one non-empty UTF-8 `X-Request-Id` unchanged.
pub fn handle(data: &[u8]) {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    let fixture = FIXTURE.get_or_init(|| {
        let (path, text) = crate::example_config("quickstart");
        Fixture::new(&path, &(text + &crate::with_guests(HANDLE_ROUTES)))
    });
    let Some(req) = parse_request(data) else {
        return;
    };
    let given: Vec<_> = req
        .headers()
        .get_all("x-request-id")
        .iter()
        .cloned()
        .collect();
    let resp = fixture.handle(req);
    let echoed = resp.headers().get("x-request-id");
    assert!(
        echoed.is_some(),
        "a response skipped the outermost middleware: {resp:?}"
    );
    if let [id] = given.as_slice()
        && !id.is_empty()
        && std::str::from_utf8(id.as_bytes()).is_ok()
    {
        assert_eq!(echoed, Some(id), "X-Request-Id is echoed as it came");
    }
}

/// The lenient parse [`handle`] does; `None` when the request line is unusable.
fn parse_request(data: &[u8]) -> Option<http::Request<Bytes>> {
    let (head, body) = match find(data, b"\r\n\r\n") {
        Some(i) => (&data[..i], &data[i + 4..]),
        None => match find(data, b"\n\n") {
            Some(i) => (&data[..i], &data[i + 2..]),
            None => (data, &[][..]),
        },
    };
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let mut request_line = lines.next()?.split(|&b| b == b' ');
    let method = http::Method::from_bytes(request_line.next()?).ok()?;
    let uri = http::Uri::try_from(request_line.next()?).ok()?;
    let mut req = http::Request::builder().method(method).uri(uri);
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = http::HeaderName::from_bytes(&line[..colon]);
        let value = http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (name, value) {
            req = req.header(name, value);
        }
    }
    req.body(Bytes::copy_from_slice(body)).ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The `fuzz-host` view's config: its grants, some config values, a CPU
/// budget that key-value writes fit in, behind `request-id`.
const HOST_CALLS_CONFIG: &str = r#"
[key_value]
path = "KV_PATH"

[[middleware]]
name = "request-id"
component = "{request-id}"

[views.fuzz]
component = "{fuzz-host}"
key_value_stores = ["fuzz", ""]
allowed_outbound_hosts = ["http://127.0.0.1:1"]
config = { greeting = "hello", number = 42, flag = true, empty = "" }
limits = { cpu_ms = 2000 }

[[routes]]
path = "fuzz"
view = "fuzz"
"#;

/// The config [`host_calls`] runs: `fuzz-host` at `/fuzz` behind
/// `request-id`, with a key-value database of its own.
pub fn host_calls_config() -> String {
    let kv = crate::fresh_kv_path();
    crate::with_guests(&HOST_CALLS_CONFIG.replace("KV_PATH", &kv.display().to_string()))
}

/// The request [`host_calls`] sends: `body` posted to `/fuzz`, with a query
/// string, a repeated header and a header value that is not UTF-8.
pub fn host_calls_request(body: &[u8]) -> http::Request<Bytes> {
    http::Request::post("/fuzz?q=1&q=2")
        .header("content-type", "application/octet-stream")
        .header("x-multi", "a")
        .header("x-multi", "b")
        .header(
            "x-latin1",
            http::HeaderValue::from_bytes(b"caf\xe9").expect("obs-text is a valid value"),
        )
        .body(Bytes::copy_from_slice(body))
        .expect("a valid request")
}

/// Posts the input to the `fuzz-host` view, which runs it as a script of
/// host calls (its encoding is in `guests/fuzz-host/src/lib.rs`). Whatever
/// the guest asks of the host, the response has a final status (a trap,
/// such as an invalid status for `Response::new`, is a 500 like any other),
/// and every call kept the contract `wit/` states: the view checks each
/// result and reports a broken one in `x-fuzz-violation`.
pub fn host_calls(data: &[u8]) {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    let fixture = FIXTURE.get_or_init(|| Fixture::new("fuzz.toml", &host_calls_config()));
    let resp = fixture.handle(host_calls_request(data));
    if let Some(what) = resp.headers().get("x-fuzz-violation") {
        panic!(
            "a host call broke its contract: {}\ntranscript:\n{}",
            String::from_utf8_lossy(what.as_bytes()),
            String::from_utf8_lossy(resp.body())
        );
    }
}
