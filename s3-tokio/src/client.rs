//! The async client: a pooled hyper client, a config and credentials; `send` executes any
//! s3-proto operation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use http::Uri;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use s3_proto::body::{BodyMode, Response};
use s3_proto::config::loopback_uri;
use s3_proto::retry::{Replay, RetryPolicy, replay_of};
use s3_proto::{
    Body, Config, Credentials, Error, InputError, Operation, ResponseError, TransportError,
    TransportErrorKind,
};
use tokio::io::AsyncRead;

use crate::body::{ObjectStream, RequestBody};

#[cfg(feature = "rustls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "rustls"))]
type Connector = HttpConnector;

/// Timeouts and limits of a [`Client`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Time allowed to open a connection (default 10 s).
    pub connect_timeout: Option<Duration>,
    /// Time allowed until the response headers arrive (default none).
    pub request_timeout: Option<Duration>,
    /// How long an idle pooled connection is kept (default 30 s).
    pub idle_timeout: Option<Duration>,
    /// Largest buffered (XML) response body accepted (default [`s3_proto::MAX_XML_BODY`]).
    pub max_buffered_body: usize,
    /// Longest silence while reading a response body before giving up (default 60 s).
    pub stall_timeout: Option<Duration>,
    /// When and how failed requests are tried again (see [`RetryPolicy`]).
    pub retry: RetryPolicy,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Some(Duration::from_secs(10)),
            request_timeout: None,
            idle_timeout: Some(Duration::from_secs(30)),
            max_buffered_body: s3_proto::MAX_XML_BODY,
            stall_timeout: Some(Duration::from_secs(60)),
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

    /// Sets the timeout until response headers.
    pub fn request_timeout(mut self, t: Option<Duration>) -> Self {
        self.request_timeout = t;
        self
    }

    /// Sets the pool idle timeout.
    pub fn idle_timeout(mut self, t: Option<Duration>) -> Self {
        self.idle_timeout = t;
        self
    }

    /// Sets the stall timeout on response bodies.
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

/// An async S3 client over a pooled HTTP/1.1 hyper client. Cheap to clone: clones share the
/// connection pool and credentials.
///
/// # Example
/// ```no_run
/// # async fn run() -> Result<(), s3_tokio::Error> {
/// let client = s3_tokio::Client::from_env()?;
/// let bucket = client.create_bucket("my-bucket").await?;
/// bucket.put_string("foobar", "This is a test of S3").await?;
/// assert_eq!(bucket.get_string("foobar").await?.as_deref(), Some("This is a test of S3"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    http: HyperClient<Connector, RequestBody>,
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

fn connector(options: &Options) -> Connector {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(options.connect_timeout);
    http.set_nodelay(true);
    http.enforce_http(false);
    #[cfg(feature = "rustls")]
    {
        hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http)
    }
    #[cfg(not(feature = "rustls"))]
    {
        http
    }
}

impl Client {
    /// A client for `config`, signing with `credentials`, with default options.
    pub fn new(config: Config, credentials: Credentials) -> Self {
        Client::with_options(config, credentials, Options::default())
    }

    /// A client with explicit options.
    pub fn with_options(config: Config, credentials: Credentials, options: Options) -> Self {
        let http = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(options.idle_timeout)
            .build(connector(&options));
        Client {
            http,
            config,
            credentials: Arc::new(credentials),
            options,
            clock_offset: Arc::new(AtomicI64::new(0)),
        }
    }

    /// A client configured the way the AWS CLI would be (see `s3_blocking::Client::from_env`
    /// for the variables and files read). Reads the shared files synchronously: call it once
    /// at start-up.
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
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
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

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Executes `op`; a wrong-region answer is retried there once. A streamed response
    /// (GetObject) is read whole here; use [`Client::open`] to stream it.
    ///
    /// # Errors
    /// [`Error::Service`] when S3 says no, [`Error::Transport`] when the network fails,
    /// [`Error::Response`] for a malformed reply, [`Error::Input`] for an invalid operation.
    pub async fn send<O: Operation>(&self, op: &O) -> Result<O::Output, Error> {
        self.with_retries(replay_of(op, true), || async {
            match self.send_in(&self.config, op).await {
                Err(e) => match e.redirect_region() {
                    Some(region) if region != self.config.region() => {
                        let config = self.config.with_region(region);
                        self.send_in(&config, op).await
                    }
                    _ => Err(e),
                },
                ok => ok,
            }
        })
        .await
    }

    /// Sends `op` under the retry policy, retrying even after a lost reply (for the multipart
    /// create and complete, which the caller makes safe), and says whether a reply was lost:
    /// the request may then have taken effect although it failed or was repeated.
    pub(crate) async fn send_noting_lost<O: Operation>(
        &self,
        op: &O,
    ) -> (Result<O::Output, Error>, bool) {
        let lost = AtomicBool::new(false);
        let result = self
            .with_retries(Replay::Safe, || async {
                let result = self.send_in(&self.config, op).await;
                if result.as_ref().is_err_and(Error::reply_lost) {
                    lost.store(true, Ordering::Relaxed);
                }
                result
            })
            .await;
        (result, lost.load(Ordering::Relaxed))
    }

    /// One attempt of [`Client::send`] (for callers running their own retry loop).
    pub(crate) async fn send_in<O: Operation>(
        &self,
        config: &Config,
        op: &O,
    ) -> Result<O::Output, Error> {
        let resp = self.execute(config, op, None).await?;
        finish_buffered(config, op, resp, self.options.max_buffered_body).await
    }

    /// Executes `op`, whose request body ([`Body::Stream`]) is read from `body`. The body is
    /// consumed by the first attempt, so nothing is retried: use a source you can re-open
    /// (as [`Bucket::upload_file`](crate::Bucket::upload_file) does) for retries.
    ///
    /// # Errors
    /// As [`Client::send`]; also [`Error::Transport`] when `body` fails or ends early.
    pub async fn send_reader<O: Operation>(
        &self,
        op: &O,
        body: impl AsyncRead + Send + 'static,
    ) -> Result<O::Output, Error> {
        let resp = self.execute(&self.config, op, Some(Box::pin(body))).await?;
        finish_buffered(&self.config, op, resp, self.options.max_buffered_body).await
    }

    /// Executes a streamed operation (GetObject): its output and the body as an
    /// [`ObjectStream`].
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn open<O: Operation>(&self, op: &O) -> Result<(O::Output, ObjectStream), Error> {
        self.with_retries(replay_of(op, true), || async {
            match self.open_in(&self.config, op).await {
                Err(e) => match e.redirect_region() {
                    Some(region) if region != self.config.region() => {
                        let config = self.config.with_region(region);
                        self.open_in(&config, op).await
                    }
                    _ => Err(e),
                },
                ok => ok,
            }
        })
        .await
    }

    /// The clock requests are signed with: the local one, shifted when a server said ours is
    /// off.
    pub(crate) fn now(&self) -> SystemTime {
        s3_proto::retry::shifted(now(), self.clock_offset.load(Ordering::Relaxed))
    }

    /// Runs `f` under the retry policy.
    pub(crate) async fn with_retries<T, F>(
        &self,
        replay: Replay,
        mut f: impl FnMut() -> F,
    ) -> Result<T, Error>
    where
        F: Future<Output = Result<T, Error>>,
    {
        let start = Instant::now();
        let mut attempt = 1;
        loop {
            let error = match f().await {
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
            tokio::time::sleep(retry.delay).await;
            attempt += 1;
        }
    }

    /// One attempt of [`Client::open`] (for callers running their own retry loop).
    pub(crate) async fn open_in<O: Operation>(
        &self,
        config: &Config,
        op: &O,
    ) -> Result<(O::Output, ObjectStream), Error> {
        let resp = self.execute(config, op, None).await?;
        if op.body_mode() == BodyMode::Streamed && resp.status().is_success() {
            let (parts, body) = resp.into_parts();
            let output = config.finish(op, Response::new(parts.status, &parts.headers, &[]))?;
            let expected = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            Ok((
                output,
                ObjectStream::new(body, expected, self.options.stall_timeout),
            ))
        } else {
            let output = finish_buffered(config, op, resp, self.options.max_buffered_body).await?;
            Ok((output, ObjectStream::empty()))
        }
    }

    /// A presigned URL for `op`, valid for `expires`. Treat it as a secret.
    ///
    /// # Errors
    /// [`Error::Input`] for anonymous credentials or an expiry out of range.
    pub fn presign<O: Operation>(&self, op: &O, expires: Duration) -> Result<Uri, Error> {
        self.config
            .presign(op, &self.credentials, self.now(), expires)
    }

    async fn execute<O: Operation + ?Sized>(
        &self,
        config: &Config,
        op: &O,
        reader: Option<std::pin::Pin<Box<dyn AsyncRead + Send>>>,
    ) -> Result<http::Response<Incoming>, Error> {
        let req = config.prepare(op, &self.credentials, self.now())?;
        let (mut parts, body) = req.into_parts();
        if let Some(uri) = loopback_uri(&parts.uri) {
            parts.uri = uri;
        }
        if let Some(len) = body.len() {
            if len > 0 || matches!(parts.method, http::Method::PUT | http::Method::POST) {
                parts
                    .headers
                    .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
            }
        }
        let body = match (body, reader) {
            (Body::Bytes(bytes), _) => RequestBody::Full(Some(bytes)),
            (Body::Stream { length: Some(len) }, Some(reader)) => RequestBody::reader(reader, len),
            (Body::Stream { length: None }, Some(_)) => {
                return Err(InputError::argument(
                    "body",
                    "S3 needs the length of a streamed body (or aws-chunked framing)",
                )
                .into());
            }
            (Body::Stream { .. }, None) => {
                return Err(InputError::argument(
                    "body",
                    "this operation streams its body: use send_reader",
                )
                .into());
            }
            _ => RequestBody::Empty,
        };
        let request = http::Request::from_parts(parts, body);
        let fut = self.http.request(request);
        let result = match self.options.request_timeout {
            Some(t) => tokio::time::timeout(t, fut).await.map_err(|_| {
                Error::from(TransportError::new(
                    TransportErrorKind::Timeout,
                    format!("no response within {t:?}"),
                ))
            })?,
            None => fut.await,
        };
        result.map_err(transport_error)
    }
}

async fn finish_buffered<O: Operation + ?Sized>(
    config: &Config,
    op: &O,
    resp: http::Response<Incoming>,
    limit: usize,
) -> Result<O::Output, Error> {
    let (parts, body) = resp.into_parts();
    let limit = if parts.status.is_success() && op.body_mode() == BodyMode::Streamed {
        usize::MAX
    } else {
        limit
    };
    let bytes = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            if e.is::<http_body_util::LengthLimitError>() {
                return Err(ResponseError::BodyTooLarge { limit }.into());
            }
            return Err(TransportError::new(
                TransportErrorKind::Io,
                format!("reading the response body failed: {e}"),
            )
            .into());
        }
    };
    config.finish(op, Response::new(parts.status, &parts.headers, &bytes))
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

/// Maps a hyper client error to ours (its text never carries the URL).
fn transport_error(e: hyper_util::client::legacy::Error) -> Error {
    let kind = if e.is_connect() {
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Io
    };
    let mut message = format!("http error: {e}");
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    TransportError::new(kind, message).into()
}
