//! Container credentials: ECS task roles and EKS Pod Identity.
//!
//! `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is fetched from `http://169.254.170.2`;
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI` is fetched as given when it is https, or http to a
//! loopback address or the ECS/EKS link-local agents. The `Authorization` header comes from
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read on every fetch, since EKS rotates it), else
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`. The reply is JSON with `AccessKeyId`,
//! `SecretAccessKey`, `Token` and `Expiration`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use http::{Request, Uri};

use super::io::{Io, IoResult, Step};
use super::json;
use super::machine::{Env, Machine, Provider, from_json, http_body, misuse, status_error};
use super::{Credentials, CredentialsError};
use crate::error::{Error, InputError};

/// The ECS agent's address for relative URIs.
pub const ECS_HOST: &str = "http://169.254.170.2";
/// Time allowed for the request.
pub const TIMEOUT: Duration = Duration::from_secs(5);

const NAME: &str = "container";

// One short-lived value per provider: boxing the large variant buys nothing.
#[allow(clippy::large_enum_variant)]
enum State {
    ReadToken(PathBuf),
    WaitToken,
    Send(Option<String>),
    Wait,
    Done(Option<Result<Credentials, Error>>),
}

/// The container credential machine.
pub(crate) struct Container {
    uri: Uri,
    state: State,
}

/// True for the hosts a plain-http full URI may name.
fn allowed_http_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => true,
        Ok(ip) => {
            let s = ip.to_string();
            // ECS agent, EKS Pod Identity agent (IPv4 and IPv6).
            s == "169.254.170.2" || s == "169.254.170.23" || s == "fd00:ec2::23"
        }
        Err(_) => false,
    }
}

impl Container {
    pub(crate) fn from_env(env: &Env) -> Result<Self, Error> {
        let uri = if let Some(rel) = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            let rel = if rel.starts_with('/') {
                rel.to_owned()
            } else {
                format!("/{rel}")
            };
            format!("{ECS_HOST}{rel}")
        } else if let Some(full) = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            full.to_owned()
        } else {
            return Err(CredentialsError::not_configured(
                NAME,
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set",
            ));
        };
        let bad = |reason: &str| -> Error {
            InputError::argument("AWS_CONTAINER_CREDENTIALS_FULL_URI", reason.to_owned()).into()
        };
        let parsed: Uri = uri.parse().map_err(|_| bad("is not a valid URI"))?;
        let host = parsed.host().ok_or_else(|| bad("has no host"))?;
        match parsed.scheme_str() {
            Some("https") => {}
            Some("http") if allowed_http_host(host) => {}
            Some("http") => {
                return Err(bad(
                    "must be https, or http to a loopback address or the ECS/EKS agent",
                ));
            }
            _ => return Err(bad("must be an http or https URI")),
        }
        let state = match env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            Some(file) => State::ReadToken(PathBuf::from(file)),
            None => State::Send(
                env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
                    .map(str::to_owned),
            ),
        };
        Ok(Container { uri: parsed, state })
    }

    fn request(&self, token: Option<&str>) -> Result<Request<Vec<u8>>, Error> {
        let mut b = Request::get(self.uri.clone()).header("accept", "application/json");
        if let Some(t) = token {
            if t.contains(['\r', '\n']) {
                return Err(InputError::argument(
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                    "contains a line break",
                )
                .into());
            }
            b = b.header("authorization", t);
        }
        b.body(Vec::new()).map_err(|_| {
            InputError::argument(
                "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                "is not a valid header value",
            )
            .into()
        })
    }
}

impl Machine for Container {
    fn poll(&mut self, _now: SystemTime) -> Step {
        match std::mem::replace(&mut self.state, State::Done(None)) {
            State::ReadToken(path) => {
                self.state = State::WaitToken;
                Step::Io(Io::ReadFile(path))
            }
            State::Send(token) => match self.request(token.as_deref()) {
                Ok(request) => {
                    self.state = State::Wait;
                    Step::Io(Io::Http {
                        request,
                        timeout: TIMEOUT,
                    })
                }
                Err(e) => Step::Done(Err(e)),
            },
            State::Done(Some(result)) => Step::Done(result),
            State::WaitToken | State::Wait | State::Done(None) => Step::Done(Err(misuse())),
        }
    }

    fn handle(&mut self, result: IoResult) {
        self.state = match (&self.state, result) {
            (State::WaitToken, IoResult::File(Ok(bytes))) => {
                match super::io::file_text(bytes, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
                    Ok(t) => State::Send(Some(t.trim().to_owned())),
                    Err(e) => State::Done(Some(Err(e))),
                }
            }
            (State::WaitToken, IoResult::File(Err(e))) => {
                State::Done(Some(Err(InputError::argument(
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                    format!("cannot be read: {e}"),
                )
                .into())))
            }
            (State::Wait, result) => {
                State::Done(Some(http_body(result).and_then(|(status, body)| {
                    if !status.is_success() {
                        return Err(status_error(status, &body));
                    }
                    from_json(&json::parse(&body)?, "Token")
                })))
            }
            _ => State::Done(Some(Err(misuse()))),
        };
    }
}

impl Provider {
    /// ECS / EKS Pod Identity container credentials, configured from `lookup`.
    pub fn container(lookup: impl FnMut(&str) -> Option<String>) -> Self {
        container_env(&Env::capture(lookup))
    }
}

pub(crate) fn container_env(env: &Env) -> Provider {
    match Container::from_env(env) {
        Ok(m) => Provider::new(NAME, m),
        Err(e) => Provider::ready(NAME, Err(e)),
    }
}
