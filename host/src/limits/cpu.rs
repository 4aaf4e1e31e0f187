//! CPU time per hook call: the engine's epoch ticks every [`TICK`]; a
//! running guest yields at each tick and is interrupted once its call has
//! used its budget, counting the host's work on its behalf.

use std::time::Duration;

/// How often the epoch advances: the granularity of CPU deadlines and of
/// yielding.
pub(crate) const TICK: Duration = Duration::from_millis(2);

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
/// out of the guest (bodies, header lists, key-value keys and values,
/// `reverse()` arguments and results) at a fixed rate ([`COPY_RATE`]), so
/// the charge does not depend on how busy the machine is; time is never charged, since a host call's time is
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

    /// Copying `bytes` between guest and host for the call, at
    /// [`COPY_RATE`]; true once over budget.
    pub(crate) fn charge_copy(&mut self, bytes: usize) -> bool {
        let nanos = (bytes as u128 * 1_000_000_000) / u128::from(COPY_RATE);
        let cost = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.host = self.host.saturating_add(cost);
        self.over()
    }

    fn over(&self) -> bool {
        let host_ticks = self.host.as_nanos() / TICK.as_nanos().max(1);
        u128::from(self.ticks) + host_ticks > u128::from(self.tick_budget)
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
