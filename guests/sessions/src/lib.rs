//! Django's `SessionMiddleware`, with the data in a key-value store (the
//! cookie and the rules are in `signed.rs`, shared with `sessions-sql`).
//!
//! Config: `store` (`sessions`), and `signed.rs`'s `cookie_name`,
//! `max_age_secs`, `secret_env`.
//! Grants: `key_value_stores = ["sessions"]`, `env = ["SHALLOT_SESSION_SECRET"]`.

mod signed;

use shallot_guest::{Error, Middleware, Request, Response, kv, middleware};
use signed::{Sessions, Store, setting};

struct KvStore(kv::Store);

impl Store for KvStore {
    fn load(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self
            .0
            .get(key)?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    fn save(&self, key: &str, data: &str, max_age_secs: u64) -> Result<(), Error> {
        // The store expires it: a TTL in milliseconds.
        self.0.set(key, data.as_bytes(), Some(max_age_secs * 1000))
    }

    fn delete(&self, key: &str) -> Result<(), Error> {
        self.0.delete(key)?;
        Ok(())
    }
}

fn store() -> Result<KvStore, Error> {
    Ok(KvStore(kv::Store::open(&setting("store", "sessions"))?))
}

#[middleware]
impl Middleware for Sessions {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        self.load(req, store)?;
        Ok(None)
    }

    fn process_response(&mut self, req: &Request, resp: Response) -> Result<Response, Error> {
        self.save(req, resp, store)
    }
}
