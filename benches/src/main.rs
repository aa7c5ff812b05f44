//! Side-by-side timings of s3-rs against its peers: `cargo run --release` in this directory.
//!
//! Every row runs ours and the peers on identical input in one process, after checking they
//! agree (same signature, same parsed fields). `--callgrind <workload> <iterations>` runs one
//! workload with no timing, for `callgrind.sh`; `--list` names the workloads.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod client;
mod harness;
mod parse;
mod sign;
mod verify;

use std::collections::HashMap;

use harness::{Row, Target, Unit, Workload, measure_group};

fn all_workloads() -> HashMap<&'static str, Workload> {
    sign::workloads()
        .into_iter()
        .chain(parse::workloads())
        .chain(verify::workloads())
        .map(|w| (w.name, w))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--list") => {
            let mut names: Vec<_> = all_workloads().into_keys().collect();
            names.sort_unstable();
            for n in names {
                println!("{n}");
            }
        }
        Some("--callgrind") => callgrind(&args[1..]),
        Some(other) if other.starts_with('-') || !SECTIONS.contains(&other) => {
            eprintln!(
                "usage: s3-benches [--list | --callgrind <workload> <iterations> | <section>...]"
            );
            eprintln!("unknown argument {other}; sections: {}", SECTIONS.join(" "));
            std::process::exit(2);
        }
        _ => run_all(&args),
    }
}

/// Runs one workload `iterations` times with no timing; prints its bytes per call.
fn callgrind(args: &[String]) {
    let (Some(name), Some(iters)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: s3-benches --callgrind <workload> <iterations>");
        std::process::exit(2);
    };
    let mut workloads = all_workloads();
    let Some(w) = workloads.get_mut(name.as_str()) else {
        eprintln!("unknown workload {name}; see --list");
        std::process::exit(2);
    };
    for _ in 0..iters {
        (w.run)();
    }
    println!("bytes_per_op {}", w.bytes);
}

/// Times the named workloads together (interleaved batches); results in `unit`.
fn group(w: &mut HashMap<&'static str, Workload>, names: &[&str], unit: Unit) -> Vec<f64> {
    let mut taken: Vec<Workload> = names
        .iter()
        .map(|n| w.remove(*n).expect("known workload, timed once"))
        .collect();
    let bytes: Vec<usize> = taken.iter().map(|t| t.bytes).collect();
    let mut runs: Vec<&mut dyn FnMut()> = taken.iter_mut().map(|t| &mut *t.run as _).collect();
    let ns = measure_group(&mut runs);
    ns.iter()
        .zip(bytes)
        .map(|(&ns, b)| unit.of_ns(ns, b))
        .collect()
}

/// Groups of rows that `s3-benches <section>...` times alone (all of them by default).
const SECTIONS: [&str; 8] = [
    "sign", "presign", "creds", "sigv2", "chunk", "parse", "verify", "client",
];

fn run_all(only: &[String]) {
    let on = |section: &str| only.is_empty() || only.iter().any(|o| o == section);
    // One CPU for every thread, the loopback server included: on a VM, a round trip between
    // two vCPUs costs whatever waking an idle vCPU costs (measured here: 14 µs pinned, 60-80 µs
    // unpinned on a quiet machine, flipping between runs); on one CPU it is a context switch.
    let core = core_affinity::get_core_ids().and_then(|ids| ids.last().copied());
    if !core.is_some_and(core_affinity::set_for_current) {
        eprintln!("could not pin to one CPU; client round trips will be noisy");
    }
    sign::verify();
    parse::verify();
    eprintln!("implementations agree; timing (about 20 s)...");

    let mut w = all_workloads();
    let list_kb = w["parse"].bytes / 1000;
    let mut rows = Vec::new();
    let mut targets = Vec::new();

    if on("sign") {
        // 1. SigV4 header signing.
        let t = group(
            &mut w,
            &["sign", "sign-aws", "sign-rusty", "sign-floor", "sign-copy"],
            Unit::Ns,
        );
        let row = Row::new("SigV4 header signing, GET with range", Unit::Ns, t[0])
            .aws(t[1])
            .rusty(t[2])
            .floor(t[3]);
        // `sign` and `sign-aws` each copy a template request per call (signing adds headers to
        // it); the floor builds none. The signing itself is judged net of that copy.
        let net = Row::new(
            "SigV4 header signing, net of the request copy",
            Unit::Ns,
            t[0] - t[4],
        )
        .aws(t[1] - t[4])
        .rusty(t[2])
        .floor(t[3]);
        let (vs_floor, vs_peer) = (
            net.vs_floor().unwrap_or(f64::NAN),
            net.vs_best_peer().unwrap_or(f64::NAN),
        );
        targets.push(Target::at_most(
            "SigV4 header signing",
            "≤ 1 µs/request",
            (t[0] - t[4]) / 1e3,
            1.0,
            "µs",
        ));
        targets.push(Target::at_most(
            "SigV4 header signing",
            "≤ 1.5× floor",
            vs_floor,
            1.5,
            "× floor",
        ));
        targets.push(Target::at_least(
            "SigV4 header signing",
            "≥ 6× faster than best peer",
            vs_peer,
            6.0,
            "×",
        ));
        rows.push(row);
        rows.push(net);
    }

    if on("presign") {
        // 2. Presigned URLs.
        let t = group(
            &mut w,
            &["presign", "presign-op", "presign-aws", "presign-rusty"],
            Unit::Ns,
        );
        rows.push(
            Row::new(
                "Presign GET (SigV4::presign, built request)",
                Unit::Ns,
                t[0],
            )
            .aws(t[2])
            .rusty(t[3]),
        );
        rows.push(
            Row::new(
                "Presign GetObject (Config::presign, bucket + key)",
                Unit::Ns,
                t[1],
            )
            .aws(t[2])
            .rusty(t[3]),
        );
        targets.push(Target::at_least(
            "Presign GetObject (op level)",
            "≥ 2.5× faster than rusty-s3",
            t[3] / t[1],
            2.5,
            "×",
        ));
    }

    if on("creds") {
        // 2b. Credentials per attempt: the warm cache against fixed keys (same order as signing).
        let t = group(&mut w, &["creds-cached", "creds-fixed"], Unit::Ns);
        rows.push(
            Row::new(
                "Credentials for one attempt, warm cache (floor: fixed keys)",
                Unit::Ns,
                t[0],
            )
            .floor(t[1]),
        );
    }

    if on("sigv2") {
        // 3. SigV2 and aws-chunked.
        let t = group(&mut w, &["sigv2", "sigv2-floor"], Unit::Ns);
        rows.push(Row::new("SigV2 header signing, GET with range", Unit::Ns, t[0]).floor(t[1]));
    }

    if on("chunk") {
        let t = group(&mut w, &["chunk", "chunk-sha256"], Unit::MBs);
        rows.push(
            Row::new(
                "aws-chunked chunk signature, 64 KiB chunks",
                Unit::MBs,
                t[0],
            )
            .floor(t[1]),
        );
    }

    if on("parse") {
        // 4. XML parsing.
        let t = group(
            &mut w,
            &["parse", "parse-smithy", "parse-rusty", "parse-floor"],
            Unit::MBs,
        );
        let name = format!("ListObjectsV2 parse, {} keys ({list_kb} KB)", parse::KEYS);
        targets.push(Target::at_least(
            "ListObjectsV2 parse",
            "≥ 180 MB/s",
            t[0],
            180.0,
            "MB/s",
        ));
        targets.push(Target::at_least(
            "ListObjectsV2 parse",
            "≥ 0.9× the quick-xml floor's speed",
            t[0] / t[3],
            0.9,
            "× floor",
        ));
        rows.push(
            Row::new(name, Unit::MBs, t[0])
                .aws(t[1])
                .rusty(t[2])
                .floor(t[3]),
        );
        for (name, label) in [
            ("parse-acl", "GetBucketAcl parse (4 grants)"),
            ("parse-cors", "GetBucketCors parse (3 rules)"),
            ("parse-error", "ServiceError::from_response (NoSuchKey)"),
        ] {
            let bytes = w[name].bytes;
            let t = group(&mut w, &[name], Unit::MBs);
            rows.push(Row::new(format!("{label}, {bytes} B"), Unit::MBs, t[0]));
        }
    }

    if on("verify") {
        // 5. Verifying downloads (issue: every byte read verified), per GiB of body.
        let t = group(
            &mut w,
            &[
                "verify-md5",
                "verify-multipart",
                "verify-multipart-4",
                "verify-floor",
            ],
            Unit::MBs,
        );
        let per_gib = |mbs: f64| 1_073.741_824 / mbs;
        for (i, label) in [
            "Verify a single-part object (MD5 ETag), 8 MiB",
            "Verify a multipart object (ETag rebuilt, one part size), 8 MiB",
            "Verify a multipart object (four candidate part sizes), 8 MiB",
        ]
        .into_iter()
        .enumerate()
        {
            rows.push(Row::new(label, Unit::MBs, t[i]).floor(t[3]));
            eprintln!("{label}: {:.2} CPU s/GiB", per_gib(t[i]));
        }
    }

    if on("client") {
        // 6. Client overhead.
        let [blocking, tokio, aws, raw] = client::run(client::start_server());
        rows.push(
            Row::new("GetObject round trip, s3-blocking", Unit::Us, blocking)
                .aws(aws)
                .floor(raw),
        );
        rows.push(
            Row::new("GetObject round trip, s3-async", Unit::Us, tokio)
                .aws(aws)
                .floor(raw),
        );
        targets.push(Target::at_least(
            "s3-blocking per request",
            "≥ 10× less than aws-sdk-s3",
            aws / blocking,
            10.0,
            "×",
        ));
        targets.push(Target::at_least(
            "s3-async per request",
            "≥ 10× less than aws-sdk-s3",
            aws / tokio,
            10.0,
            "×",
        ));

        // The loopback round trip bounds any total-time ratio at aws / raw; this one is net of it.
        targets.push(Target::at_least(
            "s3-blocking overhead above raw socket (info)",
            "≥ 10× less than aws-sdk-s3's",
            (aws - raw) / (blocking - raw),
            10.0,
            "×",
        ));
        targets.push(Target::at_least(
            "s3-async overhead above raw socket (info)",
            "≥ 10× less than aws-sdk-s3's",
            (aws - raw) / (tokio - raw),
            10.0,
            "×",
        ));
    }

    println!();
    harness::print_rows(&rows);
    println!();
    harness::print_targets(&targets);
}
