//! Django's `SessionMiddleware`, with the data in a key-value store and a
//! signed cookie: `sessionid=<key>.<HMAC-SHA256(secret, key)>`.
//!
//! `request.session` is the request attribute `session`, the session data
//! as `k=v&k2=v2` (form encoding). A later layer or view changes the session
//! by setting that attribute; on the way out the session is saved (and the
//! cookie set) only if it changed, and an emptied session is deleted with
//! its cookie, as Django does. A cookie with a bad signature is ignored.
//!
//! Config: `cookie_name` (`sessionid`), `store` (`sessions`), `max_age_secs`
//! (1209600, two weeks), `secret_env` (`SHALLOT_SESSION_SECRET`): the name
//! of the environment variable holding the signing secret.
//! Grants: `key_value_stores = ["sessions"]`, `env = ["SHALLOT_SESSION_SECRET"]`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use shallot_guest::{Error, Middleware, Request, Response, config, kv, middleware};

const ATTRIBUTE: &str = "session";

#[derive(Default)]
struct Sessions {
    /// The session key and data as loaded, to tell whether a layer changed it.
    loaded: Option<(Option<String>, String)>,
}

fn setting(key: &str, default: &str) -> String {
    config::get(key).unwrap_or_else(|| default.to_owned())
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
    let cookies = req.header("Cookie")?;
    let value = cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)?
        .1;
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

fn store() -> Result<kv::Store, Error> {
    kv::Store::open(&setting("store", "sessions"))
}

#[middleware]
impl Middleware for Sessions {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        let secret = secret()?;
        let key = session_key(req, &secret);
        let data = match &key {
            Some(k) => store()?
                .get(k)?
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default(),
            None => String::new(),
        };
        req.set_attribute(ATTRIBUTE, &data);
        self.loaded = Some((key, data));
        Ok(None)
    }

    fn process_response(&mut self, req: &Request, resp: Response) -> Result<Response, Error> {
        let Some((key, loaded)) = self.loaded.take() else {
            return Ok(resp);
        };
        let data = req.attribute(ATTRIBUTE).unwrap_or_default();
        if data == loaded {
            return Ok(resp);
        }
        let name = setting("cookie_name", "sessionid");
        let store = store()?;
        if data.is_empty() {
            if let Some(k) = key {
                store.delete(&k)?;
            }
            resp.append_header(
                "Set-Cookie",
                &format!("{name}=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax"),
            )?;
            return Ok(resp);
        }
        let max_age: u64 = setting("max_age_secs", "1209600")
            .parse()
            .unwrap_or(1_209_600);
        let key = key.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        store.set(&key, data.as_bytes(), Some(max_age * 1000))?;
        let cookie = format!("{key}.{}", sign(&secret()?, &key));
        resp.append_header(
            "Set-Cookie",
            &format!("{name}={cookie}; HttpOnly; Max-Age={max_age}; Path=/; SameSite=Lax"),
        )?;
        Ok(resp)
    }
}
