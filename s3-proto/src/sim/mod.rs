//! An in-memory S3 server with scripted and random faults and a virtual clock, for
//! deterministic tests of s3-proto's operations and flows without a network (the way
//! quinn-proto tests a connection pair in memory).
//!
//! [`Sim::exchange`] takes one `http::Request<Vec<u8>>` and answers with an [`Exchange`]: a
//! normal reply in S3's wire format, or the failure a [`FaultPlan`] scheduled for it (lost
//! reply, reset mid-body, refused connection, stall, 503 SlowDown, 200 carrying `<Error>`, a
//! concurrent overwrite…). Requests are path-style (`http://127.0.0.1:9000/bucket/key?query`,
//! what a `Config` for an IP endpoint sends under `Addressing::Auto`); virtual-hosted ones
//! are not understood. Signatures are not checked; bodies are (length, aws-chunked framing,
//! `Content-MD5`, `x-amz-content-sha256`), and any request, however malformed, gets an S3
//! error reply, never a panic.
//!
//! [`driver::send`] runs one operation through `Config::prepare`, the simulator and
//! `Config::finish`, mapping faults to the `TransportError` kinds a runtime reports:
//!
//! ```
//! use s3_proto::ops::PutObject;
//! use s3_proto::sim::{Fault, FaultKind, FaultPlan, Match, OpKind, Sim, send};
//!
//! let config = s3_proto::Config::new("http://127.0.0.1:9000", "us-east-1")?;
//! let mut sim = Sim::new()
//!     .min_part_size(4)
//!     .faults(FaultPlan::new().first(2, Match::op(OpKind::PutObject), Fault::SlowDown));
//! sim.create_bucket("bucket");
//! let put = PutObject::new("bucket".parse()?, "key".parse()?, "hello");
//! assert!(send(&mut sim, &config, &put, None).unwrap_err().is_retryable()); // 503
//! assert!(send(&mut sim, &config, &put, None).is_err()); // 503 again
//! let (out, _) = send(&mut sim, &config, &put, None)?;
//! assert_eq!(sim.object("bucket", "key"), Some(&b"hello"[..]));
//! assert_eq!(sim.faults_injected(FaultKind::SlowDown), 2);
//! # Ok::<(), s3_proto::Error>(())
//! ```
//!
//! The clock starts at [`start_time`] and moves only when told: [`Sim::advance`] (a test
//! driver calls it for every sleep the client asks for), [`Sim::latency`] per request,
//! [`Fault::Delay`], and the driver's [`driver::STALL_TIMEOUT`] on a stall.

// No request may panic the server: nothing derived from one is unwrapped or indexed.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable
)]

mod bucket;
mod conditions;
pub mod crowd;
pub mod driver;
mod faults;
mod listing;
mod multipart;
mod object;
mod payload;
mod reply;
mod request;
pub mod runtime;
mod serve;
mod store;
mod xml;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};

// The simulator's API.
pub use driver::{STALL_TIMEOUT, Streamed, credentials, send, send_streamed, send_streamed_at};
pub use faults::{Fault, FaultKind, FaultPlan, Match};
pub use request::OpKind;
pub use runtime::{Driven, Runtime};
pub use store::{Attributes, StoredObject};

use reply::{Reply, S3Error};
use request::Incoming;
use store::{Bucket, Store};

/// Where the virtual clock starts: 2023-11-14T22:13:20Z.
pub fn start_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// How the simulated server behaves where S3 servers differ or tests need small numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Smallest size of every multipart part but the last (S3: 5 MiB), else EntityTooSmall.
    pub min_part_size: u64,
    /// The region buckets live in (`x-amz-bucket-region`, CreateBucket's constraint check).
    pub region: String,
    /// How long every request takes on the virtual clock.
    pub latency: Duration,
    /// Whether a repeated CompleteMultipartUpload of an upload already completed (same key,
    /// same parts) succeeds again with the same ETag, as AWS does for a while, instead of
    /// failing with NoSuchUpload as other servers do.
    pub repeat_complete: bool,
    /// Requests served per second of virtual time; any beyond it in the last second get
    /// 503 SlowDown and are not applied (a throttling service). `None`: unlimited.
    pub capacity: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_part_size: 5 * 1024 * 1024,
            region: "us-east-1".to_owned(),
            latency: Duration::ZERO,
            repeat_complete: false,
            capacity: None,
        }
    }
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchange {
    /// A complete answer.
    Reply {
        /// The status.
        status: StatusCode,
        /// The headers (always `content-length` and `x-amz-request-id`).
        headers: HeaderMap,
        /// The body (empty for HEAD).
        body: Vec<u8>,
    },
    /// The status and headers arrived, then the connection broke after `body_prefix`
    /// (shorter than `content-length`). The request was applied.
    Reset {
        /// The status.
        status: StatusCode,
        /// The headers, announcing the whole body's length.
        headers: HeaderMap,
        /// The body bytes that arrived.
        body_prefix: Vec<u8>,
    },
    /// The request was applied but no reply arrived (connection closed after sending).
    Lost,
    /// Could not connect; nothing was applied.
    Refused,
    /// The status, headers and `after` arrived, then silence. The request was applied.
    Stall {
        /// The status.
        status: StatusCode,
        /// The headers, announcing the whole body's length.
        headers: HeaderMap,
        /// The body bytes that arrived before the silence.
        after: Vec<u8>,
    },
}

impl Exchange {
    /// The status, when one arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Exchange::Reply { status, .. }
            | Exchange::Reset { status, .. }
            | Exchange::Stall { status, .. } => Some(*status),
            Exchange::Lost | Exchange::Refused => None,
        }
    }
}

/// One request as the simulator saw it, for assertions on what a flow sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// The action it was routed to.
    pub op: OpKind,
    /// The method.
    pub method: Method,
    /// The URI as sent.
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
    /// Request body length.
    pub body_len: usize,
    /// The fault injected, if any.
    pub fault: Option<FaultKind>,
    /// The status that arrived (`None` for lost and refused requests).
    pub status: Option<StatusCode>,
}

/// The simulated server: buckets, objects, uploads, a fault plan, a clock and counters.
#[derive(Debug, Clone)]
pub struct Sim {
    store: Store,
    settings: Settings,
    faults: FaultPlan,
    clock: SystemTime,
    requests: BTreeMap<OpKind, u64>,
    injected: BTreeMap<FaultKind, u64>,
    log: Vec<Logged>,
    /// When the requests of the last second were served, for [`Settings::capacity`].
    served: std::collections::VecDeque<SystemTime>,
    /// The caller's clock, to measure the real time spent serving (see [`Sim::stopwatch`]).
    stopwatch: Option<fn() -> Duration>,
    busy: Duration,
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

impl Sim {
    /// An empty server with default [`Settings`], no faults, the clock at [`start_time`].
    pub fn new() -> Self {
        Sim::with_settings(Settings::default())
    }

    /// An empty server with `settings`.
    pub fn with_settings(settings: Settings) -> Self {
        Sim {
            store: Store::default(),
            settings,
            faults: FaultPlan::default(),
            clock: start_time(),
            requests: BTreeMap::new(),
            injected: BTreeMap::new(),
            log: Vec::new(),
            served: std::collections::VecDeque::new(),
            stopwatch: None,
            busy: Duration::ZERO,
        }
    }

    /// Sets the smallest multipart part but the last (tests use a few bytes).
    pub fn min_part_size(mut self, bytes: u64) -> Self {
        self.settings.min_part_size = bytes;
        self
    }

    /// Sets the region.
    pub fn region(mut self, region: &str) -> Self {
        self.settings.region = region.to_owned();
        self
    }

    /// Sets how long each request takes on the virtual clock.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.settings.latency = latency;
        self
    }

    /// Makes a repeated completion of a completed upload succeed (see [`Settings`]).
    pub fn repeat_complete(mut self, yes: bool) -> Self {
        self.settings.repeat_complete = yes;
        self
    }

    /// Serves at most `per_second` requests per second of virtual time (see
    /// [`Settings::capacity`]).
    pub fn capacity(mut self, per_second: u32) -> Self {
        self.settings.capacity = Some(per_second);
        self
    }

    /// Moves the virtual clock forward to `time` (never back).
    pub fn advance_to(&mut self, time: SystemTime) {
        self.clock = self.clock.max(time);
    }

    /// True when serving one more request now would exceed the capacity; otherwise counts it.
    fn over_capacity(&mut self) -> bool {
        let Some(capacity) = self.settings.capacity else {
            return false;
        };
        // Counted over the last tenth of a second, so a burst cannot take a whole second's
        // capacity at once.
        let window_start = self.clock - Duration::from_millis(100);
        while self.served.front().is_some_and(|t| *t <= window_start) {
            self.served.pop_front();
        }
        if self.served.len() >= (capacity as usize).div_ceil(10) {
            return true;
        }
        self.served.push_back(self.clock);
        false
    }

    /// Sets the fault plan.
    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.faults = plan;
        self
    }

    /// Replaces the fault plan mid-test (its rules start counting afresh).
    pub fn set_faults(&mut self, plan: FaultPlan) {
        self.faults = plan;
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The virtual clock.
    pub fn now(&self) -> SystemTime {
        self.clock
    }

    /// Moves the virtual clock forward.
    pub fn advance(&mut self, by: Duration) {
        self.clock += by;
    }

    /// Measures the time the server spends in [`Sim::exchange`] with `clock` (a monotonic
    /// clock or the thread's CPU time, as the caller chooses), so that a benchmark can tell
    /// the client's cost from the simulated server's (see [`Sim::busy`]).
    pub fn stopwatch(mut self, clock: fn() -> Duration) -> Self {
        self.stopwatch = Some(clock);
        self
    }

    /// Time spent serving requests, by the [`Sim::stopwatch`] clock (zero without one).
    pub fn busy(&self) -> Duration {
        self.busy
    }

    /// Serves one request, or fails it as the fault plan says.
    pub fn exchange(&mut self, request: Request<Vec<u8>>) -> Exchange {
        let Some(clock) = self.stopwatch else {
            return self.serve_one(request);
        };
        let start = clock();
        let exchange = self.serve_one(request);
        self.busy += clock().saturating_sub(start);
        exchange
    }

    fn serve_one(&mut self, request: Request<Vec<u8>>) -> Exchange {
        self.clock += self.settings.latency;
        let sequence = self.log.len() as u64 + 1;
        let (mut req, decode_error) = Incoming::parse(request);
        *self.requests.entry(req.op).or_default() += 1;
        let fault = if self.over_capacity() {
            Some(Fault::SlowDown)
        } else {
            self.faults.pick(&req)
        };
        if let Some(f) = &fault {
            *self.injected.entry(f.kind()).or_default() += 1;
        }
        let ids = Ids::new(sequence);
        let exchange = match fault.clone() {
            None => self.answer(&mut req, decode_error, &ids).into_exchange(),
            Some(Fault::Refused) => Exchange::Refused,
            Some(Fault::SlowDown) => self.error(&req, S3Error::slow_down(), &ids),
            Some(Fault::InternalError) => self.error(&req, S3Error::internal_error(), &ids),
            Some(Fault::Error { status, code }) => {
                let e = S3Error::new(status, &code, "Injected by the simulator's fault plan.");
                self.error(&req, e, &ids)
            }
            Some(Fault::ErrorIn200) if req.op.may_fail_in_200() => {
                let body =
                    S3Error::internal_error().document(&req.resource(), &ids.request, &ids.host);
                let reply = Reply::xml(body);
                self.decorate(reply, &ids).into_exchange()
            }
            Some(Fault::ErrorIn200) => self.error(&req, S3Error::internal_error(), &ids),
            Some(Fault::Lost) => {
                self.answer(&mut req, decode_error, &ids);
                Exchange::Lost
            }
            Some(Fault::Reset { after }) => {
                let reply = self.answer(&mut req, decode_error, &ids);
                if reply.body.is_empty() {
                    Exchange::Lost
                } else {
                    let cut = self.faults.cut(after, reply.body.len());
                    Exchange::Reset {
                        status: reply.status,
                        headers: reply.headers,
                        body_prefix: reply.body.get(..cut).unwrap_or_default().to_vec(),
                    }
                }
            }
            Some(Fault::Stall { after }) => {
                let reply = self.answer(&mut req, decode_error, &ids);
                let cut = self.faults.cut(after, reply.body.len());
                Exchange::Stall {
                    status: reply.status,
                    headers: reply.headers,
                    after: reply.body.get(..cut).unwrap_or_default().to_vec(),
                }
            }
            Some(Fault::Overwrite(bytes)) => {
                self.overwrite(&req, bytes);
                self.answer(&mut req, decode_error, &ids).into_exchange()
            }
            Some(Fault::Corrupt) => {
                let mut reply = self.answer(&mut req, decode_error, &ids);
                let middle = reply.body.len() / 2;
                if let Some(byte) = reply.body.get_mut(middle) {
                    *byte ^= 0x20;
                }
                reply.into_exchange()
            }
            Some(Fault::Delay(by)) => {
                self.clock += by;
                self.answer(&mut req, decode_error, &ids).into_exchange()
            }
        };
        self.log.push(Logged {
            op: req.op,
            method: req.method,
            uri: req.uri,
            headers: req.headers,
            body_len: req.body.len(),
            fault: fault.as_ref().map(Fault::kind),
            status: exchange.status(),
        });
        exchange
    }

    /// Applies the request and renders the result.
    fn answer(&mut self, req: &mut Incoming, decode_error: Option<S3Error>, ids: &Ids) -> Reply {
        let outcome = match decode_error {
            Some(e) => Err(e),
            None => serve::serve(&mut self.store, req, self.clock, &self.settings),
        };
        let reply = match outcome {
            Ok(reply) => reply,
            Err(e) => e.into_reply(
                req.method == Method::HEAD,
                &req.resource(),
                &ids.request,
                &ids.host,
            ),
        };
        self.decorate(reply, ids)
    }

    /// An error reply without applying the request.
    fn error(&self, req: &Incoming, error: S3Error, ids: &Ids) -> Exchange {
        let reply = error.into_reply(
            req.method == Method::HEAD,
            &req.resource(),
            &ids.request,
            &ids.host,
        );
        self.decorate(reply, ids).into_exchange()
    }

    /// Adds the headers every S3 reply has.
    fn decorate(&self, mut reply: Reply, ids: &Ids) -> Reply {
        let len = reply.body.len().to_string();
        let h = &mut reply.headers;
        for (name, value) in [
            ("x-amz-request-id", ids.request.as_str()),
            ("x-amz-id-2", ids.host.as_str()),
            ("server", "AmazonS3"),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(name, v);
            }
        }
        if let Ok(v) = HeaderValue::from_str(&reply::http_date(self.clock)) {
            h.insert("date", v);
        }
        if !h.contains_key("content-length") {
            if let Ok(v) = HeaderValue::from_str(&len) {
                h.insert("content-length", v);
            }
        }
        reply
    }

    /// The [`Fault::Overwrite`] writer: replaces the object `req` names, keeping its
    /// attributes, when its bucket exists.
    fn overwrite(&mut self, req: &Incoming, bytes: Vec<u8>) {
        let (Some(bucket), Some(key)) = (req.bucket.as_deref(), req.key.as_deref()) else {
            return;
        };
        let Some(bucket) = self.store.buckets.get_mut(bucket) else {
            return;
        };
        let attributes = bucket
            .objects
            .get(key)
            .map(|o| o.attributes.clone())
            .unwrap_or_default();
        let object = StoredObject::single(bytes, attributes, self.clock);
        bucket.objects.insert(key.to_owned(), object);
    }

    // --- Setting up state without requests ---

    /// Creates `bucket` directly (no request, no fault); nothing happens if it exists.
    pub fn create_bucket(&mut self, bucket: &str) {
        let now = self.clock;
        self.store
            .buckets
            .entry(bucket.to_owned())
            .or_insert_with(|| Bucket::new(now));
    }

    /// Stores `data` at `bucket/key` directly, creating the bucket if needed; returns the
    /// quoted ETag.
    pub fn put_object(&mut self, bucket: &str, key: &str, data: &[u8]) -> String {
        self.create_bucket(bucket);
        let object = StoredObject::single(data.to_vec(), Attributes::default(), self.clock);
        let etag = object.etag.clone();
        if let Some(b) = self.store.buckets.get_mut(bucket) {
            b.objects.insert(key.to_owned(), object);
        }
        etag
    }

    /// Stores `data` like [`Sim::put_object`], with its full-object `algorithm` checksum, which
    /// reads of the whole object get back when they ask for checksums.
    pub fn put_object_with_checksum(
        &mut self,
        bucket: &str,
        key: &str,
        data: &[u8],
        algorithm: crate::checksum::ChecksumAlgorithm,
    ) -> String {
        let etag = self.put_object(bucket, key, data);
        let checksum = crate::checksum::Checksum::compute(algorithm, data);
        let stored = self.store.buckets.get_mut(bucket);
        if let Some(object) = stored.and_then(|b| b.objects.get_mut(key)) {
            object.checksum = Some(checksum);
        }
        etag
    }

    /// Replaces the ETag of a stored object (a server whose ETags are not what S3 computes).
    pub fn set_etag(&mut self, bucket: &str, key: &str, etag: &str) {
        let object = self
            .store
            .buckets
            .get_mut(bucket)
            .and_then(|b| b.objects.get_mut(key));
        if let Some(object) = object {
            object.etag = etag.to_owned();
        }
    }

    // --- Inspecting state ---

    /// True when `bucket` exists.
    pub fn bucket_exists(&self, bucket: &str) -> bool {
        self.store.buckets.contains_key(bucket)
    }

    /// The bytes stored at `bucket/key`.
    pub fn object(&self, bucket: &str, key: &str) -> Option<&[u8]> {
        self.stored(bucket, key).map(|o| o.data.as_slice())
    }

    /// Everything stored about `bucket/key` (ETag, attributes, part sizes).
    pub fn stored(&self, bucket: &str, key: &str) -> Option<&StoredObject> {
        self.store.buckets.get(bucket)?.objects.get(key)
    }

    /// The keys in `bucket`, in order.
    pub fn keys(&self, bucket: &str) -> Vec<&str> {
        self.store
            .buckets
            .get(bucket)
            .map(|b| b.objects.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Multipart uploads started in `bucket` and neither completed nor aborted: the orphan
    /// check after a flow.
    pub fn uploads_in_progress(&self, bucket: &str) -> usize {
        self.store
            .buckets
            .get(bucket)
            .map_or(0, |b| b.uploads.len())
    }

    /// The ids of the uploads in progress in `bucket`, in creation order.
    pub fn upload_ids(&self, bucket: &str) -> Vec<&str> {
        self.store
            .buckets
            .get(bucket)
            .map(|b| b.uploads.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Requests routed to `op` so far (faulted ones included).
    pub fn requests(&self, op: OpKind) -> u64 {
        self.requests.get(&op).copied().unwrap_or(0)
    }

    /// Requests seen so far.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    /// Faults of `kind` injected so far, counted by the kind the plan chose (a
    /// [`Fault::Reset`] of a bodyless reply arrives as lost but counts as a reset).
    pub fn faults_injected(&self, kind: FaultKind) -> u64 {
        self.injected.get(&kind).copied().unwrap_or(0)
    }

    /// Faults injected so far.
    pub fn total_faults(&self) -> u64 {
        self.injected.values().sum()
    }

    /// Every request so far, in order.
    pub fn log(&self) -> &[Logged] {
        &self.log
    }
}

/// The ids S3 puts in every reply's headers and error documents.
struct Ids {
    request: String,
    host: String,
}

impl Ids {
    fn new(sequence: u64) -> Self {
        Ids {
            request: format!("SIM{sequence:013X}"),
            host: format!("sim/{:016x}", faults::mix(sequence)),
        }
    }
}

impl Reply {
    fn into_exchange(self) -> Exchange {
        Exchange::Reply {
            status: self.status,
            headers: self.headers,
            body: self.body,
        }
    }
}
