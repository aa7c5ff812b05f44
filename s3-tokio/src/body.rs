//! Bodies between hyper and the caller: request bodies from memory or any `AsyncRead`, and
//! response bodies as an `AsyncRead` that checks their length.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::io::{AsyncRead, ReadBuf};

/// Read size for streamed uploads: large, so a file read (a blocking-pool round trip in
/// tokio) and its frame cost little per byte.
const CHUNK: usize = 1024 * 1024;

/// A request body: nothing, bytes in memory, or exactly `remaining` bytes from a reader.
pub(crate) enum RequestBody {
    Empty,
    Full(Option<Bytes>),
    Reader {
        reader: Pin<Box<dyn AsyncRead + Send>>,
        remaining: u64,
    },
}

impl RequestBody {
    pub(crate) fn reader(reader: impl AsyncRead + Send + 'static, length: u64) -> Self {
        RequestBody::Reader {
            reader: Box::pin(reader),
            remaining: length,
        }
    }
}

impl HttpBody for RequestBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            RequestBody::Empty => Poll::Ready(None),
            RequestBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            RequestBody::Reader { reader, remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let want = usize::try_from(*remaining).unwrap_or(usize::MAX).min(CHUNK);
                let mut tmp = vec![0u8; want];
                let mut rb = ReadBuf::new(&mut tmp);
                ready!(reader.as_mut().poll_read(cx, &mut rb))?;
                let n = rb.filled().len();
                if n == 0 {
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("upload source ended {remaining} bytes early"),
                    ))));
                }
                *remaining -= n as u64;
                tmp.truncate(n);
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(tmp)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RequestBody::Empty => true,
            RequestBody::Full(b) => b.is_none(),
            RequestBody::Reader { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RequestBody::Empty => SizeHint::with_exact(0),
            RequestBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            RequestBody::Reader { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}

/// An object's body as an `AsyncRead`; fails rather than ending quietly when fewer bytes
/// arrive than `Content-Length` announced.
pub struct ObjectStream {
    body: Option<Incoming>,
    pending: Bytes,
    expected: Option<u64>,
    read: u64,
    /// The stall limit and its timer, re-armed whenever bytes arrive.
    stall: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
}

impl std::fmt::Debug for ObjectStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStream")
            .field("expected", &self.expected)
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

impl ObjectStream {
    pub(crate) fn new(body: Incoming, expected: Option<u64>, stall: Option<Duration>) -> Self {
        ObjectStream {
            body: Some(body),
            pending: Bytes::new(),
            expected,
            read: 0,
            stall: stall.map(|d| (d, Box::pin(tokio::time::sleep(d)))),
        }
    }

    pub(crate) fn empty() -> Self {
        ObjectStream {
            body: None,
            pending: Bytes::new(),
            expected: Some(0),
            read: 0,
            stall: None,
        }
    }

    /// Bytes the server announced, when it did.
    pub fn expected_len(&self) -> Option<u64> {
        self.expected
    }

    /// Bytes delivered so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The next chunk of the body as the network delivered it, or `None` at its end.
    ///
    /// # Errors
    /// An `UnexpectedEof` error when the body ends before its announced length.
    pub async fn chunk(&mut self) -> io::Result<Option<Bytes>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Bytes>>> {
        if !self.pending.is_empty() {
            return Poll::Ready(Ok(Some(std::mem::take(&mut self.pending))));
        }
        loop {
            let Some(body) = self.body.as_mut() else {
                return Poll::Ready(self.check_end().map(|()| None));
            };
            let frame = match Pin::new(body).poll_frame(cx) {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    if let Some((limit, timer)) = self.stall.as_mut() {
                        if timer.as_mut().poll(cx).is_ready() {
                            return Poll::Ready(Err(io::Error::new(
                                io::ErrorKind::TimedOut,
                                format!("no body bytes for {limit:?}"),
                            )));
                        }
                    }
                    return Poll::Pending;
                }
            };
            if let Some((limit, timer)) = self.stall.as_mut() {
                timer.as_mut().reset(tokio::time::Instant::now() + *limit);
            }
            match frame {
                None => {
                    self.body = None;
                    return Poll::Ready(self.check_end().map(|()| None));
                }
                Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if data.is_empty() {
                            continue;
                        }
                        self.read += data.len() as u64;
                        if let Some(expected) = self.expected {
                            if self.read > expected {
                                return Poll::Ready(Err(io::Error::new(
                                    io::ErrorKind::InvalidData,
                                    format!("body longer than the announced {expected} bytes"),
                                )));
                            }
                        }
                        return Poll::Ready(Ok(Some(data)));
                    }
                }
            }
        }
    }

    fn check_end(&self) -> io::Result<()> {
        match self.expected {
            Some(expected) if self.read < expected => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("body ended after {} of {expected} bytes", self.read),
            )),
            _ => Ok(()),
        }
    }
}

impl AsyncRead for ObjectStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pending.is_empty() {
            match ready!(this.poll_chunk(cx))? {
                None => return Poll::Ready(Ok(())),
                Some(chunk) => this.pending = chunk,
            }
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending.split_to(n));
        Poll::Ready(Ok(()))
    }
}
