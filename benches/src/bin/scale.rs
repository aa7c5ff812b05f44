//! Scale: many clients against one throttled service, client CPU per GiB through the real
//! upload and download flows, and a million-key listing, all against the in-memory S3 of
//! `s3_proto::sim` (no sockets, a virtual clock). Prints one line per measurement,
//! `scale: NAME = VALUE UNIT`, then the targets table.
//!
//! ```text
//! cargo run --release --bin scale [-- --quick]
//! ```
//!
//! Client CPU is this thread's CPU time (`/proc/thread-self/schedstat`) less the time the
//! simulated server spent serving (`Sim::stopwatch` on the same clock): signing, part
//! digests (`Content-MD5` + CRC32C on upload, the whole object's MD5 on download), copying
//! each body once as a runtime reads a file, and the flows' bookkeeping. The projection
//! `Gbit/s per core` is bytes × 8 ÷ client CPU seconds.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use s3_proto::flow::download::{DownloadFlow, DownloadOptions};
use s3_proto::flow::paginate::ListEntry;
use s3_proto::flow::request::{Options, Session};
use s3_proto::flow::upload::{Source, UploadFlow, UploadOptions};
use s3_proto::ops::ListObjectsV2;
use s3_proto::retry::RetryMode;
use s3_proto::sim::crowd::Crowd;
use s3_proto::sim::{Runtime, Sim};
use s3_proto::{Addressing, BucketName, ChecksumAlgorithm, Config, ObjectKey};

const MIB: u64 = 1 << 20;
const GIB: f64 = (1u64 << 30) as f64;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let mut table = Vec::new();
    crowd(&mut table);
    transfers(&mut table, quick);
    listing(&mut table, if quick { 100_000 } else { 1_000_000 });
    println!();
    println!("| Target | goal | measured | met |");
    println!("|---|---|--:|---|");
    for (target, goal, measured, met) in table {
        println!(
            "| {target} | {goal} | {measured} | {} |",
            if met { "met" } else { "MISSED" }
        );
    }
}

type Table = Vec<(String, String, String, bool)>;

fn line(name: &str, value: impl std::fmt::Display, unit: &str) {
    println!("scale: {name} = {value} {unit}");
}

/// 64 clients against a service serving half their load, every retry mode.
fn crowd(table: &mut Table) {
    let crowd = Crowd::default();
    line("crowd_clients", crowd.clients, "clients");
    line("crowd_capacity", crowd.capacity(), "req/s");
    for (name, mode) in [
        ("legacy", RetryMode::Legacy),
        ("standard", RetryMode::Standard),
        ("adaptive", RetryMode::Adaptive),
    ] {
        let o = crowd.run(mode).unwrap_or_else(|e| fail(&e));
        line(
            &format!("amplification_{name}"),
            format!("{:.2}", o.amplification()),
            "sent/succeeded",
        );
        line(
            &format!("seconds_{name}"),
            format!("{:.2}", o.seconds),
            "s (virtual)",
        );
        line(
            &format!("fairness_{name}"),
            format!("{:.2}", o.fairness),
            "first/last finish",
        );
        line(
            &format!("failed_clients_{name}"),
            o.failed_clients,
            "clients",
        );
        line(&format!("failed_requests_{name}"), o.failed, "requests");
        if mode != RetryMode::Legacy {
            table.push((
                format!("amplification, {name}, 2x overload"),
                "≤ 1.2".into(),
                format!("{:.2}", o.amplification()),
                o.amplification() <= 1.2,
            ));
            table.push((
                format!("failed clients, {name}, service only throttling"),
                "0".into(),
                o.failed_clients.to_string(),
                o.failed_clients == 0,
            ));
        }
    }
}

fn config() -> Config {
    Config::new("http://127.0.0.1:9000", "us-east-1")
        .unwrap_or_else(|e| fail(&e))
        .addressing(Addressing::Path)
}

fn names() -> (BucketName, ObjectKey) {
    (
        "bucket".parse().unwrap_or_else(|e| fail(&e)),
        "object".parse().unwrap_or_else(|e| fail(&e)),
    )
}

/// Upload and download at 1, 8 and 64 parts in flight.
fn transfers(table: &mut Table, quick: bool) {
    let part = 5 * MIB;
    let size = if quick { 128 * part } else { 192 * part } as usize;
    let mut data = vec![0u8; size];
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    // The floor of the `_md5` way: one MD5 over the data on this thread. An MD5 is one
    // serial stream per part, so no concurrency lifts a part's digest above it.
    let cpu0 = thread_cpu();
    let mut md5 = s3_proto::integrity::Md5::new();
    md5.update(&data);
    std::hint::black_box(md5.digest());
    let floor = gbit(size, thread_cpu().saturating_sub(cpu0));
    line("md5_floor_gbit_per_core", format!("{floor:.1}"), "Gbit/s");
    let session = Session::new(config(), s3_proto::sim::credentials(), Options::default());
    // Unprefixed: with flexible checksums, the SDKs' way where the server stores them (CRC32C
    // up, no MD5; the stored full-object CRC32C checked down). `_md5`: what S3-compatible
    // servers without stored checksums give (Content-MD5 and CRC32C on parts up, the MD5
    // ETag checked down).
    let mut destination = vec![1u8; size];
    let mut md5_up = 0.0;
    for (mode, md5) in [("", false), ("_md5", true)] {
        for n in [1u64, 8, 64] {
            let budget = n * part;
            let options = UploadOptions::default()
                .part_size(part)
                .threshold(part)
                .memory_budget(budget)
                .content_md5(md5)
                .checksum(ChecksumAlgorithm::Crc32c);
            let done = upload(&session, &data, options, n, false);
            if md5 && n == 64 {
                md5_up = gbit(size, done.0);
            }
            report(table, &format!("upload{mode}"), (n, size, floor), done);

            // Download of a single-part object, verified by its MD5 ETag or stored CRC32C.
            let mut sim = Sim::new().stopwatch(thread_cpu);
            if md5 {
                sim.put_object("bucket", "object", &data);
            } else {
                sim.put_object_with_checksum("bucket", "object", &data, ChecksumAlgorithm::Crc32c);
            }
            let (bucket, key) = names();
            let options = DownloadOptions::default()
                .part_size(part)
                .memory_budget(budget);
            let flow = DownloadFlow::new(bucket, key, options);
            let mut dest = Vec::new();
            let mut rt = Runtime::new(&mut sim, &session, n);
            // The destination's memory is faulted in before the clock starts, as a file's
            // page cache is the kernel's work, not the flow's.
            rt.scratch = std::mem::take(&mut destination);
            let cpu0 = thread_cpu();
            let head = rt.drive(flow, &[], &mut dest).unwrap_or_else(|e| fail(&e));
            let (peak, jobs) = (rt.peak_in_flight, rt.peak_jobs);
            let client = thread_cpu().saturating_sub(cpu0).saturating_sub(sim.busy());
            assert!(dest == data, "downloaded intact");
            let verified = format!("{:?}", head.verified);
            let expected = if md5 { "Md5" } else { "Crc32c" };
            assert!(verified.contains(expected), "verified: {verified}");
            let done = (client, peak, jobs, budget);
            report(table, &format!("download{mode}"), (n, size, floor), done);
            destination = dest;
        }
    }
    // `_sha256`: uploads to a server that checks signed payload hashes and stores no
    // checksum (Ceph RGW): each part signed with its SHA-256 instead of a Content-MD5 (the
    // default since), judged against the `_md5` way it replaced; the floor is one SHA-256
    // over the data on this thread.
    let cpu0 = thread_cpu();
    std::hint::black_box(s3_proto::sign::sha256_hex(&data));
    let sha_floor = gbit(size, thread_cpu().saturating_sub(cpu0));
    line(
        "sha256_floor_gbit_per_core",
        format!("{sha_floor:.1}"),
        "Gbit/s",
    );
    for n in [1u64, 8, 64] {
        let options = UploadOptions::default()
            .part_size(part)
            .threshold(part)
            .memory_budget(n * part);
        let done = upload(&session, &data, options, n, true);
        report(table, "upload_sha256", (n, size, sha_floor), done);
        if n == 64 {
            let gbit = gbit(size, done.0);
            table.push((
                "upload_sha256, client work per core, 64 in flight".into(),
                format!("≥ 2 × upload_md5 ({md5_up:.1} Gbit/s)"),
                format!(
                    "{gbit:.1} Gbit/s ({:.2}×; {:.2}× SHA-256 alone)",
                    gbit / md5_up,
                    gbit / sha_floor
                ),
                gbit >= 2.0 * md5_up,
            ));
        }
    }
}

/// Uploads `data` as one file in the simulator with `options`, `n` parts in flight (each
/// signed with its SHA-256 instead of a Content-MD5 when `payload_hashes`), and checks it
/// arrived intact: the client's CPU (the simulated server's excluded), the most bytes and
/// jobs held at once, and the budget.
fn upload(
    session: &Session,
    data: &[u8],
    options: UploadOptions,
    n: u64,
    payload_hashes: bool,
) -> (Duration, u64, usize, u64) {
    let budget = options.memory_budget;
    let mut sim = Sim::new().stopwatch(thread_cpu);
    sim.create_bucket("bucket");
    let (bucket, key) = names();
    let source = Source::File {
        len: data.len() as u64,
    };
    let flow = UploadFlow::new(bucket, key, source, options, sim.now())
        .unwrap_or_else(|e| fail(&e))
        .payload_hashes(payload_hashes);
    let cpu0 = thread_cpu();
    let mut rt = Runtime::new(&mut sim, session, n);
    rt.drive(flow, data, &mut Vec::new())
        .unwrap_or_else(|e| fail(&e));
    let (peak, jobs) = (rt.peak_in_flight, rt.peak_jobs);
    let client = thread_cpu().saturating_sub(cpu0).saturating_sub(sim.busy());
    assert_eq!(
        sim.object("bucket", "object"),
        Some(data),
        "uploaded intact"
    );
    (client, peak, jobs, budget)
}

/// Gbit/s of moving `size` bytes in `time`.
fn gbit(size: usize, time: Duration) -> f64 {
    size as f64 * 8.0 / time.as_secs_f64().max(1e-9) / 1e9
}

/// Reports one transfer: `op` at `n` in flight moved `size` bytes with `client` CPU, holding
/// at most `peak` bytes in `jobs` jobs against `budget`; an `_md5` one is judged against
/// `floor` Gbit/s, the speed of the MD5 it must compute.
fn report(
    table: &mut Table,
    op: &str,
    (n, size, floor): (u64, usize, f64),
    (client, peak, jobs, budget): (Duration, u64, usize, u64),
) {
    let secs = client.as_secs_f64().max(1e-9);
    let gbit = gbit(size, client);
    line(
        &format!("{op}_cpu_s_per_gib_{n}"),
        format!("{:.3}", secs * GIB / size as f64),
        "s",
    );
    line(
        &format!("{op}_gbit_per_core_{n}"),
        format!("{gbit:.1}"),
        "Gbit/s",
    );
    line(&format!("{op}_in_flight_{n}"), jobs, "parts (peak)");
    line(
        &format!("{op}_peak_mib_{n}"),
        peak / MIB,
        &format!("MiB held (budget {} MiB)", budget / MIB),
    );
    if n == 64 && op.ends_with("_sha256") {
        // Judged by the caller, against the `_md5` way it replaces.
    } else if n == 64 && op.ends_with("_md5") {
        table.push((
            format!("{op}, client work per core, 64 in flight"),
            format!("≥ 0.75 × MD5 alone ({floor:.1} Gbit/s)"),
            format!("{gbit:.1} Gbit/s ({:.2}×)", gbit / floor),
            gbit >= 0.75 * floor,
        ));
    } else if n == 64 {
        table.push((
            format!("{op}, client work per core, 64 in flight"),
            "≥ 10 Gbit/s".into(),
            format!("{gbit:.1} Gbit/s"),
            gbit >= 10.0,
        ));
    }
    table.push((
        format!("{op}, bytes held, {n} in flight"),
        format!("≤ {} MiB budget", budget / MIB),
        format!("{} MiB", peak / MIB),
        peak <= budget,
    ));
}

/// A million keys listed through the paginated listing, in constant memory.
fn listing(table: &mut Table, keys: usize) {
    let mut sim = Sim::new().stopwatch(thread_cpu);
    sim.create_bucket("bucket");
    for i in 0..keys {
        sim.put_object(
            "bucket",
            &format!("logs/2024/{:03}/{i:08}.json", i % 997),
            b"",
        );
    }
    let session = Session::new(config(), s3_proto::sim::credentials(), Options::default());
    let (bucket, _) = names();
    let base = rss_kib();
    let mut peak = base;
    let (mut seen, mut last) = (0usize, String::new());
    let (t0, cpu0) = (Instant::now(), thread_cpu());
    let mut rt = Runtime::new(&mut sim, &session, 0);
    let pages = rt
        .each(ListObjectsV2::new(bucket), |entry| {
            seen += 1;
            // Each key once, in order: all a caller streaming the listing keeps.
            if let ListEntry::Object(object) = entry {
                assert!(object.key > last, "keys in order");
                last = object.key;
            }
            if seen % 10_000 == 0 {
                peak = peak.max(rss_kib());
            }
        })
        .unwrap_or_else(|e| fail(&e));
    let wall = t0.elapsed().as_secs_f64();
    let client = thread_cpu()
        .saturating_sub(cpu0)
        .saturating_sub(sim.busy())
        .as_secs_f64();
    assert_eq!(seen, keys, "every key listed");
    let growth = peak.saturating_sub(base) as f64 / 1024.0;
    let tag = if keys == 1_000_000 {
        "1m".to_owned()
    } else {
        format!("{}k", keys / 1000)
    };
    line(&format!("list_{tag}_pages"), pages, "pages");
    line(
        &format!("list_{tag}_rss_mb"),
        format!("{growth:.1}"),
        "MiB RSS growth while listing",
    );
    line(
        &format!("list_{tag}_keys_per_s"),
        format!("{:.0}", keys as f64 / client.max(1e-9)),
        "keys/s (client CPU)",
    );
    line(
        &format!("list_{tag}_keys_per_s_with_sim"),
        format!("{:.0}", keys as f64 / wall),
        "keys/s (wall, server included)",
    );
    table.push((
        format!("listing {keys} keys, memory"),
        "constant (≤ 16 MiB growth)".into(),
        format!("{growth:.1} MiB"),
        growth <= 16.0,
    ));
}

/// This thread's CPU time.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// The process's resident set, KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn fail(e: &dyn std::fmt::Display) -> ! {
    eprintln!("scale: {e}");
    std::process::exit(1);
}
