//! Where a request's instance of a component comes from, and where it goes
//! after the request: the instance policy.
//!
//! - `per-request`: a new store and instance, made when one of the
//!   component's hooks first runs and dropped with the request. Nothing a
//!   guest does outlives the request.
//! - `reuse`: a pool of warm instances. A request takes one (or makes one
//!   if none is idle) and gives it back when it completed; an instance that
//!   trapped, hit a limit, or whose request was cancelled mid-call is never
//!   given back, because its state may be half-updated.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre, Resource};

use crate::bindings::types::Error;
use crate::context::ComponentContext;
use crate::error::Failure;
use crate::hooks::{Export, Exports};
use crate::resources::{RequestResource, ResponseResource};
use crate::state::RequestState;

mod pool;

pub(crate) use pool::{InstancePool, enter_worker};

/// A component's store and instance, for one request or, when reused, for
/// a series of them.
///
/// Each component gets a store of its own: wasmtime poisons a whole store
/// when one of its instances traps, and Django's contract needs the outer
/// layers to keep running after an inner one crashed. The request and the
/// responses are host values lent to a store only for the length of a call.
pub(crate) struct Slot {
    pub(crate) store: Store<RequestState>,
    pub(crate) instance: Instance,
    /// The request's entry in this store's table, made when the table was
    /// empty; the request is swapped in for each call and out after it.
    pub(crate) request: Resource<RequestResource>,
    /// Instructions spent in this request (when the engine counts fuel).
    pub(crate) fuel_used: u64,
    /// Requests this instance has served to the end.
    pub(super) served: u32,
    /// Its place under the component's `concurrency`, freed with it.
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
    /// Its hook exports, resolved on first use: resolving type-checks and
    /// adds a function to the store each time, which a reused instance
    /// would otherwise pay (and accumulate) on every call.
    pub(crate) exports: Exports,
}

impl Slot {
    /// The hook export `indices` names, resolved in this instance once.
    pub(crate) fn export<E: Export>(&mut self, indices: &E) -> wasmtime::Result<E::Guest> {
        if let Some(guest) = E::cached(&mut self.exports) {
            return Ok(guest.clone());
        }
        let guest = indices.load(&mut self.store, &self.instance)?;
        *E::cached(&mut self.exports) = Some(guest.clone());
        Ok(guest)
    }

    /// Lends a response to this store for one call (`process-response`).
    pub(crate) fn lend_response(
        &mut self,
        resp: ResponseResource,
    ) -> wasmtime::Result<Resource<ResponseResource>> {
        Ok(self.store.data_mut().table.push(resp)?)
    }

    /// The response a guest returned, moved out of its store as a host value.
    pub(crate) fn take_response(
        &mut self,
        returned: Result<Resource<ResponseResource>, Error>,
    ) -> wasmtime::Result<Result<ResponseResource, Error>> {
        match returned {
            Ok(handle) => Ok(Ok(self.store.data_mut().table.delete(handle)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    /// [`Slot::take_response`] for the hooks that may answer or pass.
    pub(crate) fn take_optional(
        &mut self,
        returned: Result<Option<Resource<ResponseResource>>, Error>,
    ) -> wasmtime::Result<Result<Option<ResponseResource>, Error>> {
        match returned {
            Ok(Some(handle)) => Ok(self.take_response(Ok(handle))?.map(Some)),
            Ok(None) => Ok(Ok(None)),
            Err(e) => Ok(Err(e)),
        }
    }

    /// Swaps the request into this store's table entry for one call and
    /// starts the call's budgets. The entry was made when the table was
    /// empty and guests can only borrow it, so this cannot fail for lack of
    /// room, and the request is never lost.
    pub(crate) fn lend(
        &mut self,
        request: &mut RequestResource,
    ) -> Result<Resource<RequestResource>, Failure> {
        self.start_call();
        let state = self.store.data_mut();
        state.urlconf.clone_from(&request.urlconf);
        if (crate::capability::outbound::GRANT.granted)(&state.current.grants) {
            state.trace_headers.clone_from(&request.trace_headers);
        }
        let entry = self
            .store
            .data_mut()
            .table
            .get_mut(&self.request)
            .map_err(|e| Failure::Trap(e.into()))?;
        std::mem::swap(entry, request);
        Ok(Resource::new_borrow(self.request.rep()))
    }

    /// Swaps the request back out after the call, trap or not.
    pub(crate) fn reclaim(&mut self) -> RequestResource {
        self.finish_call();
        match self.store.data_mut().table.get_mut(&self.request) {
            Ok(entry) => std::mem::take(entry),
            Err(e) => {
                tracing::error!("request lost from a component's table: {e}");
                RequestResource::default()
            }
        }
    }

    /// Starts a call's budgets: CPU time, fuel, what it may hold.
    pub(crate) fn start_call(&mut self) {
        self.store.data_mut().meter.begin_call();
        self.store.set_epoch_deadline(1);
        // Errs only when the engine counts no fuel: then there is nothing to set.
        let _ = self.store.set_fuel(self.fuel_budget());
    }

    /// Ends a call, trap or not: what it opened is closed, its fuel counted.
    pub(crate) fn finish_call(&mut self) {
        self.store.data_mut().end_call();
        if let Ok(left) = self.store.get_fuel() {
            self.fuel_used += self.fuel_budget() - left;
        }
    }

    /// A call's fuel: its budget, or everything when only counting.
    fn fuel_budget(&self) -> u64 {
        self.store.data().current.limits.fuel.unwrap_or(u64::MAX)
    }
}

/// A store for one component, with its limits in force: the resource
/// limiter, the CPU deadline checked at every epoch tick (where a running
/// guest also yields, so a spinning one never starves the other requests),
/// and fuel when the engine counts it.
pub(crate) fn new_store(
    engine: &wasmtime::Engine,
    context: Arc<ComponentContext>,
) -> Store<RequestState> {
    let mut store = Store::new(engine, RequestState::new(context));
    store.limiter(|state| &mut state.meter.limiter);
    store.epoch_deadline_callback(|mut ctx| {
        if ctx.data_mut().meter.cpu.tick() {
            Ok(wasmtime::UpdateDeadline::Interrupt)
        } else {
            // Tokio's own yield, not wasmtime's default one: tokio wakes
            // the task only after polling for I/O. On a serving thread's
            // single-threaded runtime, a guest that is always ready to run
            // would otherwise let the other connections' I/O be polled
            // only every 61 scheduler ticks (`event_interval`), 122 ms of
            // 2 ms slices: its whole CPU limit (measured: p99 113 ms).
            Ok(wasmtime::UpdateDeadline::YieldCustom(
                1,
                Box::pin(tokio::task::yield_now()),
            ))
        }
    });
    store.set_epoch_deadline(1);
    // Instantiation runs guest code too (start functions): it gets a
    // budget like any call. Errs only when the engine counts no fuel.
    let budget = store.data().current.limits.fuel.unwrap_or(u64::MAX);
    let _ = store.set_fuel(budget);
    store
}

/// A fresh store and instance.
pub(crate) async fn instantiate(
    pre: &InstancePre<RequestState>,
    context: &Arc<ComponentContext>,
) -> Result<Slot, Failure> {
    // A component's cap keeps one slow component (a view awaiting a slow
    // upstream) from taking every instance of the server's pool.
    let permit = match &context.concurrency {
        None => None,
        Some(permits) => Some(permits.clone().try_acquire_owned().map_err(|_| {
            Failure::Busy(wasmtime::Error::msg(format!(
                "{} already has {} instances in use (its `concurrency`)",
                context.label,
                context.limits.concurrency.unwrap_or_default()
            )))
        })?),
    };
    let mut store = new_store(pre.engine(), context.clone());
    let request = store
        .data_mut()
        .table
        .push(RequestResource::default())
        .map_err(|e| Failure::Trap(e.into()))?;
    store.data_mut().meter.begin_call();
    match pre.instantiate_async(&mut store).await {
        Ok(instance) => Ok(Slot {
            store,
            instance,
            request,
            fuel_used: 0,
            served: 0,
            _permit: permit,
            exports: Exports::default(),
        }),
        Err(e) if e.is::<wasmtime::PoolConcurrencyLimitError>() => Err(Failure::Busy(e)),
        Err(trap) => Err(classify(&store, trap)),
    }
}

/// A trap, told apart: an exception the host raised for the guest, a limit
/// we enforced, or any other trap.
pub(crate) fn classify(store: &Store<RequestState>, trap: wasmtime::Error) -> Failure {
    if let Some(raised) = trap.downcast_ref::<crate::error::RaisedByHost>() {
        return Failure::Raised(raised.0.clone());
    }
    match crate::limits::classify(&trap, &store.data().meter.limiter) {
        Some(hit) => Failure::Limit(hit, trap),
        None => Failure::Trap(trap),
    }
}
