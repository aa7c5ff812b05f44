//! STS `AssumeRole` (signed with the source credentials) and `AssumeRoleWithWebIdentity`
//! (unsigned, with an OIDC token): the requests and the parsing of their XML replies.
//!
//! See <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html> and
//! <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html>.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use http::{Method, Request, StatusCode};

use super::io::{Io, IoResult, Step};
use super::machine::{Env, Machine, Provider, Ready, http_body, misuse};
use super::{Credentials, CredentialsError};
use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorCode, InputError, ResponseError, ServiceError};
use crate::sign::SigV4;
use crate::sign::encode::uri_encode;
use crate::xml::XmlReader;

/// Time allowed for one STS exchange.
pub const STS_TIMEOUT: Duration = Duration::from_secs(10);

/// The session name used when none is configured (the SDKs use a timestamp; ours is stable).
pub const DEFAULT_SESSION_NAME: &str = "s3-rs-session";

/// Where STS requests go and which region signs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsTarget {
    /// `https://sts.{region}.amazonaws.com` or an override.
    pub endpoint: Endpoint,
    /// The signing region.
    pub region: String,
}

impl StsTarget {
    /// The STS endpoint for `region`: `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else
    /// `endpoint_url` from the profile, else `https://sts.{region}.amazonaws.com`
    /// (`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` skips the overrides).
    ///
    /// # Errors
    /// [`InputError::InvalidEndpoint`] for an unusable override.
    pub fn resolve(
        lookup: impl FnMut(&str) -> Option<String>,
        profile_endpoint: Option<&str>,
        region: Option<&str>,
    ) -> Result<Self, InputError> {
        Self::from_env(&Env::capture(lookup), profile_endpoint, region)
    }

    pub(crate) fn from_env(
        env: &Env,
        profile_endpoint: Option<&str>,
        region: Option<&str>,
    ) -> Result<Self, InputError> {
        let region = region
            .or_else(|| env.region())
            .unwrap_or(crate::config::DEFAULT_REGION)
            .to_owned();
        let configured = env.endpoint("AWS_ENDPOINT_URL_STS", profile_endpoint);
        // China regions live under their own domain (sts.cn-north-1.amazonaws.com.cn).
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        let endpoint = match configured {
            Some(url) => Endpoint::parse(url)?,
            None => Endpoint::parse(&format!("https://sts.{region}.{suffix}"))?,
        };
        Ok(StsTarget { endpoint, region })
    }

    fn request(&self, form: &[(&str, &str)]) -> Result<Request<Vec<u8>>, Error> {
        let mut body = String::new();
        for (i, (k, v)) in form.iter().enumerate() {
            if i > 0 {
                body.push('&');
            }
            body.push_str(&uri_encode(k, false));
            body.push('=');
            body.push_str(&uri_encode(v, false));
        }
        Request::builder()
            .method(Method::POST)
            .uri(format!("{}/", self.endpoint.url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/xml")
            .body(body.into_bytes())
            .map_err(|e| InputError::argument("sts", e.to_string()).into())
    }
}

/// The parameters of one `AssumeRole` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleParams {
    /// The role to assume.
    pub role_arn: String,
    /// The session name (default [`DEFAULT_SESSION_NAME`]).
    pub session_name: Option<String>,
    /// `ExternalId`, when the role's trust policy wants one.
    pub external_id: Option<String>,
    /// `DurationSeconds` (900 to 43200).
    pub duration_seconds: Option<u32>,
}

/// The signed `AssumeRole` request, made with `source` credentials at `now`.
///
/// # Errors
/// [`InputError`] for anonymous source credentials or an unusable endpoint.
pub fn assume_role_request(
    target: &StsTarget,
    params: &AssumeRoleParams,
    source: &Credentials,
    now: SystemTime,
) -> Result<Request<Vec<u8>>, Error> {
    let duration = params.duration_seconds.map(|d| d.to_string());
    let mut form = vec![
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", params.role_arn.as_str()),
        (
            "RoleSessionName",
            params
                .session_name
                .as_deref()
                .unwrap_or(DEFAULT_SESSION_NAME),
        ),
    ];
    if let Some(id) = &params.external_id {
        form.push(("ExternalId", id));
    }
    if let Some(d) = &duration {
        form.push(("DurationSeconds", d));
    }
    let mut req = target.request(&form)?;
    let hash = crate::sign::sha256_hex(req.body());
    SigV4::new(source, &target.region, "sts", now)?
        .content_sha256_header(false)
        .sign(&mut req, &hash)?;
    Ok(req)
}

/// The unsigned `AssumeRoleWithWebIdentity` request for `token`.
///
/// # Errors
/// [`InputError`] when the request cannot be built.
pub fn web_identity_request(
    target: &StsTarget,
    role_arn: &str,
    session_name: Option<&str>,
    token: &str,
) -> Result<Request<Vec<u8>>, Error> {
    target.request(&[
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", role_arn),
        (
            "RoleSessionName",
            session_name.unwrap_or(DEFAULT_SESSION_NAME),
        ),
        ("WebIdentityToken", token),
    ])
}

/// Which STS action a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsAction {
    /// `AssumeRole`.
    AssumeRole,
    /// `AssumeRoleWithWebIdentity`.
    AssumeRoleWithWebIdentity,
}

/// Parses an STS reply: the `<Credentials>` of a 2xx, or the `<ErrorResponse>` of anything else.
///
/// # Errors
/// [`Error::Service`] for an STS error (code, message, request id); [`Error::Response`] for a
/// reply that is not the expected XML or lacks a field.
pub fn parse_response(
    action: StsAction,
    status: StatusCode,
    body: &[u8],
) -> Result<Credentials, Error> {
    super::io::body(body)?;
    if !status.is_success() {
        return Err(parse_error(status, body).into());
    }
    let (root, result) = match action {
        StsAction::AssumeRole => ("AssumeRoleResponse", "AssumeRoleResult"),
        StsAction::AssumeRoleWithWebIdentity => (
            "AssumeRoleWithWebIdentityResponse",
            "AssumeRoleWithWebIdentityResult",
        ),
    };
    let mut r = XmlReader::new(body)?;
    r.expect_root(root)?;
    let mut found = None;
    while let Some(tag) = r.next_child()? {
        if tag.name() != result.as_bytes() {
            r.skip()?;
            continue;
        }
        while let Some(tag) = r.next_child()? {
            if tag.name() != b"Credentials" {
                r.skip()?;
                continue;
            }
            let (mut id, mut secret, mut token, mut expiration) = (None, None, None, None);
            while let Some(tag) = r.next_child()? {
                let slot = match tag.name() {
                    b"AccessKeyId" => &mut id,
                    b"SecretAccessKey" => &mut secret,
                    b"SessionToken" => &mut token,
                    b"Expiration" => &mut expiration,
                    _ => {
                        r.skip()?;
                        continue;
                    }
                };
                *slot = Some(r.text()?.trim().to_owned());
            }
            let id: String = id
                .filter(|s| !s.is_empty())
                .ok_or(ResponseError::MissingField {
                    field: "AccessKeyId",
                })?;
            let secret: String =
                secret
                    .filter(|s| !s.is_empty())
                    .ok_or(ResponseError::MissingField {
                        field: "SecretAccessKey",
                    })?;
            let token: String =
                token
                    .filter(|s| !s.is_empty())
                    .ok_or(ResponseError::MissingField {
                        field: "SessionToken",
                    })?;
            let expiration: String = expiration.ok_or(ResponseError::MissingField {
                field: "Expiration",
            })?;
            let expiry = crate::time::parse_iso8601(&expiration)
                .ok_or_else(|| ResponseError::invalid("Expiration", &expiration))?;
            found = Some(
                Credentials::new(id, secret)
                    .with_session_token(token)
                    .with_expiry(expiry),
            );
        }
    }
    found.ok_or_else(|| {
        ResponseError::MissingField {
            field: "Credentials",
        }
        .into()
    })
}

/// `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
fn parse_error(status: StatusCode, body: &[u8]) -> ServiceError {
    let mut err = ServiceError::new(status, ErrorCode::from_status(status));
    let parsed = (|| -> Result<(), Error> {
        let mut r = XmlReader::new(body)?;
        if r.root()? != "ErrorResponse" {
            return Ok(());
        }
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"Error" => {
                    while let Some(tag) = r.next_child()? {
                        match tag.name() {
                            b"Code" => err.code = ErrorCode::parse(r.text()?.trim()),
                            b"Message" => err.message = r.text()?.into_owned(),
                            _ => r.skip()?,
                        }
                    }
                }
                b"RequestId" => err.request_id = Some(r.text()?.into_owned()),
                _ => r.skip()?,
            }
        }
        Ok(())
    })();
    if parsed.is_err() && err.message.is_empty() {
        err.message = crate::error::shorten(String::from_utf8_lossy(body).trim()).into_owned();
    }
    err
}

// One short-lived value per provider: boxing the large variant buys nothing.
#[allow(clippy::large_enum_variant)]
enum WebState {
    ReadToken,
    WaitToken,
    Send(String),
    WaitSts,
    Done(Option<Result<Credentials, Error>>),
}

/// `AssumeRoleWithWebIdentity` with a token read from a file.
pub(crate) struct WebIdentity {
    target: StsTarget,
    role_arn: String,
    session_name: Option<String>,
    token_file: PathBuf,
    state: WebState,
}

impl WebIdentity {
    pub(crate) fn new(
        target: StsTarget,
        role_arn: String,
        session_name: Option<String>,
        token_file: PathBuf,
    ) -> Self {
        WebIdentity {
            target,
            role_arn,
            session_name,
            token_file,
            state: WebState::ReadToken,
        }
    }
}

impl Machine for WebIdentity {
    fn poll(&mut self, _now: SystemTime) -> Step {
        match std::mem::replace(&mut self.state, WebState::Done(None)) {
            WebState::ReadToken => {
                self.state = WebState::WaitToken;
                Step::Io(Io::ReadFile(self.token_file.clone()))
            }
            WebState::Send(token) => {
                match web_identity_request(
                    &self.target,
                    &self.role_arn,
                    self.session_name.as_deref(),
                    &token,
                ) {
                    Ok(request) => {
                        self.state = WebState::WaitSts;
                        Step::Io(Io::Http {
                            request,
                            timeout: STS_TIMEOUT,
                        })
                    }
                    Err(e) => Step::Done(Err(e)),
                }
            }
            WebState::Done(Some(result)) => Step::Done(result),
            WebState::WaitToken | WebState::WaitSts | WebState::Done(None) => {
                Step::Done(Err(misuse()))
            }
        }
    }

    fn handle(&mut self, result: IoResult) {
        self.state = match (&self.state, result) {
            (WebState::WaitToken, IoResult::File(Ok(bytes))) => {
                match super::io::file_text(bytes, "web identity token file") {
                    Ok(t) if !t.trim().is_empty() => WebState::Send(t.trim().to_owned()),
                    Ok(_) => WebState::Done(Some(Err(InputError::argument(
                        "web_identity_token_file",
                        format!("{} is empty", self.token_file.display()),
                    )
                    .into()))),
                    Err(e) => WebState::Done(Some(Err(e))),
                }
            }
            (WebState::WaitToken, IoResult::File(Err(e))) => {
                WebState::Done(Some(Err(InputError::argument(
                    "web_identity_token_file",
                    format!("cannot read {}: {e}", self.token_file.display()),
                )
                .into())))
            }
            (WebState::WaitSts, result) => {
                WebState::Done(Some(http_body(result).and_then(|(status, body)| {
                    parse_response(StsAction::AssumeRoleWithWebIdentity, status, &body)
                })))
            }
            _ => WebState::Done(Some(Err(misuse()))),
        };
    }
}

// One short-lived value per provider: boxing the large variant buys nothing.
#[allow(clippy::large_enum_variant)]
enum RoleState {
    Source(Box<dyn Machine>),
    WaitSts,
    Done(Option<Result<Credentials, Error>>),
}

/// `AssumeRole` signed with the credentials another machine produces.
pub(crate) struct AssumeRoleMachine {
    target: StsTarget,
    params: AssumeRoleParams,
    state: RoleState,
}

impl AssumeRoleMachine {
    pub(crate) fn new(
        target: StsTarget,
        params: AssumeRoleParams,
        source: Box<dyn Machine>,
    ) -> Self {
        AssumeRoleMachine {
            target,
            params,
            state: RoleState::Source(source),
        }
    }
}

impl Machine for AssumeRoleMachine {
    fn poll(&mut self, now: SystemTime) -> Step {
        match &mut self.state {
            RoleState::Source(source) => match source.poll(now) {
                Step::Io(io) => Step::Io(io),
                Step::Done(Err(e)) => {
                    self.state = RoleState::Done(None);
                    Step::Done(Err(e))
                }
                Step::Done(Ok(creds)) => {
                    if creds.is_expired(now) {
                        self.state = RoleState::Done(None);
                        return Step::Done(Err(CredentialsError::Expired {
                            provider: creds.provider().unwrap_or("source profile"),
                            expiry: creds.expiry().unwrap_or(now),
                        }
                        .into()));
                    }
                    match assume_role_request(&self.target, &self.params, &creds, now) {
                        Ok(request) => {
                            self.state = RoleState::WaitSts;
                            Step::Io(Io::Http {
                                request,
                                timeout: STS_TIMEOUT,
                            })
                        }
                        Err(e) => {
                            self.state = RoleState::Done(None);
                            Step::Done(Err(e))
                        }
                    }
                }
            },
            RoleState::Done(result) => Step::Done(result.take().unwrap_or_else(|| Err(misuse()))),
            RoleState::WaitSts => Step::Done(Err(misuse())),
        }
    }

    fn handle(&mut self, result: IoResult) {
        match &mut self.state {
            RoleState::Source(source) => source.handle(result),
            RoleState::WaitSts => {
                self.state = RoleState::Done(Some(http_body(result).and_then(|(status, body)| {
                    parse_response(StsAction::AssumeRole, status, &body)
                })));
            }
            RoleState::Done(_) => {}
        }
    }
}

impl Provider {
    /// STS `AssumeRole` at `target`, signed with `source`: the role's temporary credentials.
    /// `DurationSeconds` is sent as given (AWS wants 900 or more; Ceph RGW accepts down to
    /// its `rgw sts min session duration`).
    pub fn assume_role(target: StsTarget, params: AssumeRoleParams, source: Credentials) -> Self {
        let source: Box<dyn Machine> = Box::new(Ready(Some(Ok(source))));
        Provider::new(
            "assume-role",
            AssumeRoleMachine::new(target, params, source),
        )
    }

    /// Web identity from the environment: `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`,
    /// `AWS_ROLE_SESSION_NAME`, exchanged with STS `AssumeRoleWithWebIdentity` (EKS IRSA,
    /// GitHub OIDC). `region` and `profile_endpoint` come from the profile, when there is one.
    pub fn web_identity(
        lookup: impl FnMut(&str) -> Option<String>,
        region: Option<&str>,
        profile_endpoint: Option<&str>,
    ) -> Self {
        web_identity_env(&Env::capture(lookup), region, profile_endpoint)
    }
}

pub(crate) fn web_identity_env(
    env: &Env,
    region: Option<&str>,
    profile_endpoint: Option<&str>,
) -> Provider {
    const NAME: &str = "web-identity";
    let (Some(file), Some(role)) = (
        env.get("AWS_WEB_IDENTITY_TOKEN_FILE"),
        env.get("AWS_ROLE_ARN"),
    ) else {
        return Provider::ready(
            NAME,
            Err(CredentialsError::not_configured(
                NAME,
                "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not both set",
            )),
        );
    };
    match StsTarget::from_env(env, profile_endpoint, region) {
        Ok(target) => Provider::new(
            NAME,
            WebIdentity::new(
                target,
                role.to_owned(),
                env.get("AWS_ROLE_SESSION_NAME").map(str::to_owned),
                PathBuf::from(file),
            ),
        ),
        Err(e) => Provider::ready(NAME, Err(e.into())),
    }
}
