//! `GET /boom`: raises `RuntimeError("boom")`.

use shallot_guest::{Error, Request, Response, ViewInfo, require_method, view};

#[view]
fn boom(req: &Request, _view: ViewInfo) -> Result<Response, Error> {
    if let Some(not_allowed) = require_method(req, &["GET"]) {
        return Ok(not_allowed);
    }
    Err(Error::internal("boom"))
}
