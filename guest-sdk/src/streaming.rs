//! Django's `StreamingHttpResponse`: a view returns a response whose body
//! is an iterator, and the host pulls it one piece at a time after every
//! `process_response` has run (`body-source.next-chunk`), so neither side
//! holds the whole body.
//!
//! ```ignore
//! #[view]
//! fn numbers(_req: &Request, _view: ViewInfo) -> Result<Response, Error> {
//!     let lines = (0..1_000_000).map(|i| format!("{i}\n").into_bytes());
//!     Ok(Response::streaming(200, "text/plain; charset=utf-8", lines))
//! }
//! ```

use std::cell::RefCell;
use std::collections::HashMap;

use crate::{Error, Response};

type Chunks = Box<dyn Iterator<Item = Result<Vec<u8>, Error>>>;

thread_local! {
    /// The bodies this instance is streaming, by source id: one per
    /// streaming response it made, dropped when it ends.
    static SOURCES: RefCell<(u32, HashMap<u32, Chunks>)> = RefCell::new((0, HashMap::new()));
}

impl Response {
    /// A streaming response (Django's `StreamingHttpResponse`) whose body
    /// is `chunks`, pulled by the host as the client takes it. Middleware
    /// can change its status and headers but not read or replace its body.
    pub fn streaming<I>(status: u16, content_type: &str, chunks: I) -> Response
    where
        I: IntoIterator<Item = Vec<u8>>,
        I::IntoIter: 'static,
    {
        Response::try_streaming(status, content_type, chunks.into_iter().map(Ok))
    }

    /// [`Response::streaming`] for a body that can fail part way: an error
    /// ends the body there (the client sees the connection cut, since the
    /// status was already sent) and is logged by the host.
    pub fn try_streaming<I>(status: u16, content_type: &str, chunks: I) -> Response
    where
        I: IntoIterator<Item = Result<Vec<u8>, Error>>,
        I::IntoIter: 'static,
    {
        let resp = Response::new(status);
        // A valid constant-like value: only a guest's own typo could fail.
        let _ = resp.set_header("content-type", content_type);
        let id = SOURCES.with_borrow_mut(|(next, sources)| {
            *next = next.wrapping_add(1);
            sources.insert(*next, Box::new(chunks.into_iter()));
            *next
        });
        resp.stream_from(id);
        resp
    }
}

/// `body-source.next-chunk`: the next non-empty piece of `source`, or an
/// empty one at its end (the source is dropped then).
#[doc(hidden)]
pub fn next_chunk(source: u32) -> Result<Vec<u8>, Error> {
    let mut chunks = SOURCES
        .with_borrow_mut(|(_, sources)| sources.remove(&source))
        .ok_or_else(|| Error::internal(format!("no streaming body {source}")))?;
    // Taken out while it runs, so the iterator may itself make responses.
    let next = chunks
        .by_ref()
        .find(|c| !matches!(c, Ok(c) if c.is_empty()));
    match next {
        Some(Ok(chunk)) => {
            SOURCES.with_borrow_mut(|(_, sources)| sources.insert(source, chunks));
            Ok(chunk)
        }
        Some(Err(e)) => Err(e),
        None => Ok(Vec::new()),
    }
}
