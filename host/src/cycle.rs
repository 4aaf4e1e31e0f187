//! Django's request/response cycle (`django/core/handlers/base.py`) over
//! Wasm components.
//!
//! ```text
//!   request ──► M1.process_request ─► … ─► Mn.process_request ─► resolve URL
//!                                                                   │
//!   response ◄─ M1.process_response ◄─ … ◄─ Mn.process_response ◄─ process_view M1..Mn
//!                                                                   │
//!                                               view ─► on failure: process_exception Mn..M1
//! ```
//!
//! Every layer is wrapped the way `convert_exception_to_response` wraps it:
//! a failure becomes a response at the layer where it happened, so the
//! layers outside always receive a response and nothing leaks to the client
//! but a clean 4xx/5xx.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{InstancePre, Resource};

use crate::bindings::types::{Error, ErrorKind, ViewInfo};
use crate::capability::ComponentContext;
use crate::error::{Failure, Hook, response_for_failure, trap_reason};
use crate::instance::{InstancePool, Slot, classify, instantiate, resolved};
use crate::pipeline::Pipeline;
use crate::resources::{RequestResource, ResponseResource};
use crate::router::ResolverMatch;
use crate::state::RequestState;
use crate::untrusted::Untrusted;

type Resp = ResponseResource;

/// One request's run through the pipeline.
pub(crate) struct Invocation<'p> {
    pipeline: &'p Pipeline,
    request: RequestResource,
    /// One slot per middleware; `None` until a hook of it runs, and again
    /// after it trapped, so a later hook gets a fresh instance.
    slots: Vec<Option<Slot>>,
    /// The view's slot, kept to the end for its accounting, and the pool
    /// it goes back to under `reuse`.
    view_slot: Option<Slot>,
    view_pool: Option<Arc<InstancePool>>,
}

impl<'p> Invocation<'p> {
    pub(crate) fn new(pipeline: &'p Pipeline, request: RequestResource) -> Self {
        let slots = std::iter::repeat_with(|| None)
            .take(pipeline.middleware.len())
            .collect();
        Invocation {
            pipeline,
            request,
            slots,
            view_slot: None,
            view_pool: None,
        }
    }

    /// Runs the whole cycle and returns the final response.
    pub(crate) async fn run(mut self) -> ResponseResource {
        let resp = self.middleware_chain().await;
        self.report_fuel();
        self.give_back();
        resp
    }

    /// Returns the instances of `reuse` components to their pools. Only a
    /// request that ran to its end gets here: one cancelled mid-call drops
    /// its instances with it, and a trapped instance was dropped already.
    fn give_back(&mut self) {
        for (k, slot) in self.slots.iter_mut().enumerate() {
            if let (Some(pool), Some(slot)) = (&self.pipeline.middleware[k].pool, slot.take()) {
                pool.give_back(slot);
            }
        }
        if let (Some(pool), Some(slot)) = (&self.view_pool, self.view_slot.take()) {
            pool.give_back(slot);
        }
    }

    /// What each component spent, when the engine counts instructions.
    fn report_fuel(&self) {
        for slot in self
            .slots
            .iter()
            .chain(std::iter::once(&self.view_slot))
            .flatten()
        {
            if slot.store.get_fuel().is_ok() {
                let component = &*slot.store.data().current.label;
                tracing::debug!(
                    component,
                    fuel = slot.fuel_used,
                    path = self.request.path,
                    "instructions spent"
                );
            }
        }
    }

    /// `process_request` top to bottom, the core, `process_response` bottom
    /// to top. `entered` counts the layers whose `process_response` runs:
    /// the one that short-circuited and every one outside it; not one whose
    /// own `process_request` failed.
    async fn middleware_chain(&mut self) -> Resp {
        let n = self.pipeline.middleware.len();
        let mut entered = n;
        let mut early = None;
        for k in 0..n {
            match self.process_request(k).await {
                Ok(None) => {}
                Ok(Some(resp)) => {
                    entered = k + 1;
                    early = Some(resp);
                    break;
                }
                Err(failure) => {
                    entered = k;
                    early = Some(self.failure_response(k, Hook::ProcessRequest, &failure));
                    break;
                }
            }
        }
        let mut resp = match early {
            Some(resp) => resp,
            None => self.get_response().await,
        };
        for k in (0..entered).rev() {
            resp = match self.process_response(k, resp).await {
                Ok(resp) => resp,
                Err(failure) => self.failure_response(k, Hook::ProcessResponse, &failure),
            };
        }
        resp
    }

    /// Django's `_get_response`, wrapped like the innermost handler: URL
    /// resolution, `process_view`, the view, `process_exception`. Any
    /// failure here becomes a response before the first `process_response`.
    async fn get_response(&mut self) -> Resp {
        let Some(matched) = self.pipeline.router.resolve(&self.request.raw_path) else {
            // Resolver404: no process_view, no process_exception.
            return response_for_failure(ErrorKind::NotFound);
        };
        let info = view_info(&matched);

        // Apply view middleware, top to bottom.
        for k in 0..self.pipeline.middleware.len() {
            match self.process_view(k, &info).await {
                Ok(None) => {}
                Ok(Some(resp)) => return resp,
                Err(failure) => return self.failure_response(k, Hook::ProcessView, &failure),
            }
        }

        let failure = match self.call_view(&matched.view, &info).await {
            Ok(resp) => return resp,
            Err(failure) => failure,
        };
        let view_label = format!("view `{}`", matched.view);
        self.log_failure(&view_label, Hook::View, &failure);
        let error = failure.to_wit(&view_label, Hook::View);

        // Apply exception middleware, bottom to top; the first response wins.
        for k in (0..self.pipeline.middleware.len()).rev() {
            match self.process_exception(k, &error).await {
                Ok(None) => {}
                Ok(Some(resp)) => return resp,
                Err(failure) => return self.failure_response(k, Hook::ProcessException, &failure),
            }
        }
        response_for_failure(failure.kind())
    }

    // ===== calls into guests =====
    //
    // A middleware without the hook passes (no instance is created). Each
    // call lends the request (and a response, for process_response) to
    // the component's store, calls, and takes them back, trap or not.

    async fn process_request(&mut self, k: usize) -> Result<Option<Resp>, Failure> {
        let mw = &self.pipeline.middleware[k];
        let Some(indices) = &mw.hooks.request else {
            return Ok(None);
        };
        let slot = enter(&mut self.slots[k], &mw.pre, &mw.context, mw.pool.as_deref()).await?;
        let req = lend(slot, &mut self.request)?;
        let result = match resolved(&mut slot.exports.request, || {
            indices.load(&mut slot.store, &slot.instance)
        }) {
            Ok(guest) => {
                guest
                    .call_process_request(&mut slot.store, borrow(&req))
                    .await
            }
            Err(e) => Err(e),
        };
        self.request = reclaim(slot, req);
        let result = result.and_then(|r| take_optional(&mut slot.store, r));
        settle(&mut self.slots[k], result)
    }

    async fn process_view(&mut self, k: usize, info: &ViewInfo) -> Result<Option<Resp>, Failure> {
        let mw = &self.pipeline.middleware[k];
        let Some(indices) = &mw.hooks.view else {
            return Ok(None);
        };
        let slot = enter(&mut self.slots[k], &mw.pre, &mw.context, mw.pool.as_deref()).await?;
        let req = lend(slot, &mut self.request)?;
        let result = match resolved(&mut slot.exports.view, || {
            indices.load(&mut slot.store, &slot.instance)
        }) {
            Ok(guest) => {
                guest
                    .call_process_view(&mut slot.store, borrow(&req), info)
                    .await
            }
            Err(e) => Err(e),
        };
        self.request = reclaim(slot, req);
        let result = result.and_then(|r| take_optional(&mut slot.store, r));
        settle(&mut self.slots[k], result)
    }

    async fn process_exception(
        &mut self,
        k: usize,
        error: &Error,
    ) -> Result<Option<Resp>, Failure> {
        let mw = &self.pipeline.middleware[k];
        let Some(indices) = &mw.hooks.exception else {
            return Ok(None);
        };
        let slot = enter(&mut self.slots[k], &mw.pre, &mw.context, mw.pool.as_deref()).await?;
        let req = lend(slot, &mut self.request)?;
        let result = match resolved(&mut slot.exports.exception, || {
            indices.load(&mut slot.store, &slot.instance)
        }) {
            Ok(guest) => {
                guest
                    .call_process_exception(&mut slot.store, borrow(&req), error)
                    .await
            }
            Err(e) => Err(e),
        };
        self.request = reclaim(slot, req);
        let result = result.and_then(|r| take_optional(&mut slot.store, r));
        settle(&mut self.slots[k], result)
    }

    async fn process_response(&mut self, k: usize, resp: Resp) -> Result<Resp, Failure> {
        let mw = &self.pipeline.middleware[k];
        let Some(indices) = &mw.hooks.response else {
            return Ok(resp);
        };
        let slot = enter(&mut self.slots[k], &mw.pre, &mw.context, mw.pool.as_deref()).await?;
        let req = lend(slot, &mut self.request)?;
        let result = match (
            resolved(&mut slot.exports.response, || {
                indices.load(&mut slot.store, &slot.instance)
            }),
            slot.store
                .data_mut()
                .table
                .push(resp)
                .map_err(wasmtime::Error::from),
        ) {
            (Ok(guest), Ok(resp)) => {
                guest
                    .call_process_response(&mut slot.store, borrow(&req), resp)
                    .await
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        self.request = reclaim(slot, req);
        let result = result.and_then(|r| take_one(&mut slot.store, r));
        settle(&mut self.slots[k], result)
    }

    async fn call_view(&mut self, name: &str, info: &ViewInfo) -> Result<Resp, Failure> {
        let Some(view) = self.pipeline.views.get(name) else {
            // Pipeline::load checks every route's view; this is a host bug.
            return Err(Failure::Raised(Error {
                kind: ErrorKind::Internal,
                message: format!("no view named {name:?}"),
            }));
        };
        self.view_pool = view.pool.clone();
        let slot = enter(
            &mut self.view_slot,
            &view.pre,
            &view.context,
            view.pool.as_deref(),
        )
        .await?;
        let req = lend(slot, &mut self.request)?;
        let result = match resolved(&mut slot.exports.handle, || {
            view.indices.load(&mut slot.store, &slot.instance)
        }) {
            Ok(guest) => guest.call_handle(&mut slot.store, borrow(&req), info).await,
            Err(e) => Err(e),
        };
        self.request = reclaim(slot, req);
        let result = result.and_then(|r| take_one(&mut slot.store, r));
        settle(&mut self.view_slot, result)
    }

    // ===== helpers =====

    /// `convert_exception_to_response` for middleware `k`'s `hook`.
    fn failure_response(&self, k: usize, hook: Hook, failure: &Failure) -> Resp {
        let label = &self.pipeline.middleware[k].context.label;
        self.log_failure(label, hook, failure);
        response_for_failure(failure.kind())
    }

    fn log_failure(&self, label: &str, hook: Hook, failure: &Failure) {
        let path = self.request.path.as_str();
        match failure {
            // Like django.request: 5xx at error level, 4xx at warning.
            Failure::Raised(e) if crate::error::status_for(e.kind) >= 500 => {
                tracing::error!(component = label, hook = hook.name(), kind = ?e.kind, path, "raised: {}", Untrusted(&e.message))
            }
            Failure::Raised(e) => {
                tracing::warn!(component = label, hook = hook.name(), kind = ?e.kind, path, "raised: {}", Untrusted(&e.message))
            }
            Failure::Trap(trap) => {
                tracing::error!(
                    component = label,
                    hook = hook.name(),
                    path,
                    "trapped: {}",
                    Untrusted(&trap_reason(trap))
                )
            }
            Failure::Busy(e) => {
                tracing::warn!(
                    component = label,
                    hook = hook.name(),
                    path,
                    "unavailable: {}",
                    Untrusted(&e.to_string())
                )
            }
            Failure::Limit(hit, trap) => {
                tracing::error!(
                    component = label,
                    hook = hook.name(),
                    limit = %hit,
                    path,
                    "hit its {hit}: {}",
                    Untrusted(&trap_reason(trap))
                )
            }
        }
    }
}

/// The component's slot for this request: a warm instance from its pool
/// under `reuse`, else a fresh one, made on first use.
async fn enter<'s>(
    slot: &'s mut Option<Slot>,
    pre: &InstancePre<RequestState>,
    context: &Arc<ComponentContext>,
    pool: Option<&InstancePool>,
) -> Result<&'s mut Slot, Failure> {
    if slot.is_none() {
        *slot = match pool.and_then(InstancePool::take) {
            Some(warm) => Some(warm),
            None => Some(instantiate(pre, context).await?),
        };
    }
    Ok(slot.as_mut().expect("slot was just filled"))
}

/// Splits a call's outcome into the value, a raised error or a trap. A
/// trapped store is dropped so a later hook of the same middleware in this
/// request runs on a fresh instance (its state is lost: that is what a crash
/// means).
fn settle<T>(
    slot: &mut Option<Slot>,
    result: wasmtime::Result<Result<T, Error>>,
) -> Result<T, Failure> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(Failure::Raised(error)),
        Err(trap) => {
            let failure = match slot {
                Some(s) => classify(&s.store, trap),
                None => Failure::Trap(trap),
            };
            *slot = None;
            Err(failure)
        }
    }
}

/// The request, lent to a slot's store for one call.
struct Lent(u32);

/// Swaps the request into the slot's table entry. The entry was made when
/// the table was empty and guests can only borrow it, so this cannot fail
/// for lack of room, and the request is never lost.
fn lend(slot: &mut Slot, request: &mut RequestResource) -> Result<Lent, Failure> {
    slot.store.data_mut().begin_call();
    slot.store.set_epoch_deadline(1);
    // Errs only when the engine counts no fuel: then there is nothing to set.
    let _ = slot.store.set_fuel(fuel_budget(slot));
    let entry = slot
        .store
        .data_mut()
        .table
        .get_mut(&slot.request)
        .map_err(|e| Failure::Trap(e.into()))?;
    std::mem::swap(entry, request);
    Ok(Lent(slot.request.rep()))
}

fn borrow(lent: &Lent) -> Resource<RequestResource> {
    Resource::new_borrow(lent.0)
}

/// A call's fuel: its budget, or everything when only counting.
fn fuel_budget(slot: &Slot) -> u64 {
    slot.store.data().current.limits.fuel.unwrap_or(u64::MAX)
}

/// Swaps the request back out after the call, trap or not.
fn reclaim(slot: &mut Slot, _lent: Lent) -> RequestResource {
    if let Ok(left) = slot.store.get_fuel() {
        slot.fuel_used += fuel_budget(slot) - left;
    }
    match slot.store.data_mut().table.get_mut(&slot.request) {
        Ok(entry) => std::mem::take(entry),
        Err(e) => {
            tracing::error!("request lost from a component's table: {e}");
            RequestResource::default()
        }
    }
}

/// The response a guest returned, moved out of its store as a host value.
fn take_one(
    store: &mut Store<RequestState>,
    returned: Result<Resource<ResponseResource>, Error>,
) -> wasmtime::Result<Result<Resp, Error>> {
    match returned {
        Ok(handle) => Ok(Ok(store.data_mut().table.delete(handle)?)),
        Err(e) => Ok(Err(e)),
    }
}

/// [`take_one`] for the hooks that may answer or pass.
fn take_optional(
    store: &mut Store<RequestState>,
    returned: Result<Option<Resource<ResponseResource>>, Error>,
) -> wasmtime::Result<Result<Option<Resp>, Error>> {
    match returned {
        Ok(Some(handle)) => Ok(take_one(store, Ok(handle))?.map(Some)),
        Ok(None) => Ok(Ok(None)),
        Err(e) => Ok(Err(e)),
    }
}

fn view_info(m: &ResolverMatch) -> ViewInfo {
    ViewInfo {
        view_name: m.view.clone(),
        route_name: m.route_name.clone(),
        args: m.args.clone(),
        kwargs: m.kwargs.clone(),
    }
}
