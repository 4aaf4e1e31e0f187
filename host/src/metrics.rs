//! Prometheus metrics, served as OpenMetrics text by the admin listener's
//! `GET /metrics`.
//!
//! One [`Metrics`] registry lives as long as a [`LivePipeline`]: every
//! version a reload swaps in records into the same one, so counters carry
//! on across a hot swap. What is recorded where:
//!
//! - requests by route and status, and their duration: `Pipeline::respond`
//!   (the chain) and the server (answers given before it: health checks,
//!   static files, refused bodies), through [`Metrics::request`];
//! - each hook call, its duration and how it failed, the instances made or
//!   reused and the fuel spent: `cycle::guest_call`, through the
//!   per-component handles of [`ComponentMetrics`], resolved at load so a
//!   call costs two clock reads, a counter add and a histogram
//!   observation (about 0.1 µs);
//! - idle instances of `reuse` pools: sampled at scrape time;
//! - reloads and the active version: `LivePipeline::reload`.
//!
//! [`LivePipeline`]: crate::reload::LivePipeline

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

mod component;
pub(crate) mod otlp;
mod routes;
mod trace;

use component::Sums;
pub(crate) use component::{ComponentMetrics, failure_kind};
pub(crate) use routes::{Route, Routes};
pub(crate) use trace::{Layer, Trace};

/// The `Content-Type` of [`Metrics::encode`]'s text.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every metric of one server, all named `shallot_*`.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<RouteLabel, Histogram, fn() -> Histogram>,
    hooks: HookFamilies,
    idle: Family<ComponentLabel, Gauge>,
    reloads: Family<ReloadLabel, Counter>,
    version: Gauge,
    loaded_at: Gauge,
    /// One scrape at a time: each rewrites the idle gauges.
    scrape: Mutex<()>,
    /// Requests answered, every route and status together (the status
    /// page's request rate).
    answered: std::sync::atomic::AtomicU64,
    /// The status page's sums, by component name.
    sums: Mutex<HashMap<Arc<str>, Arc<Sums>>>,
}

/// The per-component families, which [`ComponentMetrics`] resolves
/// handles from.
struct HookFamilies {
    calls: Family<HookLabels, Counter>,
    duration: Family<HookLabels, Histogram, fn() -> Histogram>,
    failures: Family<FailureLabels, Counter>,
    created: Family<ComponentLabel, Counter>,
    reused: Family<ComponentLabel, Counter>,
    fuel: Family<ComponentLabel, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: Arc<str>,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HookLabels {
    component: Arc<str>,
    hook: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    component: Arc<str>,
    hook: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabel {
    component: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabel {
    result: &'static str,
}

/// A request takes from 100 µs to seconds: 1-2.5-5 steps to 10 s.
fn request_buckets() -> Histogram {
    Histogram::new([
        0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
        2.5, 5.0, 10.0,
    ])
}

/// A warm hook call takes microseconds, a fresh instance's first tens of
/// them, a slow one up to its CPU limit: 1-2.5-5 steps from 5 µs, coarser
/// past 10 ms (every component and hook has its own series).
fn hook_buckets() -> Histogram {
    Histogram::new([
        0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5,
        0.005, 0.01, 0.025, 0.1, 1.0,
    ])
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("shallot");
        let requests = Family::default();
        registry.register(
            "http_requests",
            "Requests answered, by route (the route's name, else its view's; `none` for answers no route gave) and status",
            requests.clone(),
        );
        let request_duration = Family::new_with_constructor(request_buckets as fn() -> Histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its response head, by route",
            Unit::Seconds,
            request_duration.clone(),
        );
        let hooks = HookFamilies {
            calls: Family::default(),
            duration: Family::new_with_constructor(hook_buckets as fn() -> Histogram),
            failures: Family::default(),
            created: Family::default(),
            reused: Family::default(),
            fuel: Family::default(),
        };
        registry.register(
            "hook_calls",
            "Calls into a component's hook",
            hooks.calls.clone(),
        );
        registry.register_with_unit(
            "hook_duration",
            "Time of one hook call, its instance's creation included",
            Unit::Seconds,
            hooks.duration.clone(),
        );
        registry.register(
            "hook_failures",
            "Hook calls that failed, by kind: raised, trap, memory, tables, cpu, fuel, stack, unavailable, timeout, cancelled",
            hooks.failures.clone(),
        );
        registry.register(
            "instances_created",
            "Instances made for a request",
            hooks.created.clone(),
        );
        registry.register(
            "instances_reused",
            "Warm instances taken from a reuse pool",
            hooks.reused.clone(),
        );
        registry.register(
            "fuel_consumed",
            "Instructions (fuel units) spent in hook calls, when the engine counts fuel",
            hooks.fuel.clone(),
        );
        let idle = Family::default();
        registry.register(
            "pool_idle_instances",
            "Warm instances idle in a component's reuse pool, at scrape time",
            idle.clone(),
        );
        let reloads: Family<ReloadLabel, Counter> = Family::default();
        for result in ["ok", "error"] {
            reloads.get_or_create_owned(&ReloadLabel { result });
        }
        registry.register(
            "reloads",
            "Reloads that swapped a new version in (ok) or failed (error)",
            reloads.clone(),
        );
        let version = Gauge::default();
        registry.register(
            "pipeline_version",
            "The version serving: 1 at start, +1 per successful reload",
            version.clone(),
        );
        let loaded_at = Gauge::default();
        registry.register_with_unit(
            "pipeline_loaded_timestamp",
            "When the version serving was loaded, in Unix time",
            Unit::Seconds,
            loaded_at.clone(),
        );
        Metrics {
            registry,
            requests,
            request_duration,
            hooks,
            idle,
            reloads,
            version,
            loaded_at,
            scrape: Mutex::new(()),
            answered: std::sync::atomic::AtomicU64::new(0),
            sums: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request answered with `status` for `route`.
    pub(crate) fn request(&self, route: &Route, status: u16, took: Duration) {
        let labels = RequestLabels {
            route: route.label.clone(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        route.duration.observe(took.as_secs_f64());
        self.answered
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The running sums of component `name`, made on first use.
    fn sums(&self, name: &Arc<str>) -> Arc<Sums> {
        let mut sums = self.sums.lock().unwrap_or_else(|e| e.into_inner());
        sums.entry(name.clone()).or_default().clone()
    }

    /// Requests answered so far, every route and status together.
    pub(crate) fn answered(&self) -> u64 {
        self.answered.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Reloads so far: (swapped in, failed).
    pub(crate) fn reload_counts(&self) -> (u64, u64) {
        let count = |result| self.reloads.get_or_create(&ReloadLabel { result }).get();
        (count("ok"), count("error"))
    }

    /// Notes that `version`, loaded at `at`, is serving.
    pub(crate) fn serving(&self, version: u64, at: SystemTime) {
        self.version.set(i64::try_from(version).unwrap_or(i64::MAX));
        let secs = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.loaded_at.set(i64::try_from(secs).unwrap_or(i64::MAX));
    }

    /// Counts a reload that swapped a new version in, or failed.
    pub(crate) fn reloaded(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.reloads.get_or_create(&ReloadLabel { result }).inc();
    }

    /// The OpenMetrics text of every metric, with the idle-instance gauges
    /// set from `idle` (each `reuse` component's pool, right now).
    pub(crate) fn encode<'a>(&self, idle: impl Iterator<Item = (&'a Arc<str>, usize)>) -> String {
        let _one_at_a_time = self.scrape.lock().unwrap_or_else(|e| e.into_inner());
        // A component a reload removed has no pool any more.
        self.idle.clear();
        for (component, n) in idle {
            let label = ComponentLabel {
                component: component.clone(),
            };
            // Two components of one name (a middleware and a view) add up.
            self.idle
                .get_or_create(&label)
                .inc_by(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}
