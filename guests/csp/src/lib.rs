//! Django 6's `ContentSecurityPolicyMiddleware` (`django/middleware/csp.py`).
//!
//! Config: `policy` (Django's `SECURE_CSP`) and `report_only_policy`
//! (`SECURE_CSP_REPORT_ONLY`), each a list of directives in the order
//! they are sent, e.g. `["default-src 'self'", "script-src 'self' {nonce}",
//! "upgrade-insecure-requests"]`. `{nonce}` is Django's `CSP.NONCE`: it
//! becomes `'nonce-<value>'`, the value being this request's nonce (16
//! random bytes, base64url without padding, as `secrets.token_urlsafe(16)`),
//! which templates read as `csp_nonce` (Django's `csp` context processor).
//! A header the response already has (a view's own policy: Django's
//! `@csp_override`) is never replaced.
//!
//! Django makes the nonce lazily and leaves it out of the header when
//! nothing read it; a component cannot see whether a template did, so the
//! nonce is made whenever a directive asks for it, and always sent then.

use shallot_guest::{Error, Middleware, Request, Response, config, middleware};

/// The request attribute the nonce travels in (templates read it as
/// `csp_nonce`).
const NONCE_ATTRIBUTE: &str = "csp_nonce";
const SENTINEL: &str = "{nonce}";

#[derive(Default)]
struct Csp;

#[middleware]
impl Middleware for Csp {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        let wants_nonce = ["policy", "report_only_policy"]
            .iter()
            .flat_map(|key| config::get_list(key))
            .any(|directive| directive.contains(SENTINEL));
        if wants_nonce {
            req.set_attribute(NONCE_ATTRIBUTE, &nonce()?);
        }
        Ok(None)
    }

    fn process_response(&mut self, req: &Request, resp: Response) -> Result<Response, Error> {
        let nonce = req.attribute(NONCE_ATTRIBUTE);
        for (key, header) in [
            ("policy", "Content-Security-Policy"),
            ("report_only_policy", "Content-Security-Policy-Report-Only"),
        ] {
            let directives = config::get_list(key);
            if directives.is_empty() || resp.has_header(header) {
                continue;
            }
            let policy = build_policy(&directives, nonce.as_deref());
            if !policy.is_empty() {
                resp.set_header(header, &policy)?;
            }
        }
        Ok(resp)
    }
}

/// Django's `build_policy`: directives joined by `"; "`, `{nonce}`
/// replaced by `'nonce-…'` (or dropped without a nonce, and a directive
/// left with no value after dropping it is left out).
fn build_policy(directives: &[String], nonce: Option<&str>) -> String {
    let mut items = Vec::new();
    for directive in directives {
        let mut words = directive.split_whitespace();
        let Some(name) = words.next() else {
            continue;
        };
        let had_values = directive.split_whitespace().count() > 1;
        let values: Vec<String> = words
            .filter_map(|word| match (word == SENTINEL, nonce) {
                (true, Some(n)) => Some(format!("'nonce-{n}'")),
                (true, None) => None,
                (false, _) => Some(word.to_owned()),
            })
            .collect();
        if had_values && values.is_empty() {
            continue;
        }
        items.push(format!("{name} {}", values.join(" ")).trim_end().to_owned());
    }
    items.join("; ")
}

/// `secrets.token_urlsafe(16)`: 16 random bytes, base64url, no padding.
fn nonce() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal(format!("no randomness: {e}")))?;
    Ok(base64url(&bytes))
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}
