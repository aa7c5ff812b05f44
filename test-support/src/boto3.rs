//! boto3 reading what a scenario wrote, so s3-rs's results are compared with the reference
//! SDK's on the same objects. Needs `python3` with boto3 (`scripts/servers/start-moto.sh`
//! installs it); a missing one fails the test.

use std::process::Command;

use crate::Server;

/// HeadObject with `ChecksumMode=ENABLED`, printing the first checksum in S3's order.
const HEAD_CHECKSUM: &str = r#"
import sys, boto3
from botocore.config import Config
ep, ak, sk, region, bucket, key = sys.argv[1:7]
cfg = Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
             response_checksum_validation="when_required")
c = boto3.client("s3", endpoint_url=ep, aws_access_key_id=ak, aws_secret_access_key=sk,
                 region_name=region, config=cfg)
h = c.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
for a in ["CRC64NVME", "CRC32", "CRC32C", "SHA1", "SHA256"]:
    if h.get("Checksum" + a):
        print(a, h["Checksum" + a])
        break
"#;

/// The checksum boto3 reads back for `key` with checksum mode on: its algorithm as S3 names
/// it (`CRC32C`) and its header value (`<base64>` or `<base64>-N`); `None` when the server
/// returns none.
///
/// # Panics
/// When python3 or boto3 is missing, or boto3's request fails.
pub fn head_checksum(server: &Server, bucket: &str, key: &str) -> Option<(String, String)> {
    let out = Command::new("python3")
        .args(["-c", HEAD_CHECKSUM])
        .args([&server.endpoint, &server.access_key, &server.secret_key])
        .args([server.region.as_str(), bucket, key])
        .output()
        .unwrap_or_else(|e| panic!("python3 with boto3 is needed to compare results: {e}"));
    assert!(
        out.status.success(),
        "boto3 head_object {bucket}/{key} on {}: {}",
        server.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let (algorithm, value) = text.trim().split_once(' ')?;
    Some((algorithm.to_owned(), value.to_owned()))
}
