// Resumable transfers survive their process, against Ceph RGW: a child process (this test
// binary again, running an ignored test) uploading or downloading a file is killed mid-way,
// and the parent resumes from the state file it left, moving only what the state does not
// hold; the result is checked byte for byte. Included by both runtimes' `tests/resume.rs`,
// which provide `s3` (the runtime crate), `x!` (`.await` or nothing) and `transfer_fn!` (an
// `async fn` or a plain one).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use s3_proto::flow::download::{DownloadOptions, partial_path};
use s3_proto::flow::resume::{DownloadState, UploadState};
use s3_proto::flow::upload::UploadOptions;
use test_support::files::{make_file, sha256, temp_dir};
use test_support::unique_bucket;

const PART: u64 = 5 << 20;
/// Whole parts in the object: 20 (100 MiB), or `S3RS_RESUME_PARTS` (204 for the issue's
/// 1 GiB run: `S3RS_RESUME_PARTS=204 cargo test -p s3-blocking --test resume`).
fn parts_total() -> u64 {
    std::env::var("S3RS_RESUME_PARTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

/// The object's length: `parts_total()` whole parts and a short one.
fn object_len() -> u64 {
    parts_total() * PART + 4321
}

fn upload_options() -> UploadOptions {
    // One part at a time: the child is still uploading when it is killed.
    UploadOptions::default().part_size(PART).memory_budget(PART)
}

fn download_options() -> DownloadOptions {
    // One range at a time, likewise.
    DownloadOptions::default()
        .part_size(PART)
        .memory_budget(PART)
}

fn var(name: &str) -> String {
    std::env::var(name).expect("the parent sets it")
}

/// The child's client and bucket (named by the parent).
fn child_bucket() -> s3::Bucket {
    let server = test_support::server("ceph").expect("ceph");
    let client = s3::Client::new(server.config(), server.credentials());
    client.bucket(&var("S3RS_RESUME_BUCKET")).unwrap()
}

/// Runs the ignored test `test` of this binary as a child process.
fn spawn_child(test: &str, bucket: &str, file: &Path, state: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", test, "--nocapture"])
        .env("S3RS_RESUME_BUCKET", bucket)
        .env("S3RS_RESUME_FILE", file)
        .env("S3RS_RESUME_STATE", state)
        .spawn()
        .unwrap()
}

/// Kills `child` once the state file at `state` says `enough` (a state file is replaced
/// whole, never half written), and returns that state's bytes.
fn kill_when(mut child: Child, state: &Path, enough: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if std::fs::read(state).is_ok_and(|b| enough(&b)) {
            child.kill().unwrap();
            child.wait().unwrap();
            return std::fs::read(state).unwrap();
        }
        assert!(Instant::now() < deadline, "the child saved too little");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

// A bucket of its own and a temporary directory.
transfer_fn! {
    fn setup(prefix: &str) -> (s3::Client, s3::Bucket, String, PathBuf) {
        let server = test_support::server("ceph").expect("ceph");
        let client = s3::Client::new(server.config(), server.credentials());
        let name = unique_bucket(prefix);
        let bucket = x!(client.create_bucket(&name)).unwrap();
        (client, bucket, name, temp_dir(prefix))
    }
}

transfer_fn! {
    fn teardown(client: &s3::Client, bucket: &s3::Bucket, name: &str, dir: &Path) {
        x!(bucket.delete_prefix("")).unwrap();
        x!(client.delete_bucket(name)).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}

// The child side of the upload: uploads the file the parent names, resumably, until killed.
transfer_fn! {
    fn child_uploads() {
        let bucket = child_bucket();
        let (file, state) = (var("S3RS_RESUME_FILE"), var("S3RS_RESUME_STATE"));
        let _ = x!(bucket.upload_file_resumable("big.bin", file, state, upload_options()));
    }
}

transfer_fn! {
    fn upload_resumes() {
        let (client, bucket, name, dir) = x!(setup("resume"));
        let file = make_file(&dir, "big.bin", object_len());
        let state: PathBuf = dir.join("big.bin.upload");
        let child = spawn_child("child_uploads_until_killed", &name, &file, &state);
        // Killed once a few parts are saved.
        let parts = |b: &[u8]| UploadState::decode(b).map_or(0, |s| s.parts.len());
        let saved = kill_when(child, &state, |b| parts(b) >= 3);
        let saved = UploadState::decode(&saved).unwrap();
        let kept = saved.parts.len() as u64;
        assert!(kept < parts_total(), "killed mid-way");

        // Progress reports the parts the state holds at once, then each part sent.
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = calls.clone();
        let resumed = bucket.with_progress(move |p| seen.lock().unwrap().push(p.bytes));
        let out = x!(resumed.upload_file_resumable("big.bin", &file, &state, upload_options()));
        assert_eq!(out.unwrap().parts, (parts_total() + 1) as u16);
        let calls = calls.lock().unwrap().clone();
        assert_eq!(calls[0], kept * PART, "the saved parts are taken up: {calls:?}");
        assert!(
            calls.len() as u64 - 1 <= parts_total() + 1 - kept,
            "{} parts sent, {} were missing",
            calls.len() - 1,
            parts_total() + 1 - kept
        );
        assert!(!state.exists(), "the state file is removed once complete");
        let back = dir.join("back.bin");
        x!(bucket.download_file("big.bin", &back)).unwrap();
        assert_eq!(sha256(&back), sha256(&file), "byte for byte");
        let mut uploads = bucket.multipart_uploads("");
        assert!(x!(uploads.next()).is_none(), "no upload left behind");
        x!(teardown(&client, &bucket, &name, &dir));
    }
}

// The child side of the download: downloads the object to the file the parent names,
// resumably, until killed.
transfer_fn! {
    fn child_downloads() {
        let bucket = child_bucket();
        let (file, state) = (var("S3RS_RESUME_FILE"), var("S3RS_RESUME_STATE"));
        let _ = x!(bucket.download_file_resumable("big.bin", file, state, download_options()));
    }
}

transfer_fn! {
    fn download_resumes() {
        let (client, bucket, name, dir) = x!(setup("resumedl"));
        let source = make_file(&dir, "source.bin", object_len());
        // A multipart object: its ETag is verified part by part, the kept parts read back.
        let options = UploadOptions::default().part_size(PART);
        x!(bucket.upload_file_with("big.bin", &source, options)).unwrap();
        let target = dir.join("big.bin");
        let state: PathBuf = dir.join("big.bin.download");
        let child = spawn_child("child_downloads_until_killed", &name, &target, &state);
        let done = |b: &[u8]| DownloadState::decode(b).map_or(0, |s| s.done_bytes());
        let saved = kill_when(child, &state, |b| done(b) >= 3 * PART);
        let saved = DownloadState::decode(&saved).unwrap();
        let kept = saved.done_bytes();
        assert!(kept < object_len(), "killed mid-way");
        let partial = partial_path(&target).unwrap();
        assert!(partial.exists() && !target.exists(), "only the partial file");

        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = calls.clone();
        let resumed = bucket.with_progress(move |p| seen.lock().unwrap().push(p.bytes));
        let head = x!(resumed.download_file_resumable("big.bin", &target, &state, download_options()))
            .unwrap();
        let calls = calls.lock().unwrap().clone();
        assert_eq!(calls[0], kept, "the saved ranges are taken up: {calls:?}");
        let missing = (object_len() - kept).div_ceil(PART) + saved.done.len() as u64;
        assert!(
            calls.len() as u64 - 1 <= missing,
            "{} ranges fetched, at most {missing} were missing",
            calls.len() - 1
        );
        let verified = s3_proto::integrity::Verification::MultipartEtag {
            parts: (parts_total() + 1) as u32,
            part_size: PART,
        };
        assert_eq!(head.verified, Some(verified));
        assert!(!state.exists(), "the state file is removed once complete");
        assert!(!partial.exists(), "the partial file is renamed into place");
        assert_eq!(sha256(&target), sha256(&source), "byte for byte");
        x!(teardown(&client, &bucket, &name, &dir));
    }
}
