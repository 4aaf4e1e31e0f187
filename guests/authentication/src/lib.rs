//! Django's `AuthenticationMiddleware`: `request.user` from the session,
//! loaded from the database. The session's `user` entry (the username the
//! `account` login view stores) is looked up in `auth_user`; an active user
//! becomes the request attributes `user` (username), `user_id`,
//! `user_is_staff` and `user_is_superuser` (`1`/`0`), which
//! `shallot_guest::auth::user` reads. No entry, a user since deleted or
//! made inactive: the request is anonymous (no attributes), as Django's
//! session verification makes it. Runs after `sessions` or `sessions-sql`.
//!
//! Config: `database` (`default`). Grants: `sql_databases = { default = "read" }`
//! (it only reads). Tables: `examples/auth/migrations`.

use shallot_guest::sql::{Connection, Value};
use shallot_guest::{Error, Middleware, Request, Response, auth, config, middleware};

#[derive(Default)]
struct Authentication;

fn flag(v: Option<&Value>) -> &'static str {
    if v.and_then(Value::as_i64).unwrap_or(0) != 0 {
        "1"
    } else {
        "0"
    }
}

#[middleware]
impl Middleware for Authentication {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        let Some(username) = auth::session_user(req) else {
            return Ok(None);
        };
        let database = config::get("database").unwrap_or_else(|| "default".to_owned());
        let db = Connection::open(&database)?;
        // `WHERE is_active` is portable: a boolean on PostgreSQL, 0/1 on SQLite.
        let rows = db.query(
            "SELECT id, username, is_staff, is_superuser FROM auth_user \
             WHERE username = $1 AND is_active",
            &[username.into()],
        )?;
        let Some(id) = rows.get(0, "id").and_then(Value::as_i64) else {
            return Ok(None);
        };
        req.set_attribute("user_id", &id.to_string());
        req.set_attribute(
            "user",
            rows.get(0, "username")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        );
        req.set_attribute("user_is_staff", flag(rows.get(0, "is_staff")));
        req.set_attribute("user_is_superuser", flag(rows.get(0, "is_superuser")));
        Ok(None)
    }
}
