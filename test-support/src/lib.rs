//! The real S3 servers the behaviour tests run against, started by `scripts/servers/`.
//!
//! `scripts/servers/start-all.sh` writes `target/s3-servers.env` (`S3RS_<SERVER>_ENDPOINT`,
//! `…_ACCESS_KEY`, …). Tests read it (or the same variables from the environment) through
//! [`server`]. A server that is not running fails the test: the suite never skips silently.
//! `S3RS_SERVERS=ceph,moto` narrows the run to a subset, and only when asked that way.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use s3_proto::{Addressing, Config, Credentials, SignatureVersion};

pub mod boto3;
pub mod browser;
pub mod http;
pub mod proxy;
pub mod standin;
pub mod tutorial;

/// The servers every scenario runs against.
pub const ALL_SERVERS: [&str; 4] = ["ceph", "s3s", "moto", "localstack"];

/// The Ceph RGW with TLS and STS switched on (`scripts/servers/start-cephsts.sh`), for the
/// credential-chain, TLS and proxy tests.
pub const STS_SERVER: &str = "cephsts";

/// What a server lacks or does differently: documented facts, never a way around our bugs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Stores and returns ACLs (s3s-fs answers 501).
    pub acl: bool,
    /// Enforces ACLs (only Ceph RGW; moto stores but never checks).
    pub acl_enforced: bool,
    /// Expands every canned ACL fully (moto 5.2 stores public-read-write on a bucket as
    /// AllUsers READ only, without WRITE).
    pub full_canned_acls: bool,
    /// Stores grants to an email address as a user grant (moto turns them into a Group).
    pub email_grants: bool,
    /// Stores CORS configurations (s3s-fs answers 501).
    pub cors: bool,
    /// Answers OPTIONS preflights per the rules (Ceph; moto's object-URL preflight is wrong,
    /// LocalStack allows every method of the matching rule instead of the one requested).
    pub preflight: bool,
    /// Implements ListMultipartUploads (s3s-fs answers 501).
    pub list_multipart_uploads: bool,
    /// Implements AbortMultipartUpload (s3s-fs answers AccessDenied).
    pub abort_multipart: bool,
    /// Answers 200 (or BucketAlreadyOwnedByYou) when you re-create your own bucket (s3s-fs
    /// answers 409 BucketAlreadyExists).
    pub recreate_owned_ok: bool,
    /// Stores a LocationConstraint and reports it (s3s-fs does not).
    pub location: bool,
    /// Verifies signatures (moto accepts anything).
    pub verifies_signatures: bool,
    /// Has a second user, for cross-account checks (Ceph).
    pub second_user: bool,
    /// Refuses to delete a non-empty bucket (s3s-fs deletes it).
    pub bucket_not_empty: bool,
    /// Honours Quiet in DeleteObjects (Ceph only).
    pub quiet_delete: bool,
    /// Honours If-Match / If-None-Match on GET (s3s-fs 0.14 ignores them).
    pub conditional_reads: bool,
    /// Stores data under keys ending in `/` (s3s-fs maps them to directories and refuses a body).
    pub slash_keys_hold_data: bool,
    /// Longest key the server stores. S3 allows 1024 bytes; s3s-fs 0.14 keeps keys as file
    /// paths and answers InternalError well below that: the limit depends on the bucket name
    /// (seen with boto3 too: 150 bytes work in bucket `lenprobe`, fail in a longer name).
    pub max_key_len: usize,
    /// Lists keys exactly as written; s3s-fs stores keys as file paths, so `a//b` and
    /// `a/./b/../c` come back normalised (`a/b`, `a/c`) in listings.
    pub exact_path_keys: bool,
    /// Reports when each multipart upload started (moto 5 reports a fixed
    /// 2010-11-10T20:48:33Z), which is how a client recognises the uploads its lost
    /// CreateMultipartUpload replies started.
    pub upload_times: bool,
    /// Refuses an UploadPart whose body does not match its `Content-MD5` (s3s-fs 0.14 and
    /// moto 5 store it anyway).
    pub verifies_part_md5: bool,
    /// Refuses a PutObject whose body does not match its `Content-MD5` (moto 5 stores it
    /// anyway).
    pub verifies_put_md5: bool,
    /// Checks the chunk signatures of a signed aws-chunked body (a streamed PUT).
    pub verifies_chunk_signatures: bool,
    /// Enforces a presigned POST's policy: size range, field conditions, expiry, signature
    /// (Ceph; moto and s3s-fs check nothing).
    pub post_policy_enforced: bool,
    /// Answers a GET with the `response-*` overrides it asks for (moto 5 ignores them).
    pub response_overrides: bool,
    /// A web page can upload to it from a browser: CORS preflights answered per the rules and
    /// presigned PUT/POST accepted (Ceph, LocalStack; moto's object-URL preflight is wrong).
    pub browser_uploads: bool,
    /// Keeps versions (Put/GetBucketVersioning, ListObjectVersions, delete markers); s3s-fs
    /// 0.14 answers NotImplemented.
    pub versioning: bool,
    /// Object and bucket tagging actions (s3s-fs: NotImplemented).
    pub tagging: bool,
    /// Keeps the `x-amz-tagging` of CreateMultipartUpload (Ceph RGW 16 loses it and answers
    /// GetObjectTagging with an empty 200).
    pub multipart_tagging: bool,
    /// Stores bucket policies (s3s-fs: NotImplemented).
    pub policy: bool,
    /// Enforces bucket policies for anonymous requests (Ceph and moto).
    pub policy_enforced: bool,
    /// Stores public access blocks (Ceph answers all-false when none is set; s3s-fs:
    /// NotImplemented).
    pub public_access_block: bool,
    /// Stores ownership controls (moto only; Ceph RGW 16 answers InvalidArgument).
    pub ownership_controls: bool,
    /// Stores server access logging settings (Ceph RGW 16 reads them as disabled and answers
    /// 405 MethodNotAllowed to PutBucketLogging; s3s-fs answers NotImplemented to both).
    pub bucket_logging: bool,
    /// Answers a HeadObject with `partNumber` with that part's length and
    /// `x-amz-mp-parts-count` (Ceph RGW 16 and s3s-fs ignore `partNumber`: the whole object).
    pub part_number_heads: bool,
    /// Stores lifecycle configurations (s3s-fs: NotImplemented).
    pub lifecycle: bool,
    /// Reports `x-amz-expiration` on PutObject of a key a lifecycle rule covers (Ceph; moto
    /// and s3s-fs do not).
    pub expiration_header: bool,
    /// Accepts SSE headers (SSE-S3, SSE-KMS, SSE-C) over plain http. Ceph RGW refuses them
    /// with InvalidRequest unless reached over TLS (or `rgw_crypt_require_ssl = false`).
    pub sse_over_http: bool,
    /// Reports the SSE applied (`x-amz-server-side-encryption`) on put and head (moto;
    /// s3s-fs accepts the headers and ignores them).
    pub sse_reported: bool,
    /// Stores bucket default encryption (moto; Ceph RGW 16 without a KMS answers
    /// InvalidArgument, s3s-fs NotImplemented).
    pub bucket_encryption: bool,
    /// Answers GetBucketEncryption after DeleteBucketEncryption with
    /// ServerSideEncryptionConfigurationNotFoundError (LocalStack answers an empty 200, which
    /// is no configuration document: a malformed reply).
    pub encryption_not_found: bool,
    /// Object lock: lock-enabled buckets, lock configuration, retention, legal hold (s3s-fs:
    /// NotImplemented).
    pub object_lock: bool,
    /// Reads retention back (moto 5 answers 500 to GetObjectRetention).
    pub retention_read: bool,
    /// Honours `If-None-Match: *` and `If-Match` on PutObject (in an unversioned bucket:
    /// Ceph RGW 16 ignores If-None-Match in a versioned one).
    pub conditional_writes: bool,
    /// Honours `If-None-Match` on CompleteMultipartUpload (Ceph RGW 16 ignores it).
    pub conditional_complete: bool,
    /// Matches the quoted ETag in `If-Match` on writes; Ceph RGW 16 matches only the bare
    /// hex (see `ServerQuirks::if_match_unquoted`).
    pub if_match_quoted_writes: bool,
    /// Refuses a PutObject whose flexible checksum is not its body's (400 BadDigest):
    /// LocalStack, s3s-fs; Ceph RGW 16 ignores the headers, moto stores whatever it is sent.
    pub checks_checksums: bool,
    /// Stores a PutObject's flexible checksum and returns it with checksum mode (LocalStack,
    /// s3s-fs, and moto 5 when `x-amz-sdk-checksum-algorithm` names it; not Ceph RGW 16).
    pub stores_checksums: bool,
    /// A refused checksum leaves nothing behind (s3s-fs 0.14 stores the object and then
    /// answers BadDigest).
    pub checksum_refusal_stores_nothing: bool,
    /// Checks part checksums and stores COMPOSITE and FULL_OBJECT multipart checksums
    /// (LocalStack only; moto answers HEAD with made-up values, Ceph and s3s-fs ignore them).
    pub multipart_checksums: bool,
    /// Lists keys holding control characters (`\x01`) in every listing it has, URL-encoded
    /// (s3s-fs answers 500 to ListObjects, moto to ListObjectVersions).
    pub control_char_keys_listed: bool,
    /// Pages ListObjects v1 and v2 right under `encoding-type=url`: LocalStack compares a v1
    /// marker with the encoded keys (pages repeat and end early; a marker holding a control
    /// character is a 500), fails a v2 continuation token to a non-ASCII key (boto3 gets
    /// 500), and refuses its own ListMultipartUploads upload-id marker (InvalidArgument).
    pub url_listings_page: bool,
    /// Pages the common prefixes of ListObjects (v1) with a delimiter (moto 5 repeats every
    /// common prefix on each page).
    pub v1_delimiter_pages: bool,
    /// Gives every object a stored checksum, sent or not (LocalStack: CRC64NVME, like AWS
    /// since 2025).
    pub default_checksum: bool,
    /// Applies SSE-S3 (`AES256`) where it takes SSE headers; Ceph RGW 16 has no SSE-S3 and
    /// ignores the header over https (s3s-fs ignores every SSE header).
    pub sse_s3: bool,
    /// Copies an SSE-KMS or SSE-C source (Ceph RGW 16 answers CopyObject of an encrypted
    /// source with 501 NotImplemented).
    pub encrypted_copy: bool,
    /// Encrypts a copy under the SSE-C key its headers name, and says so on reads; Ceph RGW
    /// 16 ignores SSE headers on CopyObject and stores the copy in clear (moto 5 and s3s-fs
    /// never report SSE-C on reads).
    pub copy_encrypts: bool,
}

/// One running server and how to reach it.
#[derive(Debug, Clone)]
pub struct Server {
    /// `ceph`, `s3s`, `moto` or `localstack`.
    pub name: &'static str,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Region to sign for.
    pub region: String,
    /// Access key of the main user.
    pub access_key: String,
    /// Secret key of the main user.
    pub secret_key: String,
    /// Canonical id of the main user, when known.
    pub user_id: Option<String>,
    /// The second user (Ceph): access key, secret key, canonical id, email.
    pub user2: Option<User>,
    /// What the server supports.
    pub caps: Capabilities,
    /// The domain under which buckets are virtual hosts: `localhost`, or `s3.localhost` for
    /// LocalStack (which takes any Host containing `.s3.`).
    pub vhost_domain: &'static str,
    /// `https://127.0.0.1:PORT`, when the server also speaks TLS.
    pub https_endpoint: Option<String>,
    /// The throw-away CA that signed the https certificate (PEM file).
    pub ca_file: Option<PathBuf>,
    /// The STS setup, when the server has one.
    pub sts: Option<Sts>,
    /// Two KMS key ids the server encrypts with for real (Ceph RGW's `testing` KMS, started
    /// with `S3RS_CEPH_SSE=1`): `S3RS_<NAME>_SSE_KMS_KEY_ID` and `…_KEY_ID2`.
    pub sse_kms_keys: Option<[String; 2]>,
}

/// Roles and the local OIDC issuer of a server with STS (Ceph RGW 16 with
/// `rgw s3 auth use sts`): STS is served on the S3 endpoint itself.
#[derive(Debug, Clone)]
pub struct Sts {
    /// A role the main user may assume (s3:* on everything).
    pub role_arn: String,
    /// A role assumable with a web identity token from [`Sts::web_token`].
    pub web_role_arn: String,
    /// The issuer's key and documents (`scripts/servers/ceph_oidc.py`).
    pub oidc_dir: PathBuf,
}

impl Sts {
    /// A fresh RS256 web identity token from the local issuer, valid for `ttl_s` seconds.
    pub fn web_token(&self, ttl_s: u32) -> String {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/servers/ceph_oidc.py");
        let out = std::process::Command::new("python3")
            .arg(script)
            .arg("token")
            .arg(&self.oidc_dir)
            .args(["--ttl", &ttl_s.to_string()])
            .output()
            .expect("python3 runs ceph_oidc.py");
        assert!(
            out.status.success(),
            "ceph_oidc.py token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("token is text")
            .trim()
            .to_owned()
    }
}

/// A second account on the server.
#[derive(Debug, Clone)]
pub struct User {
    /// Access key.
    pub access_key: String,
    /// Secret key.
    pub secret_key: String,
    /// Canonical user id.
    pub id: String,
    /// Email address.
    pub email: String,
}

impl Server {
    /// Path-style SigV4 config.
    pub fn config(&self) -> Config {
        Config::new(&self.endpoint, self.region.clone())
            .unwrap_or_else(|e| panic!("{}: bad endpoint {}: {e}", self.name, self.endpoint))
            .addressing(Addressing::Path)
    }

    /// How the server differs from AWS S3: the s3-proto preset for it.
    pub fn quirks(&self) -> s3_proto::quirks::ServerQuirks {
        use s3_proto::quirks::ServerQuirks;
        match self.name {
            "ceph" | "cephsts" => ServerQuirks::ceph(),
            "s3s" => ServerQuirks::s3s(),
            "moto" => ServerQuirks::moto(),
            "localstack" => ServerQuirks::localstack(),
            other => panic!("no quirks preset for server {other}"),
        }
    }

    /// Client options for this server: its quirks preset, trusting its CA when the endpoint
    /// is https.
    pub fn options(&self) -> s3_proto::flow::request::Options {
        let options = s3_proto::flow::request::Options::default().quirks(self.quirks());
        match (&self.ca_file, self.endpoint.starts_with("https:")) {
            (Some(ca), true) => {
                options.tls(s3_proto::tls::Tls::default().ca_bundle(self.ca_pem(ca)))
            }
            _ => options,
        }
    }

    fn ca_pem(&self, ca: &std::path::Path) -> Vec<u8> {
        std::fs::read(ca).unwrap_or_else(|e| panic!("{}: CA {}: {e}", self.name, ca.display()))
    }

    /// The same server reached over https (panics on a server without it).
    pub fn over_https(&self) -> Server {
        let https = self.https_endpoint.clone();
        let endpoint = https.unwrap_or_else(|| panic!("{} has no https endpoint", self.name));
        Server {
            endpoint,
            ..self.clone()
        }
    }

    /// Path-style SigV4 config reaching the server through `endpoint` (a [`proxy::FaultProxy`]).
    pub fn config_via(&self, endpoint: &str) -> Config {
        Config::new(endpoint, self.region.clone())
            .unwrap_or_else(|e| panic!("{}: bad endpoint {endpoint}: {e}", self.name))
            .addressing(Addressing::Path)
    }

    /// Virtual-hosted config: `http://bucket.localhost:PORT` (under [`Server::vhost_domain`]),
    /// connected on 127.0.0.1.
    pub fn vhost_config(&self) -> Config {
        let url = self.endpoint.replace("127.0.0.1", self.vhost_domain);
        Config::new(&url, self.region.clone())
            .unwrap_or_else(|e| panic!("{}: bad endpoint {url}: {e}", self.name))
            .addressing(Addressing::VirtualHost)
    }

    /// Path-style SigV2 config.
    pub fn sigv2_config(&self) -> Config {
        self.config().signature(SignatureVersion::V2)
    }

    /// The main user's credentials.
    pub fn credentials(&self) -> Credentials {
        Credentials::new(&self.access_key, &self.secret_key)
    }

    /// The second user's credentials (panics on servers without one: check `caps` first).
    pub fn user2_credentials(&self) -> Credentials {
        let u = self
            .user2
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no second user", self.name));
        Credentials::new(&u.access_key, &u.secret_key)
    }
}

fn env_file() -> PathBuf {
    if let Some(p) = std::env::var_os("S3_SERVERS_ENV") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("..").join("target"));
    target.join("s3-servers.env")
}

fn settings() -> &'static HashMap<String, String> {
    static SETTINGS: OnceLock<HashMap<String, String>> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let mut map = HashMap::new();
        if let Ok(text) = std::fs::read_to_string(env_file()) {
            for line in text.lines() {
                let line = line.trim().trim_start_matches("export ").trim();
                if let Some((k, v)) = line.split_once('=') {
                    let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
                    map.insert(k.trim().to_owned(), v.to_owned());
                }
            }
        }
        for (k, v) in std::env::vars() {
            if k.starts_with("S3RS_") {
                map.insert(k, v);
            }
        }
        map
    })
}

/// True when the run covers `name` (all servers unless `S3RS_SERVERS` narrows it).
pub fn selected(name: &str) -> bool {
    match settings().get("S3RS_SERVERS") {
        None => true,
        Some(list) if list.trim().is_empty() || list.trim() == "all" => true,
        Some(list) => list.split(',').any(|s| s.trim() == name),
    }
}

/// The server called `name`, or `None` when the run was explicitly narrowed to exclude it.
///
/// # Panics
/// When the server is selected but not running: start it with `scripts/servers/start-all.sh`.
pub fn server(name: &'static str) -> Option<Server> {
    if !selected(name) {
        return None;
    }
    let s = settings();
    let prefix = format!("S3RS_{}_", name.to_ascii_uppercase());
    let get = |k: &str| s.get(&format!("{prefix}{k}")).cloned();
    let Some(endpoint) = get("ENDPOINT") else {
        panic!(
            "S3 server `{name}` is not running: no {prefix}ENDPOINT in {} or the environment. \
             Start the servers with scripts/servers/start-all.sh (or narrow the run with \
             S3RS_SERVERS=...)",
            env_file().display()
        );
    };
    let required = |k: &str| {
        get(k)
            .unwrap_or_else(|| panic!("{name}: {prefix}{k} is not set in {}", env_file().display()))
    };
    let user2 = get("USER2_ACCESS_KEY").map(|access_key| User {
        access_key,
        secret_key: required("USER2_SECRET_KEY"),
        id: required("USER2_ID"),
        email: required("USER2_EMAIL"),
    });
    let caps = match name {
        "ceph" | "cephsts" => Capabilities {
            acl: true,
            acl_enforced: true,
            full_canned_acls: true,
            email_grants: true,
            cors: true,
            preflight: true,
            list_multipart_uploads: true,
            abort_multipart: true,
            recreate_owned_ok: true,
            location: true,
            verifies_signatures: true,
            second_user: user2.is_some(),
            bucket_not_empty: true,
            quiet_delete: true,
            conditional_reads: true,
            slash_keys_hold_data: true,
            max_key_len: 1024,
            exact_path_keys: true,
            upload_times: true,
            verifies_part_md5: true,
            verifies_put_md5: true,
            verifies_chunk_signatures: true,
            post_policy_enforced: true,
            response_overrides: true,
            browser_uploads: true,
            versioning: true,
            tagging: true,
            multipart_tagging: false,
            policy: true,
            policy_enforced: true,
            public_access_block: true,
            ownership_controls: false,
            bucket_logging: false,
            part_number_heads: false,
            lifecycle: true,
            expiration_header: true,
            sse_over_http: false,
            sse_reported: false,
            bucket_encryption: false,
            encryption_not_found: true,
            object_lock: true,
            retention_read: true,
            conditional_writes: true,
            conditional_complete: false,
            if_match_quoted_writes: false,
            checks_checksums: false,
            stores_checksums: false,
            checksum_refusal_stores_nothing: true,
            multipart_checksums: false,
            default_checksum: false,
            control_char_keys_listed: true,
            url_listings_page: true,
            v1_delimiter_pages: true,
            sse_s3: false,
            encrypted_copy: false,
            copy_encrypts: false,
        },
        "s3s" => Capabilities {
            acl: false,
            acl_enforced: false,
            full_canned_acls: false,
            email_grants: false,
            cors: false,
            preflight: false,
            list_multipart_uploads: false,
            abort_multipart: false,
            recreate_owned_ok: false,
            location: false,
            verifies_signatures: true,
            second_user: false,
            bucket_not_empty: false,
            quiet_delete: false,
            conditional_reads: false,
            slash_keys_hold_data: false,
            max_key_len: 100,
            exact_path_keys: false,
            upload_times: true,
            verifies_part_md5: false,
            verifies_put_md5: true,
            verifies_chunk_signatures: true,
            post_policy_enforced: false,
            response_overrides: true,
            browser_uploads: false,
            versioning: false,
            tagging: false,
            multipart_tagging: false,
            policy: false,
            policy_enforced: false,
            public_access_block: false,
            ownership_controls: false,
            bucket_logging: false,
            part_number_heads: false,
            lifecycle: false,
            expiration_header: false,
            sse_over_http: true,
            sse_reported: false,
            bucket_encryption: false,
            encryption_not_found: true,
            object_lock: false,
            retention_read: false,
            conditional_writes: true,
            conditional_complete: true,
            if_match_quoted_writes: true,
            checks_checksums: true,
            stores_checksums: true,
            checksum_refusal_stores_nothing: false,
            multipart_checksums: false,
            default_checksum: false,
            control_char_keys_listed: false,
            url_listings_page: true,
            v1_delimiter_pages: true,
            sse_s3: false,
            encrypted_copy: true,
            copy_encrypts: false,
        },
        // LocalStack's S3 (community): checks and stores flexible checksums of every kind and
        // honours conditional writes; its gaps: header signatures are never verified, ACLs
        // and bucket policies are stored but not enforced (PEERS-2 in the project notes).
        "localstack" => Capabilities {
            acl: true,
            acl_enforced: false,
            full_canned_acls: true,
            email_grants: true,
            cors: true,
            preflight: false,
            list_multipart_uploads: true,
            abort_multipart: true,
            recreate_owned_ok: true,
            location: true,
            verifies_signatures: false,
            second_user: false,
            bucket_not_empty: true,
            quiet_delete: true,
            conditional_reads: true,
            slash_keys_hold_data: true,
            max_key_len: 1024,
            exact_path_keys: true,
            upload_times: true,
            verifies_part_md5: true,
            verifies_put_md5: true,
            verifies_chunk_signatures: false,
            post_policy_enforced: true,
            response_overrides: true,
            browser_uploads: true,
            versioning: true,
            tagging: true,
            multipart_tagging: true,
            policy: true,
            policy_enforced: false,
            public_access_block: true,
            ownership_controls: true,
            bucket_logging: true,
            part_number_heads: true,
            lifecycle: true,
            expiration_header: true,
            sse_over_http: true,
            sse_reported: true,
            bucket_encryption: true,
            encryption_not_found: false,
            object_lock: true,
            retention_read: true,
            conditional_writes: true,
            conditional_complete: true,
            if_match_quoted_writes: true,
            checks_checksums: true,
            stores_checksums: true,
            checksum_refusal_stores_nothing: true,
            multipart_checksums: true,
            default_checksum: true,
            control_char_keys_listed: true,
            url_listings_page: false,
            v1_delimiter_pages: true,
            sse_s3: true,
            encrypted_copy: true,
            copy_encrypts: true,
        },
        _ => Capabilities {
            acl: true,
            acl_enforced: false,
            full_canned_acls: false,
            email_grants: false,
            cors: true,
            preflight: false,
            list_multipart_uploads: true,
            abort_multipart: true,
            recreate_owned_ok: true,
            location: true,
            verifies_signatures: false,
            second_user: false,
            bucket_not_empty: true,
            quiet_delete: false,
            conditional_reads: true,
            slash_keys_hold_data: true,
            max_key_len: 1024,
            exact_path_keys: true,
            upload_times: false,
            verifies_part_md5: false,
            verifies_put_md5: false,
            verifies_chunk_signatures: false,
            post_policy_enforced: false,
            response_overrides: false,
            browser_uploads: false,
            versioning: true,
            tagging: true,
            multipart_tagging: true,
            policy: true,
            policy_enforced: true,
            public_access_block: true,
            ownership_controls: true,
            bucket_logging: true,
            part_number_heads: true,
            lifecycle: true,
            expiration_header: false,
            sse_over_http: true,
            sse_reported: true,
            bucket_encryption: true,
            encryption_not_found: true,
            object_lock: true,
            retention_read: false,
            conditional_writes: true,
            conditional_complete: true,
            if_match_quoted_writes: true,
            checks_checksums: false,
            stores_checksums: true,
            checksum_refusal_stores_nothing: true,
            multipart_checksums: false,
            default_checksum: false,
            control_char_keys_listed: false,
            url_listings_page: true,
            v1_delimiter_pages: false,
            sse_s3: true,
            encrypted_copy: true,
            copy_encrypts: false,
        },
    };
    Some(Server {
        name,
        endpoint,
        region: get("REGION").unwrap_or_else(|| "us-east-1".to_owned()),
        access_key: required("ACCESS_KEY"),
        secret_key: required("SECRET_KEY"),
        user_id: get("USER1_ID"),
        user2,
        caps,
        https_endpoint: get("HTTPS_ENDPOINT"),
        ca_file: get("CA_FILE").map(PathBuf::from),
        sse_kms_keys: get("SSE_KMS_KEY_ID").map(|k| [k, required("SSE_KMS_KEY_ID2")]),
        sts: get("STS_ROLE_ARN").map(|role_arn| Sts {
            role_arn,
            web_role_arn: required("STS_WEB_ROLE_ARN"),
            oidc_dir: PathBuf::from(required("OIDC_DIR")),
        }),
        vhost_domain: if name == "localstack" {
            "s3.localhost"
        } else {
            "localhost"
        },
    })
}

/// The server with TLS and STS ([`STS_SERVER`]), or `None` when the run was narrowed to
/// exclude it.
///
/// # Panics
/// When it is selected but not running, or runs without TLS or STS.
pub fn sts_server() -> Option<Server> {
    let server = server(STS_SERVER)?;
    assert!(
        server.https_endpoint.is_some() && server.ca_file.is_some() && server.sts.is_some(),
        "{STS_SERVER} runs without TLS or STS: start it with scripts/servers/start-cephsts.sh"
    );
    Some(server)
}

/// A bucket name no other test (or earlier run) uses: `prefix-<pid>-<n>-<time>`.
pub fn unique_bucket(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    #[allow(clippy::disallowed_methods)]
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() % 1_000_000_000);
    let mut name = format!("{prefix}-{}-{n}-{t}", std::process::id());
    name.make_ascii_lowercase();
    name.truncate(63);
    name.trim_end_matches('-').to_owned()
}

/// Defines one `#[test]` per server for a scenario `fn(&Server)`.
#[macro_export]
macro_rules! scenario {
    ($name:ident) => {
        mod $name {
            #[test]
            fn ceph() {
                if let Some(server) = $crate::server("ceph") {
                    super::$name(&server);
                }
            }
            #[test]
            fn s3s() {
                if let Some(server) = $crate::server("s3s") {
                    super::$name(&server);
                }
            }
            #[test]
            fn moto() {
                if let Some(server) = $crate::server("moto") {
                    super::$name(&server);
                }
            }
            #[test]
            fn localstack() {
                if let Some(server) = $crate::server("localstack") {
                    super::$name(&server);
                }
            }
        }
    };
}

/// Like [`scenario!`], for an `async fn(&Server)`: each test runs it on a fresh tokio runtime.
/// The calling crate must depend on tokio with the `rt` feature.
#[macro_export]
macro_rules! scenario_async {
    ($name:ident) => {
        mod $name {
            fn run(server: $crate::Server) {
                ::tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime")
                    .block_on(super::$name(&server));
            }
            #[test]
            fn ceph() {
                if let Some(server) = $crate::server("ceph") {
                    run(server);
                }
            }
            #[test]
            fn s3s() {
                if let Some(server) = $crate::server("s3s") {
                    run(server);
                }
            }
            #[test]
            fn moto() {
                if let Some(server) = $crate::server("moto") {
                    run(server);
                }
            }
            #[test]
            fn localstack() {
                if let Some(server) = $crate::server("localstack") {
                    run(server);
                }
            }
        }
    };
}

/// The forward proxy started by `scripts/servers/start-proxy.sh` (tinyproxy).
#[derive(Debug, Clone)]
pub struct ForwardProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its connection log.
    pub log: PathBuf,
}

impl ForwardProxy {
    /// Lines of its log containing `needle` (`CONNECT 127.0.0.1:7491`, say).
    pub fn seen(&self, needle: &str) -> usize {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().filter(|l| l.contains(needle)).count()
    }
}

/// The forward proxy, or `None` when the run was narrowed to exclude it.
///
/// # Panics
/// When it is selected but not running.
pub fn forward_proxy() -> Option<ForwardProxy> {
    if !selected("proxy") {
        return None;
    }
    let get = |k: &str| {
        settings().get(k).cloned().unwrap_or_else(|| {
            panic!("the forward proxy is not running: no {k} in {}; start it with scripts/servers/start-all.sh", env_file().display())
        })
    };
    Some(ForwardProxy {
        url: get("S3RS_PROXY_URL"),
        log: PathBuf::from(get("S3RS_PROXY_LOG")),
    })
}

/// The TLS and STS server ([`sts_server`]) reached over https, or `None` when the run was
/// narrowed to exclude it.
pub fn https_server() -> Option<Server> {
    sts_server().map(|s| s.over_https())
}

/// Runs scenarios `fn(&Server)` over https against [`https_server`], one test each, in a
/// module `over_https`.
#[macro_export]
macro_rules! over_https {
    ($($name:ident),* $(,)?) => {
        mod over_https {
            $(
                #[test]
                fn $name() {
                    if let Some(server) = $crate::https_server() {
                        super::$name(&server);
                    }
                }
            )*
        }
    };
}

/// [`over_https!`] for `async fn(&Server)` scenarios, each on a fresh tokio runtime.
#[macro_export]
macro_rules! over_https_async {
    ($($name:ident),* $(,)?) => {
        mod over_https {
            $(
                #[test]
                fn $name() {
                    if let Some(server) = $crate::https_server() {
                        ::tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .expect("tokio runtime")
                            .block_on(super::$name(&server));
                    }
                }
            )*
        }
    };
}

/// Test files: made, hashed, in a fresh directory.
pub mod files {
    use std::io::{Read, Write};
    use std::path::{Path, PathBuf};

    use sha2::{Digest, Sha256};

    /// A fresh directory under the system temp dir.
    pub fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(crate::unique_bucket(tag));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    /// A file of `len` pseudo-random bytes (xorshift, seeded by the length).
    pub fn make_file(dir: &Path, name: &str, len: u64) -> PathBuf {
        let path = dir.join(name);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let mut x: u64 = len ^ 0x9E37_79B9_7F4A_7C15;
        let mut left = len;
        let mut block = [0u8; 8192];
        while left > 0 {
            for chunk in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            let n = usize::try_from(left.min(block.len() as u64)).unwrap_or(block.len());
            f.write_all(&block[..n]).expect("write");
            left -= n as u64;
        }
        f.flush().expect("flush");
        path
    }

    /// Panics if `dir` holds a download's temporary file (`.NAME.s3-rs-….part`): a failed
    /// or finished download must leave none behind.
    pub fn assert_no_partial_files(dir: &Path) {
        let leftovers: Vec<_> = std::fs::read_dir(dir)
            .expect("read dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    /// Hex SHA-256 of `data`.
    pub fn sha256_bytes(data: &[u8]) -> String {
        format!("{:x}", Sha256::digest(data))
    }

    /// Hex SHA-256 of a file's contents.
    pub fn sha256(path: &Path) -> String {
        let mut f = std::fs::File::open(path).expect("open");
        let mut buf = vec![0; 1 << 20];
        let mut hasher = Sha256::new();
        loop {
            let n = f.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        format!("{:x}", hasher.finalize())
    }
}
