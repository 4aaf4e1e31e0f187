//! The data of a component's `Store` for one request: the `ResourceTable`
//! its capabilities share, WASI with only the granted authority, its
//! resource limiter and CPU deadline, and who it is.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use crate::capability::log::LogBudget;
use crate::capability::{ComponentContext, LogPipe};
use crate::limits::{CpuClock, LimitHit, Limiter};

/// Live resources (the request, responses, stores) one component may hold
/// at once: every entry is host memory the guest does not pay for.
const MAX_RESOURCES: usize = 10_000;

/// Store data for one component in one request.
pub(crate) struct RequestState {
    pub(crate) table: ResourceTable,
    /// Built on the guest's first WASI call: many requests make none, and
    /// building one (environment, directories, clocks, a seeded RNG) is a
    /// noticeable share of a fresh instance's cost.
    wasi: Option<WasiCtx>,
    /// The component this store runs; host imports answer on its behalf.
    pub(crate) current: Arc<ComponentContext>,
    pub(crate) limiter: Limiter,
    /// The running call's CPU time, its own and the host's work for it.
    pub(crate) cpu: CpuClock,
    /// Bytes of bodies, headers and attributes this component has handed
    /// the host in this request: host memory, capped like its own.
    handed_over: usize,
    stdout: LogPipe,
    stderr: LogPipe,
    /// What `shallot:http/log` may still write in this request.
    pub(crate) log_budget: LogBudget,
}

impl RequestState {
    pub(crate) fn new(component: Arc<ComponentContext>) -> Self {
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        // stdout and stderr share one budget split in half, so neither can
        // crowd the other out entirely.
        let budget = component.limits.output_bytes / 2;
        let stdout = LogPipe::new(component.label.clone(), "stdout", budget);
        let stderr = LogPipe::new(component.label.clone(), "stderr", budget);
        RequestState {
            table,
            wasi: None,
            limiter: Limiter::new(component.limits.clone()),
            cpu: CpuClock::new(component.limits.cpu_time),
            handed_over: 0,
            log_budget: LogBudget::new(component.limits.output_bytes),
            current: component,
            stdout,
            stderr,
        }
    }

    /// Accounts for `bytes` more of host memory held for this component.
    /// The budget equals its memory limit: a guest cannot make the host hold
    /// more than it may hold itself, however many responses it builds.
    /// Going over is the memory limit, so it traps like `memory.grow` does.
    pub(crate) fn charge(&mut self, bytes: usize) -> wasmtime::Result<()> {
        let limit = self.current.limits.memory_bytes;
        if self.handed_over.saturating_add(bytes) > limit {
            self.limiter.hit = Some(crate::limits::LimitHit::Memory);
            wasmtime::bail!(
                "memory limit of {} MiB exceeded by bodies, headers and attributes handed to the host",
                limit >> 20
            );
        }
        self.handed_over += bytes;
        Ok(())
    }

    /// Readies a kept instance's state for its next request: what it wrote
    /// and spent is forgotten. The bytes it handed over are forgotten only
    /// if it holds no response any more: a guest that hoards responses
    /// across requests keeps paying for them.
    pub(crate) fn recycle(&mut self) {
        let holds_responses = self
            .table
            .iter_mut()
            .any(|entry| entry.is::<crate::resources::ResponseResource>());
        if !holds_responses {
            self.handed_over = 0;
        }
        self.cpu.restart();
        self.limiter.hit = None;
        self.stdout.restart();
        self.stderr.restart();
        self.log_budget = LogBudget::new(self.current.limits.output_bytes);
    }

    /// Charges host work done for the running call to its CPU budget;
    /// over budget, the call traps like one that ran out of ticks.
    pub(crate) fn charge_cpu(&mut self, work: std::time::Duration) -> wasmtime::Result<()> {
        if self.cpu.charge(work) {
            self.limiter.hit = Some(LimitHit::CpuTime);
            wasmtime::bail!(
                "CPU time limit of {:?} exceeded, counting the host's work for this call",
                self.current.limits.cpu_time
            );
        }
        Ok(())
    }

    /// Charges copying `bytes` between the guest and the host.
    pub(crate) fn charge_copy(&mut self, bytes: usize) -> wasmtime::Result<()> {
        self.charge_cpu(CpuClock::copy_cost(bytes))
    }

    /// Starts the clock of one hook call (or instantiation).
    pub(crate) fn begin_call(&mut self) {
        self.cpu.restart();
    }
}

impl Drop for RequestState {
    fn drop(&mut self) {
        self.stdout.finish();
        self.stderr.finish();
    }
}

/// WASI with only what the config grants: the named environment
/// variables and read-only directories. No arguments, no stdin, no sockets
/// (TCP, UDP and name lookup are off); stdout and stderr go to the log.
/// Clocks and randomness stay available because they grant nothing.
fn wasi_for(component: &ComponentContext, stdout: &LogPipe, stderr: &LogPipe) -> WasiCtx {
    let mut wasi = WasiCtx::builder();
    wasi.allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    for (name, value) in &component.env {
        wasi.env(name, value);
    }
    for (guest, host) in &component.grants.dirs {
        if let Err(e) = wasi.preopened_dir(host, guest, FsPerms::ReadOnly) {
            // Checked at load; a directory removed since is simply absent.
            tracing::warn!(
                component = &*component.label,
                "cannot open {}: {e}",
                host.display()
            );
        }
    }
    wasi.build()
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: self
                .wasi
                .get_or_insert_with(|| wasi_for(&self.current, &self.stdout, &self.stderr)),
            table: &mut self.table,
        }
    }
}
