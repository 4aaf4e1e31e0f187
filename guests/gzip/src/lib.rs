//! Django's `GZipMiddleware` (`django/middleware/gzip.py`): compresses a
//! response for a client whose `Accept-Encoding` mentions gzip, in
//! Django's order:
//!
//! 1. a body under 200 bytes, or a `Content-Encoding` already set: left
//!    alone (no `Vary` either);
//! 2. `Accept-Encoding` patched into `Vary`, whether or not the client
//!    takes gzip, before it is asked;
//! 3. `\bgzip\b` searched in `Accept-Encoding` (no q-values: `gzip;q=0`
//!    matches, as in Django);
//! 4. `compress_string` with the BREACH padding; a result not shorter than
//!    the body is dropped (`Vary` stays);
//! 5. `Content-Length` set to the compressed size, a strong `ETag` made
//!    weak, `Content-Encoding: gzip`.
//!
//! A streaming response is not compressed: its body never passes through
//! middleware here (the host pulls it from the view after every
//! `process-response`), so it gets steps 1-3, `Vary` included, and nothing
//! else. Django would wrap its `streaming_content` instead.
//!
//! Config: `max_random_bytes` (default 100), Django's class attribute of
//! that name.

use std::io::Write;

use flate2::{Compression, GzBuilder};
use shallot_guest::{Error, Middleware, Request, Response, config, middleware, patch_vary_headers};

/// Django's `GZipMiddleware.max_random_bytes`, which a subclass may
/// override; here the `max_random_bytes` config key (0 turns the padding
/// off, as in Django).
const MAX_RANDOM_BYTES: u32 = 100;

/// Django's threshold: "not worth attempting to compress really short
/// responses".
const MIN_LENGTH: usize = 200;

#[derive(Default)]
struct GZip;

#[middleware]
impl Middleware for GZip {
    fn process_response(&mut self, req: &Request, resp: Response) -> Result<Response, Error> {
        // Reading the body of a streaming response raises, as in Django.
        let content = (!resp.is_streaming()).then(|| resp.body());
        if content.as_ref().is_some_and(|c| c.len() < MIN_LENGTH) {
            return Ok(resp);
        }
        if resp.has_header("Content-Encoding") {
            return Ok(resp);
        }
        patch_vary_headers(&resp, &["Accept-Encoding"])?;
        if !accepts_gzip(&req.header("Accept-Encoding").unwrap_or_default()) {
            return Ok(resp);
        }
        let Some(content) = content else {
            // Streaming: the body cannot be wrapped from here (see above).
            return Ok(resp);
        };
        let compressed = compress_string(&content, max_random_bytes()?)?;
        if compressed.len() >= content.len() {
            return Ok(resp);
        }
        // Layers further out see Django's header; the host drops it on the
        // way out and frames the body itself, with the same length.
        resp.set_header("Content-Length", &compressed.len().to_string())?;
        resp.set_body(&compressed);
        // RFC 9110 8.8.1: the gzip bytes are not the bytes a strong ETag
        // named, but conditional requests should still match weakly.
        if let Some(etag) = resp.header("ETag").filter(|e| e.starts_with('"')) {
            resp.set_header("ETag", &format!("W/{etag}"))?;
        }
        resp.set_header("Content-Encoding", "gzip")?;
        Ok(resp)
    }
}

/// `re.search(r"\bgzip\b", accept_encoding)`: case-sensitive, `gzip` with
/// a non-word character (or nothing) on each side.
fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.match_indices("gzip").any(|(at, word)| {
        let before = accept_encoding[..at].chars().next_back();
        let after = accept_encoding[at + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// Python's `\w` on `str`: alphanumeric (Unicode) or `_`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The `max_random_bytes` config value, `MAX_RANDOM_BYTES` when unset.
fn max_random_bytes() -> Result<u32, Error> {
    config::get("max_random_bytes").map_or(Ok(MAX_RANDOM_BYTES), |v| {
        v.parse().map_err(|_| {
            Error::internal(format!(
                "gzip: max_random_bytes must be a whole number, not {v:?}"
            ))
        })
    })
}

/// `django.utils.text.compress_string(s, max_random_bytes=N)`: gzip at
/// level 6 with mtime 0, XFL 0 and OS 255 (what `gzip.compress` writes);
/// when N > 0, FLG set to FNAME and a name of `randbelow(N)` `a` bytes
/// (plus its NUL) to mitigate BREACH: the length of the response no longer
/// tells an attacker how well a guessed secret compressed.
fn compress_string(content: &[u8], max_random_bytes: u32) -> Result<Vec<u8>, Error> {
    // flate2 writes XFL 0 for level 6; mtime and OS are set to Django's.
    let mut builder = GzBuilder::new().mtime(0).operating_system(255);
    if max_random_bytes > 0 {
        builder = builder.filename(vec![b'a'; randbelow(max_random_bytes)? as usize]);
    }
    let mut gz = builder.write(Vec::with_capacity(content.len() / 2), Compression::new(6));
    gz.write_all(content)
        .and_then(|()| gz.finish())
        .map_err(|e| Error::internal(format!("gzip failed: {e}")))
}

/// `secrets.randbelow(n)` as CPython computes it: `n.bit_length()` random
/// bits, drawn again while they are `>= n`, so every value is equally
/// likely.
fn randbelow(n: u32) -> Result<u32, Error> {
    let mask = u32::MAX >> n.leading_zeros();
    loop {
        let r = getrandom::u32()
            .map_err(|e| Error::internal(format!("no randomness for the gzip padding: {e}")))?
            & mask;
        if r < n {
            return Ok(r);
        }
    }
}
