//! What the status page shows: the `/status` JSON plus the chain in
//! order, each component with its hash, hooks, instance policy and its
//! totals since the server started (calls, failures, time in calls,
//! instances made and reused). The page turns two samples a second apart
//! into rates, latencies and error rates; the server only counts.

use serde_json::{Value, json};

use crate::component::Loaded;
use crate::hooks::Hook;
use crate::reload::LivePipeline;

/// The JSON `GET /status` answers with.
pub(super) fn status(live: &LivePipeline) -> Value {
    let status = live.status();
    let pipeline = live.current();
    let hash = |name: &str| {
        status
            .components
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, sha)| sha.as_str())
            .to_owned()
    };
    let layer = |kind: &str, name: &str, loaded: &Loaded, hooks: Vec<String>| {
        let totals = loaded
            .metrics
            .as_ref()
            .map(|m| m.totals())
            .unwrap_or_default();
        json!({
            "kind": kind,
            "name": name,
            "sha256": hash(name),
            "hooks": hooks,
            "policy": if loaded.pool.is_some() { "reuse" } else { "per-request" },
            "calls": totals.calls,
            "failures": totals.failures,
            "duration_seconds": totals.seconds,
            "instances_created": totals.created,
            "instances_reused": totals.reused,
        })
    };
    let mut chain = Vec::new();
    for m in pipeline.middleware() {
        let hooks = m.hooks().into_iter().map(|h| h.name().to_owned()).collect();
        chain.push(layer("middleware", m.name(), &m.loaded, hooks));
    }
    let mut views: Vec<_> = pipeline.views.values().collect();
    views.sort_by_key(|v| v.name());
    for v in views {
        let mut hooks = vec![Hook::View.name().to_owned()];
        if v.body_source.is_some() {
            hooks.push(Hook::BodySource.name().to_owned());
        }
        chain.push(layer("view", v.name(), &v.loaded, hooks));
    }
    for c in &pipeline.context_processors {
        let hooks = vec![Hook::ContextProcessor.name().to_owned()];
        chain.push(layer("context_processor", c.name(), &c.loaded, hooks));
    }
    for f in pipeline.templates.filter_components() {
        let hooks = vec![format!("{}: {}", Hook::Filter.name(), f.filters.join(", "))];
        chain.push(layer("filter", f.name(), &f.loaded, hooks));
    }
    let metrics = pipeline.metrics();
    let (ok, failed) = metrics.reload_counts();
    let mut out = status.to_json();
    out["requests"] = json!({ "total": metrics.answered() });
    out["reloads"] = json!({ "ok": ok, "error": failed });
    out["chain"] = Value::Array(chain);
    out
}
