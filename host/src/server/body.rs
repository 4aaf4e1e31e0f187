//! The body of every response the server sends: bytes held whole (what the
//! cycle produces), a file streamed from disk in chunks so that a large
//! download holds one chunk in memory, not the file, or a streaming
//! response's chunks as its view produces them.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::Stream;
use http_body_util::Full;
use hyper::body::{Frame, SizeHint};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

/// Bytes read from a file per chunk: large enough that a gigabyte is a few
/// thousand reads, small enough that a hundred downloads hold little.
const CHUNK: usize = 128 * 1024;

/// A response body.
pub enum Body {
    /// Held whole.
    Full(Full<Bytes>),
    /// Read from a file as it is sent.
    File(FileStream),
    /// Produced as it is sent (a streaming response's guest), length
    /// unknown. An error cuts the connection.
    Stream(Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>),
}

/// `len` bytes of a file from its current position.
pub struct FileStream {
    stream: ReaderStream<tokio::io::Take<tokio::fs::File>>,
    remaining: u64,
}

impl Body {
    /// No bytes.
    pub fn empty() -> Body {
        Body::Full(Full::new(Bytes::new()))
    }

    /// These bytes.
    pub fn full(bytes: Bytes) -> Body {
        Body::Full(Full::new(bytes))
    }

    /// Chunks as `stream` yields them.
    pub fn stream(stream: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static) -> Body {
        Body::Stream(Box::pin(stream))
    }

    /// The next `len` bytes of `file`.
    pub fn file(file: std::fs::File, len: u64) -> Body {
        let file = tokio::fs::File::from_std(file).take(len);
        Body::File(FileStream {
            stream: ReaderStream::with_capacity(file, CHUNK),
            remaining: len,
        })
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Body {
        Body::full(bytes)
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Body::Full(full) => Pin::new(full)
                .poll_frame(cx)
                .map_err(|never| match never {}),
            Body::File(file) => {
                if file.remaining == 0 {
                    return Poll::Ready(None);
                }
                match ready!(Pin::new(&mut file.stream).poll_next(cx)) {
                    Some(Ok(chunk)) => {
                        file.remaining = file.remaining.saturating_sub(chunk.len() as u64);
                        Poll::Ready(Some(Ok(Frame::data(chunk))))
                    }
                    Some(Err(e)) => Poll::Ready(Some(Err(e))),
                    // Shorter than it was when its length was sent: end the
                    // connection rather than let the client wait.
                    None => Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the file shrank while it was being sent",
                    )))),
                }
            }
            Body::Stream(stream) => match ready!(stream.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
                Some(Err(e)) => Poll::Ready(Some(Err(e))),
                None => Poll::Ready(None),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(full) => full.is_end_stream(),
            Body::File(file) => file.remaining == 0,
            Body::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(full) => full.size_hint(),
            Body::File(file) => SizeHint::with_exact(file.remaining),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}
