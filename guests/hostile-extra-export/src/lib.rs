//! Exports `process-response` and `view` at once (one hand-written world, as
//! a non-SDK toolchain could produce): as a middleware its view export is
//! unknown to the role, as a view its hook is. Either way it is refused,
//! never loaded with an export silently ignored.

#![allow(unsafe_code, reason = "wit-bindgen generated exports")]

use shallot_guest::{Error, Request, Response, ViewInfo};

shallot_guest::__private::wit_bindgen::generate!({
    inline: "package acme:both;
             world both {
                 include shallot:http/imports@0.1.0;
                 export shallot:http/process-response@0.1.0;
                 export shallot:http/view@0.1.0;
             }",
    path: "../../wit",
    world: "acme:both/both",
    runtime_path: "::shallot_guest::__private::wit_bindgen::rt",
    with: {
        "shallot:http/types@0.1.0": ::shallot_guest::__private::types,
        "shallot:http/log@0.1.0": ::shallot_guest::__private::log,
        "shallot:http/urls@0.1.0": ::shallot_guest::__private::urls,
        "shallot:http/config@0.1.0": ::shallot_guest::__private::config,
    },
});

struct Both;

impl exports::shallot::http::process_response::Guest for Both {
    fn process_response(_req: &Request, resp: Response) -> Result<Response, Error> {
        Ok(resp)
    }
}

impl exports::shallot::http::view::Guest for Both {
    fn handle(_req: &Request, _view: ViewInfo) -> Result<Response, Error> {
        Ok(Response::text(200, "both"))
    }
}

export!(Both);
