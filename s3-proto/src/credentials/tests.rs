//! Every provider and the chain driven by scripted IO, with a virtual clock.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{Method, Response};

use super::cache::{CredentialsCache, Lookup, SharedCache};
use super::chain::DefaultChain;
use super::sso;
use super::*;
use crate::error::{Error, ErrorCode, ResponseError, TransportError, TransportErrorKind};

/// 2024-01-01T00:00:00Z.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_067_200)
}

fn env(vars: &[(&str, &str)]) -> impl FnMut(&str) -> Option<String> + use<> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn http(status: u16, body: &str) -> IoResult {
    IoResult::Http(Ok(Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()))
}

fn file(text: &str) -> IoResult {
    IoResult::File(Ok(text.as_bytes().to_vec()))
}

fn missing() -> IoResult {
    IoResult::File(Err(std::io::ErrorKind::NotFound.into()))
}

fn timeout() -> IoResult {
    IoResult::Http(Err(TransportError::new(
        TransportErrorKind::Timeout,
        "1s fired",
    )
    .into()))
}

/// Something that can be polled like a provider.
trait Drive {
    fn poll(&mut self, now: SystemTime) -> Step;
    fn handle(&mut self, r: IoResult);
}
impl Drive for Provider {
    fn poll(&mut self, now: SystemTime) -> Step {
        Provider::poll(self, now)
    }
    fn handle(&mut self, r: IoResult) {
        Provider::handle(self, r);
    }
}
impl Drive for DefaultChain {
    fn poll(&mut self, now: SystemTime) -> Step {
        DefaultChain::poll(self, now)
    }
    fn handle(&mut self, r: IoResult) {
        DefaultChain::handle(self, r);
    }
}

/// Runs `m`, answering each IO with `answer` (which also checks the request), and returns the
/// result with every IO seen.
fn run(
    m: &mut impl Drive,
    mut answer: impl FnMut(&Io) -> IoResult,
) -> (Result<Credentials, Error>, Vec<String>) {
    let mut seen = Vec::new();
    for _ in 0..50 {
        match m.poll(t0()) {
            Step::Io(io) => {
                seen.push(describe(&io));
                let r = answer(&io);
                m.handle(r);
            }
            Step::Done(r) => return (r, seen),
        }
    }
    panic!("machine did not finish: {seen:?}");
}

fn describe(io: &Io) -> String {
    match io {
        Io::Http { request, .. } => format!("{} {}", request.method(), request.uri()),
        Io::ReadFile(p) => format!("read {}", p.display()),
        Io::Run { command, .. } => format!("run {command}"),
    }
}

fn body(io: &Io) -> String {
    match io {
        Io::Http { request, .. } => String::from_utf8(request.body().clone()).unwrap(),
        _ => String::new(),
    }
}

fn header<'a>(io: &'a Io, name: &str) -> Option<&'a str> {
    match io {
        Io::Http { request, .. } => request.headers().get(name).map(|v| v.to_str().unwrap()),
        _ => None,
    }
}

fn sts_xml(action: &str, id: &str, expiration: &str) -> String {
    format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <{action}Result><SubjectFromWebIdentityToken>sub</SubjectFromWebIdentityToken>\
         <Credentials><AccessKeyId>{id}</AccessKeyId><SecretAccessKey>secret-{id}</SecretAccessKey>\
         <SessionToken>token-{id}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
         <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn><AssumedRoleId>X:s</AssumedRoleId></AssumedRoleUser>\
         </{action}Result><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></{action}Response>"
    )
}

const LATER: &str = "2024-01-01T01:00:00Z";

fn credentials_error(e: &Error) -> &CredentialsError {
    match e {
        Error::Credentials(c) => c,
        other => panic!("not a credentials error: {other:?}"),
    }
}

fn failed_source(e: &Error) -> &Error {
    match credentials_error(e) {
        CredentialsError::Failed { source, .. } => source,
        other => panic!("not a failure: {other:?}"),
    }
}

#[test]
fn environment_provider() {
    let mut p = Provider::environment(env(&[
        ("AWS_ACCESS_KEY_ID", "AK"),
        ("AWS_SECRET_ACCESS_KEY", "SK"),
        ("AWS_SESSION_TOKEN", "TK"),
    ]));
    let (c, seen) = run(&mut p, |_| unreachable!());
    let c = c.unwrap();
    assert!(seen.is_empty());
    assert_eq!(c.provider(), Some("environment"));
    assert_eq!(c.session_token().unwrap().expose(), "TK");
    let (e, _) = run(&mut Provider::environment(env(&[])), |_| unreachable!());
    assert!(credentials_error(&e.unwrap_err()).is_not_configured());
    let (e, _) = run(
        &mut Provider::environment(env(&[("AWS_ACCESS_KEY_ID", "AK")])),
        |_| unreachable!(),
    );
    assert!(e.unwrap_err().to_string().contains("AWS_SECRET_ACCESS_KEY"));
}

#[test]
fn web_identity_from_the_environment() {
    let vars = [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
        ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
        ("AWS_ROLE_SESSION_NAME", "sess"),
        ("AWS_REGION", "eu-west-1"),
    ];
    let mut p = Provider::web_identity(env(&vars), None, None);
    let (c, seen) = run(&mut p, |io| match io {
        Io::ReadFile(path) => {
            assert_eq!(path, &PathBuf::from("/var/run/token"));
            file("eyJ.token.sig\n")
        }
        Io::Http { request, .. } => {
            assert_eq!(request.method(), Method::POST);
            assert!(request.headers().get("authorization").is_none());
            let b = body(io);
            assert!(b.contains("Action=AssumeRoleWithWebIdentity"), "{b}");
            assert!(
                b.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"),
                "{b}"
            );
            assert!(b.contains("RoleSessionName=sess"), "{b}");
            assert!(
                b.contains("WebIdentityToken=eyJ.token.sig&")
                    || b.ends_with("WebIdentityToken=eyJ.token.sig"),
                "{b}"
            );
            http(200, &sts_xml("AssumeRoleWithWebIdentity", "WEBID", LATER))
        }
        _ => unreachable!(),
    });
    let c = c.unwrap();
    assert_eq!(seen[1], "POST https://sts.eu-west-1.amazonaws.com/");
    let cn = sts::StsTarget::resolve(env(&[("AWS_REGION", "cn-north-1")]), None, None).unwrap();
    assert_eq!(cn.endpoint.url(), "https://sts.cn-north-1.amazonaws.com.cn");
    assert_eq!(c.access_key(), Some("WEBID"));
    assert_eq!(c.provider(), Some("web-identity"));
    assert_eq!(c.expiry(), crate::time::parse_iso8601(LATER));

    // AWS_ENDPOINT_URL_STS beats AWS_ENDPOINT_URL.
    let mut vars = vars.to_vec();
    vars.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:7480"));
    let (_, seen) = run(
        &mut Provider::web_identity(env(&vars), None, None),
        |io| match io {
            Io::ReadFile(_) => file("tok"),
            _ => http(200, &sts_xml("AssumeRoleWithWebIdentity", "X", LATER)),
        },
    );
    assert_eq!(seen[1], "POST http://127.0.0.1:7480/");
    vars.push(("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:8000"));
    let (_, seen) = run(
        &mut Provider::web_identity(env(&vars), None, None),
        |io| match io {
            Io::ReadFile(_) => file("tok"),
            _ => http(200, &sts_xml("AssumeRoleWithWebIdentity", "X", LATER)),
        },
    );
    assert_eq!(seen[1], "POST http://127.0.0.1:8000/");
}

#[test]
fn sts_errors_and_hostile_replies() {
    let vars = [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
        ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
    ];
    let attempt = |reply: IoResult| {
        let mut reply = Some(reply);
        run(
            &mut Provider::web_identity(env(&vars), None, None),
            move |io| match io {
                Io::ReadFile(_) => file("tok"),
                _ => reply.take().unwrap(),
            },
        )
        .0
        .unwrap_err()
    };
    let denied = attempt(http(
        403,
        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
         <Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error>\
         <RequestId>r-1</RequestId></ErrorResponse>",
    ));
    let service = failed_source(&denied).as_service().unwrap();
    assert_eq!(service.code, ErrorCode::AccessDenied);
    assert_eq!(service.request_id.as_deref(), Some("r-1"));
    assert!(denied.to_string().contains("web-identity"), "{denied}");
    assert!(denied.to_string().contains("Not authorized"), "{denied}");

    for garbage in [
        "<html>oops</html>",
        "not xml at all",
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>",
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>\
         <AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><Expiration>2030-01-01T00:00:00Z</Expiration>\
         </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>\
         <AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>\
         <Expiration>tomorrow</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
    ] {
        let e = attempt(http(200, garbage));
        assert!(
            matches!(failed_source(&e), Error::Response(_)),
            "{garbage}: {e:?}"
        );
    }
    let huge = "x".repeat(MAX_RESPONSE + 1);
    let e = attempt(http(200, &huge));
    assert!(matches!(
        failed_source(&e),
        Error::Response(ResponseError::BodyTooLarge { .. })
    ));
    let e = attempt(http(
        200,
        &sts_xml("AssumeRoleWithWebIdentity", "OLD", "2023-12-31T00:00:00Z"),
    ));
    assert!(
        matches!(credentials_error(&e), CredentialsError::Expired { .. }),
        "{e}"
    );
    let e = attempt(timeout());
    assert!(e.is_retryable());
}

const PROFILE_CONFIG: &str = "\
[default]
region = eu-central-1

[profile top]
role_arn = arn:aws:iam::1:role/top
source_profile = middle
role_session_name = top-session
external_id = ext-1
duration_seconds = 1800
region = us-west-2

[profile middle]
role_arn = arn:aws:iam::1:role/middle
source_profile = base

[profile base]
aws_access_key_id = BASEKEY
aws_secret_access_key = basesecret

[profile loop-a]
role_arn = arn:aws:iam::1:role/a
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::1:role/b
source_profile = loop-a

[profile self]
role_arn = arn:aws:iam::1:role/self
source_profile = self
aws_access_key_id = SELFKEY
aws_secret_access_key = selfsecret

[profile imds-role]
role_arn = arn:aws:iam::1:role/fromimds
credential_source = Ec2InstanceMetadata

[profile bad-source]
role_arn = arn:aws:iam::1:role/x
credential_source = Magic

[profile process]
credential_process = /usr/bin/creds --profile x

[profile sso]
sso_session = my-sso
sso_account_id = 111122223333
sso_role_name = Reader

[sso-session my-sso]
sso_start_url = https://d-123.awsapps.com/start
sso_region = us-east-2

[profile sso-local]
sso_session = my-sso
sso_account_id = 111122223333
sso_role_name = Reader
services = local
endpoint_url = http://127.0.0.1:7000

[services local]
sso =
  endpoint_url = http://127.0.0.1:7001
";

fn chain_for(profile: &str) -> DefaultChain {
    DefaultChain::new(env(&[
        ("HOME", "/home/u"),
        ("AWS_PROFILE", profile),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]))
}

fn files(io: &Io) -> Option<IoResult> {
    match io {
        Io::ReadFile(p) if p.ends_with(".aws/config") => Some(file(PROFILE_CONFIG)),
        Io::ReadFile(p) if p.ends_with(".aws/credentials") => Some(missing()),
        _ => None,
    }
}

#[test]
fn source_profile_chain_assumes_each_role_with_the_previous_credentials() {
    let mut calls = 0;
    let (c, seen) = run(&mut chain_for("top"), |io| {
        if let Some(r) = files(io) {
            return r;
        }
        calls += 1;
        let auth = header(io, "authorization").unwrap();
        let b = body(io);
        assert!(b.contains("Action=AssumeRole&"), "{b}");
        if calls == 1 {
            // The middle role first, signed with the base profile's static keys.
            assert!(
                auth.contains("Credential=BASEKEY/20240101/us-west-2/sts/aws4_request"),
                "{auth}"
            );
            assert!(b.contains("role%2Fmiddle"), "{b}");
            assert!(header(io, "x-amz-security-token").is_none());
            http(200, &sts_xml("AssumeRole", "MIDKEY", LATER))
        } else {
            assert!(auth.contains("Credential=MIDKEY/"), "{auth}");
            assert_eq!(header(io, "x-amz-security-token"), Some("token-MIDKEY"));
            assert!(b.contains("role%2Ftop"), "{b}");
            assert!(b.contains("RoleSessionName=top-session"), "{b}");
            assert!(b.contains("ExternalId=ext-1"), "{b}");
            assert!(b.contains("DurationSeconds=1800"), "{b}");
            http(200, &sts_xml("AssumeRole", "TOPKEY", LATER))
        }
    });
    let c = c.unwrap();
    assert_eq!(calls, 2);
    assert_eq!(c.access_key(), Some("TOPKEY"));
    assert_eq!(c.provider(), Some("profile (assume role)"));
    assert!(
        seen.iter()
            .any(|s| s == "POST https://sts.us-west-2.amazonaws.com/"),
        "{seen:?}"
    );
}

#[test]
fn source_profile_cycles_and_bad_sources_name_the_key() {
    let (e, _) = run(&mut chain_for("loop-a"), |io| files(io).unwrap());
    let msg = e.unwrap_err().to_string();
    assert!(
        msg.contains("source_profile") && msg.contains("cycle"),
        "{msg}"
    );

    let (e, _) = run(&mut chain_for("bad-source"), |io| files(io).unwrap());
    let msg = e.unwrap_err().to_string();
    assert!(
        msg.contains("credential_source") && msg.contains("Magic"),
        "{msg}"
    );

    // A profile may name itself to assume a role with its own keys.
    let (c, _) = run(&mut chain_for("self"), |io| {
        files(io).unwrap_or_else(|| {
            assert!(header(io, "authorization").unwrap().contains("SELFKEY"));
            http(200, &sts_xml("AssumeRole", "R", LATER))
        })
    });
    assert_eq!(c.unwrap().access_key(), Some("R"));

    let (e, _) = run(&mut chain_for("nope"), |io| files(io).unwrap());
    let msg = e.unwrap_err().to_string();
    assert!(
        msg.contains("profile nope") && msg.contains("does not exist"),
        "{msg}"
    );
}

#[test]
fn credential_source_imds_then_assume_role() {
    let (c, seen) = run(
        &mut DefaultChain::new(env(&[("HOME", "/home/u"), ("AWS_PROFILE", "imds-role")])),
        |io| {
            if let Some(r) = files(io) {
                return r;
            }
            let d = describe(io);
            if d.starts_with("PUT") {
                http(200, "imds-token")
            } else if d.ends_with("security-credentials/") {
                http(200, "instance-role\n")
            } else if d.ends_with("instance-role") {
                http(200, &imds_json("IMDSKEY", LATER))
            } else {
                assert!(header(io, "authorization").unwrap().contains("IMDSKEY"));
                http(200, &sts_xml("AssumeRole", "ROLEKEY", LATER))
            }
        },
    );
    assert_eq!(c.unwrap().access_key(), Some("ROLEKEY"));
    assert_eq!(seen.len(), 6, "{seen:?}");
}

fn imds_json(id: &str, expiration: &str) -> String {
    format!(
        r#"{{"Code":"Success","LastUpdated":"2024-01-01T00:00:00Z","Type":"AWS-HMAC",
            "AccessKeyId":"{id}","SecretAccessKey":"s-{id}","Token":"t-{id}","Expiration":"{expiration}"}}"#
    )
}

#[test]
fn imds_v2_protocol() {
    let mut p = Provider::imds(env(&[]));
    let (c, seen) = run(&mut p, |io| {
        let Io::Http { request, timeout } = io else {
            unreachable!()
        };
        assert_eq!(*timeout, Duration::from_secs(1));
        match request.method().as_str() {
            "PUT" => {
                assert_eq!(
                    header(io, "x-aws-ec2-metadata-token-ttl-seconds"),
                    Some("21600")
                );
                http(200, "TOKEN123")
            }
            _ => {
                assert_eq!(header(io, "x-aws-ec2-metadata-token"), Some("TOKEN123"));
                if request.uri().path().ends_with('/') {
                    http(200, "my-role")
                } else {
                    http(200, &imds_json("IK", LATER))
                }
            }
        }
    });
    assert_eq!(
        seen,
        [
            "PUT http://169.254.169.254/latest/api/token",
            "GET http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "GET http://169.254.169.254/latest/meta-data/iam/security-credentials/my-role",
        ]
    );
    let c = c.unwrap();
    assert_eq!(c.provider(), Some("imds"));
    assert_eq!(c.session_token().unwrap().expose(), "t-IK");

    // Overrides, attempts, unreachable, no role, garbage.
    let vars = [
        (
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            "http://127.0.0.1:1338/",
        ),
        ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2"),
    ];
    let (e, seen) = run(&mut Provider::imds(env(&vars)), |_| timeout());
    assert_eq!(seen.len(), 2);
    assert!(seen[0].starts_with("PUT http://127.0.0.1:1338/latest"));
    assert!(credentials_error(&e.unwrap_err()).is_not_configured());

    let (e, _) = run(&mut Provider::imds(env(&[])), |io| {
        if describe(io).starts_with("PUT") {
            http(200, "t")
        } else {
            http(404, "")
        }
    });
    assert!(credentials_error(&e.unwrap_err()).is_not_configured());

    for garbage in [
        "{",
        "[]",
        r#"{"Code":"Failure"}"#,
        r#"{"AccessKeyId": 5}"#,
        "\u{0}\u{1}",
    ] {
        let (e, _) = run(&mut Provider::imds(env(&[])), |io| {
            let d = describe(io);
            if d.starts_with("PUT") {
                http(200, "t")
            } else if d.ends_with('/') {
                http(200, "role")
            } else {
                http(200, garbage)
            }
        });
        let e = e.unwrap_err();
        assert!(
            matches!(failed_source(&e), Error::Response(_)),
            "{garbage}: {e:?}"
        );
    }

    // IMDSv1 fallback when the token endpoint does not exist.
    let (c, seen) = run(&mut Provider::imds(env(&[])), |io| {
        let d = describe(io);
        if d.starts_with("PUT") {
            http(404, "")
        } else {
            assert!(header(io, "x-aws-ec2-metadata-token").is_none());
            if d.ends_with('/') {
                http(200, "r")
            } else {
                http(200, &imds_json("V1", LATER))
            }
        }
    });
    assert_eq!(c.unwrap().access_key(), Some("V1"), "{seen:?}");

    let (e, seen) = run(
        &mut Provider::imds(env(&[("AWS_EC2_METADATA_DISABLED", "TRUE")])),
        |_| unreachable!(),
    );
    assert!(seen.is_empty());
    assert!(credentials_error(&e.unwrap_err()).is_not_configured());
}

#[test]
fn container_credentials() {
    let vars = [
        (
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "/v2/credentials/abc",
        ),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            "/var/run/secrets/pod-identity/token",
        ),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored"),
    ];
    let (c, seen) = run(&mut Provider::container(env(&vars)), |io| match io {
        Io::ReadFile(_) => file("pod-token\n"),
        _ => {
            assert_eq!(header(io, "authorization"), Some("pod-token"));
            http(
                200,
                r#"{"AccessKeyId":"CK","SecretAccessKey":"cs","Token":"ct","Expiration":"2024-01-01T01:00:00Z","AccountId":"1"}"#,
            )
        }
    });
    assert_eq!(seen[1], "GET http://169.254.170.2/v2/credentials/abc");
    let c = c.unwrap();
    assert_eq!(c.provider(), Some("container"));
    assert_eq!(c.access_key(), Some("CK"));

    let full = |uri: &str| {
        let vars = [
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok"),
        ];
        run(&mut Provider::container(env(&vars)), |io| {
            assert_eq!(header(io, "authorization"), Some("tok"));
            http(200, r#"{"AccessKeyId":"F","SecretAccessKey":"s"}"#)
        })
    };
    assert!(full("http://169.254.170.23/v1/credentials").0.is_ok());
    assert!(full("http://127.0.0.1:8080/creds").0.is_ok());
    assert!(full("https://creds.example.com/x").0.is_ok());
    let e = full("http://evil.example.com/creds").0.unwrap_err();
    assert!(
        e.to_string().contains("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        "{e}"
    );

    let (e, _) = run(&mut Provider::container(env(&vars[..1])), |_| {
        http(200, r#"{"AccessKeyId":"X"}"#)
    });
    let e = e.unwrap_err();
    assert!(matches!(
        failed_source(&e),
        Error::Response(ResponseError::MissingField {
            field: "SecretAccessKey"
        })
    ));
    let (e, _) = run(&mut Provider::container(env(&vars[..1])), |_| {
        http(500, "agent down")
    });
    assert!(e.unwrap_err().to_string().contains("agent down"));
}

#[test]
fn credential_process_output() {
    let run_with = |out: Result<ProcessOutput, Error>| {
        let mut out = Some(out);
        run(&mut chain_for("process"), move |io| {
            files(io).unwrap_or_else(|| {
                let Io::Run { command, .. } = io else {
                    unreachable!()
                };
                assert_eq!(command, "/usr/bin/creds --profile x");
                IoResult::Run(out.take().unwrap())
            })
        })
        .0
    };
    let ok = |stdout: &str| {
        Ok(ProcessOutput {
            status: Some(0),
            stdout: stdout.as_bytes().to_vec(),
        })
    };
    let c = run_with(ok(
        r#"{"Version": 1, "AccessKeyId": "PK", "SecretAccessKey": "ps", "SessionToken": "pt", "Expiration": "2024-01-01T02:00:00Z"}"#,
    ))
    .unwrap();
    assert_eq!(c.access_key(), Some("PK"));
    assert_eq!(c.provider(), Some("profile (credential_process)"));
    let c = run_with(ok(
        r#"{"Version": 1, "AccessKeyId": "PK", "SecretAccessKey": "ps"}"#,
    ))
    .unwrap();
    assert_eq!(c.expiry(), None);

    for junk in [
        "",
        "Password:",
        r#"{"Version": 2, "AccessKeyId": "PK", "SecretAccessKey": "ps"}"#,
        r#"{"AccessKeyId": "PK", "SecretAccessKey": "ps"}"#,
        r#"{"Version": 1, "AccessKeyId": "PK"}"#,
    ] {
        let e = run_with(ok(junk)).unwrap_err();
        assert!(
            matches!(failed_source(&e), Error::Response(_)),
            "{junk}: {e:?}"
        );
    }
    let e = run_with(Ok(ProcessOutput {
        status: Some(3),
        stdout: Vec::new(),
    }))
    .unwrap_err();
    assert!(e.to_string().contains("status 3"), "{e}");
    let e = run_with(Err(
        TransportError::new(TransportErrorKind::Timeout, "60s").into()
    ))
    .unwrap_err();
    assert!(matches!(failed_source(&e), Error::Transport(_)));
    let e = run_with(ok(r#"{"Version": 1, "AccessKeyId": "PK", "SecretAccessKey": "ps", "Expiration": "2020-01-01T00:00:00Z"}"#)).unwrap_err();
    assert!(matches!(
        credentials_error(&e),
        CredentialsError::Expired { .. }
    ));
}

#[test]
fn sso_endpoint_is_chosen_the_sdk_way() {
    // Environment first (service-specific, then global), then the profile's services
    // section, then its endpoint_url; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS drops them all.
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "http://127.0.0.1:7001"),
        (
            &[("AWS_ENDPOINT_URL", "http://127.0.0.1:7002")],
            "http://127.0.0.1:7002",
        ),
        (
            &[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:7002"),
                ("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:7003"),
            ],
            "http://127.0.0.1:7003",
        ),
        (
            &[("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")],
            "https://portal.sso.us-east-2.amazonaws.com",
        ),
    ];
    for (extra, want) in cases {
        let mut vars = vec![
            ("HOME", "/home/u"),
            ("AWS_PROFILE", "sso-local"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ];
        vars.extend_from_slice(extra);
        let (_, seen) = run(&mut DefaultChain::new(env(&vars)), |io| {
            files(io).unwrap_or_else(|| match io {
                Io::ReadFile(_) => {
                    file(r#"{"accessToken":"t","expiresAt":"2024-01-01T08:00:00Z"}"#)
                }
                _ => http(403, "no"),
            })
        });
        let url = format!("GET {want}/federation/credentials?");
        assert!(
            seen.last().unwrap().starts_with(&url),
            "{extra:?}: {seen:?}"
        );
    }
}

#[test]
fn sso_cached_token_and_role_credentials() {
    let cache = "/home/u/.aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json";
    let answer = |token_file: &'static str| {
        move |io: &Io| {
            files(io).unwrap_or_else(|| match io {
                Io::ReadFile(p) => {
                    assert_eq!(p, &PathBuf::from(cache));
                    file(token_file)
                }
                _ => {
                    assert_eq!(header(io, "x-amz-sso_bearer_token"), Some("ssotok"));
                    http(
                        200,
                        r#"{"roleCredentials":{"accessKeyId":"SSOK","secretAccessKey":"ss","sessionToken":"st","expiration":1704070800000}}"#,
                    )
                }
            })
        }
    };
    let (c, seen) = run(
        &mut chain_for("sso"),
        answer(
            r#"{"accessToken":"ssotok","expiresAt":"2024-01-01T08:00:00Z","region":"us-east-2"}"#,
        ),
    );
    let c = c.unwrap();
    assert_eq!(c.access_key(), Some("SSOK"));
    assert_eq!(c.provider(), Some("profile (sso)"));
    assert_eq!(
        c.expiry(),
        Some(UNIX_EPOCH + Duration::from_secs(1_704_070_800))
    );
    assert_eq!(
        seen.last().unwrap(),
        "GET https://portal.sso.us-east-2.amazonaws.com/federation/credentials?role_name=Reader&account_id=111122223333"
    );

    let (e, _) = run(
        &mut chain_for("sso"),
        answer(r#"{"accessToken":"ssotok","expiresAt":"2023-01-01T08:00:00Z"}"#),
    );
    let e = e.unwrap_err();
    assert!(
        matches!(
            credentials_error(&e),
            CredentialsError::SsoLoginRequired { .. }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(msg.contains("aws sso login"), "{msg}");
    let (e, _) = run(&mut chain_for("sso"), answer("{garbage"));
    assert!(e.is_err());

    let legacy = crate::profile::SsoConfig {
        session_name: None,
        start_url: "https://d-123.awsapps.com/start".to_owned(),
        region: "us-east-1".to_owned(),
        account_id: "1".to_owned(),
        role_name: "r".to_owned(),
    };
    assert!(
        sso::cache_file(std::path::Path::new("/h"), &legacy)
            .ends_with("2b829a45f04c9828cb45b7d092d8e4aa30818393.json")
    );
    assert!(
        sso::parse_role_credentials(
            br#"{"roleCredentials":{"accessKeyId":"a","secretAccessKey":"b","expiration":-5}}"#
        )
        .is_err()
    );
}

#[test]
fn chain_order_and_the_list_of_skipped_providers() {
    // Environment keys win over everything, and no file is even read.
    let mut chain = DefaultChain::new(env(&[
        ("AWS_ACCESS_KEY_ID", "ENVKEY"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
        ("AWS_PROFILE", "top"),
        ("HOME", "/home/u"),
    ]));
    let (c, seen) = run(&mut chain, |_| unreachable!());
    assert_eq!(c.unwrap().provider(), Some("environment"));
    assert!(seen.is_empty());

    // Web identity from the environment comes before the profile.
    let (c, _) = run(
        &mut DefaultChain::new(env(&[
            ("HOME", "/home/u"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
        ])),
        |io| match io {
            Io::ReadFile(p) if p.ends_with("t") => file("tok"),
            Io::ReadFile(_) => files(io).unwrap(),
            _ => http(200, &sts_xml("AssumeRoleWithWebIdentity", "W", LATER)),
        },
    );
    assert_eq!(c.unwrap().provider(), Some("web-identity"));

    // The default profile has no keys; container is next.
    let (c, _) = run(
        &mut DefaultChain::new(env(&[
            ("HOME", "/home/u"),
            ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"),
        ])),
        |io| files(io).unwrap_or_else(|| http(200, r#"{"AccessKeyId":"C","SecretAccessKey":"s"}"#)),
    );
    assert_eq!(c.unwrap().provider(), Some("container"));

    // The profile's IMDS settings apply when the variables are unset.
    let (_, seen) = run(
        &mut DefaultChain::new(env(&[("HOME", "/home/u")])),
        |io| match io {
            Io::ReadFile(p) if p.ends_with("config") => file(
                "[default]\nec2_metadata_service_endpoint = http://127.0.0.1:1338\nmetadata_service_num_attempts = 2\n",
            ),
            Io::ReadFile(_) => missing(),
            _ => timeout(),
        },
    );
    assert_eq!(
        seen[2..],
        [
            "PUT http://127.0.0.1:1338/latest/api/token",
            "PUT http://127.0.0.1:1338/latest/api/token"
        ]
    );

    // Nothing anywhere: IMDS is unreachable, and the error lists every provider.
    let (e, seen) = run(
        &mut DefaultChain::new(env(&[("HOME", "/home/u")])),
        |io| match io {
            Io::ReadFile(_) => missing(),
            _ => IoResult::Http(Err(TransportError::new(
                TransportErrorKind::Connect,
                "refused",
            )
            .into())),
        },
    );
    assert_eq!(seen.len(), 3, "{seen:?}");
    let e = e.unwrap_err();
    let CredentialsError::NoneFound { tried } = credentials_error(&e) else {
        panic!("{e:?}");
    };
    let names: Vec<_> = tried.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, chain::ORDER);
    let msg = e.to_string();
    assert!(
        msg.contains("AWS_ACCESS_KEY_ID is not set") && msg.contains("no profile default"),
        "{msg}"
    );
    assert!(msg.contains("anonymous"), "{msg}");

    // A malformed config file is an error with its line, not a skip.
    let (e, _) = run(
        &mut DefaultChain::new(env(&[("HOME", "/home/u")])),
        |io| match io {
            Io::ReadFile(p) if p.ends_with("config") => {
                file("[default]\nregion = x\nthis is not a setting\n")
            }
            _ => missing(),
        },
    );
    let msg = e.unwrap_err().to_string();
    assert!(msg.contains("/home/u/.aws/config line 3"), "{msg}");
}

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let c = Credentials::new("AKID", "super-secret-key")
        .with_session_token("super-secret-token")
        .with_expiry(t0())
        .with_provider("imds");
    let (r, _) = run(
        &mut DefaultChain::new(env(&[("HOME", "/h"), ("AWS_PROFILE", "top")])),
        |io| match io {
            Io::ReadFile(p) if p.ends_with("config") => file(
                PROFILE_CONFIG
                    .replace("basesecret", "super-secret-key")
                    .as_str(),
            ),
            Io::ReadFile(_) => missing(),
            _ => http(
                403,
                "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>",
            ),
        },
    );
    let text = format!("{c:?} {r:?} {}", r.as_ref().unwrap_err());
    assert!(
        text.contains("AKID") && text.contains("2024-01-01T00:00:00"),
        "{text}"
    );
    assert!(!text.contains("super-secret"), "{text}");
}

#[test]
fn cache_refreshes_once_before_expiry_and_never_hands_out_expired_credentials() {
    let at = |s: u64| t0() + Duration::from_secs(s);
    let temp = |expiry: u64| Credentials::new("A", "S").with_expiry(at(expiry));
    let mut cache = CredentialsCache::default();

    // Empty: the first caller refreshes, the others wait.
    assert!(matches!(cache.lookup(at(0)), Lookup::Refresh(None)));
    assert!(matches!(cache.lookup(at(0)), Lookup::Wait));
    cache.store(temp(3600), at(1), Duration::from_secs(30));
    // Refresh point: 3600 - 300 - 30.
    assert_eq!(cache.refresh_at(), Some(at(3270)));
    assert!(matches!(cache.lookup(at(3269)), Lookup::Use(_)));
    assert!(!cache.needs_refresh(at(3269)));
    assert!(cache.needs_refresh(at(3270)));

    // Inside the window: one refresher, everyone else keeps using the valid credentials.
    assert!(matches!(cache.lookup(at(3270)), Lookup::Refresh(Some(_))));
    assert!(matches!(cache.lookup(at(3300)), Lookup::Use(_)));
    // The refresh fails: the old ones stay in use, no new refresh for the backoff.
    cache.failed(at(3300));
    assert!(matches!(cache.lookup(at(3305)), Lookup::Use(_)));
    assert!(matches!(cache.lookup(at(3310)), Lookup::Refresh(Some(_))));
    cache.store(temp(7200), at(3320), Duration::ZERO);
    let Lookup::Use(c) = cache.lookup(at(3700)) else {
        panic!()
    };
    assert_eq!(c.expiry(), Some(at(7200)));

    // Short-lived credentials (Ceph STS, 100 s) refresh at half-life, not every request.
    let mut cache = CredentialsCache::default();
    cache.store(temp(100), at(0), Duration::from_secs(5));
    assert_eq!(cache.refresh_at(), Some(at(50)));
    assert!(matches!(cache.lookup(at(49)), Lookup::Use(_)));
    assert!(matches!(cache.lookup(at(60)), Lookup::Refresh(Some(_))));
    // The refresher is slow and the credentials expire: the others wait, never get them...
    assert!(matches!(cache.lookup(at(100)), Lookup::Wait));
    assert!(cache.current(at(100)).is_none());
    // ...and when the refresher has vanished, the claim times out and another takes over.
    assert!(matches!(cache.lookup(at(60 + 60)), Lookup::Refresh(None)));

    // A server said the token expired: nobody gets those credentials again.
    let mut cache = CredentialsCache::default();
    cache.store(temp(3600), at(0), Duration::ZERO);
    cache.invalidate();
    assert!(cache.current(at(1)).is_none());
    assert!(matches!(cache.lookup(at(1)), Lookup::Refresh(None)));
    assert!(matches!(cache.lookup(at(1)), Lookup::Wait));

    // Long-lived keys never refresh.
    let fixed = CredentialsCache::fixed(Credentials::new("A", "S"));
    assert!(!fixed.needs_refresh(at(1 << 30)));

    // Shared across clones.
    let shared = SharedCache::default();
    let clone = shared.clone();
    assert!(matches!(shared.lookup(at(0)), Lookup::Refresh(None)));
    assert!(matches!(clone.lookup(at(0)), Lookup::Wait));
    clone.store(temp(3600), at(0), Duration::ZERO);
    assert!(matches!(shared.lookup(at(1)), Lookup::Use(_)));
    assert!(shared.current(at(3600)).is_none());
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let mut p = Provider::imds(env(&[]));
    let Step::Io(_) = p.poll(t0()) else { panic!() };
    assert!(matches!(p.poll(t0()), Step::Done(Err(_))));
    let mut p = Provider::environment(env(&[
        ("AWS_ACCESS_KEY_ID", "A"),
        ("AWS_SECRET_ACCESS_KEY", "S"),
    ]));
    assert!(matches!(p.poll(t0()), Step::Done(Ok(_))));
    assert!(matches!(p.poll(t0()), Step::Done(Err(_))));
    p.handle(missing());
}

proptest::proptest! {
    #[test]
    fn arbitrary_replies_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300), status in 100u16..600) {
        let status = http::StatusCode::from_u16(status).unwrap();
        let _ = sts::parse_response(sts::StsAction::AssumeRole, status, &body);
        let _ = sso::parse_role_credentials(&body);
        let config = crate::profile::SsoConfig {
            session_name: None,
            start_url: "https://x".to_owned(),
            region: "r".to_owned(),
            account_id: "1".to_owned(),
            role_name: "r".to_owned(),
        };
        let _ = sso::parse_token(&body, t0(), &config);
        let _ = process::parse_output(&ProcessOutput { status: Some(0), stdout: body.clone() });
        let _ = json::parse(&body);
    }

    #[test]
    fn truncated_replies_are_errors(cut in 0usize..400) {
        let doc = sts_xml("AssumeRole", "K", LATER);
        let cut = cut.min(doc.len() - 1);
        let r = sts::parse_response(sts::StsAction::AssumeRole, http::StatusCode::OK, &doc.as_bytes()[..cut]);
        proptest::prop_assert!(r.is_err());
        let j = imds_json("K", LATER);
        let cut = cut.min(j.len() - 1);
        proptest::prop_assert!(json::parse(&j.as_bytes()[..cut]).is_err());
    }
}

#[test]
fn region_from_instance_metadata_when_none_is_configured() {
    use crate::flow::request::{Options, Session};
    let read = |_: &std::path::Path| -> std::io::Result<Vec<u8>> {
        Err(std::io::ErrorKind::NotFound.into())
    };
    let base = [
        ("HOME", "/home/u"),
        ("AWS_ACCESS_KEY_ID", "AK"),
        ("AWS_SECRET_ACCESS_KEY", "SK"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9"),
    ];
    let setup = crate::profile::setup_from_env(env(&base), read).unwrap();
    assert!(setup.imds_region.is_some());
    let session = Session::new(
        setup.config.clone(),
        setup.credential_source(),
        Options::default(),
    );
    assert_eq!(session.config().region(), "us-east-1");
    let mut attempts = session.attempts_with(crate::retry::Replay::Safe, None);
    let source::Fetch::Refresh(mut refresh) = attempts.credentials(&session, t0(), 0) else {
        panic!("an empty cache refreshes");
    };
    let mut seen = Vec::new();
    let creds = loop {
        match refresh.poll(t0()) {
            Step::Io(io) => {
                seen.push(describe(&io));
                let reply = match &io {
                    Io::Http { request, .. } if request.method() == Method::PUT => http(200, "tok"),
                    Io::Http { request, .. } => {
                        assert_eq!(header(&io, "x-aws-ec2-metadata-token"), Some("tok"));
                        assert_eq!(request.uri().path(), "/latest/meta-data/placement/region");
                        http(200, "eu-west-3\n")
                    }
                    _ => missing(),
                };
                refresh.handle(reply);
            }
            Step::Done(r) => break r.unwrap(),
        }
    };
    assert_eq!(creds.access_key(), Some("AK"));
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(session.config().region(), "eu-west-3");
    assert_eq!(session.credentials().discovered_region(), Some("eu-west-3"));

    // A region in the environment or the profile, or IMDS switched off: no lookup.
    for extra in [
        ("AWS_REGION", "ap-south-1"),
        ("AWS_DEFAULT_REGION", "ap-south-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        let mut vars = base.to_vec();
        vars.push(extra);
        let setup = crate::profile::setup_from_env(env(&vars), read).unwrap();
        assert!(setup.imds_region.is_none(), "{extra:?}");
    }
    // An unreachable or garbled service leaves the configured region, and is not asked again.
    for reply in [timeout(), http(200, "<html>not a region</html>")] {
        let setup = crate::profile::setup_from_env(env(&base), read).unwrap();
        let source = setup.credential_source();
        let session = Session::new(setup.config.clone(), source.clone(), Options::default());
        let mut attempts = session.attempts_with(crate::retry::Replay::Safe, None);
        let source::Fetch::Refresh(mut refresh) = attempts.credentials(&session, t0(), 0) else {
            panic!()
        };
        let mut reply = Some(reply);
        let result = loop {
            match refresh.poll(t0()) {
                Step::Io(Io::Http { request, .. }) if request.method() == Method::PUT => {
                    refresh.handle(http(200, "tok"));
                }
                Step::Io(_) => refresh.handle(reply.take().expect("one region request")),
                Step::Done(r) => break r,
            }
        };
        assert!(result.is_ok());
        assert_eq!(session.config().region(), "us-east-1");
        assert_eq!(source.discovered_region(), None);
    }
}

#[test]
fn request_checksum_calculation_from_the_environment_then_the_profile() {
    use crate::checksum::ChecksumPolicy;
    let config = b"[default]\nrequest_checksum_calculation = when_supported\n".to_vec();
    let read = move |p: &std::path::Path| -> std::io::Result<Vec<u8>> {
        match p.ends_with("config") {
            true => Ok(config.clone()),
            false => Err(std::io::ErrorKind::NotFound.into()),
        }
    };
    let base = [
        ("HOME", "/home/u"),
        ("AWS_ACCESS_KEY_ID", "AK"),
        ("AWS_SECRET_ACCESS_KEY", "SK"),
        ("AWS_REGION", "us-east-1"),
    ];
    let setup = crate::profile::setup_from_env(env(&base), read.clone()).unwrap();
    assert_eq!(setup.request_checksums, ChecksumPolicy::WhenSupported);
    let mut vars = base.to_vec();
    vars.push(("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required"));
    let setup = crate::profile::setup_from_env(env(&vars), read.clone()).unwrap();
    assert_eq!(setup.request_checksums, ChecksumPolicy::WhenRequired);
    vars.pop();
    vars.push(("AWS_REQUEST_CHECKSUM_CALCULATION", "sometimes"));
    let e = crate::profile::setup_from_env(env(&vars), read).unwrap_err();
    assert!(
        e.to_string().contains("request_checksum_calculation"),
        "{e}"
    );
    let none = |_: &std::path::Path| -> std::io::Result<Vec<u8>> {
        Err(std::io::ErrorKind::NotFound.into())
    };
    let setup = crate::profile::setup_from_env(env(&base), none).unwrap();
    assert_eq!(setup.request_checksums, ChecksumPolicy::WhenRequired);
}
