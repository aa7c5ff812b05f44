//! `Client::from_env` honours the AWS variables and shared files, checked in child processes
//! (the environment is process-wide, so each case runs this binary again with its own).

use std::process::Command;

use test_support::unique_bucket;

/// The child side: connects with `from_env` and checks it reaches the expected bucket, or
/// that it fails with an error containing `S3RS_EXPECT_ERROR`.
#[test]
#[ignore = "run by the parent tests below with a prepared environment"]
fn child_connects_from_env() {
    if let Ok(expected) = std::env::var("S3RS_EXPECT_ERROR") {
        let err = s3_blocking::Client::from_env()
            .and_then(|c| c.list_buckets())
            .expect_err("from_env must fail");
        assert!(
            err.to_string().contains(&expected),
            "{expected} not in: {err}"
        );
        return;
    }
    let bucket = std::env::var("S3RS_EXPECT_BUCKET").expect("parent sets S3RS_EXPECT_BUCKET");
    let client = s3_blocking::Client::from_env().unwrap();
    let names: Vec<String> = client
        .list_buckets()
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert!(names.contains(&bucket), "{bucket} not in {names:?}");
}

fn run_child(envs: &[(&str, String)]) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "child_connects_from_env",
        "--nocapture",
    ]);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
        "AWS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    // No ~/.aws of this machine, and no probe of the instance metadata address.
    cmd.env("HOME", std::env::temp_dir().join("s3rs-no-home"));
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    cmd.envs(envs.iter().map(|(k, v)| (*k, v.as_str())));
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn environment_variables_and_profiles() {
    let Some(server) = test_support::server("ceph") else {
        return;
    };
    let client = s3_blocking::Client::new(server.config(), server.credentials());
    let bucket = client.create_bucket(&unique_bucket("fromenv")).unwrap();
    let name = bucket.name().to_string();

    // 1. Plain environment variables.
    run_child(&[
        ("AWS_ACCESS_KEY_ID", server.access_key.clone()),
        ("AWS_SECRET_ACCESS_KEY", server.secret_key.clone()),
        ("AWS_REGION", server.region.clone()),
        ("AWS_ENDPOINT_URL", server.endpoint.clone()),
        ("S3RS_EXPECT_BUCKET", name.clone()),
    ]);

    // 2. A named profile in the shared files, the S3-specific endpoint variable winning over
    //    the generic one.
    let dir = test_support::files::temp_dir("fromenv");
    let credentials = dir.join("credentials");
    let config = dir.join("config");
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n\n[tutorial]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            server.access_key, server.secret_key
        ),
    )
    .unwrap();
    std::fs::write(&config, "[profile tutorial]\nregion = us-east-1\n").unwrap();
    run_child(&[
        ("AWS_PROFILE", "tutorial".to_owned()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            credentials.display().to_string(),
        ),
        ("AWS_CONFIG_FILE", config.display().to_string()),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1".to_owned()),
        ("AWS_ENDPOINT_URL_S3", server.endpoint.clone()),
        ("S3RS_EXPECT_BUCKET", name),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    bucket.delete().unwrap();
}

/// A profile naming a source s3-rs cannot use fails in `from_env`, naming the key; nothing
/// configured at all fails the first request listing what was tried. Never anonymous.
#[test]
fn unusable_or_missing_credentials_are_errors_not_anonymous() {
    let Some(server) = test_support::server("ceph") else {
        return;
    };
    let dir = test_support::files::temp_dir("fromenv-bad");
    let config = dir.join("config");
    std::fs::write(
        &config,
        "[default]\ncredential_source = Ec2InstanceMetadataX\nrole_arn = arn:aws:iam::1:role/r\n",
    )
    .unwrap();
    run_child(&[
        ("AWS_CONFIG_FILE", config.display().to_string()),
        ("AWS_ENDPOINT_URL", server.endpoint.clone()),
        ("S3RS_EXPECT_ERROR", "credential_source".to_owned()),
    ]);
    std::fs::write(&config, "[default]\nregion = us-east-1\n").unwrap();
    run_child(&[
        ("AWS_CONFIG_FILE", config.display().to_string()),
        ("AWS_ENDPOINT_URL", server.endpoint.clone()),
        ("S3RS_EXPECT_ERROR", "environment".to_owned()),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `AWS_CA_BUNDLE` makes `from_env` trust a private CA; a profile's `ca_bundle` too.
#[test]
fn ca_bundle_from_the_environment_and_the_profile() {
    let Some(server) = test_support::sts_server() else {
        return;
    };
    let https = server.over_https();
    let client =
        s3_blocking::Client::with_options(https.config(), server.credentials(), https.options())
            .unwrap();
    let bucket = client.create_bucket(&unique_bucket("cabundle")).unwrap();
    let name = bucket.name().to_string();
    let ca = server.ca_file.clone().expect("CA").display().to_string();
    let keys = [
        ("AWS_ACCESS_KEY_ID", server.access_key.clone()),
        ("AWS_SECRET_ACCESS_KEY", server.secret_key.clone()),
        ("AWS_ENDPOINT_URL", https.endpoint.clone()),
    ];
    let mut with_bundle = keys.to_vec();
    with_bundle.extend([
        ("AWS_CA_BUNDLE", ca.clone()),
        ("S3RS_EXPECT_BUCKET", name.clone()),
    ]);
    run_child(&with_bundle);
    let mut without = keys.to_vec();
    without.push(("S3RS_EXPECT_ERROR", "tls".to_owned()));
    run_child(&without);
    let dir = test_support::files::temp_dir("cabundle");
    let config = dir.join("config");
    std::fs::write(&config, format!("[default]\nca_bundle = {ca}\n")).unwrap();
    let mut profile = keys.to_vec();
    profile.extend([
        ("AWS_CONFIG_FILE", config.display().to_string()),
        ("S3RS_EXPECT_BUCKET", name),
    ]);
    run_child(&profile);
    std::fs::remove_dir_all(&dir).unwrap();
    bucket.delete().unwrap();
}

/// `from_env` sends through the proxies the environment names, and not past `NO_PROXY`.
#[test]
fn proxies_from_the_environment() {
    let (Some(server), Some(proxy)) = (test_support::server("ceph"), test_support::forward_proxy())
    else {
        return;
    };
    let client = s3_blocking::Client::new(server.config(), server.credentials());
    let bucket = client.create_bucket(&unique_bucket("envproxy")).unwrap();
    let port = server
        .endpoint
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let tunnel = format!("CONNECT 127.0.0.1:{port}");
    let keys = [
        ("AWS_ACCESS_KEY_ID", server.access_key.clone()),
        ("AWS_SECRET_ACCESS_KEY", server.secret_key.clone()),
        ("AWS_ENDPOINT_URL", server.endpoint.clone()),
        ("S3RS_EXPECT_BUCKET", bucket.name().to_string()),
    ];
    let before = proxy.seen(&tunnel);
    let mut through = keys.to_vec();
    through.push(("http_proxy", proxy.url.clone()));
    run_child(&through);
    assert!(proxy.seen(&tunnel) > before, "http_proxy was used");
    let before = proxy.seen(&tunnel);
    let mut bypass = keys.to_vec();
    bypass.extend([
        ("HTTP_PROXY", proxy.url.clone()),
        ("NO_PROXY", "127.0.0.1".to_owned()),
    ]);
    run_child(&bypass);
    assert_eq!(proxy.seen(&tunnel), before, "NO_PROXY was honoured");
    let mut dead = keys[..3].to_vec();
    dead.extend([
        ("HTTP_PROXY", "http://127.0.0.1:1".to_owned()),
        ("S3RS_EXPECT_ERROR", "refused".to_owned()),
    ]);
    run_child(&dead);
    bucket.delete().unwrap();
}
