//! What one component's store has used against its limits in the running
//! request, as the host functions see it: the resource limiter, the CPU
//! clock and the host memory the guest made the host hold.
//!
//! Host functions charge the meter for what they do on a guest's behalf;
//! going over a limit traps the call, and the meter remembers which limit it
//! was so the trap is reported as that limit.

use super::{CpuClock, LimitHit, Limiter, Limits};

/// One store's meter.
pub(crate) struct Meter {
    /// The store's `ResourceLimiter` (memory, tables, instances).
    pub(crate) limiter: Limiter,
    /// The running call's CPU time, its own and the host's work for it.
    pub(crate) cpu: CpuClock,
    /// Bytes of bodies, headers and attributes this component has handed
    /// the host in this request: host memory, capped like its own.
    handed_over: usize,
    memory_bytes: usize,
    cpu_time: std::time::Duration,
}

impl Meter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Meter {
            limiter: Limiter::new(limits.clone()),
            cpu: CpuClock::new(limits.cpu_time),
            handed_over: 0,
            memory_bytes: limits.memory_bytes,
            cpu_time: limits.cpu_time,
        }
    }

    /// Accounts for `bytes` more of host memory held for this component.
    /// The budget equals its memory limit: a guest cannot make the host hold
    /// more than it may hold itself, however many responses it builds.
    /// Going over is the memory limit, so it traps like `memory.grow` does.
    pub(crate) fn hold(&mut self, bytes: usize) -> wasmtime::Result<()> {
        let limit = self.memory_bytes;
        if self.handed_over.saturating_add(bytes) > limit {
            self.limiter.hit = Some(LimitHit::Memory);
            wasmtime::bail!(
                "memory limit of {} MiB exceeded by bodies, headers and attributes handed to the host",
                limit >> 20
            );
        }
        self.handed_over += bytes;
        Ok(())
    }

    /// Charges copying `bytes` between the guest and the host to the
    /// running call's CPU budget; over budget, the call traps like one that
    /// ran out of ticks.
    pub(crate) fn charge_copy(&mut self, bytes: usize) -> wasmtime::Result<()> {
        if self.cpu.charge_copy(bytes) {
            self.limiter.hit = Some(LimitHit::CpuTime);
            wasmtime::bail!(
                "CPU time limit of {:?} exceeded, counting the host's work for this call",
                self.cpu_time
            );
        }
        Ok(())
    }

    /// Starts the clock of one hook call (or instantiation).
    pub(crate) fn begin_call(&mut self) {
        self.cpu.restart();
    }

    /// Readies a kept instance's meter for its next request. The bytes it
    /// handed over are forgotten only if `holds_responses` is false: a
    /// guest that hoards responses across requests keeps paying for them.
    pub(crate) fn restart(&mut self, holds_responses: bool) {
        if !holds_responses {
            self.handed_over = 0;
        }
        self.cpu.restart();
        self.limiter.hit = None;
    }
}
