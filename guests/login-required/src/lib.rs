//! Django's `login_required` as a middleware: a view listed in
//! `protected_views` (comma-separated) without a logged-in user in the
//! session redirects (302) to `login_url` (`/accounts/login/`) with
//! `?next=<path>`. A logged-in user is set as the request attribute `user`
//! (Django's `request.user`). Runs after `sessions`.

use shallot_guest::{
    Error, Middleware, Request, Response, ViewInfo, auth, config, middleware, quote,
};

#[derive(Default)]
struct LoginRequired;

#[middleware]
impl Middleware for LoginRequired {
    fn process_view(&mut self, req: &Request, view: &ViewInfo) -> Result<Option<Response>, Error> {
        let user = auth::session_user(req);
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
