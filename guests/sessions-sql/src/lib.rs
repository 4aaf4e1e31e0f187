//! Django's `SessionMiddleware` with the database backend
//! (`django.contrib.sessions.backends.db`): the session data in the table
//! `shallot_sessions` (`session_key`, `session_data`, `expire_date` in Unix
//! seconds), which the database's migrations create (see
//! `examples/auth/migrations`). The cookie and the rules are `sessions`'s
//! (`../sessions/src/signed.rs`). Expired rows are not read; deleting them
//! is left to the operator, as Django leaves it to `clearsessions`.
//!
//! Config: `database` (`default`), and `signed.rs`'s `cookie_name`,
//! `max_age_secs`, `secret_env`.
//! Grants: `sql_databases = ["default"]`, `env = ["SHALLOT_SESSION_SECRET"]`.

#[path = "../../sessions/src/signed.rs"]
mod signed;

use shallot_guest::sql::{Connection, Value};
use shallot_guest::{Error, Middleware, Request, Response, middleware};
use signed::{Sessions, Store, setting};

struct SqlStore(Connection);

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Store for SqlStore {
    fn load(&self, key: &str) -> Result<Option<String>, Error> {
        let rows = self.0.query(
            "SELECT session_data FROM shallot_sessions WHERE session_key = $1 AND expire_date > $2",
            &[key.into(), now().into()],
        )?;
        Ok(rows
            .get(0, "session_data")
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    fn save(&self, key: &str, data: &str, max_age_secs: u64) -> Result<(), Error> {
        // An upsert both SQLite and PostgreSQL run.
        self.0.execute(
            "INSERT INTO shallot_sessions (session_key, session_data, expire_date) VALUES ($1, $2, $3) \
             ON CONFLICT (session_key) DO UPDATE \
             SET session_data = excluded.session_data, expire_date = excluded.expire_date",
            &[
                key.into(),
                data.into(),
                (now() + max_age_secs as i64).into(),
            ],
        )?;
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), Error> {
        self.0.execute(
            "DELETE FROM shallot_sessions WHERE session_key = $1",
            &[key.into()],
        )?;
        Ok(())
    }
}

fn store() -> Result<SqlStore, Error> {
    Ok(SqlStore(Connection::open(&setting("database", "default"))?))
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
