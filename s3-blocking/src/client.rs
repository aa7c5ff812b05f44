//! The client: ureq agents (connection reuse; direct and through each proxy) and the shared
//! [`Session`]; every request goes through [`Client::retrying`], the per-request machine of
//! s3-proto.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use s3_proto::body::{BodyMode, Response};
use s3_proto::credentials::CredentialSource;
use s3_proto::credentials::source::Fetch;
use s3_proto::flow::request::{Attempts, Next, Options, Outgoing, Sent, Session};
use s3_proto::{
    Config, Credentials, Deadline, Error, InputError, Operation, ResponseError, TransportError,
    TransportErrorKind,
};
use ureq::SendBody;

use crate::body::{ObjectReader, SourceReader};
use crate::credentials;

/// A blocking S3 client. Cheap to clone: clones share connections, credentials and what
/// servers taught the client (clock offset, bucket regions).
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
    /// Direct, through the http proxy, through the https proxy ([`Options::proxy`]).
    agents: [ureq::Agent; 3],
    /// The agents' roots and proxies, also used by credential requests (STS on the server).
    net: Net,
    session: Arc<Session>,
}

/// What one attempt signs with: the config it names and the credentials current then.
pub(crate) type Signer<'a> = s3_proto::flow::request::Signer<&'a Config>;

/// How agents reach servers: the roots they trust (by default ureq's built-in Mozilla
/// roots) and the proxies requests go through.
#[derive(Clone, Default)]
pub(crate) struct Net {
    #[cfg(feature = "rustls")]
    tls: Option<ureq::tls::TlsConfig>,
    pub(crate) proxies: s3_proto::proxy::Proxies,
}

impl Net {
    /// The roots and proxies `options` ask for.
    fn new(options: &Options) -> Result<Self, Error> {
        let roots = options.tls.roots(s3_proto::native_roots!())?;
        for url in [&options.proxy.http, &options.proxy.https]
            .into_iter()
            .flatten()
        {
            ureq::Proxy::new(url).map_err(|e| InputError::argument("proxy", e.to_string()))?;
        }
        #[cfg(feature = "rustls")]
        let tls = roots.map(|roots| {
            let roots = roots
                .iter()
                .map(|der| ureq::tls::Certificate::from_der(der).to_owned());
            ureq::tls::TlsConfig::builder()
                .root_certs(roots.into())
                .build()
        });
        #[cfg(not(feature = "rustls"))]
        let _ = roots;
        Ok(Net {
            #[cfg(feature = "rustls")]
            tls,
            proxies: options.proxy.clone(),
        })
    }

    /// An agent configuration with these roots, going through `proxy` (or direct), which
    /// leaves S3's error bodies and redirects to s3-proto.
    pub(crate) fn agent(
        &self,
        proxy: Option<&str>,
    ) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
        let builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(proxy.and_then(|url| ureq::Proxy::new(url).ok()))
            .user_agent(concat!("s3-rs/", env!("CARGO_PKG_VERSION")));
        #[cfg(feature = "rustls")]
        if let Some(tls) = &self.tls {
            return builder.tls_config(tls.clone());
        }
        builder
    }
}

s3_proto::client_constructors!(Client, |name| std::env::var(name).ok(), std::fs::read);

impl Client {
    fn build(config: Config, source: CredentialSource, options: Options, net: Net) -> Self {
        let agent = |proxy: &Option<String>| {
            let config = net
                .agent(proxy.as_deref())
                .timeout_connect(options.connect_timeout)
                .timeout_global(options.request_timeout)
                .timeout_per_read(options.stall_timeout)
                .timeout_per_write(options.stall_timeout)
                .max_idle_age(options.idle_timeout.unwrap_or(Duration::from_secs(15)));
            ureq::Agent::new_with_config(config.build())
        };
        let proxy = &options.proxy;
        Client {
            agents: [agent(&None), agent(&proxy.http), agent(&proxy.https)],
            net,
            session: Arc::new(Session::new(config, source, options)),
        }
    }

    /// Credentials for the next attempt, refreshed by this thread when it is its turn.
    pub(crate) fn fetch_credentials(
        &self,
        attempts: &mut Attempts,
    ) -> Result<Arc<Credentials>, Error> {
        loop {
            match attempts.credentials(&self.session, now(), random_bits()) {
                Fetch::Use(credentials) => return Ok(credentials),
                Fetch::Refresh(mut refresh) => {
                    credentials::run_with(&mut refresh, &self.net)?;
                }
                Fetch::Wait(delay) => std::thread::sleep(delay),
            }
        }
    }

    /// [`Client::send`], saying also whether a reply was lost on the way.
    pub(crate) fn send_sent<O: Operation + ?Sized>(&self, op: &O) -> Sent<O::Output> {
        self.retrying(self.session.attempts(op, true), |signer| {
            let resp = self.exchange(signer, op, None)?;
            self.finish_buffered(signer, op, resp)
        })
    }

    /// Executes `op`, whose request body ([`Body::Stream`](s3_proto::Body::Stream)) is read from `body`. The body
    /// cannot be replayed, so only a failure to connect (nothing read yet) is retried.
    ///
    /// # Errors
    /// As [`Client::send`]; also [`Error::Transport`] when `body` fails or is shorter than
    /// the length the operation announced.
    pub fn send_reader<O: Operation>(
        &self,
        op: &O,
        mut body: impl Read,
    ) -> Result<O::Output, Error> {
        self.retrying(self.session.attempts(op, false), |signer| {
            self.send_once(signer, op, &mut body)
        })
        .result
    }

    /// One attempt of `op` with its streamed body from `body`.
    pub(crate) fn send_once<O: Operation + ?Sized>(
        &self,
        config: &Signer<'_>,
        op: &O,
        body: &mut dyn Read,
    ) -> Result<O::Output, Error> {
        let resp = self.exchange(config, op, Some(body))?;
        self.finish_buffered(config, op, resp)
    }

    /// Executes a streamed operation (GetObject) and returns its output with a reader over
    /// the body, which fails if the body is not exactly its `Content-Length`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn open<O: Operation>(&self, op: &O) -> Result<(O::Output, ObjectReader), Error> {
        self.retrying(self.session.attempts(op, true), |signer| {
            self.open_once(signer, op)
        })
        .result
    }

    /// One attempt of [`Client::open`].
    pub(crate) fn open_once<O: Operation + ?Sized>(
        &self,
        config: &Signer<'_>,
        op: &O,
    ) -> Result<(O::Output, ObjectReader), Error> {
        let resp = self.exchange(config, op, None)?;
        if op.body_mode() != BodyMode::Streamed || !resp.status().is_success() {
            let output = self.finish_buffered(config, op, resp)?;
            return Ok((output, ObjectReader::empty()));
        }
        let (parts, body) = resp.into_parts();
        let head = (parts.status, &parts.headers);
        let (output, guard) = config.finish_head(op, head, self.options().integrity)?;
        let reader = ObjectReader::new(body.into_reader(), guard, self.options().clone());
        Ok((output, reader))
    }

    /// Runs `attempt` with each config [`Attempts`] names and the credentials current then,
    /// until it decides the request is over, sleeping between attempts as told.
    pub(crate) fn retrying<T>(
        &self,
        mut attempts: Attempts,
        mut attempt: impl FnMut(&Signer<'_>) -> Result<T, Error>,
    ) -> Sent<T> {
        let start = Instant::now();
        loop {
            // The client-wide rate limit (adaptive mode) and in-flight limits.
            while let Some(pace) = attempts.pace(&self.session, now()) {
                std::thread::sleep(pace);
            }
            let result = self
                .fetch_credentials(&mut attempts)
                .and_then(|credentials| {
                    let config = attempts.config(&self.session);
                    attempt(&attempts.signer(config, credentials))
                });
            let (elapsed, random) = (start.elapsed(), random_bits());
            match attempts.handle(&self.session, result, elapsed, random, now()) {
                Next::Retry(delay) => std::thread::sleep(delay),
                Next::Done(sent) => return sent,
            }
        }
    }

    /// One HTTP exchange: sign `op` for `config` now, send it (its streamed body from
    /// `reader`), return the response with its body unread.
    fn exchange<O: Operation + ?Sized>(
        &self,
        signer: &Signer<'_>,
        op: &O,
        reader: Option<&mut dyn Read>,
    ) -> Result<http::Response<ureq::Body>, Error> {
        let now = self.session.now(now());
        let (parts, body) = signer.outgoing(op, now, reader.is_some())?;
        self.transmit(parts, body, reader)
    }

    /// Sends a signed request (not generic: one copy of the HTTP path for every operation).
    fn transmit(
        &self,
        parts: http::request::Parts,
        body: Outgoing,
        reader: Option<&mut dyn Read>,
    ) -> Result<http::Response<ureq::Body>, Error> {
        let agent = match self.options().proxy.for_uri(&parts.uri) {
            None => &self.agents[0],
            Some(_) if parts.uri.scheme_str() == Some("https") => &self.agents[2],
            Some(_) => &self.agents[1],
        };
        let result = match (body, reader) {
            (Outgoing::Bytes(bytes), _) => {
                let mut slice = &bytes[..];
                let body = SendBody::from_reader(&mut slice);
                agent.run(http::Request::from_parts(parts, body))
            }
            (Outgoing::Stream(length), Some(reader)) => {
                send_source(agent, parts, SourceReader::new(reader, length))?
            }
            (Outgoing::Chunked { source, body }, Some(reader)) => {
                send_source(agent, parts, SourceReader::new(reader, source).framed(body))?
            }
            _ => agent.run(http::Request::from_parts(parts, SendBody::none())),
        };
        result.map_err(|e| transport_error(e, self.options()))
    }

    /// Reads a reply's body (up to the buffered limit, whole for a streamed operation) and
    /// finishes `op` with it.
    fn finish_buffered<O: Operation + ?Sized>(
        &self,
        config: &Signer<'_>,
        op: &O,
        resp: http::Response<ureq::Body>,
    ) -> Result<O::Output, Error> {
        let (parts, body) = resp.into_parts();
        let limit = s3_proto::body::buffer_limit(op, parts.status, self.options());
        let bytes = self.read_limited(body, limit)?;
        config.finish(op, Response::new(parts.status, &parts.headers, &bytes))
    }

    /// A reply's body, refused past `limit` bytes.
    fn read_limited(&self, mut body: ureq::Body, limit: u64) -> Result<Vec<u8>, Error> {
        match body.with_config().limit(limit).read_to_vec() {
            Ok(v) => Ok(v),
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                let limit = usize::try_from(limit).unwrap_or(usize::MAX);
                Err(ResponseError::BodyTooLarge { limit }.into())
            }
            Err(e) => Err(transport_error(e, self.options())),
        }
    }
}

/// Sends a request whose body is read from `source`; a source that broke its promise
/// explains the failure better than ureq.
fn send_source(
    agent: &ureq::Agent,
    parts: http::request::Parts,
    mut source: SourceReader<'_>,
) -> Result<Result<http::Response<ureq::Body>, ureq::Error>, Error> {
    let result = agent.run(http::Request::from_parts(
        parts,
        SendBody::from_reader(&mut source),
    ));
    source.check()?;
    Ok(result)
}

/// 64 random bits for backoff jitter, from the standard library's per-process hash keys.
pub(crate) fn random_bits() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

/// The wall clock; the only place this crate reads it.
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> SystemTime {
    SystemTime::now()
}

/// Maps a ureq error to ours, naming the deadline that fired, without text that could carry
/// a URL (and so a presigned signature).
pub(crate) fn transport_error(e: ureq::Error, options: &Options) -> Error {
    use TransportErrorKind as K;
    let (kind, message) = match e {
        ureq::Error::Timeout(t) => return timeout(t, options),
        ureq::Error::Io(io) => return io_error(io, options),
        ureq::Error::HostNotFound => (K::Connect, "host not found".to_owned()),
        ureq::Error::ConnectionFailed => (K::Connect, "connection failed".to_owned()),
        ureq::Error::Tls(msg) => (K::Tls, format!("tls: {msg}")),
        #[cfg(feature = "rustls")]
        ureq::Error::Rustls(e) => (K::Tls, format!("tls: {e}")),
        ureq::Error::BadUri(_) => (K::Other, "invalid URI".to_owned()),
        ureq::Error::Protocol(p) => (K::Io, format!("http protocol error: {p}")),
        other => (
            K::Other,
            format!("http error: {}", TransportError::scrub(&other.to_string())),
        ),
    };
    TransportError::new(kind, message).into()
}

/// Which of our options a ureq timeout stands for.
fn timeout(t: ureq::Timeout, options: &Options) -> Error {
    let (deadline, doing) = match t {
        ureq::Timeout::Resolve | ureq::Timeout::Connect => (Deadline::Connect, "connecting"),
        ureq::Timeout::Global | ureq::Timeout::PerCall => (Deadline::Request, "in the request"),
        ureq::Timeout::SendRequest | ureq::Timeout::SendBody | ureq::Timeout::PerWrite => {
            (Deadline::Stall, "sending the request")
        }
        _ => (Deadline::Stall, "receiving the response"),
    };
    let after = match deadline {
        Deadline::Connect => options.connect_timeout,
        Deadline::Request => options.request_timeout,
        Deadline::Stall => options.stall_timeout,
    };
    TransportError::timeout(deadline, after.unwrap_or_default(), doing).into()
}

/// An IO failure on a body: ours when a guard or ureq put one inside it.
pub(crate) fn io_error(e: io::Error, options: &Options) -> Error {
    #[cfg(feature = "rustls")]
    if let Some(tls) = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        return TransportError::new(TransportErrorKind::Tls, format!("tls: {tls}")).into();
    }
    let ureq_inside = e
        .get_ref()
        .is_some_and(<dyn std::error::Error + Send + Sync>::is::<ureq::Error>);
    if ureq_inside {
        if let Some(inner) = e.into_inner() {
            if let Ok(ureq) = inner.downcast::<ureq::Error>() {
                return transport_error(*ureq, options);
            }
        }
        return TransportError::new(TransportErrorKind::Io, "i/o error").into();
    }
    TransportError::from_io(e)
}
