//! Resumable uploads and downloads survive their process, against Ceph RGW: the shared
//! scenario `test-support/scenarios/resume.rs` run by the blocking client.

use s3_blocking as s3;

macro_rules! x {
    ($e:expr) => {
        $e
    };
}

macro_rules! transfer_fn {
    (fn $name:ident($($arg:ident: $ty:ty),*) $(-> $out:ty)? $body:block) => {
        fn $name($($arg: $ty),*) $(-> $out)? $body
    };
}

include!("../../test-support/scenarios/resume.rs");

#[test]
#[ignore = "run by the parent test below, which kills it"]
fn child_uploads_until_killed() {
    child_uploads();
}

#[test]
fn a_killed_upload_resumes_in_another_process() {
    upload_resumes();
}

#[test]
#[ignore = "run by the parent test below, which kills it"]
fn child_downloads_until_killed() {
    child_downloads();
}

#[test]
fn a_killed_download_resumes_in_another_process() {
    download_resumes();
}
