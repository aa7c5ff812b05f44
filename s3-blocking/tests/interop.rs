//! What s3-rs writes is what boto3 reads back, and the other way round.

use std::process::Command;

use sha2::Digest;

use s3_blocking::Client;
use s3_blocking::proto::ObjectKey;
use s3_blocking::proto::ops::PutObject;
use test_support::{Server, scenario, unique_bucket};

/// Runs `scripts/interop.py` (boto3) against `server`; returns its JSON output.
fn boto3(server: &Server, args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/interop.py");
    let out = Command::new("python3")
        .arg(script)
        .args([
            &server.endpoint,
            &server.access_key,
            &server.secret_key,
            &server.region,
        ])
        .args(args)
        .output()
        .expect("python3 with boto3 is installed by scripts/servers (pip)");
    assert!(
        out.status.success(),
        "{}: boto3 {args:?} failed: {}",
        server.name,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn objects_and_metadata_both_ways(server: &Server) {
    let client = Client::new(server.config(), server.credentials());
    let bucket = client.create_bucket(&unique_bucket("interop")).unwrap();
    let name = bucket.name().as_str();

    // s3-rs writes, boto3 reads.
    let op = PutObject::new(
        bucket.name().clone(),
        ObjectKey::new("ours key+ü").unwrap(),
        "hello from rust",
    )
    .content_type("text/x-rust")
    .meta("Color", "blue")
    .meta("shape", "round");
    bucket.put(op).unwrap();
    let seen = boto3(server, &["head", name, "ours key+ü"]);
    assert!(seen.contains(r#""content_type": "text/x-rust""#), "{seen}");
    assert!(seen.contains(r#""content_length": 15"#), "{seen}");
    assert!(seen.contains(r#""color": "blue""#), "{seen}");
    assert!(seen.contains(r#""shape": "round""#), "{seen}");
    let digest = format!("{:x}", sha2::Sha256::digest(b"hello from rust"));
    assert!(
        seen.contains(&format!(r#""body_sha256": "{digest}""#)),
        "{seen}"
    );

    // boto3 writes, s3-rs reads.
    boto3(
        server,
        &[
            "put",
            name,
            "theirs/key =1",
            "application/x-python",
            "hello from python",
            r#"{"lang": "python"}"#,
        ],
    );
    assert_eq!(
        bucket.get_string("theirs/key =1").unwrap().as_deref(),
        Some("hello from python")
    );
    let head = bucket.head("theirs/key =1").unwrap().unwrap();
    assert_eq!(head.content_type.as_deref(), Some("application/x-python"));
    assert_eq!(head.metadata.get("lang"), Some("python"));

    bucket.delete_keys(["ours key+ü", "theirs/key =1"]).unwrap();
    bucket.delete().unwrap();
}
scenario!(objects_and_metadata_both_ways);

fn acls_and_cors_both_ways(server: &Server) {
    use s3_blocking::proto::CannedAcl;
    use s3_blocking::proto::acl::{Grantee, Group, Permission};
    use s3_blocking::proto::cors::{CorsConfiguration, CorsMethod, CorsRule};

    let client = Client::new(server.config(), server.credentials());
    let bucket = client.create_bucket(&unique_bucket("interop-acl")).unwrap();
    let name = bucket.name().as_str();
    bucket.put_string("k", "v").unwrap();
    if server.caps.acl {
        // s3-rs writes a canned ACL, boto3 reads the grants.
        bucket.set_key_acl("k", CannedAcl::PublicRead).unwrap();
        let seen = boto3(server, &["get-acl", name, "k"]);
        assert!(seen.contains(r#""permission": "READ""#), "{seen}");
        assert!(
            seen.contains(s3_blocking::proto::acl::ALL_USERS_URI),
            "{seen}"
        );
        // boto3 writes, s3-rs reads.
        boto3(server, &["put-acl", name, "-", "authenticated-read"]);
        let policy = bucket.acl().unwrap();
        assert!(
            policy
                .grants
                .iter()
                .any(|g| g.permission == Permission::Read
                    && g.grantee == Grantee::Group(Group::AuthenticatedUsers)),
            "{policy:?}"
        );
    }
    if server.caps.cors {
        let config = CorsConfiguration::new().rule(
            CorsRule::new(
                [CorsMethod::Get, CorsMethod::Put],
                ["https://app.example.com"],
            )
            .id("from-rust")
            .allowed_header("Content-Type")
            .max_age_seconds(600)
            .expose_header("ETag"),
        );
        bucket.set_cors(&config).unwrap();
        let seen = boto3(server, &["get-cors", name]);
        for needle in [
            r#""ID": "from-rust""#,
            r#""MaxAgeSeconds": 600"#,
            "https://app.example.com",
            r#""ExposeHeaders": ["ETag"]"#,
        ] {
            assert!(seen.contains(needle), "{needle} in {seen}");
        }
        boto3(
            server,
            &[
                "put-cors",
                name,
                r#"[{"ID": "from-python", "AllowedMethods": ["DELETE"], "AllowedOrigins": ["*"], "AllowedHeaders": ["x-amz-*"]}]"#,
            ],
        );
        let back = bucket.cors().unwrap().unwrap();
        assert_eq!(back.rules.len(), 1);
        assert_eq!(back.rules[0].id.as_deref(), Some("from-python"));
        assert_eq!(back.rules[0].allowed_methods, [CorsMethod::Delete]);
        assert_eq!(back.rules[0].allowed_headers, ["x-amz-*"]);
        bucket.delete_cors().unwrap();
    }
    bucket.delete_key("k").unwrap();
    bucket.delete().unwrap();
}
scenario!(acls_and_cors_both_ways);
