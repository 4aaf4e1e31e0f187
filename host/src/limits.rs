//! Resource limits: what one component may use in one request, and how a
//! limit that was hit is told apart from any other trap.
//!
//! - linear memory, tables and instances: a [`ResourceLimiter`] per store;
//! - CPU time per hook call: epoch interruption. The engine's epoch ticks
//!   every 2 ms (`cpu::TICK`); at each tick a running guest yields to the executor (so
//!   a spinning guest never starves other requests) and is interrupted once
//!   its call has run past its deadline;
//! - instructions: optional fuel, which also counts what each component
//!   spent;
//! - the Wasm stack (engine-wide) and a whole-request wall-clock deadline.

use std::fmt;
use std::time::Duration;

use wasmtime::{ResourceLimiter, Trap};

mod cpu;
mod meter;
mod pool;

pub(crate) use cpu::{CpuClock, start_ticker};
pub(crate) use meter::Meter;
pub(crate) use pool::pool;

/// What one component may use in one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory, per memory. Default 64 MiB.
    pub memory_bytes: usize,
    /// Wall-clock time one hook call may run. Default 100 ms.
    pub cpu_time: Duration,
    /// Instructions (fuel units) one hook call may run. Default: no budget.
    pub fuel: Option<u64>,
    /// Core instances a component may create. Default 50.
    pub instances: usize,
    /// Tables. Default 20.
    pub tables: usize,
    /// Elements per table. Default 100,000.
    pub table_elements: usize,
    /// Memories. Default 20.
    pub memories: usize,
    /// Bytes of stdout plus stderr logged per request (and as much again
    /// through `shallot:http/log`). Default 64 KiB.
    pub output_bytes: usize,
    /// Instances of this component alive at once, over all requests (and
    /// its `reuse` pool). Default: no cap of its own, only the server's
    /// `concurrent_instances`.
    pub concurrency: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 64 << 20,
            cpu_time: Duration::from_millis(100),
            fuel: None,
            instances: 50,
            tables: 20,
            table_elements: 100_000,
            memories: 20,
            output_bytes: 64 << 10,
            concurrency: None,
        }
    }
}

/// Limits that apply to the whole server rather than to one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalLimits {
    /// The Wasm stack of any call. Default 512 KiB (wasmtime's default).
    pub max_stack_bytes: usize,
    /// How long a whole request may take before it gets 504. Default 30 s.
    pub request_timeout: Duration,
    /// Component instances alive at once across all requests (each request
    /// holds one per component whose hook runs; `reuse` pools hold theirs).
    /// Sizes the pooling allocator. Default 1,000.
    pub concurrent_instances: u32,
}

impl Default for GlobalLimits {
    fn default() -> Self {
        GlobalLimits {
            max_stack_bytes: 512 << 10,
            request_timeout: Duration::from_secs(30),
            concurrent_instances: 1_000,
        }
    }
}

/// Which limit stopped a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    /// Linear memory.
    Memory,
    /// Table elements, tables, instances or memories.
    Tables,
    /// The CPU deadline of a hook call.
    CpuTime,
    /// The instruction budget of a hook call.
    Fuel,
    /// The Wasm stack.
    Stack,
}

impl fmt::Display for LimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitHit::Memory => "memory limit",
            LimitHit::Tables => "table limit",
            LimitHit::CpuTime => "CPU time limit",
            LimitHit::Fuel => "instruction (fuel) limit",
            LimitHit::Stack => "stack limit",
        })
    }
}

/// The store's resource limiter; remembers which limit it enforced, because
/// the trap it causes does not say.
pub(crate) struct Limiter {
    limits: Limits,
    pub(crate) hit: Option<LimitHit>,
}

impl Limiter {
    pub(crate) fn new(limits: Limits) -> Self {
        Limiter { limits, hit: None }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limits.memory_bytes {
            self.hit = Some(LimitHit::Memory);
            wasmtime::bail!(
                "memory limit of {} MiB exceeded (growing to {} bytes)",
                self.limits.memory_bytes >> 20,
                desired
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limits.table_elements {
            self.hit = Some(LimitHit::Tables);
            wasmtime::bail!(
                "table limit of {} elements exceeded",
                self.limits.table_elements
            );
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.limits.instances
    }

    fn tables(&self) -> usize {
        self.limits.tables
    }

    fn memories(&self) -> usize {
        self.limits.memories
    }
}

/// Which limit, if any, a trap came from.
pub(crate) fn classify(trap: &wasmtime::Error, limiter: &Limiter) -> Option<LimitHit> {
    if let Some(hit) = limiter.hit {
        return Some(hit);
    }
    match trap.downcast_ref::<Trap>()? {
        Trap::OutOfFuel => Some(LimitHit::Fuel),
        // Only our epoch callback interrupts, and only for the CPU deadline.
        Trap::Interrupt => Some(LimitHit::CpuTime),
        Trap::StackOverflow => Some(LimitHit::Stack),
        _ => None,
    }
}
