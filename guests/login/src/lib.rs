//! Django's `LoginView` with `ModelBackend`: `POST` a form with `username`
//! and `password`; an active user in `auth_user` whose password matches
//! gets a session (`user=<username>` in the `session` attribute, which the
//! sessions middleware saves) and a redirect (302) to `next` from the query
//! if it is a local path, else to `/`. A wrong name or password, or an
//! inactive user, re-renders the form with Django's message (200, as
//! Django does), telling none of them apart.
//!
//! Passwords are stored as Django stores them,
//! `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`, so hashes made by
//! Django's `make_password` work; the stored iteration count is used.
//!
//! Logging in is Django's `login()`: a new session key and a new CSRF
//! secret (`shallot_guest::auth::login`).
//!
//! An unknown user costs the same PBKDF2 work as a known one
//! (`dummy_iterations`, 10,000: set it to your hashes' count), as Django's
//! `ModelBackend` hashes once anyway.
//!
//! Config: `database` (`default`), `template` (a template for the page,
//! given `error` and `next`; a bare form without one), `redirect_url`
//! (where to go without `next`: Django's `LOGIN_REDIRECT_URL`, `/`).
//! Grants: `sql_databases = { default = "read" }`.

use base64::Engine;
use shallot_guest::sql::{Connection, Value};
use shallot_guest::{
    Error, Request, Response, TemplateResponse, ViewInfo, config, form_value, is_safe_redirect,
    json, require_method, view,
};

const INVALID: &str = "Please enter a correct username and password. \
                       Note that both fields may be case-sensitive.";

/// Whether `password` matches Django's `encoded` PBKDF2-SHA256 hash.
fn check_password(password: &str, encoded: &str) -> bool {
    let mut parts = encoded.split('$');
    let (Some("pbkdf2_sha256"), Some(iterations), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(hash) else {
        return false;
    };
    let mut derived = vec![0u8; expected.len()];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
        password.as_bytes(),
        salt.as_bytes(),
        iterations,
        &mut derived,
    );
    // Compared in constant time, as Django's `constant_time_compare`.
    !expected.is_empty()
        && derived
            .iter()
            .zip(&expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A hash no password matches, at `dummy_iterations` (the cost of the
/// stored hashes; 10,000 like the examples' demo users): what an unknown
/// username is checked against.
fn dummy_hash() -> String {
    let iterations = config::get("dummy_iterations")
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(10_000);
    format!(
        "pbkdf2_sha256${iterations}$shallot-dummy-salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    )
}

/// The login page: the `template` from config (Django's
/// `LoginView.template_name`) with `error` and `next` in its context, or
/// a bare form.
fn form(req: &Request, body: &str, error: Option<&str>) -> Result<Response, Error> {
    if let Some(template) = config::get("template") {
        let next = next_url(req, body).unwrap_or_default();
        return TemplateResponse::new(&template, json!({ "error": error, "next": next }));
    }
    let error = error.map_or(String::new(), |e| format!("<p class=\"errornote\">{e}</p>"));
    Ok(Response::with_body(
        200,
        "text/html; charset=utf-8",
        format!(
            "<form method=\"post\">{error}<input name=\"username\"> \
             <input name=\"password\" type=\"password\"> <button>Log in</button></form>"
        ),
    ))
}

/// `next` from the posted form, else the query, if it is a local path
/// (Django's `get_redirect_url`, with `url_has_allowed_host_and_scheme`
/// for a relative URL).
fn next_url(req: &Request, body: &str) -> Option<String> {
    form_value(body, "next")
        .or_else(|| form_value(&req.query(), "next"))
        .filter(|n| is_safe_redirect(n))
}

#[view]
fn login(req: &Request, _view: ViewInfo) -> Result<Response, Error> {
    if req.method() == "GET" {
        return form(req, "", None);
    }
    if let Some(not_allowed) = require_method(req, &["GET", "POST"]) {
        return Ok(not_allowed);
    }
    let body =
        String::from_utf8(req.body()).map_err(|_| Error::bad_request("form is not UTF-8"))?;
    let username = form_value(&body, "username").unwrap_or_default();
    let password = form_value(&body, "password").unwrap_or_default();
    let database = config::get("database").unwrap_or_else(|| "default".to_owned());
    let rows = Connection::open(&database)?.query(
        "SELECT password, CASE WHEN is_active THEN 1 ELSE 0 END AS active \
         FROM auth_user WHERE username = $1",
        &[username.clone().into()],
    )?;
    // As Django's ModelBackend: a password is hashed whether or not the
    // user exists (against a dummy hash of the configured cost), and
    // `is_active` is checked after it, so the time taken does not tell
    // which usernames exist.
    let stored = rows.get(0, "password").and_then(Value::as_str);
    let matches = check_password(&password, stored.unwrap_or(&dummy_hash()));
    let active = rows.get(0, "active").and_then(Value::as_i64) == Some(1);
    if stored.is_none() || !matches || !active {
        return form(req, &body, Some(INVALID));
    }
    shallot_guest::auth::login(req, &username);
    let resp = Response::new(302);
    let next = next_url(req, &body).or_else(|| config::get("redirect_url"));
    resp.set_header("Location", next.as_deref().unwrap_or("/"))?;
    Ok(resp)
}
