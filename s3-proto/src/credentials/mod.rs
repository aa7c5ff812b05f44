//! Credentials, the `Secret` wrapper that keeps them out of logs, and the AWS SDKs' credential
//! providers as sans-IO machines.
//!
//! A provider ([`Provider`], or the whole [`chain::DefaultChain`]) never does IO: it says what to
//! do next as a [`Step`] — send an HTTP request, read a file, run a command ([`Io`]) — and takes
//! the outcome back as an [`IoResult`]. A runtime is a loop:
//!
//! ```
//! use std::time::SystemTime;
//! use s3_proto::credentials::{chain::DefaultChain, IoResult, Step};
//!
//! let env = |name: &str| match name {
//!     "AWS_ACCESS_KEY_ID" => Some("AKID".to_owned()),
//!     "AWS_SECRET_ACCESS_KEY" => Some("SECRET".to_owned()),
//!     _ => None,
//! };
//! let mut chain = DefaultChain::new(env);
//! let credentials = loop {
//!     match chain.poll(SystemTime::UNIX_EPOCH) {
//!         Step::Io(_io) => chain.handle(IoResult::File(Err(std::io::ErrorKind::NotFound.into()))),
//!         Step::Done(result) => break result?,
//!     }
//! };
//! assert_eq!(credentials.provider(), Some("environment"));
//! # Ok::<(), s3_proto::Error>(())
//! ```
//!
//! [`cache::CredentialsCache`] decides when cached credentials must be refreshed, and by whom.

use std::fmt;
use std::sync::Mutex;
use std::time::SystemTime;

use crate::error::InputError;

pub mod cache;
pub mod chain;
pub mod container;
mod error;
pub mod imds;
mod io;
mod json;
pub(crate) mod machine;
pub mod process;
pub mod source;
pub mod sso;
pub mod sts;
#[cfg(test)]
mod tests;

pub use error::CredentialsError;
pub use io::{Io, IoResult, MAX_FILE, MAX_RESPONSE, ProcessOutput, Resolve, Step};
pub use machine::Provider;
pub use source::CredentialSource;

/// A secret string: `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where it is used (signing, a header value).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What requests are signed with: an access key pair and optional session token, or nothing
/// (anonymous requests go out unsigned).
///
/// The SigV4 signing key is derived once per date, region and service and kept here, so one
/// `Credentials` value shared by a client signs each request with two HMACs instead of six.
///
/// Temporary credentials carry their expiry; every credential says which provider supplied it.
pub struct Credentials {
    keys: Option<Keys>,
    expiry: Option<SystemTime>,
    provider: Option<&'static str>,
    signing_key: Mutex<Option<CachedKey>>,
}

#[derive(Clone)]
struct Keys {
    access_key: String,
    secret_key: Secret,
    session_token: Option<Secret>,
}

/// A derived SigV4 key and the scope it belongs to, with the HMAC already keyed by it (the
/// key's two padding blocks hashed once, not per request).
#[derive(Clone)]
pub(crate) struct CachedKey {
    pub(crate) date: [u8; 8],
    pub(crate) region: String,
    pub(crate) service: String,
    pub(crate) key: [u8; 32],
    pub(crate) mac: crate::sign::v4::HmacSha256,
}

/// The environment variable names [`Credentials::from_lookup`] reads.
pub const ENV_ACCESS_KEY: &str = "AWS_ACCESS_KEY_ID";
/// See [`ENV_ACCESS_KEY`].
pub const ENV_SECRET_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// See [`ENV_ACCESS_KEY`].
pub const ENV_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";

impl Credentials {
    /// An access key pair.
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Credentials {
            keys: Some(Keys {
                access_key: access_key.into(),
                secret_key: Secret::new(secret_key),
                session_token: None,
            }),
            expiry: None,
            provider: None,
            signing_key: Mutex::new(None),
        }
    }

    /// No credentials: requests are sent unsigned, as a browser would.
    pub fn anonymous() -> Self {
        Credentials {
            keys: None,
            expiry: None,
            provider: None,
            signing_key: Mutex::new(None),
        }
    }

    /// Sets when these (temporary) credentials stop working.
    pub fn with_expiry(mut self, expiry: SystemTime) -> Self {
        self.expiry = Some(expiry);
        self
    }

    /// Names the provider that supplied these credentials (`"environment"`, `"imds"`, ...).
    pub fn with_provider(mut self, provider: &'static str) -> Self {
        self.provider = Some(provider);
        self
    }

    /// When these credentials stop working; `None` for long-lived keys.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.expiry
    }

    /// Which provider supplied these credentials, when one did.
    pub fn provider(&self) -> Option<&'static str> {
        self.provider
    }

    /// True when the credentials have an expiry and `now` is at or past it.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expiry.is_some_and(|e| now >= e)
    }

    /// Adds a session token (temporary credentials from STS).
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        if let Some(keys) = &mut self.keys {
            keys.session_token = Some(Secret::new(token));
        }
        self
    }

    /// Builds credentials from a lookup of the standard variable names
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).
    ///
    /// Pure: the runtime passes `|name| std::env::var(name).ok()` or any other source.
    /// Returns `Ok(None)` when neither key is set; empty values count as unset.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when only one of the key pair is set.
    pub fn from_lookup(
        mut lookup: impl FnMut(&str) -> Option<String>,
    ) -> Result<Option<Self>, InputError> {
        let mut get = |name| lookup(name).filter(|v: &String| !v.is_empty());
        let access = get(ENV_ACCESS_KEY);
        let secret = get(ENV_SECRET_KEY);
        let token = get(ENV_SESSION_TOKEN);
        match (access, secret) {
            (None, None) => Ok(None),
            (Some(access), Some(secret)) => {
                let creds = Credentials::new(access, secret).with_provider("environment");
                Ok(Some(match token {
                    Some(t) => creds.with_session_token(t),
                    None => creds,
                }))
            }
            (Some(_), None) => Err(InputError::argument(
                ENV_SECRET_KEY,
                "is not set but AWS_ACCESS_KEY_ID is",
            )),
            (None, Some(_)) => Err(InputError::argument(
                ENV_ACCESS_KEY,
                "is not set but AWS_SECRET_ACCESS_KEY is",
            )),
        }
    }

    /// True for [`Credentials::anonymous`].
    pub fn is_anonymous(&self) -> bool {
        self.keys.is_none()
    }

    /// The access key id (not a secret), if any.
    pub fn access_key(&self) -> Option<&str> {
        self.keys.as_ref().map(|k| k.access_key.as_str())
    }

    /// The secret access key, if any.
    pub fn secret_key(&self) -> Option<&Secret> {
        self.keys.as_ref().map(|k| &k.secret_key)
    }

    /// The session token, if any.
    pub fn session_token(&self) -> Option<&Secret> {
        self.keys.as_ref().and_then(|k| k.session_token.as_ref())
    }

    /// The cached SigV4 key for this scope, deriving it with `derive` on a miss.
    pub(crate) fn signing_key(
        &self,
        date: &[u8; 8],
        region: &str,
        service: &str,
        derive: impl FnOnce() -> [u8; 32],
    ) -> [u8; 32] {
        self.cached(date, region, service, derive, |c| c.key)
    }

    /// An HMAC keyed with the cached SigV4 key for this scope.
    pub(crate) fn signing_mac(
        &self,
        date: &[u8; 8],
        region: &str,
        service: &str,
        derive: impl FnOnce() -> [u8; 32],
    ) -> crate::sign::v4::HmacSha256 {
        self.cached(date, region, service, derive, |c| c.mac.clone())
    }

    fn cached<T>(
        &self,
        date: &[u8; 8],
        region: &str,
        service: &str,
        derive: impl FnOnce() -> [u8; 32],
        read: impl FnOnce(&CachedKey) -> T,
    ) -> T {
        // A poisoned lock only means another thread panicked mid-update; the cache is a
        // plain value, so take it over.
        let mut slot = self
            .signing_key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cached) = &*slot {
            if &cached.date == date && cached.region == region && cached.service == service {
                return read(cached);
            }
        }
        let key = derive();
        let cached = CachedKey {
            date: *date,
            region: region.to_owned(),
            service: service.to_owned(),
            key,
            mac: crate::sign::v4::keyed_mac(&key),
        };
        let value = read(&cached);
        *slot = Some(cached);
        value
    }
}

impl Clone for Credentials {
    fn clone(&self) -> Self {
        Credentials {
            keys: self.keys.clone(),
            expiry: self.expiry,
            provider: self.provider,
            signing_key: Mutex::new(None),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.keys {
            None => f.write_str("Credentials(anonymous)"),
            Some(k) => f
                .debug_struct("Credentials")
                .field("access_key", &k.access_key)
                .field("secret_key", &k.secret_key)
                .field("session_token", &k.session_token)
                .field("expiry", &self.expiry.map(crate::time::to_iso8601))
                .field("provider", &self.provider)
                .finish(),
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::new("AKID", "very-secret").with_session_token("tok-secret");
        let s = format!("{c:?} {:?} {}", c.secret_key(), c.session_token().unwrap());
        assert!(s.contains("AKID"));
        assert!(
            !s.contains("very-secret") && !s.contains("tok-secret"),
            "{s}"
        );
    }

    #[test]
    fn from_lookup_reads_the_standard_names() {
        let env = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("AK".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("SK".to_owned()),
            "AWS_SESSION_TOKEN" => Some(String::new()),
            _ => None,
        };
        let c = Credentials::from_lookup(env).unwrap().unwrap();
        assert_eq!(c.access_key(), Some("AK"));
        assert_eq!(c.secret_key().unwrap().expose(), "SK");
        assert!(c.session_token().is_none());
        assert!(Credentials::from_lookup(|_| None).unwrap().is_none());
        let half = |name: &str| (name == "AWS_ACCESS_KEY_ID").then(|| "AK".to_owned());
        let err = Credentials::from_lookup(half).unwrap_err();
        assert!(err.to_string().contains("AWS_SECRET_ACCESS_KEY"));
    }

    #[test]
    fn signing_key_is_derived_once_per_scope() {
        let c = Credentials::new("AK", "SK");
        let mut calls = 0;
        for _ in 0..3 {
            c.signing_key(b"20240101", "us-east-1", "s3", || {
                calls += 1;
                [1; 32]
            });
        }
        assert_eq!(calls, 1);
        c.signing_key(b"20240102", "us-east-1", "s3", || {
            calls += 1;
            [2; 32]
        });
        assert_eq!(calls, 2);
    }
}
