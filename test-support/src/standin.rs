//! Local stand-ins for the endpoints that are not S3: the EC2 instance metadata service
//! (IMDSv2), the ECS / EKS container credentials endpoint and the IAM Identity Center (SSO)
//! portal, which follow their documented protocols and hand out credentials the test minted
//! (from Ceph's STS), so the chain's result is checked against a real server; and an https
//! server whose certificate names another host. S3 itself is never stood in for.
//!
//! - IMDSv2 (<https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html>):
//!   `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` returns a session
//!   token; `GET /latest/meta-data/iam/security-credentials/` with `X-aws-ec2-metadata-token`
//!   lists the role; `GET …/security-credentials/ROLE` returns the JSON document;
//!   `GET /latest/meta-data/placement/region` the instance's region ([`IMDS_REGION`]). A request
//!   without a valid token gets 401.
//! - SSO portal (<https://docs.aws.amazon.com/singlesignon/latest/PortalAPIReference/API_GetRoleCredentials.html>):
//!   `GET /federation/credentials?role_name=R&account_id=A` with `x-amz-sso_bearer_token`
//!   returns `{"roleCredentials": {...}}` with the expiration in milliseconds since the epoch;
//!   401 for a missing or wrong token, 403 for a role or account it does not know.
//! - Container (<https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html>):
//!   `GET` of the configured URI, with the `Authorization` header when a token is configured
//!   (403 otherwise), returns `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Temporary credentials to hand out, as the endpoints spell them.
#[derive(Clone)]
pub struct Issued {
    /// `AccessKeyId`.
    pub access_key: String,
    /// `SecretAccessKey`.
    pub secret_key: String,
    /// `Token`.
    pub token: String,
    /// When they expire (`Expiration`).
    pub expires: SystemTime,
}

impl Issued {
    /// Temporary credentials (minted by STS) as the stand-ins hand them out.
    ///
    /// # Panics
    /// When `c` has no session token or expiry: the stand-ins only hand out temporary ones.
    pub fn of(c: &s3_proto::Credentials) -> Issued {
        Issued {
            access_key: c.access_key().expect("an access key").to_owned(),
            secret_key: c.secret_key().expect("a secret").expose().to_owned(),
            token: c
                .session_token()
                .expect("a session token")
                .expose()
                .to_owned(),
            expires: c.expiry().expect("temporary credentials expire"),
        }
    }

    /// `Expiration` as IMDS and the container endpoint write it (`2026-12-02T01:00:00Z`).
    fn expiration(&self) -> String {
        s3_proto::time::to_iso8601(self.expires).replace(".000Z", "Z")
    }
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
/// The region the IMDS stand-in says the instance is in.
pub const IMDS_REGION: &str = "eu-west-3";

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
            ("GET", "/latest/meta-data/placement/region") => (200, IMDS_REGION.to_owned()),
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

/// An SSO portal stand-in that hands out `creds` for `role_name` in `account_id` to requests
/// carrying `bearer` (the access token `aws sso login` cached).
pub fn sso(
    creds: Issued,
    account_id: &'static str,
    role_name: &'static str,
    bearer: String,
    behaviour: Behaviour,
) -> StandIn {
    serve(behaviour, move |method, target, headers| {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if method != "GET" || path != "/federation/credentials" {
            return (404, r#"{"message":"not found"}"#.to_owned());
        }
        if header(headers, "x-amz-sso_bearer_token") != Some(bearer.as_str()) {
            return (
                401,
                r#"{"message":"Session token not found or invalid"}"#.to_owned(),
            );
        }
        let param = |name: &str| {
            query.split('&').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                (k == name).then_some(v)
            })
        };
        if param("role_name") != Some(role_name) || param("account_id") != Some(account_id) {
            return (403, r#"{"message":"No access"}"#.to_owned());
        }
        let ms = creds
            .expires
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis();
        let body = format!(
            r#"{{"roleCredentials":{{"accessKeyId":"{}","secretAccessKey":"{}","sessionToken":"{}","expiration":{ms}}}}}"#,
            creds.access_key, creds.secret_key, creds.token
        );
        (200, body)
    })
}

/// The name on the certificate of [`tls_for_another_host`].
pub const OTHER_HOST: &str = "wrong.example";

/// An https server on 127.0.0.1 (`openssl s_server`) whose certificate is signed by a CA the
/// client trusts but names [`OTHER_HOST`]; stopped when dropped.
#[derive(Debug)]
pub struct OtherHostTls {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
    dir: PathBuf,
}

impl Drop for OtherHostTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Mints a certificate for [`OTHER_HOST`] with the CA `ca_cert` / `ca_key` (the throw-away CA
/// of the TLS server) and serves it.
///
/// # Panics
/// When openssl is missing or fails, or the server does not start within 10 s.
pub fn tls_for_another_host(ca_cert: &Path, ca_key: &Path) -> OtherHostTls {
    let dir = crate::files::temp_dir("otherhost");
    let (key, csr, crt, ext) = (
        dir.join("key.pem"),
        dir.join("req.csr"),
        dir.join("cert.pem"),
        dir.join("cert.ext"),
    );
    let extensions = format!(
        "subjectAltName=DNS:{OTHER_HOST}\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    );
    std::fs::write(&ext, extensions).expect("write the extensions");
    let serial = format!("0x{:x}", nanos());
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "openssl {args:?}: {err}");
    };
    let path = |p: &Path| p.to_str().expect("UTF-8 path").to_owned();
    let subject = format!("/CN={OTHER_HOST}");
    openssl(
        &[
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", &subject,
        ]
        .into_iter()
        .chain(["-keyout", &path(&key), "-out", &path(&csr)])
        .collect::<Vec<_>>(),
    );
    openssl(
        &["x509", "-req", "-in", &path(&csr), "-CA", &path(ca_cert)]
            .into_iter()
            .chain([
                "-CAkey",
                &path(ca_key),
                "-set_serial",
                &serial,
                "-days",
                "2",
            ])
            .chain(["-extfile", &path(&ext), "-out", &path(&crt)])
            .collect::<Vec<_>>(),
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-www",
            "-accept",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["-cert", &path(&crt), "-key", &path(&key)])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server starts");
    let url = format!("https://127.0.0.1:{port}");
    let server = OtherHostTls { url, child, dir };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "openssl s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// Sub-second nanoseconds of the wall clock, for a certificate serial number.
fn nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos().into())
}

fn document(c: &Issued, imds: bool) -> String {
    let extra = if imds {
        r#""Code":"Success","Type":"AWS-HMAC","LastUpdated":"2026-01-01T00:00:00Z","#
    } else {
        r#""RoleArn":"arn:aws:iam:::role/s3rs-role","#
    };
    format!(
        r#"{{{extra}"AccessKeyId":"{}","SecretAccessKey":"{}","Token":"{}","Expiration":"{}"}}"#,
        c.access_key,
        c.secret_key,
        c.token,
        c.expiration()
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
