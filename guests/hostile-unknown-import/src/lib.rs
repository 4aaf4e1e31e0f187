//! A middleware that imports `acme:frob/frob`, which no Shallot host
//! provides: it must be refused at load, naming the import.

use shallot_guest::{Error, Middleware, Request, Response, middleware};

mod acme {
    wit_bindgen::generate!({
        inline: "package acme:frob;
                 interface frob { frob: func() -> u32; }
                 world imports-frob { import frob; }",
        world: "imports-frob",
    });
}

#[derive(Default)]
struct Frob;

#[middleware]
impl Middleware for Frob {
    fn process_response(&mut self, _req: &Request, resp: Response) -> Result<Response, Error> {
        resp.set_header("X-Frob", &acme::acme::frob::frob::frob().to_string())?;
        Ok(resp)
    }
}
