//! `[limits]` and a component's own `limits`. `[limits]` holds the
//! server-wide limits and the defaults every component starts from; a
//! component's `limits` overrides those defaults field by field.

use std::time::Duration;

use crate::limits::{GlobalLimits, Limits};

use super::ConfigError;
use super::locate::Source;
use super::numbers::{DAY_SECS, Number, to_usize};
use super::schema::RawLimits;

/// `[limits]`: the per-component defaults and the server-wide limits.
pub(super) fn limits(
    src: &Source<'_>,
    raw: RawLimits,
) -> Result<(Limits, GlobalLimits), ConfigError> {
    let mut global = GlobalLimits::default();
    let f = |name: &str| format!("limits.{name}");
    if let Some(kib) = src.bounded_opt(
        raw.max_stack_kib.as_ref(),
        &f("max_stack_kib"),
        64,
        64 << 10,
    )? {
        global.max_stack_bytes = to_usize(kib << 10);
    }
    // Each instance reserves address space in the pooling allocator (a 4
    // GiB memory slot plus guards): 10,000 of them is most of what x86-64
    // user space can map.
    if let Some(n) = src.bounded_opt(
        raw.concurrent_instances.as_ref(),
        &f("concurrent_instances"),
        1,
        10_000,
    )? {
        global.concurrent_instances = u32::try_from(n).expect("bounded");
    }
    if let Some(ms) = src.bounded_opt(
        raw.request_timeout_ms.as_ref(),
        &f("request_timeout_ms"),
        1,
        DAY_SECS * 1000,
    )? {
        global.request_timeout = Duration::from_millis(ms);
    }
    Ok((overlay(src, "limits", &Limits::default(), &raw)?, global))
}

/// `base` with the settings `raw` makes, each checked against its range.
pub(super) fn overlay(
    src: &Source<'_>,
    field: &str,
    base: &Limits,
    raw: &RawLimits,
) -> Result<Limits, ConfigError> {
    let num = |value: &Option<Number>, name: &str, min: u64, max: u64| {
        src.bounded_opt(value.as_ref(), &format!("{field}.{name}"), min, max)
    };
    // A 32-bit Wasm memory addresses at most 4 GiB.
    let memory_mib = num(&raw.memory_mib, "memory_mib", 1, 4096)?;
    let cpu_ms = num(&raw.cpu_ms, "cpu_ms", 1, DAY_SECS * 1000)?;
    let fuel = num(&raw.fuel, "fuel", 1, u64::MAX)?;
    let instances = num(&raw.instances, "instances", 1, 10_000)?;
    let tables = num(&raw.tables, "tables", 1, 10_000)?;
    let table_elements = num(&raw.table_elements, "table_elements", 1, 10_000_000)?;
    let memories = num(&raw.memories, "memories", 1, 10_000)?;
    let output_kib = num(&raw.output_kib, "output_kib", 0, 1 << 20)?;
    let concurrency = num(&raw.concurrency, "concurrency", 1, 10_000)?;
    Ok(Limits {
        memory_bytes: memory_mib.map_or(base.memory_bytes, |m| to_usize(m << 20)),
        cpu_time: cpu_ms.map_or(base.cpu_time, Duration::from_millis),
        fuel: fuel.or(base.fuel),
        instances: instances.map_or(base.instances, to_usize),
        tables: tables.map_or(base.tables, to_usize),
        table_elements: table_elements.map_or(base.table_elements, to_usize),
        memories: memories.map_or(base.memories, to_usize),
        output_bytes: output_kib.map_or(base.output_bytes, |k| to_usize(k << 10)),
        concurrency: concurrency.map(to_usize).or(base.concurrency),
    })
}
