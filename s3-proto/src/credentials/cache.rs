//! When cached credentials must be refreshed, and who refreshes them: pure decisions, with
//! the time passed in.
//!
//! Credentials are used until `expiry - window - jitter` (the refresh point); from there one
//! caller at a time is told to refresh while the others keep using the still-valid ones.
//! Expired credentials are never handed out: past the expiry, callers other than the
//! refresher are told to wait. [`SharedCache`] puts one cache behind a mutex so every clone
//! of a client shares it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use super::Credentials;

/// How long before expiry a refresh starts (the AWS SDKs use 5 minutes).
pub const DEFAULT_REFRESH_WINDOW: Duration = Duration::from_secs(300);

/// After this long without `store` or `failed`, a refresher is presumed gone and another
/// caller may take over.
pub const REFRESH_CLAIM_TIMEOUT: Duration = Duration::from_secs(60);

/// After a failed refresh while the current credentials are still valid, the next attempt
/// waits this long (so every request does not retry a broken endpoint).
pub const FAILED_REFRESH_BACKOFF: Duration = Duration::from_secs(10);

/// What a caller should do to get credentials for a request.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// Sign with these; they are valid and not due for refresh (or someone else refreshes).
    Use(Arc<Credentials>),
    /// This caller is the refresher: resolve credentials (for example with
    /// [`DefaultChain`](super::chain::DefaultChain)), then call `store` or `failed`. The
    /// current credentials, when still valid, may be used meanwhile.
    Refresh(Option<Arc<Credentials>>),
    /// Another caller is refreshing and there is nothing valid to use: wait a little and
    /// look up again.
    Wait,
}

/// The cache's state: the current credentials and the refresh in progress, if any.
#[derive(Debug, Clone)]
pub struct CredentialsCache {
    current: Option<Arc<Credentials>>,
    refresh_at: Option<SystemTime>,
    refreshing_since: Option<SystemTime>,
    retry_after: Option<SystemTime>,
    window: Duration,
}

impl Default for CredentialsCache {
    fn default() -> Self {
        CredentialsCache::new(DEFAULT_REFRESH_WINDOW)
    }
}

impl CredentialsCache {
    /// An empty cache that refreshes `window` before expiry.
    pub fn new(window: Duration) -> Self {
        CredentialsCache {
            current: None,
            refresh_at: None,
            refreshing_since: None,
            retry_after: None,
            window,
        }
    }

    /// A cache holding long-lived credentials that never need refreshing.
    pub fn fixed(credentials: Credentials) -> Self {
        CredentialsCache {
            current: Some(Arc::new(credentials)),
            ..CredentialsCache::default()
        }
    }

    /// The cached credentials if they are valid at `now`.
    pub fn current(&self, now: SystemTime) -> Option<Arc<Credentials>> {
        self.current
            .as_ref()
            .filter(|c| !c.is_expired(now))
            .cloned()
    }

    /// True when `now` is past the refresh point, or there is nothing valid cached.
    pub fn needs_refresh(&self, now: SystemTime) -> bool {
        match (&self.current, self.refresh_at) {
            (None, _) => true,
            (Some(c), _) if c.is_expired(now) => true,
            (Some(_), Some(at)) => now >= at,
            (Some(_), None) => false,
        }
    }

    /// True while a refresher holds the claim (and has not timed out).
    pub fn is_refreshing(&self, now: SystemTime) -> bool {
        self.refreshing_since.is_some_and(|since| {
            now.duration_since(since)
                .map_or(true, |d| d < REFRESH_CLAIM_TIMEOUT)
        })
    }

    /// Decides what a caller does at `now`; a [`Lookup::Refresh`] answer makes that caller
    /// the refresher until it calls `store` or `failed`.
    pub fn lookup(&mut self, now: SystemTime) -> Lookup {
        let valid = self.current(now);
        if !self.needs_refresh(now) {
            if let Some(c) = valid {
                return Lookup::Use(c);
            }
        }
        if self.is_refreshing(now) {
            return match valid {
                Some(c) => Lookup::Use(c),
                None => Lookup::Wait,
            };
        }
        if let (Some(c), Some(after)) = (&valid, self.retry_after) {
            if now < after {
                return Lookup::Use(c.clone());
            }
        }
        self.refreshing_since = Some(now);
        Lookup::Refresh(valid)
    }

    /// Stores fresh credentials resolved at `now` and ends the refresh. `jitter` (random, a
    /// few seconds up to a minute) moves the refresh point earlier so clients do not refresh
    /// in lockstep. Credentials shorter-lived than the window refresh at half their lifetime.
    pub fn store(
        &mut self,
        credentials: Credentials,
        now: SystemTime,
        jitter: Duration,
    ) -> Arc<Credentials> {
        let arc = Arc::new(credentials);
        self.refresh_at = arc.expiry().map(|expiry| {
            let lifetime = expiry.duration_since(now).unwrap_or(Duration::ZERO);
            match lifetime.checked_sub(self.window + jitter) {
                Some(left) if !left.is_zero() => now + left,
                _ => now + lifetime / 2,
            }
        });
        self.current = Some(arc.clone());
        self.refreshing_since = None;
        self.retry_after = None;
        arc
    }

    /// Ends a refresh that failed at `now`: valid credentials stay in use and the next
    /// refresh waits [`FAILED_REFRESH_BACKOFF`]; with nothing valid, the next caller retries.
    pub fn failed(&mut self, now: SystemTime) {
        self.refreshing_since = None;
        self.retry_after = Some(now + FAILED_REFRESH_BACKOFF);
    }

    /// Drops the cached credentials because a server refused them (`ExpiredToken`,
    /// `InvalidToken`, an unknown access key after rotation): nobody signs with them again,
    /// and the next lookup refreshes. A refresh already running is left to finish.
    pub fn invalidate(&mut self) {
        self.current = None;
        self.refresh_at = None;
        self.retry_after = None;
    }

    /// [`CredentialsCache::invalidate`], but only while `refused` are still the cached
    /// credentials: a reply refusing old credentials must not drop the fresh ones another
    /// caller stored meanwhile. True when they were dropped.
    pub fn invalidate_if(&mut self, refused: &Arc<Credentials>) -> bool {
        let current = self
            .current
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, refused));
        if current {
            self.invalidate();
        }
        current
    }

    /// Ends a refresh that was given up without a result (its task was cancelled): the next
    /// caller may refresh at once, without the failure backoff.
    pub fn abandon(&mut self) {
        self.refreshing_since = None;
    }

    /// When the cached credentials will be refreshed, if they expire at all.
    pub fn refresh_at(&self) -> Option<SystemTime> {
        self.refresh_at
    }
}

/// One [`CredentialsCache`] shared by every clone of a client (an `Arc<Mutex<…>>`; the lock
/// is held only for a decision, never across IO).
#[derive(Debug, Clone, Default)]
pub struct SharedCache(Arc<Mutex<CredentialsCache>>);

impl SharedCache {
    /// Shares `cache`.
    pub fn new(cache: CredentialsCache) -> Self {
        SharedCache(Arc::new(Mutex::new(cache)))
    }

    fn with<T>(&self, f: impl FnOnce(&mut CredentialsCache) -> T) -> T {
        // The cache is a plain value; a panic elsewhere cannot leave it half-updated.
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// See [`CredentialsCache::lookup`].
    pub fn lookup(&self, now: SystemTime) -> Lookup {
        self.with(|c| c.lookup(now))
    }

    /// See [`CredentialsCache::store`].
    pub fn store(
        &self,
        credentials: Credentials,
        now: SystemTime,
        jitter: Duration,
    ) -> Arc<Credentials> {
        self.with(|c| c.store(credentials, now, jitter))
    }

    /// See [`CredentialsCache::failed`].
    pub fn failed(&self, now: SystemTime) {
        self.with(|c| c.failed(now));
    }

    /// See [`CredentialsCache::invalidate`].
    pub fn invalidate(&self) {
        self.with(CredentialsCache::invalidate);
    }

    /// See [`CredentialsCache::invalidate_if`].
    pub fn invalidate_if(&self, refused: &Arc<Credentials>) -> bool {
        self.with(|c| c.invalidate_if(refused))
    }

    /// See [`CredentialsCache::abandon`].
    pub fn abandon(&self) {
        self.with(CredentialsCache::abandon);
    }

    /// See [`CredentialsCache::current`].
    pub fn current(&self, now: SystemTime) -> Option<Arc<Credentials>> {
        self.with(|c| c.current(now))
    }

    /// See [`CredentialsCache::needs_refresh`].
    pub fn needs_refresh(&self, now: SystemTime) -> bool {
        self.with(|c| c.needs_refresh(now))
    }
}
