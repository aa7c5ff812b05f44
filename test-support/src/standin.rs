//! Local stand-ins for the credential endpoints that are not S3: the EC2 instance metadata
//! service (IMDSv2) and the ECS / EKS container credentials endpoint. Each follows its
//! documented protocol and hands out credentials the test minted (from Ceph's STS), so the
//! chain's result is checked against a real server. S3 itself is never stood in for.
//!
//! - IMDSv2 (<https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html>):
//!   `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` returns a session
//!   token; `GET /latest/meta-data/iam/security-credentials/` with `X-aws-ec2-metadata-token`
//!   lists the role; `GET …/security-credentials/ROLE` returns the JSON document. A request
//!   without a valid token gets 401.
//! - Container (<https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html>):
//!   `GET` of the configured URI, with the `Authorization` header when a token is configured
//!   (403 otherwise), returns `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Temporary credentials to hand out, as the endpoints spell them.
#[derive(Clone)]
pub struct Issued {
    /// `AccessKeyId`.
    pub access_key: String,
    /// `SecretAccessKey`.
    pub secret_key: String,
    /// `Token`.
    pub token: String,
    /// `Expiration`, ISO 8601 (`2026-12-02T01:00:00Z`).
    pub expiration: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

/// How a stand-in answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// As documented.
    Serve,
    /// Accepts the connection, then says nothing for this long.
    Slow(Duration),
    /// Answers 200 with a body that is not what the protocol promises.
    Garbage,
}

/// A running stand-in: its base URL and how many requests it saw.
#[derive(Debug)]
pub struct StandIn {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Requests answered (or stalled).
    pub requests: Arc<AtomicU64>,
}

/// The IMDSv2 token the stand-in issues.
const IMDS_TOKEN: &str = "standin-imds-session-token";
/// The role name the IMDS stand-in lists.
pub const IMDS_ROLE: &str = "s3rs-instance-role";

/// An IMDSv2 stand-in handing out `creds`.
pub fn imds(creds: Issued, behaviour: Behaviour) -> StandIn {
    serve(behaviour, move |method, path, headers| {
        let token_ok = header(headers, "x-aws-ec2-metadata-token") == Some(IMDS_TOKEN);
        match (method, path) {
            ("PUT", "/latest/api/token") => {
                match header(headers, "x-aws-ec2-metadata-token-ttl-seconds") {
                    Some(_) => (200, IMDS_TOKEN.to_owned()),
                    None => (400, String::new()),
                }
            }
            (_, p) if p.starts_with("/latest/meta-data/") && !token_ok => (401, String::new()),
            ("GET", "/latest/meta-data/iam/security-credentials/") => (200, IMDS_ROLE.to_owned()),
            ("GET", p)
                if p == format!("/latest/meta-data/iam/security-credentials/{IMDS_ROLE}") =>
            {
                (200, document(&creds, true))
            }
            _ => (404, String::new()),
        }
    })
}

/// A container-credentials stand-in at `path`, handing out `creds`; when `authorization` is
/// set, requests must carry it in the `Authorization` header.
pub fn container(
    creds: Issued,
    path: &'static str,
    authorization: Option<String>,
    behaviour: Behaviour,
) -> StandIn {
    serve(behaviour, move |method, p, headers| {
        if method != "GET" || p != path {
            return (404, String::new());
        }
        if authorization.is_some() && header(headers, "authorization") != authorization.as_deref() {
            return (403, String::new());
        }
        (200, document(&creds, false))
    })
}

fn document(c: &Issued, imds: bool) -> String {
    let extra = if imds {
        r#""Code":"Success","Type":"AWS-HMAC","LastUpdated":"2026-01-01T00:00:00Z","#
    } else {
        r#""RoleArn":"arn:aws:iam:::role/s3rs-role","#
    };
    format!(
        r#"{{{extra}"AccessKeyId":"{}","SecretAccessKey":"{}","Token":"{}","Expiration":"{}"}}"#,
        c.access_key, c.secret_key, c.token, c.expiration
    )
}

/// The value of header `name` (lower case) in a request head.
fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A tiny HTTP/1.1 server: one request per connection, answered by `reply(method, path,
/// head)` as documented, stalled, or with garbage.
fn serve(
    behaviour: Behaviour,
    reply: impl Fn(&str, &str, &str) -> (u16, String) + Send + Sync + 'static,
) -> StandIn {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a stand-in port");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let requests = Arc::new(AtomicU64::new(0));
    let (count, reply) = (requests.clone(), Arc::new(reply));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (count, reply) = (count.clone(), reply.clone());
            std::thread::spawn(move || answer(stream, behaviour, &count, &*reply));
        }
    });
    StandIn { url, requests }
}

fn answer(
    mut stream: TcpStream,
    behaviour: Behaviour,
    count: &AtomicU64,
    reply: &dyn Fn(&str, &str, &str) -> (u16, String),
) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    count.fetch_add(1, Ordering::Relaxed);
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut words = head.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, body) = match behaviour {
        Behaviour::Serve => reply(method, path, &head),
        Behaviour::Slow(d) => {
            std::thread::sleep(d);
            return;
        }
        Behaviour::Garbage => (200, "<html>\u{0}\u{1}not json{{{".to_owned()),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}
