//! A context processor: `site` from its config (default "Shallot") and
//! `user`, the request attribute an authentication middleware sets, or
//! "anonymous" (Django's `auth` context processor, reduced to a name).
//! `fail = "yes"` in its config makes it raise, for the tests.

use shallot_guest::{Error, Map, Request, Value, config, context_processor, log};

#[context_processor]
fn site(req: &Request) -> Result<Map<String, Value>, Error> {
    // Debug: seen by the tests' call log, not written by a server at the
    // default level on every rendering.
    log::debug("call context");
    if config::get("fail").is_some() {
        return Err(Error::internal("site-context was told to fail"));
    }
    let mut values = Map::new();
    let site = config::get("site").unwrap_or_else(|| "Shallot".to_owned());
    values.insert("site".into(), Value::from(site));
    let user = req
        .attribute("user")
        .unwrap_or_else(|| "anonymous".to_owned());
    values.insert("user".into(), Value::from(user));
    Ok(values)
}
