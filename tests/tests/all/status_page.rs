//! The admin listener's live status page in headless Chromium: a server
//! under steady traffic (one view that answers, one that raises), the
//! page open on the admin address. It must show the chain in order with
//! each component's hash, hooks and policy, rates and latencies that
//! update from the counters, the crashing view's errors, and then a failed
//! reload with its reason while the old version keeps serving. Leaves
//! `target/browser/status.png` and `status-reload-failed.png`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use shallot::LivePipeline;
use shallot::config::ServerConfig;
use tokio::net::TcpListener;

use crate::browser::{browser, screenshot, script, start_driver, text};

fn config() -> String {
    shallot_tests::with_guests(
        r#"
[[middleware]]
name = "request-id"
component = "{request-id}"

[[middleware]]
name = "cors"
component = "{cors}"
instance_policy = "reuse"

[[middleware]]
name = "security-headers"
component = "{security-headers}"

[views.hello]
component = "{hello}"

[views.crash]
component = "{boom}"

[[routes]]
path = "hello"
view = "hello"

[[routes]]
path = "crash"
view = "crash"
"#,
    )
}

/// Waits (up to 30 s) until the page has rendered `samples` samples.
async fn samples(c: &fantoccini::Client, samples: u64) {
    for _ in 0..300 {
        let seen = script(c, "return Number(document.body.dataset.samples || 0)").await;
        if seen.as_u64().unwrap_or(0) >= samples {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page did not refresh {samples} times");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_the_chain_live_in_chromium() {
    let dir = shallot_tests::template_dir(&[]);
    let path = dir.join("shallot.toml");
    std::fs::write(&path, config()).unwrap();
    let live = Arc::new(LivePipeline::load(&path).await.unwrap());

    let app = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_addr = app.local_addr().unwrap();
    let admin = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin_addr = admin.local_addr().unwrap();
    let settings = ServerConfig::default();
    tokio::spawn({
        let (live, settings) = (live.clone(), settings.clone());
        async move {
            shallot::server::serve_with(app, live, &settings, None, std::future::pending()).await
        }
    });
    tokio::spawn(shallot::admin::serve(admin, live.clone(), settings, None));

    // Steady traffic: three hellos for every crash.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = tokio::spawn({
        let stop = stop.clone();
        async move {
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http::<http_body_util::Empty<bytes::Bytes>>();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let path = if n % 4 == 3 { "crash" } else { "hello" };
                let uri = format!("http://{app_addr}/{path}").parse().unwrap();
                let resp = client.get(uri).await.unwrap();
                let expected = if path == "crash" { 500 } else { 200 };
                assert_eq!(resp.status(), expected, "/{path}");
                n += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            n
        }
    });

    let (_driver, url) = start_driver().await;
    let c = browser(&url).await;
    c.goto(&format!("http://{admin_addr}/")).await.unwrap();
    samples(&c, 3).await;

    // The chain in order, with what each component is.
    let rows = script(
        &c,
        "return [...document.querySelectorAll('#chain tr[data-component]')].map(r => \
         [...r.children].map(td => td.textContent))",
    )
    .await;
    let rows = rows.as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r[1].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["request-id", "cors", "security-headers", "crash", "hello"]
    );
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[1] == json!(name))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let status = live.status();
    let hello_sha = &status
        .components
        .iter()
        .find(|(n, _)| n == "hello")
        .unwrap()
        .1;
    assert_eq!(row("hello")[2], json!(&hello_sha[..12]), "the hash");
    assert_eq!(row("cors")[4], json!("reuse"));
    assert_eq!(row("request-id")[4], json!("per-request"));
    assert!(row("cors")[3].as_str().unwrap().contains("process-request"));
    assert!(row("hello")[3].as_str().unwrap().starts_with("handle"));
    // Live figures: calls per second and a latency for the view under
    // traffic, errors only on the crashing one.
    let rate: f64 = row("hello")[5].as_str().unwrap().parse().unwrap();
    assert!(rate > 1.0, "hello at {rate} calls/s");
    let mean: f64 = row("hello")[6].as_str().unwrap().parse().unwrap();
    assert!(mean > 0.0, "a mean latency");
    let crash_errors = row("crash")[7].as_str().unwrap().to_owned();
    assert!(crash_errors.starts_with("100.0%"), "{crash_errors}");
    assert!(
        row("hello")[7].as_str().unwrap().starts_with("0"),
        "no errors on hello"
    );
    let bad = script(&c, "return document.querySelectorAll('td.err').length").await;
    assert_eq!(bad, json!(1), "only the crashing view is marked");
    assert_eq!(text(&c, "#version").await, "1");
    assert!(text(&c, "#reload").await.starts_with("Serving version 1"));
    screenshot(&c, "status").await;

    // A broken config: refused, shown with its reason, version 1 serving.
    std::fs::write(
        &path,
        config().replace(shallot_tests::guests::HELLO, "no-such.wasm"),
    )
    .unwrap();
    assert!(live.reload().await.is_err());
    let before = script(&c, "return Number(document.body.dataset.samples)").await;
    samples(&c, before.as_u64().unwrap() + 2).await;
    let shown = text(&c, "#reload").await;
    assert!(
        shown.contains("The last reload failed; version 1 keeps serving."),
        "{shown}"
    );
    assert!(shown.contains("no-such.wasm"), "the reason: {shown}");
    assert_eq!(text(&c, "#reloads").await, "0 ok, 1 failed");
    screenshot(&c, "status-reload-failed").await;

    stop.store(true, Ordering::Relaxed);
    let sent = traffic.await.unwrap();
    assert!(sent > 20, "{sent} requests");
    c.close().await.unwrap();
}
