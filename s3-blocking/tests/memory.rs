//! Large files stream in constant memory: the process's peak RSS barely moves while a
//! 100 MiB+ file goes up and comes back. Alone in its binary so the peak is ours.

#![allow(clippy::print_stderr)]

use std::io::{Read, Write};

use s3_blocking::Client;
use test_support::unique_bucket;

/// Peak resident memory so far (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn write_file(path: &std::path::Path, len: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let block: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    f.flush().unwrap();
}

fn same_bytes(a: &std::path::Path, b: &std::path::Path) -> bool {
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut ba, mut bb) = (vec![0; 1 << 20], vec![0; 1 << 20]);
    loop {
        let na = fa.read(&mut ba).unwrap();
        let mut nb = 0;
        while nb < na {
            let n = fb.read(&mut bb[nb..na]).unwrap();
            if n == 0 {
                return false;
            }
            nb += n;
        }
        if na == 0 {
            return fb.read(&mut bb).unwrap() == 0;
        }
        if ba[..na] != bb[..na] {
            return false;
        }
    }
}

#[test]
fn hundred_mib_round_trip_in_flat_memory() {
    let servers: Vec<_> = test_support::ALL_SERVERS
        .iter()
        .filter_map(|name| test_support::server(name))
        .collect();
    let dir = std::env::temp_dir().join(unique_bucket("memory"));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("big.bin");
    let len = 101 << 20;
    write_file(&src, len);
    for server in servers {
        let client = Client::new(server.config(), server.credentials());
        let bucket = client.create_bucket(&unique_bucket("memory")).unwrap();
        let before = peak_rss_kib();
        bucket.upload_file("big.bin", &src).unwrap();
        let dst = dir.join(format!("{}.down", server.name));
        bucket.download_file("big.bin", &dst).unwrap();
        let grew = peak_rss_kib().saturating_sub(before);
        assert!(
            same_bytes(&src, &dst),
            "{}: downloaded bytes differ",
            server.name
        );
        eprintln!(
            "{}: 101 MiB up and down, peak RSS grew by {grew} KiB",
            server.name
        );
        assert!(
            grew < 48 * 1024,
            "{}: peak RSS grew by {grew} KiB",
            server.name
        );
        bucket.delete_key("big.bin").unwrap();
        bucket.delete().unwrap();
        std::fs::remove_file(&dst).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
