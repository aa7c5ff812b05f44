//! A resumable upload survives its process: a child process uploading a file is killed
//! mid-way, and this one resumes from the state file it left, sending only the parts the
//! state does not hold, against Ceph RGW; the object is checked byte for byte.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use s3_proto::flow::resume::UploadState;
use s3_proto::flow::upload::UploadOptions;
use test_support::files::{make_file, sha256, temp_dir};
use test_support::unique_bucket;

const PART: u64 = 5 << 20;
const PARTS: u64 = 20;

fn options() -> UploadOptions {
    // One part at a time: the child is still uploading when it is killed.
    UploadOptions::default().part_size(PART).memory_budget(PART)
}

/// The child side: uploads the file the parent names, resumably, until it is killed.
#[tokio::test]
#[ignore = "run by the parent test below, which kills it"]
async fn child_uploads_until_killed() {
    let var = |k: &str| std::env::var(k).expect("the parent sets it");
    let server = test_support::server("ceph").expect("ceph");
    let client = s3_tokio::Client::new(server.config(), server.credentials());
    let bucket = client.bucket(&var("S3RS_RESUME_BUCKET")).unwrap();
    let _ = bucket
        .upload_file_resumable(
            "big.bin",
            var("S3RS_RESUME_FILE"),
            var("S3RS_RESUME_STATE"),
            options(),
        )
        .await;
}

#[tokio::test]
async fn a_killed_upload_resumes_in_another_process() {
    let Some(server) = test_support::server("ceph") else {
        return;
    };
    let client = s3_tokio::Client::new(server.config(), server.credentials());
    let name = unique_bucket("resume");
    let bucket = client.create_bucket(&name).await.unwrap();
    let dir = temp_dir("resume");
    let file = make_file(&dir, "big.bin", PARTS * PART + 4321);
    let state: PathBuf = dir.join("big.bin.upload");

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_uploads_until_killed",
            "--nocapture",
        ])
        .env("S3RS_RESUME_BUCKET", &name)
        .env("S3RS_RESUME_FILE", &file)
        .env("S3RS_RESUME_STATE", &state)
        .spawn()
        .unwrap();
    // Killed once a few parts are saved (a state file is replaced whole, never half written).
    let deadline = Instant::now() + Duration::from_secs(120);
    let saved = loop {
        let parts = std::fs::read(&state)
            .ok()
            .and_then(|b| UploadState::decode(&b).ok())
            .map_or(0, |s| s.parts.len());
        if parts >= 3 {
            child.kill().unwrap();
            child.wait().unwrap();
            break UploadState::decode(&std::fs::read(&state).unwrap()).unwrap();
        }
        assert!(Instant::now() < deadline, "the child saved no parts");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let kept = saved.parts.len() as u64;
    assert!(kept < PARTS, "killed mid-way");

    // Progress reports the parts the state holds at once, then each part sent.
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let resumed = bucket.with_progress(move |p| seen.lock().unwrap().push(p.bytes));
    let out = resumed
        .upload_file_resumable("big.bin", &file, &state, options())
        .await
        .unwrap();
    assert_eq!(out.parts, (PARTS + 1) as u16);
    let calls = calls.lock().unwrap().clone();
    assert_eq!(
        calls[0],
        kept * PART,
        "the saved parts are taken up: {calls:?}"
    );
    assert!(
        calls.len() as u64 - 1 <= PARTS + 1 - kept,
        "{} parts sent, {} were missing",
        calls.len() - 1,
        PARTS + 1 - kept
    );
    assert!(!state.exists(), "the state file is removed once complete");
    let back = dir.join("back.bin");
    bucket.download_file("big.bin", &back).await.unwrap();
    assert_eq!(sha256(&back), sha256(&file), "byte for byte");
    let mut uploads = bucket.multipart_uploads("");
    assert!(uploads.next().await.is_none(), "no upload left behind");
    bucket.delete_prefix("").await.unwrap();
    client.delete_bucket(&name).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
