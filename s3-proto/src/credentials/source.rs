//! Where a client's signing credentials come from: fixed ones, or a [`SharedCache`] that a
//! resolver (usually the [`DefaultChain`](super::chain::DefaultChain)) fills and refreshes.
//!
//! Every attempt asks [`CredentialSource::fetch`] (through
//! [`Attempts::credentials`](crate::flow::request::Attempts::credentials)); the warm path is one
//! mutex lock and an `Arc` clone. When the cache is due, exactly one caller gets a
//! [`Refresh`] to run while the others keep signing with the still-valid credentials; expired
//! credentials are never handed out.
//!
//! A source may also discover the client's region ([`CredentialSource::discovering_region`]):
//! the first refresh looks it up (instance metadata) before resolving credentials, so the
//! runtimes' one credentials loop drives that IO too.
//!
//! A server that refuses the token itself makes the per-request machine drop the refused
//! credentials ([`CredentialSource::refused`]) and try once more with fresh ones; which replies
//! count as such a refusal is [`refuses_credentials`].

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use super::Credentials;
use super::cache::{Lookup, SharedCache};
use super::io::{IoResult, Resolve, Step};
use crate::error::{Error, ErrorCode};

/// How long a caller sleeps before looking again while another caller refreshes and nothing
/// valid is cached. A refresher that vanished is replaced after
/// [`REFRESH_CLAIM_TIMEOUT`](super::cache::REFRESH_CLAIM_TIMEOUT), so waiting is bounded.
pub const WAIT_POLL: Duration = Duration::from_millis(20);

/// A 403 `AccessDenied` counts as a refused token only for temporary credentials that expire
/// within this margin of the (skew-corrected) time the reply came back.
///
/// Ceph RGW 16 with STS answers an expired session token with 403 `AccessDenied` (no
/// `ExpiredToken`; see PEERS-2.md), the same code as a real permission denial. Treating every
/// `AccessDenied` as expiry would re-resolve credentials (an STS call) on every denied request,
/// so it is only believed when expiry is plausible: the credentials are temporary and close to
/// their end, which, since the cache refreshes before expiry, happens only when the server's
/// clock or its idea of the lifetime is off from ours.
pub const ACCESS_DENIED_EXPIRY_MARGIN: Duration = Duration::from_secs(60);

type MakeResolver = dyn Fn() -> Box<dyn Resolve<Output = Credentials>> + Send + Sync;
type MakeRegionLookup = dyn Fn() -> Box<dyn Resolve<Output = String>> + Send + Sync;

/// A region looked up once, by the first refresh.
struct RegionDiscovery {
    /// `Some(None)` once a lookup failed: not asked again.
    found: OnceLock<Option<String>>,
    lookup: Box<MakeRegionLookup>,
}

/// Where a session's credentials come from; cheap to clone, clones share the cache.
#[derive(Clone)]
pub struct CredentialSource(Inner);

#[derive(Clone)]
enum Inner {
    Fixed(Arc<Credentials>),
    Cached {
        cache: SharedCache,
        resolver: Arc<MakeResolver>,
        region: Option<Arc<RegionDiscovery>>,
    },
}

impl std::fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Inner::Fixed(c) => f.debug_tuple("Fixed").field(c).finish(),
            Inner::Cached { .. } => f.write_str("Cached"),
        }
    }
}

impl From<Credentials> for CredentialSource {
    fn from(credentials: Credentials) -> Self {
        CredentialSource::fixed(credentials)
    }
}

/// What a caller does to get credentials for one attempt.
#[derive(Debug)]
pub enum Fetch {
    /// Sign with these.
    Use(Arc<Credentials>),
    /// This caller refreshes: drive the [`Refresh`] to its end (its output is also stored in
    /// the cache), then fetch again.
    Refresh(Refresh),
    /// Another caller is refreshing and nothing valid is cached: sleep this long, fetch again.
    Wait(Duration),
}

impl CredentialSource {
    /// Long-lived credentials, never refreshed (static keys, or anonymous).
    pub fn fixed(credentials: Credentials) -> Self {
        CredentialSource(Inner::Fixed(Arc::new(credentials)))
    }

    /// True for fixed anonymous credentials: requests go unsigned.
    pub fn is_anonymous(&self) -> bool {
        matches!(&self.0, Inner::Fixed(c) if c.is_anonymous())
    }

    /// Credentials kept in `cache` and resolved, whenever it is empty or due, by a fresh
    /// machine from `resolver` (for example `|| Box::new(DefaultChain::new(env))`).
    pub fn cached(
        cache: SharedCache,
        resolver: impl Fn() -> Box<dyn Resolve<Output = Credentials>> + Send + Sync + 'static,
    ) -> Self {
        CredentialSource(Inner::Cached {
            cache,
            resolver: Arc::new(resolver),
            region: None,
        })
    }

    /// Also discovers the client's region: the first refresh runs a machine from `lookup`
    /// (such as [`ImdsRegion::lookup`](super::imds::ImdsRegion::lookup)) before resolving
    /// credentials, and a [`Session`](crate::flow::request::Session) signs in the region
    /// found. A failed lookup is not repeated and leaves the configured region. Fixed
    /// credentials never refresh, so they are returned as they are.
    pub fn discovering_region(
        self,
        lookup: impl Fn() -> Box<dyn Resolve<Output = String>> + Send + Sync + 'static,
    ) -> Self {
        match self.0 {
            Inner::Cached {
                cache, resolver, ..
            } => CredentialSource(Inner::Cached {
                cache,
                resolver,
                region: Some(Arc::new(RegionDiscovery {
                    found: OnceLock::new(),
                    lookup: Box::new(lookup),
                })),
            }),
            fixed @ Inner::Fixed(_) => CredentialSource(fixed),
        }
    }

    /// The region [`CredentialSource::discovering_region`] found, once a refresh found it.
    pub fn discovered_region(&self) -> Option<&str> {
        match &self.0 {
            Inner::Cached {
                region: Some(d), ..
            } => d.found.get()?.as_deref(),
            _ => None,
        }
    }

    /// True when the credentials are resolved and refreshed, not fixed.
    pub fn is_refreshable(&self) -> bool {
        matches!(self.0, Inner::Cached { .. })
    }

    /// The shared cache, when there is one.
    pub fn cache(&self) -> Option<&SharedCache> {
        match &self.0 {
            Inner::Fixed(_) => None,
            Inner::Cached { cache, .. } => Some(cache),
        }
    }

    /// What to do at `now` to get credentials; `random` spreads refresh points (up to 60 s
    /// earlier) so clients started together do not refresh together.
    pub fn fetch(&self, now: SystemTime, random: u64) -> Fetch {
        let (cache, resolver, region) = match &self.0 {
            Inner::Fixed(c) => return Fetch::Use(c.clone()),
            Inner::Cached {
                cache,
                resolver,
                region,
            } => (cache, resolver, region),
        };
        match cache.lookup(now) {
            Lookup::Use(c) => Fetch::Use(c),
            Lookup::Wait => Fetch::Wait(WAIT_POLL),
            Lookup::Refresh(current) => Fetch::Refresh(Refresh::started(Refresh {
                machine: match region {
                    Some(d) if d.found.get().is_none() => Box::new(RegionFirst {
                        lookup: Some((d.lookup)()),
                        discovery: d.clone(),
                        then: resolver(),
                    }),
                    _ => resolver(),
                },
                cache: cache.clone(),
                current,
                jitter: Duration::from_millis(random % 60_000),
                finished: false,
            })),
        }
    }

    /// The credentials valid at `now` without refreshing (fixed ones are always valid).
    pub fn current(&self, now: SystemTime) -> Option<Arc<Credentials>> {
        match &self.0 {
            Inner::Fixed(c) => Some(c.clone()),
            Inner::Cached { cache, .. } => cache.current(now),
        }
    }

    /// A server refused `used`: drop them from the cache if they are still there. True when
    /// fresh credentials can be fetched (the source refreshes); false for fixed credentials.
    pub fn refused(&self, used: &Arc<Credentials>) -> bool {
        match &self.0 {
            Inner::Fixed(_) => false,
            Inner::Cached { cache, .. } => {
                cache.invalidate_if(used);
                true
            }
        }
    }
}

/// Looks up the region, stores it, then resolves credentials.
struct RegionFirst {
    lookup: Option<Box<dyn Resolve<Output = String>>>,
    discovery: Arc<RegionDiscovery>,
    then: Box<dyn Resolve<Output = Credentials>>,
}

impl Resolve for RegionFirst {
    type Output = Credentials;

    fn poll(&mut self, now: SystemTime) -> Step {
        if let Some(lookup) = &mut self.lookup {
            match lookup.poll(now) {
                Step::Io(io) => return Step::Io(io),
                Step::Done(found) => {
                    let _ = self.discovery.found.set(found.ok());
                    self.lookup = None;
                }
            }
        }
        self.then.poll(now)
    }

    fn handle(&mut self, result: IoResult) {
        match &mut self.lookup {
            Some(lookup) => lookup.handle(result),
            None => self.then.handle(result),
        }
    }
}

/// True when `error` refuses the credentials `used` themselves (rather than the request), at
/// `now` (skew-corrected): `ExpiredToken`, `InvalidToken`, `TokenRefreshRequired`; and a 403
/// `AccessDenied` for temporary credentials within [`ACCESS_DENIED_EXPIRY_MARGIN`] of their
/// expiry (Ceph's answer to an expired STS token).
pub fn refuses_credentials(error: &Error, used: &Credentials, now: SystemTime) -> bool {
    let Some(code) = error.code() else {
        return false;
    };
    match code {
        ErrorCode::ExpiredToken | ErrorCode::InvalidToken => true,
        ErrorCode::Other(s) => s == "TokenRefreshRequired",
        ErrorCode::AccessDenied => {
            used.session_token().is_some()
                && used
                    .expiry()
                    .is_some_and(|expiry| now + ACCESS_DENIED_EXPIRY_MARGIN >= expiry)
        }
        _ => false,
    }
}

/// One refresh of a [`CredentialSource`]'s cache, run by the caller that was told to: a
/// [`Resolve`] machine whose output is the credentials now cached. When resolving fails while
/// the old credentials are still valid, its output is those (and the cache retries later);
/// dropped unfinished, it releases its claim so another caller can refresh.
pub struct Refresh {
    machine: Box<dyn Resolve<Output = Credentials>>,
    cache: SharedCache,
    current: Option<Arc<Credentials>>,
    jitter: Duration,
    finished: bool,
}

impl std::fmt::Debug for Refresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresh")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Refresh {
    fn started(self) -> Self {
        crate::flow::trace::credentials(true, true);
        self
    }
}

impl Resolve for Refresh {
    type Output = Arc<Credentials>;

    fn poll(&mut self, now: SystemTime) -> Step<Arc<Credentials>> {
        let result = match self.machine.poll(now) {
            Step::Io(io) => return Step::Io(io),
            Step::Done(result) => result,
        };
        self.finished = true;
        crate::flow::trace::credentials(false, result.is_ok());
        Step::Done(match result {
            Ok(fresh) => Ok(self.cache.store(fresh, now, self.jitter)),
            Err(e) => {
                self.cache.failed(now);
                self.current.take().ok_or(e)
            }
        })
    }

    fn handle(&mut self, result: IoResult) {
        self.machine.handle(result);
    }
}

impl Drop for Refresh {
    fn drop(&mut self) {
        if !self.finished {
            self.cache.abandon();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::ServiceError;
    use crate::config::Config;
    use crate::flow::request::{Next, Options, Session};

    const T0: SystemTime = SystemTime::UNIX_EPOCH;

    /// Resolves at once to credentials `AK<n>` valid for `lifetime` from `now`.
    struct Minter(Arc<AtomicU32>, Duration);

    impl Resolve for Minter {
        type Output = Credentials;
        fn poll(&mut self, now: SystemTime) -> Step {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            let c = Credentials::new(format!("AK{n}"), "secret").with_session_token("token");
            Step::Done(Ok(c.with_expiry(now + self.1)))
        }
        fn handle(&mut self, _result: IoResult) {}
    }

    fn minted(lifetime: Duration) -> (CredentialSource, Arc<AtomicU32>) {
        let count = Arc::new(AtomicU32::new(0));
        let c = count.clone();
        let source = CredentialSource::cached(SharedCache::default(), move || {
            Box::new(Minter(c.clone(), lifetime))
        });
        (source, count)
    }

    fn drive(fetch: Fetch, now: SystemTime) -> Option<Arc<Credentials>> {
        match fetch {
            Fetch::Use(c) => Some(c),
            Fetch::Refresh(mut r) => match r.poll(now) {
                Step::Done(result) => Some(result.unwrap()),
                Step::Io(_) => unreachable!(),
            },
            Fetch::Wait(_) => None,
        }
    }

    #[test]
    fn one_refresher_others_keep_valid_credentials_never_expired_ones() {
        let (source, count) = minted(Duration::from_secs(20));
        let first = drive(source.fetch(T0, 0), T0).unwrap();
        assert_eq!(first.access_key(), Some("AK0"));
        // Warm: the same Arc, no resolve.
        let warm = drive(source.fetch(T0 + Duration::from_secs(1), 0), T0).unwrap();
        assert!(Arc::ptr_eq(&first, &warm));
        // Past half the lifetime: one caller refreshes, the others still use AK0.
        let due = T0 + Duration::from_secs(11);
        let Fetch::Refresh(mut refresh) = source.fetch(due, 0) else {
            panic!("expected a refresh")
        };
        let other = drive(source.fetch(due, 0), due).unwrap();
        assert_eq!(other.access_key(), Some("AK0"));
        // Past the expiry while the refresh is out: nobody gets AK0.
        let late = T0 + Duration::from_secs(21);
        assert!(matches!(source.fetch(late, 0), Fetch::Wait(_)));
        let Step::Done(fresh) = refresh.poll(late) else {
            panic!()
        };
        assert_eq!(fresh.unwrap().access_key(), Some("AK1"));
        let after = drive(source.fetch(late, 0), late).unwrap();
        assert_eq!(after.access_key(), Some("AK1"));
        assert_eq!(count.load(Ordering::SeqCst), 2);
        // An abandoned refresh releases its claim at once.
        let due = late + Duration::from_secs(15);
        drop(source.fetch(due, 0));
        assert!(matches!(source.fetch(due, 0), Fetch::Refresh(_)));
    }

    #[test]
    fn a_refused_token_is_dropped_and_the_request_tried_once_more() {
        let (source, count) = minted(Duration::from_secs(3600));
        let config = Config::new("http://127.0.0.1:9", "us-east-1").unwrap();
        let session = Session::new(config, source, Options::default());
        let op = crate::ops::ListBuckets::new();
        let mut attempts = session.attempts(&op, true);
        let Fetch::Refresh(mut first) = attempts.credentials(&session, T0, 0) else {
            panic!("an empty cache refreshes")
        };
        assert!(matches!(first.poll(T0), Step::Done(Ok(_))));
        let Fetch::Use(_) = attempts.credentials(&session, T0, 0) else {
            panic!()
        };
        let expired = || -> Result<(), Error> {
            Err(ServiceError::new(http::StatusCode::BAD_REQUEST, ErrorCode::ExpiredToken).into())
        };
        let next = attempts.handle(&session, expired(), Duration::ZERO, 0, T0);
        assert!(matches!(next, Next::Retry(d) if d.is_zero()));
        // The refused credentials are gone: the next attempt resolves fresh ones.
        let Fetch::Refresh(mut r) = attempts.credentials(&session, T0, 0) else {
            panic!("expected a refresh")
        };
        assert!(matches!(r.poll(T0), Step::Done(Ok(_))));
        let Fetch::Use(c) = attempts.credentials(&session, T0, 0) else {
            panic!()
        };
        assert_eq!(c.access_key(), Some("AK1"));
        // Refused again: not a loop.
        let next = attempts.handle(&session, expired(), Duration::ZERO, 0, T0);
        assert!(matches!(next, Next::Done(sent) if sent.result.is_err()));
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn access_denied_means_expiry_only_near_the_end_of_temporary_credentials() {
        let denied: Error =
            ServiceError::new(http::StatusCode::FORBIDDEN, ErrorCode::AccessDenied).into();
        let long = Credentials::new("AK", "SK");
        assert!(!refuses_credentials(&denied, &long, T0));
        let temp = Credentials::new("AK", "SK").with_session_token("t");
        let temp = temp.with_expiry(T0 + Duration::from_secs(3600));
        assert!(!refuses_credentials(&denied, &temp, T0));
        assert!(refuses_credentials(
            &denied,
            &temp,
            T0 + Duration::from_secs(3550)
        ));
        let invalid: Error =
            ServiceError::new(http::StatusCode::BAD_REQUEST, ErrorCode::InvalidToken).into();
        assert!(refuses_credentials(&invalid, &long, T0));
        // Fixed credentials cannot be refreshed: the error stands.
        assert!(!CredentialSource::fixed(long.clone()).refused(&Arc::new(long)));
    }
}
