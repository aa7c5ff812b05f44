//! The SigV4 test suite of aws-c-auth (`tests/data/sigv4-suite`, Apache-2.0, see its LICENSE and
//! NOTICE), run against our signer in both forms: the `Authorization` header and the presigned
//! query string (`X-Amz-Expires=3600`).
//!
//! Each case is compared step by step: canonical request, string to sign, signature, then the
//! signed request itself. S3 never normalises paths, so the `*-normalized` cases are skipped
//! (their `*-unnormalized` twin runs instead); every other case must match exactly.

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use s3_proto::Credentials;
use s3_proto::sign::encode::percent_decode;
use s3_proto::sign::{SigV4, sha256_hex};
use s3_proto::time::parse_iso8601;

#[path = "../examples/sign/request_file.rs"]
mod request_file;
use request_file::parse_request;

/// Fewer cases than this means the data is incomplete or the walk is broken.
const MIN_CASES: usize = 20;

/// Cases that cannot apply to S3, each with the reason. Anything not listed here (and not a
/// `*-normalized` twin) must pass.
const NOT_FOR_S3: &[(&str, &str)] = &[];

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigv4-suite")
}

/// The few flat fields of `context.json`.
struct Context {
    access_key: String,
    secret_key: String,
    token: Option<String>,
    region: String,
    service: String,
    timestamp: String,
    sign_body: bool,
    omit_session_token: bool,
    expiration_in_seconds: u64,
}

impl Context {
    fn parse(json: &str) -> Result<Self, String> {
        let required = |key: &str| json_field(json, key).ok_or(format!("no {key:?} in context"));
        let flag = |key: &str| match json_field(json, key).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(format!("{key} is {other:?}, not a boolean")),
        };
        Ok(Context {
            access_key: required("access_key_id")?,
            secret_key: required("secret_access_key")?,
            token: json_field(json, "token"),
            region: required("region")?,
            service: required("service")?,
            timestamp: required("timestamp")?,
            sign_body: flag("sign_body")?,
            omit_session_token: flag("omit_session_token")?,
            expiration_in_seconds: required("expiration_in_seconds")?
                .parse()
                .map_err(|_| "expiration_in_seconds is not a number".to_owned())?,
        })
    }
}

/// The value of `"key": value` anywhere in `json`: a string without escapes, or a bare
/// number/boolean. Enough for these files, whose keys are unique across nesting levels.
fn json_field(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = json[start..].trim_start().strip_prefix(':')?.trim_start();
    if let Some(string) = rest.strip_prefix('"') {
        let end = string.find('"')?;
        let value = &string[..end];
        // No escape handling: refuse rather than return a wrong value.
        (!value.contains('\\')).then(|| value.to_owned())
    } else {
        let end = rest.find([',', '}', '\n']).unwrap_or(rest.len());
        Some(rest[..end].trim().to_owned())
    }
}

/// Query pairs, percent-decoded and sorted, so two encodings of one query compare equal.
fn decoded_pairs(query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut pairs: Vec<_> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(n, false).into_owned(),
                percent_decode(v, false).into_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn read(dir: &Path, file: &str) -> Result<String, String> {
    std::fs::read_to_string(dir.join(file)).map_err(|e| format!("{file}: {e}"))
}

fn check(what: &str, expected: &str, actual: &str, failures: &mut Vec<String>) {
    if expected != actual {
        failures.push(format!(
            "{what}\n--- expected\n{expected}\n--- actual\n{actual}\n---"
        ));
    }
}

/// Runs one case in both forms; returns the mismatches (empty when the case passes).
fn run_case(dir: &Path) -> Result<Vec<String>, String> {
    let ctx = Context::parse(&read(dir, "context.json")?)?;
    let raw = std::fs::read(dir.join("request.txt")).map_err(|e| format!("request.txt: {e}"))?;
    let request = parse_request(&raw)?;
    let time = parse_iso8601(&ctx.timestamp).ok_or("bad timestamp")?;
    let mut creds = Credentials::new(ctx.access_key.as_str(), ctx.secret_key.as_str());
    if let Some(token) = &ctx.token {
        creds = creds.with_session_token(token.as_str());
    }
    // These vectors hash the body; `sign_body` only decides whether the hash is also sent
    // (and signed) as `x-amz-content-sha256`.
    let payload_hash = sha256_hex(request.body());
    let signer = SigV4::new(&creds, &ctx.region, &ctx.service, time)
        .map_err(|e| e.to_string())?
        .content_sha256_header(ctx.sign_body)
        .sign_session_token(!ctx.omit_session_token);
    let mut failures = Vec::new();

    // Header form.
    let mut req = request.clone();
    let out = signer
        .sign(&mut req, &payload_hash)
        .map_err(|e| format!("sign: {e}"))?;
    check(
        "header canonical request",
        &read(dir, "header-canonical-request.txt")?,
        out.canonical_request(),
        &mut failures,
    );
    check(
        "header string to sign",
        &read(dir, "header-string-to-sign.txt")?,
        out.string_to_sign(),
        &mut failures,
    );
    check(
        "header signature",
        read(dir, "header-signature.txt")?.trim(),
        out.signature(),
        &mut failures,
    );
    let signed = read(dir, "header-signed-request.txt")?;
    let expected_auth = signed
        .lines()
        .find_map(|l| l.strip_prefix("Authorization:"))
        .ok_or("no Authorization line in header-signed-request.txt")?;
    let actual_auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("(none)");
    check(
        "Authorization header",
        expected_auth.trim(),
        actual_auth,
        &mut failures,
    );

    // Query (presigned) form.
    let expires = Duration::from_secs(ctx.expiration_in_seconds);
    let (uri, out) = signer
        .presign(&request, expires, &payload_hash)
        .map_err(|e| format!("presign: {e}"))?;
    check(
        "query canonical request",
        &read(dir, "query-canonical-request.txt")?,
        out.canonical_request(),
        &mut failures,
    );
    check(
        "query string to sign",
        &read(dir, "query-string-to-sign.txt")?,
        out.string_to_sign(),
        &mut failures,
    );
    check(
        "query signature",
        read(dir, "query-signature.txt")?.trim(),
        out.signature(),
        &mut failures,
    );
    let signed = read(dir, "query-signed-request.txt")?;
    let line = signed.lines().next().unwrap_or_default();
    let target = line
        .split_once(' ')
        .and_then(|(_, rest)| rest.rsplit_once(' '))
        .map_or("", |(target, _)| target);
    let expected_query = target.split_once('?').map_or("", |(_, q)| q);
    if decoded_pairs(expected_query) != decoded_pairs(uri.query().unwrap_or_default()) {
        failures.push(format!(
            "presigned query\n--- expected\n{expected_query}\n--- actual\n{}\n---",
            uri.query().unwrap_or_default()
        ));
    }
    Ok(failures)
}

#[test]
fn sigv4_suite() {
    let root = suite_dir();
    let entries = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("test data missing: {}: {e}", root.display()));
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();

    for (name, _) in NOT_FOR_S3 {
        assert!(
            dirs.iter().any(|d| d.ends_with(name)),
            "NOT_FOR_S3 names {name}, which is not in the suite"
        );
    }

    let mut ran = Vec::new();
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 case name");
        if let Some(stem) = name.strip_suffix("-normalized") {
            // Path normalisation is generic SigV4; S3 signs the path as sent. The twin runs.
            assert!(
                root.join(format!("{stem}-unnormalized")).is_dir(),
                "{name} has no -unnormalized twin, so skipping it would lose coverage"
            );
            continue;
        }
        if let Some((_, reason)) = NOT_FOR_S3.iter().find(|(n, _)| *n == name) {
            eprintln!("skipped {name}: {reason}");
            continue;
        }
        match run_case(dir) {
            Ok(f) if f.is_empty() => {}
            Ok(f) => failures.push(format!("{name}:\n{}", f.join("\n"))),
            Err(e) => failures.push(format!("{name}: cannot run: {e}")),
        }
        ran.push(name.to_owned());
    }

    assert!(
        ran.len() >= MIN_CASES,
        "only {} cases ran from {} (expected at least {MIN_CASES}): {ran:?}",
        ran.len(),
        root.display()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        ran.len(),
        failures.join("\n\n")
    );
}

#[test]
fn parser_reads_folded_headers_and_body() {
    let req = parse_request(
        b"POST /a b/\xE1\x88\xB4?x=1 HTTP/1.1\nHost:h\nMy-Header1:value1\n  value2\n     value3\n\nbody",
    )
    .expect("parses");
    assert_eq!(req.method(), "POST");
    assert_eq!(req.uri(), "/a%20b/%E1%88%B4?x=1");
    assert_eq!(req.headers()["my-header1"], "value1 value2 value3");
    assert_eq!(req.headers()["host"], "h");
    assert_eq!(req.body(), b"body");
}
