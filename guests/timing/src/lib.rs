//! `TimingMiddleware`: `Server-Timing: app;dur=<ms with 3 decimals>`, the
//! time from its `process_request` to its `process_response`.
//!
//! The start time lives in the middleware value: both hooks of one request
//! run on the same instance.

use std::time::Instant;

use shallot_guest::{Error, Middleware, Request, Response, middleware};

#[derive(Default)]
struct Timing {
    start: Option<Instant>,
}

#[middleware]
impl Middleware for Timing {
    fn process_request(&mut self, _req: &Request) -> Result<Option<Response>, Error> {
        self.start = Some(Instant::now());
        Ok(None)
    }

    fn process_response(&mut self, _req: &Request, resp: Response) -> Result<Response, Error> {
        let start = self.start.ok_or_else(|| {
            Error::internal("'WSGIRequest' object has no attribute '_timing_start'")
        })?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        resp.set_header("Server-Timing", &format!("app;dur={ms:.3}"))?;
        Ok(resp)
    }
}
