//! Building one request: the `RequestBuilder` a `Target` starts, which operations fill with
//! query parameters, headers and a body, and `BucketInHost`, which it leaves on the request.

use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, Uri};

use crate::body::{Body, PayloadHash};
use crate::error::{Error, InputError};
use crate::sign::encode::uri_encode_into;

/// The bucket an operation addressed through the host name (`bucket.endpoint`), kept in the
/// request's extensions for SigV2, whose canonical resource must still name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInHost(pub String);

/// Builds one request: query parameters and headers, validated as they are added.
///
/// The first invalid header or argument is kept and returned by [`RequestBuilder::build`].
#[derive(Debug)]
pub struct RequestBuilder {
    /// Boxed: operations chain a dozen setters by value, and each call would otherwise move
    /// the whole state (344 bytes) instead of a pointer.
    state: Box<State>,
}

/// What a [`RequestBuilder`] holds.
#[derive(Debug)]
struct State {
    method: Method,
    url: String,
    query_start: usize,
    headers: http::HeaderMap,
    body: Body,
    bucket_in_host: Option<String>,
    payload: Option<PayloadHash>,
    extensions: http::Extensions,
    error: Option<Error>,
}

impl RequestBuilder {
    /// Starts a request to `url` (scheme, authority and path, no query yet); `bucket_in_host`
    /// names the bucket when the host carries it.
    pub(crate) fn new(method: Method, url: String, bucket_in_host: Option<String>) -> Self {
        RequestBuilder {
            state: Box::new(State {
                method,
                query_start: url.len(),
                url,
                headers: http::HeaderMap::new(),
                body: Body::Empty,
                bucket_in_host,
                payload: None,
                extensions: http::Extensions::new(),
                error: None,
            }),
        }
    }

    fn push_query_sep(&mut self) {
        self.state
            .url
            .push(if self.state.url.len() == self.state.query_start {
                '?'
            } else {
                '&'
            });
    }

    /// Adds a sub-resource without a value: `?acl`, `?uploads`, `?delete`.
    pub fn subresource(mut self, name: &str) -> Self {
        self.push_query_sep();
        uri_encode_into(&mut self.state.url, name.as_bytes(), false);
        self
    }

    /// Adds `name=value`, both URI-encoded.
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.push_query_sep();
        uri_encode_into(&mut self.state.url, name.as_bytes(), false);
        self.state.url.push('=');
        uri_encode_into(&mut self.state.url, value.as_bytes(), false);
        self
    }

    /// Adds `name=value` when `value` is present.
    pub fn query_opt<V: AsRef<str>>(self, name: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.query(name, v.as_ref()),
            None => self,
        }
    }

    /// Sets a header; an invalid name or value is reported by `build`.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.state.headers.append(n, v);
            }
            _ => {
                if self.state.error.is_none() {
                    self.state.error = Some(
                        InputError::InvalidHeader {
                            name: crate::error::shorten(name).into_owned(),
                        }
                        .into(),
                    );
                }
            }
        }
        self
    }

    /// Sets a header when `value` is present.
    pub fn header_opt<V: AsRef<str>>(self, name: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.header(name, v.as_ref()),
            None => self,
        }
    }

    /// Records an error found while building (first one wins).
    pub fn fail(mut self, error: impl Into<Error>) -> Self {
        if self.state.error.is_none() {
            self.state.error = Some(error.into());
        }
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.state.body = body.into();
        self
    }

    /// Overrides how the payload is covered by SigV4 (see [`PayloadHash`]).
    pub fn payload_hash(mut self, hash: PayloadHash) -> Self {
        self.state.payload = Some(hash);
        self
    }

    /// Signs with `hex`, the body's SHA-256 computed ahead, when given (see
    /// [`RequestBuilder::payload_hash`]).
    pub(crate) fn payload_sha256(self, hex: Option<&str>) -> Self {
        match hex {
            Some(hex) => self.payload_hash(PayloadHash::Sha256(hex.to_owned())),
            None => self,
        }
    }

    /// Puts `value` in the request's extensions.
    pub(crate) fn extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.extensions.insert(value);
        self
    }

    /// The finished request.
    ///
    /// # Errors
    /// The first invalid input recorded while building.
    pub fn build(self) -> Result<Request<Body>, Error> {
        let State {
            method,
            url,
            headers,
            body,
            bucket_in_host,
            payload,
            extensions,
            error,
            ..
        } = *self.state;
        if let Some(e) = error {
            return Err(e);
        }
        // From the String itself: the URI takes the buffer over instead of copying it.
        let uri = Uri::try_from(url).map_err(|_| InputError::InvalidEndpoint {
            reason: "the request URL is not valid".to_owned(),
        })?;
        let mut req = Request::new(body);
        *req.extensions_mut() = extensions;
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.headers_mut() = headers;
        if let Some(bucket) = bucket_in_host {
            req.extensions_mut().insert(BucketInHost(bucket));
        }
        if let Some(payload) = payload {
            req.extensions_mut().insert(payload);
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BucketName, Config};

    fn bucket(s: &str) -> BucketName {
        BucketName::relaxed(s).unwrap()
    }

    #[test]
    fn bucket_and_service_urls() {
        let c = Config::new("http://127.0.0.1:7480", "us-east-1").unwrap();
        let t = c.target();
        let u = |b: RequestBuilder| b.build().unwrap().uri().to_string();
        assert_eq!(
            u(t.request(Method::GET, None, None)),
            "http://127.0.0.1:7480/"
        );
        assert_eq!(
            u(t.request(Method::GET, Some(&bucket("b1")), None)
                .subresource("acl")),
            "http://127.0.0.1:7480/b1?acl"
        );
        assert_eq!(
            u(t.request(Method::GET, Some(&bucket("b1")), None)
                .query("list-type", "2")
                .query("prefix", "a b&c")),
            "http://127.0.0.1:7480/b1?list-type=2&prefix=a%20b%26c"
        );
    }
}
