//! Django's `SecurityMiddleware` (`django/middleware/security.py`).
//!
//! `process_request` answers a plain-HTTP request with a 301 to its HTTPS
//! URL when `ssl_redirect` is on and no `redirect_exempt` pattern matches.
//! `process_response`, on every response including that redirect, adds
//! (never replacing a header already there) `Strict-Transport-Security` on
//! HTTPS requests when `hsts_seconds` is set, `X-Content-Type-Options:
//! nosniff`, `Referrer-Policy` and `Cross-Origin-Opener-Policy`.
//! Settings are Django's, read from the component's config (see
//! `settings.rs` for the keys and their defaults).

mod settings;
mod url;

use settings::Settings;
use shallot_guest::{Error, Middleware, Request, Response, middleware};

#[derive(Default)]
struct Security {
    /// Parsed on first use and kept, as Django reads its settings once in
    /// `__init__`: the config cannot change under a running instance.
    settings: Option<Settings>,
}

impl Security {
    fn settings(&mut self) -> Result<&Settings, Error> {
        let settings = match self.settings.take() {
            Some(settings) => settings,
            None => Settings::from_config()?,
        };
        Ok(self.settings.insert(settings))
    }
}

/// Django's `request.is_secure()`. The host has already applied
/// `trusted_proxies` (Django's `SECURE_PROXY_SSL_HEADER`) to the scheme.
fn is_secure(req: &Request) -> bool {
    req.scheme() == "https"
}

#[middleware]
impl Middleware for Security {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        let settings = self.settings()?;
        if !settings.ssl_redirect || is_secure(req) {
            return Ok(None);
        }
        // The patterns see the path without its leading slashes and are
        // searched, not anchored: `re.search(request.path.lstrip("/"))`.
        let path = req.path();
        let path = path.trim_start_matches('/');
        if settings.redirect_exempt.iter().any(|re| re.is_match(path)) {
            return Ok(None);
        }
        // `SECURE_SSL_HOST or request.get_host()`: the Host is only read
        // (and validated) when no host is configured.
        let host = match &settings.ssl_host {
            Some(host) => host.clone(),
            None => url::get_host(req)?,
        };
        let location = format!("https://{host}{}", url::get_full_path(req));
        // HttpResponsePermanentRedirect: 301, Django's default content type,
        // an empty body, and `Location` passed through `iri_to_uri`.
        let resp = Response::with_body(301, "text/html; charset=utf-8", Vec::new());
        resp.set_header("Location", &url::iri_to_uri(&location))?;
        Ok(Some(resp))
    }

    fn process_response(&mut self, req: &Request, resp: Response) -> Result<Response, Error> {
        let settings = self.settings()?;
        if settings.hsts_seconds != 0
            && is_secure(req)
            && !resp.has_header("Strict-Transport-Security")
        {
            let mut value = format!("max-age={}", settings.hsts_seconds);
            if settings.hsts_include_subdomains {
                value.push_str("; includeSubDomains");
            }
            if settings.hsts_preload {
                value.push_str("; preload");
            }
            resp.set_header("Strict-Transport-Security", &value)?;
        }
        if settings.content_type_nosniff {
            setdefault(&resp, "X-Content-Type-Options", "nosniff")?;
        }
        if let Some(policy) = &settings.referrer_policy {
            setdefault(&resp, "Referrer-Policy", policy)?;
        }
        if let Some(policy) = &settings.cross_origin_opener_policy {
            setdefault(&resp, "Cross-Origin-Opener-Policy", policy)?;
        }
        Ok(resp)
    }
}

/// Django's `response.headers.setdefault`: a header a view or an inner
/// middleware set wins.
fn setdefault(resp: &Response, name: &str, value: &str) -> Result<(), Error> {
    if resp.has_header(name) {
        return Ok(());
    }
    resp.set_header(name, value)
}
