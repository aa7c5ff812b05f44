//! EC2 instance metadata (IMDSv2): a session token, the instance's role name, then that role's
//! credentials; or, for the region, the token then the instance's region ([`ImdsRegion`]).
//!
//! Protocol: `PUT /latest/api/token` with `x-aws-ec2-metadata-token-ttl-seconds`, then
//! `GET /latest/meta-data/iam/security-credentials/` and `.../<role>` (or
//! `GET /latest/meta-data/placement/region`) with `x-aws-ec2-metadata-token`. As the SDKs: 1 s per request and 1 attempt unless
//! `AWS_METADATA_SERVICE_TIMEOUT` / `AWS_METADATA_SERVICE_NUM_ATTEMPTS` say otherwise;
//! `AWS_EC2_METADATA_DISABLED=true` turns it off; `AWS_EC2_METADATA_SERVICE_ENDPOINT` (or
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`) moves it. An unreachable service is
//! "not configured" (not on EC2), so the chain's error lists it as skipped.
//! See <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html>.

use std::time::{Duration, SystemTime};

use http::{Method, Request, StatusCode};

use super::io::{Io, IoResult, Resolve, Step};
use super::json;
use super::machine::{Env, Machine, Provider, from_json, misuse, status_error};
use super::{Credentials, CredentialsError};
use crate::error::{Error, InputError, ResponseError, TransportErrorKind};

/// The IPv4 endpoint.
pub const ENDPOINT_V4: &str = "http://169.254.169.254";
/// The IPv6 endpoint (`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`).
pub const ENDPOINT_V6: &str = "http://[fd00:ec2::254]";
/// The token lifetime asked for, in seconds (6 hours, as the SDKs).
pub const TOKEN_TTL_SECONDS: u32 = 21_600;
/// Default time per request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

const NAME: &str = "imds";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";
const REGION_PATH: &str = "/latest/meta-data/placement/region";
/// The variables that configure IMDS.
pub(crate) const SETTINGS: &[&str] = &[
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_EC2_METADATA_V1_DISABLED",
    "AWS_METADATA_SERVICE_TIMEOUT",
    "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Token,
    Role,
    Credentials,
    Region,
}

/// What the machine ends with.
#[allow(clippy::large_enum_variant)] // one per machine, moved straight out
enum Found {
    Credentials(Credentials),
    Region(String),
}

/// The IMDS machine: credentials, or (made by [`ImdsRegion`]) the region.
pub(crate) struct Imds {
    endpoint: String,
    timeout: Duration,
    attempts: u32,
    v1_allowed: bool,
    token: Option<String>,
    role: Option<String>,
    stage: Stage,
    /// The stage after the token: `Role` for credentials, `Region` for the region.
    after_token: Stage,
    tries: u32,
    waiting: bool,
    done: Option<Result<Found, Error>>,
    finished: bool,
}

impl Imds {
    pub(crate) fn from_env(env: &Env) -> Result<Self, Error> {
        if env.flag("AWS_EC2_METADATA_DISABLED") {
            return Err(CredentialsError::not_configured(
                NAME,
                "AWS_EC2_METADATA_DISABLED is true",
            ));
        }
        let endpoint = match env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => match env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") {
                Some(m) if m.eq_ignore_ascii_case("ipv6") => ENDPOINT_V6.to_owned(),
                Some(m) if !m.eq_ignore_ascii_case("ipv4") => {
                    return Err(InputError::argument(
                        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                        "must be IPv4 or IPv6",
                    )
                    .into());
                }
                _ => ENDPOINT_V4.to_owned(),
            },
        };
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(InputError::argument(
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                "must start with http:// or https://",
            )
            .into());
        }
        let timeout = match env.get("AWS_METADATA_SERVICE_TIMEOUT") {
            None => DEFAULT_TIMEOUT,
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    InputError::argument("AWS_METADATA_SERVICE_TIMEOUT", "must be seconds > 0")
                })?,
        };
        let attempts = match env.get("AWS_METADATA_SERVICE_NUM_ATTEMPTS") {
            None => 1,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=10).contains(n))
                .ok_or_else(|| {
                    InputError::argument("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "must be 1 to 10")
                })?,
        };
        Ok(Imds {
            endpoint,
            timeout,
            attempts,
            v1_allowed: !env.flag("AWS_EC2_METADATA_V1_DISABLED"),
            token: None,
            role: None,
            stage: Stage::Token,
            after_token: Stage::Role,
            tries: 0,
            waiting: false,
            done: None,
            finished: false,
        })
    }

    fn request(&self) -> Result<Request<Vec<u8>>, Error> {
        let (method, path) = match (self.stage, &self.role) {
            (Stage::Token, _) => (Method::PUT, "/latest/api/token".to_owned()),
            (Stage::Role, _) | (Stage::Credentials, None) => {
                (Method::GET, CREDENTIALS_PATH.to_owned())
            }
            (Stage::Credentials, Some(role)) => (
                Method::GET,
                format!(
                    "{CREDENTIALS_PATH}{}",
                    crate::sign::encode::uri_encode(role, false)
                ),
            ),
            (Stage::Region, _) => (Method::GET, REGION_PATH.to_owned()),
        };
        let mut b = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.endpoint));
        if self.stage == Stage::Token {
            b = b.header("x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_SECONDS);
        } else if let Some(token) = &self.token {
            b = b.header("x-aws-ec2-metadata-token", token.as_str());
        }
        b.body(Vec::new()).map_err(|e| {
            InputError::argument("AWS_EC2_METADATA_SERVICE_ENDPOINT", e.to_string()).into()
        })
    }

    /// Moves on after a reply; `Err` ends the machine.
    fn advance(&mut self, status: StatusCode, body: &[u8]) -> Result<(), Error> {
        let text = || -> Result<&str, Error> {
            std::str::from_utf8(body)
                .map_err(|_| ResponseError::invalid("IMDS body", "not UTF-8").into())
        };
        match self.stage {
            Stage::Token => {
                if status.is_success() {
                    let token = text()?.trim();
                    if token.is_empty() || token.contains(['\r', '\n']) {
                        return Err(ResponseError::invalid("IMDS token", token).into());
                    }
                    self.token = Some(token.to_owned());
                } else if matches!(status.as_u16(), 404 | 405) && self.v1_allowed {
                    // No IMDSv2 on this endpoint: the SDKs go on with IMDSv1 (no token).
                } else {
                    return Err(status_error(status, body));
                }
                self.stage = self.after_token;
            }
            Stage::Role => {
                if status == StatusCode::NOT_FOUND {
                    return Err(CredentialsError::not_configured(
                        NAME,
                        "the instance has no IAM role",
                    ));
                }
                if !status.is_success() {
                    return Err(status_error(status, body));
                }
                let role = text()?.lines().next().unwrap_or_default().trim();
                if role.is_empty() || role.contains('/') {
                    return Err(ResponseError::invalid("IMDS role name", role).into());
                }
                self.role = Some(role.to_owned());
                self.stage = Stage::Credentials;
            }
            Stage::Credentials => {
                if !status.is_success() {
                    return Err(status_error(status, body));
                }
                let doc = json::parse(body)?;
                if let Some(code) = doc.str("Code") {
                    if code != "Success" {
                        return Err(ResponseError::invalid("Code", code).into());
                    }
                }
                self.done = Some(from_json(&doc, "Token").map(Found::Credentials));
            }
            Stage::Region => {
                if !status.is_success() {
                    return Err(status_error(status, body));
                }
                let region = text()?.trim();
                let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
                if region.is_empty() || region.len() > 64 || !region.chars().all(valid) {
                    return Err(ResponseError::invalid("IMDS region", region).into());
                }
                self.done = Some(Ok(Found::Region(region.to_owned())));
            }
        }
        Ok(())
    }

    /// The next request, or what the machine found.
    fn step(&mut self) -> Step<Found> {
        if self.finished || self.waiting {
            return Step::Done(Err(misuse()));
        }
        if let Some(done) = self.done.take() {
            self.finished = true;
            return Step::Done(done);
        }
        match self.request() {
            Ok(request) => {
                self.waiting = true;
                self.tries += 1;
                Step::Io(Io::Http {
                    request,
                    timeout: self.timeout,
                })
            }
            Err(e) => {
                self.finished = true;
                Step::Done(Err(e))
            }
        }
    }

    fn take(&mut self, result: IoResult) {
        if !self.waiting {
            self.done = Some(Err(misuse()));
            return;
        }
        self.waiting = false;
        let outcome = match result {
            IoResult::Http(Ok(resp)) => {
                let status = resp.status();
                let body = resp.into_body();
                if status.is_server_error() && self.tries < self.attempts {
                    return;
                }
                super::io::body(&body).and_then(|body| {
                    let stage = self.stage;
                    self.advance(status, body).map(|()| {
                        if self.stage != stage {
                            self.tries = 0;
                        }
                    })
                })
            }
            IoResult::Http(Err(e)) => {
                if self.tries < self.attempts {
                    return;
                }
                let unreachable = matches!(&e, Error::Transport(t)
                    if matches!(t.kind(), TransportErrorKind::Connect | TransportErrorKind::Timeout));
                if unreachable && self.stage == Stage::Token {
                    Err(CredentialsError::not_configured(
                        NAME,
                        format!("no instance metadata service at {}: {e}", self.endpoint),
                    ))
                } else {
                    Err(e)
                }
            }
            _ => Err(misuse()),
        };
        if let Err(e) = outcome {
            self.done = Some(Err(e));
        }
    }
}

impl Machine for Imds {
    fn poll(&mut self, _now: SystemTime) -> Step {
        match self.step() {
            Step::Io(io) => Step::Io(io),
            Step::Done(Ok(Found::Credentials(c))) => Step::Done(Ok(c)),
            Step::Done(Ok(Found::Region(_))) => Step::Done(Err(misuse())),
            Step::Done(Err(e)) => Step::Done(Err(e)),
        }
    }

    fn handle(&mut self, result: IoResult) {
        self.take(result);
    }
}

/// The instance's region from IMDS (`/latest/meta-data/placement/region`), as the SDKs ask
/// for it when neither the environment nor the profile names a region; the same endpoint,
/// timeouts, attempts and switches as the credentials.
#[derive(Debug, Clone)]
pub struct ImdsRegion(Env);

/// One region lookup.
struct RegionMachine(Imds);

impl ImdsRegion {
    /// The lookup configured from `lookup` (`AWS_EC2_METADATA_SERVICE_ENDPOINT`, ...); `None`
    /// when `AWS_EC2_METADATA_DISABLED` is true or the settings are unusable (the credential
    /// chain reports those).
    pub fn new(lookup: impl FnMut(&str) -> Option<String>) -> Option<Self> {
        Self::from_env(&Env::capture(lookup))
    }

    pub(crate) fn from_env(env: &Env) -> Option<Self> {
        Imds::from_env(env).ok()?;
        // Only IMDS settings are kept: no secrets to leak through `Debug`.
        Some(ImdsRegion(env.only(SETTINGS)))
    }

    /// A fresh machine for one lookup.
    pub fn lookup(&self) -> Box<dyn Resolve<Output = String>> {
        match Imds::from_env(&self.0) {
            Ok(mut imds) => {
                imds.after_token = Stage::Region;
                Box::new(RegionMachine(imds))
            }
            // Checked in `from_env`; the settings do not change.
            Err(e) => Box::new(Failed(Some(e))),
        }
    }
}

/// A lookup that fails at once.
struct Failed(Option<Error>);

impl Resolve for Failed {
    type Output = String;
    fn poll(&mut self, _now: SystemTime) -> Step<String> {
        Step::Done(Err(self.0.take().unwrap_or_else(misuse)))
    }
    fn handle(&mut self, _result: IoResult) {}
}

impl Resolve for RegionMachine {
    type Output = String;

    fn poll(&mut self, _now: SystemTime) -> Step<String> {
        match self.0.step() {
            Step::Io(io) => Step::Io(io),
            Step::Done(Ok(Found::Region(r))) => Step::Done(Ok(r)),
            Step::Done(Ok(Found::Credentials(_))) => Step::Done(Err(misuse())),
            Step::Done(Err(e)) => Step::Done(Err(e)),
        }
    }

    fn handle(&mut self, result: IoResult) {
        self.0.take(result);
    }
}

impl Provider {
    /// EC2 instance metadata (IMDSv2), configured from `lookup`.
    pub fn imds(lookup: impl FnMut(&str) -> Option<String>) -> Self {
        imds_env(&Env::capture(lookup))
    }
}

pub(crate) fn imds_env(env: &Env) -> Provider {
    match Imds::from_env(env) {
        Ok(m) => Provider::new(NAME, m),
        Err(e) => Provider::ready(NAME, Err(e)),
    }
}
