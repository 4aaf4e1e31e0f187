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
//!
//! With `CYCLE_CASE=<group>/<arg>` (a name divan prints, such as
//! `reuse/12`) and `CYCLE_COUNT=<n>` set, the binary instead serves exactly
//! `n` requests of that case and exits, so that `bench/instructions.sh` can
//! count the instructions a request costs under callgrind: a figure that,
//! unlike time on a shared 2-core machine, does not move between runs.

use std::sync::OnceLock;

use bytes::Bytes;
use shallot::{EngineOptions, Pipeline, Runtime};
use shallot_tests::{get, guests, request};

/// The allocator `shallot serve` runs with.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    match (std::env::var("CYCLE_CASE"), std::env::var("CYCLE_COUNT")) {
        (Ok(name), Ok(count)) => {
            let count = count.parse().expect("CYCLE_COUNT is a number of requests");
            serve_counted(&name, count);
        }
        _ => divan::main(),
    }
}

/// One engine as `shallot serve` builds it (pooling allocator, no fuel).
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new(EngineOptions::default()).expect("the engine starts"))
}

/// Serves `count` requests of one case and exits (the counting mode).
///
/// The engine is the same but for a smaller pool: valgrind cannot map the
/// address space of the default one. Compiled components come from a disk
/// cache (the script fills it with a first run under valgrind), so a counted
/// run spends its time on requests rather than on compiling.
fn serve_counted(name: &str, count: usize) {
    let (toml, req) = case(name).unwrap_or_else(|| panic!("no case {name:?}"));
    let options = EngineOptions {
        concurrent_instances: std::env::var("CYCLE_POOL")
            .map_or(7, |n| n.parse().expect("CYCLE_POOL is a number")),
        ..EngineOptions::default()
    };
    let cache = std::env::var_os("CYCLE_CACHE").expect("CYCLE_CACHE names the compile cache");
    let runtime = Runtime::new(options)
        .expect("the engine starts")
        .with_disk_cache(std::path::Path::new(&cache));
    let rt = tokio();
    let config = shallot::Config::parse("bench.toml", &toml).unwrap();
    let pipeline = rt.block_on(Pipeline::load_with(&runtime, &config)).unwrap();
    for _ in 0..count {
        let resp = rt.block_on(pipeline.handle(req()));
        assert_eq!(resp.status(), 200, "{:?}", resp.body());
    }
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

type MakeRequest = Box<dyn Fn() -> http::Request<Bytes> + Sync>;

/// Every case by the name divan gives it (`group/arg`): its config and the
/// request it serves. The divan functions below and the counting mode both
/// take their cases from here.
fn case(name: &str) -> Option<(String, MakeRequest)> {
    let (group, arg) = name.split_once('/')?;
    let hello: MakeRequest = Box::new(|| get("/hello"));
    let reuse = group.ends_with("reuse") || arg == "reuse";
    let toml = match group {
        "per_request" | "reuse" => layered(arg.parse().ok()?, reuse),
        "quickstart_hello" => quickstart(reuse),
        "quickstart_items" => {
            let items: MakeRequest = Box::new(|| {
                request(
                    "GET",
                    "/items/42/",
                    &[("Authorization", "Bearer secret-token")],
                )
            });
            return Some((quickstart(reuse), items));
        }
        // The quickstart (reuse) sending its traces to a collector that is
        // not there (spans are made and dropped): `traced/1` keeps every
        // request, `traced/0` none. Counted only (not a divan bench).
        "traced" => quickstart(true).replacen(
            "[server]\n",
            &format!(
                "[server]\notlp_endpoint = \"http://127.0.0.1:9/v1/traces\"\notlp_sample_ratio = {arg}\n"
            ),
            1,
        ),
        "language_per_request" | "language_reuse" => stack(&[request_id_in(arg)?], reuse),
        "compiled_per_request" | "compiled_reuse" => stack(&[security_headers_in(arg)?], reuse),
        _ => return None,
    };
    Some((toml, hello))
}

fn bench_case(bencher: divan::Bencher, name: &str) {
    let (toml, req) = case(name).expect("every bench names a case");
    let rt = tokio();
    let pipeline = load(&rt, &toml);
    // One request first: it must succeed, and it warms the reuse pools.
    let resp = rt.block_on(pipeline.handle(req()));
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    bencher.bench_local(|| rt.block_on(pipeline.handle(req())));
}

#[divan::bench(args = [0, 1, 6, 12])]
fn per_request(bencher: divan::Bencher, layers: usize) {
    bench_case(bencher, &format!("per_request/{layers}"));
}

#[divan::bench(args = [0, 1, 6, 12])]
fn reuse(bencher: divan::Bencher, layers: usize) {
    bench_case(bencher, &format!("reuse/{layers}"));
}

#[divan::bench(args = ["per-request", "reuse"])]
fn quickstart_hello(bencher: divan::Bencher, policy: &str) {
    bench_case(bencher, &format!("quickstart_hello/{policy}"));
}

#[divan::bench(args = ["per-request", "reuse"])]
fn quickstart_items(bencher: divan::Bencher, policy: &str) {
    bench_case(bencher, &format!("quickstart_items/{policy}"));
}

fn request_id_in(lang: &str) -> Option<&'static str> {
    match lang {
        "rust" => Some(guests::REQUEST_ID),
        "python" => Some(guests::PY_REQUEST_ID),
        "js" => Some(guests::JS_REQUEST_ID),
        _ => None,
    }
}

#[divan::bench(args = ["rust", "python", "js"])]
fn language_per_request(bencher: divan::Bencher, lang: &str) {
    bench_case(bencher, &format!("language_per_request/{lang}"));
}

#[divan::bench(args = ["rust", "python", "js"])]
fn language_reuse(bencher: divan::Bencher, lang: &str) {
    bench_case(bencher, &format!("language_reuse/{lang}"));
}

/// C next to Rust on the same middleware (`security-headers`: one
/// process-response call per request).
fn security_headers_in(lang: &str) -> Option<&'static str> {
    match lang {
        "rust" => Some(guests::SECURITY_HEADERS),
        "c" => Some(guests::C_SECURITY_HEADERS),
        _ => None,
    }
}

#[divan::bench(args = ["rust", "c"])]
fn compiled_per_request(bencher: divan::Bencher, lang: &str) {
    bench_case(bencher, &format!("compiled_per_request/{lang}"));
}

#[divan::bench(args = ["rust", "c"])]
fn compiled_reuse(bencher: divan::Bencher, lang: &str) {
    bench_case(bencher, &format!("compiled_reuse/{lang}"));
}
