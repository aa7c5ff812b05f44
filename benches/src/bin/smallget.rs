//! Sequential small GETs against a real server (issue 15's per-request target): s3-blocking
//! and s3-async `Client::send(&GetObject)` of one small object, against a raw socket that
//! replays one signed request's bytes over a kept-alive connection and reads the reply (the
//! transport and server cost every client pays, with no signing, HTTP library or parsing).
//!
//! ```text
//! smallget <endpoint> <access-key> <secret-key> <bucket> <key> [requests] [rounds]
//! ```
//!
//! `smallget.sh` starts the servers if needed, puts a 0-byte object and runs this. Contenders
//! take turns, `requests` GETs each (default 2000), for `rounds` rounds (default 5); the table
//! shows medians of requests per second and client CPU per request. CPU is the main thread's
//! (`/proc/thread-self/schedstat`, nanoseconds): every contender runs on it (ureq, a
//! current-thread tokio runtime, the raw socket).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Instant, SystemTime};

use s3_proto::ops::GetObject;
use s3_proto::{Addressing, Config, Credentials};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (endpoint, ak, sk, bucket, key) = match args.as_slice() {
        [e, a, s, b, k, ..] => (e, a, s, b, k),
        _ => {
            eprintln!(
                "usage: smallget <endpoint> <access-key> <secret-key> <bucket> <key> \
                 [requests] [rounds]"
            );
            std::process::exit(2);
        }
    };
    let number = |i: usize, default: usize| {
        args.get(i)
            .map_or(Ok(default), |v| v.parse())
            .unwrap_or_else(|e| fail(&e))
    };
    let (requests, rounds) = (number(5, 2000), number(6, 5));
    let config = Config::new(endpoint, "us-east-1")
        .unwrap_or_else(|e| fail(&e))
        .addressing(Addressing::Path);
    let creds = Credentials::new(ak.as_str(), sk.as_str());
    let op = GetObject::new(
        bucket.parse().unwrap_or_else(|e| fail(&e)),
        key.parse().unwrap_or_else(|e| fail(&e)),
    );

    let blocking = s3_blocking::Client::new(config.clone(), creds.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&e));
    let tokio_client = rt.block_on(async { s3_async::Client::new(config.clone(), creds.clone()) });
    let mut raw = Raw::new(&config, &creds, &op);
    let size = blocking
        .send(&op)
        .unwrap_or_else(|e| fail(&e))
        .content_length;
    eprintln!("smallget: {requests} GETs of a {size:?}-byte object per turn, {rounds} rounds");

    let names = ["raw socket replay", "s3-blocking", "s3-async"];
    let mut results: Vec<Vec<(f64, f64)>> = vec![Vec::new(); names.len()];
    // Every request's latency (µs) after the warm-up round, per contender.
    let mut latencies: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for round in 0..=rounds {
        for (i, result) in results.iter_mut().enumerate() {
            let (cpu0, t0) = (thread_cpu_ns(), Instant::now());
            for _ in 0..requests {
                let start = Instant::now();
                match i {
                    0 => raw.get(),
                    1 => {
                        blocking.send(&op).unwrap_or_else(|e| fail(&e));
                    }
                    _ => {
                        rt.block_on(tokio_client.send(&op))
                            .unwrap_or_else(|e| fail(&e));
                    }
                }
                if round > 0 {
                    latencies[i].push(start.elapsed().as_secs_f64() * 1e6);
                }
            }
            let seconds = t0.elapsed().as_secs_f64();
            let cpu_us = (thread_cpu_ns() - cpu0) as f64 / 1e3 / requests as f64;
            // Round 0 warms connections and caches up.
            if round > 0 {
                result.push((requests as f64 / seconds, cpu_us));
            }
        }
    }

    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let stats: Vec<(f64, f64)> = results
        .iter()
        .map(|r| {
            (
                median(r.iter().map(|x| x.0).collect()),
                median(r.iter().map(|x| x.1).collect()),
            )
        })
        .collect();
    println!("| contender | req/s (median) | client CPU µs/req (median) | ÷ raw req/s |");
    println!("|---|--:|--:|--:|");
    for (name, (rate, cpu)) in names.iter().zip(&stats) {
        println!(
            "| {name} | {rate:.0} | {cpu:.1} | {:.2}× |",
            rate / stats[0].0
        );
    }
    println!();
    // Whether a gap is every request a little slower or a few much slower.
    println!("| contender | latency p50 µs | p90 | p99 | p99.9 | max | requests over 10 ms |");
    println!("|---|--:|--:|--:|--:|--:|--:|");
    for (name, l) in names.iter().zip(&mut latencies) {
        l.sort_by(f64::total_cmp);
        let at = |q: f64| l[((l.len() - 1) as f64 * q) as usize];
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
            at(0.5),
            at(0.9),
            at(0.99),
            at(0.999),
            at(1.0),
            l.iter().filter(|&&x| x > 10_000.0).count()
        );
    }
    println!();
    println!("| target | goal | measured | met |");
    println!("|---|---|---|---|");
    for (name, (rate, cpu)) in names.iter().zip(&stats).skip(1) {
        let ratio = rate / stats[0].0;
        let met = |ok: bool| if ok { "met" } else { "MISSED" };
        println!(
            "| {name} sequential GETs | ≥ 0.95× raw replay | {ratio:.2}× | {} |",
            met(ratio >= 0.95)
        );
        println!(
            "| {name} client CPU | ≤ 30 µs/request | {cpu:.1} µs | {} |",
            met(*cpu <= 30.0)
        );
    }
}

/// One signed GetObject's bytes, replayed over a kept-alive connection.
struct Raw {
    stream: TcpStream,
    request: Vec<u8>,
    buf: Vec<u8>,
}

impl Raw {
    fn new(config: &Config, creds: &Credentials, op: &GetObject) -> Raw {
        let req = config
            .prepare(op, creds, SystemTime::now())
            .unwrap_or_else(|e| fail(&e));
        let uri = req.uri();
        let authority = uri.authority().unwrap_or_else(|| fail(&"no host"));
        let target = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = format!("GET {target} HTTP/1.1\r\n");
        for (name, value) in req.headers() {
            let value = value.to_str().unwrap_or_else(|e| fail(&e));
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let port = authority.port_u16().unwrap_or(80);
        let stream = TcpStream::connect((authority.host(), port)).unwrap_or_else(|e| fail(&e));
        stream.set_nodelay(true).unwrap_or_else(|e| fail(&e));
        Raw {
            stream,
            request: request.into_bytes(),
            buf: vec![0; 64 * 1024],
        }
    }

    /// Sends the request and reads the reply: the head, then `Content-Length` bytes.
    fn get(&mut self) {
        self.stream
            .write_all(&self.request)
            .unwrap_or_else(|e| fail(&e));
        let mut have = 0;
        let head_end = loop {
            if let Some(p) = self.buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let n = self
                .stream
                .read(&mut self.buf[have..])
                .unwrap_or_else(|e| fail(&e));
            if n == 0 {
                fail(&"connection closed");
            }
            have += n;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]);
        if !head.starts_with("HTTP/1.1 200") {
            fail(&format!(
                "raw replay answered {}",
                head.lines().next().unwrap_or("")
            ));
        }
        let length: usize = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        let mut left = (head_end + length).saturating_sub(have);
        while left > 0 {
            let n = self
                .stream
                .read(&mut self.buf[..left.min(64 * 1024)])
                .unwrap_or_else(|e| fail(&e));
            if n == 0 {
                fail(&"connection closed");
            }
            left -= n;
        }
    }
}

/// CPU time of this thread so far, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn fail(e: &dyn std::fmt::Display) -> ! {
    eprintln!("smallget: {e}");
    std::process::exit(1);
}
