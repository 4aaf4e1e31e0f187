//! Hostile guests: each case asserts the exact client-visible outcome and
//! that the log names the cause; the ones that burn resources also show
//! that other requests are served meanwhile and that host memory stays
//! bounded.

use shallot_tests::{Outcome, get, hostile_app, pipeline, run};

/// The hostile view at `/h` doing `action` (unless `extra` sets its own
/// `config`), plus a well-behaved view at `/ok`.
fn app(action: &str, extra: &str) -> String {
    match extra.split_once("config = {") {
        // `config = { ... }` in `extra` replaces the default table.
        Some((before, rest)) => {
            let (table, after) = rest.split_once('}').expect("a one-line config table");
            hostile_app(table.trim(), &format!("{before}{after}"), "")
        }
        None => hostile_app(&format!("action = \"{action}\""), extra, ""),
    }
}

async fn hostile(action: &str, extra: &str) -> Outcome {
    run(&pipeline(&app(action, extra)).await, get("/h")).await
}

fn logged(out: &Outcome, text: &str) -> bool {
    out.log.iter().any(|l| l.contains(text))
}

#[track_caller]
fn assert_logged(out: &Outcome, text: &str) {
    assert!(logged(out, text), "log lacks {text:?}: {:#?}", out.log);
}

#[tokio::test(flavor = "current_thread")]
async fn an_infinite_loop_hits_its_cpu_limit_and_yields_to_other_requests_meanwhile() {
    let p = std::sync::Arc::new(pipeline(&app("loop", "limits = { cpu_ms = 300 }")).await);
    let spinning = tokio::spawn({
        let p = p.clone();
        async move { run(&p, get("/h")).await }
    });
    tokio::task::yield_now().await;
    // One thread runs everything here: these requests can only complete
    // while the loop is running if the loop yields at its epoch ticks.
    for _ in 0..5 {
        assert_eq!(run(&p, get("/ok")).await.response.status(), 200);
    }
    assert!(
        !spinning.is_finished(),
        "the spinning guest was still running while others were served"
    );
    let out = spinning.await.unwrap();
    assert_eq!(out.response.status(), 500);
    assert_logged(
        &out,
        "view `h`: hit its CPU time limit: wasm trap: interrupt",
    );
}

#[tokio::test]
async fn unbounded_allocation_hits_the_memory_limit() {
    let out = hostile("memory", "limits = { memory_mib = 16 }").await;
    assert_eq!(out.response.status(), 500);
    assert_logged(&out, "view `h`: hit its memory limit");
}

#[tokio::test]
async fn host_memory_stays_bounded_across_many_memory_hogs() {
    let p = pipeline(&app("memory", "")).await;
    let before = rss_mib();
    for _ in 0..20 {
        assert_eq!(run(&p, get("/h")).await.response.status(), 500);
    }
    let grown = rss_mib().saturating_sub(before);
    // 20 hogs x 64 MiB would be 1280 MiB if stores leaked their memory.
    assert!(grown < 400, "RSS grew by {grown} MiB over 20 memory hogs");
}

fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap();
    kib / 1024
}

#[tokio::test]
async fn deep_recursion_hits_the_stack_limit() {
    let out = hostile("recursion", "").await;
    assert_eq!(out.response.status(), 500);
    assert_logged(&out, "view `h`: hit its stack limit");
}

#[tokio::test]
async fn a_panic_is_a_500_and_its_message_reaches_the_log() {
    let out = hostile("panic", "").await;
    assert_eq!(out.response.status(), 500);
    assert_logged(
        &out,
        "view `h`: trapped: wasm trap: wasm `unreachable` instruction executed",
    );
    assert_logged(&out, "hostile view panics on purpose");
}

#[tokio::test]
async fn a_large_response_within_the_memory_limit_is_served() {
    let out = hostile(
        "huge-response",
        "config = { action = \"huge-response\", size_mib = \"24\" }",
    )
    .await;
    assert_eq!(out.response.status(), 200);
    assert_eq!(out.response.body().len(), 24 << 20);
}

#[tokio::test]
async fn a_gigantic_response_is_stopped_by_the_memory_limit() {
    let out = hostile(
        "huge-response",
        "config = { action = \"huge-response\", size_mib = \"100\" }",
    )
    .await;
    assert_eq!(out.response.status(), 500);
    assert_logged(&out, "view `h`: hit its memory limit");
}

#[tokio::test]
async fn building_responses_without_end_cannot_make_the_host_hold_more_than_the_limit() {
    let out = hostile("many-bodies", "").await;
    assert_eq!(out.response.status(), 500);
    assert_logged(
        &out,
        "memory limit of 64 MiB exceeded by bodies, headers and attributes handed to the host",
    );
}

#[tokio::test]
async fn header_injection_is_refused() {
    let out = hostile("header-injection", "").await;
    assert_eq!(out.response.status(), 500);
    assert!(out.response.headers().get("set-cookie").is_none());
    assert_logged(&out, "invalid value for header \"X-Evil\"");
}

#[tokio::test]
async fn garbage_statuses_trap_at_that_layer() {
    for status in ["1000", "0", "99"] {
        let extra = format!("config = {{ action = \"garbage-status\", status = \"{status}\" }}");
        let out = hostile("garbage-status", &extra).await;
        assert_eq!(out.response.status(), 500, "{status}");
        assert_logged(
            &out,
            &format!("invalid HTTP status {status}: a response status must be 200..=599"),
        );
    }
}

#[tokio::test]
async fn files_are_invisible_without_a_grant() {
    let out = hostile("read-file", "").await;
    assert_eq!(out.response.status(), 200);
    assert!(out.body().starts_with("denied: "), "{}", out.body());
}

#[tokio::test]
async fn a_granted_directory_is_readable_and_nothing_else_is() {
    let dir = std::env::temp_dir().join(format!("shallot-test-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello.txt"), "granted content").unwrap();
    let grant = format!("dirs = {{ \"/static\" = \"{}\" }}", dir.display());
    let read =
        |path: &str| format!("config = {{ action = \"read-file\", path = \"{path}\" }}\n{grant}");
    let out = hostile("read-file", &read("/static/hello.txt")).await;
    assert_eq!(out.body(), "ALLOWED: read: \"granted content\"");
    let out = hostile("read-file", &read("/static/../../etc/passwd")).await;
    assert!(out.body().starts_with("denied: "), "{}", out.body());
}

#[tokio::test]
async fn environment_variables_are_invisible_unless_named() {
    assert_eq!(hostile("list-env", "").await.body(), "env: []");
    let path = std::env::var("PATH").unwrap();
    let out = hostile("list-env", "env = [\"PATH\", \"SHALLOT_NOT_SET_ANYWHERE\"]").await;
    assert_eq!(out.body(), format!("env: [PATH={path}]"));
}

#[tokio::test]
async fn sockets_are_denied() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let out = hostile(
        "socket",
        &format!("config = {{ action = \"socket\", addr = \"{addr}\" }}"),
    )
    .await;
    assert_eq!(out.response.status(), 200);
    assert!(out.body().starts_with("denied: "), "{}", out.body());
    listener.set_nonblocking(true).unwrap();
    assert!(
        listener.accept().is_err(),
        "no connection reached the listener"
    );
}

#[tokio::test]
async fn a_host_not_on_the_list_is_a_permission_error() {
    let out = hostile(
        "outbound",
        "config = { action = \"outbound\", url = \"http://127.0.0.1:2/\" }",
    )
    .await;
    assert_eq!(out.response.status(), 403);
    assert_logged(
        &out,
        "outbound request to http://127.0.0.1:2 denied: it is not in allowed_outbound_hosts",
    );
}

#[tokio::test]
async fn an_ungranted_capability_import_is_refused_at_load() {
    let toml = "[views.h]\ncomponent = \"{hostile}\"\nkey_value_stores = [\"granted\"]\n";
    let config = shallot::Config::parse("test.toml", &shallot_tests::with_guests(toml)).unwrap();
    let err = shallot::Pipeline::load_with(shallot_tests::runtime(), &config)
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().ends_with(
            "imports `shallot:http/outbound-http@0.1.0`, but its config grants no allowed_outbound_hosts \
             (add `allowed_outbound_hosts = [...]` to grant it)"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn only_granted_key_value_stores_open() {
    let p = pipeline(&app(
        "kv",
        "config = { action = \"kv\", store = \"granted\" }",
    ))
    .await;
    assert_eq!(run(&p, get("/h")).await.body(), "hits=1");
    assert_eq!(run(&p, get("/h")).await.body(), "hits=2");
    let out = hostile("kv", "config = { action = \"kv\", store = \"other\" }").await;
    assert_eq!(out.response.status(), 403);
    assert_logged(
        &out,
        "may not open key-value store \"other\": not in its key_value_stores",
    );
}

#[tokio::test]
async fn output_floods_are_cut_at_the_budget() {
    let out = hostile(
        "log-flood",
        "config = { action = \"log-flood\", lines = \"5000\" }",
    )
    .await;
    assert_eq!(out.body(), "flooded");
    let lines = out.log.iter().filter(|l| l.contains("flood line")).count();
    // 32 KiB of stdout budget (half of 64 KiB) at ~16 bytes a line.
    assert!((1000..3000).contains(&lines), "{lines} lines logged");
    assert_logged(
        &out,
        "output over 32768 bytes in this request; the rest is dropped",
    );
}
