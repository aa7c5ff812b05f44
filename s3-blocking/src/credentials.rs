//! Runs s3-proto's credential machines: HTTP with ureq, files with `std::fs`, commands with
//! `std::process`, each under the timeout the machine asks for.
//!
//! Every decision (which provider, which request, how to parse, when to refresh) is made in
//! [`s3_proto::credentials`]; this module only performs the [`Io`] a machine asks for.
//! [`Client::from_env`](crate::Client::from_env) signs with a cached
//! [`DefaultChain`](s3_proto::credentials::chain::DefaultChain); `run(&mut DefaultChain::new(..))`
//! resolves once.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use s3_proto::credentials::{Io, IoResult, ProcessOutput, Resolve, Step};
use s3_proto::{Error, ResponseError, TransportError, TransportErrorKind};

use crate::Options;
use crate::client::{Net, now, transport_error};

/// Drives any credential machine (a [`Provider`](s3_proto::credentials::Provider), the
/// default chain, a cache refresh) to its end, performing each IO it asks for with the
/// built-in TLS roots.
///
/// # Errors
/// The machine's: [`Error::Credentials`] when a provider is not configured or fails.
pub fn run<R: Resolve + ?Sized>(machine: &mut R) -> Result<R::Output, Error> {
    run_with(machine, &Net::default())
}

/// [`run`], reaching servers as `net` says (the client's roots, CA bundle and proxies).
pub(crate) fn run_with<R: Resolve + ?Sized>(
    machine: &mut R,
    net: &Net,
) -> Result<R::Output, Error> {
    loop {
        match machine.poll(now()) {
            Step::Io(io) => machine.handle(perform(io, net)),
            Step::Done(result) => return result,
        }
    }
}

/// Performs one piece of machine IO.
fn perform(io: Io, net: &Net) -> IoResult {
    let limit = io.limit();
    match io {
        Io::Http { request, timeout } => IoResult::Http(http(request, timeout, limit, net)),
        Io::ReadFile(path) => IoResult::File(read_file(&path, limit)),
        Io::Run { command, timeout } => IoResult::Run(run_command(&command, timeout, limit)),
        other => other.unsupported(),
    }
}

fn http(
    request: http::Request<Vec<u8>>,
    timeout: Duration,
    limit: usize,
    net: &Net,
) -> Result<http::Response<Vec<u8>>, Error> {
    let options = Options::default()
        .connect_timeout(Some(timeout))
        .request_timeout(Some(timeout));
    let config = net
        .agent(net.proxies.for_uri(request.uri()))
        .timeout_connect(Some(timeout))
        .timeout_global(Some(timeout))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let resp = agent
        .run(request)
        .map_err(|e| transport_error(e, &options))?;
    let (parts, mut body) = resp.into_parts();
    let bytes = match body.with_config().limit(limit as u64 + 1).read_to_vec() {
        Ok(v) => v,
        Err(ureq::Error::BodyExceedsLimit(_)) => {
            return Err(ResponseError::BodyTooLarge { limit }.into());
        }
        Err(e) => return Err(transport_error(e, &options)),
    };
    Ok(http::Response::from_parts(parts, bytes))
}

fn read_file(path: &std::path::Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    std::fs::File::open(path)?
        .take(limit as u64 + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// Runs `command` through the platform shell, killing it after `timeout`. Stdout is read on
/// a thread so a chatty command cannot fill the pipe and stall; that thread ends when the
/// pipe closes, and is left behind if a grandchild keeps it open.
fn run_command(command: &str, timeout: Duration, limit: usize) -> Result<ProcessOutput, Error> {
    let [shell, flag] = s3_proto::credentials::process::SHELL;
    let error = |kind, what: String| Error::from(TransportError::new(kind, what));
    let failed = |what: &str, e: std::io::Error| -> Error {
        let what = format!("credential_process {what}");
        TransportError::new(TransportErrorKind::Other, what)
            .with_source(e)
            .into()
    };
    let mut child = Command::new(shell)
        .args([flag, command])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| failed("could not start", e))?;
    let stdout = child.stdout.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let r = stdout.map(|s| s.take(limit as u64 + 1).read_to_end(&mut out));
        let _ = tx.send(r.map(|r| r.map(|_| out)));
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let what = format!("credential_process did not finish within {timeout:?}");
                return Err(error(TransportErrorKind::Timeout, what));
            }
            Err(e) => return Err(failed("could not be waited for", e)),
        }
    };
    let left = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left.max(Duration::from_millis(100))) {
        Ok(Some(Ok(stdout))) => Ok(ProcessOutput {
            status: status.code(),
            stdout,
        }),
        Ok(Some(Err(e))) => Err(failed("output could not be read", e)),
        Ok(None) => Err(error(
            TransportErrorKind::Other,
            "credential_process has no stdout".into(),
        )),
        Err(_) => Err(error(
            TransportErrorKind::Timeout,
            "credential_process exited but its output stayed open".into(),
        )),
    }
}
