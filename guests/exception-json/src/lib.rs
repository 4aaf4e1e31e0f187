//! `ExceptionJsonMiddleware.process_exception`: any failed view becomes
//! 500 `{"error": "<str(exc)>"}`.

use shallot_guest::{Error, Middleware, Request, Response, json_string, middleware};

#[derive(Default)]
struct ExceptionJson;

#[middleware]
impl Middleware for ExceptionJson {
    fn process_exception(
        &mut self,
        _req: &Request,
        err: &Error,
    ) -> Result<Option<Response>, Error> {
        let body = format!("{{\"error\": {}}}", json_string(&err.message));
        Ok(Some(Response::json(500, &body)))
    }
}
