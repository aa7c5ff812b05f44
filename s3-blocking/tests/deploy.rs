//! TLS with a private CA, the credential chain against Ceph's STS and the local IMDSv2 and
//! container stand-ins (`test-support/scenarios/deploy.rs`) and real SSE-KMS and SSE-C
//! (`encryption.rs`), run by the blocking client
//! against the `cephsts` server.

use s3_blocking as s3;

macro_rules! x {
    ($e:expr) => {
        $e
    };
}

macro_rules! deploy_fn {
    ($name:ident($server:ident) $body:block) => {
        fn $name($server: &test_support::Server) $body
        mod $name {
            #[test]
            fn cephsts() {
                if let Some(server) = test_support::sts_server() {
                    super::$name(&server);
                }
            }
        }
    };
}

const WHOAMI: &str = "whoami";

fn run_machine<R: s3::proto::credentials::Resolve + ?Sized>(
    machine: &mut R,
) -> Result<R::Output, s3::Error> {
    s3::credentials::run(machine)
}

fn pause(d: std::time::Duration) {
    std::thread::sleep(d);
}

include!("../../test-support/scenarios/deploy.rs");
include!("../../test-support/scenarios/encryption.rs");
