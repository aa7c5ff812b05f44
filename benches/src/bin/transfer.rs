//! One large-object transfer by s3-blocking or s3-async, measured from inside the process:
//! `transfer.sh` runs it once per (client, operation) and builds the table in README.md.
//!
//! ```text
//! transfer <blocking|tokio> <op> <endpoint> <access-key> <secret-key> <bucket> <key> <file>
//! ```
//!
//! Ops: `put` (one streamed PutObject, UNSIGNED-PAYLOAD), `sput` (the same with the default
//! config: signed chunk by chunk), `get` (one streamed GET into the
//! file via `download_to`), `mpu` / `mpu16` (`upload_file_with`: default config and options
//! / 16 MiB parts with a 128 MiB budget), `pget` / `pget16` (`download_file_with`: default options /
//! 16 MiB ranges with a 128 MiB budget), `head` (prints size and ETag, for checking), `cput`
//! (`upload_file_with` as one PutObject with a CRC32C the server stores), `cget` / `cpget` (`get`
//! / `pget` of such an object, named apart in the results). Reads print how their bytes were
//! verified on stderr (`verified\t…`).
//!
//! Prints one TSV line: `client op seconds bytes user_s sys_s peak_rss_kib base_rss_kib`.
//! Seconds cover the transfer only (client construction excluded, it makes no request).
//! CPU is the whole process (all threads, exited ones included) from `/proc/self/stat`; peak
//! RSS is `VmHWM` from `/proc/self/status`, `base_rss_kib` the RSS before the transfer.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use s3_proto::{Config, Credentials};

const MIB: u64 = 1 << 20;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [client, op, endpoint, ak, sk, bucket, key, file] = args.as_slice() else {
        eprintln!(
            "usage: transfer <blocking|tokio> \
             <put|sput|get|cget|mpu|mpu16|pget|cpget|pget16|head|cput> \
             <endpoint> <access-key> <secret-key> <bucket> <key> <file>"
        );
        std::process::exit(2);
    };
    // `put`: UNSIGNED-PAYLOAD as curl sends it. Every other op keeps the default config:
    // `sput` a stream signed chunk by chunk, `mpu` parts signed with their SHA-256 where the
    // server checks it (else with Content-MD5), so the server can check every body.
    let config = Config::new(endpoint, "us-east-1")
        .unwrap_or_else(|e| fail(&e))
        .unsigned_payload(op == "put");
    let credentials = Credentials::new(ak.as_str(), sk.as_str());
    let base_rss = status_kib("VmRSS:");
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let bytes = match client.as_str() {
        "blocking" => blocking(config, credentials, op, bucket, key, file),
        "tokio" => tokio_run(config, credentials, op, bucket, key, file),
        other => fail(&format!("unknown client {other}")),
    };
    let seconds = t0.elapsed().as_secs_f64();
    let cpu1 = cpu_seconds();
    println!(
        "{client}\t{op}\t{seconds:.3}\t{bytes}\t{:.2}\t{:.2}\t{}\t{base_rss}",
        cpu1.0 - cpu0.0,
        cpu1.1 - cpu0.1,
        status_kib("VmHWM:"),
    );
}

fn fail(e: &dyn std::fmt::Display) -> ! {
    eprintln!("transfer: {e}");
    std::process::exit(1);
}

fn tuned_upload() -> s3_proto::flow::upload::UploadOptions {
    s3_proto::flow::upload::UploadOptions::default()
        .part_size(16 * MIB)
        .memory_budget(128 * MIB)
}

fn tuned_download() -> s3_proto::flow::download::DownloadOptions {
    s3_proto::flow::download::DownloadOptions::default()
        .part_size(16 * MIB)
        .memory_budget(128 * MIB)
}

/// One PutObject carrying the file's CRC32C, which servers that store checksums keep and
/// return, so a read can verify against it instead of the ETag's MD5.
fn checksummed_put() -> s3_proto::flow::upload::UploadOptions {
    s3_proto::flow::upload::UploadOptions::default()
        .threshold(5 << 30)
        .checksum(s3_proto::checksum::ChecksumAlgorithm::Crc32c)
}

/// The read's size, after saying on stderr how its bytes were verified.
fn verified(head: &s3_proto::ObjectHead) -> u64 {
    eprintln!("verified\t{:?}", head.verified);
    head.content_length.unwrap_or(0)
}

fn file_len(path: &str) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| fail(&format!("{path}: {e}")))
        .len()
}

fn blocking(
    config: Config,
    credentials: Credentials,
    op: &str,
    bucket: &str,
    key: &str,
    path: &str,
) -> u64 {
    use s3_blocking::{Client, DownloadOptions, UploadOptions};
    let client = Client::new(config, credentials);
    let bucket = client.bucket(bucket).unwrap_or_else(|e| fail(&e));
    let result = match op {
        "put" | "sput" => {
            let len = file_len(path);
            let mut file = std::fs::File::open(path).unwrap_or_else(|e| fail(&e));
            bucket.put_reader(key, &mut file, len).map(|_| len)
        }
        "get" | "cget" => {
            let file = std::fs::File::create(path).unwrap_or_else(|e| fail(&e));
            bucket.download_to(key, file).map(|h| verified(&h))
        }
        "cput" => bucket
            .upload_file_with(key, path, checksummed_put())
            .map(|_| file_len(path)),
        "mpu" => bucket
            .upload_file_with(key, path, UploadOptions::default())
            .map(|_| file_len(path)),
        "mpu16" => bucket
            .upload_file_with(key, path, tuned_upload())
            .map(|_| file_len(path)),
        "pget" | "cpget" => bucket
            .download_file_with(key, path, DownloadOptions::default())
            .map(|h| verified(&h)),
        "pget16" => bucket
            .download_file_with(key, path, tuned_download())
            .map(|h| verified(&h)),
        "head" => bucket.head(key).map(|h| {
            let h = h.unwrap_or_else(|| fail(&"no such key"));
            eprintln!("etag\t{}", h.etag.as_deref().unwrap_or("-"));
            h.content_length.unwrap_or(0)
        }),
        other => fail(&format!("unknown op {other}")),
    };
    result.unwrap_or_else(|e| fail(&e))
}

fn tokio_run(
    config: Config,
    credentials: Credentials,
    op: &str,
    bucket: &str,
    key: &str,
    path: &str,
) -> u64 {
    use s3_async::{Client, DownloadOptions, UploadOptions};
    // Current-thread runtime: file IO still goes to tokio's blocking pool.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&e));
    rt.block_on(async {
        let client = Client::new(config, credentials);
        let bucket = client.bucket(bucket).unwrap_or_else(|e| fail(&e));
        let result = match op {
            "put" | "sput" => {
                let len = file_len(path);
                let file = tokio::fs::File::open(path)
                    .await
                    .unwrap_or_else(|e| fail(&e));
                bucket.put_reader(key, file, len).await.map(|_| len)
            }
            "get" | "cget" => {
                let file = tokio::fs::File::create(path)
                    .await
                    .unwrap_or_else(|e| fail(&e));
                bucket.download_to(key, file).await.map(|h| verified(&h))
            }
            "cput" => bucket
                .upload_file_with(key, path, checksummed_put())
                .await
                .map(|_| file_len(path)),
            "mpu" => bucket
                .upload_file_with(key, path, UploadOptions::default())
                .await
                .map(|_| file_len(path)),
            "mpu16" => bucket
                .upload_file_with(key, path, tuned_upload())
                .await
                .map(|_| file_len(path)),
            "pget" | "cpget" => bucket
                .download_file_with(key, path, DownloadOptions::default())
                .await
                .map(|h| verified(&h)),
            "pget16" => bucket
                .download_file_with(key, path, tuned_download())
                .await
                .map(|h| verified(&h)),
            other => fail(&format!("unknown op {other}")),
        };
        result.unwrap_or_else(|e| fail(&e))
    })
}

/// User and system CPU seconds of this process so far (fields 14 and 15 of
/// `/proc/self/stat`, in clock ticks of 1/100 s on Linux x86-64).
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces: count fields after its closing paren.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After ")": field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
    (ticks(11) / 100.0, ticks(12) / 100.0)
}

/// A `kB` line of `/proc/self/status` (`VmHWM:` peak RSS, `VmRSS:` current).
fn status_kib(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
