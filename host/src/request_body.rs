//! A request's body as the cycle holds it: whole, or still arriving.
//!
//! Bodies up to `[server] max_body_bytes` are received whole before the
//! chain runs, as Django reads `request.body` (its
//! `DATA_UPLOAD_MAX_MEMORY_SIZE`). A larger one is let in only when
//! `max_stream_bytes` allows it, and then it is not received up front: a
//! guest reads it chunk by chunk with `read-body`, so the host holds one
//! chunk at a time, not the body. Asking such a body for all its bytes at
//! once is Django's `RequestDataTooBig`.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;

use crate::bindings::types::{Error, ErrorKind};

/// How long a client may pause while sending its body: up front for a body
/// received whole, between chunks for one a guest streams.
pub(crate) const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The most `read-body` hands over in one call, whatever `max` asks for:
/// the host's own buffer stays this small.
pub(crate) const MAX_CHUNK: usize = 1 << 20;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of one request.
#[derive(Debug, Default)]
pub struct RequestBody {
    state: State,
    /// `read-body` has returned bytes: `body()` is refused from then on
    /// (Django's `RawPostDataException`).
    read_started: bool,
}

#[derive(Debug)]
enum State {
    /// Received whole; `read` is how far `read-body` has got.
    Whole { bytes: Bytes, read: usize },
    /// Larger than `max_body_bytes`, still arriving.
    Streaming(Box<Stream>),
}

impl Default for State {
    fn default() -> Self {
        State::Whole {
            bytes: Bytes::new(),
            read: 0,
        }
    }
}

struct Stream {
    /// Received from the client, not yet handed to a guest.
    pending: Bytes,
    /// The rest, as the connection delivers it. Behind a mutex only so the
    /// request can be shared by reference across tasks (`Sync`); every read
    /// has it by `&mut` and never locks.
    rest: Mutex<UnsyncBoxBody<Bytes, BoxError>>,
    /// Bytes received so far, against `limit`.
    received: u64,
    /// `max_stream_bytes`.
    limit: u64,
    /// `max_body_bytes`, for the message of a refused `body()`.
    max_whole: usize,
    ended: bool,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("pending", &self.pending.len())
            .field("received", &self.received)
            .field("limit", &self.limit)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// Why `body()` cannot hand over the whole body.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WholeBodyError {
    /// Django's `RequestDataTooBig`.
    #[error("Request body exceeded max_body_bytes ({0} bytes); read it in chunks with read-body")]
    TooLarge(usize),
    /// Django's `RawPostDataException`.
    #[error("You cannot access body after reading from request's data stream")]
    AlreadyRead,
}

impl WholeBodyError {
    /// The exception a guest asking for the body raises.
    pub(crate) fn to_wit(&self) -> Error {
        let kind = match self {
            WholeBodyError::TooLarge(_) => ErrorKind::SuspiciousOperation,
            WholeBodyError::AlreadyRead => ErrorKind::Internal,
        };
        Error {
            kind,
            message: self.to_string(),
        }
    }
}

impl From<Bytes> for RequestBody {
    fn from(bytes: Bytes) -> Self {
        RequestBody::whole(bytes)
    }
}

impl RequestBody {
    /// A body received whole.
    pub fn whole(bytes: Bytes) -> Self {
        RequestBody {
            state: State::Whole { bytes, read: 0 },
            read_started: false,
        }
    }

    /// A body larger than `max_whole` bytes that guests read as it arrives:
    /// `received` already came in, `rest` follows, and reading past `limit`
    /// bytes in all fails.
    pub fn streaming<B>(received: Bytes, rest: B, max_whole: usize, limit: u64) -> Self
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        RequestBody {
            state: State::Streaming(Box::new(Stream {
                received: received.len() as u64,
                pending: received,
                rest: Mutex::new(UnsyncBoxBody::new(rest.map_err(Into::into))),
                limit,
                max_whole,
                ended: false,
            })),
            read_started: false,
        }
    }

    /// The whole body (Django's `request.body`), when it is held whole and
    /// `read-body` has not started on it.
    pub(crate) fn whole_bytes(&self) -> Result<&Bytes, WholeBodyError> {
        if self.read_started {
            return Err(WholeBodyError::AlreadyRead);
        }
        match &self.state {
            State::Whole { bytes, .. } => Ok(bytes),
            State::Streaming(stream) => Err(WholeBodyError::TooLarge(stream.max_whole)),
        }
    }

    /// The next at most `max` bytes (at least 1, at most [`MAX_CHUNK`]);
    /// empty once the body has all been read.
    pub(crate) async fn read(&mut self, max: usize) -> Result<Bytes, Error> {
        let max = max.clamp(1, MAX_CHUNK);
        let chunk = match &mut self.state {
            State::Whole { bytes, read } => {
                let end = bytes.len().min(*read + max);
                let chunk = bytes.slice(*read..end);
                *read = end;
                chunk
            }
            State::Streaming(stream) => stream.read(max).await?,
        };
        if !chunk.is_empty() {
            self.read_started = true;
        }
        Ok(chunk)
    }
}

impl Stream {
    async fn read(&mut self, max: usize) -> Result<Bytes, Error> {
        while self.pending.is_empty() && !self.ended {
            let rest = self.rest.get_mut().unwrap_or_else(|e| e.into_inner());
            let frame = match tokio::time::timeout(BODY_READ_TIMEOUT, rest.frame()).await {
                Err(_) => return Err(bad_request("Request body not received in time")),
                Ok(None) => {
                    self.ended = true;
                    break;
                }
                Ok(Some(Err(e))) => {
                    self.ended = true;
                    return Err(bad_request(format!("Request body could not be read: {e}")));
                }
                Ok(Some(Ok(frame))) => frame,
            };
            // Trailers carry no body bytes.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            self.received += data.len() as u64;
            if self.received > self.limit {
                self.ended = true;
                return Err(Error {
                    kind: ErrorKind::SuspiciousOperation,
                    message: format!(
                        "Request body exceeded max_stream_bytes ({} bytes)",
                        self.limit
                    ),
                });
            }
            self.pending = data;
        }
        let take = self.pending.len().min(max);
        Ok(self.pending.split_to(take))
    }
}

fn bad_request(message: impl Into<String>) -> Error {
    Error {
        kind: ErrorKind::BadRequest,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use http_body_util::StreamBody;
    use hyper::body::Frame;

    fn chunks(parts: &[&'static [u8]]) -> impl hyper::body::Body<Data = Bytes, Error = BoxError> {
        let frames: Vec<Result<Frame<Bytes>, BoxError>> = parts
            .iter()
            .map(|p| Ok(Frame::data(Bytes::from_static(p))))
            .collect();
        StreamBody::new(stream::iter(frames))
    }

    async fn read_all(body: &mut RequestBody, max: usize) -> Result<Vec<u8>, Error> {
        let mut all = Vec::new();
        loop {
            let chunk = body.read(max).await?;
            if chunk.is_empty() {
                return Ok(all);
            }
            assert!(chunk.len() <= max.max(1));
            all.extend_from_slice(&chunk);
        }
    }

    #[tokio::test]
    async fn a_whole_body_reads_in_chunks_then_refuses_body() {
        let mut body = RequestBody::whole(Bytes::from_static(b"hello world"));
        assert_eq!(body.whole_bytes().unwrap().as_ref(), b"hello world");
        assert_eq!(read_all(&mut body, 4).await.unwrap(), b"hello world");
        assert!(matches!(
            body.whole_bytes(),
            Err(WholeBodyError::AlreadyRead)
        ));
    }

    #[tokio::test]
    async fn a_streamed_body_splits_frames_larger_than_max() {
        let rest = chunks(&[b"de", b"fghij", b"", b"k"]);
        let mut body = RequestBody::streaming(Bytes::from_static(b"abc"), rest, 2, 100);
        assert!(matches!(
            body.whole_bytes(),
            Err(WholeBodyError::TooLarge(2))
        ));
        assert_eq!(read_all(&mut body, 3).await.unwrap(), b"abcdefghijk");
        // Still empty after the end.
        assert!(body.read(3).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_streamed_body_past_its_limit_is_refused() {
        let rest = chunks(&[b"12345", b"67890"]);
        let mut body = RequestBody::streaming(Bytes::new(), rest, 2, 8);
        assert_eq!(body.read(100).await.unwrap().as_ref(), b"12345");
        let err = body.read(100).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::SuspiciousOperation);
        assert!(
            err.message.contains("max_stream_bytes (8 bytes)"),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn a_failed_connection_is_a_bad_request() {
        let frames: Vec<Result<Frame<Bytes>, BoxError>> = vec![
            Ok(Frame::data(Bytes::from_static(b"ab"))),
            Err("connection reset".into()),
        ];
        let mut body =
            RequestBody::streaming(Bytes::new(), StreamBody::new(stream::iter(frames)), 1, 100);
        assert_eq!(body.read(10).await.unwrap().as_ref(), b"ab");
        let err = body.read(10).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert!(err.message.contains("connection reset"), "{}", err.message);
    }
}
