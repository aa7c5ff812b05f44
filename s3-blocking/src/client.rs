//! The client: one ureq agent (connection reuse), a config and credentials; `send` executes
//! any s3-proto operation.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use http::Uri;
use s3_proto::body::{BodyMode, Response};
use s3_proto::config::loopback_uri;
use s3_proto::retry::{Replay, RetryPolicy, replay_of};
use s3_proto::{
    Body, Config, Credentials, Error, InputError, Operation, ResponseError, TransportError,
    TransportErrorKind,
};
use ureq::SendBody;

use crate::body::ObjectReader;

/// Timeouts and limits of a [`Client`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Time allowed to open a connection (default 10 s).
    pub connect_timeout: Option<Duration>,
    /// Time allowed for a whole request, body included (default none: transfers of any size).
    pub request_timeout: Option<Duration>,
    /// Longest silence while reading or writing a body before giving up (default 60 s).
    pub stall_timeout: Option<Duration>,
    /// Largest buffered (XML) response body accepted (default [`s3_proto::MAX_XML_BODY`]).
    pub max_buffered_body: usize,
    /// When and how failed requests are tried again (see [`RetryPolicy`]).
    pub retry: RetryPolicy,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Some(Duration::from_secs(10)),
            request_timeout: None,
            stall_timeout: Some(Duration::from_secs(60)),
            max_buffered_body: s3_proto::MAX_XML_BODY,
            retry: RetryPolicy::default(),
        }
    }
}

impl Options {
    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, t: Option<Duration>) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Sets the whole-request timeout.
    pub fn request_timeout(mut self, t: Option<Duration>) -> Self {
        self.request_timeout = t;
        self
    }

    /// Sets the stall timeout.
    pub fn stall_timeout(mut self, t: Option<Duration>) -> Self {
        self.stall_timeout = t;
        self
    }

    /// Sets the retry policy ([`RetryPolicy::none`] turns retries off).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
}

/// A blocking S3 client. Cheap to clone: clones share connections and credentials.
///
/// # Example
/// ```no_run
/// use s3_blocking::Client;
///
/// let client = Client::from_env()?;
/// let bucket = client.create_bucket("my-bucket")?;
/// bucket.put_string("foobar", "This is a test of S3")?;
/// assert_eq!(bucket.get_string("foobar")?.as_deref(), Some("This is a test of S3"));
/// # Ok::<(), s3_blocking::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    config: Config,
    credentials: Arc<Credentials>,
    options: Options,
    /// Milliseconds to add to the local clock when signing, learnt from a server that said
    /// RequestTimeTooSkewed; shared by clones.
    clock_offset: Arc<AtomicI64>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("credentials", &self.credentials)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `config`, signing with `credentials`, with default options.
    pub fn new(config: Config, credentials: Credentials) -> Self {
        Client::with_options(config, credentials, Options::default())
    }

    /// A client with explicit options.
    pub fn with_options(config: Config, credentials: Credentials, options: Options) -> Self {
        let agent_config = ureq::Agent::config_builder()
            // S3's XML error bodies must reach s3-proto, and redirects carry the bucket region.
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(options.connect_timeout)
            .timeout_global(options.request_timeout)
            .timeout_per_read(options.stall_timeout)
            .timeout_per_write(options.stall_timeout)
            .user_agent(concat!("s3-rs/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: ureq::Agent::new_with_config(agent_config),
            config,
            credentials: Arc::new(credentials),
            options,
            clock_offset: Arc::new(AtomicI64::new(0)),
        }
    }

    /// A client configured the way the AWS CLI would be: `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` / `AWS_DEFAULT_REGION`,
    /// `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, and the profile (`AWS_PROFILE`) in
    /// `~/.aws/credentials` and `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE` /
    /// `AWS_CONFIG_FILE`). Without any credentials, requests go out anonymous.
    ///
    /// # Errors
    /// [`Error::Input`] for half a key pair or a bad endpoint URL; [`Error::Transport`] when a
    /// shared file exists but cannot be read.
    pub fn from_env() -> Result<Self, Error> {
        let env = |name: &str| std::env::var(name).ok();
        let files = s3_proto::profile::shared_files(env);
        let read = |path: Option<std::path::PathBuf>| -> Result<Option<String>, Error> {
            let Some(path) = path else { return Ok(None) };
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(TransportError::new(
                    TransportErrorKind::Body,
                    format!("cannot read {}", path.display()),
                )
                .with_source(e)
                .into()),
            }
        };
        let credentials = read(files.credentials)?;
        let config = read(files.config)?;
        let (config, creds) =
            s3_proto::profile::resolve(env, credentials.as_deref(), config.as_deref())?;
        Ok(Client::new(config, creds))
    }

    /// The config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Executes `op`. An operation whose body is a [`Body::Stream`] needs
    /// [`Client::send_reader`]; a streamed response (GetObject) is read whole here, use
    /// [`Client::open`] to stream it.
    ///
    /// A reply saying the bucket lives in another region is retried there once.
    ///
    /// # Errors
    /// [`Error::Service`] when S3 says no, [`Error::Transport`] when the network fails,
    /// [`Error::Response`] for a malformed reply, [`Error::Input`] for an invalid operation.
    pub fn send<O: Operation>(&self, op: &O) -> Result<O::Output, Error> {
        self.with_retries(replay_of(op, true), || {
            self.with_region_retry(|config| self.send_in(config, op))
        })
    }

    /// Sends `op` under the retry policy, retrying even after a lost reply (for the multipart
    /// create and complete, which the caller makes safe), and says whether a reply was lost:
    /// the request may then have taken effect although it failed or was repeated.
    pub(crate) fn send_noting_lost<O: Operation>(
        &self,
        op: &O,
    ) -> (Result<O::Output, Error>, bool) {
        let mut lost = false;
        let result = self.with_retries(Replay::Safe, || {
            let result = self.send_in(&self.config, op);
            lost |= result.as_ref().is_err_and(Error::reply_lost);
            result
        });
        (result, lost)
    }

    /// One attempt of [`Client::send`] (for callers running their own retry loop).
    pub(crate) fn send_in<O: Operation>(
        &self,
        config: &Config,
        op: &O,
    ) -> Result<O::Output, Error> {
        let resp = self.execute(config, op, None)?;
        finish_buffered(config, op, resp, self.options.max_buffered_body)
    }

    /// Executes `op`, whose request body ([`Body::Stream`]) is read from `body`.
    ///
    /// The body cannot be replayed, so a wrong-region answer is returned, not retried, and
    /// only a failure to connect is retried.
    ///
    /// # Errors
    /// As [`Client::send`]; also [`Error::Transport`] when `body` fails or is shorter than
    /// the length the operation announced.
    pub fn send_reader<O: Operation>(
        &self,
        op: &O,
        body: &mut dyn Read,
    ) -> Result<O::Output, Error> {
        // Only a failure to connect is retried, and it leaves the reader untouched.
        self.with_retries(Replay::BeforeSendOnly, || {
            self.send_reader_in(&self.config, op, &mut *body)
        })
    }

    /// One attempt of [`Client::send_reader`] (for callers that can re-read the body).
    pub(crate) fn send_reader_in<O: Operation>(
        &self,
        config: &Config,
        op: &O,
        body: &mut dyn Read,
    ) -> Result<O::Output, Error> {
        let resp = self.execute(config, op, Some(body))?;
        finish_buffered(config, op, resp, self.options.max_buffered_body)
    }

    /// Executes a streamed operation (GetObject) and returns its output with a reader over
    /// the body. The reader fails if the body ends before its `Content-Length`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn open<O: Operation>(&self, op: &O) -> Result<(O::Output, ObjectReader), Error> {
        self.with_retries(replay_of(op, true), || {
            self.with_region_retry(|config| self.open_in(config, op))
        })
    }

    /// One attempt of [`Client::open`] (for callers running their own retry loop).
    pub(crate) fn open_in<O: Operation>(
        &self,
        config: &Config,
        op: &O,
    ) -> Result<(O::Output, ObjectReader), Error> {
        let resp = self.execute(config, op, None)?;
        if op.body_mode() == BodyMode::Streamed && resp.status().is_success() {
            let (parts, body) = resp.into_parts();
            let output = config.finish(op, Response::new(parts.status, &parts.headers, &[]))?;
            let expected = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            Ok((output, ObjectReader::new(body.into_reader(), expected)))
        } else {
            let output = finish_buffered(config, op, resp, self.options.max_buffered_body)?;
            Ok((output, ObjectReader::empty()))
        }
    }

    /// A presigned URL for `op`, valid for `expires` (at most 7 days with SigV4). Treat it
    /// as a secret: it authorises the request.
    ///
    /// # Errors
    /// [`Error::Input`] for anonymous credentials or an expiry out of range.
    pub fn presign<O: Operation>(&self, op: &O, expires: Duration) -> Result<Uri, Error> {
        self.config
            .presign(op, &self.credentials, self.now(), expires)
    }

    /// The clock requests are signed with: the local one, shifted when a server said ours is
    /// off.
    pub(crate) fn now(&self) -> SystemTime {
        s3_proto::retry::shifted(now(), self.clock_offset.load(Ordering::Relaxed))
    }

    /// Runs `f` under the retry policy.
    pub(crate) fn with_retries<T>(
        &self,
        replay: Replay,
        mut f: impl FnMut() -> Result<T, Error>,
    ) -> Result<T, Error> {
        let start = Instant::now();
        let mut attempt = 1;
        loop {
            let error = match f() {
                Err(e) => e,
                ok => return ok,
            };
            let jitter = s3_proto::retry::jitter_from(random_bits());
            let policy = &self.options.retry;
            let Some(retry) = policy.decide(attempt, &error, replay, start.elapsed(), jitter)
            else {
                return Err(error);
            };
            if let Some(server) = retry.server_time {
                let offset = s3_proto::retry::clock_offset(server, now());
                self.clock_offset.store(offset, Ordering::Relaxed);
            }
            std::thread::sleep(retry.delay);
            attempt += 1;
        }
    }

    /// Runs `f` with the configured region, and once more in the region a wrong-region
    /// answer names.
    fn with_region_retry<T>(
        &self,
        mut f: impl FnMut(&Config) -> Result<T, Error>,
    ) -> Result<T, Error> {
        match f(&self.config) {
            Err(e) => match e.redirect_region() {
                Some(region) if region != self.config.region() => {
                    let config = self.config.with_region(region);
                    f(&config)
                }
                _ => Err(e),
            },
            ok => ok,
        }
    }

    fn execute<O: Operation + ?Sized>(
        &self,
        config: &Config,
        op: &O,
        reader: Option<&mut dyn Read>,
    ) -> Result<http::Response<ureq::Body>, Error> {
        let req = config.prepare(op, &self.credentials, self.now())?;
        let (mut parts, body) = req.into_parts();
        if let Some(uri) = loopback_uri(&parts.uri) {
            parts.uri = uri;
        }
        let length = body.len();
        if let Some(len) = length {
            let needs_length =
                len > 0 || matches!(parts.method, http::Method::PUT | http::Method::POST);
            if needs_length {
                parts
                    .headers
                    .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
            }
        }
        let result = match (&body, reader) {
            (Body::Bytes(bytes), _) => {
                let mut slice: &[u8] = bytes;
                self.agent.run(http::Request::from_parts(
                    parts,
                    SendBody::from_reader(&mut slice),
                ))
            }
            (Body::Stream { length }, Some(reader)) => {
                let Some(length) = *length else {
                    return Err(InputError::argument(
                        "body",
                        "S3 needs the length of a streamed body (or aws-chunked framing)",
                    )
                    .into());
                };
                let mut limited = ExactReader::new(reader, length);
                let result = self.agent.run(http::Request::from_parts(
                    parts,
                    SendBody::from_reader(&mut limited),
                ));
                if let Some(e) = limited.error.take() {
                    return Err(e);
                }
                result
            }
            (Body::Stream { .. }, None) => {
                return Err(InputError::argument(
                    "body",
                    "this operation streams its body: use send_reader",
                )
                .into());
            }
            _ => self
                .agent
                .run(http::Request::from_parts(parts, SendBody::none())),
        };
        result.map_err(transport_error)
    }
}

fn finish_buffered<O: Operation + ?Sized>(
    config: &Config,
    op: &O,
    resp: http::Response<ureq::Body>,
    limit: usize,
) -> Result<O::Output, Error> {
    let (parts, mut body) = resp.into_parts();
    let bytes = if parts.status.is_success() && op.body_mode() == BodyMode::Streamed {
        // `send` on a streamed operation: the caller asked for the whole body anyway.
        read_limited(&mut body, u64::MAX)?
    } else {
        read_limited(&mut body, limit as u64)?
    };
    config.finish(op, Response::new(parts.status, &parts.headers, &bytes))
}

fn read_limited(body: &mut ureq::Body, limit: u64) -> Result<Vec<u8>, Error> {
    match body.with_config().limit(limit).read_to_vec() {
        Ok(v) => Ok(v),
        Err(ureq::Error::BodyExceedsLimit(_)) => Err(ResponseError::BodyTooLarge {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        }
        .into()),
        Err(e) => Err(transport_error(e)),
    }
}

/// 64 random bits for backoff jitter, from the standard library's per-process hash keys.
fn random_bits() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// The wall clock; the only place this crate reads it.
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> SystemTime {
    SystemTime::now()
}

/// Maps a ureq error to ours, without its text where that could carry a URL (and so a
/// presigned signature).
pub(crate) fn transport_error(e: ureq::Error) -> Error {
    use TransportErrorKind as K;
    let (kind, message) = match &e {
        ureq::Error::Timeout(t) => (K::Timeout, format!("timed out ({t:?})")),
        ureq::Error::HostNotFound => (K::Connect, "host not found".to_owned()),
        ureq::Error::ConnectionFailed => (K::Connect, "connection failed".to_owned()),
        ureq::Error::Io(io) => {
            let kind = match io.kind() {
                io::ErrorKind::ConnectionRefused => K::Connect,
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => K::Timeout,
                io::ErrorKind::UnexpectedEof => K::Truncated,
                _ => K::Io,
            };
            (kind, format!("i/o error: {io}"))
        }
        ureq::Error::Tls(msg) => (K::Connect, format!("tls: {msg}")),
        ureq::Error::BadUri(_) => (K::Other, "invalid URI".to_owned()),
        ureq::Error::Protocol(p) => (K::Io, format!("http protocol error: {p}")),
        other => (
            K::Other,
            format!("http error: {}", scrub(&other.to_string())),
        ),
    };
    match e {
        ureq::Error::Io(io) => TransportError::new(kind, message).with_source(io).into(),
        _ => TransportError::new(kind, message).into(),
    }
}

/// Drops query strings from text that may quote a URL.
fn scrub(text: &str) -> String {
    text.split_whitespace()
        .map(|w| w.split_once('?').map_or(w, |(head, _)| head))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads exactly `length` bytes from the caller's source, remembering a short read so it is
/// reported as an error instead of a request that hangs or is cut.
struct ExactReader<'a> {
    inner: &'a mut dyn Read,
    remaining: u64,
    error: Option<Error>,
}

impl<'a> ExactReader<'a> {
    fn new(inner: &'a mut dyn Read, length: u64) -> Self {
        ExactReader {
            inner,
            remaining: length,
            error: None,
        }
    }
}

impl Read for ExactReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = match self.inner.read(&mut buf[..max]) {
            Ok(n) => n,
            Err(e) => {
                self.error = Some(
                    TransportError::new(
                        TransportErrorKind::Body,
                        "reading the upload source failed",
                    )
                    .with_source(io::Error::new(e.kind(), e.to_string()))
                    .into(),
                );
                return Err(e);
            }
        };
        if n == 0 {
            self.error = Some(
                TransportError::new(
                    TransportErrorKind::Body,
                    format!("upload source ended {} bytes early", self.remaining),
                )
                .into(),
            );
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "upload source ended early",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_queries() {
        assert_eq!(
            scrub("failed http://h/b/k?X-Amz-Signature=abc now"),
            "failed http://h/b/k now"
        );
    }

    #[test]
    fn exact_reader_reports_short_sources() {
        let mut src: &[u8] = b"abc";
        let mut r = ExactReader::new(&mut src, 5);
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
        assert!(r.error.is_some());
        let mut src: &[u8] = b"abcdef";
        let mut r = ExactReader::new(&mut src, 4);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcd");
    }
}
