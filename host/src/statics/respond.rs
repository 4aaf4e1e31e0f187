//! The HTTP side of a static file: the representation `Accept-Encoding`
//! picks, conditional requests (RFC 9110 §13: `If-None-Match` before
//! `If-Modified-Since`), one byte range (§14: `206`, `416`, `If-Range`) and
//! `HEAD`.

use std::io::{Seek, SeekFrom};
use std::ops::Range;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};

use super::entry::{Coding, Entry, Variant, http_date_secs};
use crate::server::Body;

/// The response for `entry`, or an error opening a large file.
pub(super) fn respond(
    entry: &Entry,
    method: &Method,
    headers: &HeaderMap,
) -> std::io::Result<Response<Body>> {
    let variant = choose(entry, headers);
    let mut resp = Response::new(Body::empty());
    let h = resp.headers_mut();
    h.insert(header::ETAG, variant.etag.clone());
    h.insert(header::LAST_MODIFIED, entry.last_modified.clone());
    h.insert(header::CACHE_CONTROL, entry.cache_control.clone());
    if entry.varies() {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if not_modified(entry, variant, headers) {
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        return Ok(resp);
    }
    h.insert(header::CONTENT_TYPE, entry.content_type.clone());
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(token) = variant.coding.token() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
    }
    let range = match range(entry, variant, headers) {
        Ranged::Whole => 0..variant.len,
        Ranged::Part(r) => {
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
            let value = format!("bytes {}-{}/{}", r.start, r.end - 1, variant.len);
            resp.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&value).expect("digits"),
            );
            r
        }
        Ranged::Unsatisfiable => {
            *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let value = format!("bytes */{}", variant.len);
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&value).expect("digits"),
            );
            h.remove(header::CONTENT_ENCODING);
            h.remove(header::CONTENT_TYPE);
            return Ok(resp);
        }
    };
    let len = range.end - range.start;
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if method == Method::HEAD || len == 0 {
        return Ok(resp);
    }
    *resp.body_mut() = match &variant.data {
        Some(data) => Body::full(data.slice(usize_of(range.start)..usize_of(range.end))),
        None => {
            let mut file = std::fs::File::open(&variant.path)?;
            file.seek(SeekFrom::Start(range.start))?;
            Body::file(file, len)
        }
    };
    Ok(resp)
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).expect("a held file is small")
}

/// The smallest representation the client accepts: brotli, then gzip,
/// then the file itself.
fn choose<'e>(entry: &'e Entry, headers: &HeaderMap) -> &'e Variant {
    let identity = &entry.variants[0];
    if !entry.varies() {
        return identity;
    }
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    for (coding, _, token) in Coding::COMPRESSED {
        if accepts(&accept, token)
            && let Some(v) = entry.variants.iter().find(|v| v.coding == coding)
        {
            return v;
        }
    }
    identity
}

/// Whether `Accept-Encoding` allows `token` (listed, or `*`, with q > 0;
/// an explicit entry for the token wins over `*`).
fn accepts(accept: &[&str], token: &str) -> bool {
    let mut star = None;
    for item in accept.iter().flat_map(|v| v.split(',')) {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(token) {
            return q > 0.0;
        }
        if name == "*" {
            star = Some(q > 0.0);
        }
    }
    star.unwrap_or(false)
}

/// RFC 9110 §13.2.2: `If-None-Match` decides when present (weak
/// comparison); otherwise `If-Modified-Since`.
fn not_modified(entry: &Entry, variant: &Variant, headers: &HeaderMap) -> bool {
    if let Some(inm) = headers.get(header::IF_NONE_MATCH) {
        return etag_listed(inm, &variant.etag, false);
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(http_date_secs)
        .is_some_and(|since| entry.mtime_secs <= since)
}

/// Whether `list` (an `If-None-Match` / `If-Range` value) names `etag`;
/// `strong` refuses weak tags (`W/"..."`), as `If-Range` must.
fn etag_listed(list: &HeaderValue, etag: &HeaderValue, strong: bool) -> bool {
    let Ok(list) = list.to_str() else {
        return false;
    };
    let ours = etag.to_str().unwrap_or("");
    list.split(',').map(str::trim).any(|tag| {
        if tag == "*" {
            return !strong;
        }
        match tag.strip_prefix("W/") {
            Some(weak) => !strong && weak == ours,
            None => tag == ours,
        }
    })
}

enum Ranged {
    Whole,
    Part(Range<u64>),
    Unsatisfiable,
}

/// One `bytes=` range. Several ranges, another unit or a syntax error get
/// the whole file (RFC 9110 §14.2 lets a server ignore `Range`); so does a
/// stale `If-Range`.
fn range(entry: &Entry, variant: &Variant, headers: &HeaderMap) -> Ranged {
    let Some(spec) = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Ranged::Whole;
    };
    if let Some(if_range) = headers.get(header::IF_RANGE) {
        let fresh = if if_range.as_bytes().first() == Some(&b'"')
            || if_range.as_bytes().starts_with(b"W/")
        {
            etag_listed(if_range, &variant.etag, true)
        } else {
            http_date_secs(if_range) == Some(entry.mtime_secs)
        };
        if !fresh {
            return Ranged::Whole;
        }
    }
    if spec.contains(',') {
        return Ranged::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ranged::Whole;
    };
    let len = variant.len;
    let parse = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (
        parse(first),
        first.trim().is_empty(),
        parse(last),
        last.trim().is_empty(),
    ) {
        // bytes=-N: the last N bytes.
        (None, true, Some(n), _) => {
            // An empty suffix, or any suffix of an empty file, selects
            // nothing.
            if n == 0 || len == 0 {
                Ranged::Unsatisfiable
            } else {
                Ranged::Part(len.saturating_sub(n)..len)
            }
        }
        // bytes=A- and bytes=A-B.
        (Some(a), _, b, open) if b.is_some() || open => {
            if b.is_some_and(|b| b < a) {
                return Ranged::Whole;
            }
            if a >= len {
                return Ranged::Unsatisfiable;
            }
            let end = b.map_or(len, |b| (b + 1).min(len));
            Ranged::Part(a..end)
        }
        _ => Ranged::Whole,
    }
}

/// A bodyless response with `status` and a short text, for the statuses the
/// static server answers itself (404, 405, 500).
pub(super) fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut resp = Response::new(Body::full(Bytes::from_static(text.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_encoding_q_values() {
        assert!(accepts(&["gzip, br"], "br"));
        assert!(accepts(&["br;q=0.5"], "br"));
        assert!(!accepts(&["br;q=0, gzip"], "br"));
        assert!(accepts(&["*"], "gzip"));
        assert!(!accepts(&["*;q=0"], "gzip"));
        assert!(!accepts(&["gzip;q=0, *"], "gzip"));
        assert!(!accepts(&["identity"], "gzip"));
        assert!(!accepts(&[], "gzip"));
    }
}
