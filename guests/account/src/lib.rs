//! Account views over the sessions middleware, chosen by the `page` config:
//!
//! - `login`: `POST` a form with `username` -> the session's `user` is set
//!   and the response redirects (302) to `next` (from the query) or `/`;
//! - `logout`: `POST` only, as Django's `LogoutView`: Django's `logout()`
//!   (the session flushed), then redirects to `redirect_url` (`/`);
//! - `whoami`: `text/plain` "hello, <user>" (protect it with
//!   `login-required`);
//! - `perm`: Django's `@permission_required(permission, raise_exception=True)`
//!   in the view, through `shallot_guest::auth`: "<user> may <permission>",
//!   or 403 (needs the `authentication` and `permissions` middleware).

use shallot_guest::{
    Error, Request, Response, ViewInfo, config, form_value, is_safe_redirect, require_method, view,
};

fn redirect(to: &str) -> Result<Response, Error> {
    let resp = Response::new(302);
    resp.set_header("Location", to)?;
    Ok(resp)
}

#[view]
fn handle(req: &Request, _view: ViewInfo) -> Result<Response, Error> {
    match config::get("page").as_deref() {
        Some("login") => {
            if let Some(not_allowed) = require_method(req, &["POST"]) {
                return Ok(not_allowed);
            }
            let body = String::from_utf8(req.body())
                .map_err(|_| Error::bad_request("form is not UTF-8"))?;
            let user = form_value(&body, "username")
                .filter(|u| !u.is_empty() && u.bytes().all(|b| b.is_ascii_alphanumeric()))
                .ok_or_else(|| Error::bad_request("username: letters and digits only"))?;
            shallot_guest::auth::login(req, &user);
            let next = form_value(&req.query(), "next").filter(|n| is_safe_redirect(n));
            redirect(next.as_deref().unwrap_or("/"))
        }
        Some("logout") => {
            // Django's LogoutView answers POST only: a link on another
            // site must not log the user out.
            if let Some(not_allowed) = require_method(req, &["POST"]) {
                return Ok(not_allowed);
            }
            shallot_guest::auth::logout(req);
            redirect(&config::get("redirect_url").unwrap_or_else(|| "/".to_owned()))
        }
        Some("whoami") => {
            let user = req
                .attribute("user")
                .unwrap_or_else(|| "anonymous".to_owned());
            Ok(Response::text(200, &format!("hello, {user}")))
        }
        Some("perm") => {
            let perm = config::get("permission").unwrap_or_default();
            shallot_guest::auth::permission_required(req, &perm)?;
            let user = req.attribute("user").unwrap_or_default();
            Ok(Response::text(200, &format!("{user} may {perm}")))
        }
        other => Err(Error::internal(format!("account: unknown page {other:?}"))),
    }
}
