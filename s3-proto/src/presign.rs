//! A presigned request: the URL and the headers whoever uses it must send alike.
//!
//! A presigned URL signs the operation's headers as they are: a range, a content type, and
//! the SSE headers (an SSE-KMS key id, an SSE-C key and its MD5). The URL alone then fails;
//! [`PresignedRequest::headers`] lists what to send with it.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use s3_proto::ops::GetObject;
//! use s3_proto::sse::CustomerKey;
//! use s3_proto::{Config, Credentials};
//!
//! let config = Config::new("https://s3.example.com", "us-east-1")?;
//! let key = CustomerKey::new(&[7; 32])?;
//! let op = GetObject::new("bucket".parse()?, "secret.bin".parse()?).sse_customer_key(key);
//! let credentials = Credentials::new("AKID", "SECRET");
//! let req = config.presign_request(&op, &credentials, SystemTime::now(), Duration::from_secs(600))?;
//! assert!(req.headers().iter().any(|(n, _)| n == "x-amz-server-side-encryption-customer-key"));
//! assert!(!format!("{req:?}").contains("BwcHBwcH")); // neither key nor signature in Debug
//! # Ok::<(), s3_proto::Error>(())
//! ```

use std::fmt;

use http::{Method, Uri};

/// Query parameters of a presigned URL that authorise it: hidden from `Debug`.
const SECRET_PARAMS: [&str; 4] = [
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "Signature",
    "x-amz-security-token",
];

/// A presigned URL with its method and the signed headers to send with it.
///
/// Treat it as a secret: the URL authorises the request, and an SSE-C request's headers
/// carry the key. `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    method: Method,
    uri: Uri,
    headers: Vec<(String, String)>,
}

impl PresignedRequest {
    pub(crate) fn new(method: Method, uri: Uri, headers: Vec<(String, String)>) -> Self {
        PresignedRequest {
            method,
            uri,
            headers,
        }
    }

    /// The method to send (`GET`, `PUT`, …).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL, signature included.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The headers to send with the URL (names in lower case and order, `Host` left out): they are
    /// signed, so the server refuses the request without them or with other values.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The URL, method and headers, taken apart.
    pub fn into_parts(self) -> (Method, Uri, Vec<(String, String)>) {
        (self.method, self.uri, self.headers)
    }
}

impl fmt::Debug for PresignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query: Vec<String> = self
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((name, _)) if SECRET_PARAMS.contains(&name) => format!("{name}=***"),
                _ => p.to_owned(),
            })
            .collect();
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let secret = n.ends_with("-customer-key");
                (n.as_str(), if secret { "***" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("PresignedRequest")
            .field("method", &self.method)
            .field("path", &self.uri.path())
            .field("query", &query)
            .field("headers", &headers)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use crate::ops::{GetObject, PutObject};
    use crate::sse::{CustomerKey, ServerSideEncryption};
    use crate::{Config, Credentials, Error, InputError, SignatureVersion};

    fn config() -> Config {
        Config::new("https://s3.example.com", "us-east-1").unwrap()
    }

    #[test]
    fn signed_headers_are_listed_and_hidden() {
        let creds = Credentials::new("AKID", "SECRET").with_session_token("TOKEN");
        let key = CustomerKey::new(&[7; 32]).unwrap();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let put = PutObject::new("bucket".parse().unwrap(), "k".parse().unwrap(), Vec::new())
            .content_type("text/plain")
            .server_side_encryption(key.clone().into());
        // Neither policy nor TLS adds a checksum of the placeholder body to a presigned PUT.
        let supported = config().server(
            crate::quirks::ServerQuirks::aws(),
            crate::checksum::ChecksumPolicy::WhenSupported,
        );
        assert!(supported.target().default_checksum().is_some());
        for cfg in [
            config(),
            config().signature(SignatureVersion::V2),
            supported,
        ] {
            let req = cfg
                .presign_request(&put, &creds, now, Duration::from_secs(60))
                .unwrap();
            assert_eq!(req.method(), "PUT");
            let names: Vec<&str> = req.headers().iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(
                names,
                [
                    "content-type",
                    "x-amz-server-side-encryption-customer-algorithm",
                    "x-amz-server-side-encryption-customer-key",
                    "x-amz-server-side-encryption-customer-key-md5",
                ]
            );
            let shown = format!("{req:?}");
            for secret in ["BwcHBwcH", "TOKEN"] {
                assert!(!shown.contains(secret), "{shown}");
            }
            let signature = req
                .uri()
                .query()
                .unwrap()
                .split('&')
                .find_map(|p| {
                    p.strip_prefix("X-Amz-Signature=")
                        .or_else(|| p.strip_prefix("Signature="))
                })
                .unwrap()
                .to_owned();
            assert!(!shown.contains(&signature), "{shown}");
        }
        let kms = PutObject::new("bucket".parse().unwrap(), "k".parse().unwrap(), Vec::new())
            .server_side_encryption(ServerSideEncryption::kms().key_id("k-2").into());
        let req = config()
            .presign_request(&kms, &creds, now, Duration::from_secs(60))
            .unwrap();
        assert!(
            req.headers()
                .contains(&("x-amz-server-side-encryption".into(), "aws:kms".into()))
        );
        // SSE-C over plain http is refused before anything is signed.
        let http = Config::new("http://127.0.0.1:9000", "us-east-1").unwrap();
        let get =
            GetObject::new("bucket".parse().unwrap(), "k".parse().unwrap()).sse_customer_key(key);
        let err = http
            .presign_request(&get, &creds, now, Duration::from_secs(60))
            .unwrap_err();
        assert!(matches!(
            err,
            Error::Input(InputError::InvalidArgument { .. })
        ));
    }
}
