//! `RequestIdMiddleware`: `request.request_id` is the `X-Request-Id` header or
//! a fresh uuid4, and every response echoes it as `X-Request-Id`.

use shallot_guest::{Error, Middleware, Request, Response, middleware};

/// The request attribute later layers and views can read.
const ATTRIBUTE: &str = "request_id";

#[derive(Default)]
struct RequestId;

#[middleware]
impl Middleware for RequestId {
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        let id = req
            .header("X-Request-Id")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        req.set_attribute(ATTRIBUTE, &id);
        Ok(None)
    }

    fn process_response(&mut self, req: &Request, resp: Response) -> Result<Response, Error> {
        let id = req
            .attribute(ATTRIBUTE)
            .ok_or_else(|| Error::internal("'WSGIRequest' object has no attribute 'request_id'"))?;
        resp.set_header("X-Request-Id", &id)?;
        Ok(resp)
    }
}
