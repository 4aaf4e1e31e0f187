//! What a hostile guest or client could still do before the hardening
//! round, one test per finding: host work under the CPU limit, storage
//! caps, the log budget, forged log lines, a spoofed scheme, reloads of
//! configs with key-value stores, and a component's own concurrency cap.

use std::sync::Arc;

use shallot::LivePipeline;
use shallot_tests::{Outcome, get, hostile_app, pipeline, run};

async fn hostile(config: &str, extra: &str, key_value: &str) -> Outcome {
    run(
        &pipeline(&hostile_app(config, extra, key_value)).await,
        get("/h"),
    )
    .await
}

#[track_caller]
fn assert_logged(out: &Outcome, text: &str) {
    assert!(
        out.log.iter().any(|l| l.contains(text)),
        "log lacks {text:?}: {:#?}",
        out.log
    );
}

#[tokio::test]
async fn host_work_for_a_guest_counts_against_its_cpu_limit() {
    // 10 copies of a 24 MiB body: over 100 ms of the host's time,
    // but each copy cost the guest an epoch tick or two, and 20 ticks fit in
    // a 100 ms budget (50 ticks of 2 ms), so the loop used to run to its end.
    let out = hostile(
        r#"action = "host-loop", size_mib = "24", iterations = "10""#,
        "limits = { cpu_ms = 100 }",
        "",
    )
    .await;
    assert_eq!(out.response.status(), 500, "{}", out.body());
    assert_logged(&out, "view `h`: hit its CPU time limit");
}

#[tokio::test]
async fn a_value_over_the_cap_is_a_quota_error_and_nothing_is_stored() {
    let out = hostile(r#"action = "kv-big""#, "", "").await;
    assert_eq!(out.response.status(), 507);
    assert_logged(
        &out,
        "key-value: a value of 33554432 bytes is over the limit of 1048576 bytes per value",
    );
}

#[tokio::test]
async fn a_full_store_is_a_quota_error_and_other_requests_go_on() {
    let p = pipeline(&hostile_app(
        r#"action = "kv-big", count = "20", size_kib = "100""#,
        "",
        "store_quota_mib = 1",
    ))
    .await;
    let out = run(&p, get("/h")).await;
    assert_eq!(out.response.status(), 507);
    assert_logged(&out, "store \"granted\" is full");
    assert_eq!(run(&p, get("/ok")).await.response.status(), 200);
    // Overwriting the same keys with the same sizes still fits: a full
    // store refuses growth only.
    let again = run(&p, get("/h")).await;
    assert_eq!(
        again.response.status(),
        507,
        "the 11th value still does not fit"
    );
}

#[tokio::test]
async fn the_log_interface_has_a_budget_per_request() {
    let out = hostile(r#"action = "log-wit-flood", lines = "20000""#, "", "").await;
    assert_eq!(out.body(), "flooded");
    let lines = out.log.iter().filter(|l| l.contains("flood line")).count();
    // 64 KiB of log budget at 15-16 bytes a line.
    assert!((3000..5000).contains(&lines), "{lines} lines logged");
    assert_logged(
        &out,
        "log output over 65536 bytes in this request; the rest is dropped",
    );
}

#[tokio::test]
async fn guest_text_cannot_forge_log_lines() {
    let out = hostile(r#"action = "forge""#, "", "").await;
    assert_eq!(out.response.status(), 500);
    for line in &out.log {
        assert!(
            !line.contains(['\n', '\r', '\u{1b}']),
            "a raw control character reached the log: {line:?}"
        );
    }
    assert_logged(
        &out,
        r"ok\n2026-01-01T00:00:00Z ERROR shallot::cycle: forged by the log",
    );
    assert_logged(&out, r"out \u{1b}[2J\rforged by stdout");
    assert_logged(
        &out,
        r"raised: bad\n2026-01-01T00:00:00Z ERROR shallot::cycle: forged by an error",
    );
}

#[tokio::test]
async fn the_request_line_cannot_claim_https() {
    let p = pipeline(&hostile_app(r#"action = "whoami""#, "", "")).await;
    let spoofed = http::Request::get("https://evil.example/h")
        .header("host", "good.example")
        .body(bytes::Bytes::new())
        .unwrap();
    assert_eq!(
        run(&p, spoofed).await.body(),
        "scheme=http client=127.0.0.1 host=evil.example"
    );
    // What the server knows from the connection (TLS, a trusted proxy).
    let mut secure = get("/h");
    secure.extensions_mut().insert(shallot::Scheme::Https);
    assert!(run(&p, secure).await.body().starts_with("scheme=https "));
}

/// Writes `text` to `path` by renaming a temporary file over it.
fn replace(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

#[tokio::test]
async fn a_reload_keeps_the_key_value_database_open_and_can_move_it() {
    let dir = std::env::temp_dir().join(format!("shallot-kv-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shallot.toml");
    let config = |kv_file: &str, version: &str| {
        shallot_tests::with_guests(&format!(
            r#"
# {version}
[key_value]
path = "{kv_file}"

[views.h]
component = "{{hostile}}"
allowed_outbound_hosts = ["http://127.0.0.1:1"]
key_value_stores = ["granted"]
config = {{ action = "kv", store = "granted" }}

[[routes]]
path = "h"
view = "h"
"#
        ))
    };
    let _ = std::fs::remove_file(dir.join("one.redb"));
    let _ = std::fs::remove_file(dir.join("two.redb"));
    replace(&path, &config("one.redb", "v1"));
    let live = Arc::new(LivePipeline::load(&path).await.unwrap());
    let hit = |live: &Arc<LivePipeline>| {
        let pipeline = live.current();
        async move { run(&pipeline, get("/h")).await.body().to_owned() }
    };
    assert_eq!(hit(&live).await, "hits=1");
    // A request on the old version is still running while the new one
    // opens the same file: both must use it.
    let old = live.current();
    replace(&path, &config("one.redb", "v2"));
    assert!(
        live.reload().await.unwrap(),
        "{:?}",
        live.status().last_error
    );
    assert_eq!(hit(&live).await, "hits=2");
    assert_eq!(run(&old, get("/h")).await.body(), "hits=3");
    drop(old);
    // A new path opens a new database; the old one is closed with its
    // last version and can be opened again.
    replace(&path, &config("two.redb", "v3"));
    assert!(
        live.reload().await.unwrap(),
        "{:?}",
        live.status().last_error
    );
    assert_eq!(hit(&live).await, "hits=1");
    replace(&path, &config("one.redb", "v4"));
    assert!(
        live.reload().await.unwrap(),
        "{:?}",
        live.status().last_error
    );
    assert_eq!(hit(&live).await, "hits=4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_components_concurrency_cap_keeps_it_from_taking_the_whole_pool() {
    let p = Arc::new(
        pipeline(
            r#"
[views.slow]
component = "{probe-view}"
config = { action = "sleep:400" }
limits = { concurrency = 2 }

[views.ok]
component = "{probe-view}"

[[routes]]
path = "slow"
view = "slow"

[[routes]]
path = "ok"
view = "ok"
"#,
        )
        .await,
    );
    let slow: Vec<_> = (0..5)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move { run(&p, get("/slow")).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    // Meanwhile the other view is served as usual.
    assert_eq!(run(&p, get("/ok")).await.response.status(), 200);
    let mut statuses = Vec::new();
    for task in slow {
        let out = task.await.unwrap();
        if out.response.status() == 503 {
            assert_logged(&out, "already has 2 instances in use (its `concurrency`)");
        }
        statuses.push(out.response.status().as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 503, 503, 503]);
    // The cap frees with the requests.
    assert_eq!(run(&p, get("/slow")).await.response.status(), 200);
}
