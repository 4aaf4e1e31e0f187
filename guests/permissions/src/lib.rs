//! The user's permissions, loaded per request (the classic description of
//! the cycle: "load the user's permissions: not done by Django"), and
//! Django's `permission_required` for whole views.
//!
//! - `process_request`: for a user the `authentication` middleware loaded,
//!   the `app_label.codename` of every permission the user has directly or
//!   through a group, as Django's `get_all_permissions`, into the request
//!   attribute `user_permissions` (space-separated), which
//!   `shallot_guest::auth::has_perm` and `permission_required` read. An
//!   active superuser has every permission without a query.
//! - `process_view`: a view named in `required` (`"view:perm view2:perm2"`)
//!   needs that permission, as `@permission_required(perm)` does: without
//!   it the request is redirected (302) to `login_url` with `?next=`, or,
//!   with `raise_exception = true`, answered 403.
//!
//! Config: `database` (`default`), `required`, `login_url`
//! (`/accounts/login/`), `raise_exception` (false). Grants:
//! `sql_databases = { default = "read" }`. Runs after `authentication`.

use shallot_guest::sql::{Connection, Value};
use shallot_guest::{
    Error, Middleware, Request, Response, ViewInfo, auth, config, middleware, quote,
};

#[derive(Default)]
struct Permissions;

/// Every permission of user `$1`: its own and its groups'.
const PERMISSIONS: &str = "\
    SELECT p.app_label || '.' || p.codename AS perm FROM auth_permission p \
      JOIN auth_user_user_permissions up ON up.permission_id = p.id WHERE up.user_id = $1 \
    UNION \
    SELECT p.app_label || '.' || p.codename AS perm FROM auth_permission p \
      JOIN auth_group_permissions gp ON gp.permission_id = p.id \
      JOIN auth_user_groups ug ON ug.group_id = gp.group_id WHERE ug.user_id = $1 \
    ORDER BY perm";

/// The permission `required` names for `view`, if any.
fn required(view: &str) -> Option<String> {
    config::get("required")?
        .split_whitespace()
        .filter_map(|pair| pair.split_once(':'))
        .find(|(v, _)| *v == view)
        .map(|(_, perm)| perm.to_owned())
}

#[middleware]
impl Middleware for Permissions {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        let Some(user) = auth::user(req) else {
            return Ok(None);
        };
        if user.is_superuser {
            return Ok(None);
        }
        let database = config::get("database").unwrap_or_else(|| "default".to_owned());
        let rows = Connection::open(&database)?.query(PERMISSIONS, &[user.id.into()])?;
        let perms: Vec<&str> = (0..rows.rows.len())
            .filter_map(|i| rows.get(i, "perm").and_then(Value::as_str))
            .collect();
        req.set_attribute("user_permissions", &perms.join(" "));
        Ok(None)
    }

    fn process_view(&mut self, req: &Request, view: &ViewInfo) -> Result<Option<Response>, Error> {
        let Some(perm) = required(&view.view_name) else {
            return Ok(None);
        };
        if auth::has_perm(req, &perm) {
            return Ok(None);
        }
        if config::get("raise_exception").as_deref() == Some("true") {
            return Err(Error::permission_denied(format!(
                "permission {perm} required"
            )));
        }
        let login = config::get("login_url").unwrap_or_else(|| "/accounts/login/".to_owned());
        let resp = Response::new(302);
        resp.set_header("Location", &format!("{login}?next={}", quote(&req.path())))?;
        Ok(Some(resp))
    }
}
