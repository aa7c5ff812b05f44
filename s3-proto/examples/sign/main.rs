//! Signs a raw HTTP request file and prints each step, for comparing with a server's
//! `SignatureDoesNotMatch` reply or a published test vector.
//!
//! ```text
//! cargo run -p s3-proto --example sign -- REQUEST_FILE --access-key AK --secret-key SK \
//!     [--token T] --region R --service S --time 20150830T123600Z \
//!     [--sigv2 [--bucket NAME]] [--presign SECONDS]
//! ```
//!
//! The file holds a request line (`GET /path?query HTTP/1.1`), headers (a `Host` header is
//! required; folded continuation lines are joined), a blank line and the body: the format of
//! `tests/data/sigv4-suite/*/request.txt`. The last line printed is the `Authorization` header,
//! or the presigned URL with `--presign`. The secret key is never printed.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod request_file;

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use http::Request;
use http::header::HOST;
use s3_proto::Credentials;
use s3_proto::sign::v2::string_to_sign;
use s3_proto::sign::{SigV2, SigV4, UNSIGNED_PAYLOAD, sha256_hex};
use s3_proto::time::parse_iso8601;

const USAGE: &str = "usage: sign REQUEST_FILE --access-key AK --secret-key SK [--token T] \
--region R --service S --time 20150830T123600Z [--sigv2 [--bucket NAME]] [--presign SECONDS]

SigV4 signs exactly the headers of the file with the Authorization header; the payload hash is
the file's x-amz-content-sha256 header when present, else the SHA-256 of the body. With
--presign, a SigV4 URL signs UNSIGNED-PAYLOAD for service s3 and the body's SHA-256 otherwise. --sigv2 signs the
legacy way; --bucket names the bucket when it is part of the host name.";

struct Args {
    file: String,
    access_key: String,
    secret_key: String,
    token: Option<String>,
    region: Option<String>,
    service: Option<String>,
    time: SystemTime,
    sigv2: bool,
    bucket: Option<String>,
    presign: Option<u64>,
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut file = None;
    let (mut access_key, mut secret_key, mut token) = (None, None, None);
    let (mut region, mut service, mut time) = (None, None, None);
    let (mut sigv2, mut bucket, mut presign) = (false, None, None);
    while let Some(arg) = argv.next() {
        let mut value = |name: &str| argv.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--access-key" => access_key = Some(value(&arg)?),
            "--secret-key" => secret_key = Some(value(&arg)?),
            "--token" => token = Some(value(&arg)?),
            "--region" => region = Some(value(&arg)?),
            "--service" => service = Some(value(&arg)?),
            "--time" => time = Some(parse_time(&value(&arg)?)?),
            "--sigv2" => sigv2 = true,
            "--bucket" => bucket = Some(value(&arg)?),
            "--presign" => {
                let secs = value(&arg)?;
                let secs = secs
                    .parse()
                    .map_err(|_| format!("--presign: {secs:?} is not a number of seconds"))?;
                presign = Some(secs);
            }
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ if file.is_none() => file = Some(arg),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    let args = Args {
        file: file.ok_or("missing REQUEST_FILE")?,
        access_key: access_key.ok_or("missing --access-key")?,
        secret_key: secret_key.ok_or("missing --secret-key")?,
        token,
        time: time.ok_or("missing --time")?,
        region,
        service,
        sigv2,
        bucket,
        presign,
    };
    if !args.sigv2 && (args.region.is_none() || args.service.is_none()) {
        return Err("SigV4 needs --region and --service".to_owned());
    }
    if args.bucket.is_some() && !args.sigv2 {
        return Err("--bucket only applies to --sigv2".to_owned());
    }
    Ok(args)
}

/// `20150830T123600Z` (the `X-Amz-Date` form) or ISO 8601 `2015-08-30T12:36:00Z`.
fn parse_time(s: &str) -> Result<SystemTime, String> {
    let b = s.as_bytes();
    let iso = if b.len() == 16 && b.get(8) == Some(&b'T') && b.get(15) == Some(&b'Z') {
        format!(
            "{}-{}-{}T{}:{}:{}Z",
            &s[0..4],
            &s[4..6],
            &s[6..8],
            &s[9..11],
            &s[11..13],
            &s[13..15]
        )
    } else {
        s.to_owned()
    };
    parse_iso8601(&iso).ok_or_else(|| format!("--time: {s:?} is not like 20150830T123600Z"))
}

/// The request of a raw request file (see [`request_file`]), its URI made absolute
/// (`https://` + `Host`) so presigned URLs are complete.
fn parse_request(raw: &[u8]) -> Result<Request<Vec<u8>>, String> {
    let mut req = request_file::parse_request(raw)?;
    let host = req
        .headers()
        .get(HOST)
        .ok_or("the request has no Host header")?
        .to_str()
        .map_err(|_| "the Host header is not ASCII".to_owned())?;
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    *req.uri_mut() = format!("https://{host}{target}")
        .parse()
        .map_err(|e| format!("bad request target: {e}"))?;
    Ok(req)
}

fn run(args: &Args) -> Result<(), String> {
    let raw = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file))?;
    let mut req = parse_request(&raw).map_err(|e| format!("{}: {e}", args.file))?;
    let mut creds = Credentials::new(args.access_key.as_str(), args.secret_key.as_str());
    if let Some(token) = &args.token {
        creds = creds.with_session_token(token.as_str());
    }

    if args.sigv2 {
        let signer = SigV2::new(&creds, args.time).map_err(|e| e.to_string())?;
        let bucket = args.bucket.as_deref();
        if let Some(secs) = args.presign {
            let expires_at = args.time + Duration::from_secs(secs);
            let expires = expires_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_err(|_| "--time is before 1970".to_owned())?
                .as_secs()
                .to_string();
            let sts = string_to_sign(&req, Some(&expires), bucket).map_err(|e| e.to_string())?;
            let uri = signer
                .presign(&req, expires_at, bucket)
                .map_err(|e| e.to_string())?;
            println!("# string to sign\n{sts}\n");
            println!("{uri}");
        } else {
            let out = signer.sign(&mut req, bucket).map_err(|e| e.to_string())?;
            println!("# string to sign\n{}\n", out.string_to_sign);
            println!("Authorization: {}", authorization(&req)?);
        }
        return Ok(());
    }

    let (Some(region), Some(service)) = (args.region.as_deref(), args.service.as_deref()) else {
        return Err("SigV4 needs --region and --service".to_owned());
    };
    let signer = SigV4::new(&creds, region, service, args.time)
        .map_err(|e| e.to_string())?
        .content_sha256_header(false)
        .sign_all_headers(true);
    let body_hash = match req.headers().get("x-amz-content-sha256") {
        Some(v) => v
            .to_str()
            .map_err(|_| "x-amz-content-sha256 is not ASCII".to_owned())?
            .to_owned(),
        None => sha256_hex(req.body()),
    };
    if let Some(secs) = args.presign {
        let payload_hash = if service == "s3" {
            UNSIGNED_PAYLOAD
        } else {
            body_hash.as_str()
        };
        let (uri, out) = signer
            .presign(&req, Duration::from_secs(secs), payload_hash)
            .map_err(|e| e.to_string())?;
        println!("# canonical request\n{}\n", out.canonical_request());
        println!("# string to sign\n{}\n", out.string_to_sign());
        println!("{uri}");
    } else {
        let out = signer
            .sign(&mut req, &body_hash)
            .map_err(|e| e.to_string())?;
        println!("# canonical request\n{}\n", out.canonical_request());
        println!("# string to sign\n{}\n", out.string_to_sign());
        println!("Authorization: {}", authorization(&req)?);
    }
    Ok(())
}

fn authorization<B>(req: &Request<B>) -> Result<&str, String> {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| "the signer set no Authorization header".to_owned())
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("sign: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sign: {e}");
            ExitCode::from(2)
        }
    }
}
