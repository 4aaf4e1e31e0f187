//! One component's metric handles, resolved once when its pipeline loads:
//! a hook call then costs two clock reads, a counter add and a histogram
//! observation, with no label lookup and no allocation. Only a failure
//! looks its counter up (failures are rare, and their kinds many).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

use super::{ComponentLabel, FailureLabels, HookLabels, Metrics};
use crate::error::Failure;
use crate::hooks::Hook;
use crate::limits::LimitHit;

/// The metrics of one loaded component, labelled with its configured name.
pub(crate) struct ComponentMetrics {
    name: Arc<str>,
    /// By `Hook as usize`: the hooks it exports.
    hooks: [Option<HookMetrics>; Hook::ALL.len()],
    created: Counter,
    reused: Counter,
    /// Only when the engine counts fuel: no series of zeros otherwise.
    fuel: Option<Counter>,
    families: Families,
    /// Every hook together, for the status page (Prometheus histograms
    /// keep their sums to themselves); shared by every version, as the
    /// Prometheus series are.
    sums: Arc<Sums>,
}

/// A component name's running sums, every version and hook together.
#[derive(Default)]
pub(crate) struct Sums {
    calls: AtomicU64,
    failures: AtomicU64,
    nanos: AtomicU64,
}

/// One component's totals since the server started: what the status page
/// turns into rates between two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Totals {
    pub(crate) calls: u64,
    pub(crate) failures: u64,
    pub(crate) seconds: f64,
    pub(crate) created: u64,
    pub(crate) reused: u64,
}

/// Handles of one (component, hook).
struct HookMetrics {
    calls: Counter,
    duration: Histogram,
}

/// What a hook without resolved handles, or a failure, is looked up in.
struct Families {
    calls: Family<HookLabels, Counter>,
    duration: Family<HookLabels, Histogram, fn() -> Histogram>,
    failures: Family<FailureLabels, Counter>,
}

impl ComponentMetrics {
    /// Handles for component `name` and each of `hooks` (its exports),
    /// and for its fuel when the engine `counts_fuel`.
    pub(crate) fn new(
        metrics: &Metrics,
        name: &str,
        hooks: &[Hook],
        counts_fuel: bool,
    ) -> ComponentMetrics {
        let name: Arc<str> = name.into();
        let families = &metrics.hooks;
        let component = ComponentLabel {
            component: name.clone(),
        };
        let per_hook = |hook: Hook| {
            hooks.contains(&hook).then(|| {
                let labels = HookLabels {
                    component: name.clone(),
                    hook: hook.name(),
                };
                HookMetrics {
                    calls: families.calls.get_or_create_owned(&labels),
                    duration: families.duration.get_or_create_owned(&labels),
                }
            })
        };
        ComponentMetrics {
            hooks: Hook::ALL.map(per_hook),
            created: families.created.get_or_create_owned(&component),
            reused: families.reused.get_or_create_owned(&component),
            fuel: counts_fuel.then(|| families.fuel.get_or_create_owned(&component)),
            families: Families {
                calls: families.calls.clone(),
                duration: families.duration.clone(),
                failures: families.failures.clone(),
            },
            sums: metrics.sums(&name),
            name,
        }
    }

    /// Its totals, every hook together.
    pub(crate) fn totals(&self) -> Totals {
        Totals {
            calls: self.sums.calls.load(Relaxed),
            failures: self.sums.failures.load(Relaxed),
            seconds: self.sums.nanos.load(Relaxed) as f64 / 1e9,
            created: self.created.get(),
            reused: self.reused.get(),
        }
    }

    /// Its configured name, the `component` label.
    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// Counts an instance a request got: warm from its pool, or new.
    pub(crate) fn entered(&self, reused: bool) {
        if reused {
            self.reused.inc();
        } else {
            self.created.inc();
        }
    }

    /// Counts instructions spent (0 when the engine counts no fuel).
    pub(crate) fn fuel(&self, spent: u64) {
        if let Some(fuel) = &self.fuel {
            fuel.inc_by(spent);
        }
    }

    /// Starts timing a call of `hook`; end it with [`Call::end`]. A call
    /// dropped before its end (its request was cancelled: the deadline
    /// passed, or the client went away) is counted as failed, `cancelled`.
    pub(crate) fn start(&self, hook: Hook) -> Call<'_> {
        Call {
            metrics: self,
            hook,
            started: Instant::now(),
            ended: false,
        }
    }

    fn record(&self, hook: Hook, took: Duration, failure: Option<&'static str>) {
        let secs = took.as_secs_f64();
        self.sums.calls.fetch_add(1, Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sums.nanos.fetch_add(nanos, Relaxed);
        if failure.is_some() {
            self.sums.failures.fetch_add(1, Relaxed);
        }
        match &self.hooks[hook as usize] {
            Some(handles) => {
                handles.calls.inc();
                handles.duration.observe(secs);
            }
            None => {
                let labels = HookLabels {
                    component: self.name.clone(),
                    hook: hook.name(),
                };
                self.families.calls.get_or_create(&labels).inc();
                self.families.duration.get_or_create(&labels).observe(secs);
            }
        }
        if let Some(kind) = failure {
            let labels = FailureLabels {
                component: self.name.clone(),
                hook: hook.name(),
                kind,
            };
            self.families.failures.get_or_create(&labels).inc();
        }
    }
}

/// A hook call being timed.
pub(crate) struct Call<'m> {
    metrics: &'m ComponentMetrics,
    hook: Hook,
    started: Instant,
    ended: bool,
}

impl Call<'_> {
    /// Records the call, failed with `failure` (a [`failure_kind`]) or not.
    pub(crate) fn end(mut self, failure: Option<&'static str>) {
        self.ended = true;
        self.metrics
            .record(self.hook, self.started.elapsed(), failure);
    }
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.metrics
                .record(self.hook, self.started.elapsed(), Some("cancelled"));
        }
    }
}

/// The `kind` label of a failure: what `Failure` tells apart, each limit
/// on its own.
pub(crate) fn failure_kind(failure: &Failure) -> &'static str {
    match failure {
        Failure::Raised(_) => "raised",
        Failure::Trap(_) => "trap",
        Failure::Limit(LimitHit::Memory, _) => "memory",
        Failure::Limit(LimitHit::Tables, _) => "tables",
        Failure::Limit(LimitHit::CpuTime, _) => "cpu",
        Failure::Limit(LimitHit::Fuel, _) => "fuel",
        Failure::Limit(LimitHit::Stack, _) => "stack",
        Failure::Busy(_) => "unavailable",
    }
}
