//! Concurrency soak on Ceph RGW: many clients at once write and read distinct and shared keys
//! for a bounded time, and every read is verified. Objects describe themselves (writer,
//! sequence, length in a header; the rest derived from them), so a reader of a shared key can
//! tell a whole version from a mix of two.

#![allow(clippy::print_stderr)] // the soak reports its counts

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use s3_async::{Client, UploadOptions};

const WORKERS: u32 = 8;
const SHARED_KEYS: u32 = 4;
const RUN_FOR: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Counts {
    writes: AtomicU64,
    reads: AtomicU64,
    bytes_verified: AtomicU64,
    lists: AtomicU64,
}

/// The object `writer` writes as its `seq`-th version: a 16-byte header, then bytes derived
/// from it.
fn object(writer: u32, seq: u32, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len.max(16));
    out.extend_from_slice(&writer.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&(len as u64).to_le_bytes());
    let mut x = u64::from(writer) << 32 | u64::from(seq) | 1;
    while out.len() < len.max(16) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(x as u8);
    }
    out
}

/// Checks a body read back is one whole version of some writer's object.
fn verify(body: &[u8]) -> Result<(u32, u32), String> {
    if body.len() < 16 {
        return Err(format!("{} bytes: shorter than the header", body.len()));
    }
    let writer = u32::from_le_bytes(body[0..4].try_into().unwrap());
    let seq = u32::from_le_bytes(body[4..8].try_into().unwrap());
    let len = u64::from_le_bytes(body[8..16].try_into().unwrap());
    let want = object(writer, seq, usize::try_from(len).unwrap_or(usize::MAX));
    if body != want.as_slice() {
        return Err(format!(
            "writer {writer} seq {seq}: {} bytes do not match the version",
            body.len()
        ));
    }
    Ok((writer, seq))
}

async fn worker(id: u32, client: Client, bucket: String, counts: Arc<Counts>) {
    let b = client.bucket(&bucket).unwrap();
    let deadline = Instant::now() + RUN_FOR;
    let multipart = UploadOptions::default()
        .threshold(5 << 20)
        .part_size(5 << 20);
    let mut seq = 0u32;
    while Instant::now() < deadline {
        seq += 1;
        // Mostly small objects, now and then one over the multipart threshold.
        let len = if seq.is_multiple_of(25) {
            (6 << 20) + seq as usize
        } else {
            16 + (seq as usize * 7919 + id as usize * 104_729) % (256 << 10)
        };
        let data = object(id, seq, len);

        // Own key: read-after-write gives exactly what was written.
        let own = format!("w{id}/k{}", seq % 5);
        b.upload_reader(&own, &data[..], Some(data.len() as u64), multipart.clone())
            .await
            .unwrap_or_else(|e| panic!("worker {id} put {own}: {e}"));
        counts.writes.fetch_add(1, Ordering::Relaxed);
        let back = b.get_bytes(&own).await.unwrap().expect("own key present");
        assert!(
            back == data,
            "worker {id}: {own} reads back different bytes"
        );
        counts.reads.fetch_add(1, Ordering::Relaxed);
        counts
            .bytes_verified
            .fetch_add(back.len() as u64, Ordering::Relaxed);

        // Shared key: any writer's whole version, never a mix.
        let shared = format!("shared/{}", (seq + id) % SHARED_KEYS);
        if seq.is_multiple_of(2) {
            b.put_bytes(&shared, data.clone()).await.unwrap();
            counts.writes.fetch_add(1, Ordering::Relaxed);
        } else if let Some(body) = b.get_bytes(&shared).await.unwrap() {
            verify(&body).unwrap_or_else(|e| panic!("worker {id} read {shared}: {e}"));
            counts.reads.fetch_add(1, Ordering::Relaxed);
            counts
                .bytes_verified
                .fetch_add(body.len() as u64, Ordering::Relaxed);
        }

        if seq.is_multiple_of(10) {
            let listed = b.list_all(&format!("w{id}/"), None).await.unwrap();
            assert!(
                (1..=5).contains(&listed.len()),
                "worker {id}: {} own keys listed",
                listed.len()
            );
            counts.lists.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[test]
fn many_clients_many_keys_every_read_verified() {
    let Some(server) = test_support::server("ceph") else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let admin = Client::new(server.config(), server.credentials());
        let name = test_support::unique_bucket("soak");
        let bucket = admin.create_bucket(&name).await.unwrap();
        let counts = Arc::new(Counts::default());
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for id in 0..WORKERS {
            // Each worker is its own client, with its own connection pool.
            let client = Client::new(server.config(), server.credentials());
            tasks.spawn(worker(id, client, name.clone(), counts.clone()));
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("worker panicked");
        }
        let c = &counts;
        let (writes, reads) = (
            c.writes.load(Ordering::Relaxed),
            c.reads.load(Ordering::Relaxed),
        );
        eprintln!(
            "soak on ceph: {WORKERS} clients for {:?}: {writes} writes, {reads} verified reads, \
             {} bytes verified, {} listings, 0 failures",
            started.elapsed(),
            c.bytes_verified.load(Ordering::Relaxed),
            c.lists.load(Ordering::Relaxed),
        );
        assert!(
            writes > 100 && reads > 100,
            "the soak did too little: {writes} / {reads}"
        );
        let keys: Vec<String> = bucket
            .list_all("", None)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|e| match e {
                s3_async::ListEntry::Object(o) => Some(o.key),
                s3_async::ListEntry::Prefix(_) => None,
            })
            .collect();
        bucket
            .delete_keys(keys.iter().map(String::as_str))
            .await
            .unwrap();
        bucket.delete().await.unwrap();
    });
}

#[test]
fn self_describing_objects_detect_mixes() {
    let a = object(1, 2, 1000);
    assert_eq!(verify(&a), Ok((1, 2)));
    let mut mixed = a.clone();
    mixed[500..].copy_from_slice(&object(3, 4, 1000)[500..]);
    assert!(verify(&mixed).is_err());
    assert!(verify(&a[..999]).is_err());
    assert!(verify(&[]).is_err());
}
