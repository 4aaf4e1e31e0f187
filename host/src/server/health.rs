//! The health check load balancers poll (`[server] health_path`, and
//! `/health` on the admin listener): answered by the server itself, before
//! any component, so a slow or failing component cannot make a healthy
//! host look down or a stopping one look up.
//!
//! The listener opens only once the pipeline has loaded, so "not ready"
//! is a refused connection; afterwards the check answers 200 `ready`
//! while serving (a failed reload keeps the previous version serving, so
//! it stays ready) and 503 `draining` once the server has started to stop
//! (`drain_secs`), while requests are still served.

use crate::reload::LivePipeline;

/// The status and body of a health check of `live`.
pub(crate) fn check(live: &LivePipeline) -> (http::StatusCode, &'static str) {
    if live.is_draining() {
        (http::StatusCode::SERVICE_UNAVAILABLE, "draining\n")
    } else {
        (http::StatusCode::OK, "ready\n")
    }
}

/// Headers every health answer carries: never cached by a proxy in
/// between, plain text.
pub(crate) fn headers(headers: &mut http::HeaderMap) {
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
}
