//! IAM Identity Center (SSO): the cached token from `aws sso login`, exchanged for role
//! credentials with `GetRoleCredentials`.
//!
//! The token is read from `~/.aws/sso/cache/<sha1>.json`, where the SHA-1 (hex) is of the
//! `sso_session` name, or of the start URL for the legacy configuration; the request is
//! `GET https://portal.sso.<region>.amazonaws.com/federation/credentials?role_name=…&account_id=…`
//! with `x-amz-sso_bearer_token`. See
//! <https://docs.aws.amazon.com/singlesignon/latest/PortalAPIReference/API_GetRoleCredentials.html>.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Request;

use super::io::{Io, IoResult, Step};
use super::json;
use super::machine::{Machine, http_body, misuse, status_error};
use super::{Credentials, CredentialsError};
use crate::endpoint::Endpoint;
use crate::error::{Error, InputError, ResponseError};
use crate::profile::SsoConfig;
use crate::sign::encode::uri_encode;

/// Time allowed for `GetRoleCredentials`.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The token cache file for `config` under `home` (`~/.aws/sso/cache/<sha1>.json`).
pub fn cache_file(home: &Path, config: &SsoConfig) -> PathBuf {
    use sha1::Digest as _;
    let key = config.session_name.as_deref().unwrap_or(&config.start_url);
    let hash = crate::sign::hex(&sha1::Sha1::digest(key.as_bytes()));
    home.join(".aws")
        .join("sso")
        .join("cache")
        .join(format!("{hash}.json"))
}

/// The cached access token of `config`'s session, checked against `now`.
///
/// # Errors
/// [`Error::Response`] for a file that is not the cache's JSON;
/// [`CredentialsError::SsoLoginRequired`] when the token has expired and `aws sso login` must
/// run again.
pub fn parse_token(text: &[u8], now: SystemTime, config: &SsoConfig) -> Result<String, Error> {
    let doc = json::parse(text)?;
    let token = doc.required("accessToken")?;
    let expires = doc.required("expiresAt")?;
    let expires = crate::time::parse_iso8601(expires)
        .ok_or_else(|| Error::from(ResponseError::invalid("expiresAt", expires)))?;
    if now >= expires {
        let at = crate::time::to_iso8601(expires);
        return Err(login_required(config, format!("expired at {at}")));
    }
    Ok(token.to_owned())
}

/// The error asking the user to run `aws sso login` for `config`'s session.
fn login_required(config: &SsoConfig, reason: String) -> Error {
    let session = config.session_name.as_ref().unwrap_or(&config.start_url);
    Error::Credentials(Box::new(CredentialsError::SsoLoginRequired {
        session: session.clone(),
        reason,
    }))
}

/// The `GetRoleCredentials` request.
///
/// # Errors
/// [`InputError`] for an unusable endpoint or a token that is not a header value.
pub fn role_credentials_request(
    endpoint: &Endpoint,
    config: &SsoConfig,
    token: &str,
) -> Result<Request<Vec<u8>>, Error> {
    Request::get(format!(
        "{}/federation/credentials?role_name={}&account_id={}",
        endpoint.url(),
        uri_encode(&config.role_name, false),
        uri_encode(&config.account_id, false)
    ))
    .header("x-amz-sso_bearer_token", token)
    .header("accept", "application/json")
    .body(Vec::new())
    .map_err(|_| InputError::argument("sso token", "is not a valid header value").into())
}

/// Parses `{"roleCredentials": {"accessKeyId", "secretAccessKey", "sessionToken",
/// "expiration" (milliseconds since the epoch)}}`.
///
/// # Errors
/// [`Error::Response`] for anything else.
pub fn parse_role_credentials(body: &[u8]) -> Result<Credentials, Error> {
    let doc = json::parse(body)?;
    let rc = doc
        .get("roleCredentials")
        .ok_or(ResponseError::MissingField {
            field: "roleCredentials",
        })?;
    let mut c = Credentials::new(rc.required("accessKeyId")?, rc.required("secretAccessKey")?);
    if let Some(t) = rc.str("sessionToken") {
        c = c.with_session_token(t);
    }
    let ms = rc
        .integer("expiration")
        .ok_or(ResponseError::MissingField {
            field: "expiration",
        })?;
    let ms =
        u64::try_from(ms).map_err(|_| ResponseError::invalid("expiration", &ms.to_string()))?;
    let expiry = UNIX_EPOCH
        .checked_add(Duration::from_millis(ms))
        .ok_or_else(|| ResponseError::invalid("expiration", &ms.to_string()))?;
    Ok(c.with_expiry(expiry))
}

// One short-lived value per provider: boxing the large variant buys nothing.
#[allow(clippy::large_enum_variant)]
enum State {
    Read,
    WaitFile,
    Parse(Vec<u8>),
    Wait,
    Done(Option<Result<Credentials, Error>>),
}

/// Reads the cached token, then asks the portal for role credentials.
pub(crate) struct Sso {
    config: SsoConfig,
    cache: PathBuf,
    endpoint: Result<Endpoint, InputError>,
    state: State,
}

impl Sso {
    pub(crate) fn new(config: SsoConfig, home: &Path, endpoint_override: Option<&str>) -> Self {
        let endpoint = Endpoint::parse(
            &endpoint_override
                .map(str::to_owned)
                .unwrap_or_else(|| format!("https://portal.sso.{}.amazonaws.com", config.region)),
        );
        Sso {
            cache: cache_file(home, &config),
            config,
            endpoint,
            state: State::Read,
        }
    }
}

impl Machine for Sso {
    fn poll(&mut self, now: SystemTime) -> Step {
        match std::mem::replace(&mut self.state, State::Done(None)) {
            State::Read => {
                self.state = State::WaitFile;
                Step::Io(Io::ReadFile(self.cache.clone()))
            }
            State::Parse(bytes) => {
                if bytes.len() > super::io::MAX_FILE {
                    return Step::Done(Err(ResponseError::BodyTooLarge {
                        limit: super::io::MAX_FILE,
                    }
                    .into()));
                }
                let req = parse_token(&bytes, now, &self.config).and_then(|token| {
                    let endpoint = self.endpoint.clone()?;
                    role_credentials_request(&endpoint, &self.config, &token)
                });
                match req {
                    Ok(request) => {
                        self.state = State::Wait;
                        Step::Io(Io::Http {
                            request,
                            timeout: TIMEOUT,
                        })
                    }
                    Err(e) => Step::Done(Err(e)),
                }
            }
            State::Done(Some(r)) => Step::Done(r),
            State::WaitFile | State::Wait | State::Done(None) => Step::Done(Err(misuse())),
        }
    }

    fn handle(&mut self, result: IoResult) {
        self.state = match (&self.state, result) {
            // The token's expiry is checked at the next poll, which brings `now`.
            (State::WaitFile, IoResult::File(Ok(bytes))) => State::Parse(bytes),
            (State::WaitFile, IoResult::File(Err(e))) => {
                let reason = format!("is not cached at {} ({e})", self.cache.display());
                State::Done(Some(Err(login_required(&self.config, reason))))
            }
            (State::Wait, result) => {
                State::Done(Some(http_body(result).and_then(|(status, body)| {
                    if !status.is_success() {
                        return Err(status_error(status, &body));
                    }
                    parse_role_credentials(&body)
                })))
            }
            _ => State::Done(Some(Err(misuse()))),
        };
    }
}
