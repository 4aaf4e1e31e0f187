//! `[server]`: the listener and what one connection may send, each setting
//! checked against a range that keeps it meaningful.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::locate::Source;
use super::numbers::{DAY_SECS, Number, to_usize};
use super::schema::RawServer;
use super::{ConfigError, ServerConfig, TlsFiles};

/// `[server]`, with `compile_cache` resolved against `base`, the config
/// file's folder.
pub(super) fn server(
    src: &Source<'_>,
    base: &Path,
    raw: RawServer,
) -> Result<ServerConfig, ConfigError> {
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
    // Streamed bodies are never held: a terabyte only guards against typos.
    if let Some(n) = num(&raw.max_stream_bytes, "max_stream_bytes", 0, 1 << 40)? {
        let span = raw
            .max_stream_bytes
            .as_ref()
            .map(|v| v.span())
            .expect("just read");
        if n != 0 && n <= server.max_body_bytes as u64 {
            return Err(src.error(
                span,
                "server.max_stream_bytes",
                format!(
                    "{n} would stream no body: it must be larger than max_body_bytes ({}), or 0 to stream none",
                    server.max_body_bytes
                ),
            ));
        }
        server.max_stream_bytes = n;
    }
    if let Some(secs) = num(
        &raw.shutdown_timeout_secs,
        "shutdown_timeout_secs",
        0,
        DAY_SECS,
    )? {
        server.shutdown_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = num(&raw.drain_secs, "drain_secs", 0, DAY_SECS)? {
        server.drain = Duration::from_secs(secs);
    }
    if let Some(path) = raw.health_path {
        let valid = path.get_ref().starts_with('/')
            && !path.get_ref().contains(['?', '#'])
            && !path.get_ref().chars().any(char::is_whitespace);
        if !valid {
            return Err(src.error(
                path.span(),
                "server.health_path",
                format!(
                    "{:?} is not a path: a health path starts with '/' and has no query or spaces, e.g. \"/-/health\"",
                    path.get_ref()
                ),
            ));
        }
        server.health_path = Some(path.into_inner());
    }
    if let Some(n) = num(&raw.backlog, "backlog", 1, 65_535)? {
        server.backlog = u32::try_from(n).expect("bounded");
    }
    if let Some(n) = num(&raw.workers, "workers", 1, 1024)? {
        server.workers = to_usize(n);
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
    server.compile_cache = base.join(&server.compile_cache);
    server.http2 = raw.http2.unwrap_or(true);
    server.h2c = raw.h2c.unwrap_or(false);
    server.server_timing = raw.server_timing.unwrap_or(false);
    if let Some(endpoint) = raw.otlp_endpoint {
        let ok = url::Url::parse(endpoint.get_ref())
            .is_ok_and(|u| u.scheme() == "http" && u.host().is_some());
        if !ok {
            return Err(src.error(
                endpoint.span(),
                "server.otlp_endpoint",
                format!(
                    "{:?} is not an http:// URL: give the collector's OTLP/HTTP traces \
                     address, e.g. \"http://127.0.0.1:4318/v1/traces\" (https is not built in)",
                    endpoint.get_ref()
                ),
            ));
        }
        server.otlp_endpoint = Some(endpoint.into_inner());
    }
    // Tracing is off without an endpoint, so its other settings would be
    // silently ignored: refused, like `reuse` without its policy.
    let tracing_only = |span, field: &str| {
        src.error(
            span,
            field,
            "only applies with server.otlp_endpoint (without it nothing is traced)".to_owned(),
        )
    };
    if let Some(name) = raw.otlp_service_name {
        if server.otlp_endpoint.is_none() {
            return Err(tracing_only(name.span(), "server.otlp_service_name"));
        }
        server.otlp_service_name = name.into_inner();
    }
    if let Some(ratio) = raw.otlp_sample_ratio {
        if server.otlp_endpoint.is_none() {
            return Err(tracing_only(ratio.span(), "server.otlp_sample_ratio"));
        }
        if !(0.0..=1.0).contains(ratio.get_ref()) {
            return Err(src.error(
                ratio.span(),
                "server.otlp_sample_ratio",
                format!(
                    "{} is not a share of requests: give 0.0 (none) to 1.0 (every request)",
                    ratio.get_ref()
                ),
            ));
        }
        server.otlp_sample_ratio = ratio.into_inner();
    }
    if let Some(n) = num(
        &raw.max_concurrent_streams,
        "max_concurrent_streams",
        1,
        10_000,
    )? {
        server.max_concurrent_streams = u32::try_from(n).expect("bounded");
    }
    if let Some(tls) = raw.tls {
        let file = |value: &toml::Spanned<String>, field: &str| {
            let path = base.join(value.get_ref());
            if path.is_file() {
                Ok(path)
            } else {
                Err(src.error(
                    value.span(),
                    &format!("server.tls.{field}"),
                    format!(
                        "file not found: {} (`shallot dev-cert` makes a pair for development)",
                        path.display()
                    ),
                ))
            }
        };
        server.tls = Some(TlsFiles {
            cert: file(&tls.cert, "cert")?,
            key: file(&tls.key, "key")?,
        });
        if let Some(redirect) = tls.redirect_http {
            server.redirect_http = Some(redirect.get_ref().parse().map_err(|_| {
                src.error(
                    redirect.span(),
                    "server.tls.redirect_http",
                    format!(
                        "invalid address {:?}: expected IP:PORT, e.g. \"127.0.0.1:8080\"",
                        redirect.get_ref()
                    ),
                )
            })?);
        }
    }
    if let Some(env) = raw.admin_token_env {
        let valid = !env.get_ref().is_empty()
            && env
                .get_ref()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(src.error(
                env.span(),
                "server.admin_token_env",
                format!(
                    "{:?} is not an environment variable's name (letters, digits, '_')",
                    env.get_ref()
                ),
            ));
        }
        server.admin_token_env = Some(env.into_inner());
    }
    if let Some(admin) = raw.admin {
        let addr: std::net::SocketAddr = admin.get_ref().parse().map_err(|_| {
            src.error(
                admin.span(),
                "server.admin",
                format!(
                    "invalid address {:?}: expected IP:PORT, e.g. \"127.0.0.1:9901\"",
                    admin.get_ref()
                ),
            )
        })?;
        // The status page names every component and its hash: reachable
        // from elsewhere only with a token.
        if !addr.ip().is_loopback() && server.admin_token_env.is_none() {
            return Err(src.error(
                admin.span(),
                "server.admin",
                format!(
                    "{addr} is not a loopback address: set admin_token_env (the variable \
                     holding the token admin requests must send), or listen on 127.0.0.1"
                ),
            ));
        }
        server.admin = Some(addr);
    }
    Ok(server)
}
