//! A loaded pipeline: middleware in order, views, routes, templates. Built once from a
//! config, then shared by every request; `handle` runs one request through
//! it without any socket (Django's test `Client`, tower's `oneshot`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::capability::{Services, kv, outbound, sql, urls};
use crate::component::{ContextProcessorComponent, Loaded, MiddlewareComponent, ViewComponent};
use crate::config::Config;
use crate::cycle::{Chain, Invocation};
use crate::engine::{EngineOptions, Runtime};
use crate::hooks::Hook;
use crate::load_error::LoadError;
use crate::metrics::{Metrics, Routes};
use crate::request_body::RequestBody;
use crate::resources::{RequestResource, ResponseResource};
use crate::router::Router;
use crate::server::Body;
use crate::statics::StaticFiles;
use crate::templates::Templates;
use crate::urlconfs::UrlConfs;

/// `[server] server_timing`'s header (not among `http`'s constants).
const SERVER_TIMING: http::HeaderName = http::HeaderName::from_static("server-timing");

/// The peer of a request, as a request extension (like axum's `ConnectInfo`).
/// Requests without it are treated as coming from 127.0.0.1.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The scheme the client used, as a request extension set by the server
/// from the connection (or a trusted proxy). Requests without it are
/// `http`: the request line's own scheme (`GET https://...`) is never
/// believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// Plain HTTP (the default).
    #[default]
    Http,
    /// HTTPS.
    Https,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Middleware, views and routes, ready to serve.
pub struct Pipeline {
    pub(crate) middleware: Vec<MiddlewareComponent>,
    pub(crate) views: HashMap<String, ViewComponent>,
    pub(crate) router: Router,
    pub(crate) urlconfs: UrlConfs,
    pub(crate) context_processors: Vec<ContextProcessorComponent>,
    pub(crate) templates: Arc<Templates>,
    pub(crate) static_files: Arc<StaticFiles>,
    request_timeout: std::time::Duration,
    /// Shared with every version a `LivePipeline` swaps in after this one.
    metrics: Arc<Metrics>,
    routes: Routes,
    /// `[server] server_timing`: each response gets `Server-Timing`.
    server_timing: bool,
    /// `[server] otlp_endpoint`: each request's spans go there.
    otlp: Option<Arc<crate::metrics::otlp::Exporter>>,
    /// Whether any component may make outbound HTTP requests, which carry
    /// the request's trace headers (else they are not built).
    outbound: bool,
}

impl Pipeline {
    /// Compiles, links and checks every component the config names.
    pub async fn load(config: &Config) -> Result<Pipeline, LoadError> {
        let runtime = Runtime::new(EngineOptions::for_config(config))?;
        Pipeline::load_with(&runtime, config).await
    }

    /// Like [`Pipeline::load`], on an existing runtime (engine and linker).
    pub async fn load_with(runtime: &Runtime, config: &Config) -> Result<Pipeline, LoadError> {
        Pipeline::load_with_metrics(runtime, config, Arc::new(Metrics::new())).await
    }

    /// Like [`Pipeline::load_with`], counting into `metrics` (a reload's,
    /// so counters carry on across the swap).
    pub(crate) async fn load_with_metrics(
        runtime: &Runtime,
        config: &Config,
        metrics: Arc<Metrics>,
    ) -> Result<Pipeline, LoadError> {
        let services = services(config)?;
        let fuel = runtime.options().fuel;
        let mut middleware = Vec::with_capacity(config.middleware.len());
        for spec in &config.middleware {
            let mut loaded = runtime.load_middleware(spec, &services).await?;
            let hooks = loaded.hooks();
            loaded.loaded.observe(&metrics, &spec.name, &hooks, fuel);
            middleware.push(loaded);
        }
        let mut views = HashMap::with_capacity(config.views.len());
        for (name, spec) in &config.views {
            let mut view = runtime.load_view(spec, &services).await?;
            // Not `next-chunk`: most views never stream (though the SDKs
            // export it), and a chunk can afford a label lookup.
            view.loaded.observe(&metrics, name, &[Hook::View], fuel);
            views.insert(name.clone(), view);
        }
        let router = config.router.clone();
        let urlconfs = services.urlconfs.clone();
        for endpoint in urlconfs.routers().flat_map(Router::endpoints) {
            if !views.contains_key(&endpoint.view) {
                return Err(LoadError::UnknownView {
                    route: endpoint.pattern,
                    view: endpoint.view,
                });
            }
        }
        let mut context_processors = Vec::new();
        for spec in &config.templates.context_processors {
            let mut processor = runtime.load_context_processor(spec, &services).await?;
            let hooks = [Hook::ContextProcessor];
            processor.loaded.observe(&metrics, &spec.name, &hooks, fuel);
            context_processors.push(processor);
        }
        let mut filters = Vec::new();
        for spec in &config.templates.filters {
            let mut filter = runtime.load_filters(spec, &services).await?;
            filter
                .loaded
                .observe(&metrics, &spec.name, &[Hook::Filter], fuel);
            filters.push(filter);
        }
        let routes = Routes::new(
            &metrics,
            urlconfs
                .routers()
                .flat_map(Router::endpoints)
                .map(|e| e.name.unwrap_or(e.view)),
        );
        let static_files =
            Arc::new(StaticFiles::load(&config.static_files).map_err(LoadError::Static)?);
        let templates = Arc::new(Templates::load(
            &config.templates,
            &config.static_files.url,
            static_files.manifest().cloned(),
            urlconfs.clone(),
            filters,
        )?);
        Ok(Pipeline {
            middleware,
            views,
            router,
            urlconfs,
            context_processors,
            templates,
            static_files,
            request_timeout: config.limits.request_timeout,
            metrics,
            routes,
            server_timing: config.server.server_timing,
            outbound: config
                .components()
                .any(|c| (crate::capability::outbound::GRANT.granted)(&c.grants)),
            otlp: match &config.server.otlp_endpoint {
                Some(endpoint) => Some(crate::metrics::otlp::Exporter::shared(
                    endpoint,
                    &config.server.otlp_service_name,
                    config.server.otlp_sample_ratio,
                )?),
                None => None,
            },
        })
    }

    /// The middleware, in request order.
    pub fn middleware(&self) -> &[MiddlewareComponent] {
        &self.middleware
    }

    /// The view called `name`.
    pub fn view(&self, name: &str) -> Option<&ViewComponent> {
        self.views.get(name)
    }

    /// A one-line summary of the template side: templates loaded, context
    /// processors, component filters.
    pub fn templates_summary(&self) -> String {
        let filters: Vec<&str> = self.templates.component_filters().collect();
        format!(
            "{} templates, {} context processors, {} component filters{}",
            self.templates.count(),
            self.context_processors.len(),
            filters.len(),
            if filters.is_empty() {
                String::new()
            } else {
                format!(" ({})", filters.join(", "))
            }
        )
    }

    /// The static files, and whether the server or the chain serves them.
    pub fn static_files(&self) -> &StaticFiles {
        &self.static_files
    }

    /// The URL resolver.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The chain for one request; `traced`: its layers are timed for its
    /// spans.
    fn chain(&self, traced: bool) -> Chain<'_> {
        Chain {
            middleware: &self.middleware,
            views: &self.views,
            urlconfs: &self.urlconfs,
            context_processors: &self.context_processors,
            templates: &self.templates,
            static_files: &self.static_files,
            request_timeout: self.request_timeout,
            routes: &self.routes,
            time_layers: self.server_timing || traced,
        }
    }

    /// Runs one request through the whole cycle and returns the response
    /// with its body whole (a streaming one read to its end, or to where
    /// it failed): for callers without a socket (`shallot call`, tests).
    /// Never fails: every failure of a guest has become a 4xx/5xx response
    /// by the time this returns. The body is `Bytes` (held whole) or a
    /// [`RequestBody`] still arriving.
    pub async fn handle(
        &self,
        req: http::Request<impl Into<RequestBody>>,
    ) -> http::Response<Bytes> {
        let (parts, mut body) = self.respond(req).await.into_parts();
        let mut whole = bytes::BytesMut::new();
        while let Some(frame) = http_body_util::BodyExt::frame(&mut body).await {
            match frame {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        whole.extend_from_slice(&data);
                    }
                }
                // Logged where it failed; a client would see the body cut.
                Err(_) => break,
            }
        }
        http::Response::from_parts(parts, whole.freeze())
    }

    /// Runs one request through the whole cycle, as the server does: a
    /// streaming response's body is still to come, produced as it is sent.
    pub async fn respond(
        &self,
        req: http::Request<impl Into<RequestBody>>,
    ) -> http::Response<Body> {
        self.respond_since(req, Instant::now()).await
    }

    /// [`Pipeline::respond`] for a request that arrived at `started` (the
    /// server's clock, which its body's reception is part of).
    pub(crate) async fn respond_since(
        &self,
        req: http::Request<impl Into<RequestBody>>,
        started: Instant,
    ) -> http::Response<Body> {
        let traced = self.otlp.as_ref().map(|otlp| otlp.arrive(&req, started));
        let chain = self.chain(traced.as_ref().is_some_and(|a| a.recorded()));
        let mut request = request_resource(req.map(Into::into));
        if let Some(arrival) = &traced
            && self.outbound
        {
            request.trace_headers = Some(arrival.headers().into());
        }
        let mut invocation = Invocation::new(chain, request);
        let (resp, rest) = invocation.run().await;
        let trace = invocation.into_trace();
        let mut resp = match rest {
            None => into_http(resp).map(Body::full),
            Some(rest) => into_http(resp).map(|_| Body::stream(rest.into_stream())),
        };
        let took = started.elapsed();
        // After the whole chain: no middleware sees it. Layers are also
        // timed for traces, which must not show them to the client.
        if self.server_timing
            && let Some(timing) = trace.server_timing(took)
        {
            resp.headers_mut().append(SERVER_TIMING, timing);
        }
        let route = trace.route.unwrap_or(self.routes.none());
        self.metrics.request(route, resp.status().as_u16(), took);
        if let (Some(otlp), Some(arrival)) = (&self.otlp, traced) {
            let request = crate::metrics::otlp::Request {
                status: resp.status().as_u16(),
                took,
            };
            otlp.record(arrival, &request, route.label(), &trace);
        }
        resp
    }

    /// Sends the spans not yet exported to the collector, waiting for it
    /// (blocking: from async code, call it on a blocking thread). Without
    /// `otlp_endpoint`, nothing to do.
    pub fn flush_traces(&self) {
        if let Some(otlp) = &self.otlp {
            otlp.flush();
        }
    }

    /// Counts an answer the server gave without the chain (a health
    /// check, a static file, a refused body), started at `started`.
    pub(crate) fn count_unrouted(&self, status: http::StatusCode, started: Instant) {
        self.metrics
            .request(self.routes.none(), status.as_u16(), started.elapsed());
    }

    /// Every metric in the OpenMetrics text format (what the admin
    /// listener's `/metrics` serves): the counters are shared by every
    /// version a [`LivePipeline`](crate::LivePipeline) swapped in, the
    /// idle instances are this version's.
    pub fn metrics_text(&self) -> String {
        let loaded = self
            .middleware
            .iter()
            .map(|m| &m.loaded)
            .chain(self.views.values().map(|v| &v.loaded))
            .chain(self.context_processors.iter().map(|c| &c.loaded))
            .chain(self.templates.filter_components().iter().map(|f| &f.loaded));
        self.metrics.encode(loaded.filter_map(Loaded::idle_sample))
    }

    /// The metrics this pipeline counts into.
    pub(crate) fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }
}

/// The configure phase of every capability: what all components share.
fn services(config: &Config) -> Result<Services, LoadError> {
    let granted = config
        .components()
        .flat_map(|c| c.grants.key_value_stores.iter().map(String::as_str));
    let kv = kv::KvStores::configure(
        granted,
        &config.key_value_path,
        config.key_value_quota,
        &config.key_value_redis,
    )
    .map_err(|e| LoadError::KeyValue {
        path: config.key_value_path.clone(),
        source: e.into(),
    })?;
    let granted = config
        .components()
        .flat_map(|c| c.grants.sql_databases.iter().map(|g| g.name.as_str()));
    let sql = sql::configure(&config.databases, granted).map_err(|e| LoadError::Database {
        name: e.name,
        location: e.location,
        source: e.source,
    })?;
    Ok(Services {
        kv,
        sql,
        outbound: outbound::configure(),
        urlconfs: urls::configure(config),
        pool_shares: config.server.workers,
    })
}

fn request_resource(req: http::Request<RequestBody>) -> RequestResource {
    let client = req
        .extensions()
        .get::<ClientAddr>()
        .map_or_else(|| "127.0.0.1".to_owned(), |c| c.0.ip().to_string());
    let scheme = req
        .extensions()
        .get::<Scheme>()
        .copied()
        .unwrap_or_default();
    let (mut parts, body) = req.into_parts();
    // RFC 9112 3.2.2: with an absolute-form request line the server ignores
    // the Host header and uses the line's authority; otherwise a guest
    // checking `Host` and a router reading the line would disagree.
    if let Some(authority) = parts.uri.authority() {
        // Without any `user@` part, which is not part of a Host.
        let host = match authority.port() {
            Some(port) => format!("{}:{port}", authority.host()),
            None => authority.host().to_owned(),
        };
        match http::HeaderValue::from_str(&host) {
            Ok(host) => {
                parts.headers.insert(http::header::HOST, host);
            }
            // A parsed authority is always a valid value; never trust both.
            Err(_) => {
                parts.headers.remove(http::header::HOST);
            }
        }
    }
    let raw_path = parts.uri.path().to_owned();
    RequestResource {
        method: parts.method.as_str().to_owned(),
        path: crate::router::decode_path(&raw_path),
        raw_path,
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts.headers,
        body,
        client_addr: client,
        scheme: scheme.as_str(),
        attributes: Vec::new(),
        urlconf: None,
        trace_headers: None,
    }
}

/// Framing belongs to the HTTP server, not to guests: a guest's framing or
/// hop-by-hop header (PEP 3333 forbids them to WSGI apps too) could
/// desynchronise the connection, so they are dropped and hyper frames the
/// body itself.
fn into_http(resp: ResponseResource) -> http::Response<Bytes> {
    let mut out = http::Response::new(resp.body);
    *out.status_mut() =
        http::StatusCode::from_u16(resp.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = resp.headers;
    for hop_by_hop in [
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "upgrade",
        "te",
        "trailer",
    ] {
        headers.remove(hop_by_hop);
    }
    *out.headers_mut() = headers;
    out
}

/// The table `shallot check` prints: one row per middleware in request
/// order, one column per hook.
pub fn hook_table(pipeline: &Pipeline) -> String {
    use crate::hooks::Hook;
    let cols = Hook::MIDDLEWARE;
    let width = pipeline
        .middleware
        .iter()
        .map(|m| m.name().len())
        .chain(std::iter::once("middleware".len()))
        .max()
        .unwrap_or(0);
    let mut rows = vec![format!(
        "{:<width$}  {}",
        "middleware",
        cols.map(Hook::name).join("  ")
    )];
    for mw in &pipeline.middleware {
        let hooks = mw.hooks();
        let mut row = format!("{:<width$}", mw.name());
        for c in cols {
            let mark = if hooks.contains(&c) { "yes" } else { "-" };
            row.push_str(&format!("  {mark:<w$}", w = c.name().len()));
        }
        rows.push(row.trim_end().to_owned());
    }
    rows.join("\n") + "\n"
}
