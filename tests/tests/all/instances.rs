//! Instance policies: `per-request` (a fresh instance per request) and
//! `reuse` (a pool of warm instances), and what each keeps between
//! requests. The probe counts the hooks its instance has run in
//! `X-Instance-Calls`, which shows which instance served a request.

use shallot_tests::{get, pipeline, run};

/// One probe middleware (request, view and response hooks) with `policy` lines
/// added to its entry, and a probe view.
fn probe_stack(policy: &str, response_action: &str) -> String {
    probe_stack_with_view(policy, response_action, "ok")
}

fn probe_stack_with_view(policy: &str, response_action: &str, view_action: &str) -> String {
    format!(
        "[[middleware]]\nname = \"p\"\ncomponent = \"{{probe}}\"\n{policy}\n\
         [middleware.config]\nname = \"p\"\nprocess_response = \"{response_action}\"\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"{view_action}\" }}\n{policy}\n\
         [[routes]]\npath = \"ok/\"\nview = \"v\"\n"
    )
}

async fn instance_calls(p: &shallot::Pipeline) -> String {
    let out = run(p, get("/ok/")).await;
    assert_eq!(out.response.status(), 200, "{}", out.body());
    out.header("x-instance-calls").expect("the probe counts")
}

#[tokio::test]
async fn per_request_is_the_default_and_keeps_nothing() {
    let p = pipeline(&probe_stack("", "pass")).await;
    for _ in 0..3 {
        assert_eq!(instance_calls(&p).await, "p=3");
    }
    assert_eq!(p.middleware()[0].idle_instances(), None);
    assert_eq!(p.view("v").unwrap().idle_instances(), None);
}

#[tokio::test]
async fn reuse_serves_later_requests_from_the_same_warm_instance() {
    let p = pipeline(&probe_stack("instance_policy = \"reuse\"", "pass")).await;
    // Three hooks per request on one instance, which outlives the request.
    assert_eq!(instance_calls(&p).await, "p=3");
    assert_eq!(instance_calls(&p).await, "p=6");
    assert_eq!(instance_calls(&p).await, "p=9");
    assert_eq!(p.middleware()[0].idle_instances(), Some(1));
    assert_eq!(p.view("v").unwrap().idle_instances(), Some(1));
}

#[tokio::test]
async fn reuse_replaces_an_instance_after_max_requests() {
    let policy = "instance_policy = \"reuse\"\nreuse = { max_requests = 2 }";
    let p = pipeline(&probe_stack(policy, "pass")).await;
    let seen: Vec<String> = calls_in_sequence(&p, 5).await;
    assert_eq!(seen, ["p=3", "p=6", "p=3", "p=6", "p=3"]);
}

async fn calls_in_sequence(p: &shallot::Pipeline, n: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..n {
        seen.push(instance_calls(p).await);
    }
    seen
}

#[tokio::test]
async fn reuse_never_keeps_an_instance_that_trapped() {
    let p = pipeline(&probe_stack("instance_policy = \"reuse\"", "trap")).await;
    for _ in 0..3 {
        let out = run(&p, get("/ok/")).await;
        assert_eq!(out.response.status(), 500);
        assert!(
            out.log.iter().any(|l| l.contains("trapped")),
            "{:#?}",
            out.log
        );
    }
    // The view ran to its end and was kept; the trapping middleware never.
    assert_eq!(p.middleware()[0].idle_instances(), Some(0));
    assert_eq!(p.view("v").unwrap().idle_instances(), Some(1));
}

#[tokio::test]
async fn reuse_drops_an_instance_that_hit_its_cpu_limit_and_serves_on() {
    let toml = "[views.spin]\ncomponent = \"{hostile}\"\n\
                instance_policy = \"reuse\"\nlimits = { cpu_ms = 20 }\n\
                config = { action = \"loop\" }\n\
                allowed_outbound_hosts = [\"http://127.0.0.1:1\"]\n\
                key_value_stores = [\"granted\"]\n\
                [views.v]\ncomponent = \"{probe-view}\"\ninstance_policy = \"reuse\"\n\
                [[routes]]\npath = \"spin/\"\nview = \"spin\"\n\
                [[routes]]\npath = \"ok/\"\nview = \"v\"\n";
    let toml = format!(
        "[key_value]\npath = {:?}\n{toml}",
        shallot_tests::fresh_kv_path()
    );
    let p = pipeline(&toml).await;
    for _ in 0..2 {
        let out = run(&p, get("/spin/")).await;
        assert_eq!(out.response.status(), 500);
        assert!(
            out.log.iter().any(|l| l.contains("CPU time limit")),
            "{:#?}",
            out.log
        );
        assert_eq!(run(&p, get("/ok/")).await.response.status(), 200);
    }
    assert_eq!(p.view("spin").unwrap().idle_instances(), Some(0));
    assert_eq!(p.view("v").unwrap().idle_instances(), Some(1));
}

#[tokio::test]
async fn reuse_keeps_at_most_max_idle_instances() {
    let policy = "instance_policy = \"reuse\"\nreuse = { max_idle = 2 }";
    // The view sleeps, so all eight requests are in flight at once and
    // need eight instances of each component; two of each are kept.
    let p = pipeline(&probe_stack_with_view(policy, "pass", "sleep:20")).await;
    let all = futures::future::join_all((0..8).map(|_| run(&p, get("/ok/")))).await;
    assert!(all.iter().all(|o| o.response.status() == 200));
    assert_eq!(p.middleware()[0].idle_instances(), Some(2));
    assert_eq!(p.view("v").unwrap().idle_instances(), Some(2));
}

#[tokio::test]
async fn reuse_drops_instances_idle_past_the_timeout() {
    let policy = "instance_policy = \"reuse\"\nreuse = { idle_timeout_secs = 0 }";
    let p = pipeline(&probe_stack(policy, "pass")).await;
    // Each request finds the previous instance already stale.
    assert_eq!(instance_calls(&p).await, "p=3");
    assert_eq!(instance_calls(&p).await, "p=3");
}

#[tokio::test]
async fn a_full_instance_pool_answers_503_and_serves_again_once_instances_free_up() {
    // Room for two instances: one request (middleware + sleeping view)
    // takes both, so the others find the pool full.
    let toml = format!(
        "[limits]\nconcurrent_instances = 2\n{}",
        probe_stack_with_view("", "pass", "sleep:50")
    );
    let p = shallot::Pipeline::load(&shallot_tests::config(&toml))
        .await
        .unwrap();
    let all = futures::future::join_all((0..3).map(|_| run(&p, get("/ok/")))).await;
    let statuses: Vec<u16> = all.iter().map(|o| o.response.status().as_u16()).collect();
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(statuses.contains(&503), "{statuses:?}");
    let busy = all.iter().find(|o| o.response.status() == 503).unwrap();
    assert!(busy.body().contains("Service Unavailable (503)"));
    assert!(
        busy.log.iter().any(|l| l.contains("unavailable")),
        "{:#?}",
        busy.log
    );
    assert_eq!(run(&p, get("/ok/")).await.response.status(), 200);
}
