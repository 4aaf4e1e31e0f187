//! A fixed-window rate limit per client address: at most `limit` requests
//! (default 60) per `window_secs` (default 60); over it, 429 with
//! `Retry-After` (seconds until the window ends). Counters live in the
//! key-value store `store` (default `ratelimit`), so they hold across
//! requests, instances and restarts.
//!
//! Grants: `key_value_stores = ["ratelimit"]`.

use shallot_guest::{Error, Middleware, Request, Response, config, kv, middleware};

#[derive(Default)]
struct RateLimit;

fn number(key: &str, default: u64) -> Result<u64, Error> {
    match config::get(key) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            Error::internal(format!(
                "rate-limit: {key} must be a whole number, not {v:?}"
            ))
        }),
    }
}

#[middleware]
impl Middleware for RateLimit {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        let limit = number("limit", 60)?;
        let window_ms = number("window_secs", 60)? * 1000;
        let store = kv::Store::open(&config::get("store").unwrap_or_else(|| "ratelimit".into()))?;
        let key = format!("client:{}", req.client_addr());
        // A new window starts with the first request after the last one
        // expired; increment keeps the expiry of an existing counter.
        let count = store.increment(&key, 1, Some(window_ms))?;
        if count <= i64::try_from(limit).unwrap_or(i64::MAX) {
            return Ok(None);
        }
        let retry_ms = store.ttl_ms(&key)?.unwrap_or(window_ms);
        let resp = Response::text(429, "Too Many Requests");
        resp.set_header("Retry-After", &retry_ms.div_ceil(1000).max(1).to_string())?;
        Ok(Some(resp))
    }
}
