//! `shallot.toml`: strict parsing into validated settings.
//!
//! Every error names the file, the line and column, and the field, e.g.
//! `shallot.toml:7:13: middleware[1].component: no such file: ./x.wasm`.
//! Unknown fields are errors (a typo must never be silently ignored), and
//! component paths are resolved relative to the config file.
//!
//! Loading is two steps: serde reads the file's shape (`schema`), keeping
//! where each value was written, then each section is checked in its own
//! module (`server`, `limits`, `key_value`, `component` with its `grants` and
//! `instance_policy`, `routes`, `urlconfs`, `templates`) while that position is still at hand to
//! point at.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::limits::{GlobalLimits, Limits};
use crate::router::{RouteDef, Router};

mod component;
mod databases;
mod error;
mod grants;
mod instance_policy;
mod key_value;
mod limits;
mod locate;
mod numbers;
mod routes;
mod schema;
mod server;
mod statics;
mod templates;
#[cfg(test)]
mod tests;
mod urlconfs;

pub use crate::capability::{Grants, KvQuota, RedisSpec};
pub use error::ConfigError;
use locate::Source;
use schema::RawConfig;
pub use statics::{StaticConfig, StaticServe};
pub use templates::TemplatesConfig;
pub use urlconfs::{ErrorViews, UrlConf};

/// The validated contents of a `shallot.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the config was read from.
    pub path: PathBuf,
    /// `[server]`
    pub server: ServerConfig,
    /// `[[middleware]]`, in the configured (request) order.
    pub middleware: Vec<ComponentSpec>,
    /// `[views.NAME]`, by name.
    pub views: BTreeMap<String, ComponentSpec>,
    /// `[[routes]]`, in resolution order.
    pub routes: Vec<RouteDef>,
    /// The compiled URL resolver for `routes`.
    pub router: Router,
    /// `[error_views]`: the root URLconf's error views.
    pub error_views: ErrorViews,
    /// `[urlconfs.NAME]`: URLconfs a middleware may pick for a request
    /// (request attribute `urlconf`, Django's `request.urlconf`).
    pub urlconfs: BTreeMap<String, UrlConf>,
    /// `[limits]`: server-wide limits (the per-component defaults are folded
    /// into each [`ComponentSpec`]).
    pub limits: GlobalLimits,
    /// `[key_value] path`: the database file behind `key_value_stores`.
    pub key_value_path: PathBuf,
    /// `[key_value]` size caps.
    pub key_value_quota: KvQuota,
    /// `[key_value.NAME]`: the stores kept on Redis rather than in the file.
    pub key_value_redis: BTreeMap<String, RedisSpec>,
    /// `[databases.NAME]`: the SQL databases behind `sql_databases`.
    pub databases: BTreeMap<String, crate::capability::sql::DatabaseSpec>,
    /// `[templates]`: folders and rendering limits.
    pub templates: TemplatesConfig,
    /// `[static]`: where static files are, their URL, how they are served.
    pub static_files: StaticConfig,
}

/// `[server]`: how the HTTP server listens and what it accepts.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Example: `listen = "127.0.0.1:8000"` (the default).
    pub listen: SocketAddr,
    /// Requests whose header section is larger get 431. Default 16 KiB.
    pub max_header_bytes: usize,
    /// The largest body held in memory whole (`request.body`). A larger one
    /// gets 413, unless `max_stream_bytes` lets it in to be read in chunks.
    /// Default 2.5 MiB, Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`.
    pub max_body_bytes: usize,
    /// The largest body let in to be read as it arrives (`read-body`):
    /// bodies past `max_body_bytes` and up to this are never held whole.
    /// 0 (the default) lets none in.
    pub max_stream_bytes: u64,
    /// How long in-flight requests may take to finish on shutdown. Default 30 s.
    pub shutdown_timeout: Duration,
    /// Example: `compile_cache = ".shallot/cache"` (the default, beside the
    /// config): compiled components, reused across restarts and reloads.
    pub compile_cache: PathBuf,
    /// Example: `admin = "127.0.0.1:9901"`: the status endpoint's listener.
    /// Off unless set; an address that is not loopback needs
    /// `admin_token_env`.
    pub admin: Option<SocketAddr>,
    /// Example: `admin_token_env = "SHALLOT_ADMIN_TOKEN"`: the environment
    /// variable holding the token every admin request must send as
    /// `Authorization: Bearer <token>` (401 without it).
    pub admin_token_env: Option<String>,
    /// Example: `health_path = "/-/health"`: answered on the main listener
    /// before any component, 200 while serving and 503 while draining, for
    /// load balancers. Off unless set.
    pub health_path: Option<String>,
    /// How long a stopping server keeps serving with its health check
    /// answering 503, so load balancers take it out before it stops
    /// accepting. Default 0.
    pub drain: Duration,
    /// Connections the kernel queues before `accept`. Default 1024; the
    /// kernel caps it at `net.core.somaxconn`.
    pub backlog: u32,
    /// How long a client may take to send a request head (and an idle
    /// keep-alive connection may wait for the next one). Default 30 s.
    pub header_read_timeout: Duration,
    /// How long a response write may make no progress (a client that does
    /// not read) before the connection is closed. Default 30 s.
    pub send_timeout: Duration,
    /// Peers whose `X-Forwarded-Proto` and `X-Forwarded-For` are believed.
    /// Empty by default: the scheme and client address come from the
    /// connection alone.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Serving threads, each with its own event loop, connections and
    /// instance pools (thread per core). Default: one per CPU.
    pub workers: usize,
    /// `[server.tls]`: serve HTTPS with these files. Off by default.
    pub tls: Option<TlsFiles>,
    /// HTTP/2 over TLS (ALPN `h2`). Default on; without TLS only with
    /// `h2c`.
    pub http2: bool,
    /// HTTP/2 without TLS (prior knowledge), beside HTTP/1.1 on the same
    /// port. Default off.
    pub h2c: bool,
    /// Streams one HTTP/2 connection may have open at once. Default 100.
    pub max_concurrent_streams: u32,
    /// With TLS: a plain-HTTP listener here answers every request with a
    /// 301 to the same URL over HTTPS.
    pub redirect_http: Option<SocketAddr>,
    /// Example: `server_timing = true`: every response the chain gives
    /// gets a `Server-Timing` header with each layer's time (added after
    /// the chain, so no middleware sees it). Off by default: it tells any
    /// client how long each layer took.
    pub server_timing: bool,
    /// Example: `otlp_endpoint = "http://127.0.0.1:4318/v1/traces"`: a
    /// span per request and per hook call, sent to this OpenTelemetry
    /// collector over OTLP/HTTP (protobuf) in batches. Off by default.
    pub otlp_endpoint: Option<String>,
    /// The traces' `service.name`. Default `shallot`. Refused without
    /// `otlp_endpoint`, as is `otlp_sample_ratio`.
    pub otlp_service_name: String,
    /// Example: `otlp_sample_ratio = 0.1`: the share of requests traced
    /// (by trace id, so every layer of a request goes together), 0.0 to
    /// 1.0. A request that arrives with a W3C `traceparent` follows its
    /// caller's decision instead. Default 1.0: every request.
    pub otlp_sample_ratio: f64,
}

/// `[server.tls]`: the certificate chain and key files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM: the server's certificate first, then its chain.
    pub cert: PathBuf,
    /// PEM: its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// CPUs this process may run on: the default number of serving threads
/// (and so of shares in each instance pool).
pub(crate) fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            max_header_bytes: 16 * 1024,
            max_body_bytes: 2_621_440,
            max_stream_bytes: 0,
            shutdown_timeout: Duration::from_secs(30),
            compile_cache: PathBuf::from(".shallot/cache"),
            admin: None,
            admin_token_env: None,
            health_path: None,
            drain: Duration::ZERO,
            backlog: 1024,
            header_read_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(30),
            trusted_proxies: Vec::new(),
            workers: cpus(),
            tls: None,
            http2: true,
            h2c: false,
            max_concurrent_streams: 100,
            redirect_http: None,
            server_timing: false,
            otlp_endpoint: None,
            otlp_service_name: "shallot".to_owned(),
            otlp_sample_ratio: 1.0,
        }
    }
}

/// One middleware or view: a component file and its own config values.
#[derive(Debug, Clone)]
pub struct ComponentSpec {
    /// The middleware's or view's name.
    pub name: String,
    /// The component file, resolved against the config file's folder.
    pub component: PathBuf,
    /// The `config` table, values as strings (what `shallot:http/config` serves).
    pub config: Vec<(String, String)>,
    /// `file:line` of the entry, for load errors.
    pub location: String,
    /// `[limits]` overridden by the entry's own `limits`.
    pub limits: Limits,
    /// What the component may use beyond computing; nothing by default.
    pub grants: Grants,
    /// Where a request's instance comes from: a fresh one (the default)
    /// or a pool of warm ones.
    pub policy: InstancePolicy,
}

/// `instance_policy`: how long one instance of a component lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InstancePolicy {
    /// A fresh instance for every request that runs one of its hooks,
    /// dropped when the request ends: nothing survives from one request
    /// to the next. The default.
    #[default]
    PerRequest,
    /// Warm instances kept between requests (`instance_policy = "reuse"`).
    Reuse(ReusePolicy),
}

/// `reuse = { ... }`: how a pool of warm instances is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReusePolicy {
    /// Requests one instance serves before it is replaced. Default 1,000.
    pub max_requests: u32,
    /// An instance idle this long is dropped. Default 60 s.
    pub idle_timeout: Duration,
    /// Idle instances kept at most, per serving thread. Default 16.
    pub max_idle: usize,
}

impl Default for ReusePolicy {
    fn default() -> Self {
        ReusePolicy {
            max_requests: 1_000,
            idle_timeout: Duration::from_secs(60),
            max_idle: 16,
        }
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(path, &text)
    }

    /// Validates config text as if read from `path` (relative component
    /// paths resolve against `path`'s folder).
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let mut src = Source::new(path, text);
        let raw: RawConfig = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let databases = databases::databases(&src, base, raw.databases)?;
        src.databases = databases.keys().cloned().collect();
        src.no_read_role = databases
            .iter()
            .filter(|(_, spec)| {
                matches!(
                    spec.location,
                    crate::capability::sql::DatabaseLocation::Postgres { read_url: None, .. }
                )
            })
            .map(|(name, _)| name.clone())
            .collect();
        let server = server::server(&src, base, raw.server)?;
        let (defaults, limits) = limits::limits(&src, raw.limits)?;
        let key_value_quota = key_value::quota(&src, &raw.key_value)?;
        let key_value_path = key_value::path(base, &raw.key_value);
        let key_value_redis = key_value::redis_stores(&src, raw.key_value.stores)?;
        let middleware = component::middleware(&src, base, raw.middleware, &defaults)?;
        let views = component::views(&src, base, raw.views, &defaults)?;
        let (routes, router) = routes::compile(&src, &views, "routes", raw.routes)?;
        let error_views = urlconfs::error_views(&src, &views, "error_views", raw.error_views)?;
        let urlconfs = urlconfs::urlconfs(&src, &views, raw.urlconfs)?;
        let templates = templates::templates(&src, base, raw.templates, &defaults)?;
        let static_files = statics::statics(&src, base, raw.static_files)?;
        Ok(Config {
            path: path.to_owned(),
            server,
            middleware,
            views,
            routes,
            router,
            error_views,
            urlconfs,
            limits,
            key_value_path,
            key_value_quota,
            key_value_redis,
            databases,
            templates,
            static_files,
        })
    }

    /// Every component: the middleware in request order, the views by
    /// name, the context processors and the filter components. What is loaded, compiled, watched and hashed for a config.
    pub fn components(&self) -> impl Iterator<Item = &ComponentSpec> {
        self.middleware
            .iter()
            .chain(self.views.values())
            .chain(&self.templates.context_processors)
            .chain(&self.templates.filters)
    }
}
