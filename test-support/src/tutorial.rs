//! What the two tutorial examples (`s3-blocking`'s `tutorial`, `s3-tokio`'s `async_tutorial`)
//! share: finding out whether the user configured an endpoint, starting the local Ceph RGW
//! otherwise, and printing.

#![allow(clippy::print_stdout)] // the tutorials talk to the user on stdout

use std::error::Error;
use std::process::Command;

use s3_proto::acl::AccessControlPolicy;
use s3_proto::{Config, Credentials};

/// The local Ceph RGW the tutorial started, and what its start script said.
#[derive(Debug)]
pub struct LocalCeph {
    /// Path-style config for it.
    pub config: Config,
    /// The main user's keys.
    pub credentials: Credentials,
    /// The second user's access and secret key, to show a conflict on someone else's bucket.
    pub second_user: Option<(String, String)>,
}

/// Prints the heading of step `n`.
pub fn step(n: u32, what: &str) {
    println!("\n== {n}. {what}");
}

/// True when the user configured an endpoint or credentials of their own.
pub fn configured() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty());
    let home = std::env::var("HOME").unwrap_or_default();
    set("AWS_ENDPOINT_URL")
        || set("AWS_ENDPOINT_URL_S3")
        || set("AWS_ACCESS_KEY_ID")
        || set("AWS_PROFILE")
        || std::path::Path::new(&home)
            .join(".aws/credentials")
            .exists()
}

/// Starts the local Ceph RGW through the project's script.
///
/// # Errors
/// When the script fails or does not print the endpoint and keys.
pub fn start_local_ceph() -> Result<LocalCeph, Box<dyn Error>> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts/servers/start-ceph.sh")
        .canonicalize()?;
    println!("No S3 endpoint or credentials configured: starting the local Ceph RGW");
    println!(
        "  ({}; the first run installs Ceph and takes about a minute)",
        script.display()
    );
    let out = Command::new("bash").arg(&script).output()?;
    if !out.status.success() {
        return Err(format!(
            "could not start Ceph RGW:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let text = String::from_utf8(out.stdout)?;
    let get = |name: &str| {
        text.lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim_matches('\'').to_owned())
    };
    let need = |name: &str| get(name).ok_or_else(|| format!("start-ceph.sh did not print {name}"));
    let config = Config::new(&need("S3RS_CEPH_ENDPOINT")?, "us-east-1")?;
    let credentials =
        Credentials::new(need("S3RS_CEPH_ACCESS_KEY")?, need("S3RS_CEPH_SECRET_KEY")?);
    let second_user = get("S3RS_CEPH_USER2_ACCESS_KEY").zip(get("S3RS_CEPH_USER2_SECRET_KEY"));
    println!("  Ceph RGW is up at {}", config.target().endpoint().url());
    Ok(LocalCeph {
        config,
        credentials,
        second_user,
    })
}

/// `prefix-PID-NANOS`: a bucket or directory name no earlier run used.
#[allow(clippy::disallowed_methods)] // the tutorial's names come from the clock
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

/// Prints an ACL's owner and grants.
pub fn print_policy(what: &str, policy: &AccessControlPolicy) {
    println!("  {what}: owner {}", policy.owner.id);
    for grant in &policy.grants {
        println!("    {} -> {}", grant.permission, grant.grantee);
    }
}
