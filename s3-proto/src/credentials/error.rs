//! Why a provider or the chain gave no credentials.

use std::fmt;
use std::time::SystemTime;

use crate::error::Error;

/// Why no credentials came out of a provider or the default chain.
#[derive(Debug)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The provider has nothing to go on (its variables or profile keys are not set); the
    /// chain moves on to the next one.
    NotConfigured {
        /// The provider's name.
        provider: &'static str,
        /// What it looked for.
        reason: String,
    },
    /// Every provider of the chain was skipped; one entry per provider, in order.
    NoneFound {
        /// Each provider's name and why it was skipped.
        tried: Vec<(&'static str, String)>,
    },
    /// The provider is configured but failed; the chain stops here, as the AWS SDKs do.
    Failed {
        /// The provider's name.
        provider: &'static str,
        /// What went wrong.
        source: Error,
    },
    /// The SSO token `aws sso login` caches is missing or has expired: the user must log in
    /// again (the message says how).
    SsoLoginRequired {
        /// The `sso_session` name, or the start URL of a legacy SSO profile.
        session: String,
        /// What is wrong with the cached token.
        reason: String,
    },
    /// The provider handed out credentials that had already expired.
    Expired {
        /// The provider's name.
        provider: &'static str,
        /// When they expired.
        expiry: SystemTime,
    },
}

impl CredentialsError {
    /// A [`CredentialsError::NotConfigured`] as an [`Error`].
    pub(crate) fn not_configured(provider: &'static str, reason: impl Into<String>) -> Error {
        Error::Credentials(Box::new(CredentialsError::NotConfigured {
            provider,
            reason: reason.into(),
        }))
    }

    /// True for [`CredentialsError::NotConfigured`]: the chain may try the next provider.
    pub fn is_not_configured(&self) -> bool {
        matches!(self, CredentialsError::NotConfigured { .. })
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialsError::NotConfigured { provider, reason } => {
                write!(f, "{provider} credentials not configured: {reason}")
            }
            CredentialsError::NoneFound { tried } => {
                f.write_str("no credentials found; tried ")?;
                for (i, (provider, reason)) in tried.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{provider} ({reason})")?;
                }
                f.write_str(" (use Credentials::anonymous() for unsigned requests)")
            }
            CredentialsError::Failed { provider, source } => {
                write!(f, "{provider} credentials provider failed: {source}")
            }
            CredentialsError::SsoLoginRequired { session, reason } => {
                let login = if session.contains("://") {
                    "aws sso login".to_owned()
                } else {
                    format!("aws sso login --sso-session {session}")
                };
                write!(f, "the SSO token for {session} {reason}; run `{login}`")
            }
            CredentialsError::Expired { provider, expiry } => write!(
                f,
                "{provider} credentials provider returned credentials that expired at {}",
                crate::time::to_iso8601(*expiry)
            ),
        }
    }
}

impl std::error::Error for CredentialsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CredentialsError::Failed { source, .. } => Some(source),
            _ => None,
        }
    }
}
