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
use s3_proto::flow::request::{Deadlines, Options, Outgoing};
use s3_proto::integrity::Verification;
use s3_proto::sign::chunked::ChunkedBody;
use s3_proto::{Error, TransportError, TransportErrorKind};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Largest frame handed to hyper: one file read (a blocking-pool round trip) per MiB, and a
/// request body that shows progress at least this often.
const FRAME: usize = 1 << 20;

/// An object's body as an `AsyncRead`, or as [`ObjectStream::chunk`]s, that fails rather
/// than ending quietly when the connection delivers fewer or more bytes than
/// `Content-Length` announced; a deadline that fires while reading says which one (see
/// [`Options`]).
pub struct ObjectStream {
    body: Option<Incoming>,
    pending: Bytes,
    guard: BodyGuard,
    deadlines: Deadlines,
    /// The start of the attempt, and when the last frame arrived.
    start: Instant,
    last: Instant,
    /// Wakes the reader when a deadline may have passed; `None` without deadlines.
    timer: Option<Pin<Box<Sleep>>>,
}

impl std::fmt::Debug for ObjectStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ObjectStream").field(&self.guard).finish()
    }
}

impl ObjectStream {
    /// A body checked by `guard`, read under the deadlines of the attempt begun at `start`.
    pub(crate) fn new(body: Incoming, guard: BodyGuard, start: Instant, options: &Options) -> Self {
        Self::of(Some(body), guard, start, options)
    }

    /// A body of no bytes.
    pub(crate) fn empty() -> Self {
        let guard = BodyGuard::response(Some(0));
        Self::of(None, guard, Instant::now(), &Options::default())
    }

    fn of(body: Option<Incoming>, guard: BodyGuard, start: Instant, options: &Options) -> Self {
        ObjectStream {
            body,
            pending: Bytes::new(),
            guard,
            deadlines: Deadlines::new(options),
            start,
            last: Instant::now(),
            timer: Some(Box::pin(tokio::time::sleep_until(start))),
        }
    }

    /// Waits for the deadline timer, re-armed for the time left: the error once one passed.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        while let Some(timer) = self.timer.as_mut() {
            ready!(timer.as_mut().poll(cx));
            let (since_start, idle) = (self.start.elapsed(), self.last.elapsed());
            match self
                .deadlines
                .left(since_start, idle, "reading the response body")
            {
                Err(e) => return Poll::Ready(e),
                Ok(Some(left)) => timer.as_mut().reset(Instant::now() + left),
                Ok(None) => self.timer = None,
            }
        }
        Poll::Pending
    }

    s3_proto::body_accessors!("stream");

    /// Reads the rest of the body into `out`, and says how the bytes were verified.
    ///
    /// # Errors
    /// As [`ObjectStream::chunk`].
    pub async fn read_all(&mut self, out: &mut Vec<u8>) -> Result<Verification, Error> {
        while let Some(chunk) = self.chunk().await? {
            out.extend_from_slice(&chunk);
        }
        Ok(self.guard.verdict())
    }

    /// The next chunk as the network delivered it, as an s3-proto result: `None` only at the
    /// body's whole end. At the end of an object's body its digest is judged: a mismatch is
    /// an error here, so bytes already handed out are unverified until this returns `None`.
    ///
    /// # Errors
    /// A typed transport error (timeouts name their deadline), or the guard's length error.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// The next bytes into `buf` as an s3-proto result: `Ok(0)` only at the body's whole end.
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
                return self.poll_deadline(cx).map(Err);
            };
            self.last = Instant::now();
            let data = match frame {
                Some(Ok(frame)) => frame.into_data().unwrap_or_default(),
                Some(Err(e)) => {
                    // A body cut short is the guard's to name; anything else is hyper's.
                    self.guard.finish()?;
                    let message = format!("reading the response body failed: {e}");
                    let error = TransportError::new(TransportErrorKind::Io, message);
                    return Poll::Ready(Err(error.into()));
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

/// The caller's reader behind a streamed request body, shared by the bodies of a request's
/// attempts: hyper takes each body, but a connection that never opened leaves the reader
/// untouched for the next attempt.
#[derive(Clone)]
pub(crate) struct Source(Arc<Mutex<Pin<Box<dyn AsyncRead + Send>>>>);

impl Source {
    pub(crate) fn new(reader: impl AsyncRead + Send + 'static) -> Self {
        Source(Arc::new(Mutex::new(Box::pin(reader))))
    }

    /// Reads into `buffer`, at most `max` bytes and what `guard` still expects; `None` once
    /// it has it all.
    fn poll_read(
        &self,
        cx: &mut Context<'_>,
        (guard, buffer): (&mut BodyGuard, &mut Vec<u8>),
        max: usize,
    ) -> Poll<Result<Option<Bytes>, Error>> {
        let remaining = guard.remaining().unwrap_or(0);
        if remaining == 0 {
            return Poll::Ready(Ok(None));
        }
        buffer.resize(usize::try_from(remaining).unwrap_or(max).min(max), 0);
        let mut read = ReadBuf::new(buffer);
        let mut reader = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = ready!(reader.as_mut().poll_read(cx, &mut read)) {
            let message = format!("reading the upload source failed: {e}");
            let error = TransportError::new(TransportErrorKind::Body, message);
            return Poll::Ready(Err(error.with_source(e).into()));
        }
        match read.filled() {
            [] => Poll::Ready(guard.finish().map(|_| None)),
            data => Poll::Ready(
                guard
                    .update(data)
                    .map(|()| Some(Bytes::copy_from_slice(data))),
            ),
        }
    }
}

/// When a request body last handed hyper a frame, in nanoseconds after the attempt's start:
/// what the stall timer measures until the response arrives.
#[derive(Clone)]
pub(crate) struct Activity(Instant, Arc<AtomicU64>);

impl Activity {
    pub(crate) fn new() -> Self {
        Activity(Instant::now(), Arc::default())
    }

    fn touch(&self) {
        let nanos = u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.1.store(nanos, Ordering::Relaxed);
    }

    /// When the attempt started.
    pub(crate) fn start(&self) -> Instant {
        self.0
    }

    /// How long since the last frame (since the start before any).
    pub(crate) fn idle(&self) -> Duration {
        let last = self.0 + Duration::from_nanos(self.1.load(Ordering::Relaxed));
        last.elapsed()
    }
}

/// A request body for hyper: bytes in memory (empty for no body), or exactly the promised
/// length from a [`Source`] through a read buffer.
pub(crate) struct RequestBody(Data, Activity);

enum Data {
    Bytes(Bytes),
    Source(Source, BodyGuard, Vec<u8>),
    /// The source read through signed aws-chunked framing.
    Chunked(Source, BodyGuard, Vec<u8>, Box<ChunkedBody>),
}

impl RequestBody {
    /// The body [`Outgoing`] names, a streamed one read from `source`.
    pub(crate) fn new(body: Outgoing, source: Option<&Source>, activity: Activity) -> Self {
        let data = match (body, source) {
            (Outgoing::Bytes(bytes), _) => Data::Bytes(bytes),
            (Outgoing::Stream(len), Some(source)) => {
                Data::Source(source.clone(), BodyGuard::request(len), Vec::new())
            }
            (Outgoing::Chunked { source: len, body }, Some(source)) => {
                let guard = BodyGuard::request(len);
                Data::Chunked(source.clone(), guard, Vec::new(), Box::new(body))
            }
            _ => Data::Bytes(Bytes::new()),
        };
        RequestBody(data, activity)
    }

    fn remaining(&self) -> u64 {
        match &self.0 {
            Data::Bytes(bytes) => bytes.len() as u64,
            Data::Source(_, guard, _) => guard.remaining().unwrap_or(0),
            Data::Chunked(.., framing) => framing.remaining(),
        }
    }
}

impl HttpBody for RequestBody {
    type Data = Bytes;
    /// The source's failure, found again in hyper's error by the client.
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let RequestBody(data, activity) = self.get_mut();
        let chunk = match data {
            Data::Bytes(bytes) if bytes.is_empty() => None,
            Data::Bytes(bytes) => Some(bytes.split_to(bytes.len().min(FRAME))),
            Data::Source(source, guard, buffer) => {
                ready!(source.poll_read(cx, (guard, buffer), FRAME))?
            }
            // Source bytes go into the frame; framed bytes come out.
            Data::Chunked(source, guard, buffer, framing) => loop {
                if let out @ [_, ..] = framing.output() {
                    let out = Bytes::copy_from_slice(out);
                    framing.consume(out.len());
                    break Some(out);
                }
                let want = framing.wants();
                match ready!(source.poll_read(cx, (guard, buffer), want))? {
                    Some(data) if want > 0 => framing.push(&data).map_err(Error::from)?,
                    _ => break None,
                }
            },
        };
        activity.touch();
        Poll::Ready(chunk.map(|c| Ok(Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining())
    }
}
