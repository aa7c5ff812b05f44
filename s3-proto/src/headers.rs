//! Reading typed values out of response headers.

use std::time::SystemTime;

use crate::body::Response;
use crate::error::{Error, ResponseError};

/// A header's text, or `None` when absent. A value that is not visible ASCII is an error.
pub(crate) fn optional<'a>(
    resp: &Response<'a>,
    name: &'static str,
) -> Result<Option<&'a str>, Error> {
    match resp.headers.get(name) {
        None => Ok(None),
        Some(v) => match std::str::from_utf8(v.as_bytes()) {
            Ok(s) => Ok(Some(s)),
            Err(_) => {
                Err(ResponseError::invalid(name, &String::from_utf8_lossy(v.as_bytes())).into())
            }
        },
    }
}

/// A header's text; absent is an error.
pub(crate) fn required<'a>(resp: &Response<'a>, name: &'static str) -> Result<&'a str, Error> {
    optional(resp, name)?.ok_or_else(|| ResponseError::MissingHeader { name }.into())
}

/// A header parsed as a decimal `u64`.
pub(crate) fn u64_opt(resp: &Response<'_>, name: &'static str) -> Result<Option<u64>, Error> {
    match optional(resp, name)? {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ResponseError::invalid(name, v).into()),
    }
}

/// A header parsed as an HTTP date; a date that does not parse counts as absent, since these
/// headers are informative and servers disagree on details (weekday, zone name).
pub(crate) fn date_opt(
    resp: &Response<'_>,
    name: &'static str,
) -> Result<Option<SystemTime>, Error> {
    Ok(optional(resp, name)?.and_then(crate::time::parse_http_date))
}

/// An owned copy of an optional header.
pub(crate) fn string_opt(resp: &Response<'_>, name: &'static str) -> Result<Option<String>, Error> {
    Ok(optional(resp, name)?.map(str::to_owned))
}
