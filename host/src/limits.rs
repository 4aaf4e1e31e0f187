//! Resource limits: what one component may use in one request, and how a
//! limit that was hit is told apart from any other trap.
//!
//! - linear memory, tables and instances: a [`ResourceLimiter`] per store;
//! - CPU time per hook call: epoch interruption. The engine's epoch ticks
//!   every [`TICK`]; at each tick a running guest yields to the executor (so
//!   a spinning guest never starves other requests) and is interrupted once
//!   its call has run past its deadline;
//! - instructions: optional fuel, which also counts what each component
//!   spent;
//! - the Wasm stack (engine-wide) and a whole-request wall-clock deadline.

use std::fmt;
use std::time::Duration;

use wasmtime::{ResourceLimiter, Trap};

/// How often the epoch advances: the granularity of CPU deadlines and of
/// yielding.
pub(crate) const TICK: Duration = Duration::from_millis(2);

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

/// The CPU time one hook call has used, against its budget: the guest's
/// own time in epoch ticks, plus what the host charges for work it does on
/// the guest's behalf.
///
/// Ticks pass while a guest waits in a host call too, but the epoch
/// callback only runs while Wasm executes, so counting callbacks measures
/// the guest's own time, not time spent waiting on I/O, and stays steady
/// when the machine is busy. Host work escapes that count: however long a
/// host call takes, it costs the guest at most one tick, so a guest looping
/// on a call that copies a 24 MiB body ran for seconds under a 100 ms
/// budget. Host functions therefore charge what they do: bytes copied in or
/// out of the guest (bodies, header lists, key-value keys and values) at a
/// fixed rate ([`COPY_RATE`]), so the charge does not depend on how busy
/// the machine is; time is never charged, since a host call's time is
/// mostly waiting (a lock, fsync) that load stretches.
#[derive(Debug)]
pub(crate) struct CpuClock {
    ticks: u64,
    tick_budget: u64,
    host: Duration,
}

/// Bytes per second a copy between guest and host is charged at: about
/// what copying into fresh memory costs, allocation and page faults
/// included. A 100 ms budget copies 200 MB.
pub(crate) const COPY_RATE: u64 = 2_000_000_000;

impl CpuClock {
    pub(crate) fn new(budget: Duration) -> Self {
        let tick = TICK.as_micros().max(1);
        CpuClock {
            ticks: 0,
            tick_budget: u64::try_from(budget.as_micros().div_ceil(tick)).unwrap_or(u64::MAX),
            host: Duration::ZERO,
        }
    }

    /// Starts the count of a new hook call (or instantiation).
    pub(crate) fn restart(&mut self) {
        self.ticks = 0;
        self.host = Duration::ZERO;
    }

    /// An epoch tick while the guest runs; true once over budget.
    pub(crate) fn tick(&mut self) -> bool {
        self.ticks += 1;
        self.over()
    }

    /// Host work for the call; true once over budget.
    pub(crate) fn charge(&mut self, work: Duration) -> bool {
        self.host = self.host.saturating_add(work);
        self.over()
    }

    /// The charge for copying `bytes` between guest and host.
    pub(crate) fn copy_cost(bytes: usize) -> Duration {
        let nanos = (bytes as u128 * 1_000_000_000) / u128::from(COPY_RATE);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    fn over(&self) -> bool {
        let host_ticks = self.host.as_nanos() / TICK.as_nanos().max(1);
        u128::from(self.ticks) + host_ticks > u128::from(self.tick_budget)
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

/// Advances `engine`'s epoch every [`TICK`] until the engine is dropped.
pub(crate) fn start_ticker(engine: &wasmtime::Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("shallot-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        })
        .expect("can start the epoch thread");
}

/// Bytes of a linear memory kept mapped, and reset in place, when its
/// instance is freed. Instances come and go with every request; unmapping
/// their pages would make the next instance fault them back in, and those
/// faults (with the TLB shootdowns of unmapping) were most of the cost of a
/// fresh instance. Covers what a small guest touches: its stack, data and
/// the heap of one request.
const KEEP_RESIDENT: usize = 2 << 20;

/// The pooling allocator: instance memory is reserved once, at start-up,
/// and each request's instances take slots from it; copy-on-write images
/// make a slot's initial memory a mapping, not a copy.
pub(crate) fn pool(options: &crate::EngineOptions) -> wasmtime::InstanceAllocationStrategy {
    let n = options.concurrent_instances;
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_component_instances(n)
        // A component is a few core modules (its code, shims, adapters),
        // usually one memory and a table or two each.
        .total_core_instances(n.saturating_mul(8))
        .total_memories(n.saturating_mul(2))
        .total_tables(n.saturating_mul(4))
        .total_stacks(n)
        .max_tables_per_module(4)
        .table_elements(options.max_table_elements)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(64 << 10)
        // Resets only the pages an instance dirtied (Linux 6.7+), so a
        // freed instance costs what it touched, not KEEP_RESIDENT.
        .pagemap_scan(wasmtime::Enabled::Auto);
    wasmtime::InstanceAllocationStrategy::Pooling(pool)
}
