//! EC2 instance metadata (IMDSv2): a session token, the instance's role name, then that role's
//! credentials.
//!
//! Protocol: `PUT /latest/api/token` with `x-aws-ec2-metadata-token-ttl-seconds`, then
//! `GET /latest/meta-data/iam/security-credentials/` and `.../<role>` with
//! `x-aws-ec2-metadata-token`. As the SDKs: 1 s per request and 1 attempt unless
//! `AWS_METADATA_SERVICE_TIMEOUT` / `AWS_METADATA_SERVICE_NUM_ATTEMPTS` say otherwise;
//! `AWS_EC2_METADATA_DISABLED=true` turns it off; `AWS_EC2_METADATA_SERVICE_ENDPOINT` (or
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`) moves it. An unreachable service is
//! "not configured" (not on EC2), so the chain's error lists it as skipped.
//! See <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html>.

use std::time::{Duration, SystemTime};

use http::{Method, Request, StatusCode};

use super::io::{Io, IoResult, Step};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Token,
    Role,
    Credentials,
}

/// The IMDS credential machine.
pub(crate) struct Imds {
    endpoint: String,
    timeout: Duration,
    attempts: u32,
    v1_allowed: bool,
    token: Option<String>,
    role: Option<String>,
    stage: Stage,
    tries: u32,
    waiting: bool,
    done: Option<Result<Credentials, Error>>,
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
                self.stage = Stage::Role;
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
                self.done = Some(from_json(&doc, "Token"));
            }
        }
        Ok(())
    }
}

impl Machine for Imds {
    fn poll(&mut self, _now: SystemTime) -> Step {
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

    fn handle(&mut self, result: IoResult) {
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
