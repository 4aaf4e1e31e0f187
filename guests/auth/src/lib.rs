//! `AuthMiddleware.process_view`: a protected view without
//! `Authorization: Bearer <token>` gets 401 `{"error": "unauthorized"}` and
//! `WWW-Authenticate: Bearer`.
//!
//! Config: `protected_views` (comma-separated view names, Django's
//! `@protected`), `token` (default `secret-token`).

use shallot_guest::{Error, Middleware, Request, Response, ViewInfo, config, middleware};

#[derive(Default)]
struct Auth;

#[middleware]
impl Middleware for Auth {
    fn process_view(&mut self, req: &Request, view: &ViewInfo) -> Result<Option<Response>, Error> {
        let protected = config::get("protected_views").unwrap_or_default();
        if !protected
            .split(',')
            .map(str::trim)
            .any(|v| v == view.view_name)
        {
            return Ok(None);
        }
        let token = config::get("token").unwrap_or_else(|| "secret-token".to_owned());
        if req.header("Authorization").as_deref() == Some(format!("Bearer {token}").as_str()) {
            return Ok(None);
        }
        let resp = Response::json(401, r#"{"error": "unauthorized"}"#);
        resp.set_header("WWW-Authenticate", "Bearer")?;
        Ok(Some(resp))
    }
}
