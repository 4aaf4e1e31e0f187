//! Where an unsafe request comes from: Django's `_origin_verified` (the
//! `Origin` header, any scheme) and `_check_referer` (HTTPS only, when
//! there is no `Origin`), with `CSRF_TRUSTED_ORIGINS` and its wildcards.

pub(crate) const REASON_BAD_ORIGIN: &str =
    "Origin checking failed - %s does not match any trusted origins.";
pub(crate) const REASON_NO_REFERER: &str = "Referer checking failed - no Referer.";
pub(crate) const REASON_BAD_REFERER: &str =
    "Referer checking failed - %s does not match any trusted origins.";
pub(crate) const REASON_MALFORMED_REFERER: &str = "Referer checking failed - Referer is malformed.";
pub(crate) const REASON_INSECURE_REFERER: &str =
    "Referer checking failed - Referer is insecure while host is secure.";

/// The two parts of Python's `urlsplit` these checks read.
struct Split<'a> {
    scheme: String,
    netloc: &'a str,
}

fn urlsplit(url: &str) -> Split<'_> {
    let (scheme, rest) = match url.split_once(':') {
        Some((s, rest))
            if s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            (s.to_ascii_lowercase(), rest)
        }
        _ => (String::new(), url),
    };
    let netloc = match rest.strip_prefix("//") {
        Some(after) => &after[..after.find(['/', '?', '#']).unwrap_or(after.len())],
        None => "",
    };
    Split { scheme, netloc }
}

/// `django.utils.http.is_same_domain`: only the pattern is lower-cased;
/// a leading dot matches the domain itself and every subdomain.
fn is_same_domain(host: &str, pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix('.') {
        Some(bare) => host.ends_with(&pattern) || host == bare,
        None => pattern == host,
    }
}

/// `_origin_verified`.
pub(crate) fn origin_verified(origin: &str, secure: bool, host: &str, trusted: &[String]) -> bool {
    let good = format!("{}://{host}", if secure { "https" } else { "http" });
    if !host.is_empty() && origin == good {
        return true;
    }
    if trusted.iter().any(|t| !t.contains('*') && t == origin) {
        return true;
    }
    let split = urlsplit(origin);
    trusted.iter().filter(|t| t.contains('*')).any(|t| {
        let allowed = urlsplit(t);
        allowed.scheme == split.scheme
            && is_same_domain(split.netloc, allowed.netloc.trim_start_matches('*'))
    })
}

/// `_check_referer`: `cookie_domain` is `CSRF_COOKIE_DOMAIN`, `port` the
/// request's.
pub(crate) fn check_referer(
    referer: Option<&str>,
    host: &str,
    port: &str,
    cookie_domain: Option<&str>,
    trusted: &[String],
) -> Result<(), String> {
    let referer = referer.ok_or(REASON_NO_REFERER)?;
    let split = urlsplit(referer);
    if split.scheme.is_empty() || split.netloc.is_empty() {
        return Err(REASON_MALFORMED_REFERER.into());
    }
    if split.scheme != "https" {
        return Err(REASON_INSECURE_REFERER.into());
    }
    // Any trusted origin's host, its scheme ignored (Django's
    // `csrf_trusted_origins_hosts`).
    if trusted
        .iter()
        .any(|t| is_same_domain(split.netloc, urlsplit(t).netloc.trim_start_matches('*')))
    {
        return Ok(());
    }
    let good = match cookie_domain {
        None => host.to_owned(),
        Some(domain) if port == "443" || port == "80" => domain.to_owned(),
        Some(domain) => format!("{domain}:{port}"),
    };
    if is_same_domain(split.netloc, &good) {
        Ok(())
    } else {
        Err(REASON_BAD_REFERER.replace("%s", referer))
    }
}
