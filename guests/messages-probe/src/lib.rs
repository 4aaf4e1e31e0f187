//! A view for the messages tests, driven by its query string, in order:
//! `level=N` sets the request's minimum level (`set_level`), each
//! `add=LEVEL:TEXT[:EXTRA_TAGS]` adds a message (`silent=1` anywhere:
//! with `fail_silently`), `read=1` reads the messages (`get_messages`,
//! which marks them used) into the body; then `then=` picks the answer:
//! `template:NAME` renders template NAME (context `{"who": "view"}`),
//! `redirect:PATH` is a 302 to PATH, anything else a 200 `text/plain`
//! body `ok` followed by what `read=1` read, one `LEVEL:TEXT:TAGS` a line.

use shallot_guest::messages::{self, Message};
use shallot_guest::{Error, Request, Response, TemplateResponse, ViewInfo, json, unquote, view};

#[view]
fn handle(req: &Request, _view: ViewInfo) -> Result<Response, Error> {
    let query = req.query();
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (unquote(k), unquote(v)))
        .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let silent = param("silent") == Some("1");
    // In the order given, so that a test can add after reading.
    let mut read: Vec<Message> = Vec::new();
    for (key, value) in &params {
        match key.as_str() {
            "level" => {
                let level = value.parse().map_err(|_| Error::bad_request("level=N"))?;
                messages::set_level(req, level);
            }
            "add" => {
                let mut fields = value.splitn(3, ':');
                let level = fields
                    .next()
                    .and_then(|l| l.parse().ok())
                    .ok_or_else(|| Error::bad_request("add=LEVEL:TEXT[:EXTRA_TAGS]"))?;
                let text = fields.next().unwrap_or("");
                let tags = fields.next().unwrap_or("");
                messages::add_message_with(req, level, text, tags, silent)?;
            }
            "read" => read.extend(messages::get_messages(req)),
            _ => {}
        }
    }
    match param("then").and_then(|t| t.split_once(':')) {
        Some(("template", name)) => TemplateResponse::new(name, json!({"who": "view"})),
        Some(("redirect", path)) => {
            let resp = Response::new(302);
            resp.set_header("Location", path)?;
            Ok(resp)
        }
        _ => {
            let mut body = String::from("ok");
            for m in &read {
                body.push_str(&format!("\n{}:{}:{}", m.level, m.message, m.tags()));
            }
            Ok(Response::text(200, &body))
        }
    }
}
