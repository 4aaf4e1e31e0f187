//! From the raw request target to the text Django matches routes against.

use std::borrow::Cow;
use std::fmt::Write as _;

use percent_encoding::percent_decode_str;

/// Django's `request.path`: percent-decode a raw path into a String the
/// way WSGI + Django do.
///
/// The WSGI server unquotes every `%XX` (so `%2F` becomes '/') and leaves a
/// '%' not followed by two hex digits as it is; Django then re-escapes the
/// bytes that are not valid UTF-8 (`repercent_broken_unicode`), so decoding
/// never fails. An empty path is "/", and `request.path` is built as
/// `SCRIPT_NAME + "/" + PATH_INFO` with the first '/' of `PATH_INFO`
/// removed, which for a path starting with '/' is the path itself.
pub fn decode_path(raw_path: &str) -> String {
    let path_info = path_info(raw_path);
    format!("/{}", path_info.replacen('/', "", 1))
}

/// Django's `request.path_info` (no `SCRIPT_NAME`): what URL resolution
/// runs on.
pub(super) fn path_info(raw_path: &str) -> String {
    let bytes: Cow<'_, [u8]> = percent_decode_str(raw_path).into();
    let decoded = repercent_broken_unicode(&bytes);
    if decoded.is_empty() {
        "/".to_owned()
    } else {
        decoded
    }
}

/// RFC 3987 §3.2 step three, as Django does it: each byte that is not part
/// of a well-formed UTF-8 sequence becomes `%XX` (upper-case hex).
fn repercent_broken_unicode(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                out.push_str(valid);
                return out;
            }
            Err(err) => {
                let (valid, rest) = bytes.split_at(err.valid_up_to());
                out.push_str(&String::from_utf8_lossy(valid));
                // A sequence cut short by the end of the path is broken
                // as a whole, as Python's "unexpected end of data".
                let broken = err.error_len().unwrap_or(rest.len());
                for byte in &rest[..broken] {
                    let _ = write!(out, "%{byte:02X}");
                }
                bytes = &rest[broken..];
            }
        }
    }
}
