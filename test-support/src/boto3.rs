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

/// GetObject, optionally with an SSE-C key (hex on the command line), printing the SSE
/// headers and then the SHA-256 of the body.
const GET_OBJECT: &str = r#"
import sys, boto3, hashlib
from botocore.config import Config
ep, ak, sk, region, bucket, key, ca, customer = sys.argv[1:9]
cfg = Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
             response_checksum_validation="when_required")
c = boto3.client("s3", endpoint_url=ep, aws_access_key_id=ak, aws_secret_access_key=sk,
                 region_name=region, config=cfg, verify=ca or None)
kw = {}
if customer:
    kw = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": bytes.fromhex(customer)}
r = c.get_object(Bucket=bucket, Key=key, **kw)
print(r.get("ServerSideEncryption", "-"), r.get("SSEKMSKeyId", "-"),
      r.get("SSECustomerAlgorithm", "-"), r.get("SSECustomerKeyMD5", "-"))
print(hashlib.sha256(r["Body"].read()).hexdigest())
"#;

/// What boto3 reads of an object: its SSE headers and the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRead {
    /// `ServerSideEncryption` (`aws:kms`, `AES256`), when reported.
    pub sse: Option<String>,
    /// `SSEKMSKeyId`, when reported.
    pub kms_key_id: Option<String>,
    /// `SSECustomerAlgorithm`, when reported.
    pub customer_algorithm: Option<String>,
    /// `SSECustomerKeyMD5` (base64), when reported.
    pub customer_key_md5: Option<String>,
    /// Hex SHA-256 of the body.
    pub sha256: String,
}

/// boto3's GetObject of `key` (over the server's endpoint, trusting its CA when it has
/// one), with `customer_key` when the object is SSE-C encrypted.
///
/// # Panics
/// When python3 or boto3 is missing, or boto3's request fails.
pub fn get_object(
    server: &Server,
    bucket: &str,
    key: &str,
    customer_key: Option<&[u8]>,
) -> ObjectRead {
    let ca = server
        .ca_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let customer: String = customer_key
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let out = Command::new("python3")
        .args(["-c", GET_OBJECT])
        .args([&server.endpoint, &server.access_key, &server.secret_key])
        .args([server.region.as_str(), bucket, key, &ca, &customer])
        .output()
        .unwrap_or_else(|e| panic!("python3 with boto3 is needed to compare results: {e}"));
    assert!(
        out.status.success(),
        "boto3 get_object {bucket}/{key} on {}: {}",
        server.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let fields: Vec<Option<String>> = lines
        .next()
        .unwrap_or_default()
        .split(' ')
        .map(|f| (f != "-").then(|| f.to_owned()))
        .collect();
    let field = |i: usize| fields.get(i).cloned().flatten();
    ObjectRead {
        sse: field(0),
        kms_key_id: field(1),
        customer_algorithm: field(2),
        customer_key_md5: field(3),
        sha256: lines.next().unwrap_or_default().trim().to_owned(),
    }
}
