//! The cost of one request through the in-process cycle (no socket, no
//! HTTP): by number of middleware layers, with fresh instances per request
//! and with reused ones, and for the quickstart's reference stack.
//!
//! Each layer is the `cors` middleware (a `process_request` that reads the
//! method and a header, a `process_response` that sets two headers) in
//! front of the `hello` view; 0 layers is the view alone.
//!
//! `language` puts one `request-id` middleware (process-request and
//! process-response) written in Rust, Python or JavaScript in front of the
//! Rust `hello` view: per-request minus reuse is what a fresh instance of
//! that language costs, reuse minus the view alone is two warm calls.
//!
//! Run with: cargo bench -p shallot-tests --bench cycle

use std::sync::OnceLock;

use bytes::Bytes;
use shallot::{EngineOptions, Pipeline, Runtime};
use shallot_tests::{get, guests, request};

/// The allocator `shallot serve` runs with.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

/// One engine as `shallot serve` builds it (pooling allocator, no fuel).
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new(EngineOptions::default()).expect("the engine starts"))
}

fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn policy_line(reuse: bool) -> &'static str {
    if reuse {
        "instance_policy = \"reuse\"\n"
    } else {
        ""
    }
}

fn layered(layers: usize, reuse: bool) -> String {
    stack(&vec![guests::CORS; layers], reuse)
}

fn stack(middleware: &[&str], reuse: bool) -> String {
    let policy = policy_line(reuse);
    let mut toml = String::new();
    for (i, component) in middleware.iter().enumerate() {
        toml.push_str(&format!(
            "[[middleware]]\nname = \"m{i}\"\ncomponent = \"{component}\"\n{policy}"
        ));
    }
    toml.push_str(&format!(
        "[views.hello]\ncomponent = \"{}\"\n{policy}[[routes]]\npath = \"hello\"\nview = \"hello\"\n",
        guests::HELLO
    ));
    toml
}

fn quickstart(reuse: bool) -> String {
    let (_, text) = shallot_tests::example_config("quickstart");
    if reuse {
        text.replace(".wasm\"\n", ".wasm\"\ninstance_policy = \"reuse\"\n")
    } else {
        text
    }
}

fn load(rt: &tokio::runtime::Runtime, toml: &str) -> Pipeline {
    let config = shallot::Config::parse("bench.toml", toml).unwrap();
    rt.block_on(Pipeline::load_with(runtime(), &config))
        .unwrap()
}

fn bench_requests(
    bencher: divan::Bencher,
    toml: &str,
    req: impl Fn() -> http::Request<Bytes> + Sync,
) {
    let rt = tokio();
    let pipeline = load(&rt, toml);
    // One request first: it must succeed, and it warms the reuse pools.
    let resp = rt.block_on(pipeline.handle(req()));
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    bencher.bench_local(|| rt.block_on(pipeline.handle(req())));
}

#[divan::bench(args = [0, 1, 6, 12])]
fn per_request(bencher: divan::Bencher, layers: usize) {
    bench_requests(bencher, &layered(layers, false), || get("/hello"));
}

#[divan::bench(args = [0, 1, 6, 12])]
fn reuse(bencher: divan::Bencher, layers: usize) {
    bench_requests(bencher, &layered(layers, true), || get("/hello"));
}

#[divan::bench(args = ["per-request", "reuse"])]
fn quickstart_hello(bencher: divan::Bencher, policy: &str) {
    bench_requests(bencher, &quickstart(policy == "reuse"), || get("/hello"));
}

#[divan::bench(args = ["per-request", "reuse"])]
fn quickstart_items(bencher: divan::Bencher, policy: &str) {
    bench_requests(bencher, &quickstart(policy == "reuse"), || {
        request(
            "GET",
            "/items/42/",
            &[("Authorization", "Bearer secret-token")],
        )
    });
}

fn request_id_in(lang: &str) -> &'static str {
    match lang {
        "rust" => guests::REQUEST_ID,
        "python" => guests::PY_REQUEST_ID,
        "js" => guests::JS_REQUEST_ID,
        other => panic!("no request-id in {other}"),
    }
}

#[divan::bench(args = ["rust", "python", "js"])]
fn language_per_request(bencher: divan::Bencher, lang: &str) {
    bench_requests(bencher, &stack(&[request_id_in(lang)], false), || {
        get("/hello")
    });
}

#[divan::bench(args = ["rust", "python", "js"])]
fn language_reuse(bencher: divan::Bencher, lang: &str) {
    bench_requests(bencher, &stack(&[request_id_in(lang)], true), || {
        get("/hello")
    });
}

/// C next to Rust on the same middleware (`security-headers`: one
/// process-response call per request).
fn security_headers_in(lang: &str) -> &'static str {
    match lang {
        "rust" => guests::SECURITY_HEADERS,
        "c" => guests::C_SECURITY_HEADERS,
        other => panic!("no security-headers in {other}"),
    }
}

#[divan::bench(args = ["rust", "c"])]
fn compiled_per_request(bencher: divan::Bencher, lang: &str) {
    bench_requests(bencher, &stack(&[security_headers_in(lang)], false), || {
        get("/hello")
    });
}

#[divan::bench(args = ["rust", "c"])]
fn compiled_reuse(bencher: divan::Bencher, lang: &str) {
    bench_requests(bencher, &stack(&[security_headers_in(lang)], true), || {
        get("/hello")
    });
}
