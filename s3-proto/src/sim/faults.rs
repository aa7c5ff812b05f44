//! Faults: what can go wrong with one request, and the plan that decides when it does.
//!
//! A [`FaultPlan`] holds scripted rules ("the 3rd UploadPart gets [`Fault::Lost`]", "the
//! first two requests get [`Fault::SlowDown`]") and optionally a seeded random schedule. The
//! rules are consulted first, in order; the first that fires wins. Every decision is
//! deterministic for a given plan and request sequence.

use std::time::Duration;

use http::{Method, StatusCode};

use super::request::{Incoming, OpKind};

/// What happens to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 503 SlowDown; the request is not applied.
    SlowDown,
    /// 500 InternalError; the request is not applied.
    InternalError,
    /// Any S3 error reply (`status`, `code`); the request is not applied.
    Error {
        /// The reply status.
        status: StatusCode,
        /// The `<Code>`.
        code: String,
    },
    /// 200 carrying `<Error><Code>InternalError</Code>…`, as S3 does for
    /// CompleteMultipartUpload, CopyObject and UploadPartCopy; the request is not applied.
    /// Other requests get a plain 500 InternalError instead.
    ErrorIn200,
    /// The request is applied, and the reply never arrives.
    Lost,
    /// The request is applied; the status, headers and the first `after` body bytes
    /// arrive, then the connection breaks. `None` cuts at a point chosen by the plan (a
    /// random point when it has a random schedule, else the middle). The cut is always
    /// inside the body (at most `len - 1`); a reply without a body is [`Fault::Lost`]
    /// instead.
    Reset {
        /// Body bytes delivered before the break.
        after: Option<usize>,
    },
    /// Could not connect: nothing is sent and nothing applied.
    Refused,
    /// The request is applied; the status, headers and the first `after` body bytes arrive
    /// (cut as for [`Fault::Reset`], but a bodyless reply stalls too), then nothing more.
    Stall {
        /// Body bytes delivered before the silence.
        after: Option<usize>,
    },
    /// Before the request is served, the object it names is overwritten with these bytes
    /// (a concurrent writer): a new ETag and Last-Modified. Then the request is served.
    Overwrite(Vec<u8>),
    /// The request takes this long (the clock advances), then is served normally.
    Delay(Duration),
    /// The request is served, but one byte in the middle of the reply's body is flipped on
    /// the way (a bodyless reply arrives intact).
    Corrupt,
}

impl Fault {
    /// Reset at a point the plan chooses.
    pub fn reset() -> Self {
        Fault::Reset { after: None }
    }

    /// Stall at a point the plan chooses.
    pub fn stall() -> Self {
        Fault::Stall { after: None }
    }

    /// An S3 error reply with `status` and `code`.
    pub fn error(status: u16, code: &str) -> Self {
        Fault::Error {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: code.to_owned(),
        }
    }

    /// Which kind of fault this is, for counters.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::SlowDown => FaultKind::SlowDown,
            Fault::InternalError => FaultKind::InternalError,
            Fault::Error { .. } => FaultKind::Error,
            Fault::ErrorIn200 => FaultKind::ErrorIn200,
            Fault::Lost => FaultKind::Lost,
            Fault::Reset { .. } => FaultKind::Reset,
            Fault::Refused => FaultKind::Refused,
            Fault::Stall { .. } => FaultKind::Stall,
            Fault::Overwrite(_) => FaultKind::Overwrite,
            Fault::Delay(_) => FaultKind::Delay,
            Fault::Corrupt => FaultKind::Corrupt,
        }
    }

    /// True when the request is applied to the store despite the fault.
    pub fn applies(&self) -> bool {
        matches!(
            self,
            Fault::Lost
                | Fault::Reset { .. }
                | Fault::Stall { .. }
                | Fault::Overwrite(_)
                | Fault::Delay(_)
                | Fault::Corrupt
        )
    }
}

/// The kinds of [`Fault`], for counting and for restricting random schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// [`Fault::SlowDown`].
    SlowDown,
    /// [`Fault::InternalError`].
    InternalError,
    /// [`Fault::Error`].
    Error,
    /// [`Fault::ErrorIn200`].
    ErrorIn200,
    /// [`Fault::Lost`].
    Lost,
    /// [`Fault::Reset`].
    Reset,
    /// [`Fault::Refused`].
    Refused,
    /// [`Fault::Stall`].
    Stall,
    /// [`Fault::Overwrite`].
    Overwrite,
    /// [`Fault::Delay`].
    Delay,
    /// [`Fault::Corrupt`].
    Corrupt,
}

impl FaultKind {
    /// The kinds a random schedule picks from by default: every transport and server
    /// failure (not [`FaultKind::Error`], [`FaultKind::Overwrite`] or [`FaultKind::Delay`],
    /// which need parameters).
    pub const RANDOM: [FaultKind; 7] = [
        FaultKind::SlowDown,
        FaultKind::InternalError,
        FaultKind::ErrorIn200,
        FaultKind::Lost,
        FaultKind::Reset,
        FaultKind::Refused,
        FaultKind::Stall,
    ];
}

/// Which requests a rule applies to: every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    op: Option<OpKind>,
    method: Option<Method>,
    bucket: Option<String>,
    key: Option<String>,
    /// Query parameters that must be present, with a value when `Some`.
    query: Vec<(String, Option<String>)>,
    /// Headers that must be present.
    headers: Vec<String>,
}

impl Match {
    /// Every request.
    pub fn any() -> Self {
        Match::default()
    }

    /// Requests routed to `op`.
    pub fn op(op: OpKind) -> Self {
        Match {
            op: Some(op),
            ..Match::default()
        }
    }

    /// Only requests with this method.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// Only requests on this bucket.
    pub fn bucket(mut self, bucket: &str) -> Self {
        self.bucket = Some(bucket.to_owned());
        self
    }

    /// Only requests on this key.
    pub fn key(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }

    /// Only requests carrying query parameter `name` (`uploadId`, `uploads`, …).
    pub fn query(mut self, name: &str) -> Self {
        self.query.push((name.to_owned(), None));
        self
    }

    /// Only requests whose query parameter `name` is `value` (`partNumber=2`).
    pub fn query_eq(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), Some(value.to_owned())));
        self
    }

    /// Only requests carrying header `name` (`range`, `if-match`, …).
    pub fn header(mut self, name: &str) -> Self {
        self.headers.push(name.to_ascii_lowercase());
        self
    }

    /// True when `req` satisfies every condition.
    pub(crate) fn matches(&self, req: &Incoming) -> bool {
        self.op.is_none_or(|op| op == req.op)
            && self.method.as_ref().is_none_or(|m| *m == req.method)
            && self
                .bucket
                .as_deref()
                .is_none_or(|b| req.bucket.as_deref() == Some(b))
            && self
                .key
                .as_deref()
                .is_none_or(|k| req.key.as_deref() == Some(k))
            && self.query.iter().all(|(name, value)| match value {
                None => req.has(name),
                Some(v) => req.param(name) == Some(v.as_str()),
            })
            && self
                .headers
                .iter()
                .all(|h| req.headers.contains_key(h.as_str()))
    }
}

/// A scripted rule: among the requests `matcher` accepts, those numbered (from 1)
/// `first..first + count` get `fault` (`count: None` for all from `first` on).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    matcher: Match,
    first: u64,
    count: Option<u64>,
    fault: Fault,
    seen: u64,
}

impl Rule {
    /// Counts `req` if it matches; the fault if this occurrence is in the rule's window.
    fn check(&mut self, req: &Incoming) -> Option<Fault> {
        if !self.matcher.matches(req) {
            return None;
        }
        self.seen += 1;
        let n = self.seen;
        let in_window =
            n >= self.first && self.count.is_none_or(|c| n < self.first.saturating_add(c));
        in_window.then(|| self.fault.clone())
    }
}

/// A seeded random schedule: each request gets a fault with probability `rate`, of a kind
/// picked uniformly among those that make sense for it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RandomFaults {
    rng: Rng,
    /// `rate` scaled to `0..=u64::MAX`.
    threshold: u64,
    kinds: Vec<FaultKind>,
}

/// When faults happen. `FaultPlan::default()` injects none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    rules: Vec<Rule>,
    random: Option<RandomFaults>,
    /// Picks cut points for faults that leave them to the plan.
    cuts: Rng,
}

impl FaultPlan {
    /// No faults.
    pub fn new() -> Self {
        FaultPlan::default()
    }

    /// The `n`-th request (from 1) matching `matcher` gets `fault`.
    pub fn nth(self, n: u64, matcher: Match, fault: Fault) -> Self {
        self.window(n, Some(1), matcher, fault)
    }

    /// The first `n` requests matching `matcher` get `fault` ("fails N times").
    pub fn first(self, n: u64, matcher: Match, fault: Fault) -> Self {
        self.window(1, Some(n), matcher, fault)
    }

    /// Every request matching `matcher` gets `fault`.
    pub fn every(self, matcher: Match, fault: Fault) -> Self {
        self.window(1, None, matcher, fault)
    }

    /// Requests numbered `from..from + count` (from 1) among those matching `matcher` get
    /// `fault`; `count: None` for all from `from` on.
    pub fn window(mut self, from: u64, count: Option<u64>, matcher: Match, fault: Fault) -> Self {
        self.rules.push(Rule {
            matcher,
            first: from.max(1),
            count,
            fault,
            seen: 0,
        });
        self
    }

    /// A random schedule from `seed`: each request (that no rule claims) gets a fault with
    /// probability `rate` (clamped to 0..=1), picked among [`FaultKind::RANDOM`].
    pub fn random(seed: u64, rate: f64) -> Self {
        FaultPlan::new().with_random(seed, rate, &FaultKind::RANDOM)
    }

    /// Adds a random schedule restricted to `kinds` (kinds that need parameters,
    /// [`FaultKind::Error`], [`FaultKind::Overwrite`] and [`FaultKind::Delay`], are
    /// ignored).
    pub fn with_random(mut self, seed: u64, rate: f64, kinds: &[FaultKind]) -> Self {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        // u64::MAX as f64 rounds up to 2^64; `as` saturates back to u64::MAX at rate 1.
        let threshold = (rate * u64::MAX as f64) as u64;
        let kinds = kinds
            .iter()
            .copied()
            .filter(|k| FaultKind::RANDOM.contains(k) || *k == FaultKind::Corrupt)
            .collect();
        self.random = Some(RandomFaults {
            rng: Rng::new(seed),
            threshold,
            kinds,
        });
        self.cuts = Rng::new(seed ^ 0x5EED_C075);
        self
    }

    /// The fault for `req`, if any. Every rule sees every request (so counts stay exact),
    /// the first that fires wins, and the random schedule is asked only when none did.
    pub(crate) fn pick(&mut self, req: &Incoming) -> Option<Fault> {
        let mut chosen = None;
        for rule in &mut self.rules {
            let fault = rule.check(req);
            if chosen.is_none() {
                chosen = fault;
            }
        }
        if chosen.is_some() {
            return chosen;
        }
        let random = self.random.as_mut()?;
        // Draw both numbers for every request, so one schedule does not shift with the
        // requests' kinds.
        let roll = random.rng.next_u64();
        let pick = random.rng.next_u64();
        if roll >= random.threshold || random.threshold == 0 {
            return None;
        }
        let usable: Vec<FaultKind> = random
            .kinds
            .iter()
            .copied()
            .filter(|k| *k != FaultKind::ErrorIn200 || req.op.may_fail_in_200())
            // Only object bodies carry a digest to catch a flipped byte with.
            .filter(|k| *k != FaultKind::Corrupt || req.op == OpKind::GetObject)
            .collect();
        let len = u64::try_from(usable.len()).ok().filter(|n| *n > 0)?;
        let kind = usable.get(usize::try_from(pick % len).ok()?)?;
        Some(match kind {
            FaultKind::SlowDown => Fault::SlowDown,
            FaultKind::InternalError => Fault::InternalError,
            FaultKind::ErrorIn200 => Fault::ErrorIn200,
            FaultKind::Lost => Fault::Lost,
            FaultKind::Reset => Fault::reset(),
            FaultKind::Corrupt => Fault::Corrupt,
            FaultKind::Refused => Fault::Refused,
            FaultKind::Stall => Fault::stall(),
            FaultKind::Error | FaultKind::Overwrite | FaultKind::Delay => return None,
        })
    }

    /// Where to cut a body of `len` bytes for a fault: `after` clamped below `len`, or, when
    /// the fault left it to the plan, a random point (plans with a random schedule) or the
    /// middle. Always `< len` when `len > 0`.
    pub(crate) fn cut(&mut self, after: Option<usize>, len: usize) -> usize {
        let last = len.saturating_sub(1);
        match after {
            Some(n) => n.min(last),
            None if self.random.is_some() => {
                let len64 = u64::try_from(len).unwrap_or(u64::MAX).max(1);
                usize::try_from(self.cuts.next_u64() % len64).unwrap_or(0)
            }
            None => len / 2,
        }
    }
}

/// splitmix64: a tiny, well-mixed deterministic generator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// A generator starting from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The splitmix64 finaliser: spreads `z`'s bits over all 64.
pub(crate) fn mix(z: u64) -> u64 {
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs of splitmix64 seeded with 0, as published with the algorithm.
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }
}
