// Where users deploy: TLS with a private CA, the credential chain against Ceph's STS, the
// IMDSv2 and container stand-ins, hostile credential sources. Shared by s3-blocking and
// s3-tokio.
//
// `include!`d by each client's tests/deploy.rs after a prelude that defines:
// - `s3`: the client crate; `x!(expr)`: `expr` or `expr.await`;
// - `deploy_fn!{ name(server) { body } }`: a plain or async fn plus one test against the
//   TLS + STS server (`test_support::sts_server`);
// - `run_machine(&mut impl Resolve) -> Result<Output, Error>` (the runtime's credential driver),
//   `pause(Duration)` (sleep), and `WHOAMI`, the name of the crate's whoami example.

use std::time::{Duration, Instant};

use s3::proto::credentials::cache::SharedCache;
use s3::proto::credentials::chain::DefaultChain;
use s3::proto::credentials::sts::{AssumeRoleParams, StsTarget};
use s3::proto::credentials::{CredentialSource, Provider};
use s3::proto::ops::{CompleteMultipartUpload, CompletedPart, CreateMultipartUpload, UploadPart};
use s3::proto::proxy::Proxies;
use s3::proto::tls::Tls;
use s3::proto::{Credentials, ObjectKey, TransportErrorKind};
use s3::{Client, Error as S3Error, Options};
use test_support::standin::{self, Behaviour, Issued};
use test_support::{Server, unique_bucket};

/// A lookup over exactly these variables (nothing from this process's environment).
fn vars(pairs: Vec<(&'static str, String)>) -> impl FnMut(&str) -> Option<String> + Clone {
    move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
}

/// AssumeRole into the server's role with the main user's keys, for `seconds`.
fn assume_role(server: &Server, seconds: u32) -> Provider {
    let sts = server.sts.as_ref().expect("STS");
    let endpoint = server.endpoint.clone();
    let target = StsTarget::resolve(vars(vec![("AWS_ENDPOINT_URL", endpoint)]), None, None)
        .expect("STS target");
    let params = AssumeRoleParams {
        role_arn: sts.role_arn.clone(),
        session_name: Some("s3rs-test".to_owned()),
        external_id: None,
        duration_seconds: Some(seconds),
    };
    Provider::assume_role(target, params, server.credentials())
}

/// Temporary credentials minted by the server's STS, as the stand-ins hand them out.
fn issued(c: &Credentials) -> Issued {
    let expiry = c.expiry().expect("temporary credentials expire");
    let secs = expiry.duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Issued {
        access_key: c.access_key().expect("key").to_owned(),
        secret_key: c.secret_key().expect("secret").expose().to_owned(),
        token: c.session_token().expect("token").expose().to_owned(),
        expiration: format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            rest / 3600,
            rest / 60 % 60,
            rest % 60
        ),
    }
}

/// Lists buckets with `credentials`: they must be accepted by the server.
fn checked_against(server: &Server, credentials: Credentials) -> Client {
    Client::new(server.config(), credentials)
}

deploy_fn! { https_needs_the_ca_bundle(server) {
    let https = server.over_https();
    // The built-in roots do not know the throw-away CA: a typed TLS error, never retried.
    let plain = Client::new(https.config(), server.credentials());
    let started = Instant::now();
    let err = x!(plain.list_buckets()).unwrap_err();
    assert!(
        matches!(&err, S3Error::Transport(t) if t.kind() == TransportErrorKind::Tls),
        "unknown CA must be a TLS error: {err:?}"
    );
    assert!(err.to_string().contains("tls"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "not retried: {:?}", started.elapsed());
    // Neither is a bundle without certificates accepted.
    let junk = Options::default().tls(Tls::default().ca_bundle(b"not a certificate".to_vec()));
    let err = Client::with_options(https.config(), server.credentials(), junk).unwrap_err();
    assert!(err.to_string().contains("ca_bundle"), "{err}");
    // A bundle naming another CA (the OIDC issuer's self-signed certificate): still refused.
    let sts = server.sts.as_ref().expect("STS");
    let other_ca = std::fs::read(sts.oidc_dir.join("idp.crt")).unwrap();
    let other = Options::default().tls(Tls::default().ca_bundle(other_ca));
    let c = Client::with_options(https.config(), server.credentials(), other).unwrap();
    let err = x!(c.list_buckets()).unwrap_err();
    assert!(matches!(&err, S3Error::Transport(t) if t.kind() == TransportErrorKind::Tls), "{err:?}");
    // With the CA: the same server answers.
    let c = Client::with_options(https.config(), server.credentials(), https.options()).unwrap();
    x!(c.list_buckets()).unwrap();
}}

deploy_fn! { web_identity_assumes_the_role(server) {
    let sts = server.sts.as_ref().expect("STS");
    let dir = test_support::files::temp_dir("webid");
    let token_file = dir.join("token");
    std::fs::write(&token_file, sts.web_token(3600)).unwrap();
    let env = vars(vec![
        ("AWS_ENDPOINT_URL", server.endpoint.clone()),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.display().to_string()),
        ("AWS_ROLE_ARN", sts.web_role_arn.clone()),
    ]);
    let creds = x!(run_machine(&mut DefaultChain::new(env.clone()))).unwrap();
    assert_eq!(creds.provider(), Some("web-identity"));
    assert!(creds.session_token().is_some() && creds.expiry().is_some());
    let secret = creds.secret_key().unwrap().expose().to_owned();
    let c = checked_against(server, creds);
    let name = unique_bucket("webid");
    x!(c.create_bucket(&name)).unwrap();
    let names: Vec<String> = x!(c.list_buckets()).unwrap().into_iter().map(|b| b.name).collect();
    assert!(names.contains(&name), "{name} not in {names:?}");

    // `whoami` with only the three variables set lists the role's buckets.
    let exe = std::env::current_exe().unwrap();
    let whoami = exe.parent().and_then(|d| d.parent()).unwrap().join("examples").join(WHOAMI);
    assert!(whoami.exists(), "{} is built by cargo test", whoami.display());
    let out = std::process::Command::new(&whoami)
        .env_clear()
        .env("HOME", &dir)
        .env("AWS_ENDPOINT_URL", &server.endpoint)
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
        .env("AWS_ROLE_ARN", &sts.web_role_arn)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("web-identity") && stdout.contains(&name), "{stdout}");
    assert!(!stdout.contains(&secret), "whoami never prints the secret");

    // The same over https: AWS_CA_BUNDLE makes the client (and its STS call) trust the CA;
    // without it, a TLS error and no anonymous fallback.
    let https = server.https_endpoint.clone().expect("https");
    let ca = server.ca_file.clone().expect("CA");
    for bundle in [Some(&ca), None] {
        let mut cmd = std::process::Command::new(&whoami);
        cmd.env_clear()
            .env("HOME", &dir)
            .env("AWS_ENDPOINT_URL", &https)
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
            .env("AWS_ROLE_ARN", &sts.web_role_arn);
        if let Some(bundle) = bundle {
            cmd.env("AWS_CA_BUNDLE", bundle);
        }
        let out = cmd.output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        match bundle {
            Some(_) => assert!(out.status.success() && stdout.contains(&name), "{stdout}\n{stderr}"),
            None => assert!(!out.status.success() && stderr.contains("tls"), "{stdout}\n{stderr}"),
        }
    }

    // A token the issuer did not sign: a typed credentials error naming the provider.
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln").unwrap();
    let err = x!(run_machine(&mut DefaultChain::new(env))).unwrap_err();
    assert!(matches!(err, S3Error::Credentials(_)), "{err:?}");
    assert!(err.to_string().contains("web-identity"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}}

deploy_fn! { short_lived_credentials_refresh_during_a_multipart_upload(server) {
    // Sessions of 6 s, refreshed at half their life: parts 2.5 s apart outlive several.
    let admin = Client::new(server.config(), server.credentials());
    let bucket = x!(admin.create_bucket(&unique_bucket("refresh"))).unwrap();
    let (server2, seconds) = (server.clone(), 6);
    let source = CredentialSource::cached(SharedCache::default(), move || {
        Box::new(assume_role(&server2, seconds))
    });
    let c = Client::new(server.config(), source);
    let first = x!(c.current_credentials()).unwrap();
    let key = ObjectKey::new("refreshed.bin").unwrap();
    let name = bucket.name().clone();
    let upload = x!(c.send(&CreateMultipartUpload::new(name.clone(), key.clone()))).unwrap();
    let mut parts = Vec::new();
    let mut keys = vec![first.access_key().unwrap().to_owned()];
    for n in 1..=4u16 {
        x!(pause(Duration::from_millis(2500)));
        let body = vec![n as u8; if n < 4 { 5 << 20 } else { 1000 }];
        let part = UploadPart::new(name.clone(), key.clone(), &upload.upload_id, n, body);
        let out = x!(c.send(&part)).unwrap_or_else(|e| panic!("part {n}: {e}"));
        parts.push(CompletedPart { part_number: n, etag: out.etag });
        let now = x!(c.current_credentials()).unwrap();
        keys.push(now.access_key().unwrap().to_owned());
    }
    x!(c.send(&CompleteMultipartUpload::new(name, key, &upload.upload_id, parts))).unwrap();
    keys.dedup();
    assert!(keys.len() >= 3, "credentials were refreshed during the upload: {keys:?}");
    let size = x!(bucket.get_bytes("refreshed.bin")).unwrap().map(|b| b.len());
    assert_eq!(size, Some(3 * (5 << 20) + 1000));
    x!(bucket.delete_keys(["refreshed.bin"])).unwrap();
    x!(bucket.delete()).unwrap();
}}

deploy_fn! { imds_and_container_stand_ins_hand_out_sts_credentials(server) {
    let minted = x!(run_machine(&mut assume_role(server, 900))).unwrap();
    let issued = issued(&minted);

    let imds = standin::imds(issued.clone(), Behaviour::Serve);
    let env = vars(vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.clone())]);
    let creds = x!(run_machine(&mut DefaultChain::new(env))).unwrap();
    assert_eq!(creds.provider(), Some("imds"));
    assert_eq!(creds.access_key(), minted.access_key());
    x!(checked_against(server, creds).list_buckets()).unwrap();

    let dir = test_support::files::temp_dir("container");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "Bearer pod-identity-token\n").unwrap();
    let auth = Some("Bearer pod-identity-token".to_owned());
    let container = standin::container(issued, "/v1/credentials", auth, Behaviour::Serve);
    let env = vars(vec![
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("{}/v1/credentials", container.url)),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file.display().to_string()),
    ]);
    let creds = x!(run_machine(&mut DefaultChain::new(env))).unwrap();
    assert_eq!(creds.provider(), Some("container"));
    x!(checked_against(server, creds).list_buckets()).unwrap();
    // Without the authorization token the endpoint refuses: a typed error, not anonymous.
    let env = vars(vec![(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("{}/v1/credentials", container.url),
    )]);
    let err = x!(run_machine(&mut Provider::container(env))).unwrap_err();
    assert!(matches!(err, S3Error::Credentials(_)) && err.to_string().contains("container"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}}

deploy_fn! { hostile_credential_sources_are_typed_errors_in_time(server) {
    let _ = server;
    let dummy = Issued {
        access_key: "AK".into(),
        secret_key: "SK".into(),
        token: "T".into(),
        expiration: "2099-01-01T00:00:00Z".into(),
    };
    // IMDS that never answers: 1 s timeout per request, then the chain moves on.
    let slow = standin::imds(dummy.clone(), Behaviour::Slow(Duration::from_secs(10)));
    let env = vars(vec![
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", slow.url.clone()),
        ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "1".into()),
    ]);
    let started = Instant::now();
    let err = x!(run_machine(&mut Provider::imds(env))).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(matches!(err, S3Error::Credentials(_)), "{err:?}");
    // IMDS answering garbage.
    let junk = standin::imds(dummy.clone(), Behaviour::Garbage);
    let env = vars(vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", junk.url.clone())]);
    let err = x!(run_machine(&mut Provider::imds(env))).unwrap_err();
    assert!(matches!(err, S3Error::Credentials(_)), "{err:?}");
    // A container endpoint that stalls: its 5 s timeout.
    let stall = standin::container(dummy, "/c", None, Behaviour::Slow(Duration::from_secs(20)));
    let env = vars(vec![("AWS_CONTAINER_CREDENTIALS_FULL_URI", format!("{}/c", stall.url))]);
    let started = Instant::now();
    let err = x!(run_machine(&mut Provider::container(env))).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    assert!(err.to_string().contains("container"), "{err}");
    if cfg!(unix) {
        // credential_process that hangs: killed at its timeout.
        let started = Instant::now();
        let mut hang = Provider::process("sleep 30", Duration::from_millis(500));
        let err = x!(run_machine(&mut hang)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        assert!(err.to_string().contains("did not finish"), "{err}");
        // credential_process printing junk, or failing.
        for command in ["echo '{not json'", "printf '{\"Version\": 1}'", "exit 3", "yes | head -c 2000000"] {
            let err = x!(run_machine(&mut Provider::process(command, Duration::from_secs(5))))
                .unwrap_err();
            assert!(matches!(err, S3Error::Credentials(_)), "{command}: {err:?}");
        }
        // A good one.
        let json = r#"{"Version": 1, "AccessKeyId": "PK", "SecretAccessKey": "PS"}"#;
        let mut good = Provider::process(format!("printf '%s' '{json}'"), Duration::from_secs(5));
        let c = x!(run_machine(&mut good)).unwrap();
        assert_eq!(c.access_key(), Some("PK"));
    }
}}

/// Mints with a provider but claims the credentials live `.1` from now: a server whose idea
/// of the lifetime (or clock) differs from ours.
struct Overclaim(Provider, Duration, std::sync::Arc<std::sync::atomic::AtomicU32>);

impl s3::proto::credentials::Resolve for Overclaim {
    type Output = Credentials;
    fn poll(&mut self, now: std::time::SystemTime) -> s3::proto::credentials::Step {
        match self.0.poll(now) {
            s3::proto::credentials::Step::Done(Ok(c)) => {
                self.2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                s3::proto::credentials::Step::Done(Ok(c.with_expiry(now + self.1)))
            }
            other => other,
        }
    }
    fn handle(&mut self, result: s3::proto::credentials::IoResult) {
        self.0.handle(result);
    }
}

deploy_fn! { an_expired_session_refused_as_access_denied_is_refreshed_once(server) {
    // 5 s sessions the cache believes live 45 s: it will not refresh them in time, and Ceph
    // answers the expired token with 403 AccessDenied (not ExpiredToken).
    let mints = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let (server2, counter) = (server.clone(), mints.clone());
    let source = CredentialSource::cached(SharedCache::default(), move || {
        Box::new(Overclaim(assume_role(&server2, 5), Duration::from_secs(45), counter.clone()))
    });
    let c = Client::new(server.config(), source);
    x!(c.list_buckets()).unwrap();
    x!(pause(Duration::from_secs(7)));
    // Expiry is plausible (temporary credentials within a minute of their end): the refused
    // token is dropped, fresh credentials resolved, the request sent once more.
    x!(c.list_buckets()).unwrap();
    assert_eq!(mints.load(std::sync::atomic::Ordering::SeqCst), 2);
    // Long-lived keys that are refused stay refused: AccessDenied is the answer.
    let wrong = Credentials::new(server.access_key.clone(), "not-the-secret");
    let err = x!(Client::new(server.config(), wrong).list_buckets()).unwrap_err();
    assert_eq!(err.code(), Some(&s3::ErrorCode::AccessDenied), "{err}");
}}

deploy_fn! { through_a_forward_proxy(server) {
    let Some(proxy) = test_support::forward_proxy() else {
        return;
    };
    let port = |url: &str| url.rsplit(':').next().unwrap_or_default().trim_end_matches('/').to_owned();
    let https = server.over_https();
    for s in [server.clone(), https.clone()] {
        let tunnel = format!("CONNECT 127.0.0.1:{}", port(&s.endpoint));
        let before = proxy.seen(&tunnel);
        let options = s.options().proxy(Proxies::all(proxy.url.clone()));
        let c = Client::with_options(s.config(), server.credentials(), options).unwrap();
        let b = x!(c.create_bucket(&unique_bucket("proxied"))).unwrap();
        x!(b.put_string("k", "through the proxy")).unwrap();
        assert_eq!(x!(b.get_string("k")).unwrap().as_deref(), Some("through the proxy"));
        x!(b.delete_keys(["k"])).unwrap();
        x!(b.delete()).unwrap();
        assert!(proxy.seen(&tunnel) > before, "{} went through {}", s.endpoint, proxy.url);
        // NO_PROXY: the same client setup, direct.
        let before = proxy.seen(&tunnel);
        let direct = Proxies::all(proxy.url.clone()).no_proxy("localhost, 127.0.0.1");
        let c = Client::with_options(s.config(), server.credentials(), s.options().proxy(direct)).unwrap();
        x!(c.list_buckets()).unwrap();
        assert_eq!(proxy.seen(&tunnel), before, "NO_PROXY bypasses the proxy");
    }
    // A proxy that is not there: a typed connect error, not a silent direct connection.
    let dead = https.options().proxy(Proxies::all("http://127.0.0.1:1"));
    let c = Client::with_options(https.config(), server.credentials(), dead).unwrap();
    let err = x!(c.list_buckets()).unwrap_err();
    assert!(matches!(&err, S3Error::Transport(t) if t.kind() == TransportErrorKind::Connect), "{err:?}");
}}
