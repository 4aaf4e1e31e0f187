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

use wasmtime::Store;
use wasmtime::component::{Instance, Resource};

use crate::bindings::types::{Error, ViewInfo};
use crate::error::{Failure, Hook, response_for_failure, trap_reason};
use crate::pipeline::Pipeline;
use crate::resources::{RequestResource, ResponseResource};
use crate::router::ResolverMatch;
use crate::state::RequestState;

type Resp = Resource<ResponseResource>;

/// One request's run through the pipeline: a single store for every
/// component, and each middleware's instance created on first use.
pub(crate) struct Invocation<'p> {
    pipeline: &'p Pipeline,
    store: Store<RequestState>,
    /// One slot per middleware; `None` until a hook of it runs, and again
    /// after it trapped (a trapped instance cannot be re-entered).
    instances: Vec<Option<Instance>>,
    request: Resource<RequestResource>,
}

impl<'p> Invocation<'p> {
    pub(crate) fn new(pipeline: &'p Pipeline, request: RequestResource) -> wasmtime::Result<Self> {
        let first = pipeline.host_context();
        let mut store = Store::new(pipeline.runtime().engine(), RequestState::new(first));
        let request = store.data_mut().table.push(request)?;
        Ok(Invocation {
            pipeline,
            store,
            instances: vec![None; pipeline.middleware.len()],
            request,
        })
    }

    /// Runs the whole cycle and returns the final response.
    pub(crate) async fn run(mut self) -> ResponseResource {
        let resp = self.middleware_chain().await;
        match self.store.data_mut().table.delete(resp) {
            Ok(resp) => resp,
            // Only a host bug can lose the response; still answer cleanly.
            Err(e) => {
                tracing::error!("response lost from the resource table: {e}");
                response_for_failure(crate::bindings::types::ErrorKind::Internal)
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
            if self.pipeline.middleware[k].hooks.request.is_none() {
                continue;
            }
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
            if self.pipeline.middleware[k].hooks.response.is_none() {
                continue;
            }
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
        let raw_path = self.store.data().table.get(&self.request).map(|r| r.raw_path.clone()).unwrap_or_default();
        let Some(matched) = self.pipeline.router.resolve(&raw_path) else {
            // Resolver404: no process_view, no process_exception.
            return self.push(response_for_failure(crate::bindings::types::ErrorKind::NotFound));
        };
        let info = view_info(&matched);

        // Apply view middleware, top to bottom.
        for k in 0..self.pipeline.middleware.len() {
            if self.pipeline.middleware[k].hooks.view.is_none() {
                continue;
            }
            match self.process_view(k, info.clone()).await {
                Ok(None) => {}
                Ok(Some(resp)) => return resp,
                Err(failure) => return self.failure_response(k, Hook::ProcessView, &failure),
            }
        }

        let failure = match self.call_view(&matched.view, info).await {
            Ok(resp) => return resp,
            Err(failure) => failure,
        };
        let view_label = self.pipeline.views[&matched.view].context.label.clone();
        self.log_failure(&view_label, Hook::View, &failure);
        let error = failure.to_wit(&view_label, Hook::View);

        // Apply exception middleware, bottom to top; the first response wins.
        for k in (0..self.pipeline.middleware.len()).rev() {
            if self.pipeline.middleware[k].hooks.exception.is_none() {
                continue;
            }
            match self.process_exception(k, error.clone()).await {
                Ok(None) => {}
                Ok(Some(resp)) => return resp,
                Err(failure) => return self.failure_response(k, Hook::ProcessException, &failure),
            }
        }
        self.push(response_for_failure(failure.kind()))
    }

    // ===== calls into guests =====

    async fn process_request(&mut self, k: usize) -> Result<Option<Resp>, Failure> {
        let instance = self.enter(k).await?;
        let req = self.borrow_request();
        let hooks = &self.pipeline.middleware[k].hooks;
        let result = match hooks.request.as_ref().map(|i| i.load(&mut self.store, &instance)) {
            Some(Ok(guest)) => guest.call_process_request(&mut self.store, req).await,
            Some(Err(e)) => Err(e),
            None => return Ok(None),
        };
        self.settle(k, result)
    }

    async fn process_view(&mut self, k: usize, info: ViewInfo) -> Result<Option<Resp>, Failure> {
        let instance = self.enter(k).await?;
        let req = self.borrow_request();
        let hooks = &self.pipeline.middleware[k].hooks;
        let result = match hooks.view.as_ref().map(|i| i.load(&mut self.store, &instance)) {
            Some(Ok(guest)) => guest.call_process_view(&mut self.store, req, &info).await,
            Some(Err(e)) => Err(e),
            None => return Ok(None),
        };
        self.settle(k, result)
    }

    async fn process_exception(&mut self, k: usize, error: Error) -> Result<Option<Resp>, Failure> {
        let instance = self.enter(k).await?;
        let req = self.borrow_request();
        let hooks = &self.pipeline.middleware[k].hooks;
        let result = match hooks.exception.as_ref().map(|i| i.load(&mut self.store, &instance)) {
            Some(Ok(guest)) => guest.call_process_exception(&mut self.store, req, &error).await,
            Some(Err(e)) => Err(e),
            None => return Ok(None),
        };
        self.settle(k, result)
    }

    async fn process_response(&mut self, k: usize, resp: Resp) -> Result<Resp, Failure> {
        let instance = self.enter(k).await?;
        let req = self.borrow_request();
        let hooks = &self.pipeline.middleware[k].hooks;
        let result = match hooks.response.as_ref().map(|i| i.load(&mut self.store, &instance)) {
            Some(Ok(guest)) => guest.call_process_response(&mut self.store, req, resp).await,
            Some(Err(e)) => Err(e),
            None => return Ok(resp),
        };
        self.settle(k, result)
    }

    async fn call_view(&mut self, name: &str, info: ViewInfo) -> Result<Resp, Failure> {
        let view = &self.pipeline.views[name];
        self.store.data_mut().current = view.context.clone();
        let instance = view.pre.instantiate_async(&mut self.store).await.map_err(Failure::Trap)?;
        let req = self.borrow_request();
        let result = match view.indices.load(&mut self.store, &instance) {
            Ok(guest) => guest.call_handle(&mut self.store, req, &info).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(error)) => Err(Failure::Raised(error)),
            Err(trap) => Err(Failure::Trap(trap)),
        }
    }

    /// The instance of middleware `k` for this request, created on first use.
    async fn enter(&mut self, k: usize) -> Result<Instance, Failure> {
        let mw = &self.pipeline.middleware[k];
        self.store.data_mut().current = mw.context.clone();
        if let Some(instance) = self.instances[k] {
            return Ok(instance);
        }
        let instance = mw.pre.instantiate_async(&mut self.store).await.map_err(Failure::Trap)?;
        self.instances[k] = Some(instance);
        Ok(instance)
    }

    /// Splits a call's outcome into the value, a raised error or a trap. A
    /// trapped instance is dropped so a later hook of the same middleware in
    /// this request runs on a fresh one (state from before the trap is lost,
    /// which is what a crash means).
    fn settle<T>(&mut self, k: usize, result: wasmtime::Result<Result<T, Error>>) -> Result<T, Failure> {
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(Failure::Raised(error)),
            Err(trap) => {
                self.instances[k] = None;
                Err(Failure::Trap(trap))
            }
        }
    }

    // ===== helpers =====

    fn borrow_request(&self) -> Resource<RequestResource> {
        Resource::new_borrow(self.request.rep())
    }

    fn push(&mut self, resp: ResponseResource) -> Resp {
        self.store
            .data_mut()
            .table
            .push(resp)
            .expect("the resource table has room for a response")
    }

    /// `convert_exception_to_response` for middleware `k`'s `hook`.
    fn failure_response(&mut self, k: usize, hook: Hook, failure: &Failure) -> Resp {
        let label = self.pipeline.middleware[k].context.label.clone();
        self.log_failure(&label, hook, failure);
        self.push(response_for_failure(failure.kind()))
    }

    fn log_failure(&self, label: &str, hook: Hook, failure: &Failure) {
        let path = self.store.data().table.get(&self.request).map(|r| r.path.as_str()).unwrap_or("?");
        match failure {
            Failure::Raised(e) => {
                tracing::warn!(component = label, hook = hook.name(), kind = ?e.kind, path, "raised: {}", e.message)
            }
            Failure::Trap(trap) => {
                tracing::error!(component = label, hook = hook.name(), path, "trapped: {}", trap_reason(trap))
            }
        }
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
