//! What the `tracing` feature records; without it every call here is empty and inlined away.
//!
//! One span per request, `s3.request`, with the operation, the bucket, the request path
//! (never its query: a presigned signature lives there), and, as the request goes on, the
//! attempts made, the last status and request id and the time taken. Events inside it mark
//! failed attempts, retries, region redirects and refused credentials; credential refreshes
//! are events of their own. Errors are shown through their `Display`, which holds no secret.

use std::time::Duration;

use crate::error::Error;

/// The span of one request (empty without the `tracing` feature).
#[derive(Debug, Clone, Default)]
pub(crate) struct Trace {
    #[cfg(feature = "tracing")]
    span: Option<tracing::Span>,
}

impl Trace {
    /// Opens the span of a request for `op` on `bucket`.
    #[inline]
    pub(crate) fn request(op: &'static str, bucket: Option<&str>) -> Self {
        #[cfg(feature = "tracing")]
        return Trace {
            span: Some(tracing::debug_span!(
                "s3.request",
                op,
                bucket,
                path = tracing::field::Empty,
                attempts = 1u32,
                status = tracing::field::Empty,
                request_id = tracing::field::Empty,
                elapsed_ms = tracing::field::Empty,
            )),
        };
        #[cfg(not(feature = "tracing"))]
        {
            let _ = (op, bucket);
            Trace {}
        }
    }

    /// The request's path (without its query).
    #[inline]
    pub(crate) fn path(&self, path: &str) {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            span.record("path", path);
        }
        #[cfg(not(feature = "tracing"))]
        let _ = path;
    }

    /// A reply arrived with `status` and the server's request id.
    #[inline]
    pub(crate) fn reply(&self, status: u16, request_id: Option<&str>) {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            span.record("status", status);
            if let Some(id) = request_id {
                span.record("request_id", id);
            }
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (status, request_id);
    }

    /// Attempt `attempt` failed with `error`, `elapsed` into the request.
    #[inline]
    pub(crate) fn failed(&self, attempt: u32, error: &Error, elapsed: Duration) {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            if let Some(service) = error.as_service() {
                self.reply(service.status.as_u16(), service.request_id.as_deref());
            }
            let elapsed_ms = elapsed.as_millis() as u64;
            tracing::debug!(parent: span, attempt, elapsed_ms, %error, "s3 attempt failed");
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (attempt, error, elapsed);
    }

    /// The request goes again after `delay`, as attempt `attempt`, for `why`.
    #[inline]
    pub(crate) fn retry(&self, attempt: u32, delay: Duration, why: &'static str) {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            span.record("attempts", attempt);
            let delay_ms = delay.as_millis() as u64;
            tracing::info!(parent: span, attempt, delay_ms, why, "s3 retry");
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (attempt, delay, why);
    }

    /// The request is over after `attempts`, `elapsed` after it began.
    #[inline]
    pub(crate) fn done(&self, attempts: u32, elapsed: Duration, ok: bool) {
        #[cfg(feature = "tracing")]
        if let Some(span) = &self.span {
            span.record("attempts", attempts);
            span.record("elapsed_ms", elapsed.as_millis() as u64);
            tracing::debug!(parent: span, attempts, ok, "s3 request done");
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (attempts, elapsed, ok);
    }
}

/// A credential refresh began (`started`) or ended, successfully or not.
#[inline]
pub(crate) fn credentials(started: bool, ok: bool) {
    #[cfg(feature = "tracing")]
    match (started, ok) {
        (true, _) => tracing::debug!(target: "s3.credentials", "refreshing credentials"),
        (false, true) => tracing::info!(target: "s3.credentials", "credentials refreshed"),
        (false, false) => tracing::warn!(target: "s3.credentials", "credential refresh failed"),
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (started, ok);
}
