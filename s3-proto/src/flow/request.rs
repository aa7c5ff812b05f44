//! One request, tried until it succeeds or the policy gives up: the loop every runtime runs
//! around every exchange, whatever the call path.
//!
//! [`Attempts`] decides; the runtime sends, sleeps and reads its clock. It counts attempts,
//! applies the [`RetryPolicy`] (with jitter passed in as random bits), re-signs with the
//! server's clock after `RequestTimeTooSkewed`, re-sends once to the region a wrong-region
//! answer names (and remembers that bucket's region in [`Session`]), fetches credentials for
//! every attempt and, when a server refuses the token, drops it and tries once more with fresh
//! ones (see [`crate::credentials::source`]), and notes whether any
//! attempt's reply was lost, so a flow can recover what such a request may have done.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use s3_proto::flow::request::{Next, Options, Session};
//! use s3_proto::ops::ListBuckets;
//! use s3_proto::{Config, Credentials, Error, ErrorCode, ServiceError};
//!
//! let config = Config::new("http://127.0.0.1:9000", "us-east-1")?;
//! let session = Session::new(config, Credentials::new("AKID", "SECRET"), Options::default());
//! let op = ListBuckets::new();
//! let mut attempts = session.attempts(&op, true);
//! let sent = loop {
//!     // get credentials with attempts.credentials(..) (fixed ones: at once),
//!     // prepare with attempts.config(&session) at session.now(local clock), send; then:
//!     let result: Result<(), Error> = Err(ServiceError::new(http::StatusCode::SERVICE_UNAVAILABLE, ErrorCode::SlowDown).into());
//!     match attempts.handle(&session, result, Duration::ZERO, 42, SystemTime::UNIX_EPOCH) {
//!         Next::Retry(delay) => { /* sleep(delay) */ }
//!         Next::Done(sent) => break sent,
//!     }
//! };
//! assert_eq!(sent.attempts, 4);
//! assert!(sent.result.is_err());
//! # Ok::<(), s3_proto::Error>(())
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::guard::BodyGuard;
use super::limit::{InFlight, Turn};
use super::throttle::{self, Throttle};
use super::trace::Trace;
use crate::body::Body;
use crate::checksum::ChecksumPolicy;
use crate::config::Config;
use crate::credentials::source::{Fetch, refuses_credentials};
use crate::credentials::{CredentialSource, Credentials};
use crate::error::{Deadline, Error};
use crate::name::BucketName;
use crate::op::Operation;
use crate::quirks::ServerQuirks;
use crate::retry::{self, Replay, RetryPolicy};

/// A client's timeouts, limits and retry policy: the same meaning in every runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Time allowed to open a connection, TLS included (default 10 s). Fires as
    /// [`Deadline::Connect`]; nothing was sent, so every request
    /// may be retried after it.
    pub connect_timeout: Option<Duration>,
    /// Time allowed for one whole attempt: connect, send the body, receive the headers and
    /// read the whole response body (default none, so transfers of any size work). Fires as
    /// [`Deadline::Request`], also in the middle of a body.
    pub request_timeout: Option<Duration>,
    /// Longest silence while sending or receiving (before the headers or inside a body)
    /// before giving up (default 60 s). Fires as [`Deadline::Stall`].
    pub stall_timeout: Option<Duration>,
    /// How long an idle pooled connection is kept (default 30 s).
    pub idle_timeout: Option<Duration>,
    /// Largest buffered (XML) response body accepted (default [`crate::MAX_XML_BODY`]).
    pub max_buffered_body: usize,
    /// When and how failed requests are tried again (see [`RetryPolicy`]).
    pub retry: RetryPolicy,
    /// How much verification object reads insist on (default
    /// [`Integrity::Verify`](crate::integrity::Integrity)).
    pub integrity: crate::integrity::Integrity,
    /// Which certificates https connections trust (default: the built-in Mozilla roots).
    pub tls: crate::tls::Tls,
    /// The forward proxies requests go through (default: none, every request direct;
    /// `Client::from_env` reads `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`).
    pub proxy: crate::proxy::Proxies,
    /// How the server differs from AWS S3 (default [`ServerQuirks::aws`]): a preset such as
    /// [`ServerQuirks::ceph`] adapts conditional writes, checksums and listings to it.
    pub quirks: ServerQuirks,
    /// When uploads carry a flexible checksum the caller did not ask for: the AWS SDKs'
    /// `request_checksum_calculation` (`AWS_REQUEST_CHECKSUM_CALCULATION`). Default
    /// [`ChecksumPolicy::WhenRequired`]: nothing new is sent, no extra pass over bodies;
    /// [`ChecksumPolicy::WhenSupported`] gives every PutObject and upload a CRC32 in headers
    /// where the server takes them (never in a trailer it refuses, see [`ServerQuirks`]).
    pub request_checksums: ChecksumPolicy,
    /// Most requests in flight at once, all clones and transfers of the client together
    /// (default none: as many as the transfers ask for). See [`super::limit`].
    pub max_in_flight: Option<usize>,
    /// Most requests in flight at once to one endpoint host (default none).
    pub max_in_flight_per_host: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Some(Duration::from_secs(10)),
            request_timeout: None,
            stall_timeout: Some(Duration::from_secs(60)),
            idle_timeout: Some(Duration::from_secs(30)),
            max_buffered_body: crate::MAX_XML_BODY,
            retry: RetryPolicy::default(),
            integrity: crate::integrity::Integrity::default(),
            tls: crate::tls::Tls::default(),
            proxy: crate::proxy::Proxies::default(),
            quirks: ServerQuirks::default(),
            request_checksums: ChecksumPolicy::default(),
            max_in_flight: None,
            max_in_flight_per_host: None,
        }
    }
}

impl Options {
    /// Sets how much verification object reads insist on.
    pub fn integrity(mut self, integrity: crate::integrity::Integrity) -> Self {
        self.integrity = integrity;
        self
    }

    /// Whole reads of one object allowed after digest mismatches (the retry policy's
    /// attempts), judged under this integrity.
    pub fn rereads(&self) -> crate::integrity::Rereads {
        crate::integrity::Rereads::new(self.retry.max_attempts, self.integrity)
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, t: Option<Duration>) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Sets the whole-attempt timeout.
    pub fn request_timeout(mut self, t: Option<Duration>) -> Self {
        self.request_timeout = t;
        self
    }

    /// Sets the stall timeout.
    pub fn stall_timeout(mut self, t: Option<Duration>) -> Self {
        self.stall_timeout = t;
        self
    }

    /// Sets the pool idle timeout.
    pub fn idle_timeout(mut self, t: Option<Duration>) -> Self {
        self.idle_timeout = t;
        self
    }

    /// Sets which certificates https connections trust.
    pub fn tls(mut self, tls: crate::tls::Tls) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the forward proxies.
    pub fn proxy(mut self, proxies: crate::proxy::Proxies) -> Self {
        self.proxy = proxies;
        self
    }

    /// Sets how the server differs from AWS S3 (a preset: [`ServerQuirks::ceph`], …).
    pub fn quirks(mut self, quirks: ServerQuirks) -> Self {
        self.quirks = quirks;
        self
    }

    /// Sets when uploads carry a flexible checksum nobody asked for.
    pub fn request_checksums(mut self, policy: ChecksumPolicy) -> Self {
        self.request_checksums = policy;
        self
    }

    /// The checksum the policy alone gives a request its caller chose none for: CRC32 under
    /// [`ChecksumPolicy::WhenSupported`] for a server that takes checksum headers, else
    /// none. What an upload gets is [`Session::upload_checksum`], which also knows the
    /// endpoint (over TLS to a server known to check checksums, CRC32 under either policy).
    pub fn default_checksum(&self) -> Option<crate::checksum::ChecksumAlgorithm> {
        self.request_checksums.unasked_algorithm(&self.quirks)
    }

    /// Sets the retry policy ([`RetryPolicy::none`] turns retries off).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets the most requests in flight at once, for the whole client (at least one).
    pub fn max_in_flight(mut self, n: Option<usize>) -> Self {
        self.max_in_flight = n;
        self
    }

    /// Sets the most requests in flight at once to one host (at least one).
    pub fn max_in_flight_per_host(mut self, n: Option<usize>) -> Self {
        self.max_in_flight_per_host = n;
        self
    }
}

/// Buckets whose region is remembered at most; past it the cache starts over.
pub const MAX_CACHED_REGIONS: usize = 1024;

/// What a client and its clones share: where and how to send, with which keys (fixed, or a
/// cache the credential chain refreshes), and what servers taught it (how far our clock is
/// off, which region each redirected bucket is in).
#[derive(Debug)]
pub struct Session {
    config: Config,
    /// `config` in the region the credential source discovered, once it has.
    discovered: std::sync::OnceLock<Config>,
    credentials: CredentialSource,
    options: Options,
    /// Milliseconds to add to the local clock when signing.
    clock_offset_ms: AtomicI64,
    /// Bucket → region, learnt from wrong-region answers.
    regions: Mutex<HashMap<String, String>>,
    /// The retry quota and rate limiter every request of the client shares.
    throttle: Mutex<Throttle>,
    /// The requests in flight, against the client's limits.
    in_flight: InFlight,
}

impl Session {
    /// A session for `config`, signing with `credentials`: fixed [`Credentials`], or a
    /// [`CredentialSource`] whose cache is refreshed.
    pub fn new(config: Config, credentials: impl Into<CredentialSource>, options: Options) -> Self {
        Session {
            config: config.server(options.quirks, options.request_checksums),
            discovered: std::sync::OnceLock::new(),
            credentials: credentials.into(),
            clock_offset_ms: AtomicI64::new(0),
            regions: Mutex::new(HashMap::new()),
            throttle: Mutex::new(Throttle::new(options.retry.mode)),
            in_flight: InFlight::new(options.max_in_flight, options.max_in_flight_per_host),
            options,
        }
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Tokens left in the client's retry quota, and its sending rate when throttling
    /// started one (see [`crate::flow::throttle`]).
    pub fn retry_budget(&self) -> (u32, Option<f64>) {
        let throttle = self.throttle();
        (throttle.tokens(), throttle.rate())
    }

    /// Requests in flight now, and the most there were at once, counted while a limit is
    /// set (see [`super::limit`]).
    pub fn in_flight(&self) -> (usize, usize) {
        self.in_flight.count()
    }

    /// The config: in the region the credential source discovered
    /// ([`CredentialSource::discovering_region`]) once it has, else as given.
    pub fn config(&self) -> &Config {
        match self.credentials.discovered_region() {
            Some(region) if region != self.config.region() => self
                .discovered
                .get_or_init(|| self.config.with_region(region)),
            _ => &self.config,
        }
    }

    /// True when the server checks each signed body by its SHA-256 payload hash
    /// ([`Config::checks_payload_hashes`], with credentials to sign with): uploads then
    /// carry that hash instead of a `Content-MD5` ([`UploadFlow::payload_hashes`]).
    ///
    /// [`UploadFlow::payload_hashes`]: crate::flow::upload::UploadFlow::payload_hashes
    pub fn checks_payload_hashes(&self) -> bool {
        self.config().checks_payload_hashes() && !self.credentials.is_anonymous()
    }

    /// True when an upload's flexible checksum covers its body by itself
    /// ([`Config::checksums_cover_payloads`]): uploads then skip the SHA-256 and `Content-MD5`
    /// passes ([`UploadFlow::checksums_cover`]).
    ///
    /// [`UploadFlow::checksums_cover`]: crate::flow::upload::UploadFlow::checksums_cover
    pub fn checksums_cover_payloads(&self) -> bool {
        self.config().checksums_cover_payloads()
    }

    /// The checksum an upload gets when its caller chose none
    /// ([`Target::default_checksum`](crate::endpoint::Target::default_checksum)): the policy's,
    /// or CRC32 where a checksum covers a body by itself.
    pub fn upload_checksum(&self) -> Option<crate::checksum::ChecksumAlgorithm> {
        self.config().target().default_checksum()
    }

    /// Where the credentials come from.
    pub fn credentials(&self) -> &CredentialSource {
        &self.credentials
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The time to sign with: `local`, shifted when a server said our clock is off.
    pub fn now(&self, local: SystemTime) -> SystemTime {
        retry::shifted(local, self.clock_offset_ms.load(Ordering::Relaxed))
    }

    /// The region a server said `bucket` lives in, if one did.
    pub fn region_of(&self, bucket: &str) -> Option<String> {
        self.regions.lock().ok()?.get(bucket).cloned()
    }

    fn learn_region(&self, bucket: &str, region: &str) {
        if let Ok(mut regions) = self.regions.lock() {
            if regions.len() >= MAX_CACHED_REGIONS {
                regions.clear();
            }
            regions.insert(bucket.to_owned(), region.to_owned());
        }
    }

    /// The retry loop for `op`, whose body can be sent again when `replayable`.
    pub fn attempts<O: Operation + ?Sized>(&self, op: &O, replayable: bool) -> Attempts {
        let mut attempts = self.attempts_with(retry::replay_of(op, replayable), op.bucket());
        attempts.trace = Trace::request(op.name(), attempts.bucket.as_deref());
        attempts
    }

    /// The retry loop for a request to `bucket` (when it targets one) replayed as `replay`.
    pub fn attempts_with(&self, replay: Replay, bucket: Option<&BucketName>) -> Attempts {
        let bucket = bucket.map(|b| b.as_str().to_owned());
        let redirect = bucket
            .as_deref()
            .and_then(|b| self.region_of(b))
            .filter(|r| r != self.config().region())
            .map(|r| self.config().with_region(&r));
        Attempts {
            policy: self.options.retry,
            replay,
            attempt: 1,
            bucket,
            redirect,
            redirected: false,
            lost: false,
            spent: 0,
            signed_with: None,
            reauthenticated: false,
            trace: Trace::default(),
            paced: false,
            turn: Turn::Idle,
        }
    }
}

/// What one attempt signs with: the config [`Attempts::config`] names (borrowed or owned) and
/// the credentials [`Attempts::credentials`] fetched ([`Attempts::signer`]). Derefs to the
/// config.
#[derive(Debug, Clone)]
pub struct Signer<C> {
    /// The config (endpoint, region) of this attempt.
    pub config: C,
    /// The credentials, current when the attempt started.
    pub credentials: Arc<Credentials>,
    trace: Trace,
}

impl<C: std::borrow::Borrow<Config>> Signer<C> {
    /// Builds and signs `op` at `now` (see [`Config::prepare`]).
    ///
    /// # Errors
    /// As [`Config::prepare`].
    pub fn prepare<O: Operation + ?Sized>(
        &self,
        op: &O,
        now: SystemTime,
    ) -> Result<http::Request<crate::body::Body>, Error> {
        self.config.borrow().prepare(op, &self.credentials, now)
    }

    /// Builds and signs `op` at `now` for the wire: the request head (its `Content-Length`
    /// set, a `*.localhost` host sent to the loopback address) and what to send as its body;
    /// a streamed body needs the caller's reader (`has_reader`) and a known length.
    ///
    /// # Errors
    /// As [`Config::prepare`]; [`crate::InputError`] for a streamed body without a reader or
    /// a length.
    pub fn outgoing<O: Operation + ?Sized>(
        &self,
        op: &O,
        now: SystemTime,
        has_reader: bool,
    ) -> Result<(http::request::Parts, Outgoing), Error> {
        let request = op.request(self.config.borrow().target())?;
        self.outgoing_request(request, now, has_reader)
    }

    /// [`Signer::outgoing`] of a built request (not generic: one copy for every operation).
    fn outgoing_request(
        &self,
        request: http::Request<Body>,
        now: SystemTime,
        has_reader: bool,
    ) -> Result<(http::request::Parts, Outgoing), Error> {
        let config = self.config.borrow();
        let creds = &self.credentials;
        // Chunked so the server can check a body read only once: signed chunk by chunk, or
        // with a checksum trailer (an empty body has nothing to protect, and Ceph RGW 16
        // refuses it framed).
        let (head, body) = request.into_parts();
        let framing = match body {
            Body::Stream {
                length: Some(length @ 1..),
            } if has_reader => config.streamed_framing(&head, creds).map(|f| (length, f)),
            _ => None,
        };
        let request = http::Request::from_parts(head, body);
        let (mut parts, body, chunked) = match framing {
            Some((length, framing)) => {
                let chunk = crate::sign::chunked::STREAM_CHUNK_SIZE;
                let (request, framed) =
                    config.chunked_from(request, creds, now, length, chunk, framing)?;
                let (parts, body) = request.into_parts();
                (parts, body, Some((length, framed)))
            }
            None => {
                let (parts, body) = config.sign_request(request, creds, now)?.into_parts();
                (parts, body, None)
            }
        };
        self.trace.path(parts.uri.path());
        if let Some(uri) = crate::config::loopback_uri(&parts.uri) {
            parts.uri = uri;
        }
        crate::body::set_content_length(&mut parts, &body);
        if let Some((source, body)) = chunked {
            return Ok((parts, Outgoing::Chunked { source, body }));
        }
        let body = match body {
            Body::Empty => Outgoing::Empty,
            Body::Bytes(bytes) => Outgoing::Bytes(bytes),
            Body::Stream { length } if has_reader => {
                Outgoing::Stream(crate::body::stream_length(length)?)
            }
            Body::Stream { .. } => {
                let why = "this operation streams its body: use send_reader";
                return Err(crate::InputError::argument("body", why).into());
            }
        };
        Ok((parts, body))
    }

    /// Turns `response` into `op`'s output or error (see [`Config::finish`]), noting its
    /// status and request id in the request's trace.
    ///
    /// # Errors
    /// As [`Config::finish`].
    pub fn finish<O: Operation + ?Sized>(
        &self,
        op: &O,
        response: crate::body::Response<'_>,
    ) -> Result<O::Output, Error> {
        let id = response.headers.get("x-amz-request-id");
        let id = id.and_then(|v| v.to_str().ok());
        self.trace.reply(response.status.as_u16(), id);
        self.config.borrow().finish(op, response)
    }

    /// Finishes a streamed operation (GetObject) from its response head: its output, and the
    /// guard that checks the body to come against its length and digest as `integrity` asks.
    ///
    /// # Errors
    /// As [`Config::finish`].
    pub fn finish_head<O: Operation + ?Sized>(
        &self,
        op: &O,
        (status, headers): (http::StatusCode, &http::HeaderMap),
        integrity: crate::integrity::Integrity,
    ) -> Result<(O::Output, BodyGuard), Error> {
        let output = self.finish(op, crate::body::Response::new(status, headers, &[]))?;
        let check = op.body_check(&output, integrity);
        let guard = BodyGuard::response(crate::body::content_length(headers)).checked(check);
        Ok((output, guard))
    }
}

/// The body of a request as a runtime sends it (see [`Signer::outgoing`]).
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// No body.
    Empty,
    /// These bytes.
    Bytes(bytes::Bytes),
    /// Exactly this many bytes from the caller's reader.
    Stream(u64),
    /// `source` bytes from the caller's reader, sent signed chunk by chunk as `body` frames
    /// them.
    Chunked {
        /// Bytes to read from the caller's reader.
        source: u64,
        /// The framing: what to read next, and what to send.
        body: crate::sign::chunked::ChunkedBody,
    },
}

/// The deadlines of one attempt as [`Options`] sets them: `request_timeout` from the start of
/// the attempt, `stall_timeout` from the last byte that moved. A runtime measures both and
/// asks [`Deadlines::left`] how long it may wait.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    request: Option<Duration>,
    stall: Option<Duration>,
}

impl Deadlines {
    /// The deadlines `options` set.
    pub fn new(options: &Options) -> Self {
        Deadlines {
            request: options.request_timeout,
            stall: options.stall_timeout,
        }
    }

    /// How long the runtime may still wait, `since_start` of the attempt and `since_progress`
    /// (the last byte moved); `None` without deadlines.
    ///
    /// # Errors
    /// [`crate::TransportError::timeout`] naming the deadline that passed while `doing`.
    pub fn left(
        &self,
        since_start: Duration,
        since_progress: Duration,
        doing: &str,
    ) -> Result<Option<Duration>, Error> {
        let request = self
            .request
            .map(|t| (t.saturating_sub(since_start), t, Deadline::Request));
        let stall = self
            .stall
            .map(|t| (t.saturating_sub(since_progress), t, Deadline::Stall));
        match request
            .into_iter()
            .chain(stall)
            .min_by_key(|(left, ..)| *left)
        {
            Some((left, after, deadline)) if left.is_zero() => {
                Err(crate::TransportError::timeout(deadline, after, doing).into())
            }
            left => Ok(left.map(|(left, ..)| left)),
        }
    }
}

impl<C: std::borrow::Borrow<Config>> std::ops::Deref for Signer<C> {
    type Target = Config;

    fn deref(&self) -> &Config {
        self.config.borrow()
    }
}

/// The retry loop of one request: ask [`Attempts::config`] what to sign with, send, hand the
/// result to [`Attempts::handle`], sleep when told to.
#[derive(Debug, Clone)]
pub struct Attempts {
    policy: RetryPolicy,
    replay: Replay,
    attempt: u32,
    bucket: Option<String>,
    /// The config for the bucket's own region, when it differs from the client's.
    redirect: Option<Config>,
    redirected: bool,
    lost: bool,
    /// Quota tokens this request's retries took.
    spent: u32,
    /// The credentials the last attempt was signed with.
    signed_with: Option<Arc<Credentials>>,
    /// A refused token was already answered with fresh credentials.
    reauthenticated: bool,
    trace: Trace,
    /// The rate limiter was asked for the next attempt.
    paced: bool,
    /// The next attempt's slot among the client's requests in flight.
    turn: Turn,
}

/// What to do after an attempt.
#[derive(Debug)]
pub enum Next<T> {
    /// Sleep this long, then send again (with [`Attempts::config`], which may have changed).
    Retry(Duration),
    /// The request is over.
    Done(Sent<T>),
}

/// How a request ended, after every attempt.
#[derive(Debug)]
#[non_exhaustive]
pub struct Sent<T> {
    /// The last attempt's result.
    pub result: Result<T, Error>,
    /// Some attempt's reply was lost after the request went out: it may have taken effect
    /// even though it failed, or taken effect twice.
    pub reply_lost: bool,
    /// Attempts made.
    pub attempts: u32,
}

impl<T> Sent<T> {
    /// A request that was never sent (refused before any IO).
    pub fn failed(error: Error) -> Self {
        Sent {
            result: Err(error),
            reply_lost: false,
            attempts: 0,
        }
    }

    /// The result, with its output mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Sent<U> {
        Sent {
            result: self.result.map(f),
            reply_lost: self.reply_lost,
            attempts: self.attempts,
        }
    }
}

impl Attempts {
    /// The config to sign the next attempt with: the session's, or the bucket's own region.
    pub fn config<'a>(&'a self, session: &'a Session) -> &'a Config {
        self.redirect.as_ref().unwrap_or_else(|| session.config())
    }

    /// What the next attempt signs with: `config` (from [`Attempts::config`], borrowed or
    /// cloned) and the `credentials` [`Attempts::credentials`] fetched.
    pub fn signer<C>(&self, config: C, credentials: Arc<Credentials>) -> Signer<C> {
        let trace = self.trace.clone();
        Signer {
            config,
            credentials,
            trace,
        }
    }

    /// The credentials to sign the next attempt with, at `local_now` (shifted by the session's
    /// clock offset); `random` is 64 random bits. Loop until [`Fetch::Use`]: run a
    /// [`Fetch::Refresh`] to its end (a failure is that attempt's result), sleep on
    /// [`Fetch::Wait`].
    pub fn credentials(&mut self, session: &Session, local_now: SystemTime, random: u64) -> Fetch {
        let fetch = session.credentials.fetch(session.now(local_now), random);
        if let Fetch::Use(c) = &fetch {
            self.signed_with = Some(c.clone());
        }
        fetch
    }

    /// The attempt about to be made (from 1).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Before every attempt, until it returns `None`: how long to wait (sleep that long,
    /// then call again) before sending the next attempt at `local_now`. In adaptive mode
    /// after throttling the client-wide rate limit spaces attempts out, and with
    /// [`Options::max_in_flight`] (or per host) the attempt waits for a slot, which it holds
    /// until [`Attempts::handle`] (or until dropped).
    pub fn pace(&mut self, session: &Session, local_now: SystemTime) -> Option<Duration> {
        if !self.paced {
            self.paced = true;
            let wait = session.throttle().before_attempt(seconds(local_now));
            if !wait.is_zero() {
                return Some(wait);
            }
        }
        if !session.in_flight.is_limited() {
            return None;
        }
        let host = self.config(session).target().endpoint().url();
        session.in_flight.acquire(&mut self.turn, &host)
    }

    /// Takes an attempt's `result`, `elapsed` after the first attempt started; `random` is
    /// 64 random bits for jitter and `local_now` the local clock (for a skew correction).
    pub fn handle<T>(
        &mut self,
        session: &Session,
        result: Result<T, Error>,
        elapsed: Duration,
        random: u64,
        local_now: SystemTime,
    ) -> Next<T> {
        // Generic only here: the decisions below are compiled once, not per output type.
        let result = match result {
            Ok(v) => {
                self.succeeded(session, local_now);
                Ok(v)
            }
            Err(error) => match self.failed(session, error, elapsed, random, local_now) {
                Ok(delay) => return Next::Retry(delay),
                Err(error) => Err(error),
            },
        };
        Next::Done(self.done(result, elapsed))
    }

    /// An attempt succeeded: its slot is free and the quota refilled.
    fn succeeded(&mut self, session: &Session, local_now: SystemTime) {
        (self.turn, self.paced) = (Turn::Idle, false);
        let mut throttle = session.throttle();
        throttle.attempt_ended(seconds(local_now), false);
        throttle.succeeded(self.spent);
    }

    /// An attempt failed with `error`: the delay before the next one, or the error that
    /// ends the request.
    fn failed(
        &mut self,
        session: &Session,
        error: Error,
        elapsed: Duration,
        random: u64,
        local_now: SystemTime,
    ) -> Result<Duration, Error> {
        let now = seconds(local_now);
        // The attempt is over: its slot is free again, and the next one is paced afresh.
        (self.turn, self.paced) = (Turn::Idle, false);
        self.trace.failed(self.attempt, &error, elapsed);
        let throttled = throttle::is_throttling(&error);
        session.throttle().attempt_ended(now, throttled);
        self.lost |= error.reply_lost();
        // A refused token: drop it and go once more with fresh credentials, not counted against
        // the policy. A refused request had no effect, but a one-shot body is gone.
        if let Some(used) = &self.signed_with {
            if !self.reauthenticated
                && refuses_credentials(&error, used, session.now(local_now))
                && session.credentials.refused(used)
                && self.replay == Replay::Safe
            {
                self.reauthenticated = true;
                self.trace
                    .retry(self.attempt, Duration::ZERO, "credentials refused");
                return Ok(Duration::ZERO);
            }
        }
        if let Some(region) = error.redirect_region() {
            if let Some(bucket) = &self.bucket {
                session.learn_region(bucket, region);
            }
            let current = self.config(session).region();
            // One re-send to the named region, not counted against the policy.
            if !self.redirected && current != region {
                self.redirected = true;
                self.redirect = Some(session.config().with_region(region));
                self.trace
                    .retry(self.attempt, Duration::ZERO, "the bucket's region");
                return Ok(Duration::ZERO);
            }
        }
        let jitter = retry::jitter_from(random);
        // In adaptive mode the rate limiter answers throttling, so a throttled attempt does
        // not use up the request's attempts (the time budget and the quota still bound it).
        let counted = if self.policy.mode == retry::RetryMode::Adaptive && throttled {
            self.attempt
                .min(self.policy.max_attempts.saturating_sub(1))
                .max(1)
        } else {
            self.attempt
        };
        let Some(retry) = self
            .policy
            .decide(counted, &error, self.replay, elapsed, jitter)
        else {
            return Err(error);
        };
        // The client-wide quota pays for the retry, or the error stands.
        let Some(cost) = session.throttle().take_retry(&error) else {
            return Err(error);
        };
        self.spent += cost;
        if let Some(server) = retry.server_time {
            let offset = retry::clock_offset(server, local_now);
            session.clock_offset_ms.store(offset, Ordering::Relaxed);
        }
        self.attempt += 1;
        self.trace
            .retry(self.attempt, retry.delay, "retryable error");
        Ok(retry.delay)
    }

    fn done<T>(&self, result: Result<T, Error>, elapsed: Duration) -> Sent<T> {
        self.trace.done(self.attempt, elapsed, result.is_ok());
        Sent {
            result,
            reply_lost: self.lost,
            attempts: self.attempt,
        }
    }
}

/// `time` as seconds since the epoch: the steady-enough scale the throttle measures on.
fn seconds(time: SystemTime) -> f64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The constructors of a runtime's `Client`, written once for both runtimes: `builder`, `new`,
/// `with_options` and `from_env`, its [`BuildClient`](crate::builder::BuildClient) side, given
/// the runtime's environment lookup and file reader, and its `Debug` and `Deref` to its
/// `session: Arc<Session>` field. The runtime provides `Net::default()`,
/// `Net::new(&Options) -> Result<Net, Error>` (its TLS roots and proxies) and
/// `Client::build(Config, CredentialSource, Options, Net) -> Client`.
#[doc(hidden)]
#[macro_export]
macro_rules! client_constructors {
    ($client:ident, $lookup:expr, $read:expr) => {
        /// A client is its [`Session`](s3_proto::flow::request::Session) plus connections:
        /// `client.config()`, `client.options()`, `client.credentials()` are the session's.
        impl std::ops::Deref for $client {
            type Target = $crate::flow::request::Session;

            fn deref(&self) -> &Self::Target {
                &self.session
            }
        }

        impl std::fmt::Debug for $client {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($client))
                    .field("session", &self.session)
                    .finish_non_exhaustive()
            }
        }

        impl $crate::builder::BuildClient for $client {
            fn assemble(
                config: $crate::Config,
                credentials: $crate::credentials::CredentialSource,
                options: $crate::flow::request::Options,
            ) -> Result<Self, $crate::Error> {
                Self::with_options(config, credentials, options)
            }

            fn lookup(name: &str) -> Option<String> {
                ($lookup)(name)
            }

            fn read(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
                ($read)(path)
            }
        }

        impl $client {
            /// A builder for a client: endpoint, region, credentials, addressing, timeouts,
            /// retries, TLS and proxies, from nothing, or from the environment first with
            /// [`environment()`](s3_proto::builder::ClientBuilder::environment).
            pub fn builder() -> $crate::builder::ClientBuilder<Self> {
                $crate::builder::ClientBuilder::new()
            }

            /// A client for `config`, signing with `credentials` (fixed
            /// [`Credentials`](s3_proto::Credentials), or a
            /// [`CredentialSource`](s3_proto::credentials::CredentialSource) such as
            /// `DefaultChain::cached`), with default options.
            pub fn new(
                config: $crate::Config,
                credentials: impl Into<$crate::credentials::CredentialSource>,
            ) -> Self {
                let options = $crate::flow::request::Options::default();
                Self::build(config, credentials.into(), options, Net::default())
            }

            /// A client with explicit options.
            ///
            /// # Errors
            /// [`Error::Input`](s3_proto::Error::Input) for a CA bundle without certificates or an
            /// unusable proxy URL, [`Error::Transport`](s3_proto::Error::Transport) when the
            /// platform's certificate store is asked for and cannot be loaded.
            pub fn with_options(
                config: $crate::Config,
                credentials: impl Into<$crate::credentials::CredentialSource>,
                options: $crate::flow::request::Options,
            ) -> Result<Self, $crate::Error> {
                let net = Net::new(&options)?;
                Ok(Self::build(config, credentials.into(), options, net))
            }

            /// A client configured the way the AWS CLI would be: region, endpoint, addressing, CA
            /// bundle and proxies from the variables and shared files, credentials from the
            /// default chain (environment, web identity, profile, container, instance metadata),
            /// cached and refreshed for every clone; with no region set, the region of the
            /// instance (from its metadata, at the first request) (see
            /// [`setup_from_env`](s3_proto::profile::setup_from_env)). Never anonymous: ask for
            /// that with `Client::new(config, Credentials::anonymous())`.
            ///
            /// # Errors
            /// [`Error::Input`](s3_proto::Error::Input) for a bad endpoint URL, a malformed shared
            /// file, a profile naming a credential source s3-rs cannot use (the error names the
            /// key), a bad CA bundle or proxy; [`Error::Transport`](s3_proto::Error::Transport)
            /// when a shared file or the CA bundle cannot be read. Finding no credentials at all
            /// fails the first request, listing what was tried.
            pub fn from_env() -> Result<Self, $crate::Error> {
                use $crate::builder::BuildClient;
                // Qualified: `Client::lookup` is also boto's bucket lookup.
                let (lookup, read) = (<Self as BuildClient>::lookup, <Self as BuildClient>::read);
                let setup = $crate::profile::setup_from_env(lookup, read)?;
                let options = $crate::flow::request::Options::default();
                let credentials = setup.credential_source();
                let options = options.tls(setup.tls).proxy(setup.proxy);
                let options = options.request_checksums(setup.request_checksums);
                Self::with_options(setup.config, credentials, options)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TransportErrorKind;

    #[test]
    fn unsigned_payload_streams_plain() {
        use crate::ops::PutObject;
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let body = Body::Stream {
            length: Some(100_000),
        };
        let op = PutObject::new("bkt".parse().unwrap(), "k".parse().unwrap(), body);
        let outgoing = |unsigned: bool| {
            let config = Config::new("http://127.0.0.1:9000", "us-east-1").unwrap();
            let signer = Signer {
                config: config.unsigned_payload(unsigned),
                credentials: Arc::new(Credentials::new("AKID", "secret")),
                trace: Trace::default(),
            };
            signer.outgoing(&op, now, true).unwrap()
        };
        // By default a stream read once is signed chunk by chunk, so the server checks it.
        let (parts, body) = outgoing(false);
        assert!(matches!(body, Outgoing::Chunked { .. }), "{body:?}");
        let hash = &parts.headers["x-amz-content-sha256"];
        assert_eq!(hash, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
        // Asked not to hash payloads, it goes plain.
        let (parts, body) = outgoing(true);
        assert!(matches!(body, Outgoing::Stream(100_000)), "{body:?}");
        assert_eq!(parts.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
    }

    #[test]
    fn streamed_puts_frame_a_checksum_trailer_where_the_server_takes_one() {
        use crate::checksum::{ChecksumAlgorithm, ChecksumPolicy};
        use crate::ops::PutObject;
        use crate::quirks::ServerQuirks;
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let keys = Arc::new(Credentials::new("AKID", "secret"));
        let put = |algorithm: Option<ChecksumAlgorithm>| {
            let body = Body::Stream {
                length: Some(100_000),
            };
            let op = PutObject::new("bkt".parse().unwrap(), "k".parse().unwrap(), body);
            match algorithm {
                Some(a) => op.checksum_algorithm(a),
                None => op,
            }
        };
        // (x-amz-content-sha256, x-amz-trailer) of what goes out.
        let sent = |endpoint: &str, quirks, policy, op: &PutObject, credentials: &Arc<_>| {
            let config = Config::new(endpoint, "us-east-1").unwrap();
            let signer = Signer {
                config: config.server(quirks, policy),
                credentials: Arc::clone(credentials),
                trace: Trace::default(),
            };
            let (parts, body) = signer.outgoing(op, now, true).unwrap();
            let Outgoing::Chunked { source, body } = body else {
                panic!("{body:?}")
            };
            assert_eq!(source, 100_000);
            let length = parts.headers["content-length"].to_str().unwrap();
            assert_eq!(length, body.remaining().to_string());
            let header = |name| {
                parts
                    .headers
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
            };
            let hash = header("x-amz-content-sha256").unwrap_or_default();
            (hash, header("x-amz-trailer"))
        };
        let (http, https) = ("http://127.0.0.1:9000", "https://127.0.0.1:9000");
        let (aws, ceph) = (ServerQuirks::aws(), ServerQuirks::ceph());
        let (required, supported) = (ChecksumPolicy::WhenRequired, ChecksumPolicy::WhenSupported);
        let crc32c = Some(ChecksumAlgorithm::Crc32c);
        let trailer = |name: &str| Some(name.to_owned());
        assert_eq!(
            sent(http, aws, required, &put(crc32c), &keys),
            (
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER".into(),
                trailer("x-amz-checksum-crc32c")
            )
        );
        // Over TLS, and without credentials, the chunks go unsigned.
        let unsigned = (
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER".into(),
            trailer("x-amz-checksum-crc32c"),
        );
        assert_eq!(sent(https, aws, required, &put(crc32c), &keys), unsigned);
        let anonymous = Arc::new(Credentials::anonymous());
        assert_eq!(
            sent(http, aws, required, &put(crc32c), &anonymous).1,
            unsigned.1
        );
        // The policy's algorithm where checksums go by default; none for Ceph RGW 16, which
        // refuses trailers: signed chunks alone.
        assert_eq!(
            sent(http, aws, supported, &put(None), &keys).1,
            trailer("x-amz-checksum-crc32")
        );
        let chunks_only = ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into(), None);
        assert_eq!(sent(http, aws, required, &put(None), &keys), chunks_only);
        assert_eq!(
            sent(http, ceph, supported, &put(crc32c), &keys),
            chunks_only
        );
    }

    #[test]
    fn deadlines_say_how_long_is_left_and_which_one_fired() {
        let s = Duration::from_secs;
        let none = Deadlines::new(&Options {
            request_timeout: None,
            stall_timeout: None,
            ..Options::default()
        });
        assert_eq!(none.left(s(1_000), s(1_000), "x").unwrap(), None);
        let both = Deadlines::new(&Options {
            request_timeout: Some(s(30)),
            stall_timeout: Some(s(10)),
            ..Options::default()
        });
        assert_eq!(both.left(s(0), s(0), "x").unwrap(), Some(s(10)));
        assert_eq!(both.left(s(25), s(1), "x").unwrap(), Some(s(5)));
        let fired = |start, idle| match both.left(s(start), s(idle), "reading") {
            Err(Error::Transport(t)) => (t.kind(), t.deadline(), t.to_string()),
            other => panic!("{other:?}"),
        };
        let (kind, deadline, text) = fired(12, 10);
        assert_eq!(
            (kind, deadline),
            (TransportErrorKind::Timeout, Some(Deadline::Stall))
        );
        assert!(
            text.contains("stall_timeout of 10s fired while reading"),
            "{text}"
        );
        assert_eq!(fired(30, 0).1, Some(Deadline::Request));
    }
}
