//! `CorsMiddleware`: a preflight (`OPTIONS` with
//! `Access-Control-Request-Method`) is answered 204 right away; every
//! response gets `Access-Control-Allow-Origin: *` and `Origin` in `Vary`.

use shallot_guest::{Error, Middleware, Request, Response, middleware, patch_vary_headers};

#[derive(Default)]
struct Cors;

#[middleware]
impl Middleware for Cors {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        if req.method() != "OPTIONS" || req.header("Access-Control-Request-Method").is_none() {
            return Ok(None);
        }
        let resp = Response::new(204);
        resp.set_header("Access-Control-Allow-Methods", "GET, OPTIONS")?;
        resp.set_header(
            "Access-Control-Allow-Headers",
            "Authorization, X-Request-Id",
        )?;
        resp.set_header("Access-Control-Max-Age", "86400")?;
        Ok(Some(resp))
    }

    fn process_response(&mut self, _req: &Request, resp: Response) -> Result<Response, Error> {
        resp.set_header("Access-Control-Allow-Origin", "*")?;
        patch_vary_headers(&resp, &["Origin"])?;
        Ok(resp)
    }
}
