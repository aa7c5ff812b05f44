//! The client: one pooled hyper client and the shared [`Session`]; every request goes
//! through [`Client::retrying`], the per-request machine of s3-proto, and every attempt runs
//! under the deadlines of [`Options`].

use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime};

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
use s3_proto::flow::request::{Attempts, Deadlines, Next, Options, Outgoing, Sent, Session};
use s3_proto::proxy::Proxies;
use s3_proto::{Config, Credentials, Error, Operation};
use s3_proto::{ResponseError, TransportError};
use tokio::io::AsyncRead;
use tokio::time::Instant;

use crate::body::{Activity, ObjectStream, RequestBody, Source};
use crate::credentials;

#[cfg(feature = "rustls")]
type Connector = hyper_rustls::HttpsConnector<ProxyConnector>;
#[cfg(not(feature = "rustls"))]
type Connector = ProxyConnector;

/// A reply whose headers arrived, with the start of its attempt.
pub(crate) type Reply = (http::Response<Incoming>, Instant);

/// An async S3 client over a pooled HTTP/1.1 hyper client. Cheap to clone: clones share
/// connections, credentials and what servers taught the client (clock offset, bucket
/// regions).
///
/// # Example
/// ```no_run
/// # async fn run() -> Result<(), s3_async::Error> {
/// let client = s3_async::Client::from_env()?;
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
        let roots = options.tls.roots(s3_proto::native_roots!())?;
        #[cfg(feature = "rustls")]
        let tls = roots.map(s3_proto::tls::rustls_config).transpose()?;
        #[cfg(not(feature = "rustls"))]
        let _ = roots;
        let proxies = Arc::new(options.proxy.clone());
        #[rustfmt::skip]
        return Ok(Net { #[cfg(feature = "rustls")] tls, proxies });
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

    /// Credentials for the next attempt, refreshed by this task when it is its turn.
    pub(crate) async fn fetch_credentials(
        &self,
        attempts: &mut Attempts,
    ) -> Result<Arc<Credentials>, Error> {
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

    /// [`Client::send`], saying also whether a reply was lost on the way.
    pub(crate) async fn send_sent<O: Operation + ?Sized>(&self, op: &O) -> Sent<O::Output> {
        let attempts = self.session.attempts(op, true);
        let sent = self.retrying(attempts, |signer| async move {
            self.send_once(&signer, op, None).await
        });
        sent.await
    }

    /// Executes `op`, whose request body ([`Body::Stream`](s3_proto::Body::Stream)) is read from `body`. The body
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
        let (response, start) = self.exchange(config, op, None).await?;
        if op.body_mode() == BodyMode::Streamed && response.status().is_success() {
            let (parts, body) = response.into_parts();
            let head = (parts.status, &parts.headers);
            let (output, guard) = config.finish_head(op, head, self.options().integrity)?;
            return Ok((
                output,
                ObjectStream::new(body, guard, start, self.options()),
            ));
        }
        let output = self.finish_buffered(config, op, (response, start));
        Ok((output.await?, ObjectStream::empty()))
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
            // The client-wide rate limit (adaptive mode) and in-flight limits.
            while let Some(pace) = attempts.pace(&self.session, now()) {
                tokio::time::sleep(pace).await;
            }
            let result = match self.fetch_credentials(&mut attempts).await {
                Ok(credentials) => {
                    let config = attempts.config(&self.session).clone();
                    attempt(attempts.signer(config, credentials)).await
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
        let (parts, body) = signer.outgoing(op, self.session.now(now()), source.is_some())?;
        self.transmit(parts, body, source).await
    }

    /// Sends a signed request (not generic: one copy of the HTTP path for every operation).
    async fn transmit(
        &self,
        parts: http::request::Parts,
        body: Outgoing,
        source: Option<&Source>,
    ) -> Result<Reply, Error> {
        let activity = Activity::new();
        let body = RequestBody::new(body, source, activity.clone());
        let mut response = pin!(self.http.request(http::Request::from_parts(parts, body)));
        // Until the headers: the attempt's deadline, and the stall timer re-armed by every
        // frame of the request body.
        let deadlines = Deadlines::new(self.options());
        let result = loop {
            let doing = "awaiting the response";
            let Some(left) = deadlines.left(activity.start().elapsed(), activity.idle(), doing)?
            else {
                break response.await;
            };
            if let Ok(result) = tokio::time::timeout(left, &mut response).await {
                break result;
            }
        };
        let response = result.map_err(|e| transport_error(&e, self.options().connect_timeout))?;
        Ok((response, activity.start()))
    }

    /// Reads a reply's body (up to the buffered limit, whole for a streamed operation) under
    /// the attempt's deadlines, and finishes `op` with it.
    async fn finish_buffered<O: Operation + ?Sized>(
        &self,
        config: &Signer,
        op: &O,
        (response, start): Reply,
    ) -> Result<O::Output, Error> {
        let limit = s3_proto::body::buffer_limit(op, response.status(), self.options());
        let (parts, bytes) = self.read_limited((response, start), limit).await?;
        config.finish(op, Response::new(parts.status, &parts.headers, &bytes))
    }

    /// A reply's head and body, refused past `limit` bytes.
    async fn read_limited(
        &self,
        (response, start): Reply,
        limit: u64,
    ) -> Result<(http::response::Parts, Vec<u8>), Error> {
        let (parts, body) = response.into_parts();
        // Hyper knows the body's length, and that a HEAD reply has none.
        let len = body.size_hint().exact();
        let mut stream = ObjectStream::new(body, BodyGuard::response(len), start, self.options());
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.chunk().await? {
            if (bytes.len() + chunk.len()) as u64 > limit {
                let limit = usize::try_from(limit).unwrap_or(usize::MAX);
                return Err(ResponseError::BodyTooLarge { limit }.into());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((parts, bytes))
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

/// Maps a hyper client error to ours (see [`TransportError::classify`]).
pub(crate) fn transport_error(
    e: &hyper_util::client::legacy::Error,
    connect_timeout: Option<Duration>,
) -> Error {
    TransportError::classify(e, e.is_connect(), connect_timeout, |_e| {
        #[cfg(feature = "rustls")]
        return _e.downcast_ref::<rustls::Error>().map(ToString::to_string);
        #[cfg(not(feature = "rustls"))]
        None
    })
}
