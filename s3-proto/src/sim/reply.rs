//! Replies: a status, headers and body, and S3's `<Error>` documents.

use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

use super::xml::XmlOut;

/// A complete reply before faults are applied.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// A reply with `status` and no body.
    pub(crate) fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Vec::new(),
        }
    }

    /// A 200 with an XML document.
    pub(crate) fn xml(body: Vec<u8>) -> Self {
        Reply::empty(StatusCode::OK)
            .header("content-type", "application/xml")
            .body(body)
    }

    /// Sets `name` to `value`; a value that cannot be a header is left out (the simulator
    /// only echoes values that arrived as headers or that it formats itself).
    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.insert(n, v);
        }
        self
    }

    /// Sets a header to raw bytes received earlier (metadata values are echoed verbatim).
    pub(crate) fn raw_header(mut self, name: &str, value: &HeaderValue) -> Self {
        if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
            self.headers.insert(n, value.clone());
        }
        self
    }

    /// Sets the body.
    pub(crate) fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }
}

/// An S3 error answer: status, code, message and what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Error {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    pub(crate) message: String,
    /// Extra elements S3 adds for some codes (`Key`, `BucketName`, `UploadId`, `ArgumentName`…).
    pub(crate) details: Vec<(&'static str, String)>,
    /// Headers S3 adds for some codes (`Content-Range` of a 416).
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl S3Error {
    /// An error with `status`, `code` and `message`.
    pub(crate) fn new(status: StatusCode, code: &str, message: &str) -> Self {
        S3Error {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            details: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Adds `<name>value</name>` to the document.
    pub(crate) fn detail(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.details.push((name, value.into()));
        self
    }

    /// Adds a header to the reply.
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 404 NoSuchBucket, naming the bucket.
    pub(crate) fn no_such_bucket(bucket: &str) -> Self {
        S3Error::new(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        )
        .detail("BucketName", bucket)
    }

    /// 404 NoSuchKey, naming the key.
    pub(crate) fn no_such_key(key: &str) -> Self {
        S3Error::new(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        )
        .detail("Key", key)
    }

    /// 404 NoSuchUpload, naming the upload id.
    pub(crate) fn no_such_upload(upload_id: &str) -> Self {
        S3Error::new(
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            "The specified upload does not exist. The upload ID may be invalid, or the upload \
             may have been aborted or completed.",
        )
        .detail("UploadId", upload_id)
    }

    /// 412 PreconditionFailed, naming the condition (header) that failed.
    pub(crate) fn precondition_failed(condition: &str) -> Self {
        S3Error::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
        )
        .detail("Condition", condition)
    }

    /// 400 InvalidArgument, naming the argument and its value.
    pub(crate) fn invalid_argument(message: &str, name: &str, value: &str) -> Self {
        S3Error::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
            .detail("ArgumentName", name)
            .detail("ArgumentValue", value)
    }

    /// 400 InvalidRequest.
    pub(crate) fn invalid_request(message: &str) -> Self {
        S3Error::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
    }

    /// 400 MalformedXML: a request body that is not the expected document.
    pub(crate) fn malformed_xml() -> Self {
        S3Error::new(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our \
             published schema",
        )
    }

    /// 500 InternalError.
    pub(crate) fn internal_error() -> Self {
        S3Error::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    }

    /// 503 SlowDown.
    pub(crate) fn slow_down() -> Self {
        S3Error::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
            "Please reduce your request rate.",
        )
    }

    /// The `<Error>` document, with `request_id`.
    pub(crate) fn document(&self, resource: &str, request_id: &str, host_id: &str) -> Vec<u8> {
        let mut w = XmlOut::bare_document("Error");
        w.element("Code", &self.code)
            .element("Message", &self.message);
        for (name, value) in &self.details {
            w.element(name, value);
        }
        w.element("Resource", resource)
            .element("RequestId", request_id)
            .element("HostId", host_id);
        w.finish("Error")
    }

    /// The reply: the document as body, except for HEAD, which S3 answers without one.
    pub(crate) fn into_reply(
        self,
        head: bool,
        resource: &str,
        request_id: &str,
        host_id: &str,
    ) -> Reply {
        let mut reply = Reply::empty(self.status);
        for (name, value) in &self.headers {
            reply = reply.header(name, value);
        }
        if head {
            return reply;
        }
        let body = self.document(resource, request_id, host_id);
        reply.header("content-type", "application/xml").body(body)
    }
}

/// `2009-10-12T17:50:30.000Z`, as S3 writes times in XML.
pub(crate) fn iso8601(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// An HTTP date (`Last-Modified`, `Date`), whole seconds.
pub(crate) fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

/// Year, month and day of the `days`-th day after 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shifted to 0000-03-01 so leap days end each 400-year era's years.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_times() {
        let t = UNIX_EPOCH + Duration::from_millis(1_255_369_830_250);
        assert_eq!(iso8601(t), "2009-10-12T17:50:30.250Z");
        assert_eq!(http_date(t), "Mon, 12 Oct 2009 17:50:30 GMT");
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00.000Z");
    }
}
