//! Django's `XFrameOptionsMiddleware` (`django/middleware/clickjacking.py`):
//! every response gets `X-Frame-Options` with the `x_frame_options` config
//! value upper-cased (Django's `X_FRAME_OPTIONS`, default `DENY`), unless
//! it already has one or is exempt.
//!
//! Django's `@xframe_options_exempt` sets an attribute on the response; a
//! Shallot response carries only status, headers and body, so the
//! attribute is the header `Xframe-Options-Exempt` (the attribute's name;
//! any value). Like the attribute it belongs to that response (a response
//! replaced on the way out loses it), and this middleware removes it from
//! every response so it never reaches the client.

use shallot_guest::{Error, Middleware, Request, Response, config, middleware};

/// The response "attribute" a view sets to be framed anywhere.
const EXEMPT: &str = "Xframe-Options-Exempt";

#[derive(Default)]
struct XFrameOptions;

#[middleware]
impl Middleware for XFrameOptions {
    fn process_response(&mut self, _req: &Request, resp: Response) -> Result<Response, Error> {
        let exempt = resp.has_header(EXEMPT);
        resp.remove_header(EXEMPT);
        // A view's own header (or @xframe_options_deny/_sameorigin) wins.
        if exempt || resp.has_header("X-Frame-Options") {
            return Ok(resp);
        }
        let value = config::get("x_frame_options").unwrap_or_else(|| "DENY".to_owned());
        resp.set_header("X-Frame-Options", &value.to_uppercase())?;
        Ok(resp)
    }
}
