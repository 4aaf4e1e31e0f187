//! Django's `CsrfViewMiddleware` (`django/middleware/csrf.py`): an unsafe
//! request must come from a trusted origin and carry a token matching the
//! secret in its cookie.
//!
//! Config (Django's settings, lower case, without `CSRF_`): `cookie_name`
//! (`csrftoken`), `cookie_age` (31449600), `cookie_domain`, `cookie_path`
//! (`/`), `cookie_secure`, `cookie_httponly` (false), `cookie_samesite`
//! (`Lax`), `header_name` (`X-CSRFToken`), `trusted_origins` (a list), and
//! `exempt_views` (a list of view names: Django's `@csrf_exempt`), and
//! `use_sessions` (false): Django's `CSRF_USE_SESSIONS`, the secret kept
//! in the session under `_csrftoken` instead of a cookie (list this
//! middleware after a session middleware).
//!
//! A view that calls `shallot_guest::csrf::rotate_token` (as
//! `auth::login` does) gets a new secret sent with its response.
//!
//! The masked token for this request is the `csrf_token` request
//! attribute, which templates show as `csrf_token` and `csrf_input`.

mod origin;
mod page;
mod token;

use shallot_guest::{
    Error, Middleware, Request, Response, ViewInfo, config, csrf, form_value, middleware,
    patch_vary_headers, session,
};

pub(crate) use origin::REASON_NO_REFERER;
use origin::{REASON_BAD_ORIGIN, check_referer, origin_verified};

pub(crate) const REASON_NO_CSRF_COOKIE: &str = "CSRF cookie not set.";
const REASON_CSRF_TOKEN_MISSING: &str = "CSRF token missing.";
/// The request attribute templates read the token from.
const TOKEN_ATTRIBUTE: &str = "csrf_token";
/// Where `use_sessions` keeps the secret (Django's `CSRF_SESSION_KEY`).
const SESSION_KEY: &str = "_csrftoken";
const NO_SESSION: &str = "CSRF_USE_SESSIONS is enabled, but request.session is not set. \
     SessionMiddleware must appear before CsrfViewMiddleware in MIDDLEWARE.";
/// Set once a request passed (Django's `request.csrf_processing_done`).
const DONE_ATTRIBUTE: &str = "csrf_processing_done";

#[derive(Default)]
struct Csrf {
    /// The secret this request's cookie should hold after it.
    secret: Option<String>,
    /// Django's `CSRF_COOKIE_NEEDS_UPDATE`: a new secret to send.
    needs_update: bool,
}

fn setting(key: &str, default: &str) -> String {
    config::get(key).unwrap_or_else(|| default.to_owned())
}

fn use_sessions() -> bool {
    setting("use_sessions", "false") == "true"
}

/// `_get_secret` from the incoming cookie (or the session, with
/// `use_sessions`): `None` without one, the format's problem for a
/// malformed cookie; a masked (pre-Django 4) value is unmasked.
fn incoming_secret(req: &Request) -> Result<Option<String>, &'static str> {
    if use_sessions() {
        let Some(value) = session::get(req, SESSION_KEY) else {
            return Ok(None);
        };
        return Ok(Some(if value.len() == token::TOKEN_LENGTH {
            token::unmask(&value)
        } else {
            value
        }));
    }
    let name = setting("cookie_name", "csrftoken");
    let Some(value) = shallot_guest::cookie(req, &name) else {
        return Ok(None);
    };
    token::check_format(&value)?;
    Ok(Some(if value.len() == token::TOKEN_LENGTH {
        token::unmask(&value)
    } else {
        value
    }))
}

#[middleware]
impl Middleware for Csrf {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        // An instance may serve several requests (`reuse`): start afresh.
        *self = Csrf::default();
        if use_sessions() && !session::installed(req) {
            return Err(Error::internal(NO_SESSION));
        }
        match incoming_secret(req) {
            Ok(Some(secret)) => self.secret = Some(secret),
            // No cookie yet, or a malformed one: a new secret, sent back.
            Ok(None) | Err(_) => {
                self.secret = Some(token::new_secret()?);
                self.needs_update = true;
            }
        }
        let secret = self.secret.as_deref().expect("set above");
        req.set_attribute(TOKEN_ATTRIBUTE, &token::mask(secret)?);
        Ok(None)
    }

    fn process_view(&mut self, req: &Request, view: &ViewInfo) -> Result<Option<Response>, Error> {
        if req.attribute(DONE_ATTRIBUTE).is_some() {
            return Ok(None);
        }
        if config::get_list("exempt_views").contains(&view.view_name) {
            return Ok(None);
        }
        if ["GET", "HEAD", "OPTIONS", "TRACE"].contains(&req.method().as_str()) {
            req.set_attribute(DONE_ATTRIBUTE, "1");
            return Ok(None);
        }
        let secure = req.scheme() == "https";
        let host = req.header("host").unwrap_or_default();
        let trusted = config::get_list("trusted_origins");
        if let Some(origin) = req.header("origin") {
            if !origin_verified(&origin, secure, &host, &trusted) {
                return reject(req, &REASON_BAD_ORIGIN.replace("%s", &origin));
            }
        } else if secure {
            let port = host
                .rsplit_once(':')
                .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
                .map_or("443", |(_, p)| p);
            let domain = config::get("cookie_domain").filter(|d| !d.is_empty());
            if let Err(reason) = check_referer(
                req.header("referer").as_deref(),
                &host,
                port,
                domain.as_deref(),
                &trusted,
            ) {
                return reject(req, &reason);
            }
        }
        if let Err(reason) = check_token(req) {
            return reject(req, &reason);
        }
        req.set_attribute(DONE_ATTRIBUTE, "1");
        Ok(None)
    }

    fn process_response(&mut self, req: &Request, resp: Response) -> Result<Response, Error> {
        // Django's `rotate_token`, asked for by the view (a login).
        if req
            .attribute(csrf::ROTATE_ATTRIBUTE)
            .is_some_and(|r| !r.is_empty())
        {
            self.secret = Some(token::new_secret()?);
            self.needs_update = true;
        }
        if !std::mem::take(&mut self.needs_update) {
            return Ok(resp);
        }
        let Some(secret) = &self.secret else {
            return Ok(resp);
        };
        if use_sessions() {
            // The session middleware, outside this one, saves it.
            if session::get(req, SESSION_KEY).as_deref() != Some(secret) {
                session::set(req, SESSION_KEY, secret);
            }
            return Ok(resp);
        }
        resp.append_header("Set-Cookie", &cookie(secret))?;
        patch_vary_headers(&resp, &["Cookie"])?;
        Ok(resp)
    }
}

/// `_check_token`: the secret from the incoming cookie (not a rotated
/// one), then the token from the form field, or else the header.
fn check_token(req: &Request) -> Result<(), String> {
    let secret = match incoming_secret(req) {
        Ok(Some(secret)) => secret,
        Ok(None) => return Err(REASON_NO_CSRF_COOKIE.into()),
        Err(reason) => return Err(format!("CSRF cookie {reason}.")),
    };
    let mut source = "POST".to_owned();
    let mut token = if req.method() == "POST" {
        posted_token(req)
    } else {
        String::new()
    };
    if token.is_empty() {
        let header = setting("header_name", "X-CSRFToken");
        token = req.header(&header).ok_or(REASON_CSRF_TOKEN_MISSING)?;
        source = format!("the '{}' HTTP header", title_case(&header));
    }
    if let Err(reason) = token::check_format(&token) {
        return Err(format!("CSRF token from {source} {reason}."));
    }
    if !token::matches(&token, &secret) {
        return Err(format!("CSRF token from {source} incorrect."));
    }
    Ok(())
}

/// `request.POST.get("csrfmiddlewaretoken", "")` for the two form
/// encodings browsers send.
fn posted_token(req: &Request) -> String {
    let content_type = req
        .header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let body = req.body();
    let body = String::from_utf8_lossy(&body);
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_value(&body, "csrfmiddlewaretoken").unwrap_or_default();
    }
    if content_type.starts_with("multipart/form-data") {
        let field = "name=\"csrfmiddlewaretoken\"";
        if let Some(at) = body.find(field)
            && let Some(start) = body[at..].find("\r\n\r\n").map(|i| at + i + 4)
        {
            let end = body[start..].find("\r\n").map_or(body.len(), |i| start + i);
            return body[start..end].to_owned();
        }
    }
    String::new()
}

/// How Django names the header in its reason (`HttpHeaders.parse_header_name`
/// then `.title()`): `X-CSRFToken` is `'X-Csrftoken'`.
fn title_case(header: &str) -> String {
    header
        .split('-')
        .map(|part| {
            let lower = part.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars.next().map_or(String::new(), |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `_reject`: Django's failure view, 403, logged as `django.security.csrf`
/// logs it.
fn reject(req: &Request, reason: &str) -> Result<Option<Response>, Error> {
    shallot_guest::log::warn(&format!("Forbidden ({reason}): {}", req.path()));
    Ok(Some(Response::html(403, &page::failure_page(reason))))
}

/// The cookie `_set_csrf_cookie` sets.
fn cookie(secret: &str) -> String {
    let name = setting("cookie_name", "csrftoken");
    let age: u64 = setting("cookie_age", "31449600")
        .parse()
        .unwrap_or(31_449_600);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut cookie = format!(
        "{name}={secret}; expires={}; Max-Age={age}",
        http_date(now + age)
    );
    if let Some(domain) = config::get("cookie_domain").filter(|d| !d.is_empty()) {
        cookie.push_str(&format!("; Domain={domain}"));
    }
    cookie.push_str(&format!("; Path={}", setting("cookie_path", "/")));
    if setting("cookie_secure", "false") == "true" {
        cookie.push_str("; Secure");
    }
    if setting("cookie_httponly", "false") == "true" {
        cookie.push_str("; HttpOnly");
    }
    let samesite = setting("cookie_samesite", "Lax");
    if !samesite.is_empty() {
        cookie.push_str(&format!("; SameSite={samesite}"));
    }
    cookie
}

/// An RFC 9110 date (`Wed, 21 Oct 2015 07:28:00 GMT`).
fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
