//! Django's `SECURE_*` settings from the component's config, under their
//! names without the `SECURE_` prefix, in lower case, with Django's
//! defaults (`conf/global_settings.py`):
//!
//! | key | Django setting | default |
//! |---|---|---|
//! | `hsts_seconds` | `SECURE_HSTS_SECONDS` | `0` (no header) |
//! | `hsts_include_subdomains` | `SECURE_HSTS_INCLUDE_SUBDOMAINS` | `false` |
//! | `hsts_preload` | `SECURE_HSTS_PRELOAD` | `false` |
//! | `content_type_nosniff` | `SECURE_CONTENT_TYPE_NOSNIFF` | `true` |
//! | `ssl_redirect` | `SECURE_SSL_REDIRECT` | `false` |
//! | `ssl_host` | `SECURE_SSL_HOST` | none (the request's host) |
//! | `redirect_exempt` | `SECURE_REDIRECT_EXEMPT` | `[]` |
//! | `referrer_policy` | `SECURE_REFERRER_POLICY` | `"same-origin"` |
//! | `cross_origin_opener_policy` | `SECURE_CROSS_ORIGIN_OPENER_POLICY` | `"same-origin"` |
//!
//! The host serves a TOML list as a JSON array of strings, so a string
//! that is such an array is read as a list. Django's `None` is an empty
//! string here (`referrer_policy = ""` sends no header). A value of the
//! wrong type is an `internal` error on every request, naming the key:
//! Django would fail at startup, and a security setting silently ignored
//! is worse than a loud failure.

use regex::Regex;
use shallot_guest::{Error, config};

pub(crate) struct Settings {
    pub(crate) hsts_seconds: i64,
    pub(crate) hsts_include_subdomains: bool,
    pub(crate) hsts_preload: bool,
    pub(crate) content_type_nosniff: bool,
    pub(crate) ssl_redirect: bool,
    /// `None` for Django's `None` or `""`: both fall back to the Host.
    pub(crate) ssl_host: Option<String>,
    pub(crate) redirect_exempt: Vec<Regex>,
    /// The header value, already joined; `None` when the setting is falsy.
    pub(crate) referrer_policy: Option<String>,
    pub(crate) cross_origin_opener_policy: Option<String>,
}

impl Settings {
    pub(crate) fn from_config() -> Result<Settings, Error> {
        Ok(Settings {
            hsts_seconds: integer("hsts_seconds", 0)?,
            hsts_include_subdomains: boolean("hsts_include_subdomains", false)?,
            hsts_preload: boolean("hsts_preload", false)?,
            content_type_nosniff: boolean("content_type_nosniff", true)?,
            ssl_redirect: boolean("ssl_redirect", false)?,
            ssl_host: config::get("ssl_host").filter(|host| !host.is_empty()),
            redirect_exempt: redirect_exempt()?,
            referrer_policy: referrer_policy(),
            cross_origin_opener_policy: Some(
                config::get("cross_origin_opener_policy")
                    .unwrap_or_else(|| "same-origin".to_owned()),
            )
            .filter(|policy| !policy.is_empty()),
        })
    }
}

fn invalid(key: &str, what: &str, value: &str) -> Error {
    Error::internal(format!(
        "security: config `{key}` must be {what}, not {value:?}"
    ))
}

fn boolean(key: &str, default: bool) -> Result<bool, Error> {
    match config::get(key).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(invalid(key, "true or false", other)),
    }
}

fn integer(key: &str, default: i64) -> Result<i64, Error> {
    match config::get(key) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| invalid(key, "an integer", &text)),
    }
}

/// A list-valued key: `Some(items)` when the value is a JSON array of
/// strings (how the host serves a TOML list), `None` for any other string.
fn list(value: &str) -> Option<Vec<String>> {
    if !value.starts_with('[') {
        return None;
    }
    serde_json::from_str(value).ok()
}

/// Compiled once, like Django's `[re.compile(r) for r in
/// settings.SECURE_REDIRECT_EXEMPT]`. A single string is one pattern.
fn redirect_exempt() -> Result<Vec<Regex>, Error> {
    let Some(value) = config::get("redirect_exempt") else {
        return Ok(Vec::new());
    };
    let patterns = list(&value).unwrap_or_else(|| vec![value]);
    patterns
        .iter()
        .map(|pattern| {
            Regex::new(pattern).map_err(|e| {
                Error::internal(format!(
                    "security: config `redirect_exempt` pattern {pattern:?} is not a valid regex: {e}"
                ))
            })
        })
        .collect()
}

/// `SECURE_REFERRER_POLICY`: a string is split at commas, each part
/// stripped, and re-joined with `,`; a list is joined with `,` as it is,
/// its items not stripped. Empty (`""` or `[]`) sends no header.
fn referrer_policy() -> Option<String> {
    let value = config::get("referrer_policy").unwrap_or_else(|| "same-origin".to_owned());
    match list(&value) {
        // An empty list is falsy in Django; a list of one empty string is not.
        Some(items) if items.is_empty() => None,
        Some(items) => Some(items.join(",")),
        None if value.is_empty() => None,
        None => Some(
            value
                .split(',')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(","),
        ),
    }
}
