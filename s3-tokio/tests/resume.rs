//! Resumable uploads and downloads survive their process, against Ceph RGW: the shared
//! scenario `test-support/scenarios/resume.rs` run by the async client.

use s3_async as s3;

macro_rules! x {
    ($e:expr) => {
        $e.await
    };
}

macro_rules! transfer_fn {
    (fn $name:ident($($arg:ident: $ty:ty),*) $(-> $out:ty)? $body:block) => {
        async fn $name($($arg: $ty),*) $(-> $out)? $body
    };
}

include!("../../test-support/scenarios/resume.rs");

#[tokio::test]
#[ignore = "run by the parent test below, which kills it"]
async fn child_uploads_until_killed() {
    child_uploads().await;
}

#[tokio::test]
async fn a_killed_upload_resumes_in_another_process() {
    upload_resumes().await;
}

#[tokio::test]
#[ignore = "run by the parent test below, which kills it"]
async fn child_downloads_until_killed() {
    child_downloads().await;
}

#[tokio::test]
async fn a_killed_download_resumes_in_another_process() {
    download_resumes().await;
}
