//! Django's `login_required` as a middleware: a view listed in
//! `protected_views` (comma-separated) without a logged-in user in the
//! session redirects (302) to `login_url` (`/accounts/login/`) with
//! `?next=<path>`. A logged-in user is set as the request attribute `user`
//! (Django's `request.user`). Runs after `sessions`.

use shallot_guest::{Error, Middleware, Request, Response, ViewInfo, config, middleware};

#[derive(Default)]
struct LoginRequired;

/// The `user` entry of form-encoded session data.
fn session_user(data: &str) -> Option<String> {
    data.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "user")
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// Percent-encodes all but unreserved characters (Django's `urlquote` of `next`).
fn quote(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[middleware]
impl Middleware for LoginRequired {
    fn process_view(&mut self, req: &Request, view: &ViewInfo) -> Result<Option<Response>, Error> {
        let user = req.attribute("session").as_deref().and_then(session_user);
        if let Some(user) = &user {
            req.set_attribute("user", user);
        }
        let protected = config::get("protected_views").unwrap_or_default();
        if user.is_some()
            || !protected
                .split(',')
                .map(str::trim)
                .any(|v| v == view.view_name)
        {
            return Ok(None);
        }
        let login = config::get("login_url").unwrap_or_else(|| "/accounts/login/".to_owned());
        let resp = Response::new(302);
        resp.set_header("Location", &format!("{login}?next={}", quote(&req.path())))?;
        Ok(Some(resp))
    }
}
