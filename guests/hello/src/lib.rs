//! `GET /hello`: `text/plain` "hello world".

use shallot_guest::{Error, Request, Response, ViewInfo, require_method, view};

#[view]
fn hello(req: &Request, _view: ViewInfo) -> Result<Response, Error> {
    if let Some(not_allowed) = require_method(req, &["GET"]) {
        return Ok(not_allowed);
    }
    Ok(Response::text(200, "hello world"))
}
