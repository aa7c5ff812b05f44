//! Secrets never show up in `Debug`, `Display` or errors.

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, StatusCode};
use s3_proto::ops::{GetObject, PutObject};
use s3_proto::sign::SigV4;
use s3_proto::{Config, Credentials, Error, Response, SignatureVersion};

const SECRET: &str = "SECRETsecretSECRETsecret0123456789abcdef";
const TOKEN: &str = "TOKENtokenTOKENtoken0123456789";

fn creds() -> Credentials {
    Credentials::new("AKIDVISIBLE", SECRET).with_session_token(TOKEN)
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET),
        "{what} leaks the secret key: {text}"
    );
    assert!(
        !text.contains(TOKEN),
        "{what} leaks the session token: {text}"
    );
}

#[test]
fn credentials_and_config_debug() {
    let c = creds();
    assert_clean("Credentials Debug", &format!("{c:?}"));
    assert_clean("Secret Display", &format!("{}", c.secret_key().unwrap()));
    let config = Config::new("http://127.0.0.1:1", "us-east-1").unwrap();
    assert_clean("Config Debug", &format!("{config:?}"));
}

#[test]
fn signing_outputs_and_errors() {
    let c = creds();
    let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut req = http::Request::get("http://h/b/k").body(()).unwrap();
    let out = SigV4::new(&c, "us-east-1", "s3", t)
        .unwrap()
        .sign(&mut req, s3_proto::sign::EMPTY_SHA256)
        .unwrap();
    let debug = format!("{out:?}");
    assert!(
        !debug.contains(out.signature()),
        "SigningOutput Debug shows the signature"
    );
    // The token is in the canonical request by design (it is signed); Debug must still
    // not print it.
    assert_clean("SigningOutput Debug", &debug);

    for version in [SignatureVersion::V4, SignatureVersion::V2] {
        let config = Config::new("http://127.0.0.1:1", "us-east-1")
            .unwrap()
            .signature(version);
        let op = GetObject::new("bucket".parse().unwrap(), "key".parse().unwrap());
        let req = config.prepare(&op, &c, t).unwrap();
        assert_clean("prepared request Debug", &format!("{:?}", req.body()));
        let url = config.presign(&op, &c, t, Duration::from_secs(60)).unwrap();
        assert!(!url.to_string().contains(SECRET));
    }

    // Every error kind, formatted every way.
    let headers = HeaderMap::new();
    let op = PutObject::new("bucket".parse().unwrap(), "key".parse().unwrap(), "x");
    let body = "<Error><Code>SignatureDoesNotMatch</Code><Message>m</Message>\
         <StringToSign>AWS4-HMAC-SHA256\n20231114T221320Z</StringToSign>\
         <SignatureProvided>abc</SignatureProvided><AWSAccessKeyId>AKIDVISIBLE</AWSAccessKeyId></Error>";
    let errors: Vec<Error> = vec![
        s3_proto::config::finish(
            &op,
            Response::new(StatusCode::FORBIDDEN, &headers, body.as_bytes()),
        )
        .unwrap_err(),
        s3_proto::config::finish(&op, Response::new(StatusCode::OK, &headers, b""))
            .map(|_| ())
            .err()
            .unwrap_or_else(|| s3_proto::ResponseError::MissingField { field: "x" }.into()),
        Credentials::from_lookup(|n| (n == "AWS_ACCESS_KEY_ID").then(|| SECRET.to_owned()))
            .map(|_| ())
            .map_err(Error::from)
            .unwrap_err(),
        SigV4::new(&Credentials::anonymous(), "r", "s3", t)
            .map(|_| ())
            .map_err(Error::from)
            .unwrap_err(),
        s3_proto::TransportError::new(s3_proto::TransportErrorKind::Io, "connection reset").into(),
    ];
    for e in &errors {
        assert_clean("Error Display", &e.to_string());
        assert_clean("Error Debug", &format!("{e:?}"));
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            assert_clean("Error source", &s.to_string());
            source = s.source();
        }
    }
}

#[test]
fn sse_customer_key_never_shows() {
    use s3_proto::ops::{CopyObject, HeadObject, UploadPart};
    use s3_proto::sse::{CustomerKey, ServerSideEncryption};
    let raw = [0x5a; 32];
    // The key as it travels (base64) and as bytes would print.
    let b64 = "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=";
    let shown = |what: &str, text: &str| {
        assert!(!text.contains(b64), "{what} leaks the SSE-C key: {text}");
        assert!(
            !text.contains("90, 90, 90"),
            "{what} leaks the SSE-C key: {text}"
        );
    };
    let key = CustomerKey::new(&raw).unwrap();
    shown("CustomerKey", &format!("{key:?}"));
    let sse = ServerSideEncryption::customer(&raw).unwrap();
    shown("ServerSideEncryption", &format!("{sse:?}"));
    let b = s3_proto::BucketName::new("bucket").unwrap();
    let k = s3_proto::ObjectKey::new("key").unwrap();
    let plain = Config::new("http://127.0.0.1:1", "us-east-1").unwrap();
    fn debug_and_request<O: s3_proto::Operation + std::fmt::Debug>(
        op: O,
        config: &Config,
    ) -> (String, Result<http::Request<s3_proto::Body>, Error>) {
        (format!("{op:?}"), op.request(config.target()))
    }
    let cases = [
        debug_and_request(
            PutObject::new(b.clone(), k.clone(), "x").server_side_encryption(sse.clone()),
            &plain,
        ),
        debug_and_request(
            HeadObject::new(b.clone(), k.clone()).sse_customer_key(key.clone()),
            &plain,
        ),
        debug_and_request(
            UploadPart::new(b.clone(), k.clone(), "u", 1, "x").sse_customer_key(key.clone()),
            &plain,
        ),
        debug_and_request(
            CopyObject::new(b.clone(), k.clone(), b.clone(), k.clone())
                .copy_source_sse_customer_key(key.clone()),
            &plain,
        ),
    ];
    for (debug, result) in cases {
        shown("operation Debug", &debug);
        // Over plain http the key is refused before any request exists.
        let err = result.unwrap_err();
        shown("error Display", &err.to_string());
        shown("error Debug", &format!("{err:?}"));
    }
}
