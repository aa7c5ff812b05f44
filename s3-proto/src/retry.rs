//! When to try a request again, and how long to wait: the policy both runtimes apply.
//!
//! Pure: the runtime passes in the attempt count, the time spent so far and a random number;
//! the policy answers with a delay, or with `None` to give up. Exponential backoff with full
//! jitter (the delay is uniform between zero and the capped exponential), from 50 ms after a
//! failure and from 1 s after a throttling answer, stretched up to 5 s further when the server
//! names a wait (`x-amz-retry-after`), bounded by a number of attempts and a total time budget
//! (the AWS SDKs' 2026 retry behaviour).
//!
//! ```
//! use std::time::Duration;
//! use s3_proto::retry::{Replay, RetryPolicy};
//! use s3_proto::{Error, ErrorCode, ServiceError};
//! use http::StatusCode;
//!
//! let policy = RetryPolicy::default();
//! let slow_down: Error = ServiceError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::SlowDown).into();
//! let retry = policy.decide(1, &slow_down, Replay::Safe, Duration::ZERO, 0.5).unwrap();
//! assert_eq!(retry.delay, Duration::from_millis(500));
//! ```

use std::time::{Duration, SystemTime};

use crate::error::{Deadline, Error, ErrorCode, TransportErrorKind};

/// Whether the request can be sent again as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// The body can be sent again (in memory, or a file re-read from its offset) and repeating
    /// the request has the same effect as sending it once (every S3 action but the one below).
    Safe,
    /// Sending it twice may do something twice (CreateMultipartUpload starts a second upload)
    /// or its body was a one-shot stream already consumed: only failures that happened before
    /// anything was sent (could not connect) are retried.
    BeforeSendOnly,
}

/// How retries are limited across all the requests of one client (see
/// [`crate::flow::throttle`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryMode {
    /// Each request retries on its own, bounded only by its attempts and time budget.
    Legacy,
    /// A client-wide retry quota (the SDKs' standard mode, the default): when a service
    /// keeps failing, errors surface at once instead of multiplying its load.
    #[default]
    Standard,
    /// The quota, and a client-side rate limit that slows down on throttling answers and
    /// recovers smoothly (the SDKs' adaptive mode), for many clients sharing one service.
    Adaptive,
}

/// How far above the computed backoff a server's `x-amz-retry-after` may push a delay.
pub const MAX_RETRY_AFTER_EXTRA: Duration = Duration::from_secs(5);

/// How a runtime retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 4; 1 disables retries).
    pub max_attempts: u32,
    /// The first backoff cap after a failure (default 50 ms); it doubles with each attempt.
    pub base_delay: Duration,
    /// The first backoff cap after a throttling answer (503 SlowDown, 429; default 1 s): the
    /// server asked for less, so the client waits longer. It doubles likewise.
    pub throttling_base_delay: Duration,
    /// The largest backoff cap (default 20 s).
    pub max_delay: Duration,
    /// No retry starts after this much time since the first attempt (default 2 min).
    pub budget: Duration,
    /// How retries are limited across the client's requests (default
    /// [`RetryMode::Standard`]).
    pub mode: RetryMode,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(50),
            throttling_base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(20),
            budget: Duration::from_secs(120),
            mode: RetryMode::Standard,
        }
    }
}

/// What to do before the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retry {
    /// Wait this long first.
    pub delay: Duration,
    /// The server's clock, when it refused the request as too skewed: sign the next attempts
    /// with time shifted by `server_time - local time`.
    pub server_time: Option<SystemTime>,
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of attempts (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the first backoff cap after a failure, and the largest cap (which bounds the
    /// throttling backoff too).
    pub fn delays(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// Sets the first backoff cap after a throttling answer.
    pub fn throttling_delay(mut self, base: Duration) -> Self {
        self.throttling_base_delay = base;
        self
    }

    /// Sets how retries are limited across the client's requests.
    pub fn mode(mut self, mode: RetryMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the total time budget.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// Decides after attempt number `attempt` (from 1) failed with `error`, `elapsed` after
    /// the first attempt started; `jitter` is a uniform random number in `[0, 1)`.
    ///
    /// `None`: give up and report `error`.
    pub fn decide(
        &self,
        attempt: u32,
        error: &Error,
        replay: Replay,
        elapsed: Duration,
        jitter: f64,
    ) -> Option<Retry> {
        if attempt >= self.max_attempts || elapsed >= self.budget {
            return None;
        }
        // Nothing was sent when the connection never opened, whichever way that showed.
        let before_send = matches!(error, Error::Transport(t)
            if t.kind() == TransportErrorKind::Connect || t.deadline() == Some(Deadline::Connect));
        if replay == Replay::BeforeSendOnly && !before_send {
            return None;
        }
        let skewed = error.code() == Some(&ErrorCode::RequestTimeTooSkewed);
        if !(error.is_retryable() || skewed) {
            return None;
        }
        let server_time = if skewed {
            let service = error.as_service()?;
            Some(crate::time::parse_server_time(
                service.server_time.as_deref()?,
            )?)
        } else {
            None
        };
        let base = if crate::flow::throttle::is_throttling(error) {
            self.throttling_base_delay
        } else {
            self.base_delay
        };
        let exp = base
            .saturating_mul(1u32 << (attempt - 1).min(20))
            .min(self.max_delay);
        let delay = if skewed {
            // The next attempt is signed with the server's clock: no reason to wait.
            Duration::ZERO
        } else {
            let delay = exp.mul_f64(jitter.clamp(0.0, 1.0));
            // The server's own advice (`x-amz-retry-after`), within 5 s above the backoff.
            match error.as_service().and_then(|e| e.retry_after) {
                Some(after) => after.clamp(delay, delay + MAX_RETRY_AFTER_EXTRA),
                None => delay,
            }
        };
        if elapsed.saturating_add(delay) >= self.budget {
            return None;
        }
        Some(Retry { delay, server_time })
    }
}

/// How an operation may be replayed, given whether its body can be sent again.
pub fn replay_of<O: crate::Operation + ?Sized>(op: &O, body_replayable: bool) -> Replay {
    if op.idempotent() && body_replayable {
        Replay::Safe
    } else {
        Replay::BeforeSendOnly
    }
}

/// Maps 64 random bits (from the runtime's entropy source) to a jitter in `[0, 1)`.
pub fn jitter_from(bits: u64) -> f64 {
    // The top 53 bits fill an f64 mantissa exactly.
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// The offset to add to the local clock so signatures carry the server's time.
pub fn clock_offset(server_time: SystemTime, local: SystemTime) -> i64 {
    match server_time.duration_since(local) {
        Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
        Err(behind) => i64::try_from(behind.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

/// `local` shifted by `offset_ms` (from [`clock_offset`]).
pub fn shifted(local: SystemTime, offset_ms: i64) -> SystemTime {
    let delta = Duration::from_millis(offset_ms.unsigned_abs());
    if offset_ms >= 0 {
        local.checked_add(delta).unwrap_or(local)
    } else {
        local.checked_sub(delta).unwrap_or(local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ServiceError, TransportError};
    use http::StatusCode;

    fn service(status: u16, code: ErrorCode) -> Error {
        ServiceError::new(StatusCode::from_u16(status).unwrap(), code).into()
    }

    fn transport(kind: TransportErrorKind) -> Error {
        TransportError::new(kind, "test").into()
    }

    #[test]
    fn jitter_and_clock_helpers() {
        assert_eq!(jitter_from(0), 0.0);
        assert!(jitter_from(u64::MAX) < 1.0);
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let later = t + Duration::from_millis(1500);
        assert_eq!(clock_offset(later, t), 1500);
        assert_eq!(clock_offset(t, later), -1500);
        assert_eq!(shifted(t, 1500), later);
        assert_eq!(shifted(later, -1500), t);
    }

    #[test]
    fn retries_what_is_safe() {
        let p = RetryPolicy::default();
        for e in [
            service(503, ErrorCode::SlowDown),
            service(500, ErrorCode::InternalError),
            service(502, ErrorCode::Other("BadGateway".into())),
            service(504, ErrorCode::Other("GatewayTimeout".into())),
            service(400, ErrorCode::RequestTimeout),
            // A 200 that carried <Error> (CopyObject, CompleteMultipartUpload).
            service(200, ErrorCode::InternalError),
            transport(TransportErrorKind::Connect),
            transport(TransportErrorKind::Io),
            transport(TransportErrorKind::Timeout),
            transport(TransportErrorKind::Truncated),
        ] {
            assert!(
                p.decide(1, &e, Replay::Safe, Duration::ZERO, 0.5).is_some(),
                "{e}"
            );
        }
        for e in [
            service(404, ErrorCode::NoSuchKey),
            service(403, ErrorCode::AccessDenied),
            service(403, ErrorCode::SignatureDoesNotMatch),
            service(409, ErrorCode::BucketAlreadyExists),
            transport(TransportErrorKind::Body),
        ] {
            assert!(
                p.decide(1, &e, Replay::Safe, Duration::ZERO, 0.5).is_none(),
                "{e}"
            );
        }
    }

    #[test]
    fn one_shot_requests_retry_only_before_sending() {
        let p = RetryPolicy::default();
        let connect = transport(TransportErrorKind::Connect);
        let io = transport(TransportErrorKind::Io);
        assert!(
            p.decide(1, &connect, Replay::BeforeSendOnly, Duration::ZERO, 0.1)
                .is_some()
        );
        assert!(
            p.decide(1, &io, Replay::BeforeSendOnly, Duration::ZERO, 0.1)
                .is_none()
        );
    }

    #[test]
    fn backoff_is_capped_jittered_and_bounded() {
        let p = RetryPolicy::default()
            .max_attempts(10)
            .delays(Duration::from_millis(100), Duration::from_secs(1));
        let e = service(500, ErrorCode::InternalError);
        let d = |attempt, jitter| {
            p.decide(attempt, &e, Replay::Safe, Duration::ZERO, jitter)
                .unwrap()
                .delay
        };
        assert_eq!(
            d(1, 0.999_999),
            Duration::from_millis(100).mul_f64(0.999_999)
        );
        assert_eq!(d(3, 0.5), Duration::from_millis(200));
        assert_eq!(d(9, 0.5), Duration::from_millis(500), "capped at max_delay");
        assert_eq!(d(2, 0.0), Duration::ZERO);
        assert!(
            p.decide(10, &e, Replay::Safe, Duration::ZERO, 0.5)
                .is_none()
        );
        let tight = p.budget(Duration::from_secs(5));
        assert!(
            tight
                .decide(2, &e, Replay::Safe, Duration::from_secs(5), 0.5)
                .is_none()
        );
        assert!(
            RetryPolicy::none()
                .decide(1, &e, Replay::Safe, Duration::ZERO, 0.5)
                .is_none()
        );
    }

    #[test]
    fn throttling_waits_longer_and_the_server_may_say_how_long() {
        let p = RetryPolicy::default();
        let d = |e: &Error, attempt| {
            p.decide(attempt, e, Replay::Safe, Duration::ZERO, 0.5)
                .unwrap()
                .delay
        };
        let ms = Duration::from_millis;
        let slow_down = service(503, ErrorCode::SlowDown);
        assert_eq!(d(&slow_down, 1), ms(500));
        assert_eq!(d(&slow_down, 2), ms(1000));
        assert_eq!(d(&service(500, ErrorCode::InternalError), 1), ms(25));
        let advised = |after: Option<u64>| {
            let mut e = ServiceError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::SlowDown);
            e.retry_after = after.map(ms);
            Error::from(e)
        };
        // Honoured between the computed backoff and 5 s above it.
        assert_eq!(d(&advised(Some(3000)), 1), ms(3000));
        assert_eq!(d(&advised(Some(100)), 1), ms(500));
        assert_eq!(d(&advised(Some(60_000)), 1), ms(5500));
        assert_eq!(d(&advised(None), 1), ms(500));
        let headers = |value: &str| {
            let mut h = http::HeaderMap::new();
            h.insert("x-amz-retry-after", value.parse().unwrap());
            ServiceError::from_response(StatusCode::SERVICE_UNAVAILABLE, &h, b"").retry_after
        };
        assert_eq!(headers("1500"), Some(ms(1500)));
        assert_eq!(headers("soon"), None, "not a number: ignored");
    }

    #[test]
    fn skewed_clock_retries_at_once_with_the_server_time() {
        let mut err = ServiceError::new(StatusCode::FORBIDDEN, ErrorCode::RequestTimeTooSkewed);
        err.server_time = Some("2026-11-29T18:00:00Z".to_owned());
        let retry = RetryPolicy::default()
            .decide(1, &err.into(), Replay::Safe, Duration::ZERO, 0.9)
            .unwrap();
        assert_eq!(retry.delay, Duration::ZERO);
        assert!(retry.server_time.is_some());
        let mut no_time = ServiceError::new(StatusCode::FORBIDDEN, ErrorCode::RequestTimeTooSkewed);
        no_time.server_time = None;
        assert!(
            RetryPolicy::default()
                .decide(1, &no_time.into(), Replay::Safe, Duration::ZERO, 0.9)
                .is_none()
        );
    }
}
