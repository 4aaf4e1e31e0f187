//! Test harness: guest components built from source, a shared runtime, and
//! a capture of what guests log so tests can assert the exact hook order.

use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use shallot::{Config, EngineOptions, Pipeline, Runtime};
use tracing::instrument::WithSubscriber;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

pub mod databases;
pub mod fuzz;
pub mod redis;

/// Paths of the guest components, one constant per crate in `guests/`.
pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

/// One engine for the whole test binary, so each component compiles once.
/// It counts fuel, so tests can set instruction budgets.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::new(EngineOptions {
            fuel: true,
            ..EngineOptions::default()
        })
        .expect("the engine starts")
    })
}

/// A key-value database path no other test uses, so tests never see each
/// other's data.
pub fn fresh_kv_path() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("shallot-test-kv-{}-{n}.redb", std::process::id()))
}

/// A config with the hostile guest at `/h` (granted what its imports
/// need, outbound HTTP to a closed port, its `config` table written as
/// `config`, more entry fields in `extra`), a well-behaved view at `/ok`,
/// and a fresh key-value database with `key_value` settings.
pub fn hostile_app(config: &str, extra: &str, key_value: &str) -> String {
    hostile_app_calling("http://127.0.0.1:1", config, extra, key_value)
}

/// [`hostile_app`] with its outbound HTTP granted to `outbound` instead.
pub fn hostile_app_calling(outbound: &str, config: &str, extra: &str, key_value: &str) -> String {
    let kv = fresh_kv_path();
    format!(
        r#"
[key_value]
path = "{kv}"
{key_value}

[views.h]
component = "{{hostile}}"
allowed_outbound_hosts = ["{outbound}"]
key_value_stores = ["granted"]
config = {{ {config} }}
{extra}

[views.ok]
component = "{{probe-view}}"

[[routes]]
path = "h"
view = "h"

[[routes]]
path = "ok"
view = "ok"
"#,
        kv = kv.display(),
    )
}

/// A fresh folder holding `files` as (relative path, text): templates for
/// a `[templates] dirs` entry. Its path has no characters TOML would need
/// escaped.
pub fn template_dir(files: &[(&str, &str)]) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("shallot-test-templates-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `examples/NAME/shallot.toml` (its path and text) with the component
/// paths pointed at this build's guests, which differ from the file's
/// `../../target/guests/...` only when CARGO_TARGET_DIR is set.
pub fn example_config(name: &str) -> (String, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let path = format!("{root}/examples/{name}/shallot.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    // guests::HELLO is <target>/guests/wasm32-wasip2/release/hello.wasm.
    let built = std::path::Path::new(guests::HELLO)
        .ancestors()
        .nth(3)
        .unwrap();
    let text = text.replace("../../target/guests", built.to_str().unwrap());
    (path, text)
}

/// Replaces `{guest-name}` with that guest's component path.
pub fn with_guests(toml: &str) -> String {
    let mut text = toml.to_owned();
    for (name, path) in guests::ALL {
        text = text.replace(&format!("{{{name}}}"), path);
    }
    text
}

/// Parses a config (guest placeholders filled in) as if it were `test.toml`.
pub fn config(toml: &str) -> Config {
    Config::parse("test.toml", &with_guests(toml))
        .unwrap_or_else(|e| panic!("test config is invalid: {e}"))
}

/// Loads a pipeline from config text.
pub async fn pipeline(toml: &str) -> Pipeline {
    Pipeline::load_with(runtime(), &config(toml))
        .await
        .unwrap_or_else(|e| panic!("test pipeline does not load: {e}"))
}

/// A `GET` of `uri` with an empty body.
pub fn get(uri: &str) -> http::Request<Bytes> {
    request("GET", uri, &[])
}

/// A request with headers and an empty body.
pub fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::Request<Bytes> {
    let mut req = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Bytes::new()).expect("valid test request")
}

/// What one request produced: the response and every log line, in order.
pub struct Outcome {
    /// The final response.
    pub response: http::Response<Bytes>,
    /// Guest calls as `name.hook` (`a.process-request`, `v.handle`), from the
    /// guests' own `call <hook>` log lines.
    pub calls: Vec<String>,
    /// Every event: `component: message` for guests, `host: message` else.
    pub log: Vec<String>,
}

impl Outcome {
    /// The body as UTF-8.
    pub fn body(&self) -> &str {
        std::str::from_utf8(self.response.body()).expect("utf-8 body")
    }

    /// One header's value (all values joined with ", ").
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .response
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}

/// Runs one request, recording what the guests log while it runs.
pub async fn run(
    pipeline: &Pipeline,
    req: http::Request<impl Into<shallot::RequestBody>>,
) -> Outcome {
    let (response, log) = logged(pipeline.handle(req)).await;
    let calls = log
        .iter()
        .filter_map(|line| {
            let (who, msg) = line.split_once(": ")?;
            let hook = msg.strip_prefix("call ")?;
            let name = who.split('`').nth(1)?;
            Some(format!("{name}.{hook}"))
        })
        .collect();
    Outcome {
        response,
        calls,
        log,
    }
}

/// Runs `work`, recording every event logged while it runs, as
/// `component: message` for guests and `host: message` for the host.
pub async fn logged<F: std::future::Future>(work: F) -> (F::Output, Vec<String>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    // Trace-level events (wasmtime-wasi logs every host call at that level)
    // are never built: recording them made guests that make thousands of
    // WASI calls slow enough to hit their CPU limit in debug builds.
    let capture = Capture(events.clone()).with_filter(LevelFilter::DEBUG);
    let subscriber = tracing_subscriber::registry().with(capture);
    let output = work.with_subscriber(subscriber).await;
    let log = events.lock().unwrap().clone();
    (output, log)
}

struct Capture(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut visitor = Fields::default();
        event.record(&mut visitor);
        let who = visitor.component.unwrap_or_else(|| "host".to_owned());
        let mut line = format!("{who}: {}", visitor.message);
        if !visitor.extra.is_empty() {
            line.push_str(&format!(" [{}]", visitor.extra.join(" ")));
        }
        self.0.lock().unwrap().push(line);
    }
}

#[derive(Default)]
struct Fields {
    component: Option<String>,
    message: String,
    extra: Vec<String>,
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "component" => self.component = Some(value.to_owned()),
            "message" => self.message = value.to_owned(),
            other => self.extra.push(format!("{other}={value}")),
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "component" => self.component = Some(format!("{value:?}")),
            other => self.extra.push(format!("{other}={value:?}")),
        }
    }
}
