//! Django's CSRF tokens (`django/middleware/csrf.py`): a 32-character
//! secret (kept in the cookie) and 64-character masked tokens (put in
//! forms), a fresh mask each time, so the token in a page never repeats
//! (the BREACH defence).

use shallot_guest::Error;

/// `CSRF_ALLOWED_CHARS`: the order matters, masking adds indexes.
const CHARS: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub(crate) const SECRET_LENGTH: usize = 32;
pub(crate) const TOKEN_LENGTH: usize = 64;

pub(crate) const REASON_INCORRECT_LENGTH: &str = "has incorrect length";
pub(crate) const REASON_INVALID_CHARACTERS: &str = "has invalid characters";

/// `get_random_string(32, CSRF_ALLOWED_CHARS)`, uniform over the
/// alphabet (bytes past the last whole multiple of 62 are drawn again).
pub(crate) fn new_secret() -> Result<String, Error> {
    let mut out = String::with_capacity(SECRET_LENGTH);
    while out.len() < SECRET_LENGTH {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).map_err(|e| Error::internal(format!("no randomness: {e}")))?;
        for b in bytes {
            if usize::from(b) < 62 * 4 && out.len() < SECRET_LENGTH {
                out.push(char::from(CHARS[usize::from(b) % 62]));
            }
        }
    }
    Ok(out)
}

fn index(c: u8) -> usize {
    CHARS.iter().position(|&x| x == c).unwrap_or(0)
}

/// `_mask_cipher_secret`: a new mask, then each secret character shifted
/// by the mask's.
pub(crate) fn mask(secret: &str) -> Result<String, Error> {
    let mask = new_secret()?;
    let cipher: String = secret
        .bytes()
        .zip(mask.bytes())
        .map(|(s, m)| char::from(CHARS[(index(s) + index(m)) % 62]))
        .collect();
    Ok(format!("{mask}{cipher}"))
}

/// `_unmask_cipher_token`.
pub(crate) fn unmask(token: &str) -> String {
    let (mask, cipher) = token.as_bytes().split_at(SECRET_LENGTH);
    cipher
        .iter()
        .zip(mask)
        .map(|(&c, &m)| char::from(CHARS[(index(c) + 62 - index(m)) % 62]))
        .collect()
}

/// `_check_token_format`: the length first, then the characters.
pub(crate) fn check_format(token: &str) -> Result<(), &'static str> {
    if token.len() != SECRET_LENGTH && token.len() != TOKEN_LENGTH {
        return Err(REASON_INCORRECT_LENGTH);
    }
    if !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(REASON_INVALID_CHARACTERS);
    }
    Ok(())
}

/// `_does_token_match`: a masked token is unmasked first (a raw secret,
/// as JavaScript reads it from the cookie, is accepted as it is), then
/// compared in constant time.
pub(crate) fn matches(token: &str, secret: &str) -> bool {
    let token = if token.len() == TOKEN_LENGTH {
        unmask(token)
    } else {
        token.to_owned()
    };
    token.len() == secret.len()
        && token
            .bytes()
            .zip(secret.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}
