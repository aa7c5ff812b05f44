//! The client: one pooled hyper client and the shared [`Session`]; every request goes
//! through [`Client::retrying`], the per-request machine of s3-proto, and every attempt runs
//! under the deadlines of [`Options`].

use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::Uri;
use http_body::Body as _;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use s3_proto::body::{BodyMode, Response};
use s3_proto::credentials::CredentialSource;
use s3_proto::credentials::source::Fetch;
use s3_proto::flow::guard::BodyGuard;
use s3_proto::flow::request::{Attempts, Next, Options, Sent, Session};
use s3_proto::proxy::Proxies;
use s3_proto::retry::Replay;
use s3_proto::{Body, Config, Credentials, Deadline, Error, InputError, Operation};
use s3_proto::{ResponseError, TransportError, TransportErrorKind as Kind};
use tokio::io::AsyncRead;
use tokio::time::Instant;

use crate::body::{Activity, ObjectStream, RequestBody, Source};
use crate::credentials;

#[cfg(feature = "rustls")]
type Connector = hyper_rustls::HttpsConnector<ProxyConnector>;
#[cfg(not(feature = "rustls"))]
type Connector = ProxyConnector;

/// A reply whose headers arrived, with the end of its attempt's `request_timeout`.
pub(crate) type Reply = (http::Response<Incoming>, Option<Instant>);

/// An async S3 client over a pooled HTTP/1.1 hyper client. Cheap to clone: clones share
/// connections, credentials and what servers taught the client (clock offset, bucket
/// regions).
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
    /// The connector's roots and proxies, also used by credential requests (STS on the server).
    net: Net,
    session: Arc<Session>,
}

/// What one attempt signs with.
pub(crate) type Signer = s3_proto::flow::request::Signer<Config>;

/// How a client reaches servers: the TLS settings of its connections (`None`: the built-in
/// Mozilla roots) and the proxies.
#[derive(Clone, Default)]
pub(crate) struct Net {
    #[cfg(feature = "rustls")]
    tls: Option<Arc<rustls::ClientConfig>>,
    proxies: Arc<Proxies>,
}

impl Net {
    /// The TLS settings and proxies `options` ask for.
    fn new(options: &Options) -> Result<Self, Error> {
        let (tls, proxies) = (&options.tls, options.proxy.clone());
        #[cfg(feature = "rustls")]
        let native = |source: Option<s3_proto::tls::StoreSource<'_>>| {
            let found = match source {
                Some((file, dir)) => rustls_native_certs::load_certs_from_paths(file, dir),
                None => rustls_native_certs::load_native_certs(),
            };
            let certs = found.certs.iter().map(|c| c.to_vec()).collect();
            (
                certs,
                found.errors.iter().map(ToString::to_string).collect(),
            )
        };
        #[cfg(not(feature = "rustls"))]
        let native = |_: Option<s3_proto::tls::StoreSource<'_>>| {
            (
                Vec::new(),
                vec!["built without the rustls feature".to_owned()],
            )
        };
        let proxies = Arc::new(proxies);
        let Some(roots) = tls.roots(native)? else {
            #[rustfmt::skip]
            return Ok(Net { #[cfg(feature = "rustls")] tls: None, proxies });
        };
        #[cfg(feature = "rustls")]
        {
            let mut store = rustls::RootCertStore::empty();
            let ders = roots
                .into_iter()
                .map(rustls::pki_types::CertificateDer::from);
            let (_, rejected) = store.add_parsable_certificates(ders);
            let tls_error = |why: String| Error::from(TransportError::new(Kind::Tls, why));
            if store.is_empty() {
                let why = format!("tls: none of the {rejected} root certificates is usable");
                return Err(tls_error(why));
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| tls_error(format!("tls: {e}")))?
                .with_root_certificates(store)
                .with_no_client_auth();
            let tls = Some(Arc::new(config));
            Ok(Net { tls, proxies })
        }
        #[cfg(not(feature = "rustls"))]
        {
            drop(roots);
            Ok(Net { proxies })
        }
    }
}

/// An HTTP (and, with rustls, HTTPS) connector trusting what `net` trusts, through its proxies.
pub(crate) fn connector(net: &Net, connect_timeout: Option<Duration>) -> Connector {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(connect_timeout);
    http.set_nodelay(true);
    http.enforce_http(false);
    let http = ProxyConnector(http, net.proxies.clone());
    #[cfg(feature = "rustls")]
    let http = match &net.tls {
        Some(config) => {
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config((**config).clone())
        }
        None => hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots(),
    }
    .https_or_http()
    .enable_http1()
    .wrap_connector(http);
    http
}

/// Connects directly, or through the proxy [`Proxies`] names for the target, with a `CONNECT`
/// tunnel (for https and http targets alike; TLS, when wanted, runs inside the tunnel).
#[derive(Clone)]
pub(crate) struct ProxyConnector(HttpConnector, Arc<Proxies>);

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Tcp = hyper_util::rt::TokioIo<tokio::net::TcpStream>;

impl tower_service::Service<Uri> for ProxyConnector {
    type Response = Tcp;
    type Error = BoxError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Tcp, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, target: Uri) -> Self::Future {
        let mut http = self.0.clone();
        match self.1.for_uri(&target).map(str::parse::<Uri>) {
            None => Box::pin(async move { Ok(http.call(target).await?) }),
            Some(Ok(proxy)) => {
                Box::pin(async move { Ok(Tunnel::new(proxy, http).call(target).await?) })
            }
            Some(Err(e)) => Box::pin(async move { Err(e.into()) }),
        }
    }
}

/// A client is its [`Session`] plus connections: `client.config()`, `client.options()`,
/// `client.credentials()` (the credential source) are the session's.
impl std::ops::Deref for Client {
    type Target = Session;

    fn deref(&self) -> &Self::Target {
        &self.session
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Client").field(&self.session).finish()
    }
}

s3_proto::client_constructors!(Client, |name| std::env::var(name).ok(), std::fs::read);

impl Client {
    fn build(config: Config, source: CredentialSource, options: Options, net: Net) -> Self {
        let mut builder = HyperClient::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(options.idle_timeout);
        let http = builder.build(connector(&net, options.connect_timeout));
        let session = Arc::new(Session::new(config, source, options));
        Client { http, net, session }
    }

    /// The credentials the next request signs with: the cached ones, or resolved now.
    ///
    /// # Errors
    /// The credential chain's, when nothing valid is cached and resolving fails.
    pub async fn current_credentials(&self) -> Result<Arc<Credentials>, Error> {
        let mut attempts = self.session.attempts_with(Replay::Safe, None);
        self.fetch_credentials(&mut attempts).await
    }

    /// Credentials for the next attempt, refreshed by this task when it is its turn.
    async fn fetch_credentials(&self, attempts: &mut Attempts) -> Result<Arc<Credentials>, Error> {
        loop {
            let fetch = attempts.credentials(&self.session, now(), random_bits());
            match fetch {
                Fetch::Refresh(mut refresh) => {
                    credentials::run_with(&mut refresh, &self.net).await?;
                }
                Fetch::Wait(delay) => tokio::time::sleep(delay).await,
                Fetch::Use(credentials) => return Ok(credentials),
            }
        }
    }

    /// Executes `op` under the retry policy, following (and remembering) a reply that names
    /// another region for the bucket. A streamed response (GetObject) is read whole here.
    ///
    /// # Errors
    /// [`Error::Service`] when S3 says no, [`Error::Transport`] when the network fails,
    /// [`Error::Response`] for a malformed reply, [`Error::Input`] for an invalid operation.
    pub async fn send<O: Operation>(&self, op: &O) -> Result<O::Output, Error> {
        self.send_sent(op).await.result
    }

    /// [`Client::send`], saying also whether a reply was lost on the way.
    pub(crate) async fn send_sent<O: Operation + ?Sized>(&self, op: &O) -> Sent<O::Output> {
        let attempts = self.session.attempts(op, true);
        let sent = self.retrying(attempts, |signer| async move {
            self.send_once(&signer, op, None).await
        });
        sent.await
    }

    /// Executes `op`, whose request body ([`Body::Stream`]) is read from `body`. The body
    /// cannot be replayed, so only a failure to connect (nothing read yet) is retried.
    ///
    /// # Errors
    /// As [`Client::send`]; [`Error::Transport`] when `body` fails or falls short.
    pub async fn send_reader<O: Operation>(
        &self,
        op: &O,
        body: impl AsyncRead + Send + 'static,
    ) -> Result<O::Output, Error> {
        let (source, attempts) = (&Source::new(body), self.session.attempts(op, false));
        let sent = self.retrying(attempts, |signer| async move {
            self.send_once(&signer, op, Some(source)).await
        });
        sent.await.result
    }

    /// One attempt of `op`, its streamed body (if any) from `source`, its reply buffered.
    pub(crate) async fn send_once<O: Operation + ?Sized>(
        &self,
        config: &Signer,
        op: &O,
        source: Option<&Source>,
    ) -> Result<O::Output, Error> {
        let reply = self.exchange(config, op, source).await?;
        self.finish_buffered(config, op, reply).await
    }

    /// Executes a streamed operation (GetObject): its output, and its body as an
    /// [`ObjectStream`].
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn open<O: Operation>(&self, op: &O) -> Result<(O::Output, ObjectStream), Error> {
        let attempts = self.session.attempts(op, true);
        let sent = self.retrying(attempts, |signer| async move {
            self.open_once(&signer, op).await
        });
        sent.await.result
    }

    /// One attempt of [`Client::open`].
    pub(crate) async fn open_once<O: Operation + ?Sized>(
        &self,
        config: &Signer,
        op: &O,
    ) -> Result<(O::Output, ObjectStream), Error> {
        let (response, deadline) = self.exchange(config, op, None).await?;
        if op.body_mode() == BodyMode::Streamed && response.status().is_success() {
            let (parts, body) = response.into_parts();
            let head = Response::new(parts.status, &parts.headers, &[]);
            let len = s3_proto::body::content_length(&parts.headers);
            let output = config.finish(op, head)?;
            let check = op.body_check(&output, self.options().integrity);
            let guard = BodyGuard::response(len).checked(check);
            return Ok((
                output,
                ObjectStream::new(body, guard, deadline, self.options()),
            ));
        }
        let output = self.finish_buffered(config, op, (response, deadline));
        Ok((output.await?, ObjectStream::empty()))
    }

    /// A presigned URL for `op`, valid for `expires` (at most 7 days with SigV4). Treat it
    /// as a secret: it authorises the request.
    ///
    /// # Errors
    /// [`Error::Input`] for anonymous credentials or an expiry out of range; the credential
    /// chain's error when no valid credentials can be had.
    pub async fn presign<O: Operation>(&self, op: &O, expires: Duration) -> Result<Uri, Error> {
        let credentials = self.current_credentials().await?;
        let now = self.session.now(now());
        self.config().presign(op, &credentials, now, expires)
    }

    /// Runs `attempt` with each config [`Attempts`] names and the credentials current then,
    /// until it decides the request is over, sleeping between attempts as told.
    pub(crate) async fn retrying<T, F>(
        &self,
        mut attempts: Attempts,
        mut attempt: impl FnMut(Signer) -> F,
    ) -> Sent<T>
    where
        F: Future<Output = Result<T, Error>>,
    {
        let start = Instant::now();
        loop {
            let pace = attempts.pace(&self.session, now());
            if !pace.is_zero() {
                // Adaptive retry mode, after throttling: the client-wide rate limit.
                tokio::time::sleep(pace).await;
            }
            let result = match self.fetch_credentials(&mut attempts).await {
                Ok(credentials) => {
                    let config = attempts.config(&self.session).clone();
                    attempt(Signer {
                        config,
                        credentials,
                    })
                    .await
                }
                Err(e) => Err(e),
            };
            let elapsed = start.elapsed();
            match attempts.handle(&self.session, result, elapsed, random_bits(), now()) {
                Next::Done(sent) => return sent,
                Next::Retry(delay) => tokio::time::sleep(delay).await,
            }
        }
    }

    /// One HTTP exchange: sign `op` for `config` now, send it (its streamed body from
    /// `source`), wait for the response headers under the attempt's deadlines.
    async fn exchange<O: Operation + ?Sized>(
        &self,
        signer: &Signer,
        op: &O,
        source: Option<&Source>,
    ) -> Result<Reply, Error> {
        let (options, activity) = (self.options(), Activity::new());
        let deadline = options.request_timeout.map(|t| activity.last() + t);
        let request = signer.prepare(op, self.session.now(now()))?;
        let (mut parts, body) = request.into_parts();
        if let Some(uri) = s3_proto::config::loopback_uri(&parts.uri) {
            parts.uri = uri;
        }
        s3_proto::body::set_content_length(&mut parts, &body);
        let body = match (body, source) {
            (Body::Bytes(bytes), _) => RequestBody::bytes(bytes, activity.clone()),
            (Body::Stream { length }, Some(source)) => {
                let length = s3_proto::body::stream_length(length)?;
                RequestBody::source(source.clone(), length, activity.clone())
            }
            (Body::Stream { .. }, None) => {
                let why = "this operation streams its body: use send_reader";
                return Err(InputError::argument("body", why).into());
            }
            _ => RequestBody::bytes(Bytes::new(), activity.clone()),
        };
        let mut response = pin!(self.http.request(http::Request::from_parts(parts, body)));
        // Until the headers: the whole-attempt deadline, and the stall timer re-armed by
        // every frame of the request body.
        let stall_at = || options.stall_timeout.map(|t| activity.last() + t);
        let result = loop {
            let Some(until) = deadline.into_iter().chain(stall_at()).min() else {
                break response.await;
            };
            if let Ok(result) = tokio::time::timeout_at(until, &mut response).await {
                break result;
            }
            let now = Instant::now();
            let (fired, after) = if deadline.is_some_and(|at| at <= now) {
                (Deadline::Request, options.request_timeout)
            } else if stall_at().is_some_and(|at| at <= now) {
                (Deadline::Stall, options.stall_timeout)
            } else {
                continue; // the body moved meanwhile
            };
            let doing = "awaiting the response";
            return Err(TransportError::timeout(fired, after.unwrap_or_default(), doing).into());
        };
        let response = result.map_err(|e| transport_error(&e, options.connect_timeout))?;
        Ok((response, deadline))
    }

    /// Reads a reply's body (up to the buffered limit, whole for a streamed operation) under
    /// the attempt's deadlines, and finishes `op` with it.
    async fn finish_buffered<O: Operation + ?Sized>(
        &self,
        config: &Config,
        op: &O,
        (response, deadline): Reply,
    ) -> Result<O::Output, Error> {
        let (parts, body) = response.into_parts();
        let limit = s3_proto::body::buffer_limit(op, parts.status, self.options());
        // Hyper knows the body's length, and that a HEAD reply has none.
        let len = body.size_hint().exact();
        let mut stream =
            ObjectStream::new(body, BodyGuard::response(len), deadline, self.options());
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.chunk().await? {
            if (bytes.len() + chunk.len()) as u64 > limit {
                let limit = usize::try_from(limit).unwrap_or(usize::MAX);
                return Err(ResponseError::BodyTooLarge { limit }.into());
            }
            bytes.extend_from_slice(&chunk);
        }
        config.finish(op, Response::new(parts.status, &parts.headers, &bytes))
    }
}

/// 64 random bits for backoff jitter, from the standard library's per-process hash keys.
fn random_bits() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(Instant::now())
}

/// The wall clock; the only place this crate reads it.
pub(crate) fn now() -> SystemTime {
    SystemTime::now()
}

/// Maps a hyper client error to ours: the upload source's own failure when hyper carries
/// one, a connect timeout as the deadline it is. Hyper's text never carries the URL (and so
/// never a presigned signature).
pub(crate) fn transport_error(
    e: &hyper_util::client::legacy::Error,
    connect_timeout: Option<Duration>,
) -> Error {
    let (mut message, mut timed_out) = (format!("http error: {e}"), false);
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(Error::Transport(ours)) = s.downcast_ref::<Error>() {
            return TransportError::new(ours.kind(), ours.to_string()).into();
        }
        #[cfg(feature = "rustls")]
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return TransportError::new(Kind::Tls, format!("tls: {tls}")).into();
        }
        let io = s.downcast_ref::<std::io::Error>();
        timed_out |= io.is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
        let text = s.to_string();
        if !message.ends_with(&text) {
            message = format!("{message}: {text}");
        }
        // io::Error's source() skips the error it wraps (where rustls puts a refused
        // certificate, two io::Errors deep through hyper-rustls): walk into it instead.
        let inner = io
            .and_then(|io| io.get_ref())
            .map(|e| e as &(dyn std::error::Error + 'static));
        source = inner.or_else(|| s.source());
    }
    match (e.is_connect(), connect_timeout.filter(|_| timed_out)) {
        (true, Some(after)) => TransportError::timeout(Deadline::Connect, after, "connecting"),
        (true, None) => TransportError::new(Kind::Connect, message),
        (false, _) => TransportError::new(Kind::Io, message),
    }
    .into()
}
