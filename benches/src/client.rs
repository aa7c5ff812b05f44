//! Client overhead per request against a loopback HTTP/1.1 server that answers at once.
//!
//! The server is part of the benchmark harness: every client pays for it equally, so the
//! difference between clients is their own cost (request building, signing, HTTP, parsing).

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

use s3_proto::ops::GetObject;
use s3_proto::{Addressing, BucketName, Config, Credentials, ObjectKey};

use crate::harness::{Unit, measure_group};
use crate::sign::{ACCESS_KEY, SECRET_KEY};

/// Bytes of the object every GetObject receives.
pub const BODY_LEN: usize = 256;
const BUCKET: &str = "photo-archive";
const KEY: &str = "photos/2024/03/IMG_100123.jpg";

/// Starts the loopback server; it lives as long as the process.
pub fn start_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve(stream));
        }
    });
    addr
}

fn response() -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\n\
         x-amz-id-2: eftixk72aD6Ap51TnqcoF8eFidJG9Z/2mkiDFu8yU9AS1ed4OpIszj7UDNEHGran\r\n\
         x-amz-request-id: 4442587FB7D0A2F9\r\n\
         Date: Sun, 29 Nov 2026 12:00:00 GMT\r\n\
         Last-Modified: Thu, 14 Mar 2024 09:26:53 GMT\r\n\
         ETag: \"bf1d737a4d46a19f3bced6905cc8b902\"\r\n\
         Accept-Ranges: bytes\r\n\
         Content-Type: image/jpeg\r\n\
         Server: AmazonS3\r\n\
         Content-Length: {BODY_LEN}\r\n\r\n"
    )
    .into_bytes();
    r.extend(std::iter::repeat_n(b'x', BODY_LEN));
    r
}

/// Keep-alive loop: read a request head (and any body), write the fixed reply.
fn serve(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let reply = response();
    let mut buf = vec![0u8; 64 * 1024];
    let mut have = 0;
    loop {
        let head_end = loop {
            if let Some(p) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            if have == buf.len() {
                return;
            }
            match stream.read(&mut buf[have..]) {
                Ok(0) | Err(_) => return,
                Ok(n) => have += n,
            }
        };
        let body_len = content_length(&buf[..head_end]);
        let mut consumed = head_end + body_len;
        while have < consumed {
            match stream.read(&mut buf[have..]) {
                Ok(0) | Err(_) => return,
                Ok(n) => have += n,
            }
            if have == buf.len() {
                // Large bodies are not part of this benchmark; drain and restart.
                consumed -= have;
                have = 0;
            }
        }
        buf.copy_within(consumed..have, 0);
        have -= consumed;
        if stream.write_all(&reply).is_err() {
            return;
        }
    }
}

fn content_length(head: &[u8]) -> usize {
    let head = String::from_utf8_lossy(head);
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

fn ours_config(addr: SocketAddr) -> Config {
    Config::new(&format!("http://{addr}"), "us-east-1")
        .expect("valid endpoint")
        .addressing(Addressing::Path)
}

fn op() -> GetObject {
    GetObject::new(
        BucketName::new(BUCKET).expect("valid"),
        ObjectKey::new(KEY).expect("valid"),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn aws_client(addr: SocketAddr) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{
        BehaviorVersion, Credentials, Region, RequestChecksumCalculation,
        ResponseChecksumValidation,
    };
    let http = aws_smithy_http_client::Builder::new().build_http();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{addr}"))
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            ACCESS_KEY, SECRET_KEY, None, None, "bench",
        ))
        .http_client(http)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

async fn aws_get(client: &aws_sdk_s3::Client) -> usize {
    let out = client
        .get_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .expect("aws-sdk-s3 GetObject");
    out.body
        .collect()
        .await
        .expect("aws-sdk-s3 body")
        .into_bytes()
        .len()
}

/// Floor: a hand-written GET over a kept-alive `TcpStream`, reading the fixed-size reply;
/// the transport cost every client pays, with no signing, HTTP library or parsing.
fn raw_get(stream: &mut TcpStream, request: &[u8], reply: &mut [u8]) {
    stream.write_all(request).expect("write");
    stream.read_exact(reply).expect("read");
}

/// Median µs per GetObject for s3-blocking, s3-async, aws-sdk-s3, and the raw-socket floor.
pub fn run(addr: SocketAddr) -> [f64; 4] {
    let op = op();
    let blocking =
        s3_blocking::Client::new(ours_config(addr), Credentials::new(ACCESS_KEY, SECRET_KEY));
    let head = blocking.send(&op).expect("s3-blocking GetObject");
    assert_eq!(head.content_length, Some(BODY_LEN as u64));

    let rt = runtime();
    let tokio_client = rt.block_on(async {
        s3_async::Client::new(ours_config(addr), Credentials::new(ACCESS_KEY, SECRET_KEY))
    });
    let head = rt
        .block_on(tokio_client.send(&op))
        .expect("s3-async GetObject");
    assert_eq!(head.content_length, Some(BODY_LEN as u64));

    let aws = rt.block_on(async { aws_client(addr) });
    assert_eq!(rt.block_on(aws_get(&aws)), BODY_LEN);

    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let request = format!(
        "GET /{BUCKET}/{KEY} HTTP/1.1\r\nhost: {addr}\r\nx-amz-date: 20261129T120000Z\r\n\r\n"
    );
    let mut reply = vec![0u8; response().len()];

    let ns = measure_group(&mut [
        &mut || {
            black_box(blocking.send(&op).expect("GetObject"));
        },
        &mut || {
            black_box(rt.block_on(tokio_client.send(&op)).expect("GetObject"));
        },
        &mut || {
            black_box(rt.block_on(aws_get(&aws)));
        },
        &mut || raw_get(&mut stream, request.as_bytes(), &mut reply),
    ]);
    std::array::from_fn(|i| Unit::Us.of_ns(ns[i], 0))
}
