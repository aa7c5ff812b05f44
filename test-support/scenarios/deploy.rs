// Where users deploy: TLS with a private CA (a wrong host name, the platform store), the
// credential chain against Ceph's STS (web identity, AssumeRole and SSO profiles), the IMDSv2,
// container and SSO portal stand-ins, the region from IMDS, hostile credential sources. Shared
// by s3-blocking and s3-async.
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
use s3::proto::credentials::CredentialsError;
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
    Issued::of(c)
}

/// A temporary HOME with `config` as ~/.aws/config.
fn home_with_config(tag: &str, config: &str) -> std::path::PathBuf {
    let home = test_support::files::temp_dir(tag);
    std::fs::create_dir_all(home.join(".aws/sso/cache")).unwrap();
    std::fs::write(home.join(".aws/config"), config).unwrap();
    home
}

/// A client set up from exactly `env` (and the files it names), as `Client::from_env` would be.
fn client_from(env: impl FnMut(&str) -> Option<String>, tls: Option<Tls>) -> Result<Client, S3Error> {
    let setup = s3::proto::profile::setup_from_env(env, |p| std::fs::read(p))?;
    let tls = tls.unwrap_or_else(|| setup.tls.clone());
    let options = Options::default().tls(tls).proxy(setup.proxy.clone());
    Client::with_options(setup.config.clone(), setup.credential_source(), options)
}

/// `t` as the SSO cache writes `expiresAt`.
fn iso(t: std::time::SystemTime) -> String {
    s3::proto::time::to_iso8601(t).replace(".000Z", "Z")
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
        expires: std::time::UNIX_EPOCH + Duration::from_secs(4_070_908_800),
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

/// The SSO portal's account and role in the profiles below.
const SSO_ACCOUNT: &str = "123456789012";
const SSO_ROLE: &str = "s3rs-role";

deploy_fn! { sso_profiles_resolve_through_a_cached_token(server) {
    let minted = x!(run_machine(&mut assume_role(server, 900))).unwrap();
    let token = "cached-sso-access-token";
    let portal = standin::sso(issued(&minted), SSO_ACCOUNT, SSO_ROLE, token.to_owned(), Behaviour::Serve);
    let config = format!(
        "[profile sso-new]\nsso_session = s3rs-sso\nsso_account_id = {SSO_ACCOUNT}\n\
         sso_role_name = {SSO_ROLE}\nregion = us-east-1\nservices = local\n\n\
         [sso-session s3rs-sso]\nsso_start_url = https://s3rs.awsapps.com/start\n\
         sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n\
         [profile sso-legacy]\nsso_start_url = https://s3rs-legacy.awsapps.com/start\n\
         sso_region = us-east-1\nsso_account_id = {SSO_ACCOUNT}\nsso_role_name = {SSO_ROLE}\n\
         region = us-east-1\n\n\
         [services local]\nsso =\n  endpoint_url = {}\n",
        portal.url
    );
    let home = home_with_config("sso", &config);
    // The SDKs' cache file names: SHA-1 (hex) of the session name, or of the legacy start URL
    // (`printf s3rs-sso | sha1sum`, `printf https://s3rs-legacy.awsapps.com/start | sha1sum`).
    let cache = home.join(".aws/sso/cache");
    let session_file = cache.join("c1bf14c7103689a458b9c99af7d6591de4f35cbf.json");
    let legacy_file = cache.join("ec0b893fdf767a6a906d33a6c50967f738742fd0.json");
    let cached = |token: &str, expires: std::time::SystemTime| {
        format!(
            r#"{{"startUrl":"https://s3rs.awsapps.com/start","region":"us-east-1","accessToken":"{token}","expiresAt":"{}"}}"#,
            iso(expires)
        )
    };
    let later = std::time::SystemTime::now() + Duration::from_secs(3600);
    std::fs::write(&session_file, cached(token, later)).unwrap();
    std::fs::write(&legacy_file, cached(token, later)).unwrap();
    let home_var = home.display().to_string();
    // sso-session: the portal from the profile's services section, S3 from
    // AWS_ENDPOINT_URL_S3. Legacy: AWS_ENDPOINT_URL_SSO wins over AWS_ENDPOINT_URL (Ceph).
    let envs = [
        vars(vec![
            ("HOME", home_var.clone()),
            ("AWS_PROFILE", "sso-new".into()),
            ("AWS_ENDPOINT_URL_S3", server.endpoint.clone()),
        ]),
        vars(vec![
            ("HOME", home_var.clone()),
            ("AWS_PROFILE", "sso-legacy".into()),
            ("AWS_ENDPOINT_URL", server.endpoint.clone()),
            ("AWS_ENDPOINT_URL_SSO", portal.url.clone()),
        ]),
    ];
    for env in envs.clone() {
        let seen = portal.requests.load(std::sync::atomic::Ordering::Relaxed);
        let creds = x!(run_machine(&mut DefaultChain::new(env.clone()))).unwrap();
        assert_eq!(creds.provider(), Some("profile (sso)"));
        assert_eq!(creds.access_key(), minted.access_key());
        assert!(portal.requests.load(std::sync::atomic::Ordering::Relaxed) > seen);
        // The client set up from the same environment lists buckets on the server.
        let c = client_from(env, None).unwrap();
        x!(c.list_buckets()).unwrap();
        assert_eq!(x!(c.current_credentials()).unwrap().provider(), Some("profile (sso)"));
    }
    // An expired cached token: a typed error telling the user to log in again, and the
    // portal is not asked.
    std::fs::write(&session_file, cached(token, std::time::SystemTime::now() - Duration::from_secs(60))).unwrap();
    let seen = portal.requests.load(std::sync::atomic::Ordering::Relaxed);
    let err = x!(run_machine(&mut DefaultChain::new(envs[0].clone()))).unwrap_err();
    assert!(
        matches!(&err, S3Error::Credentials(e) if matches!(**e, CredentialsError::SsoLoginRequired { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("aws sso login --sso-session s3rs-sso"), "{err}");
    assert_eq!(portal.requests.load(std::sync::atomic::Ordering::Relaxed), seen);
    // The client from that environment fails its first request the same way, never anonymous.
    let err = x!(client_from(envs[0].clone(), None).unwrap().list_buckets()).unwrap_err();
    assert!(err.to_string().contains("aws sso login"), "{err}");
    // No cached token at all: the same advice.
    std::fs::remove_file(&legacy_file).unwrap();
    let err = x!(run_machine(&mut DefaultChain::new(envs[1].clone()))).unwrap_err();
    assert!(err.to_string().contains("aws sso login"), "{err}");
    // A token the portal does not accept: its 401, as a typed credentials error.
    std::fs::write(&session_file, cached("stale-token", later)).unwrap();
    let err = x!(run_machine(&mut DefaultChain::new(envs[0].clone()))).unwrap_err();
    assert!(matches!(err, S3Error::Credentials(_)) && err.to_string().contains("401"), "{err}");
    std::fs::remove_dir_all(&home).unwrap();
}}

deploy_fn! { assume_role_profiles_from_the_shared_config(server) {
    let sts = server.sts.as_ref().expect("STS");
    let role = &sts.role_arn;
    let config = format!(
        "[profile ceph-user]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n\
         [profile role]\nrole_arn = {role}\nsource_profile = ceph-user\n\
         role_session_name = s3rs-profile\nduration_seconds = 900\nregion = us-east-1\n\
         endpoint_url = {}\n\n\
         [profile role-sts-from-env]\nrole_arn = {role}\nsource_profile = ceph-user\n\
         duration_seconds = 900\nregion = us-east-1\n\n\
         [profile from-env]\nrole_arn = {role}\ncredential_source = Environment\n\
         duration_seconds = 900\nregion = us-east-1\nendpoint_url = {}\n\n\
         [profile loop-a]\nrole_arn = {role}\nsource_profile = loop-b\n\n\
         [profile loop-b]\nrole_arn = {role}\nsource_profile = loop-a\n",
        server.access_key, server.secret_key, server.endpoint, server.endpoint
    );
    let home = home_with_config("assume", &config);
    let home_var = home.display().to_string();
    let envs = [
        // STS and S3 from the profile's endpoint_url.
        vars(vec![("HOME", home_var.clone()), ("AWS_PROFILE", "role".into())]),
        // STS from AWS_ENDPOINT_URL_STS, S3 from AWS_ENDPOINT_URL_S3.
        vars(vec![
            ("HOME", home_var.clone()),
            ("AWS_PROFILE", "role-sts-from-env".into()),
            ("AWS_ENDPOINT_URL_STS", server.endpoint.clone()),
            ("AWS_ENDPOINT_URL_S3", server.endpoint.clone()),
        ]),
    ];
    for env in envs {
        let before = std::time::SystemTime::now();
        let creds = x!(run_machine(&mut DefaultChain::new(env.clone()))).unwrap();
        assert_eq!(creds.provider(), Some("profile (assume role)"));
        assert_ne!(creds.access_key(), Some(server.access_key.as_str()));
        // duration_seconds = 900 reached the server: the session lives 15 minutes.
        let life = creds.expiry().unwrap().duration_since(before).unwrap();
        assert!(life > Duration::from_secs(840) && life <= Duration::from_secs(905), "{life:?}");
        // The client set up from the environment (as Client::from_env) lists and writes.
        let c = client_from(env, None).unwrap();
        let b = x!(c.create_bucket(&unique_bucket("profilerole"))).unwrap();
        x!(b.put_string("k", "assumed through a profile")).unwrap();
        let names: Vec<String> = x!(c.list_buckets()).unwrap().into_iter().map(|b| b.name).collect();
        assert!(names.contains(&b.name().to_string()), "{names:?}");
        let used = x!(c.current_credentials()).unwrap();
        assert_eq!(used.provider(), Some("profile (assume role)"));
        x!(b.delete_keys(["k"])).unwrap();
        x!(b.delete()).unwrap();
    }
    // credential_source = Environment: the role assumed with AWS_ACCESS_KEY_ID's keys. (In
    // the default chain AWS_ACCESS_KEY_ID itself comes first, as in the SDKs, so the profile
    // provider is asked directly.)
    let env = vars(vec![
        ("AWS_ACCESS_KEY_ID", server.access_key.clone()),
        ("AWS_SECRET_ACCESS_KEY", server.secret_key.clone()),
    ]);
    let mut provider = Provider::profile(env, "from-env", None, Some(config.as_str()));
    let creds = x!(run_machine(&mut provider)).unwrap();
    assert_eq!(creds.provider(), Some("profile (assume role)"));
    assert!(creds.session_token().is_some());
    x!(checked_against(server, creds).list_buckets()).unwrap();
    // Without the variables it names: an error naming the key, not anonymous access.
    let mut provider = Provider::profile(vars(vec![]), "from-env", None, Some(config.as_str()));
    let err = x!(run_machine(&mut provider)).unwrap_err();
    assert!(err.to_string().contains("credential_source"), "{err}");
    // A source_profile loop: a typed error naming the key, from the chain and from setup.
    let env = vars(vec![("HOME", home_var.clone()), ("AWS_PROFILE", "loop-a".into())]);
    let err = x!(run_machine(&mut DefaultChain::new(env.clone()))).unwrap_err();
    let from_profile = |e: &CredentialsError| {
        matches!(e, CredentialsError::Failed { source: S3Error::Input(_), .. })
    };
    assert!(matches!(&err, S3Error::Credentials(e) if from_profile(e)), "{err:?}");
    assert!(err.to_string().contains("source_profile") && err.to_string().contains("cycle"), "{err}");
    let err = client_from(env, None).unwrap_err();
    assert!(err.to_string().contains("source_profile"), "{err}");
    std::fs::remove_dir_all(&home).unwrap();
}}

deploy_fn! { region_from_instance_metadata(server) {
    let minted = x!(run_machine(&mut assume_role(server, 900))).unwrap();
    let imds = standin::imds(issued(&minted), Behaviour::Serve);
    let home = test_support::files::temp_dir("imdsregion");
    // Nothing names a region: the client asks IMDS, as the SDKs do; credentials come from
    // IMDS too. `whoami` is a program using Client::from_env.
    let exe = std::env::current_exe().unwrap();
    let whoami = exe.parent().and_then(|d| d.parent()).unwrap().join("examples").join(WHOAMI);
    let run = |extra: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(&whoami);
        cmd.env_clear()
            .env("HOME", &home)
            .env("AWS_ENDPOINT_URL", &server.endpoint)
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        stdout
    };
    let stdout = run(&[]);
    assert!(stdout.contains(&format!("region:     {}", standin::IMDS_REGION)), "{stdout}");
    assert!(stdout.contains("provider:   imds"), "{stdout}");
    // A region in the environment wins, and IMDS is not asked for one.
    let stdout = run(&[("AWS_REGION", "us-east-1")]);
    assert!(stdout.contains("region:     us-east-1"), "{stdout}");
    // In process, from the same environment: the region is there once credentials are.
    let env = vars(vec![
        ("HOME", home.display().to_string()),
        ("AWS_ENDPOINT_URL", server.endpoint.clone()),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.clone()),
    ]);
    let c = client_from(env, None).unwrap();
    x!(c.list_buckets()).unwrap();
    assert_eq!(c.config().region(), standin::IMDS_REGION);
    // AWS_EC2_METADATA_DISABLED: no lookup (and no IMDS credentials either).
    let env = vars(vec![
        ("HOME", home.display().to_string()),
        ("AWS_ENDPOINT_URL", server.endpoint.clone()),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.clone()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ACCESS_KEY_ID", server.access_key.clone()),
        ("AWS_SECRET_ACCESS_KEY", server.secret_key.clone()),
    ]);
    let seen = imds.requests.load(std::sync::atomic::Ordering::Relaxed);
    let c = client_from(env, None).unwrap();
    x!(c.list_buckets()).unwrap();
    assert_eq!(c.config().region(), "us-east-1");
    assert_eq!(imds.requests.load(std::sync::atomic::Ordering::Relaxed), seen);
    std::fs::remove_dir_all(&home).unwrap();
}}

deploy_fn! { a_certificate_for_another_host_is_refused(server) {
    // Signed by the CA the client trusts, but for wrong.example, not 127.0.0.1.
    let ca = server.ca_file.clone().expect("CA");
    let ca_key = ca.with_file_name("ca.key");
    assert!(ca_key.exists(), "the TLS server's script leaves the CA key at {}", ca_key.display());
    let other = standin::tls_for_another_host(&ca, &ca_key);
    let config = s3::proto::Config::new(&other.url, "us-east-1").unwrap();
    let trust = Options::default().tls(Tls::default().ca_bundle(std::fs::read(&ca).unwrap()));
    let c = Client::with_options(config, server.credentials(), trust).unwrap();
    let started = Instant::now();
    let err = x!(c.list_buckets()).unwrap_err();
    assert!(
        matches!(&err, S3Error::Transport(t) if t.kind() == TransportErrorKind::Tls),
        "a wrong host name must be a TLS error: {err:?}"
    );
    assert!(err.to_string().contains("not valid for name"), "names the host problem: {err}");
    assert!(started.elapsed() < Duration::from_secs(5), "not retried: {:?}", started.elapsed());
    // The same CA on the real server (certificate for 127.0.0.1) is accepted.
    let https = server.over_https();
    let c = Client::with_options(https.config(), server.credentials(), https.options()).unwrap();
    x!(c.list_buckets()).unwrap();
}}

deploy_fn! { the_platform_store_where_ssl_cert_file_points(server) {
    let https = server.over_https();
    let ca = server.ca_file.clone().expect("CA");
    let sts = server.sts.as_ref().expect("STS");
    let dir = test_support::files::temp_dir("certstore");
    // A bundle with the test CA (and another certificate), and one without it.
    let other = std::fs::read_to_string(sts.oidc_dir.join("idp.crt")).unwrap();
    let with_ca = dir.join("with-ca.pem");
    std::fs::write(&with_ca, format!("{other}\n{}", std::fs::read_to_string(&ca).unwrap())).unwrap();
    let without_ca = dir.join("without-ca.pem");
    std::fs::write(&without_ca, &other).unwrap();
    let store = |file: &std::path::Path| {
        // SSL_CERT_DIR and AWS_CA_BUNDLE cleared: only the file counts.
        Tls::default().native_roots(true).platform_store(vars(vec![("SSL_CERT_FILE", file.display().to_string())]))
    };
    let c = Client::with_options(https.config(), server.credentials(), Options::default().tls(store(&with_ca))).unwrap();
    x!(c.list_buckets()).unwrap();
    let c = Client::with_options(https.config(), server.credentials(), Options::default().tls(store(&without_ca))).unwrap();
    let err = x!(c.list_buckets()).unwrap_err();
    assert!(matches!(&err, S3Error::Transport(t) if t.kind() == TransportErrorKind::Tls), "{err:?}");
    // Set up from an environment (AWS_CA_BUNDLE unset): SSL_CERT_FILE is the platform store's.
    for (file, ok) in [(&with_ca, true), (&without_ca, false)] {
        let env = vars(vec![
            ("AWS_ENDPOINT_URL", https.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", server.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", server.secret_key.clone()),
            ("SSL_CERT_FILE", file.display().to_string()),
        ]);
        let setup = s3::proto::profile::setup_from_env(env.clone(), |p| std::fs::read(p)).unwrap();
        assert_eq!(setup.tls.ca_bundle, None);
        let c = client_from(env, Some(setup.tls.native_roots(true))).unwrap();
        let result = x!(c.list_buckets());
        match ok {
            true => assert!(result.is_ok(), "{result:?}"),
            false => assert!(matches!(&result, Err(S3Error::Transport(t)) if t.kind() == TransportErrorKind::Tls), "{result:?}"),
        }
    }
    // A store file that is not there: a typed TLS error when the client is made.
    let missing = dir.join("missing.pem");
    let err = Client::with_options(https.config(), server.credentials(), Options::default().tls(store(&missing))).unwrap_err();
    assert!(matches!(&err, S3Error::Transport(t) if t.kind() == TransportErrorKind::Tls), "{err:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}}
