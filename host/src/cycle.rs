//! Django's request/response cycle (`django/core/handlers/base.py`) over
//! Wasm components.
//!
//! ```text
//!   request ──► M1.process_request ─► … ─► Mn.process_request ─► resolve URL
//!                                                                   │
//!                                              process_view M1..Mn ◄┘
//!                                                                   │
//!                     view ─► on failure: process_exception Mn..M1  │
//!                                                                   │
//!   a template response: process_template_response Mn..M1, render ◄┘
//!                        (a render failure: process_exception Mn..M1)
//!                                                                   │
//!   response ◄─ M1.process_response ◄─ … ◄─ Mn.process_response ◄───┘
//! ```
//!
//! Every layer is wrapped the way `convert_exception_to_response` wraps it:
//! a failure becomes a response at the layer where it happened, so the
//! layers outside always receive a response and nothing leaks to the client
//! but a clean 4xx/5xx.
//!
//! The paths most requests never take (a failure's response, a template
//! response's half, a fresh instance) are awaited through `Box::pin`, and
//! [`Invocation::run`] borrows the invocation. A future is as large as the
//! largest future it awaits, and each is built and copied as it is
//! awaited: before both, a request's future was 7.6 KiB and a request
//! copied about 16 KiB more.

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::Resource;

mod errors;
mod render;
mod stream;

pub(crate) use stream::Finished;

use crate::bindings::types::{Error, ErrorKind, ViewInfo};
use crate::component::{ContextProcessorComponent, Loaded, MiddlewareComponent, ViewComponent};
use crate::error::{Failure, response_for_failure};
use crate::hooks::Hook;
use crate::instance::{InstancePool, Slot, classify, instantiate};
use crate::metrics::{Layer, Routes, Trace, failure_kind};
use crate::resources::{RequestResource, ResponseResource};
use crate::router::ResolverMatch;
use crate::statics::StaticFiles;
use crate::templates::Templates;
use crate::urlconfs::{self, UrlConfs};

type Resp = ResponseResource;

/// What a request runs through: a pipeline's middleware in request order,
/// its views and its URL resolver.
#[derive(Clone, Copy)]
pub(crate) struct Chain<'p> {
    pub(crate) middleware: &'p [MiddlewareComponent],
    pub(crate) views: &'p HashMap<String, ViewComponent>,
    pub(crate) urlconfs: &'p UrlConfs,
    pub(crate) context_processors: &'p [ContextProcessorComponent],
    pub(crate) templates: &'p Arc<Templates>,
    pub(crate) static_files: &'p StaticFiles,
    /// The whole-request deadline, also each streamed chunk's.
    pub(crate) request_timeout: std::time::Duration,
    /// The routes' metric labels.
    pub(crate) routes: &'p Routes,
    /// Whether each layer is timed, for `Server-Timing` or traces.
    pub(crate) time_layers: bool,
}

/// One request's run through the pipeline.
pub(crate) struct Invocation<'p> {
    pipeline: Chain<'p>,
    request: RequestResource,
    /// One slot per middleware; `None` until a hook of it runs, and again
    /// after it trapped, so a later hook gets another instance.
    slots: Vec<Option<Slot>>,
    /// The view's slot, kept to the end for its accounting, and the pool
    /// it goes back to under `reuse`.
    view_slot: Option<Slot>,
    view_pool: Option<Arc<InstancePool>>,
    /// The view called, once it is (its response may stream).
    view: Option<&'p ViewComponent>,
    /// One slot per context processor, like the middleware's.
    processor_slots: Vec<Option<Slot>>,
    /// The error view's slot and pool, like the view's.
    error_slot: Option<Slot>,
    error_pool: Option<Arc<InstancePool>>,
    /// The route resolved and the layers' times, for the metrics.
    trace: Trace<'p>,
}

impl<'p> Invocation<'p> {
    pub(crate) fn new(pipeline: Chain<'p>, request: RequestResource) -> Self {
        let slots = std::iter::repeat_with(|| None)
            .take(pipeline.middleware.len())
            .collect();
        let processor_slots = std::iter::repeat_with(|| None)
            .take(pipeline.context_processors.len())
            .collect();
        Invocation {
            pipeline,
            request,
            slots,
            view_slot: None,
            view_pool: None,
            view: None,
            processor_slots,
            error_slot: None,
            error_pool: None,
            trace: Trace::new(pipeline.time_layers),
        }
    }

    /// Runs the whole cycle within the request's deadline and returns the
    /// final response, with the rest of its body when it streams; then
    /// [`Invocation::into_trace`] has what the run leaves for the metrics.
    /// Past the deadline the response is a 504, and the instances in use
    /// are never given back (dropped with the invocation).
    ///
    /// A borrow, not `self`: a future keeps an argument it took by value
    /// twice (as it came and where the body moved it), and this one is
    /// over a kilobyte, copied again each time the future moves.
    pub(crate) async fn run(&mut self) -> Finished {
        let deadline = self.pipeline.request_timeout;
        match tokio::time::timeout(deadline, self.cycle()).await {
            Ok(finished) => finished,
            Err(_) => {
                tracing::error!(
                    path = self.request.path,
                    "request ran past its {deadline:?} deadline"
                );
                (crate::error::timeout_response(), None)
            }
        }
    }

    /// The route resolved and the layers' times; the instances not given
    /// back are dropped here.
    pub(crate) fn into_trace(self) -> Trace<'p> {
        self.trace
    }

    /// The cycle, then the instances of `reuse` components given back.
    async fn cycle(&mut self) -> Finished {
        let mut resp = self.middleware_chain().await;
        if resp.template.is_some() {
            // Only a template response from process_view, the view or
            // process_exception is rendered; Django serves any other
            // (from process_request, or process_exception after a render
            // failure) unrendered, and the server fails on it.
            tracing::error!(
                path = self.request.path,
                "a template response reached the client unrendered: \
                 The response content must be rendered before it can be iterated over."
            );
            resp = response_for_failure(ErrorKind::Internal);
        }
        let body = match resp.stream.take().map(|source| self.guest_body(source)) {
            None => None,
            Some(Ok(body)) => Some(body),
            Some(Err(message)) => {
                tracing::error!(path = self.request.path, "{message}");
                resp = response_for_failure(ErrorKind::Internal);
                None
            }
        };
        self.report_fuel();
        self.give_back();
        (resp, body)
    }

    /// Returns the instances of `reuse` components to their pools. Only a
    /// request that ran to its end gets here: one cancelled mid-call drops
    /// its instances with it, and a trapped instance was dropped already.
    fn give_back(&mut self) {
        let pipeline = self.pipeline;
        for (slot, m) in self.slots.iter_mut().zip(pipeline.middleware) {
            back(&m.loaded.pool, slot);
        }
        back(&self.view_pool, &mut self.view_slot);
        back(&self.error_pool, &mut self.error_slot);
        for (slot, p) in self
            .processor_slots
            .iter_mut()
            .zip(pipeline.context_processors)
        {
            back(&p.loaded.pool, slot);
        }
    }

    /// What each component spent, when the engine counts instructions.
    fn report_fuel(&self) {
        for slot in self
            .slots
            .iter()
            .chain(std::iter::once(&self.view_slot))
            .chain(std::iter::once(&self.error_slot))
            .chain(&self.processor_slots)
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
                    let name = &self.pipeline.middleware[k].name;
                    self.trace.short_circuit = Some(Layer::Middleware(name, Hook::ProcessRequest));
                    break;
                }
                Err(failure) => {
                    entered = k;
                    early = Some(
                        Box::pin(self.failure_response(k, Hook::ProcessRequest, &failure)).await,
                    );
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
                Err(failure) => {
                    Box::pin(self.failure_response(k, Hook::ProcessResponse, &failure)).await
                }
            };
        }
        resp
    }

    /// Django's `_get_response`, wrapped like the innermost handler: URL
    /// resolution, `process_view`, the view, `process_exception`, then a
    /// template response's hooks and rendering. Any failure here becomes a
    /// response before the first `process_response`.
    async fn get_response(&mut self) -> Resp {
        let resp = self.view_response().await;
        if resp.template.is_none() {
            return resp;
        }
        Box::pin(self.template_response(resp)).await
    }

    /// Resolution, `process_view`, the view and `process_exception`.
    async fn view_response(&mut self) -> Resp {
        // Django's resolve_request: `request.urlconf`, if a middleware set
        // one, replaces the root URLconf for the rest of the request.
        let pipeline = self.pipeline;
        let chosen = self
            .request
            .attributes
            .iter()
            .find(|(k, _)| k == urlconfs::ATTRIBUTE)
            .map(|(_, v)| v.clone());
        let Some(urlconf) = pipeline.urlconfs.get(chosen.as_deref()) else {
            let message = format!(
                "request.urlconf names no URLconf: {:?}",
                chosen.unwrap_or_default()
            );
            tracing::error!(path = self.request.path, "{message}");
            return Box::pin(self.error_response(ErrorKind::Internal, &message)).await;
        };
        self.request.urlconf = chosen;
        // `[static] serve = "chain"`: the file takes the view's place, as
        // with WhiteNoise (or Django's `static()` URL patterns).
        if pipeline.static_files.in_chain(&self.request.raw_path) {
            return static_response(pipeline.static_files, &self.request).await;
        }
        let Some(matched) = urlconf.router.resolve(&self.request.raw_path) else {
            // Resolver404: no process_view, no process_exception.
            // What page_not_found shows for it: the class name.
            return Box::pin(self.error_response(ErrorKind::NotFound, "Resolver404")).await;
        };
        let info = view_info(&matched);
        self.trace.route = pipeline
            .routes
            .get(matched.route_name.as_deref().unwrap_or(&matched.view));

        // Apply view middleware, top to bottom.
        for k in 0..self.pipeline.middleware.len() {
            match self.process_view(k, &info).await {
                Ok(None) => {}
                Ok(Some(resp)) => {
                    let name = &self.pipeline.middleware[k].name;
                    self.trace.short_circuit = Some(Layer::Middleware(name, Hook::ProcessView));
                    return resp;
                }
                Err(failure) => {
                    return Box::pin(self.failure_response(k, Hook::ProcessView, &failure)).await;
                }
            }
        }

        let failure = match self.call_view(&matched.view, &info).await {
            Ok(resp) => return resp,
            Err(failure) => failure,
        };
        let view_label = format!("view `{}`", matched.view);
        failure.log(&view_label, Hook::View, &self.request.path);
        let error = failure.to_wit(&view_label, Hook::View);
        Box::pin(self.exception_response(&error, failure.kind())).await
    }

    /// `process_exception` bottom to top; the first response wins, and
    /// without one the failure becomes the status response for `kind`.
    async fn exception_response(&mut self, error: &Error, kind: ErrorKind) -> Resp {
        for k in (0..self.pipeline.middleware.len()).rev() {
            match self.process_exception(k, error).await {
                Ok(None) => {}
                Ok(Some(resp)) => return resp,
                Err(failure) => {
                    return Box::pin(self.failure_response(k, Hook::ProcessException, &failure))
                        .await;
                }
            }
        }
        Box::pin(self.error_response(kind, &error.message)).await
    }

    // ===== the hooks =====
    //
    // Each names its typed call; `call` does the rest. A middleware
    // without the hook passes (no instance is created).

    async fn process_request(&mut self, k: usize) -> Result<Option<Resp>, Failure> {
        let pipeline = self.pipeline;
        let Some(indices) = &pipeline.middleware[k].hooks.process_request else {
            return Ok(None);
        };
        self.call(k, Hook::ProcessRequest, async |g, req| {
            let returned = g
                .export(indices)?
                .call_process_request(&mut g.store, req)
                .await?;
            g.take_optional(returned)
        })
        .await
    }

    async fn process_view(&mut self, k: usize, info: &ViewInfo) -> Result<Option<Resp>, Failure> {
        let pipeline = self.pipeline;
        let Some(indices) = &pipeline.middleware[k].hooks.process_view else {
            return Ok(None);
        };
        self.call(k, Hook::ProcessView, async |g, req| {
            let returned = g
                .export(indices)?
                .call_process_view(&mut g.store, req, info)
                .await?;
            g.take_optional(returned)
        })
        .await
    }

    async fn process_exception(
        &mut self,
        k: usize,
        error: &Error,
    ) -> Result<Option<Resp>, Failure> {
        let pipeline = self.pipeline;
        let Some(indices) = &pipeline.middleware[k].hooks.process_exception else {
            return Ok(None);
        };
        self.call(k, Hook::ProcessException, async |g, req| {
            let returned = g
                .export(indices)?
                .call_process_exception(&mut g.store, req, error)
                .await?;
            g.take_optional(returned)
        })
        .await
    }

    async fn process_template_response(&mut self, k: usize, resp: Resp) -> Result<Resp, Failure> {
        let pipeline = self.pipeline;
        let Some(indices) = &pipeline.middleware[k].hooks.process_template_response else {
            return Ok(resp);
        };
        self.call(k, Hook::ProcessTemplateResponse, async |g, req| {
            let resp = g.lend_response(resp)?;
            let returned = g
                .export(indices)?
                .call_process_template_response(&mut g.store, req, resp)
                .await?;
            g.take_response(returned)
        })
        .await
    }

    async fn process_response(&mut self, k: usize, resp: Resp) -> Result<Resp, Failure> {
        let pipeline = self.pipeline;
        let Some(indices) = &pipeline.middleware[k].hooks.process_response else {
            return Ok(resp);
        };
        self.call(k, Hook::ProcessResponse, async |g, req| {
            let resp = g.lend_response(resp)?;
            let returned = g
                .export(indices)?
                .call_process_response(&mut g.store, req, resp)
                .await?;
            g.take_response(returned)
        })
        .await
    }

    async fn call_view(&mut self, name: &str, info: &ViewInfo) -> Result<Resp, Failure> {
        let Some(view) = self.pipeline.views.get(name) else {
            // Pipeline::load checks every route's view; this is a host bug.
            return Err(Failure::Raised(Error {
                kind: ErrorKind::Internal,
                message: format!("no view named {name:?}"),
            }));
        };
        self.view_pool = view.loaded.pool.clone();
        self.view = Some(view);
        let indices = &view.handle;
        let started = self.trace.start();
        let returned = guest_call(
            &mut self.view_slot,
            &view.loaded,
            Hook::View,
            &mut self.request,
            async |g, req| {
                let returned = g
                    .export(indices)?
                    .call_handle(&mut g.store, req, info)
                    .await?;
                g.take_response(returned)
            },
        )
        .await;
        let failed = returned.as_ref().err().map(failure_kind);
        self.trace.layer(started, Layer::View(&view.name), failed);
        let mut resp = returned?;
        // Its own response, so its instance may stream the body.
        if let Some(source) = &mut resp.stream {
            source.from_view = true;
        }
        Ok(resp)
    }

    /// A call of middleware `k`'s `hook`.
    async fn call<T>(
        &mut self,
        k: usize,
        hook: Hook,
        call: impl AsyncFnOnce(&mut Slot, Borrowed) -> wasmtime::Result<Result<T, Error>>,
    ) -> Result<T, Failure> {
        let middleware = &self.pipeline.middleware[k];
        let started = self.trace.start();
        let outcome = guest_call(
            &mut self.slots[k],
            &middleware.loaded,
            hook,
            &mut self.request,
            call,
        )
        .await;
        let failed = outcome.as_ref().err().map(failure_kind);
        self.trace
            .layer(started, Layer::Middleware(&middleware.name, hook), failed);
        outcome
    }
}

/// Gives `slot`'s instance back to `pool`, if the component has one.
fn back(pool: &Option<Arc<InstancePool>>, slot: &mut Option<Slot>) {
    if let (Some(pool), Some(slot)) = (pool, slot.take()) {
        pool.give_back(slot);
    }
}

/// The request as a hook receives it: a borrow of the store's entry.
pub(crate) type Borrowed = Resource<RequestResource>;

/// One call into a guest, whatever the hook: the component's instance for
/// this request (made, or taken from its pool, on first use), the request
/// lent to its store for the call and taken back whether it trapped or
/// not, and the outcome sorted into a value, a raised error or a trap.
/// The call is counted and timed under `hook` in the component's metrics.
pub(crate) async fn guest_call<T>(
    slot: &mut Option<Slot>,
    component: &Loaded,
    hook: Hook,
    request: &mut RequestResource,
    call: impl AsyncFnOnce(&mut Slot, Borrowed) -> wasmtime::Result<Result<T, Error>>,
) -> Result<T, Failure> {
    let timed = component.metrics.as_deref().map(|m| m.start(hook));
    let outcome = call_in(slot, component, request, call).await;
    if let Some(timed) = timed {
        timed.end(outcome.as_ref().err().map(failure_kind));
    }
    outcome
}

/// [`guest_call`] without the timing.
async fn call_in<T>(
    slot: &mut Option<Slot>,
    component: &Loaded,
    request: &mut RequestResource,
    call: impl AsyncFnOnce(&mut Slot, Borrowed) -> wasmtime::Result<Result<T, Error>>,
) -> Result<T, Failure> {
    let guest = enter(slot, component).await?;
    let fuel_before = guest.fuel_used;
    let req = guest.lend(request)?;
    let result = call(guest, req).await;
    *request = guest.reclaim();
    if let Some(metrics) = &component.metrics {
        metrics.fuel(guest.fuel_used - fuel_before);
    }
    settle(slot, result)
}

/// The component's slot for this request: a warm instance from its pool
/// under `reuse`, else a fresh one, made on first use.
async fn enter<'s>(
    slot: &'s mut Option<Slot>,
    component: &Loaded,
) -> Result<&'s mut Slot, Failure> {
    if slot.is_none() {
        let warm = component.pool.as_deref().and_then(InstancePool::take);
        let reused = warm.is_some();
        *slot = match warm {
            Some(warm) => Some(warm),
            None => Some(Box::pin(instantiate(&component.pre, &component.context)).await?),
        };
        if let Some(metrics) = &component.metrics {
            metrics.entered(reused);
        }
    }
    Ok(slot.as_mut().expect("slot was just filled"))
}

/// Splits a call's outcome into the value, a raised error or a trap. A
/// trapped store is dropped so a later hook of the same middleware in this
/// request runs on another instance, new or (under `reuse`) from the pool:
/// the crashed one's state is lost, which is what a crash means.
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

/// What `process-view` and the view are told about a match.
pub(crate) fn view_info(m: &ResolverMatch) -> ViewInfo {
    ViewInfo {
        view_name: m.view.clone(),
        route_name: m.route_name.clone(),
        args: m.args.clone(),
        kwargs: m.kwargs.clone(),
    }
}

/// A static file as a response the middleware can read: held whole.
async fn static_response(files: &StaticFiles, request: &RequestResource) -> Resp {
    use http_body_util::BodyExt;
    let method = http::Method::from_bytes(request.method.as_bytes()).unwrap_or(http::Method::GET);
    let (parts, body) = files
        .respond(&method, &request.raw_path, &request.headers)
        .into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            tracing::error!(path = request.path, "static file could not be read: {e}");
            return ResponseResource::new(500);
        }
    };
    let mut resp = ResponseResource::new(parts.status.as_u16());
    resp.headers = parts.headers;
    resp.body = body;
    resp
}
