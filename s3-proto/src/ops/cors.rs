//! CORS actions: PutBucketCors, GetBucketCors, DeleteBucketCors.

use http::Method;

use crate::body::{Body, Response};
use crate::cors::CorsConfiguration;
use crate::endpoint::Target;
use crate::error::{Error, ErrorCode, ServiceError};
use crate::name::BucketName;
use crate::op::Operation;
use crate::sign::content_md5;

/// Sets a bucket's CORS configuration (validated first; sent with the Content-MD5 S3
/// requires).
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutBucketCors {
    bucket: BucketName,
    config: CorsConfiguration,
}

impl PutBucketCors {
    /// Sets `bucket`'s CORS rules to `config`.
    pub fn new(bucket: BucketName, config: CorsConfiguration) -> Self {
        PutBucketCors { bucket, config }
    }
}

impl Operation for PutBucketCors {
    type Output = ();

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::PUT, Some(&self.bucket), None)
            .subresource("cors");
        if let Err(e) = self.config.validate() {
            return req.fail(e).build();
        }
        let body = self.config.to_xml();
        req.header("content-md5", &content_md5(body.as_bytes()))
            .header("content-type", "application/xml")
            .body(body)
            .build()
    }

    fn parse(&self, _: Response<'_>) -> Result<(), Error> {
        Ok(())
    }
}

/// Reads a bucket's CORS configuration; a bucket without one fails with
/// [`ErrorCode::NoSuchCORSConfiguration`].
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetBucketCors {
    bucket: BucketName,
}

impl GetBucketCors {
    /// Reads `bucket`'s CORS rules.
    pub fn new(bucket: BucketName) -> Self {
        GetBucketCors { bucket }
    }
}

impl Operation for GetBucketCors {
    type Output = CorsConfiguration;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        target
            .request(Method::GET, Some(&self.bucket), None)
            .subresource("cors")
            .build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<CorsConfiguration, Error> {
        CorsConfiguration::parse(resp.body)
    }

    fn recover(&self, mut error: ServiceError) -> Result<CorsConfiguration, Error> {
        // Some servers answer a bodyless 404 instead of the documented error document.
        if error.code == ErrorCode::NotFound {
            error.code = ErrorCode::NoSuchCORSConfiguration;
        }
        Err(error.into())
    }
}

/// Removes a bucket's CORS configuration.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketCors.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteBucketCors {
    bucket: BucketName,
}

impl DeleteBucketCors {
    /// Removes `bucket`'s CORS rules.
    pub fn new(bucket: BucketName) -> Self {
        DeleteBucketCors { bucket }
    }
}

impl Operation for DeleteBucketCors {
    type Output = ();

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        target
            .request(Method::DELETE, Some(&self.bucket), None)
            .subresource("cors")
            .build()
    }

    fn parse(&self, _: Response<'_>) -> Result<(), Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::cors::{CorsMethod, CorsRule};
    use http::{HeaderMap, StatusCode};

    fn b() -> BucketName {
        BucketName::new("bucket").unwrap()
    }

    #[test]
    fn put_sends_md5_and_validates() {
        let c = Config::new("http://127.0.0.1:9000", "us-east-1").unwrap();
        let cfg = CorsConfiguration::new().rule(CorsRule::new([CorsMethod::Get], ["*"]));
        let req = PutBucketCors::new(b(), cfg.clone())
            .request(c.target())
            .unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1:9000/bucket?cors");
        let body = req.body().as_bytes().unwrap();
        assert_eq!(req.headers()["content-md5"], content_md5(body).as_str());
        assert_eq!(CorsConfiguration::parse(body).unwrap(), cfg);
        assert!(
            PutBucketCors::new(b(), CorsConfiguration::new())
                .request(c.target())
                .is_err()
        );
    }

    #[test]
    fn missing_configuration_is_typed() {
        let h = HeaderMap::new();
        let body = br#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchCORSConfiguration</Code><Message>The CORS configuration does not exist</Message><BucketName>bucket</BucketName></Error>"#;
        let err = crate::config::finish(
            &GetBucketCors::new(b()),
            Response::new(StatusCode::NOT_FOUND, &h, body),
        )
        .unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::NoSuchCORSConfiguration));
        let err = crate::config::finish(
            &GetBucketCors::new(b()),
            Response::new(StatusCode::NOT_FOUND, &h, b""),
        )
        .unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::NoSuchCORSConfiguration));
    }
}
