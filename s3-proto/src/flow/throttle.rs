//! Client-wide limits on retrying: a retry quota and an adaptive rate limiter, as the AWS
//! SDKs' "standard" and "adaptive" retry modes have them.
//!
//! One [`Throttle`] lives in a [`Session`](super::request::Session), shared by every clone of
//! a client and every request it sends. The per-request machine
//! ([`Attempts`](super::request::Attempts)) asks it before each attempt (how long to wait, in
//! adaptive mode) and before each retry (is there quota left), and tells it how each attempt
//! ended. Times come in as values (seconds on any steady scale), so the decisions are pure.
//!
//! - **Quota** ([`RetryMode::Standard`] and [`RetryMode::Adaptive`]): a bucket of 500 tokens;
//!   a retry costs 14, or 5 after a throttling answer (the server said "later", not "broken"),
//!   a request that succeeds gives back what its retries cost, or 1 when it needed none. When
//!   the bucket is empty, errors surface at once instead of multiplying the load on a
//!   struggling service. These are the AWS SDKs' 2026 costs (`AWS_NEW_RETRIES_2026`, the
//!   default since November 2026; before, 5 a retry and 10 after a timeout).
//! - **Rate** ([`RetryMode::Adaptive`]): after a throttling answer (503 SlowDown, 429) the
//!   client sends at most at a rate that drops to 70 % of what it was sending and then grows
//!   back along a cubic curve (CUBIC, as TCP does), so many clients sharing one service
//!   settle near its capacity instead of retrying in waves.

use std::time::Duration;

use crate::error::Error;
use crate::retry::RetryMode;

/// Tokens in a full quota.
pub const QUOTA: u32 = 500;
/// What a retry costs.
pub const RETRY_COST: u32 = 14;
/// What a retry after a throttling answer costs.
pub const THROTTLING_RETRY_COST: u32 = 5;
/// What a request that needed no retry gives back.
const NO_RETRY_INCREMENT: u32 = 1;

/// The rate the limiter never goes below, requests per second.
const MIN_FILL_RATE: f64 = 0.5;
/// How much of the previous rate a throttling answer keeps.
const BETA: f64 = 0.7;
/// How fast the rate grows back (CUBIC's C).
const SCALE: f64 = 0.4;
/// Weight of the newest half-second in the measured sending rate.
const SMOOTH: f64 = 0.8;
/// Seconds after a cut during which further throttling answers cut no more.
const REACTION_PERIOD: f64 = 0.5;

/// The retry quota and rate limiter one client shares between its requests.
#[derive(Debug, Clone)]
pub struct Throttle {
    mode: RetryMode,
    tokens: u32,
    rate: RateLimiter,
}

impl Throttle {
    /// A full quota, the limiter idle until the first throttling answer.
    pub fn new(mode: RetryMode) -> Self {
        Throttle {
            mode,
            tokens: QUOTA,
            rate: RateLimiter::default(),
        }
    }

    /// Tokens left in the quota.
    pub fn tokens(&self) -> u32 {
        self.tokens
    }

    /// The limiter's sending rate (requests per second), once a throttling answer started
    /// it.
    pub fn rate(&self) -> Option<f64> {
        self.rate.enabled.then_some(self.rate.fill_rate)
    }

    /// An attempt is about to be sent at `now`: how long to wait first (only in adaptive
    /// mode, after throttling).
    pub fn before_attempt(&mut self, now: f64) -> Duration {
        match self.mode {
            RetryMode::Adaptive => self.rate.acquire(now),
            RetryMode::Legacy | RetryMode::Standard => Duration::ZERO,
        }
    }

    /// An attempt failed with `error` and the policy would retry it: takes the retry's cost
    /// from the quota. `None` when the quota cannot pay (the error then stands).
    pub fn take_retry(&mut self, error: &Error) -> Option<u32> {
        if self.mode == RetryMode::Legacy {
            return Some(0);
        }
        let cost = if is_throttling(error) {
            THROTTLING_RETRY_COST
        } else {
            RETRY_COST
        };
        self.tokens = self.tokens.checked_sub(cost)?;
        Some(cost)
    }

    /// An attempt at `now` ended: `throttled` when the server asked to slow down.
    pub fn attempt_ended(&mut self, now: f64, throttled: bool) {
        if self.mode == RetryMode::Adaptive {
            self.rate.update(now, throttled);
        }
    }

    /// A request succeeded after its retries cost `spent` tokens: they come back (or one
    /// token, when it needed no retry).
    pub fn succeeded(&mut self, spent: u32) {
        if self.mode == RetryMode::Legacy {
            return;
        }
        let back = if spent == 0 {
            NO_RETRY_INCREMENT
        } else {
            spent
        };
        self.tokens = self.tokens.saturating_add(back).min(QUOTA);
    }
}

/// True for answers asking the client to slow down: 503 (S3's SlowDown, bodyless for a
/// HEAD), 429, and the throttling codes S3-compatible servers use.
pub fn is_throttling(error: &Error) -> bool {
    error.as_service().is_some_and(|e| {
        matches!(e.status.as_u16(), 429 | 503)
            || matches!(
                e.code.as_str(),
                "SlowDown"
                    | "Throttling"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "TooManyRequests"
                    | "TooManyRequestsException"
                    | "RequestThrottled"
            )
    })
}

/// The adaptive mode's sending-rate limiter: a token bucket refilled at a rate CUBIC
/// adjusts, idle until the first throttling answer.
#[derive(Debug, Clone, Default)]
struct RateLimiter {
    enabled: bool,
    /// Requests per second the bucket refills at.
    fill_rate: f64,
    max_capacity: f64,
    /// May go below zero: callers reserve their turn and wait it out.
    capacity: f64,
    last_refill: Option<f64>,
    /// The rate before the last throttling answer, and when it came.
    last_max_rate: f64,
    last_throttle: f64,
    time_window: f64,
    /// The sending rate, measured per half-second and smoothed.
    measured_rate: f64,
    bucket: Option<f64>,
    bucket_count: f64,
    /// When the first request was counted.
    first: Option<f64>,
}

impl RateLimiter {
    /// Reserves one request's turn at `now`: how long to wait for it.
    fn acquire(&mut self, now: f64) -> Duration {
        if !self.enabled {
            return Duration::ZERO;
        }
        self.refill(now);
        self.capacity -= 1.0;
        if self.capacity >= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((-self.capacity / self.fill_rate).min(60.0))
    }

    fn refill(&mut self, now: f64) {
        if let Some(last) = self.last_refill {
            let added = (now - last).max(0.0) * self.fill_rate;
            self.capacity = (self.capacity + added).min(self.max_capacity);
        }
        self.last_refill = Some(now);
    }

    fn update(&mut self, now: f64, throttled: bool) {
        self.measure(now);
        // One cut per measuring period: the answers to requests sent at the old rate keep
        // arriving after the first cut, and cutting again for each would collapse the rate
        // (as TCP reacts once per round trip).
        let recent_cut = self.enabled && now - self.last_throttle < REACTION_PERIOD;
        if throttled && recent_cut {
            return;
        }
        let calculated = if throttled {
            let measured = self.sending_rate(now);
            let rate = if self.enabled {
                measured.min(self.fill_rate)
            } else {
                measured
            };
            self.last_max_rate = rate;
            self.time_window = (self.last_max_rate * (1.0 - BETA) / SCALE).cbrt();
            self.last_throttle = now;
            self.enabled = true;
            rate * BETA
        } else {
            self.time_window = (self.last_max_rate * (1.0 - BETA) / SCALE).cbrt();
            SCALE * (now - self.last_throttle - self.time_window).powi(3) + self.last_max_rate
        };
        let new_rate = calculated;
        self.refill(now);
        self.fill_rate = new_rate.max(MIN_FILL_RATE);
        self.max_capacity = new_rate.max(1.0);
        self.capacity = self.capacity.min(self.max_capacity);
    }

    /// The sending rate: the smoothed measure, or before the first half-second is over
    /// (throttled right from the start), what was sent so far over the time it took.
    fn sending_rate(&self, now: f64) -> f64 {
        match (self.measured_rate > 0.0, self.first) {
            (true, _) | (false, None) => self.measured_rate,
            (false, Some(first)) => self.bucket_count / (now - first).max(0.05),
        }
    }

    /// Counts one request in its half-second and smooths the rate when a half-second ends.
    fn measure(&mut self, now: f64) {
        let bucket = (now * 2.0).floor() / 2.0;
        self.bucket_count += 1.0;
        self.first.get_or_insert(now);
        match self.bucket {
            None => self.bucket = Some(bucket),
            Some(last) if bucket > last => {
                let rate = self.bucket_count / (bucket - last);
                self.measured_rate = rate * SMOOTH + self.measured_rate * (1.0 - SMOOTH);
                self.bucket_count = 0.0;
                self.bucket = Some(bucket);
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, ServiceError, TransportError, TransportErrorKind};
    use http::StatusCode;

    fn slow_down() -> Error {
        ServiceError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::SlowDown).into()
    }

    #[test]
    fn the_quota_pays_for_retries_and_refills_on_success() {
        let mut t = Throttle::new(RetryMode::Standard);
        let timeout: Error = TransportError::new(TransportErrorKind::Timeout, "slow").into();
        // A throttling answer costs less than a failure: the server said "later".
        assert_eq!(t.take_retry(&slow_down()), Some(THROTTLING_RETRY_COST));
        assert_eq!(t.take_retry(&timeout), Some(RETRY_COST));
        assert_eq!(t.tokens(), QUOTA - 19);
        t.succeeded(19);
        assert_eq!(t.tokens(), QUOTA);
        t.succeeded(0);
        assert_eq!(t.tokens(), QUOTA, "never above the quota");
        while t.take_retry(&slow_down()).is_some() {}
        assert!(t.tokens() < THROTTLING_RETRY_COST);
        assert_eq!(
            t.take_retry(&slow_down()),
            None,
            "an empty quota pays for nothing"
        );
        let mut legacy = Throttle::new(RetryMode::Legacy);
        for _ in 0..1000 {
            assert_eq!(legacy.take_retry(&slow_down()), Some(0));
        }
        assert!(is_throttling(&slow_down()));
        assert!(is_throttling(
            &ServiceError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::Other("X".into())).into()
        ));
        assert!(!is_throttling(&timeout));
    }

    #[test]
    fn the_rate_drops_on_throttling_and_grows_back() {
        let mut t = Throttle::new(RetryMode::Adaptive);
        // 100 requests a second for 3 s: nothing limits them.
        let mut now = 0.0;
        for _ in 0..300 {
            assert_eq!(t.before_attempt(now), Duration::ZERO);
            t.attempt_ended(now, false);
            now += 0.01;
        }
        assert_eq!(t.rate(), None);
        t.attempt_ended(now, true);
        let after_throttle = t.rate().expect("throttling starts the limiter");
        assert!((60.0..80.0).contains(&after_throttle), "{after_throttle}");
        // Sending as fast as allowed, the rate climbs back past the old one within seconds.
        let mut waited = Duration::ZERO;
        for _ in 0..2000 {
            let wait = t.before_attempt(now);
            waited += wait;
            now += wait.as_secs_f64() + 0.001;
            t.attempt_ended(now, false);
        }
        let later = t.rate().unwrap();
        assert!(later > after_throttle, "{later} after {after_throttle}");
        assert!(waited > Duration::ZERO);
    }
}
