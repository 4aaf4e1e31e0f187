//! `shallot.toml`: strict parsing into validated settings.
//!
//! Every error names the file, the line and column, and the field, e.g.
//! `shallot.toml:7:13: middleware[1].component: no such file: ./x.wasm`.
//! Unknown fields are errors (a typo must never be silently ignored), and
//! component paths are resolved relative to the config file.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::limits::{GlobalLimits, Limits};
use crate::router::{Pattern, RouteDef, Router, Target};

mod error;
mod locate;
mod numbers;
#[cfg(test)]
mod tests;

pub use error::ConfigError;
use locate::Source;
use numbers::{Number, to_usize};

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
    /// `[limits]`: server-wide limits (the per-component defaults are folded
    /// into each [`ComponentSpec`]).
    pub limits: GlobalLimits,
    /// `[key_value] path`: the database file behind `key_value_stores`.
    pub key_value_path: PathBuf,
    /// `[key_value]` size caps.
    pub key_value_quota: KvQuota,
}

/// `[key_value]` caps: what one guest can make the host store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvQuota {
    /// The largest value one `set` may store. Default 1 MiB.
    pub max_value_bytes: u64,
    /// Bytes (keys plus values) one named store may hold. Default 64 MiB.
    pub store_bytes: u64,
}

impl Default for KvQuota {
    fn default() -> Self {
        KvQuota {
            max_value_bytes: 1 << 20,
            store_bytes: 64 << 20,
        }
    }
}

/// `[server]`: how the HTTP server listens and what it accepts.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Example: `listen = "127.0.0.1:8000"` (the default).
    pub listen: SocketAddr,
    /// Requests whose header section is larger get 431. Default 16 KiB.
    pub max_header_bytes: usize,
    /// Requests whose body is larger get 413. Default 2.5 MiB, Django's
    /// `DATA_UPLOAD_MAX_MEMORY_SIZE`.
    pub max_body_bytes: usize,
    /// How long in-flight requests may take to finish on shutdown. Default 30 s.
    pub shutdown_timeout: Duration,
    /// Example: `compile_cache = ".shallot/cache"` (the default, beside the
    /// config): compiled components, reused across restarts and reloads.
    pub compile_cache: PathBuf,
    /// Example: `admin = "127.0.0.1:9901"`: the status endpoint's listener.
    /// Off unless set; keep it on loopback.
    pub admin: Option<SocketAddr>,
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
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            max_header_bytes: 16 * 1024,
            max_body_bytes: 2_621_440,
            shutdown_timeout: Duration::from_secs(30),
            compile_cache: PathBuf::from(".shallot/cache"),
            admin: None,
            backlog: 1024,
            header_read_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(30),
            trusted_proxies: Vec::new(),
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
    /// Idle instances kept at most. Default 16.
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

/// Capabilities granted to one component. Everything is denied unless
/// listed here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// `env = ["API_KEY"]`: host environment variables the component sees.
    pub env: Vec<String>,
    /// `dirs = { "/static" = "assets" }`: read-only directories, guest path
    /// to host directory (resolved against the config file).
    pub dirs: Vec<(String, PathBuf)>,
    /// `allowed_outbound_hosts = ["https://api.example.com"]`.
    pub allowed_outbound_hosts: Vec<String>,
    /// `key_value_stores = ["sessions"]`: the named stores it may open.
    pub key_value_stores: Vec<String>,
}

// ===== raw schema =====

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    key_value: RawKeyValue,
    #[serde(default)]
    middleware: Vec<Spanned<RawComponent>>,
    #[serde(default)]
    views: BTreeMap<Spanned<String>, Spanned<RawComponent>>,
    #[serde(default)]
    routes: Vec<Spanned<RawRoute>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    max_header_bytes: Option<Number>,
    max_body_bytes: Option<Number>,
    shutdown_timeout_secs: Option<Number>,
    compile_cache: Option<String>,
    admin: Option<Spanned<String>>,
    backlog: Option<Number>,
    header_read_timeout_secs: Option<Number>,
    send_timeout_secs: Option<Number>,
    #[serde(default)]
    trusted_proxies: Vec<Spanned<String>>,
}

/// A `[[middleware]]` entry or a `[views.NAME]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    /// Middleware only; a view is named by its table key.
    name: Option<Spanned<String>>,
    component: Spanned<String>,
    #[serde(default)]
    config: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    limits: Option<Spanned<RawLimits>>,
    #[serde(default)]
    env: Vec<Spanned<String>>,
    #[serde(default)]
    dirs: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    key_value_stores: Vec<Spanned<String>>,
    instance_policy: Option<Spanned<String>>,
    reuse: Option<Spanned<RawReuse>>,
}

/// A component's `reuse = { ... }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReuse {
    max_requests: Option<Number>,
    idle_timeout_secs: Option<Number>,
    max_idle: Option<Number>,
}

/// `[limits]`, and a component's own `limits` (the server-wide fields only
/// in `[limits]`).
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    memory_mib: Option<Number>,
    cpu_ms: Option<Number>,
    fuel: Option<Number>,
    instances: Option<Number>,
    tables: Option<Number>,
    table_elements: Option<Number>,
    memories: Option<Number>,
    output_kib: Option<Number>,
    concurrency: Option<Number>,
    max_stack_kib: Option<Number>,
    request_timeout_ms: Option<Number>,
    concurrent_instances: Option<Number>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawKeyValue {
    path: Option<String>,
    max_value_kib: Option<Number>,
    store_quota_mib: Option<Number>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    path: Option<Spanned<String>>,
    regex: Option<Spanned<String>>,
    view: Option<Spanned<String>>,
    name: Option<String>,
    namespace: Option<String>,
    include: Option<Vec<Spanned<RawRoute>>>,
}

// ===== loading =====

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
        let src = Source::new(path, text);
        let raw: RawConfig = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut server = server(&src, raw.server)?;
        server.compile_cache = base.join(&server.compile_cache);

        let (defaults, limits) = limits(&src, raw.limits)?;
        let key_value_quota = kv_quota(&src, &raw.key_value)?;

        let mut middleware: Vec<ComponentSpec> = Vec::with_capacity(raw.middleware.len());
        for (i, mw) in raw.middleware.into_iter().enumerate() {
            let field = format!("middleware[{i}]");
            let span = mw.span();
            let mut mw = mw.into_inner();
            let Some(name) = mw.name.take() else {
                return Err(src.error(span, &field, "a middleware needs a `name`".to_owned()));
            };
            check_name(&src, &format!("{field}.name"), &name)?;
            if let Some(prev) = middleware.iter().position(|m| m.name == *name.get_ref()) {
                return Err(src.error(
                    name.span(),
                    &format!("{field}.name"),
                    format!(
                        "duplicate middleware name {:?} (also middleware[{prev}])",
                        name.get_ref()
                    ),
                ));
            }
            let spec = component_spec(&src, base, &field, name.into_inner(), span, mw, &defaults)?;
            middleware.push(spec);
        }

        let mut views = BTreeMap::new();
        for (name, view) in raw.views {
            let field = format!("views.{}", name.get_ref());
            check_name(&src, &field, &name)?;
            let span = view.span();
            let view = view.into_inner();
            if let Some(n) = &view.name {
                return Err(src.error(
                    n.span(),
                    &format!("{field}.name"),
                    "a view is named by its table key; remove `name`".to_owned(),
                ));
            }
            let spec = component_spec(
                &src,
                base,
                &field,
                name.get_ref().clone(),
                span,
                view,
                &defaults,
            )?;
            views.insert(name.into_inner(), spec);
        }

        let mut spans = Vec::new();
        let routes = routes(&src, &views, &mut spans, "routes", raw.routes)?;
        let router = Router::new(routes.clone()).map_err(|e| {
            let (field, span) = spans
                .iter()
                .find(|(field, _)| {
                    field.strip_suffix(".path").or(field.strip_suffix(".regex")) == Some(e.at())
                })
                .cloned()
                .unwrap_or_else(|| (e.at().to_owned(), 0..0));
            src.error(span, &field, e.detail())
        })?;
        Ok(Config {
            path: path.to_owned(),
            server,
            middleware,
            views,
            routes,
            router,
            limits,
            key_value_path: base.join(raw.key_value.path.as_deref().unwrap_or(DEFAULT_KV_PATH)),
            key_value_quota,
        })
    }
}

/// `[key_value] max_value_kib` and `store_quota_mib`.
fn kv_quota(src: &Source<'_>, raw: &RawKeyValue) -> Result<KvQuota, ConfigError> {
    let mut quota = KvQuota::default();
    if let Some(kib) = src.bounded_opt(
        raw.max_value_kib.as_ref(),
        "key_value.max_value_kib",
        1,
        1 << 20,
    )? {
        quota.max_value_bytes = kib << 10;
    }
    if let Some(mib) = src.bounded_opt(
        raw.store_quota_mib.as_ref(),
        "key_value.store_quota_mib",
        1,
        1 << 20,
    )? {
        quota.store_bytes = mib << 20;
    }
    Ok(quota)
}

/// Where key-value data lives unless `[key_value] path` says otherwise.
const DEFAULT_KV_PATH: &str = ".shallot/kv.redb";

fn component_spec(
    src: &Source<'_>,
    base: &Path,
    field: &str,
    name: String,
    span: Span,
    raw: RawComponent,
    defaults: &Limits,
) -> Result<ComponentSpec, ConfigError> {
    let limits = match raw.limits {
        None => defaults.clone(),
        Some(own) => {
            let own_span = own.span();
            let own = own.into_inner();
            if own.max_stack_kib.is_some()
                || own.request_timeout_ms.is_some()
                || own.concurrent_instances.is_some()
            {
                return Err(src.error(
                    own_span,
                    &format!("{field}.limits"),
                    "max_stack_kib, request_timeout_ms and concurrent_instances apply to the whole server: set them in [limits]".to_owned(),
                ));
            }
            overlay(src, &format!("{field}.limits"), defaults, &own)?
        }
    };
    let mut grants = Grants::default();
    for var in raw.env {
        grants.env.push(var.into_inner());
    }
    for (guest, host) in raw.dirs {
        let dir = base.join(host.get_ref());
        if !guest.starts_with('/') {
            return Err(src.error(
                host.span(),
                &format!("{field}.dirs"),
                format!("guest path {guest:?} must be absolute, like \"/static\""),
            ));
        }
        if !dir.is_dir() {
            return Err(src.error(
                host.span(),
                &format!("{field}.dirs.{guest}"),
                format!("directory not found: {}", dir.display()),
            ));
        }
        grants.dirs.push((guest, dir));
    }
    for (i, pattern) in raw.allowed_outbound_hosts.into_iter().enumerate() {
        crate::capability::check_host_pattern(pattern.get_ref()).map_err(|reason| {
            src.error(
                pattern.span(),
                &format!("{field}.allowed_outbound_hosts[{i}]"),
                reason,
            )
        })?;
        grants.allowed_outbound_hosts.push(pattern.into_inner());
    }
    for store in raw.key_value_stores {
        grants.key_value_stores.push(store.into_inner());
    }
    let policy = instance_policy(src, field, raw.instance_policy, raw.reuse)?;
    Ok(ComponentSpec {
        name,
        component: component_path(src, base, &format!("{field}.component"), &raw.component)?,
        config: config_values(src, &format!("{field}.config"), raw.config)?,
        location: src.location(span),
        limits,
        grants,
        policy,
    })
}

fn instance_policy(
    src: &Source<'_>,
    field: &str,
    policy: Option<Spanned<String>>,
    reuse: Option<Spanned<RawReuse>>,
) -> Result<InstancePolicy, ConfigError> {
    let reusing = match &policy {
        None => false,
        Some(p) => match p.get_ref().as_str() {
            "per-request" => false,
            "reuse" => true,
            other => {
                return Err(src.error(
                    p.span(),
                    &format!("{field}.instance_policy"),
                    format!("unknown policy {other:?}: expected \"per-request\" or \"reuse\""),
                ));
            }
        },
    };
    let Some(reuse) = reuse else {
        return Ok(if reusing {
            InstancePolicy::Reuse(ReusePolicy::default())
        } else {
            InstancePolicy::PerRequest
        });
    };
    if !reusing {
        return Err(src.error(
            reuse.span(),
            &format!("{field}.reuse"),
            "only applies with instance_policy = \"reuse\"".to_owned(),
        ));
    }
    let raw = reuse.into_inner();
    let mut out = ReusePolicy::default();
    let field = format!("{field}.reuse");
    if let Some(n) = &raw.max_requests {
        let n = src.bounded(n, &format!("{field}.max_requests"), 1, u32::MAX.into())?;
        out.max_requests = u32::try_from(n).expect("bounded to u32");
    }
    if let Some(secs) = &raw.idle_timeout_secs {
        let secs = src.bounded(secs, &format!("{field}.idle_timeout_secs"), 0, DAY_SECS)?;
        out.idle_timeout = Duration::from_secs(secs);
    }
    if let Some(n) = &raw.max_idle {
        out.max_idle = to_usize(src.bounded(n, &format!("{field}.max_idle"), 0, 100_000)?);
    }
    Ok(InstancePolicy::Reuse(out))
}

/// A day, the upper bound of every timeout: longer is surely a typo.
const DAY_SECS: u64 = 24 * 60 * 60;

/// `[limits]`: the per-component defaults and the server-wide limits.
fn limits(src: &Source<'_>, raw: RawLimits) -> Result<(Limits, GlobalLimits), ConfigError> {
    let mut global = GlobalLimits::default();
    let f = |name: &str| format!("limits.{name}");
    if let Some(kib) = src.bounded_opt(
        raw.max_stack_kib.as_ref(),
        &f("max_stack_kib"),
        64,
        64 << 10,
    )? {
        global.max_stack_bytes = to_usize(kib << 10);
    }
    // Each instance reserves address space in the pooling allocator (a 4
    // GiB memory slot plus guards): 10,000 of them is most of what x86-64
    // user space can map.
    if let Some(n) = src.bounded_opt(
        raw.concurrent_instances.as_ref(),
        &f("concurrent_instances"),
        1,
        10_000,
    )? {
        global.concurrent_instances = u32::try_from(n).expect("bounded");
    }
    if let Some(ms) = src.bounded_opt(
        raw.request_timeout_ms.as_ref(),
        &f("request_timeout_ms"),
        1,
        DAY_SECS * 1000,
    )? {
        global.request_timeout = Duration::from_millis(ms);
    }
    Ok((overlay(src, "limits", &Limits::default(), &raw)?, global))
}

/// `base` with the settings `raw` makes, each checked against its range.
fn overlay(
    src: &Source<'_>,
    field: &str,
    base: &Limits,
    raw: &RawLimits,
) -> Result<Limits, ConfigError> {
    let num = |value: &Option<Number>, name: &str, min: u64, max: u64| {
        src.bounded_opt(value.as_ref(), &format!("{field}.{name}"), min, max)
    };
    // A 32-bit Wasm memory addresses at most 4 GiB.
    let memory_mib = num(&raw.memory_mib, "memory_mib", 1, 4096)?;
    let cpu_ms = num(&raw.cpu_ms, "cpu_ms", 1, DAY_SECS * 1000)?;
    let fuel = num(&raw.fuel, "fuel", 1, u64::MAX)?;
    let instances = num(&raw.instances, "instances", 1, 10_000)?;
    let tables = num(&raw.tables, "tables", 1, 10_000)?;
    let table_elements = num(&raw.table_elements, "table_elements", 1, 10_000_000)?;
    let memories = num(&raw.memories, "memories", 1, 10_000)?;
    let output_kib = num(&raw.output_kib, "output_kib", 0, 1 << 20)?;
    let concurrency = num(&raw.concurrency, "concurrency", 1, 10_000)?;
    Ok(Limits {
        memory_bytes: memory_mib.map_or(base.memory_bytes, |m| to_usize(m << 20)),
        cpu_time: cpu_ms.map_or(base.cpu_time, Duration::from_millis),
        fuel: fuel.or(base.fuel),
        instances: instances.map_or(base.instances, to_usize),
        tables: tables.map_or(base.tables, to_usize),
        table_elements: table_elements.map_or(base.table_elements, to_usize),
        memories: memories.map_or(base.memories, to_usize),
        output_bytes: output_kib.map_or(base.output_bytes, |k| to_usize(k << 10)),
        concurrency: concurrency.map(to_usize).or(base.concurrency),
    })
}

fn server(src: &Source<'_>, raw: RawServer) -> Result<ServerConfig, ConfigError> {
    let mut server = ServerConfig::default();
    if let Some(listen) = raw.listen {
        server.listen = listen.get_ref().parse().map_err(|_| {
            src.error(
                listen.span(),
                "server.listen",
                format!(
                    "invalid address {:?}: expected IP:PORT, e.g. \"127.0.0.1:8000\"",
                    listen.get_ref()
                ),
            )
        })?;
    }
    let num = |value: &Option<Number>, name: &str, min: u64, max: u64| {
        src.bounded_opt(value.as_ref(), &format!("server.{name}"), min, max)
    };
    if let Some(n) = num(&raw.max_header_bytes, "max_header_bytes", 1024, 1 << 20)? {
        server.max_header_bytes = to_usize(n);
    }
    // Bodies are held in memory whole: a gigabyte is already generous.
    if let Some(n) = num(&raw.max_body_bytes, "max_body_bytes", 0, 1 << 30)? {
        server.max_body_bytes = to_usize(n);
    }
    if let Some(secs) = num(
        &raw.shutdown_timeout_secs,
        "shutdown_timeout_secs",
        0,
        DAY_SECS,
    )? {
        server.shutdown_timeout = Duration::from_secs(secs);
    }
    if let Some(n) = num(&raw.backlog, "backlog", 1, 65_535)? {
        server.backlog = u32::try_from(n).expect("bounded");
    }
    if let Some(secs) = num(
        &raw.header_read_timeout_secs,
        "header_read_timeout_secs",
        1,
        DAY_SECS,
    )? {
        server.header_read_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = num(&raw.send_timeout_secs, "send_timeout_secs", 1, DAY_SECS)? {
        server.send_timeout = Duration::from_secs(secs);
    }
    for (i, proxy) in raw.trusted_proxies.iter().enumerate() {
        let text = proxy.get_ref();
        let net = text
            .parse::<ipnet::IpNet>()
            .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| {
                src.error(
                    proxy.span(),
                    &format!("server.trusted_proxies[{i}]"),
                    format!("invalid address {text:?}: expected an IP or a CIDR range, e.g. \"127.0.0.1\" or \"10.0.0.0/8\""),
                )
            })?;
        server.trusted_proxies.push(net);
    }
    if let Some(dir) = raw.compile_cache {
        server.compile_cache = PathBuf::from(dir);
    }
    if let Some(admin) = raw.admin {
        server.admin = Some(admin.get_ref().parse().map_err(|_| {
            src.error(
                admin.span(),
                "server.admin",
                format!(
                    "invalid address {:?}: expected IP:PORT, e.g. \"127.0.0.1:9901\"",
                    admin.get_ref()
                ),
            )
        })?);
    }
    Ok(server)
}

/// Names appear in logs, metrics and the admin API: keep them plain.
fn check_name(src: &Source<'_>, field: &str, name: &Spanned<String>) -> Result<(), ConfigError> {
    let n = name.get_ref();
    let ok = n.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(src.error(
            name.span(),
            field,
            format!("invalid name {n:?}: use lower-case letters, digits, '-' and '_', starting with a letter"),
        ))
    }
}

fn component_path(
    src: &Source<'_>,
    base: &Path,
    field: &str,
    value: &Spanned<String>,
) -> Result<PathBuf, ConfigError> {
    let path = base.join(value.get_ref());
    if !path.is_file() {
        return Err(src.error(
            value.span(),
            field,
            format!("component file not found: {}", path.display()),
        ));
    }
    Ok(path)
}

fn config_values(
    src: &Source<'_>,
    field: &str,
    table: BTreeMap<String, Spanned<toml::Value>>,
) -> Result<Vec<(String, String)>, ConfigError> {
    table
        .into_iter()
        .map(|(key, value)| {
            let text = match value.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Datetime(d) => d.to_string(),
                other => {
                    return Err(src.error(
                        value.span(),
                        &format!("{field}.{key}"),
                        format!(
                            "config values must be strings, numbers or booleans, not {}",
                            other.type_str()
                        ),
                    ));
                }
            };
            Ok((key, text))
        })
        .collect()
}

/// Where each route's pattern was written, for the router's errors.
type PatternSpans = Vec<(String, Span)>;

fn routes(
    src: &Source<'_>,
    views: &BTreeMap<String, ComponentSpec>,
    spans: &mut PatternSpans,
    field: &str,
    raw: Vec<Spanned<RawRoute>>,
) -> Result<Vec<RouteDef>, ConfigError> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, route) in raw.into_iter().enumerate() {
        let field = format!("{field}[{i}]");
        out.push(route_def(src, views, spans, &field, route)?);
    }
    Ok(out)
}

fn route_def(
    src: &Source<'_>,
    views: &BTreeMap<String, ComponentSpec>,
    spans: &mut PatternSpans,
    field: &str,
    route: Spanned<RawRoute>,
) -> Result<RouteDef, ConfigError> {
    let span = route.span();
    let route = route.into_inner();
    let err = |msg: &str| src.error(span.clone(), field, msg.to_owned());
    let pattern = match (route.path, route.regex) {
        (Some(p), None) => {
            spans.push((format!("{field}.path"), p.span()));
            Pattern::Path(p.into_inner())
        }
        (None, Some(r)) => {
            spans.push((format!("{field}.regex"), r.span()));
            Pattern::Regex(r.into_inner())
        }
        (Some(_), Some(_)) => return Err(err("a route has either `path` or `regex`, not both")),
        (None, None) => {
            return Err(err(
                "a route needs `path` (like Django's path()) or `regex` (like re_path())",
            ));
        }
    };
    let target = match (route.view, route.include) {
        (Some(view), None) => {
            if route.namespace.is_some() {
                return Err(err("`namespace` belongs to a route with `include`"));
            }
            if !views.contains_key(view.get_ref()) {
                let known: Vec<&str> = views.keys().map(String::as_str).collect();
                return Err(src.error(
                    view.span(),
                    &format!("{field}.view"),
                    format!(
                        "unknown view {:?} (defined views: {})",
                        view.get_ref(),
                        known.join(", ")
                    ),
                ));
            }
            Target::View(view.into_inner())
        }
        (None, Some(include)) => Target::Include {
            namespace: route.namespace,
            routes: routes(src, views, spans, &format!("{field}.include"), include)?,
        },
        (Some(_), Some(_)) => return Err(err("a route has either `view` or `include`, not both")),
        (None, None) => return Err(err("a route needs `view` or `include`")),
    };
    Ok(RouteDef {
        pattern,
        name: route.name,
        target,
    })
}

/// A byte range in the config text.
type Span = Range<usize>;
