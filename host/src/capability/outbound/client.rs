//! Outbound HTTP for components: a request leaves the host only if its
//! `scheme://host:port` is on the component's `allowed_outbound_hosts`
//! (Spin's syntax), and then only within a time and response-size budget.
//! Deny by default: an empty list allows nothing.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use url::{Host, Url};

/// One `allowed_outbound_hosts` entry, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostPattern {
    /// `None` is `*`; otherwise `http` or `https`.
    scheme: Option<String>,
    host: HostMatch,
    /// `None` is `*`.
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostMatch {
    Any,
    /// Normalised exactly as `url` normalises a URL's host (case, IDNA,
    /// IP forms), so both sides of a comparison are spelled the same way.
    Exact(Host<String>),
    /// `*.suffix`: strictly below `suffix`, never `suffix` itself.
    Subdomain(String),
}

/// Why a pattern is invalid (message names the pattern and what is wrong).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid outbound host pattern {pattern:?}: {reason}")]
pub(crate) struct PatternError {
    /// The pattern as written in the config.
    pub(crate) pattern: String,
    /// What is wrong with it.
    pub(crate) reason: String,
}

impl HostPattern {
    fn parse(pattern: &str) -> Result<HostPattern, PatternError> {
        let err = |reason: &str| PatternError {
            pattern: pattern.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, authority) = pattern
            .split_once("://")
            .ok_or_else(|| err("missing scheme (expected scheme://host[:port])"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "*" => None,
            s @ ("http" | "https") => Some(s.to_owned()),
            _ => return Err(err("unknown scheme (expected http, https or *)")),
        };
        // Anything finer than an origin would promise a grain we don't enforce.
        if authority.contains(['/', '?', '#']) {
            return Err(err("paths, queries and fragments are not allowed"));
        }
        if authority.contains('@') {
            return Err(err("userinfo is not allowed"));
        }
        let host_end = match authority.strip_prefix('[') {
            Some(rest) => rest.find(']').ok_or_else(|| err("unclosed '['"))? + 2,
            None => authority.find(':').unwrap_or(authority.len()),
        };
        let (host, rest) = authority.split_at(host_end);
        let port = match rest.strip_prefix(':') {
            Some(port) => Some(port),
            None if rest.is_empty() => None,
            None => return Err(err("unexpected text after host")),
        };
        let host = match host {
            "" => return Err(err("empty host")),
            "*" => HostMatch::Any,
            _ => {
                let (wild, name) = match host.strip_prefix("*.") {
                    Some(suffix) => (true, suffix),
                    None => (false, host),
                };
                // `url` accepts `*` inside a name; only the two forms above may use it.
                if name.contains('*') {
                    return Err(err("'*' may only be the whole host or a leading '*.'"));
                }
                let parsed = Host::parse(name).map_err(|e| err(&format!("bad host: {e}")))?;
                match (wild, parsed) {
                    (false, h) => HostMatch::Exact(h),
                    (true, Host::Domain(d)) => HostMatch::Subdomain(d),
                    (true, _) => return Err(err("'*.' must be followed by a domain name")),
                }
            }
        };
        let port = match (port, scheme.as_deref()) {
            (Some("*"), _) => None,
            (Some(p), _) => Some(p.parse::<u16>().map_err(|_| err("bad port"))?),
            (None, Some("http")) => Some(80),
            (None, Some("https")) => Some(443),
            (None, _) => return Err(err("port required with scheme *")),
        };
        Ok(HostPattern { scheme, host, port })
    }

    fn matches(&self, scheme: &str, host: &Host<&str>, port: u16) -> bool {
        let host_ok = match (&self.host, host) {
            (HostMatch::Any, _) => true,
            (HostMatch::Exact(want), got) => *want == got.to_owned(),
            // The byte before the suffix must be a dot: `evilexample.com` is
            // not below `example.com`.
            (HostMatch::Subdomain(suffix), Host::Domain(d)) => d
                .strip_suffix(suffix.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            (HostMatch::Subdomain(_), _) => false,
        };
        host_ok
            && self.scheme.as_deref().is_none_or(|s| s == scheme)
            && self.port.is_none_or(|p| p == port)
    }
}

/// The set of allowed hosts of one component.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedHosts {
    patterns: Vec<HostPattern>,
}

impl AllowedHosts {
    /// Parses a component's `allowed_outbound_hosts`. One bad entry fails the
    /// whole list, so a typo surfaces at load time rather than as a denial.
    pub(crate) fn parse(patterns: &[String]) -> Result<AllowedHosts, PatternError> {
        let patterns = patterns.iter().map(|p| HostPattern::parse(p));
        patterns
            .collect::<Result<_, _>>()
            .map(|patterns| AllowedHosts { patterns })
    }

    /// Whether a request to this absolute URL is allowed.
    pub(crate) fn allows(&self, url: &Url) -> bool {
        // Judged on what `url` parsed (the real host, after any userinfo),
        // never on the text, and only for schemes the client speaks.
        let scheme = url.scheme();
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
            return false;
        };
        matches!(scheme, "http" | "https")
            && self.patterns.iter().any(|p| p.matches(scheme, &host, port))
    }
}

/// Why an outbound request was not made or failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OutboundError {
    /// The URL's `scheme://host:port` is not on the list; nothing was sent.
    #[error("outbound request to {origin} denied: it is not in allowed_outbound_hosts")]
    Denied { origin: String },
    /// The URL does not parse, or has parts this client refuses.
    #[error("invalid outbound URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The method or a header is not valid (or not allowed) HTTP.
    #[error("invalid outbound request: {0}")]
    InvalidRequest(String),
    /// The list allows this https URL, but the client has no TLS yet.
    #[error("outbound request to {0} failed: https is not supported yet (no TLS)")]
    TlsUnsupported(String),
    /// Connect, headers and body together took longer than `after`.
    #[error("outbound request timed out after {after:?}")]
    Timeout { after: Duration },
    /// The response body grew past `limit` bytes; reading stopped there.
    #[error("outbound response body exceeds the limit of {limit} bytes")]
    TooLarge { limit: usize },
    /// No connection could be made to the server.
    #[error("outbound connection failed: {0}")]
    Connect(String),
    /// The connection was made but the exchange failed.
    #[error("outbound request failed: {0}")]
    Request(String),
}

/// What the guest gets back.
#[derive(Debug)]
pub(crate) struct OutboundResponse {
    /// HTTP status code.
    pub(crate) status: u16,
    /// Response headers in order; non-UTF-8 values are decoded lossily.
    pub(crate) headers: Vec<(String, String)>,
    /// The whole body, at most `max_response_bytes` long.
    pub(crate) body: Vec<u8>,
}

/// Headers the host owns: they describe this hop, not the guest's message,
/// and a guest-chosen one could desync framing or lie about the target.
const HOST_OWNED_HEADERS: &str = "host connection content-length transfer-encoding \
    keep-alive proxy-connection te trailer upgrade";

/// A shared HTTP/1.1 client, plain http only (https gives
/// [`OutboundError::TlsUnsupported`]). Cheap to clone; clones share a pool.
#[derive(Clone)]
pub(crate) struct OutboundClient {
    // The legacy client never follows redirects, and must not: a redirect to
    // a host off the list would bypass the policy.
    client: Client<HttpConnector, Full<Bytes>>,
}

impl OutboundClient {
    /// A client with its own connection pool.
    pub(crate) fn new() -> OutboundClient {
        let client = Client::builder(TokioExecutor::new()).build_http();
        OutboundClient { client }
    }

    /// Checks the URL against `allowed` BEFORE any connection is made, then
    /// sends with `timeout` covering connect+headers+body, and stops reading
    /// (error TooLarge) once the body exceeds `max_response_bytes`.
    #[expect(clippy::too_many_arguments, reason = "mirrors the guest-facing call")]
    pub(crate) async fn send(
        &self,
        allowed: &AllowedHosts,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
        max_response_bytes: usize,
    ) -> Result<OutboundResponse, OutboundError> {
        let invalid = |reason: &str| OutboundError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parsed = Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
        if !allowed.allows(&parsed) {
            let origin = match (parsed.host_str(), parsed.port_or_known_default()) {
                (Some(h), Some(p)) => format!("{}://{h}:{p}", parsed.scheme()),
                _ => parsed.as_str().to_owned(),
            };
            return Err(OutboundError::Denied { origin });
        }
        if parsed.scheme() == "https" {
            return Err(OutboundError::TlsUnsupported(url.to_owned()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid("credentials in the URL are not supported"));
        }
        parsed.set_fragment(None);
        let request = build_request(&parsed, method, headers, body)?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                let message = error_chain(&e);
                match e.is_connect() {
                    true => OutboundError::Connect(message),
                    false => OutboundError::Request(message),
                }
            })?;
            read_capped(response, max_response_bytes).await
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| OutboundError::Timeout { after: timeout })?
    }
}

/// hyper's top-level errors say only "client error (Connect)"; the cause
/// (e.g. "Connection refused") is further down the source chain.
fn error_chain(e: &dyn std::error::Error) -> String {
    let chain = std::iter::successors(Some(e), |e| e.source());
    chain.map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
}

fn build_request(
    url: &Url,
    method: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Result<http::Request<Full<Bytes>>, OutboundError> {
    let bad = OutboundError::InvalidRequest;
    let method = http::Method::from_bytes(method.as_bytes())
        .map_err(|_| bad(format!("bad method {method:?}")))?;
    // CONNECT would turn an allowed host into a tunnel to anywhere.
    if method == http::Method::CONNECT {
        return Err(bad("method CONNECT is not allowed".to_owned()));
    }
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => return Err(bad("URL has no host".to_owned())),
    };
    let mut builder = http::Request::builder()
        .method(method)
        .uri(url.as_str())
        .header(http::header::HOST, host);
    let host_owned = |n: &str| {
        HOST_OWNED_HEADERS
            .split_whitespace()
            .any(|h| n.eq_ignore_ascii_case(h))
    };
    for (name, value) in headers.iter().filter(|(n, _)| !host_owned(n)) {
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("bad header name {name:?}")))?;
        let value = http::HeaderValue::from_str(value)
            .map_err(|_| bad(format!("bad value for header {name}")))?;
        builder = builder.header(name, value);
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| bad(e.to_string()))
}

async fn read_capped(
    response: http::Response<hyper::body::Incoming>,
    limit: usize,
) -> Result<OutboundResponse, OutboundError> {
    let (parts, mut incoming) = response.into_parts();
    let mut body = Vec::new();
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|e| OutboundError::Request(error_chain(&e)))?;
        if let Some(data) = frame.data_ref() {
            // Checked before copying, so an endless body is never buffered.
            if body.len() + data.len() > limit {
                return Err(OutboundError::TooLarge { limit });
            }
            body.extend_from_slice(data);
        }
    }
    let lossy = |v: &http::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), lossy(v)))
        .collect();
    let status = parts.status.as_u16();
    Ok(OutboundResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::net::TcpListener;

    use super::*;

    fn hosts(patterns: &[&str]) -> AllowedHosts {
        let owned: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        AllowedHosts::parse(&owned).expect("patterns parse")
    }

    #[test]
    fn rejects_bad_patterns() {
        let cases = [
            ("example.com", "missing scheme"),
            ("ftp://example.com", "unknown scheme"),
            ("http://example.com/api", "paths"),
            ("http://example.com?q=1", "queries"),
            ("http://user@example.com", "userinfo"),
            ("http://", "empty host"),
            ("http://:80", "empty host"),
            ("http://example.com:http", "bad port"),
            ("http://example.com:70000", "bad port"),
            ("http://example.com:", "bad port"),
            ("*://example.com", "port required with scheme *"),
            ("http://a*.example.com", "'*' may only be"),
            ("http://*.127.0.0.1", "must be followed by a domain"),
            ("http://[::1", "unclosed"),
            ("http://exa mple.com", "bad host"),
        ];
        for (pattern, reason) in cases {
            let e = AllowedHosts::parse(&[pattern.to_owned()]).expect_err(pattern);
            assert!(e.reason.contains(reason), "{pattern}: {e}");
            let prefix = format!("invalid outbound host pattern {pattern:?}: ");
            assert!(e.to_string().starts_with(&prefix), "{e}");
        }
    }

    #[test]
    fn matching() {
        let allowed = [
            ("http://API.example.com", "http://api.example.com/x?y"),
            ("http://api.example.com", "http://Api.Example.COM:80/"),
            ("https://example.com", "https://example.com:443/"),
            ("http://evil.org", "http://example.com@evil.org/"),
            ("http://*.example.com", "http://a.example.com/"),
            ("http://*.example.com", "http://a.b.example.com/"),
            ("http://*:*", "http://anything.test:1234/"),
            ("*://example.com:*", "https://example.com:9/"),
            ("*://example.com:8080", "http://example.com:8080/"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
            ("http://[::1]:*", "http://[0:0::1]:9/"),
        ];
        let denied = [
            // Port, scheme and host must all match.
            ("http://example.com", "http://example.com:8080/"),
            ("http://example.com", "https://example.com/"),
            ("http://api.example.com", "http://example.com/"),
            // Look-alikes are judged by the host `url` parsed, not the text.
            ("http://example.com", "http://example.com.evil.org/"),
            ("http://example.com", "http://evil.org/?x=example.com"),
            ("http://example.com", "http://notexample.com/"),
            ("http://example.com", "http://example.com@evil.org/"),
            ("http://*.example.com", "http://example.com/"),
            ("http://*.example.com", "http://aexample.com/"),
            ("http://*:*", "https://anything.test/"),
            ("*://*:*", "ftp://example.com/"),
            // IP literals and names are distinct, whatever DNS says.
            ("http://127.0.0.1:8080", "http://localhost:8080/"),
            ("http://localhost:8080", "http://127.0.0.1:8080/"),
            ("http://[::1]", "http://127.0.0.1/"),
        ];
        let cases = allowed.map(|c| (c, true)).into_iter();
        for ((pattern, url), expected) in cases.chain(denied.map(|c| (c, false))) {
            let got = hosts(&[pattern]).allows(&Url::parse(url).expect(url));
            assert_eq!(got, expected, "{pattern} vs {url}");
        }
        let url = Url::parse("http://127.0.0.1/").expect("url");
        assert!(!AllowedHosts::default().allows(&url));
    }

    /// A server on 127.0.0.1 that counts connections and serves `/slow`
    /// (sleeps 5 s), `/big` (10 000 bytes) or else "hi" plus the Host it saw.
    async fn serve() -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let service = hyper::service::service_fn(|req: http::Request<_>| async move {
                    let body = match req.uri().path() {
                        "/slow" => {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                            Bytes::new()
                        }
                        "/big" => Bytes::from(vec![b'x'; 10_000]),
                        _ => Bytes::from_static(b"hi"),
                    };
                    let mut resp = http::Response::new(Full::new(body));
                    let hosts = req.headers().get_all(http::header::HOST).iter();
                    let seen = hosts
                        .map(|h| h.to_str().expect("ascii"))
                        .collect::<Vec<_>>();
                    let seen = http::HeaderValue::from_str(&seen.join(",")).expect("value");
                    resp.headers_mut().insert("x-seen-host", seen);
                    Ok::<_, std::convert::Infallible>(resp)
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
                tokio::spawn(conn);
            }
        });
        (addr, count)
    }

    /// GETs `url` with a 1000-byte cap, passing a forged Host header.
    async fn get(allowed: &[&str], url: &str, ms: u64) -> Result<OutboundResponse, OutboundError> {
        let headers = [("HOST", "evil.org"), ("x-a", "1")].map(|(k, v)| (k.into(), v.into()));
        let (allowed, timeout) = (hosts(allowed), Duration::from_millis(ms));
        let client = OutboundClient::new();
        let sent = client.send(&allowed, "GET", url, &headers, vec![], timeout, 1000);
        sent.await
    }

    const LOCAL: &[&str] = &["http://127.0.0.1:*"];

    #[tokio::test]
    async fn allowed_get_returns_response() {
        let (addr, count) = serve().await;
        let resp = get(LOCAL, &format!("http://{addr}/hello"), 5000).await;
        let resp = resp.expect("allowed");
        assert_eq!((resp.status, resp.body.as_slice()), (200, &b"hi"[..]));
        let seen = resp.headers.iter().find(|(k, _)| k == "x-seen-host");
        assert_eq!(seen.map(|(_, v)| v.clone()), Some(addr.to_string()));
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn denied_url_never_connects() {
        let (addr, count) = serve().await;
        let err = get(&["http://localhost:*"], &format!("http://{addr}/"), 1000).await;
        let expected = format!(
            "outbound request to http://{addr} denied: it is not in allowed_outbound_hosts"
        );
        assert_eq!(err.expect_err("denied").to_string(), expected);
        let err = get(&[], &format!("http://{addr}/"), 1000).await;
        assert!(matches!(err, Err(OutboundError::Denied { .. })));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn slow_server_times_out() {
        let (addr, _) = serve().await;
        let err = get(LOCAL, &format!("http://{addr}/slow"), 200).await;
        let message = err.expect_err("timed out").to_string();
        assert_eq!(message, "outbound request timed out after 200ms");
    }

    #[tokio::test]
    async fn oversized_body_is_refused() {
        let (addr, _) = serve().await;
        let err = get(LOCAL, &format!("http://{addr}/big"), 5000).await;
        assert!(
            matches!(err, Err(OutboundError::TooLarge { limit: 1000 })),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn unreachable_port_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let err = get(LOCAL, &format!("http://{addr}/"), 5000).await;
        assert!(matches!(err, Err(OutboundError::Connect(_))), "{err:?}");
    }

    #[tokio::test]
    async fn https_and_credentials_are_refused() {
        let err = get(&["https://127.0.0.1"], "https://127.0.0.1/", 1000).await;
        assert!(matches!(err, Err(OutboundError::TlsUnsupported(_))));
        let err = get(LOCAL, "http://user:pw@127.0.0.1/", 1000).await;
        assert!(matches!(err, Err(OutboundError::InvalidUrl { .. })));
    }
}
