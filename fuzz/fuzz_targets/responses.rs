//! Every response parser through the public `finish` path: arbitrary status, headers, body.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;
use s3_proto::config::finish;
use s3_proto::ops::*;
use s3_proto::{BucketName, ObjectKey, Response};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = StatusCode::from_u16(100 + u16::from(data[0]) % 500).unwrap_or(StatusCode::OK);
    let selector = data[1];
    // Headers: lines of `name: value` up to the first NUL, then the body.
    let (head, body) = match data[2..].iter().position(|&b| b == 0) {
        Some(i) => (&data[2..2 + i], &data[3 + i..]),
        None => (&data[..0], &data[2..]),
    };
    let mut headers = HeaderMap::new();
    for line in head.split(|&b| b == b'\n') {
        if let Some(i) = line.iter().position(|&b| b == b':') {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(&line[..i]),
                HeaderValue::from_bytes(line[i + 1..].trim_ascii()),
            ) {
                headers.append(n, v);
            }
        }
    }
    let resp = Response::new(status, &headers, body);
    let bucket = BucketName::new("bucket").unwrap();
    let key = ObjectKey::new("key").unwrap();
    match selector % 10 {
        0 => drop(finish(&ListBuckets::new(), resp)),
        1 => drop(finish(&ListObjectsV2::new(bucket), resp)),
        2 => drop(finish(&ListObjects::new(bucket), resp)),
        3 => drop(finish(&GetBucketLocation::new(bucket), resp)),
        4 => drop(finish(&HeadObject::new(bucket, key), resp)),
        5 => drop(finish(&GetObject::new(bucket, key), resp)),
        6 => drop(finish(&CopyObject::new(bucket.clone(), key.clone(), bucket, key), resp)),
        7 => drop(finish(&DeleteObjects::new(bucket, [key]), resp)),
        8 => drop(finish(&CreateBucket::new(bucket), resp)),
        _ => drop(finish(&HeadBucket::new(bucket), resp)),
    }
});
