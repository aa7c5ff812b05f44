//! TLS with a private CA, the credential chain against Ceph's STS and the local IMDSv2 and
//! container stand-ins (`test-support/scenarios/deploy.rs`) and real SSE-KMS and SSE-C
//! (`encryption.rs`), run by the async client
//! against the `cephsts` server.

use s3_async as s3;

macro_rules! x {
    ($e:expr) => {
        $e.await
    };
}

macro_rules! deploy_fn {
    ($name:ident($server:ident) $body:block) => {
        async fn $name($server: &test_support::Server) $body
        mod $name {
            #[test]
            fn cephsts() {
                if let Some(server) = test_support::sts_server() {
                    tokio::runtime::Builder::new_multi_thread()
                        .enable_all()
                        .build()
                        .expect("tokio runtime")
                        .block_on(super::$name(&server));
                }
            }
        }
    };
}

const WHOAMI: &str = "async_whoami";

async fn run_machine<R: s3::proto::credentials::Resolve + ?Sized>(
    machine: &mut R,
) -> Result<R::Output, s3::Error> {
    s3::credentials::run(machine).await
}

async fn pause(d: std::time::Duration) {
    tokio::time::sleep(d).await;
}

include!("../../test-support/scenarios/deploy.rs");
include!("../../test-support/scenarios/encryption.rs");
