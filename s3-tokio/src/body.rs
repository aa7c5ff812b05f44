//! Bodies between hyper and the caller, each checked by s3-proto's [`BodyGuard`], with the
//! deadlines of [`Options`] running while they move.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use s3_proto::flow::guard::BodyGuard;
use s3_proto::flow::request::Options;
use s3_proto::{Deadline, Error, TransportError, TransportErrorKind};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Largest frame handed to hyper: a file read (a blocking-pool round trip) per MiB, and a
/// request body that shows progress at least this often.
const FRAME: usize = 1 << 20;

/// An object's body as an `AsyncRead` (or [`ObjectStream::chunk`]s) that fails, rather than
/// ending quietly, when the connection delivers fewer or more bytes than `Content-Length`
/// announced; a deadline that fires while reading says which one (see [`Options`]).
pub struct ObjectStream {
    body: Option<Incoming>,
    pending: Bytes,
    guard: BodyGuard,
    /// The attempt's `request_timeout`, then the `stall_timeout` re-armed by every frame.
    timers: [Option<Timer>; 2],
}

impl std::fmt::Debug for ObjectStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let guard = &self.guard;
        f.debug_struct("ObjectStream")
            .field("guard", guard)
            .finish()
    }
}

/// A deadline that fires while a body is read.
struct Timer {
    deadline: Deadline,
    after: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl Timer {
    fn new(deadline: Deadline, after: Option<Duration>, at: Option<Instant>) -> Option<Self> {
        let sleep = Box::pin(tokio::time::sleep_until(at?));
        Some(Timer {
            deadline,
            after: after?,
            sleep,
        })
    }

    fn fired(&mut self, cx: &mut Context<'_>) -> Option<Error> {
        self.sleep.as_mut().poll(cx).is_pending().then_some(())?;
        let doing = "reading the response body";
        Some(TransportError::timeout(self.deadline, self.after, doing).into())
    }
}

impl ObjectStream {
    /// A body of `len` bytes (when announced), read before the attempt's `deadline`.
    pub(crate) fn new(
        body: Incoming,
        len: Option<u64>,
        deadline: Option<Instant>,
        options: &Options,
    ) -> Self {
        let request = Timer::new(Deadline::Request, options.request_timeout, deadline);
        let stall_at = options.stall_timeout.map(|t| Instant::now() + t);
        let stall = Timer::new(Deadline::Stall, options.stall_timeout, stall_at);
        ObjectStream {
            body: Some(body),
            pending: Bytes::new(),
            guard: BodyGuard::response(len),
            timers: [request, stall],
        }
    }

    pub(crate) fn empty() -> Self {
        ObjectStream {
            body: None,
            pending: Bytes::new(),
            guard: BodyGuard::response(Some(0)),
            timers: [None, None],
        }
    }

    /// Bytes the server announced, when it did.
    pub fn expected_len(&self) -> Option<u64> {
        self.guard.remaining().map(|r| r + self.guard.received())
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.guard.received()
    }

    /// The next chunk as the network delivered it; `None` only at the body's whole end.
    ///
    /// # Errors
    /// A typed transport error (timeouts name their deadline), or the guard's length error.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// The next bytes into `buf` as an s3-proto result: `Ok(0)` only at a body's whole end.
    ///
    /// # Errors
    /// As [`ObjectStream::chunk`].
    pub async fn read_checked(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut buf = ReadBuf::new(buf);
        poll_fn(|cx| self.poll_fill(cx, &mut buf)).await?;
        Ok(buf.filled().len())
    }

    fn poll_fill(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<Result<(), Error>> {
        if self.pending.is_empty() {
            match ready!(self.poll_chunk(cx))? {
                Some(chunk) => self.pending = chunk,
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = self.pending.len().min(buf.remaining());
        buf.put_slice(&self.pending.split_to(n));
        Poll::Ready(Ok(()))
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, Error>> {
        if !self.pending.is_empty() {
            return Poll::Ready(Ok(Some(std::mem::take(&mut self.pending))));
        }
        while let Some(body) = self.body.as_mut() {
            let Poll::Ready(frame) = Pin::new(body).poll_frame(cx) else {
                let mut fired = self.timers.iter_mut().flatten().filter_map(|t| t.fired(cx));
                return fired.next().map_or(Poll::Pending, |e| Poll::Ready(Err(e)));
            };
            if let [_, Some(stall)] = &mut self.timers {
                stall.sleep.as_mut().reset(Instant::now() + stall.after);
            }
            let data = match frame {
                Some(Ok(frame)) => frame.into_data().unwrap_or_default(),
                Some(Err(e)) => {
                    // A body cut short is the guard's to name; anything else is hyper's.
                    self.guard.finish()?;
                    let message = format!("reading the response body failed: {e}");
                    return Poll::Ready(Err(
                        TransportError::new(TransportErrorKind::Io, message).into()
                    ));
                }
                None => {
                    self.body = None;
                    self.guard.finish()?;
                    break;
                }
            };
            if !data.is_empty() {
                self.guard.update(&data)?;
                return Poll::Ready(Ok(Some(data)));
            }
        }
        Poll::Ready(Ok(None))
    }
}

impl AsyncRead for ObjectStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.get_mut().poll_fill(cx, buf).map_err(Error::into_io)
    }
}

/// The caller's reader behind a streamed request body, kept apart from the body hyper takes:
/// a connection that never opened leaves it untouched for the next attempt.
#[derive(Clone)]
pub(crate) struct Source(Arc<Mutex<SourceState>>);

struct SourceState {
    reader: Pin<Box<dyn AsyncRead + Send>>,
    buffer: Vec<u8>,
    /// The reader's own failure, which explains a failed request better than hyper.
    error: Option<Error>,
}

impl Source {
    pub(crate) fn new(reader: impl AsyncRead + Send + 'static) -> Self {
        let reader = Box::pin(reader);
        Source(Arc::new(Mutex::new(SourceState {
            reader,
            buffer: Vec::new(),
            error: None,
        })))
    }

    /// The error the reader ended an attempt with, if it did.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        state.error.take().map_or(Ok(()), Err)
    }

    /// Up to the next frame of what `guard` still expects.
    fn poll_frame(
        &self,
        cx: &mut Context<'_>,
        guard: &mut BodyGuard,
    ) -> Poll<Result<Option<Bytes>, ()>> {
        let remaining = guard.remaining().unwrap_or(0);
        if remaining == 0 {
            return Poll::Ready(Ok(None));
        }
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let SourceState {
            reader,
            buffer,
            error,
        } = &mut *state;
        buffer.resize(usize::try_from(remaining).unwrap_or(FRAME).min(FRAME), 0);
        let mut read = ReadBuf::new(buffer);
        let result = match ready!(reader.as_mut().poll_read(cx, &mut read)) {
            Err(e) => Err(TransportError::new(
                TransportErrorKind::Body,
                format!("reading the upload source failed: {e}"),
            )
            .with_source(e)
            .into()),
            Ok(()) if read.filled().is_empty() => guard.finish(),
            Ok(()) => guard.update(read.filled()),
        };
        if let Err(e) = result {
            *error = Some(e);
            return Poll::Ready(Err(()));
        }
        let chunk = Bytes::copy_from_slice(read.filled());
        Poll::Ready(Ok((!chunk.is_empty()).then_some(chunk)))
    }
}

/// When a request body last handed hyper a frame: the stall timer before the response.
#[derive(Clone)]
pub(crate) struct Activity {
    start: Instant,
    nanos: Arc<AtomicU64>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        let nanos = Arc::new(AtomicU64::new(0));
        Activity {
            start: Instant::now(),
            nanos,
        }
    }

    fn touch(&self) {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.store(nanos, Ordering::Relaxed);
    }

    /// The last frame's time (the attempt's start before any).
    pub(crate) fn last(&self) -> Instant {
        self.start + Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}

/// A request body for hyper: bytes in memory (none for an empty body), or exactly the
/// promised length from a [`Source`].
pub(crate) struct RequestBody {
    data: Data,
    activity: Activity,
}

enum Data {
    Bytes(Bytes),
    Source(Source, BodyGuard),
}

impl RequestBody {
    pub(crate) fn bytes(bytes: Bytes, activity: Activity) -> Self {
        let data = Data::Bytes(bytes);
        RequestBody { data, activity }
    }

    pub(crate) fn source(source: Source, length: u64, activity: Activity) -> Self {
        let data = Data::Source(source, BodyGuard::request(length));
        RequestBody { data, activity }
    }

    fn remaining(&self) -> u64 {
        match &self.data {
            Data::Bytes(bytes) => bytes.len() as u64,
            Data::Source(_, guard) => guard.remaining().unwrap_or(0),
        }
    }
}

impl HttpBody for RequestBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let chunk = match &mut this.data {
            Data::Bytes(bytes) => {
                (!bytes.is_empty()).then(|| bytes.split_to(bytes.len().min(FRAME)))
            }
            Data::Source(source, guard) => match ready!(source.poll_frame(cx, guard)) {
                Ok(chunk) => chunk,
                Err(()) => {
                    return Poll::Ready(Some(Err(std::io::Error::other(
                        "the upload source failed",
                    ))));
                }
            },
        };
        this.activity.touch();
        Poll::Ready(chunk.map(|c| Ok(Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining())
    }
}
