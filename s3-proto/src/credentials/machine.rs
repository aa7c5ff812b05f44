//! The machine behind every provider, the [`Provider`] wrapper that names it, and the
//! environment snapshot providers read.

use std::collections::HashMap;
use std::time::SystemTime;

use super::Credentials;
use super::error::CredentialsError;
use super::io::{IoResult, Step};
use super::json::Value;
use crate::error::{Error, InputError, ResponseError};

/// A provider's state machine: `poll` says what to do, `handle` takes the result.
pub(crate) trait Machine: Send {
    /// The next step; after [`Step::Io`] the caller must `handle` the result before polling again.
    fn poll(&mut self, now: SystemTime) -> Step;
    /// The result of the last [`Step::Io`].
    fn handle(&mut self, result: IoResult);
}

impl Machine for Box<dyn Machine> {
    fn poll(&mut self, now: SystemTime) -> Step {
        (**self).poll(now)
    }
    fn handle(&mut self, result: IoResult) {
        (**self).handle(result);
    }
}

/// One credential provider as a sans-IO machine: `poll` for the next [`Step`], do its IO,
/// `handle` the result, until [`Step::Done`].
///
/// Failures come out as [`Error::Credentials`]: `NotConfigured` when the provider has nothing
/// to go on, `Failed` (naming the provider) when it is configured but broke, `Expired` when it
/// handed out credentials already past their expiry.
pub struct Provider {
    name: &'static str,
    machine: Box<dyn Machine>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Provider {
    pub(crate) fn new(name: &'static str, machine: impl Machine + 'static) -> Self {
        Provider {
            name,
            machine: Box::new(machine),
        }
    }

    /// The provider's name, as credentials it supplies report it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The next step at `now`.
    pub fn poll(&mut self, now: SystemTime) -> Step {
        match self.machine.poll(now) {
            Step::Io(io) => Step::Io(io),
            Step::Done(result) => Step::Done(finish(self.name, result, now)),
        }
    }

    /// Feeds the result of the last [`Step::Io`].
    pub fn handle(&mut self, result: IoResult) {
        self.machine.handle(result);
    }

    /// A provider that answers at once with `result` (static credentials, or an error).
    pub fn ready(name: &'static str, result: Result<Credentials, Error>) -> Self {
        Provider::new(name, Ready(Some(result)))
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` from `lookup`.
    pub fn environment(lookup: impl FnMut(&str) -> Option<String>) -> Self {
        let env = Env::capture(lookup);
        Provider::new("environment", Ready(Some(environment(&env))))
    }
}

impl super::io::Resolve for Provider {
    type Output = Credentials;
    fn poll(&mut self, now: SystemTime) -> Step {
        Provider::poll(self, now)
    }
    fn handle(&mut self, result: IoResult) {
        Provider::handle(self, result);
    }
}

/// Names the provider on its credentials, rejects expired ones, and wraps failures.
fn finish(
    name: &'static str,
    result: Result<Credentials, Error>,
    now: SystemTime,
) -> Result<Credentials, Error> {
    match result {
        Ok(c) => {
            let c = if c.provider().is_none() {
                c.with_provider(name)
            } else {
                c
            };
            match c.expiry() {
                Some(expiry) if now >= expiry => Err(CredentialsError::Expired {
                    provider: c.provider().unwrap_or(name),
                    expiry,
                }
                .into()),
                _ => Ok(c),
            }
        }
        Err(e @ Error::Credentials(_)) => Err(e),
        Err(source) => Err(CredentialsError::Failed {
            provider: name,
            source,
        }
        .into()),
    }
}

/// Answers once with a fixed result.
pub(crate) struct Ready(pub(crate) Option<Result<Credentials, Error>>);

impl Machine for Ready {
    fn poll(&mut self, _now: SystemTime) -> Step {
        Step::Done(self.0.take().unwrap_or_else(|| Err(misuse())))
    }
    fn handle(&mut self, _result: IoResult) {}
}

/// The error for `poll` after `Done`, or `handle` without a pending IO.
pub(crate) fn misuse() -> Error {
    InputError::argument(
        "provider",
        "polled after it finished or before its IO was handled",
    )
    .into()
}

/// The environment variables providers read, captured once so machines own their input.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env(HashMap<&'static str, String>);

/// Every variable a provider or the chain reads, IMDS's settings ([`super::imds::SETTINGS`])
/// aside.
const VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "HOME",
    "USERPROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

impl Env {
    pub(crate) fn capture(mut lookup: impl FnMut(&str) -> Option<String>) -> Self {
        Env(VARIABLES
            .iter()
            .chain(super::imds::SETTINGS)
            .filter_map(|&name| lookup(name).map(|v| (name, v)))
            .collect())
    }

    /// The variable's value; empty or blank values count as unset.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// True when the variable is `true` (any case).
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// A lookup function over the snapshot.
    pub(crate) fn lookup(&self) -> impl FnMut(&str) -> Option<String> + '_ {
        move |name| self.get(name).map(str::to_owned)
    }

    /// A copy holding only the variables `names`.
    pub(crate) fn only(&self, names: &[&str]) -> Env {
        let mut env = self.clone();
        env.0.retain(|name, _| names.contains(name));
        env
    }

    /// A copy where each unset variable takes the given value (a profile's setting).
    pub(crate) fn with_fallbacks(&self, pairs: &[(&'static str, Option<&str>)]) -> Env {
        let mut env = self.clone();
        for &(name, value) in pairs {
            if let (None, Some(v)) = (env.get(name), value) {
                env.0.insert(name, v.to_owned());
            }
        }
        env
    }

    /// A service's endpoint as the SDKs pick it: `var` (`AWS_ENDPOINT_URL_STS`, ...), then
    /// `AWS_ENDPOINT_URL`, then `from_files` (see
    /// [`ProfileFiles::endpoint_url`](crate::profile::ProfileFiles::endpoint_url)); none at all
    /// when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
    pub(crate) fn endpoint<'a>(
        &'a self,
        var: &str,
        from_files: Option<&'a str>,
    ) -> Option<&'a str> {
        if self.flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
            return None;
        }
        self.get(var)
            .or_else(|| self.get("AWS_ENDPOINT_URL"))
            .or(from_files)
    }

    /// The region: `AWS_REGION`, then `AWS_DEFAULT_REGION`.
    pub(crate) fn region(&self) -> Option<&str> {
        self.get("AWS_REGION")
            .or_else(|| self.get("AWS_DEFAULT_REGION"))
    }
}

/// The environment provider over a snapshot.
pub(crate) fn environment(env: &Env) -> Result<Credentials, Error> {
    match Credentials::from_lookup(env.lookup()) {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(CredentialsError::not_configured(
            "environment",
            "AWS_ACCESS_KEY_ID is not set",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Credentials from a JSON document (IMDS, container, `credential_process`):
/// `AccessKeyId`, `SecretAccessKey`, the token under `token_key`, optional ISO 8601 `Expiration`.
pub(crate) fn from_json(v: &Value, token_key: &'static str) -> Result<Credentials, Error> {
    let access = v.required("AccessKeyId")?;
    let secret = v.required("SecretAccessKey")?;
    let mut c = Credentials::new(access, secret);
    if let Some(token) = v.str(token_key) {
        c = c.with_session_token(token);
    }
    match v.get("Expiration") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            let t = crate::time::parse_iso8601(s)
                .ok_or_else(|| Error::from(ResponseError::invalid("Expiration", s)))?;
            c = c.with_expiry(t);
        }
        Some(_) => return Err(ResponseError::invalid("Expiration", "not a string").into()),
    }
    Ok(c)
}

/// The body of a successful HTTP result, or an error for a transport failure or non-2xx status.
pub(crate) fn http_body(result: IoResult) -> Result<(http::StatusCode, Vec<u8>), Error> {
    match result {
        IoResult::Http(Ok(resp)) => {
            let status = resp.status();
            let body = resp.into_body();
            super::io::body(&body)?;
            Ok((status, body))
        }
        IoResult::Http(Err(e)) => Err(e),
        _ => Err(misuse()),
    }
}

/// A non-2xx reply from a credential endpoint as a service error with its status.
pub(crate) fn status_error(status: http::StatusCode, body: &[u8]) -> Error {
    let mut err =
        crate::error::ServiceError::new(status, crate::error::ErrorCode::from_status(status));
    // Show a little of what came back (endpoints answer in JSON or text), without secrets:
    // error bodies carry none.
    let text = String::from_utf8_lossy(body);
    err.message = crate::error::shorten(text.trim()).into_owned();
    err.into()
}
