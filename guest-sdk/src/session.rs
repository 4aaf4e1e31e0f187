//! `request.session`, as the `sessions` and `sessions-sql` middleware leave
//! it on the request: the attribute `session`, form-encoded (`k=v&k2=v2`).
//! A layer or view changes the session by changing that attribute; the
//! session middleware saves it on the way out, and only if it changed.
//!
//! Keys keep their order; setting an existing key replaces it in place.

use crate::{Request, form_value, unquote};

const ATTRIBUTE: &str = "session";
/// Asks the session middleware for a new session key (Django's
/// `cycle_key`), read by `guests/sessions/src/signed.rs`.
pub const CYCLE_KEY_ATTRIBUTE: &str = "session_cycle_key";

/// Whether a session middleware ran for this request (Django's
/// `hasattr(request, "session")`).
pub fn installed(req: &Request) -> bool {
    req.attribute(ATTRIBUTE).is_some()
}

/// `request.session.get(key)`.
pub fn get(req: &Request, key: &str) -> Option<String> {
    form_value(&req.attribute(ATTRIBUTE)?, key)
}

/// Every `(key, value)` of the session, in order.
pub fn items(req: &Request) -> Vec<(String, String)> {
    let data = req.attribute(ATTRIBUTE).unwrap_or_default();
    data.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (unquote(k), unquote(v)))
        .collect()
}

/// Sets (`Some`) or removes (`None`) `key`. Every other pair stays as it
/// was, byte for byte, and the attribute is written only if it changed,
/// so the session middleware saves the session only when it did.
fn put(req: &Request, key: &str, value: Option<&str>) {
    let data = req.attribute(ATTRIBUTE).unwrap_or_default();
    let value = value.map(|v| format!("{}={}", encode(key), encode(v)));
    let mut out: Vec<String> = Vec::new();
    let mut placed = false;
    for pair in data.split('&').filter(|pair| !pair.is_empty()) {
        let name = pair.split_once('=').map_or(pair, |(name, _)| name);
        if unquote(name) != key {
            out.push(pair.to_owned());
            continue;
        }
        // Replaced where it was (the first one), or dropped.
        if let (false, Some(value)) = (placed, &value) {
            out.push(value.clone());
        }
        placed = true;
    }
    if let (false, Some(value)) = (placed, value) {
        out.push(value);
    }
    let changed = out.join("&");
    if changed != data {
        req.set_attribute(ATTRIBUTE, &changed);
    }
}

/// `request.session[key] = value`.
pub fn set(req: &Request, key: &str, value: &str) {
    put(req, key, Some(value));
}

/// `request.session.pop(key)`.
pub fn remove(req: &Request, key: &str) -> Option<String> {
    let value = get(req, key)?;
    put(req, key, None);
    Some(value)
}

/// `request.session.cycle_key()`: the same data under a new key, the old
/// key deleted (what Django's `login` does against session fixation).
pub fn cycle_key(req: &Request) {
    req.set_attribute(CYCLE_KEY_ATTRIBUTE, "1");
}

/// `request.session.flush()`: the data and its row deleted, and anything
/// stored later in the request goes under a new key, never the old one.
pub fn flush(req: &Request) {
    req.set_attribute(ATTRIBUTE, "");
    cycle_key(req);
}

/// Form encoding (`application/x-www-form-urlencoded`): what `form_value`
/// decodes.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
