//! A middleware for the conformance tests. Each hook logs `call <hook>` and
//! then does what its config key says:
//!
//! - `pass` (default): no response from request/view/exception hooks; the
//!   response hook appends its `name` to `X-Seen` and returns the response;
//! - `respond:NNN`: a `text/plain` response with status NNN;
//! - `fail:KIND:MESSAGE`: returns an error (`KIND` as in WIT, e.g.
//!   `permission-denied`);
//! - `trap`: panics;
//! - `attribute:NAME=VALUE`: sets a request attribute and passes (e.g.
//!   `attribute:urlconf=tenant`, Django's `request.urlconf`);
//! - `template:A,B`: a template response for the candidates `A`, `B`
//!   with the context `{"who": "<hook> of NAME", "seen": []}`;
//! - response hook only: `header:NAME:VALUE` sets a header, `status:NNN`
//!   sets the status, `new:NNN` builds a new response with that status,
//!   `headers:N` adds N distinct headers (each passes on any error),
//!   `content` sets `X-Streaming` (`yes`/`no`) then reads the body into
//!   `X-Content-Length` (raising on a streaming response, as Django's
//!   `response.content` does), `stream` returns a new streaming response.
//!
//! Each passing response hook also appends `NAME=N` to `X-Instance-Calls`,
//! N being how many hooks this instance has run: proof that the hooks of
//! one request share an instance and that nothing carries over.
//!
//! The template hook passes by appending its `name` to the context's
//! `seen` list; it also takes `fail`, `trap`, `status:NNN`, `template:A,B`
//! (other candidates, same context) and `plain` (returns a plain response
//! instead of the template response).
//!
//! Keys: `process_request`, `process_view`, `process_exception`,
//! `process_template_response`, `process_response`, and `name`.

use shallot_guest::{
    Error, ErrorKind, Middleware, Request, Response, TemplateResponse, Value, ViewInfo, config,
    json, log, middleware,
};

#[derive(Default)]
struct Probe {
    calls: u32,
}

enum Action {
    Pass,
    Respond(u16),
    Fail(Error),
    Trap,
    Header(String, String),
    Status(u16),
    New(u16),
    Headers(u32),
    Content,
    Stream,
    Template(Vec<String>),
    Plain,
    Attribute(String, String),
}

fn action(hook: &str) -> Action {
    log::info(&format!("call {hook}"));
    let spec = config::get(&hook.replace('-', "_")).unwrap_or_else(|| "pass".to_owned());
    let mut parts = spec.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("respond"), Some(status), None) => {
            Action::Respond(status.parse().expect("respond:NNN"))
        }
        (Some("fail"), Some(kind), message) => {
            Action::Fail(Error::new(kind_of(kind), message.unwrap_or("")))
        }
        (Some("trap"), None, None) => Action::Trap,
        (Some("header"), Some(name), Some(value)) => {
            Action::Header(name.to_owned(), value.to_owned())
        }
        (Some("status"), Some(status), None) => Action::Status(status.parse().expect("status:NNN")),
        (Some("new"), Some(status), None) => Action::New(status.parse().expect("new:NNN")),
        (Some("headers"), Some(n), None) => Action::Headers(n.parse().expect("headers:N")),
        (Some("template"), Some(names), None) => {
            Action::Template(names.split(',').map(str::to_owned).collect())
        }
        (Some("plain"), None, None) => Action::Plain,
        (Some("content"), None, None) => Action::Content,
        (Some("stream"), None, None) => Action::Stream,
        (Some("attribute"), Some(pair), None) => {
            let (name, value) = pair.split_once('=').expect("attribute:NAME=VALUE");
            Action::Attribute(name.to_owned(), value.to_owned())
        }
        _ => Action::Pass,
    }
}

fn kind_of(kind: &str) -> ErrorKind {
    ErrorKind::from_name(kind).unwrap_or(ErrorKind::Internal)
}

fn name() -> String {
    config::get("name").unwrap_or_else(|| "probe".to_owned())
}

fn respond(status: u16, hook: &str) -> Response {
    Response::text(status, &format!("{hook} of {}", name()))
}

fn early(req: &Request, hook: &str) -> Result<Option<Response>, Error> {
    match action(hook) {
        Action::Attribute(name, value) => {
            req.set_attribute(&name, &value);
            Ok(None)
        }
        Action::Pass => Ok(None),
        Action::Respond(status) => Ok(Some(respond(status, hook))),
        Action::Fail(e) => Err(e),
        Action::Trap => panic!("probe {} told to trap in {hook}", name()),
        Action::Template(names) => {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let who = format!("{hook} of {}", name());
            TemplateResponse::select(&names, json!({"who": who, "seen": []})).map(Some)
        }
        _ => panic!(
            "probe {}: {hook} takes pass, respond, fail, trap or template",
            name()
        ),
    }
}

#[middleware]
impl Middleware for Probe {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        self.calls += 1;
        early(req, "process-request")
    }

    fn process_view(&mut self, req: &Request, _view: &ViewInfo) -> Result<Option<Response>, Error> {
        self.calls += 1;
        early(req, "process-view")
    }

    fn process_exception(&mut self, req: &Request, err: &Error) -> Result<Option<Response>, Error> {
        self.calls += 1;
        log::info(&format!("exception {:?}: {}", err.kind, err.message));
        early(req, "process-exception")
    }

    fn process_template_response(
        &mut self,
        _req: &Request,
        resp: Response,
    ) -> Result<Response, Error> {
        self.calls += 1;
        match action("process-template-response") {
            Action::Pass => {
                if let Some(mut context) = resp.context_data() {
                    if let Some(Value::Array(seen)) = context.get_mut("seen") {
                        seen.push(Value::from(name()));
                    }
                    resp.set_context_data(&context)?;
                }
                Ok(resp)
            }
            Action::Fail(e) => Err(e),
            Action::Trap => panic!("probe {} told to trap in process-template-response", name()),
            Action::Status(status) => {
                resp.set_status(status)?;
                Ok(resp)
            }
            Action::Template(names) => {
                let context = Value::Object(resp.context_data().unwrap_or_default());
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                resp.set_template_response(&names, &context)?;
                Ok(resp)
            }
            Action::Plain => Ok(respond(200, "process-template-response")),
            _ => panic!(
                "probe {}: process-template-response takes pass, fail, trap, status, template or plain",
                name()
            ),
        }
    }

    fn process_response(&mut self, _req: &Request, resp: Response) -> Result<Response, Error> {
        self.calls += 1;
        match action("process-response") {
            Action::Pass => {
                resp.append_header("X-Seen", &name())?;
                resp.append_header("X-Instance-Calls", &format!("{}={}", name(), self.calls))?;
                Ok(resp)
            }
            Action::Respond(status) => Ok(respond(status, "process-response")),
            Action::Fail(e) => Err(e),
            Action::Trap => panic!("probe {} told to trap in process-response", name()),
            Action::Header(header, value) => {
                resp.set_header(&header, &value)?;
                Ok(resp)
            }
            Action::Status(status) => {
                resp.set_status(status)?;
                Ok(resp)
            }
            Action::New(status) => Ok(Response::new(status)),
            Action::Headers(n) => {
                for i in 0..n {
                    resp.set_header(&format!("x-many-{i}"), "1")?;
                }
                Ok(resp)
            }
            Action::Content => {
                let streaming = if resp.is_streaming() { "yes" } else { "no" };
                resp.set_header("X-Streaming", streaming)?;
                let len = resp.body().len();
                resp.set_header("X-Content-Length", &len.to_string())?;
                Ok(resp)
            }
            Action::Stream => Ok(Response::streaming(
                200,
                "text/plain",
                vec![b"from a middleware".to_vec()],
            )),
            _ => panic!(
                "probe {}: process-response takes no template action",
                name()
            ),
        }
    }
}
