//! Conformance: Django's request/response cycle, one test per rule. Each
//! asserts the exact sequence of hook calls and the final response.

use shallot_tests::{get, pipeline, run};

/// Three probes around a probe view; `overrides` sets hook actions as
/// `probe-name.config_key = "value"` lines.
fn stack(overrides: &[(&str, &str, &str)], view_action: &str) -> String {
    let mut toml = String::new();
    for name in ["a", "b", "c"] {
        toml.push_str(&format!(
            "[[middleware]]\nname = \"{name}\"\ncomponent = \"{{probe}}\"\n[middleware.config]\nname = \"{name}\"\n"
        ));
        for (probe, key, value) in overrides {
            if *probe == name {
                toml.push_str(&format!("{key} = \"{value}\"\n"));
            }
        }
    }
    toml.push_str(&format!(
        "[views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"{view_action}\" }}\n\n\
         [[routes]]\npath = \"ok/\"\nview = \"v\"\n"
    ));
    toml
}

async fn calls_for(overrides: &[(&str, &str, &str)], view_action: &str, path: &str) -> shallot_tests::Outcome {
    let p = pipeline(&stack(overrides, view_action)).await;
    run(&p, get(path)).await
}

fn seq(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

#[tokio::test]
async fn full_cycle_runs_every_hook_in_django_order() {
    let out = calls_for(&[], "ok", "/ok/").await;
    assert_eq!(
        out.calls,
        seq("a.process-request b.process-request c.process-request \
             a.process-view b.process-view c.process-view v.handle \
             c.process-response b.process-response a.process-response")
    );
    assert_eq!(out.response.status(), 200);
    assert_eq!(out.header("x-seen").as_deref(), Some("c, b, a"));
}
