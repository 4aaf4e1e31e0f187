//! Django's `SessionMiddleware` without its store: the signed cookie
//! (`sessionid=<key>.<HMAC-SHA256(secret, key)>`) and when to load, save
//! or delete. `sessions` keeps the data in a key-value store,
//! `sessions-sql` in an SQL table; each includes this file.
//!
//! `request.session` is the request attribute `session`, the session data
//! as `k=v&k2=v2` (form encoding). A later layer or view changes the
//! session by setting that attribute; on the way out the session is saved
//! (and the cookie set) only if it changed, and an emptied session is
//! deleted with its cookie, as Django does. A cookie with a bad signature
//! is ignored.
//!
//! Config shared by both: `cookie_name` (`sessionid`), `max_age_secs`
//! (1209600, two weeks), `secret_env` (`SHALLOT_SESSION_SECRET`): the name
//! of the environment variable holding the signing secret; `cookie_secure`,
//! `cookie_httponly`, `cookie_samesite` (see `cookie_flags`). The request
//! attribute `session_cycle_key` (`shallot_guest::session::cycle_key`,
//! which `auth::login` calls) moves the data to a new key.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use shallot_guest::{Error, Request, Response, config};

const ATTRIBUTE: &str = "session";
use shallot_guest::session::CYCLE_KEY_ATTRIBUTE;

/// Where session data lives.
pub(crate) trait Store {
    /// The data of session `key`, if it exists and has not expired.
    fn load(&self, key: &str) -> Result<Option<String>, Error>;
    /// Creates or replaces session `key`, expiring in `max_age_secs`.
    fn save(&self, key: &str, data: &str, max_age_secs: u64) -> Result<(), Error>;
    /// Deletes session `key`.
    fn delete(&self, key: &str) -> Result<(), Error>;
}

/// One request's session, between `process_request` and
/// `process_response`.
#[derive(Default)]
pub(crate) struct Sessions {
    /// The session key and data as loaded, to tell whether a layer changed it.
    loaded: Option<(Option<String>, String)>,
}

pub(crate) fn setting(key: &str, default: &str) -> String {
    config::get(key).unwrap_or_else(|| default.to_owned())
}

/// The cookie's flags, in the order Django writes them (Python's `Morsel`
/// sorts them): `HttpOnly` before `Max-Age`, then after `Path` SameSite
/// and Secure. Django's `SESSION_COOKIE_HTTPONLY` (`cookie_httponly`,
/// on), `SESSION_COOKIE_SAMESITE` (`cookie_samesite`, `Lax`; an empty
/// value leaves it out) and `SESSION_COOKIE_SECURE` (`cookie_secure`, off).
struct Flags {
    http_only: &'static str,
    after_path: String,
}

fn cookie_flags() -> Flags {
    let on = |key: &str, default: &str| setting(key, default) == "true";
    let mut after_path = String::new();
    let same_site = setting("cookie_samesite", "Lax");
    if !same_site.is_empty() {
        after_path.push_str(&format!("; SameSite={same_site}"));
    }
    if on("cookie_secure", "false") {
        after_path.push_str("; Secure");
    }
    Flags {
        http_only: if on("cookie_httponly", "true") {
            "; HttpOnly"
        } else {
            ""
        },
        after_path,
    }
}

fn secret() -> Result<Vec<u8>, Error> {
    let var = setting("secret_env", "SHALLOT_SESSION_SECRET");
    match std::env::var(&var) {
        Ok(s) if !s.is_empty() => Ok(s.into_bytes()),
        _ => Err(Error::internal(format!(
            "sessions: no signing secret: grant the environment variable {var} (env = [\"{var}\"])"
        ))),
    }
}

fn sign(secret: &[u8], key: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(key.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The session key from a valid signed cookie.
fn session_key(req: &Request, secret: &[u8]) -> Option<String> {
    let name = setting("cookie_name", "sessionid");
    let value = shallot_guest::cookie(req, &name)?;
    let (key, signature) = value.rsplit_once('.')?;
    // Compare as MACs do: the length is public, the content is not.
    let expected = sign(secret, key);
    let same = expected.len() == signature.len()
        && expected
            .bytes()
            .zip(signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then(|| key.to_owned())
}

impl Sessions {
    /// `process_request`: loads the session named by the cookie (the store
    /// is opened only if there is one) into the `session` attribute.
    pub(crate) fn load<S: Store>(
        &mut self,
        req: &Request,
        store: impl FnOnce() -> Result<S, Error>,
    ) -> Result<(), Error> {
        let secret = secret()?;
        let key = session_key(req, &secret);
        let data = match &key {
            Some(k) => store()?.load(k)?.unwrap_or_default(),
            None => String::new(),
        };
        req.set_attribute(ATTRIBUTE, &data);
        self.loaded = Some((key, data));
        Ok(())
    }

    /// `process_response`: saves a changed session and sets its cookie, or
    /// deletes an emptied one with its cookie.
    pub(crate) fn save<S: Store>(
        &mut self,
        req: &Request,
        resp: Response,
        store: impl FnOnce() -> Result<S, Error>,
    ) -> Result<Response, Error> {
        let Some((key, loaded)) = self.loaded.take() else {
            return Ok(resp);
        };
        let data = req.attribute(ATTRIBUTE).unwrap_or_default();
        // Django's `cycle_key` (what `login` does): the data moves to a new
        // key and the old one is deleted, so a key planted before login
        // (session fixation) is worth nothing after it.
        let cycle = req.attribute(CYCLE_KEY_ATTRIBUTE).is_some() && !data.is_empty();
        if data == loaded && !cycle {
            return Ok(resp);
        }
        let name = setting("cookie_name", "sessionid");
        let flags = cookie_flags();
        let store = store()?;
        if data.is_empty() {
            if let Some(k) = key {
                store.delete(&k)?;
            }
            resp.append_header(
                "Set-Cookie",
                &format!(
                    "{name}=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/{}",
                    flags.after_path
                ),
            )?;
            return Ok(resp);
        }
        let max_age: u64 = setting("max_age_secs", "1209600")
            .parse()
            .unwrap_or(1_209_600);
        let key = match key {
            Some(old) if cycle => {
                store.delete(&old)?;
                None
            }
            key => key,
        };
        let key = key.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        store.save(&key, &data, max_age)?;
        let cookie = format!("{key}.{}", sign(&secret()?, &key));
        resp.append_header(
            "Set-Cookie",
            &format!(
                "{name}={cookie}{}; Max-Age={max_age}; Path=/{}",
                flags.http_only, flags.after_path
            ),
        )?;
        Ok(resp)
    }
}
