//! A view for the conformance and router tests. It logs `call handle`, then
//! follows its `action` config: `ok` (default) answers 200 with what the
//! resolver matched, `respond:NNN`, `fail:KIND:MESSAGE`, `trap`,
//! `sleep:MS` (answers 200 "slept" after MS milliseconds), `template:A,B`
//! (a template response for the candidates `A`, `B` with the context
//! `{"who": "view", "seen": [], "markup": "<b>&</b>", "kwargs": {...}}`), or `reverse`
//! (answers the path `reverse()` gives for the query `name=N&arg=A&k=v...`:
//! `arg` values are positional, other keys keyword arguments; a
//! `NoReverseMatch` is raised, so the client gets 500 as in Django).
//! For bodies: `count-body:N` reads the body with `read-body` in chunks of
//! N bytes, `whole-body` with `body()`, and `read-then-body` one chunk then
//! `body()`; each answers `bytes=LEN fnv=HASH chunks=COUNT` (FNV-1a 64 of the
//! bytes), so a test can compare what arrived without the view holding it.
//! Streaming responses: `stream:N:SIZE` answers N chunks of SIZE bytes
//! (chunk k made of the byte k % 256), `stream-fail:N` raises after N
//! one-byte chunks and `stream-trap:N` panics after them.

use shallot_guest::{
    Error, ErrorKind, Request, Response, TemplateResponse, ViewInfo, config, json, log, urls, view,
};

#[view]
fn handle(req: &Request, view: ViewInfo) -> Result<Response, Error> {
    log::info("call handle");
    let spec = config::get("action").unwrap_or_else(|| "ok".to_owned());
    let mut parts = spec.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("respond"), Some(status), None) => Ok(Response::text(
            status.parse().expect("respond:NNN"),
            "view responded",
        )),
        (Some("fail"), Some(kind), message) => {
            let kind = ErrorKind::from_name(kind).unwrap_or(ErrorKind::Internal);
            Err(Error::new(kind, message.unwrap_or("")))
        }
        (Some("trap"), None, None) => panic!("probe view told to trap"),
        (Some("template"), Some(names), None) => {
            let names: Vec<&str> = names.split(',').collect();
            let kwargs: shallot_guest::Map<String, shallot_guest::Value> = view
                .kwargs
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            TemplateResponse::select(
                &names,
                json!({"who": "view", "seen": [], "markup": "<b>&</b>", "kwargs": kwargs}),
            )
        }
        (Some("reverse"), None, None) => {
            let query = req.query();
            let pairs: Vec<(&str, &str)> = query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .collect();
            let name = pairs.iter().find(|(k, _)| *k == "name").map_or("", |p| p.1);
            let args: Vec<&str> = pairs
                .iter()
                .filter(|(k, _)| *k == "arg")
                .map(|p| p.1)
                .collect();
            let kwargs: Vec<(&str, &str)> = pairs
                .iter()
                .filter(|(k, _)| *k != "name" && *k != "arg")
                .copied()
                .collect();
            let url = urls::reverse(name, &args, &kwargs)?;
            Ok(Response::text(200, &url))
        }
        (Some("count-body"), Some(size), None) => {
            let mut digest = Digest::default();
            loop {
                let chunk = req.read_body(size.parse().expect("count-body:N"))?;
                if chunk.is_empty() {
                    return Ok(digest.response());
                }
                digest.add(&chunk);
            }
        }
        (Some("whole-body"), None, None) => {
            let mut digest = Digest::default();
            digest.add(&req.body());
            Ok(digest.response())
        }
        (Some("read-then-body"), None, None) => {
            let mut digest = Digest::default();
            digest.add(&req.read_body(1)?);
            digest.add(&req.body());
            Ok(digest.response())
        }
        (Some("stream"), Some(n), Some(size)) => {
            let (n, size): (u32, usize) = (n.parse().expect("N"), size.parse().expect("SIZE"));
            let chunks = (0..n).map(move |k| vec![(k % 256) as u8; size]);
            Ok(Response::streaming(200, "application/octet-stream", chunks))
        }
        (Some("stream-fail"), Some(n), None) => {
            let n: usize = n.parse().expect("N");
            let chunks = (0..=n).map(move |k| {
                if k < n {
                    Ok(b"x".to_vec())
                } else {
                    Err(Error::internal("the stream broke"))
                }
            });
            Ok(Response::try_streaming(200, "text/plain", chunks))
        }
        (Some("stream-trap"), Some(n), None) => {
            let n: usize = n.parse().expect("N");
            let chunks = (0..=n).map(move |k| {
                assert!(k < n, "probe view told to trap while streaming");
                b"x".to_vec()
            });
            Ok(Response::streaming(200, "text/plain", chunks))
        }
        (Some("sleep"), Some(ms), None) => {
            std::thread::sleep(std::time::Duration::from_millis(
                ms.parse().expect("sleep:MS"),
            ));
            Ok(Response::text(200, "slept"))
        }
        _ => {
            let kwargs: Vec<String> = view
                .kwargs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let attrs: Vec<String> = ["request_id", "user"]
                .iter()
                .filter_map(|a| req.attribute(a).map(|v| format!("{a}={v}")))
                .collect();
            let body = format!(
                "view={} route={} args={} kwargs={} path={} query={} attrs={}",
                view.view_name,
                view.route_name.as_deref().unwrap_or("-"),
                view.args.join(","),
                kwargs.join(","),
                req.path(),
                req.query(),
                attrs.join(","),
            );
            Ok(Response::text(200, &body))
        }
    }
}

/// What a body-reading action saw: length, FNV-1a 64 and chunk count.
struct Digest {
    bytes: u64,
    hash: u64,
    chunks: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Digest {
            bytes: 0,
            hash: 0xcbf2_9ce4_8422_2325,
            chunks: 0,
        }
    }
}

impl Digest {
    fn add(&mut self, chunk: &[u8]) {
        for &b in chunk {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.bytes += chunk.len() as u64;
        self.chunks += 1;
    }

    fn response(&self) -> Response {
        Response::text(
            200,
            &format!(
                "bytes={} fnv={:016x} chunks={}",
                self.bytes, self.hash, self.chunks
            ),
        )
    }
}
