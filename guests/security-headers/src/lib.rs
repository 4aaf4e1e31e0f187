//! `SecurityHeadersMiddleware`: three headers on every response passing it.

use shallot_guest::{Error, Middleware, Request, Response, middleware};

#[derive(Default)]
struct SecurityHeaders;

#[middleware]
impl Middleware for SecurityHeaders {
    fn process_response(&mut self, _req: &Request, resp: Response) -> Result<Response, Error> {
        resp.set_header("X-Content-Type-Options", "nosniff")?;
        resp.set_header("X-Frame-Options", "DENY")?;
        resp.set_header("Referrer-Policy", "same-origin")?;
        Ok(resp)
    }
}
