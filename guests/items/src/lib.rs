//! `GET /items/<int:item_id>/`: `{"id": 42, "name": "item-42"}`. The int
//! converter already canonicalised `item_id`, so it is written as is (Python
//! ints have no size limit, and neither does this).

use shallot_guest::{Error, Request, Response, ViewInfo, require_method, view};

#[view]
fn item(req: &Request, view: ViewInfo) -> Result<Response, Error> {
    if let Some(not_allowed) = require_method(req, &["GET"]) {
        return Ok(not_allowed);
    }
    let id = view
        .kwargs
        .iter()
        .find(|(k, _)| k == "item_id")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| {
            Error::internal("item() missing 1 required positional argument: 'item_id'")
        })?;
    Ok(Response::json(
        200,
        &format!("{{\"id\": {id}, \"name\": \"item-{id}\"}}"),
    ))
}
