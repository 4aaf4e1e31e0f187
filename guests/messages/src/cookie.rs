//! Django's `CookieStorage` (`storage/cookie.py`): the messages in a
//! cookie signed the way Django's `signing.get_cookie_signer(salt=
//! "django.contrib.messages")` signs (`sign_object(..., compress=True)`):
//! `[.]<base64url(json, zlib-compressed when that is shorter)>:<base64url(
//! HMAC-SHA256)>`, keyed with SHA-256 of `"django.contrib.messagessigner"
//! + "django.http.cookies" + secret`. With the secret being Django's
//! `SECRET_KEY`, Django reads these cookies and Shallot reads Django's.
//!
//! Config: `cookie_name` (`messages`), `max_cookie_size` (2048 bytes;
//! 0: no limit), `secret_env` (`SHALLOT_SESSION_SECRET`: the environment
//! variable holding the secret), and the session cookie's attributes,
//! which Django uses for this cookie too: `cookie_domain` (none),
//! `cookie_secure` (false), `cookie_httponly` (true), `cookie_samesite`
//! (`Lax`; empty for none).

use std::io::{Read, Write};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use shallot_guest::messages::Message;
use shallot_guest::{Error, Request, Response};

use crate::stored::{self, NOT_FINISHED};
use crate::{flag, setting};

/// Django's `signing.Signer` salt for this storage, and the prefix
/// `get_cookie_signer` puts before the secret.
const SALT: &[u8] = b"django.contrib.messagessigner";
const COOKIE_KEY_PREFIX: &[u8] = b"django.http.cookies";
/// A decompressed cookie is at most this long; one that would be longer
/// is not ours (its signature already held, so this is belt and braces).
const MAX_DECOMPRESSED: u64 = 1 << 20;

pub(crate) struct CookieStorage {
    name: String,
    secret: Vec<u8>,
    max_cookie_size: usize,
    domain: String,
    secure: bool,
    httponly: bool,
    samesite: String,
}

impl CookieStorage {
    /// The storage as the config sets it; fails without the secret.
    pub(crate) fn from_config() -> Result<Self, Error> {
        let var = setting("secret_env", "SHALLOT_SESSION_SECRET");
        let secret = match std::env::var(&var) {
            Ok(s) if !s.is_empty() => s.into_bytes(),
            _ => {
                return Err(Error::internal(format!(
                    "messages: no signing secret for the cookie storage: grant the environment \
                     variable {var} (env = [\"{var}\"])"
                )));
            }
        };
        let size = setting("max_cookie_size", "2048");
        let max_cookie_size = size.trim().parse().map_err(|_| {
            Error::internal(format!(
                "messages: max_cookie_size must be a whole number of bytes, not {size:?}"
            ))
        })?;
        Ok(CookieStorage {
            name: setting("cookie_name", "messages"),
            secret,
            max_cookie_size,
            domain: setting("cookie_domain", ""),
            secure: flag("cookie_secure", false)?,
            httponly: flag("cookie_httponly", true)?,
            samesite: setting("cookie_samesite", "Lax"),
        })
    }

    /// Django's `_get`: the messages in a valid cookie and whether they
    /// are all of them (no `NOT_FINISHED` sentinel); `None` when there is
    /// no cookie, or one that is tampered with or malformed (ignored).
    pub(crate) fn get(&self, req: &Request) -> Option<(Vec<Message>, bool)> {
        let data = shallot_guest::cookie(req, &self.name).filter(|d| !d.is_empty())?;
        let (messages, not_finished) = self.decode(&data)?;
        Some((messages, !not_finished))
    }

    /// Django's `_store`: sets the cookie to `messages`, or deletes it when
    /// there are none. Past `max_cookie_size` the messages that do not fit
    /// are left out, the oldest (`remove_oldest`) or the newest (under
    /// `fallback`, which keeps them in the session), a `NOT_FINISHED`
    /// sentinel is added, and those left out are returned.
    pub(crate) fn store(
        &self,
        resp: &Response,
        mut messages: Vec<Message>,
        remove_oldest: bool,
    ) -> Result<Vec<Message>, Error> {
        let parts: Vec<String> = messages.iter().map(stored::part).collect();
        let mut encoded = (!parts.is_empty()).then(|| self.encode_parts(&parts));
        let mut unstored = Vec::new();
        if self.max_cookie_size > 0 && encoded.as_ref().is_some_and(|e| self.too_large(e)) {
            // Django's `compute_msg`: some of the parts and the sentinel.
            let with_sentinel = |some: &[String]| {
                let mut parts = some.to_vec();
                parts.push(format!("\"{NOT_FINISHED}\""));
                self.encode_parts(&parts)
            };
            if remove_oldest {
                let idx = bisect_keep_right(&parts, |m| self.too_large(&with_sentinel(m)));
                unstored = messages.drain(..idx).collect();
                encoded = Some(with_sentinel(&parts[idx..]));
            } else {
                let idx = bisect_keep_left(&parts, |m| self.too_large(&with_sentinel(m)));
                unstored = messages.split_off(idx);
                encoded = Some(with_sentinel(&parts[..idx]));
            }
        }
        match encoded {
            Some(value) => resp.append_header("Set-Cookie", &self.set_cookie(&value))?,
            None => resp.append_header("Set-Cookie", &self.delete_cookie())?,
        }
        Ok(unstored)
    }

    /// Django's `is_too_large_for_cookie`: the value is written as it is
    /// (base64url, `.` and `:` need no quoting in a cookie), so its length
    /// is what counts.
    fn too_large(&self, encoded: &str) -> bool {
        !encoded.is_empty() && encoded.len() > self.max_cookie_size
    }

    /// `signer.sign_object(parts, serializer=MessagePartGatherSerializer,
    /// compress=True)`.
    fn encode_parts(&self, parts: &[String]) -> String {
        let data = stored::gather(parts).into_bytes();
        let compressed = zlib(&data);
        let base64d = if compressed.len() + 1 < data.len() {
            format!(".{}", b64_encode(&compressed))
        } else {
            b64_encode(&data)
        };
        let signature = self.signature(&base64d);
        format!("{base64d}:{signature}")
    }

    /// `signer.unsign_object(data, serializer=MessageSerializer)`, `None`
    /// where Django catches `BadSignature`, `binascii.Error` or
    /// `JSONDecodeError`.
    fn decode(&self, data: &str) -> Option<(Vec<Message>, bool)> {
        let (value, signature) = data.rsplit_once(':')?;
        if !constant_time_eq(signature.as_bytes(), self.signature(value).as_bytes()) {
            return None;
        }
        let (compressed, base64d) = match value.strip_prefix('.') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let mut bytes = b64_decode(base64d)?;
        if compressed {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(bytes.as_slice())
                .take(MAX_DECOMPRESSED)
                .read_to_end(&mut out)
                .ok()?;
            bytes = out;
        }
        // Django decodes it as latin-1; the JSON it writes is ASCII.
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        stored::decode(&text)
    }

    /// Django's `base64_hmac(salt + "signer", value, key, "sha256")` with
    /// `salted_hmac`'s key: SHA-256 of the salt and the cookie signer's key.
    fn signature(&self, value: &str) -> String {
        let key = Sha256::new()
            .chain_update(SALT)
            .chain_update(COOKIE_KEY_PREFIX)
            .chain_update(&self.secret)
            .finalize();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
        mac.update(value.as_bytes());
        b64_encode(&mac.finalize().into_bytes())
    }

    /// `response.set_cookie(name, value, domain=, secure=, httponly=,
    /// samesite=)`, its attributes in the order Python's `Morsel` writes
    /// them (sorted by name).
    fn set_cookie(&self, value: &str) -> String {
        let mut cookie = format!("{}={value}", self.name);
        if !self.domain.is_empty() {
            cookie.push_str(&format!("; Domain={}", self.domain));
        }
        if self.httponly {
            cookie.push_str("; HttpOnly");
        }
        cookie.push_str("; Path=/");
        if !self.samesite.is_empty() {
            cookie.push_str(&format!("; SameSite={}", self.samesite));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie
    }

    /// `response.delete_cookie(name, domain=, samesite=)`: empty, expired.
    fn delete_cookie(&self) -> String {
        let mut cookie = format!("{}=\"\"", self.name);
        if !self.domain.is_empty() {
            cookie.push_str(&format!("; Domain={}", self.domain));
        }
        cookie.push_str("; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/");
        if !self.samesite.is_empty() {
            cookie.push_str(&format!("; SameSite={}", self.samesite));
        }
        // Django's delete_cookie sets Secure for __Secure-/__Host- names
        // or SameSite=None, as browsers require.
        if self.name.starts_with("__Secure-")
            || self.name.starts_with("__Host-")
            || self.samesite.eq_ignore_ascii_case("none")
        {
            cookie.push_str("; Secure");
        }
        cookie
    }
}

/// Django's `bisect_keep_left`: the first `i` for which `fn(a[:i+1])`
/// holds (binary search, assuming it stays true from there on).
fn bisect_keep_left(a: &[String], f: impl Fn(&[String]) -> bool) -> usize {
    let (mut lo, mut hi) = (0, a.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if f(&a[..=mid]) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Django's `bisect_keep_right`: the first `i` for which `fn(a[i:])` no
/// longer holds.
fn bisect_keep_right(a: &[String], f: impl Fn(&[String]) -> bool) -> usize {
    let (mut lo, mut hi) = (0, a.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if f(&a[mid..]) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Python's `zlib.compress(data)` (level 6).
fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Django's `b64_encode`: URL-safe base64 without `=` padding.
fn b64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Django's `b64_decode`, strict: `None` for a character outside the
/// URL-safe alphabet or an impossible length.
fn b64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = B64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    (bits < 6).then_some(out)
}
