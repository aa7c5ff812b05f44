//! Not part of the tutorials: what lets `cargo run -p s3-blocking --example tutorial` (and
//! s3-async's `async_tutorial`) run end to end on a machine with nothing configured.
//!
//! The tutorials read their endpoint and keys from the environment, like any AWS tool. When
//! none are set, [`rerun_on_local_ceph_unless_configured`] starts the project's local Ceph RGW
//! (`scripts/servers/start-ceph.sh`) and runs the example again with that server's endpoint
//! and keys in the child's environment: the example itself never needs to know.

#![allow(clippy::print_stdout, clippy::print_stderr)] // the tutorials talk to the user

use std::error::Error;
use std::path::Path;
use std::process::{Command, ExitStatus};

/// Returns at once when an endpoint or credentials are configured (`AWS_ENDPOINT_URL`,
/// `AWS_ENDPOINT_URL_S3`, `AWS_ACCESS_KEY_ID`, `AWS_PROFILE` or `~/.aws/credentials`).
/// Otherwise starts the local Ceph RGW, runs the current program again against it, and exits
/// with its status (or with failure when the server cannot start): it then never returns.
///
/// The child gets `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY` for the server's first user, and, unless already set,
/// `S3RS_TUTORIAL_OTHER_ACCESS_KEY_ID`, `S3RS_TUTORIAL_OTHER_SECRET_ACCESS_KEY` and
/// `S3RS_TUTORIAL_GRANT_EMAIL` for its second user.
pub fn rerun_on_local_ceph_unless_configured() {
    if configured() {
        return;
    }
    let code = match rerun_on_local_ceph() {
        Ok(status) => status.code().unwrap_or(1),
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    };
    std::process::exit(code);
}

fn configured() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty());
    let home = std::env::var("HOME").unwrap_or_default();
    set("AWS_ENDPOINT_URL")
        || set("AWS_ENDPOINT_URL_S3")
        || set("AWS_ACCESS_KEY_ID")
        || set("AWS_PROFILE")
        || Path::new(&home).join(".aws/credentials").exists()
}

fn rerun_on_local_ceph() -> Result<ExitStatus, Box<dyn Error>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
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
    // The script prints `export NAME='value'` lines.
    let text = String::from_utf8(out.stdout)?;
    let get = |name: &str| {
        text.lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim_matches('\'').to_owned())
    };
    let need = |name: &str| get(name).ok_or_else(|| format!("start-ceph.sh did not print {name}"));
    let endpoint = need("S3RS_CEPH_ENDPOINT")?;
    println!("  Ceph RGW is up at {endpoint}; running the tutorial against it");

    let mut child = Command::new(std::env::current_exe()?);
    child
        .args(std::env::args_os().skip(1))
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env(
            "AWS_REGION",
            get("S3RS_CEPH_REGION").as_deref().unwrap_or("us-east-1"),
        )
        .env("AWS_ACCESS_KEY_ID", need("S3RS_CEPH_ACCESS_KEY")?)
        .env("AWS_SECRET_ACCESS_KEY", need("S3RS_CEPH_SECRET_KEY")?);
    for (var, from) in [
        (
            "S3RS_TUTORIAL_OTHER_ACCESS_KEY_ID",
            "S3RS_CEPH_USER2_ACCESS_KEY",
        ),
        (
            "S3RS_TUTORIAL_OTHER_SECRET_ACCESS_KEY",
            "S3RS_CEPH_USER2_SECRET_KEY",
        ),
        ("S3RS_TUTORIAL_GRANT_EMAIL", "S3RS_CEPH_USER2_EMAIL"),
    ] {
        if let (Err(_), Some(value)) = (std::env::var(var), get(from)) {
            child.env(var, value);
        }
    }
    Ok(child.status()?)
}
