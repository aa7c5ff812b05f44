//! Runs s3-proto's credential machines on tokio: HTTP with hyper, files with `tokio::fs`,
//! commands with `tokio::process`, each under the timeout the machine asks for.
//!
//! Every decision (which provider, which request, how to parse, when to refresh) is made in
//! [`s3_proto::credentials`]; this module only performs the [`Io`] a machine asks for.
//! [`Client::from_env`](crate::Client::from_env) signs with a cached
//! [`DefaultChain`](s3_proto::credentials::chain::DefaultChain); `run(&mut DefaultChain::new(..))`
//! resolves once.

use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use s3_proto::credentials::{Io, IoResult, ProcessOutput, Resolve, Step};
use s3_proto::{Error, ResponseError, TransportError, TransportErrorKind as Kind};
use tokio::io::AsyncReadExt as _;

use crate::client::{Net, connector, now};

/// Drives any credential machine (a [`Provider`](s3_proto::credentials::Provider), the
/// default chain, a cache refresh) to its end, performing each IO it asks for with the
/// built-in TLS roots.
///
/// # Errors
/// The machine's: [`Error::Credentials`] when a provider is not configured or fails.
pub async fn run<R: Resolve + ?Sized>(machine: &mut R) -> Result<R::Output, Error> {
    run_with(machine, &Net::default()).await
}

/// [`run`], reaching servers as `net` says (the client's roots, CA bundle and proxies).
pub(crate) async fn run_with<R: Resolve + ?Sized>(
    machine: &mut R,
    net: &Net,
) -> Result<R::Output, Error> {
    loop {
        match machine.poll(now()) {
            Step::Io(io) => machine.handle(perform(io, net).await),
            Step::Done(result) => return result,
        }
    }
}

/// Performs one piece of machine IO.
async fn perform(io: Io, net: &Net) -> IoResult {
    let limit = io.limit();
    match io {
        Io::Http { request, timeout } => IoResult::Http(http(request, timeout, limit, net).await),
        Io::ReadFile(path) => IoResult::File(read_file(&path, limit).await),
        Io::Run { command, timeout } => IoResult::Run(process(&command, timeout, limit).await),
        other => other.unsupported(),
    }
}

async fn http(
    request: http::Request<Vec<u8>>,
    timeout: Duration,
    limit: usize,
    net: &Net,
) -> Result<http::Response<Vec<u8>>, Error> {
    let client: HyperClient<_, Full<Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build(connector(net, Some(timeout)));
    let exchange = async {
        let request = request.map(|b| Full::new(Bytes::from(b)));
        let response = client
            .request(request)
            .await
            .map_err(|e| crate::client::transport_error(&e, None))?;
        let (parts, body) = response.into_parts();
        match Limited::new(body, limit + 1).collect().await {
            Ok(body) => Ok(http::Response::from_parts(parts, body.to_bytes().to_vec())),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                Err(ResponseError::BodyTooLarge { limit }.into())
            }
            Err(e) => {
                Err(TransportError::new(Kind::Io, format!("credential endpoint body: {e}")).into())
            }
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            let what = format!("credential endpoint did not answer within {timeout:?}");
            Err(TransportError::new(Kind::Timeout, what).into())
        })
}

async fn read_file(path: &std::path::Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let file = tokio::fs::File::open(path).await?;
    file.take(limit as u64 + 1).read_to_end(&mut out).await?;
    Ok(out)
}

/// Runs `command` through the platform shell; past `timeout` (or when this future is dropped)
/// the process is killed.
async fn process(command: &str, timeout: Duration, limit: usize) -> Result<ProcessOutput, Error> {
    let [shell, flag] = s3_proto::credentials::process::SHELL;
    let failed = |what: &str, e: std::io::Error| -> Error {
        let what = format!("credential_process {what}");
        TransportError::new(Kind::Other, what).with_source(e).into()
    };
    let mut child = tokio::process::Command::new(shell)
        .args([flag, command])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| failed("could not start", e))?;
    let stdout = child.stdout.take();
    let work = async {
        let mut out = Vec::new();
        if let Some(stdout) = stdout {
            stdout.take(limit as u64 + 1).read_to_end(&mut out).await?;
        }
        if out.len() > limit {
            // Too much to accept: stop it rather than wait on a full pipe.
            child.start_kill()?;
        }
        Ok((child.wait().await?, out))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok((status, stdout))) => Ok(ProcessOutput {
            status: status.code(),
            stdout,
        }),
        Ok(Err(e)) => Err(failed("could not be run", e)),
        Err(_) => {
            let what = format!("credential_process did not finish within {timeout:?}");
            Err(TransportError::new(Kind::Timeout, what).into())
        }
    }
}
