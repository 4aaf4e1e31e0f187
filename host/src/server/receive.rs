//! The request body as the server hands it to the cycle: received whole up
//! to `max_body_bytes`; past that, 413, or (when `max_stream_bytes` lets it
//! in) handed over unread for a guest to read as it arrives.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::request_body::{BODY_READ_TIMEOUT, RequestBody};

/// `[server] max_body_bytes` and `max_stream_bytes` (0: none streamed).
#[derive(Debug, Clone, Copy)]
pub(super) struct BodyLimits {
    pub(super) whole: usize,
    pub(super) stream: u64,
}

/// Why no body reaches the cycle.
#[derive(Debug)]
pub(super) enum Refused {
    /// Over every limit: 413.
    TooLarge(u64),
    /// The client paused longer than [`BODY_READ_TIMEOUT`]: 408.
    Timeout,
    /// The connection failed mid-body: 400.
    Broken(hyper::Error),
}

impl BodyLimits {
    /// The most any body may be.
    pub(super) fn most(self) -> u64 {
        self.stream.max(self.whole as u64)
    }
}

/// The body of a request whose headers say it is `declared` bytes long
/// (when they say).
pub(super) async fn receive(
    body: Incoming,
    declared: Option<u64>,
    limits: BodyLimits,
) -> Result<RequestBody, Refused> {
    if declared.is_some_and(|n| n > limits.most()) {
        return Err(Refused::TooLarge(limits.most()));
    }
    let streams = limits.stream > limits.whole as u64;
    if streams && declared.is_some_and(|n| n > limits.whole as u64) {
        // Known to be too large to hold: not a byte is read until a guest asks.
        return Ok(RequestBody::streaming(
            Bytes::new(),
            body,
            limits.whole,
            limits.stream,
        ));
    }
    // Chunked, or small enough: received up to `whole`, and only past that
    // (when streaming is on) handed over with what came so far.
    let received = tokio::time::timeout(BODY_READ_TIMEOUT, async move {
        let mut body = body;
        let mut held = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map_err(Refused::Broken)?.into_data() else {
                continue;
            };
            held.extend_from_slice(&data);
            if held.len() > limits.whole {
                return Ok((held.freeze(), Some(body)));
            }
        }
        Ok((held.freeze(), None))
    })
    .await
    .map_err(|_| Refused::Timeout)??;
    match received {
        (whole, None) => Ok(RequestBody::whole(whole)),
        (start, Some(rest)) if streams && start.len() as u64 <= limits.stream => Ok(
            RequestBody::streaming(start, rest, limits.whole, limits.stream),
        ),
        (_, Some(_)) => Err(Refused::TooLarge(limits.most())),
    }
}
