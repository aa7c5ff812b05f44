//! A test driver: one operation through `Config::prepare`, the simulator and
//! `Config::finish`, with faults mapped to the typed transport errors a runtime reports.

use std::time::Duration;

use crate::{
    Body, BodyMode, Config, Credentials, Error, InputError, Operation, Response, ResponseError,
    TransportError, TransportErrorKind,
};
use http::header::CONTENT_LENGTH;
use http::{HeaderValue, Method, Request};

use super::{Exchange, Sim};

/// How long the driver waits on a stalled connection before giving up; the virtual clock
/// advances by this much on every [`Exchange::Stall`].
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The credentials the driver signs with (the simulator accepts any signature).
pub fn credentials() -> Credentials {
    Credentials::new("AKIDSIMULATOR", "sim/secret/access/key")
}

/// What a runtime hands its caller for one operation: the parsed headers (or the error that
/// came instead), the body bytes delivered, and why the body stopped early, if it did.
///
/// For a buffered operation (everything but GetObject) `body` is empty and any failure is in
/// `head`; for a streamed one the head may succeed and the body then break (`broken`), with
/// `body` holding what arrived first: what a ranged download resumes from.
#[derive(Debug)]
pub struct Streamed<T> {
    /// The output parsed from the status and headers (and body, when buffered).
    pub head: Result<T, Error>,
    /// The streamed body delivered, whole or up to the failure.
    pub body: Vec<u8>,
    /// The transport or length error that cut the streamed body short.
    pub broken: Option<Error>,
}

impl<T> Streamed<T> {
    fn failed(error: impl Into<Error>) -> Self {
        Streamed {
            head: Err(error.into()),
            body: Vec::new(),
            broken: None,
        }
    }

    /// The output and the whole body, or the first error.
    ///
    /// # Errors
    /// The head's error, else the body's.
    pub fn into_result(self) -> Result<(T, Vec<u8>), Error> {
        let head = self.head?;
        match self.broken {
            Some(e) => Err(e),
            None => Ok((head, self.body)),
        }
    }
}

/// Sends `op` to `sim`: `(output, streamed body)` on success (the body is empty for
/// buffered operations). `body` supplies the bytes of a `Body::Stream` request.
///
/// Faults become what a runtime reports: `Refused` → `Connect`, `Lost` → `Io`, `Reset` →
/// `Truncated`, `Stall` → `Timeout` (after advancing the clock by [`STALL_TIMEOUT`]).
///
/// # Errors
/// Whatever `prepare`, the simulated transport or `finish` fails with.
pub fn send<O: Operation + ?Sized>(
    sim: &mut Sim,
    config: &Config,
    op: &O,
    body: Option<&[u8]>,
) -> Result<(O::Output, Vec<u8>), Error> {
    send_streamed(sim, config, op, body).into_result()
}

/// Like [`send`], keeping the body bytes delivered before a failure.
pub fn send_streamed<O: Operation + ?Sized>(
    sim: &mut Sim,
    config: &Config,
    op: &O,
    body: Option<&[u8]>,
) -> Streamed<O::Output> {
    let now = sim.now();
    send_streamed_at(sim, config, op, body, now)
}

/// Like [`send_streamed`], signing at `now` instead of the simulator's clock (a client whose
/// clock is off, or one that corrected it after `RequestTimeTooSkewed`).
pub fn send_streamed_at<O: Operation + ?Sized>(
    sim: &mut Sim,
    config: &Config,
    op: &O,
    body: Option<&[u8]>,
    now: std::time::SystemTime,
) -> Streamed<O::Output> {
    let prepared = match config.prepare(op, &credentials(), now) {
        Ok(r) => r,
        Err(e) => return Streamed::failed(e),
    };
    let (mut parts, spec) = prepared.into_parts();
    let bytes = match request_body(spec, body) {
        Ok(b) => b,
        Err(e) => return Streamed::failed(e),
    };
    // As hyper and ureq do: a length on every body, and on every PUT and POST.
    if !bytes.is_empty() || parts.method == Method::PUT || parts.method == Method::POST {
        parts
            .headers
            .insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    }
    let head_request = parts.method == Method::HEAD;
    let streams = op.body_mode() == BodyMode::Streamed && !head_request;
    match sim.exchange(Request::from_parts(parts, bytes)) {
        Exchange::Reply {
            status,
            headers,
            body,
        } => {
            if status.is_success() && streams {
                let head = config.finish(op, Response::new(status, &headers, &[]));
                let broken = length_mismatch(&headers, body.len());
                Streamed { head, body, broken }
            } else {
                let head = config.finish(op, Response::new(status, &headers, &body));
                Streamed {
                    head,
                    body: Vec::new(),
                    broken: None,
                }
            }
        }
        Exchange::Reset {
            status,
            headers,
            body_prefix,
        } => {
            let announced = content_length(&headers).unwrap_or_default();
            let error = TransportError::new(
                TransportErrorKind::Truncated,
                format!(
                    "connection reset after {} of {announced} body bytes",
                    body_prefix.len()
                ),
            );
            partial(config, op, streams, status, &headers, body_prefix, error)
        }
        Exchange::Stall {
            status,
            headers,
            after,
        } => {
            sim.advance(STALL_TIMEOUT);
            let error = TransportError::new(
                TransportErrorKind::Timeout,
                format!("no data for {STALL_TIMEOUT:?}"),
            );
            partial(config, op, streams, status, &headers, after, error)
        }
        Exchange::Lost => Streamed::failed(TransportError::new(
            TransportErrorKind::Io,
            "connection closed before the response arrived",
        )),
        Exchange::Refused => Streamed::failed(TransportError::new(
            TransportErrorKind::Connect,
            "connection refused",
        )),
    }
}

/// The request body's bytes: in memory, or supplied by the test for a stream.
fn request_body(spec: Body, supplied: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    match spec {
        Body::Empty => Ok(Vec::new()),
        Body::Bytes(b) => Ok(b.to_vec()),
        Body::Stream { length } => {
            let Some(bytes) = supplied else {
                return Err(InputError::argument(
                    "body",
                    "this operation streams its body: pass the bytes to the driver",
                )
                .into());
            };
            match length {
                Some(n) if n != bytes.len() as u64 => Err(TransportError::new(
                    TransportErrorKind::Body,
                    format!("the body source gave {} bytes, {n} announced", bytes.len()),
                )
                .into()),
                _ => Ok(bytes.to_vec()),
            }
        }
    }
}

/// The result of a reply cut short by `error` after `prefix`: a streamed 2xx has its head
/// parsed and a broken body; anything else fails as a whole.
fn partial<O: Operation + ?Sized>(
    config: &Config,
    op: &O,
    streams: bool,
    status: http::StatusCode,
    headers: &http::HeaderMap,
    prefix: Vec<u8>,
    error: TransportError,
) -> Streamed<O::Output> {
    if status.is_success() && streams {
        Streamed {
            head: config.finish(op, Response::new(status, headers, &[])),
            body: prefix,
            broken: Some(error.into()),
        }
    } else {
        Streamed::failed(error)
    }
}

fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// A streamed body's length checked against `Content-Length`, as a runtime does.
fn length_mismatch(headers: &http::HeaderMap, actual: usize) -> Option<Error> {
    let expected = content_length(headers)?;
    let actual = actual as u64;
    (expected != actual).then(|| ResponseError::LengthMismatch { expected, actual }.into())
}
