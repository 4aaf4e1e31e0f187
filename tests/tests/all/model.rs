//! Model-based property test of the request/response cycle.
//!
//! A small model of Django's handler (`django/core/handlers/base.py` with
//! `MiddlewareMixin` and `convert_exception_to_response`, `DEBUG = False`)
//! over probe middleware and a probe view. Proptest makes random chains of
//! 1 to 6 probes, each hook passing, answering, raising or trapping, a view
//! that answers, raises or traps, and a few requests that resolve or not;
//! each chain is loaded as a real pipeline and every request must give
//! exactly what the model predicts: the hook calls in order, the error each
//! `process-exception` receives, the status, content type and body, and the
//! `X-Seen` and `X-Instance-Calls` marks the probes' `process-response`
//! hooks leave (which layers passed the response on, and on which instance).
//!
//! The model is written the way Django nests its layers, not the way
//! `host/src/cycle.rs` loops over them, so the two are independent accounts
//! of the rules in README's "Django's semantics, exactly".
//!
//! A run is [`CASES`] chains (`PROPTEST_CASES` overrides it), 1 to 3
//! requests each; a failure shrinks to a minimal chain and request list.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{TestRunner, contextualize_config};
use shallot_tests::{get, pipeline, run};

/// Chains per run, 1 to 3 requests each. Loading the pipeline dominates:
/// 5 to 8 ms a chain in a debug build on a shared two-core machine, so a
/// run takes 15 to 25 s there.
const CASES: u32 = 3000;

/// Middleware names, in configured order (M1..M6).
const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

// ===== what the probes are told to do =====

/// Error kinds: the five a probe raises, and `trap`, which the host makes
/// of a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    NotFound,
    PermissionDenied,
    BadRequest,
    SuspiciousOperation,
    Internal,
    Trap,
}

impl Kind {
    const RAISABLE: [Kind; 5] = [
        Kind::NotFound,
        Kind::PermissionDenied,
        Kind::BadRequest,
        Kind::SuspiciousOperation,
        Kind::Internal,
    ];

    /// The WIT name, as the probes' `fail:KIND` takes it.
    fn wit(self) -> &'static str {
        match self {
            Kind::NotFound => "not-found",
            Kind::PermissionDenied => "permission-denied",
            Kind::BadRequest => "bad-request",
            Kind::SuspiciousOperation => "suspicious-operation",
            Kind::Internal => "internal",
            Kind::Trap => "trap",
        }
    }

    /// `response_for_exception` with `DEBUG = False`: status and page title.
    fn page(self) -> (u16, &'static str) {
        match self {
            Kind::NotFound => (404, "Not Found"),
            Kind::PermissionDenied => (403, "403 Forbidden"),
            Kind::BadRequest | Kind::SuspiciousOperation => (400, "Bad Request (400)"),
            Kind::Internal | Kind::Trap => (500, "Server Error (500)"),
        }
    }
}

/// What one hook of a probe does (for the view, `Pass` means it answers).
#[derive(Debug, Clone)]
enum Act {
    Pass,
    /// `respond:NNN`; a status outside 200..=599 is refused by the host,
    /// which traps the guest that asked for it.
    Respond(u16),
    /// `fail:KIND` or `fail:KIND:MESSAGE`.
    Fail(Kind, Option<String>),
    Trap,
}

impl Act {
    /// The probe config value; `pass` for the view is its default `ok`.
    fn spec(&self, pass: &str) -> String {
        match self {
            Act::Pass => pass.to_owned(),
            Act::Respond(status) => format!("respond:{status}"),
            Act::Fail(kind, None) => format!("fail:{}", kind.wit()),
            Act::Fail(kind, Some(message)) => format!("fail:{}:{message}", kind.wit()),
            Act::Trap => "trap".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
struct Probe {
    request: Act,
    view: Act,
    exception: Act,
    response: Act,
}

/// A request path, and what the route table makes of it.
#[derive(Debug, Clone)]
enum Path {
    /// `ok/`, no name, no arguments.
    Ok,
    /// `items/<int:id>/`, named `item`.
    Item(u32),
    /// `/ok`: no route without the slash (and no `APPEND_SLASH` here).
    NoSlash,
    /// `/items/WORD/`: not an int.
    NotAnInt(String),
    /// `/nowhere/WORD/`.
    Elsewhere(String),
}

impl Path {
    fn uri(&self) -> String {
        match self {
            Path::Ok => "/ok/".to_owned(),
            Path::Item(id) => format!("/items/{id}/"),
            Path::NoSlash => "/ok".to_owned(),
            Path::NotAnInt(word) => format!("/items/{word}/"),
            Path::Elsewhere(word) => format!("/nowhere/{word}/"),
        }
    }

    /// The probe view's answer for a match (route name and kwargs), or
    /// `None` when nothing matches.
    fn view_body(&self) -> Option<String> {
        let (route, kwargs) = match self {
            Path::Ok => ("-".to_owned(), String::new()),
            Path::Item(id) => ("item".to_owned(), format!("id={id}")),
            Path::NoSlash | Path::NotAnInt(_) | Path::Elsewhere(_) => return None,
        };
        Some(format!(
            "view=v route={route} args= kwargs={kwargs} path={} query= attrs=",
            self.uri()
        ))
    }
}

/// One generated test case: a pipeline and the requests sent through it.
#[derive(Debug, Clone)]
struct Case {
    chain: Vec<Probe>,
    view: Act,
    requests: Vec<Path>,
}

impl Case {
    fn toml(&self) -> String {
        let mut toml = String::new();
        for (probe, name) in self.chain.iter().zip(NAMES) {
            let _ = writeln!(
                toml,
                "[[middleware]]\nname = \"{name}\"\ncomponent = \"{{probe}}\"\n\
                 [middleware.config]\nname = \"{name}\"\n\
                 process_request = \"{}\"\nprocess_view = \"{}\"\n\
                 process_exception = \"{}\"\nprocess_response = \"{}\"\n",
                probe.request.spec("pass"),
                probe.view.spec("pass"),
                probe.exception.spec("pass"),
                probe.response.spec("pass"),
            );
        }
        let _ = write!(
            toml,
            "[views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"{}\" }}\n\n\
             [[routes]]\npath = \"ok/\"\nview = \"v\"\n\n\
             [[routes]]\npath = \"items/<int:id>/\"\nview = \"v\"\nname = \"item\"\n",
            self.view.spec("ok")
        );
        toml
    }
}

// ===== the model =====

/// What a client and the log see of one request; the model predicts it
/// and the real pipeline's outcome is read into it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    /// `name.hook`, in call order.
    calls: Vec<String>,
    /// `name: ErrorKind::KIND: MESSAGE` for each `process-exception` call; a
    /// trap's message is cut after `trapped in handle`, the host's wording
    /// of the reason being no part of the model.
    exceptions: Vec<String>,
    status: u16,
    content_type: Option<String>,
    body: String,
    x_seen: Option<String>,
    x_instance_calls: Option<String>,
}

/// A response as the model carries it up the layers.
#[derive(Debug, Clone)]
struct Resp {
    status: u16,
    content_type: &'static str,
    body: String,
    /// Marks of the `process-response` hooks that passed it on.
    seen: Vec<String>,
    instance_calls: Vec<String>,
}

impl Resp {
    fn text(status: u16, body: String) -> Resp {
        Resp {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
            seen: Vec::new(),
            instance_calls: Vec::new(),
        }
    }

    /// `django.views.defaults.ERROR_PAGE_TEMPLATE` for the kind's status.
    fn error(kind: Kind) -> Resp {
        let (status, title) = kind.page();
        let details = match status {
            404 => "The requested resource was not found on this server.",
            _ => "",
        };
        Resp {
            status,
            content_type: "text/html; charset=utf-8",
            body: format!(
                "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>{title}</title>\n</head>\n\
                 <body>\n  <h1>{title}</h1><p>{details}</p>\n</body>\n</html>\n"
            ),
            seen: Vec::new(),
            instance_calls: Vec::new(),
        }
    }
}

/// An exception on its way out of a layer.
#[derive(Debug, Clone)]
struct Raised {
    kind: Kind,
    message: String,
}

/// One request through the model.
struct Model<'c> {
    case: &'c Case,
    path: &'c Path,
    calls: Vec<String>,
    exceptions: Vec<String>,
    /// Hooks run by each middleware's current instance, as the probe counts
    /// them; a trap loses the instance, so the next hook starts a new one.
    instance: Vec<u32>,
}

impl<'c> Model<'c> {
    fn predict(case: &'c Case, path: &'c Path) -> Seen {
        let mut model = Model {
            case,
            path,
            calls: Vec::new(),
            exceptions: Vec::new(),
            instance: vec![0; case.chain.len()],
        };
        let resp = model.layer(0);
        let join = |marks: &[String]| (!marks.is_empty()).then(|| marks.join(", "));
        Seen {
            calls: model.calls,
            exceptions: model.exceptions,
            status: resp.status,
            content_type: Some(resp.content_type.to_owned()),
            body: resp.body,
            x_seen: join(&resp.seen),
            x_instance_calls: join(&resp.instance_calls),
        }
    }

    /// Layer `k` as `BaseHandler.load_middleware` builds it: middleware
    /// `k` wrapped in `convert_exception_to_response`, and below the last
    /// one `_get_response`, wrapped the same way. An exception never
    /// leaves a layer; it becomes the response for its kind right there.
    fn layer(&mut self, k: usize) -> Resp {
        let result = if k == self.case.chain.len() {
            self.get_response()
        } else {
            self.middleware(k)
        };
        result.unwrap_or_else(|raised| Resp::error(raised.kind))
    }

    /// `MiddlewareMixin.__call__`: `process_request`, else the layers
    /// inside; then `process_response`. An exception from either hook
    /// leaves this layer, so a failing `process_request` skips this
    /// middleware's own `process_response`.
    fn middleware(&mut self, k: usize) -> Result<Resp, Raised> {
        let probe = &self.case.chain[k];
        let resp = match self.hook(k, "process-request", &probe.request)? {
            Some(resp) => resp,
            None => self.layer(k + 1),
        };
        Ok(match self.hook(k, "process-response", &probe.response)? {
            Some(new) => new,
            None => {
                // The probe's pass: mark the response and hand it on.
                let mut resp = resp;
                resp.seen.push(NAMES[k].to_owned());
                resp.instance_calls
                    .push(format!("{}={}", NAMES[k], self.instance[k]));
                resp
            }
        })
    }

    /// `BaseHandler._get_response`: resolve (`Resolver404` raises out of
    /// here, before any view middleware), `process_view` top to bottom,
    /// the view, and on its exception `process_exception` bottom to top
    /// until one answers, else the exception goes on. An exception from a
    /// view or exception hook goes straight out too.
    fn get_response(&mut self) -> Result<Resp, Raised> {
        let Some(answer) = self.path.view_body() else {
            return Err(Raised {
                kind: Kind::NotFound,
                message: String::new(),
            });
        };
        let chain = &self.case.chain;
        for (k, probe) in chain.iter().enumerate() {
            if let Some(resp) = self.hook(k, "process-view", &probe.view)? {
                return Ok(resp);
            }
        }
        let raised = match self.view(answer) {
            Ok(resp) => return Ok(resp),
            Err(raised) => raised,
        };
        for (k, probe) in chain.iter().enumerate().rev() {
            self.exceptions.push(format!(
                "{}: ErrorKind::{:?}: {}",
                NAMES[k], raised.kind, raised.message
            ));
            if let Some(resp) = self.hook(k, "process-exception", &probe.exception)? {
                return Ok(resp);
            }
        }
        Err(raised)
    }

    /// A call of middleware `k`'s `hook`, as the probe logs and counts it:
    /// nothing, a response, or an exception.
    fn hook(&mut self, k: usize, hook: &str, act: &Act) -> Result<Option<Resp>, Raised> {
        let name = NAMES[k];
        self.calls.push(format!("{name}.{hook}"));
        self.instance[k] += 1;
        match act {
            Act::Pass => Ok(None),
            Act::Respond(status) if (200..=599).contains(status) => {
                Ok(Some(Resp::text(*status, format!("{hook} of {name}"))))
            }
            Act::Fail(kind, message) => Err(Raised {
                kind: *kind,
                message: message.clone().unwrap_or_default(),
            }),
            Act::Respond(_) | Act::Trap => {
                self.instance[k] = 0;
                Err(Raised {
                    kind: Kind::Trap,
                    message: format!("middleware `{name}` trapped in {hook}"),
                })
            }
        }
    }

    fn view(&mut self, answer: String) -> Result<Resp, Raised> {
        self.calls.push("v.handle".to_owned());
        match &self.case.view {
            Act::Pass => Ok(Resp::text(200, answer)),
            Act::Respond(status) if (200..=599).contains(status) => {
                Ok(Resp::text(*status, "view responded".to_owned()))
            }
            Act::Fail(kind, message) => Err(Raised {
                kind: *kind,
                message: message.clone().unwrap_or_default(),
            }),
            Act::Respond(_) | Act::Trap => Err(Raised {
                kind: Kind::Trap,
                message: "view `v` trapped in handle".to_owned(),
            }),
        }
    }
}

// ===== the real pipeline =====

async fn observe(pipeline: &shallot::Pipeline, path: &Path) -> Seen {
    let out = run(pipeline, get(&path.uri())).await;
    let exceptions = out
        .log
        .iter()
        .filter_map(|line| {
            let (who, message) = line.split_once(": ")?;
            let error = message.strip_prefix("exception ")?;
            let name = who.split('`').nth(1)?;
            let error = match error.find("trapped in handle") {
                Some(at) if error.starts_with("ErrorKind::Trap: ") => {
                    &error[..at + "trapped in handle".len()]
                }
                _ => error,
            };
            Some(format!("{name}: {error}"))
        })
        .collect();
    Seen {
        exceptions,
        status: out.response.status().as_u16(),
        content_type: out.header("content-type"),
        body: out.body().to_owned(),
        x_seen: out.header("x-seen"),
        x_instance_calls: out.header("x-instance-calls"),
        calls: out.calls,
    }
}

// ===== generators =====

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        9 => 200u16..=599,
        1 => prop_oneof![0u16..200, 600u16..=999],
    ]
}

fn fail() -> impl Strategy<Value = Act> {
    (
        prop::sample::select(&Kind::RAISABLE[..]),
        // Colons and spaces reach `process-exception` as written.
        prop::option::of("[a-z :]{0,8}"),
    )
        .prop_map(|(kind, message)| Act::Fail(kind, message))
}

/// Mostly `pass`, so that long chains still reach the view often.
fn hook() -> impl Strategy<Value = Act> {
    prop_oneof![
        20 => Just(Act::Pass),
        1 => Just(Act::Trap),
        1 => fail(),
        1 => status().prop_map(Act::Respond),
    ]
}

fn view() -> impl Strategy<Value = Act> {
    prop_oneof![
        2 => Just(Act::Pass),
        1 => Just(Act::Trap),
        2 => fail(),
        1 => status().prop_map(Act::Respond),
    ]
}

fn path() -> impl Strategy<Value = Path> {
    prop_oneof![
        4 => Just(Path::Ok),
        2 => (0u32..100_000).prop_map(Path::Item),
        1 => Just(Path::NoSlash),
        1 => "[a-z]{1,4}".prop_map(Path::NotAnInt),
        1 => "[a-z]{1,6}".prop_map(Path::Elsewhere),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let probe =
        (hook(), hook(), hook(), hook()).prop_map(|(request, view, exception, response)| Probe {
            request,
            view,
            exception,
            response,
        });
    (
        prop::collection::vec(probe, 1..=NAMES.len()),
        view(),
        prop::collection::vec(path(), 1..=3),
    )
        .prop_map(|(chain, view, requests)| Case {
            chain,
            view,
            requests,
        })
}

// ===== the property =====

/// How far requests got, to show that the generator reaches every stage.
#[derive(Debug, Default)]
struct Reach {
    chains: u32,
    requests: u32,
    views: u32,
    exceptions: u32,
    server_errors: u32,
}

#[test]
fn the_cycle_does_what_the_model_of_djangos_handler_predicts() {
    let config = contextualize_config(ProptestConfig {
        cases: CASES,
        // The shrunk case is in the failure message; a regressions file
        // beside the sources is not wanted.
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let cases = config.cases;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reach = RefCell::new(Reach::default());
    let started = Instant::now();
    let result = TestRunner::new(config).run(&case(), |case| {
        let toml = case.toml();
        let seen = tokio.block_on(async {
            let pipeline = pipeline(&toml).await;
            let mut seen = Vec::new();
            for path in &case.requests {
                seen.push(observe(&pipeline, path).await);
            }
            seen
        });
        let mut reach = reach.borrow_mut();
        reach.chains += 1;
        for (path, seen) in case.requests.iter().zip(seen) {
            let predicted = Model::predict(&case, path);
            reach.requests += 1;
            reach.views += u32::from(predicted.calls.iter().any(|c| c == "v.handle"));
            reach.exceptions += u32::from(!predicted.exceptions.is_empty());
            reach.server_errors += u32::from(predicted.status == 500);
            prop_assert_eq!(seen, predicted, "GET {} through\n{}", path.uri(), toml);
        }
        Ok(())
    });
    let elapsed = started.elapsed();
    let reach = reach.into_inner();
    match result {
        Ok(()) => eprintln!(
            "model: {cases} cases passed in {elapsed:.1?}: {} requests, {} reached the view, \
             {} ran process-exception, {} ended in a 500",
            reach.requests, reach.views, reach.exceptions, reach.server_errors,
        ),
        Err(e) => panic!("{e}\n({} chains run, shrinking included)", reach.chains),
    }
}
