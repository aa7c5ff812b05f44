//! Calendar conversions for the timestamps S3 speaks: `20130524T000000Z`, ISO 8601, HTTP dates.
//!
//! Proto never reads the clock: every function here converts a `SystemTime` the caller passed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC calendar time to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
}

impl Civil {
    pub(crate) fn from_system(t: SystemTime) -> Self {
        // Times before 1970 are not meaningful for signing; clamp them to the epoch.
        let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem / 60 % 60) as u32,
            second: (rem % 60) as u32,
        }
    }

    pub(crate) fn to_system(self) -> Option<SystemTime> {
        if !(1..=12).contains(&self.month)
            || self.day < 1
            || self.day > days_in_month(self.year, self.month)
            || self.hour > 23
            || self.minute > 59
            || self.second > 60
        {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let secs = days
            .checked_mul(86_400)?
            .checked_add(i64::from(self.hour * 3600 + self.minute * 60 + self.second))?;
        let secs = u64::try_from(secs).ok()?;
        UNIX_EPOCH.checked_add(Duration::from_secs(secs))
    }
}

/// `20130524T000000Z` and `20130524`, as SigV4 writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AmzDate {
    pub(crate) datetime: [u8; 16],
}

impl AmzDate {
    pub(crate) fn new(t: SystemTime) -> Self {
        let c = Civil::from_system(t);
        let mut datetime = *b"00000000T000000Z";
        let year = c.year.clamp(0, 9999) as u32;
        put_digits(&mut datetime[0..4], year);
        put_digits(&mut datetime[4..6], c.month);
        put_digits(&mut datetime[6..8], c.day);
        put_digits(&mut datetime[9..11], c.hour);
        put_digits(&mut datetime[11..13], c.minute);
        put_digits(&mut datetime[13..15], c.second);
        AmzDate { datetime }
    }

    pub(crate) fn datetime(&self) -> &str {
        // Only ASCII digits, 'T' and 'Z' are ever written.
        std::str::from_utf8(&self.datetime).unwrap_or_default()
    }

    pub(crate) fn date(&self) -> &str {
        &self.datetime()[..8]
    }

    pub(crate) fn date_bytes(&self) -> [u8; 8] {
        let mut d = [0; 8];
        d.copy_from_slice(&self.datetime[..8]);
        d
    }
}

/// Writes `value` as `out.len()` decimal digits (even lengths), two at a time.
fn put_digits(out: &mut [u8], mut value: u32) {
    for pair in out.rchunks_exact_mut(2) {
        let two = (value % 100) as u8;
        pair[0] = b'0' + two / 10;
        pair[1] = b'0' + two % 10;
        value /= 100;
    }
}

/// `2013-08-07T12:00:00.000Z`, as POST policies and XML documents write times.
pub fn to_iso8601(t: SystemTime) -> String {
    let c = Civil::from_system(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// Parses `2009-10-12T17:50:30.000Z`, `2009-10-12T17:50:30Z` or `…+00:00` (S3 `LastModified`,
/// `Initiated`, `CreationDate`). Fractions of a second are dropped.
pub fn parse_iso8601(s: &str) -> Option<SystemTime> {
    let b = s.trim().as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(r)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let civil = Civil {
        year: i64::from(num(0..4)?),
        month: num(5..7)?,
        day: num(8..10)?,
        hour: num(11..13)?,
        minute: num(14..16)?,
        second: num(17..19)?,
    };
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    match rest {
        b"Z" | b"z" | b"" | b"+00:00" | b"-00:00" | b"+0000" => civil.to_system(),
        _ => None,
    }
}

/// Parses an HTTP date (`Last-Modified`, `Date`).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s.trim()).ok()
}

/// Formats an HTTP date (`Date`, `If-Modified-Since`).
pub(crate) fn to_http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A server's clock as S3 reports it: `<ServerTime>` (ISO 8601) or a `Date` header.
pub fn parse_server_time(s: &str) -> Option<SystemTime> {
    parse_iso8601(s).or_else(|| parse_http_date(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_formats() {
        let t = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        let d = AmzDate::new(t);
        assert_eq!(d.datetime(), "20130524T000000Z");
        assert_eq!(d.date(), "20130524");
        assert_eq!(to_iso8601(t), "2013-05-24T00:00:00.000Z");
    }

    #[test]
    fn iso8601_round_trips() {
        for s in [
            "2009-10-12T17:50:30.000Z",
            "2000-02-29T23:59:59Z",
            "2024-12-31T00:00:00+00:00",
        ] {
            let t = parse_iso8601(s).unwrap();
            assert_eq!(to_iso8601(t)[..19], s[..19]);
        }
        for bad in [
            "",
            "2009-13-01T00:00:00Z",
            "2001-02-29T00:00:00Z",
            "2009-10-12",
            "x",
        ] {
            assert!(parse_iso8601(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn civil_round_trip_over_centuries() {
        for days in (-1000..200_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
