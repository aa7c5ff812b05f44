//! Runs s3-proto's credential providers on tokio: HTTP with hyper, files with `tokio::fs`,
//! commands with `std::process` on the blocking pool, each under the timeout the provider
//! asks for.
//!
//! Every decision (which provider, which request, how to parse, when to refresh) is made in
//! [`s3_proto::credentials`]; this module only performs the [`Io`] a machine asks for.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use s3_proto::credentials::cache::{Lookup, SharedCache};
use s3_proto::credentials::chain::DefaultChain;
use s3_proto::credentials::{Io, IoResult, ProcessOutput, Provider, Step};
use s3_proto::{Credentials, Error, ResponseError, TransportError, TransportErrorKind};
use tokio::io::AsyncReadExt as _;
use tokio::time::Instant;

use crate::client::now;

/// Resolves credentials with the default chain over this process's environment (see
/// [`DefaultChain`]): environment, web identity, profile, container, instance metadata.
///
/// # Errors
/// [`Error::Credentials`] listing every provider skipped when none is configured, or the
/// failure of the first configured provider.
pub async fn resolve_default() -> Result<Credentials, Error> {
    let mut chain = DefaultChain::new(|name| std::env::var(name).ok());
    run_chain(&mut chain).await
}

/// Drives `chain` to its end, performing each IO it asks for.
///
/// # Errors
/// As [`resolve_default`].
pub async fn run_chain(chain: &mut DefaultChain) -> Result<Credentials, Error> {
    loop {
        match chain.poll(now()) {
            Step::Io(io) => chain.handle(perform(io).await),
            Step::Done(result) => return result,
        }
    }
}

/// Drives one `provider` to its end.
///
/// # Errors
/// [`Error::Credentials`] when the provider is not configured or fails.
pub async fn run_provider(provider: &mut Provider) -> Result<Credentials, Error> {
    loop {
        match provider.poll(now()) {
            Step::Io(io) => provider.handle(perform(io).await),
            Step::Done(result) => return result,
        }
    }
}

/// Performs one piece of provider IO.
pub async fn perform(io: Io) -> IoResult {
    let limit = io.limit();
    match io {
        Io::Http { request, timeout } => IoResult::Http(http(request, timeout, limit).await),
        Io::ReadFile(path) => IoResult::File(read_file(&path, limit).await),
        Io::Run { command, timeout } => IoResult::Run(run(command, timeout, limit).await),
        // `Io` is non-exhaustive; a kind this runtime does not know cannot be performed.
        _ => IoResult::Run(Err(TransportError::new(
            TransportErrorKind::Other,
            "credential provider asked for IO this runtime does not perform",
        )
        .into())),
    }
}

#[cfg(feature = "rustls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "rustls"))]
type Connector = HttpConnector;

fn connector(timeout: Duration) -> Connector {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(timeout));
    http.enforce_http(false);
    #[cfg(feature = "rustls")]
    let http = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    http
}

fn timed_out(timeout: Duration) -> Error {
    TransportError::new(
        TransportErrorKind::Timeout,
        format!("credential endpoint did not answer within {timeout:?}"),
    )
    .into()
}

async fn http(
    request: http::Request<Vec<u8>>,
    timeout: Duration,
    limit: usize,
) -> Result<http::Response<Vec<u8>>, Error> {
    let client: HyperClient<Connector, Full<Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build(connector(timeout));
    let request = request.map(|b| Full::new(Bytes::from(b)));
    let exchange = async {
        let resp = client.request(request).await.map_err(|e| {
            let kind = if e.is_connect() {
                TransportErrorKind::Connect
            } else {
                TransportErrorKind::Io
            };
            Error::from(TransportError::new(
                kind,
                format!("credential endpoint: {e}"),
            ))
        })?;
        let (parts, body) = resp.into_parts();
        let bytes = match Limited::new(body, limit + 1).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(ResponseError::BodyTooLarge { limit }.into());
            }
            Err(e) => {
                return Err(TransportError::new(
                    TransportErrorKind::Io,
                    format!("credential endpoint body: {e}"),
                )
                .into());
            }
        };
        Ok(http::Response::from_parts(parts, bytes.to_vec()))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(timed_out(timeout)))
}

async fn read_file(path: &std::path::Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    tokio::fs::File::open(path)
        .await?
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .await?;
    Ok(out)
}

/// Runs `command` through the platform shell on the blocking pool, killing it after
/// `timeout`.
async fn run(command: String, timeout: Duration, limit: usize) -> Result<ProcessOutput, Error> {
    let task = tokio::task::spawn_blocking(move || run_blocking(&command, timeout, limit));
    task.await.unwrap_or_else(|_| {
        Err(TransportError::new(TransportErrorKind::Other, "credential_process task failed").into())
    })
}

fn run_blocking(command: &str, timeout: Duration, limit: usize) -> Result<ProcessOutput, Error> {
    let mut cmd = if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command);
        c
    };
    let failed = |what: &str, e: std::io::Error| -> Error {
        TransportError::new(
            TransportErrorKind::Other,
            format!("credential_process {what}"),
        )
        .with_source(e)
        .into()
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| failed("could not start", e))?;
    let Some(stdout) = child.stdout.take() else {
        return Err(TransportError::new(
            TransportErrorKind::Other,
            "credential_process has no stdout",
        )
        .into());
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let r = stdout
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map(|_| out);
        let _ = tx.send(r);
    });
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| failed("could not be waited for", e))?
        {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(TransportError::new(
                TransportErrorKind::Timeout,
                format!("credential_process did not finish within {timeout:?}"),
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let left = deadline
        .saturating_duration_since(std::time::Instant::now())
        .max(Duration::from_millis(100));
    let stdout = match rx.recv_timeout(left) {
        Ok(r) => r.map_err(|e| failed("output could not be read", e))?,
        Err(_) => {
            return Err(TransportError::new(
                TransportErrorKind::Timeout,
                "credential_process exited but its output stayed open",
            )
            .into());
        }
    };
    Ok(ProcessOutput {
        status: status.code(),
        stdout,
    })
}

/// Credentials from the default chain, cached and refreshed before they expire; cheap to
/// clone, and clones share one cache (see [`SharedCache`]).
#[derive(Debug, Clone, Default)]
pub struct CachedChain {
    cache: SharedCache,
    refreshed: Arc<tokio::sync::Notify>,
}

/// Longest a task waits for another task's refresh before giving up.
const WAIT_FOR_REFRESH: Duration = Duration::from_secs(70);

impl CachedChain {
    /// An empty cache; the first [`CachedChain::get`] resolves.
    pub fn new() -> Self {
        CachedChain::default()
    }

    /// The shared cache, for a session that signs with it.
    pub fn cache(&self) -> &SharedCache {
        &self.cache
    }

    /// Valid credentials: the cached ones, or freshly resolved when they are due (by this
    /// task, while other tasks keep using the still-valid ones or wait for it).
    ///
    /// # Errors
    /// As [`resolve_default`], when a refresh this task made failed and nothing valid is
    /// cached.
    pub async fn get(&self) -> Result<Arc<Credentials>, Error> {
        let started = Instant::now();
        loop {
            let notified = self.refreshed.notified();
            match self.cache.lookup(now()) {
                Lookup::Use(c) => return Ok(c),
                Lookup::Refresh(current) => {
                    let result = resolve_default().await;
                    let out = match result {
                        Ok(fresh) => {
                            let jitter = Duration::from_millis(jitter_ms());
                            Ok(self.cache.store(fresh, now(), jitter))
                        }
                        Err(e) => {
                            self.cache.failed(now());
                            current.ok_or(e)
                        }
                    };
                    self.refreshed.notify_waiters();
                    return out;
                }
                Lookup::Wait => {
                    let left = WAIT_FOR_REFRESH.saturating_sub(started.elapsed());
                    if left.is_zero() {
                        return Err(TransportError::new(
                            TransportErrorKind::Timeout,
                            "waited too long for another task to refresh credentials",
                        )
                        .into());
                    }
                    // Woken by the refresher, or re-checked after a while in case it vanished.
                    let _ = tokio::time::timeout(left.min(Duration::from_secs(1)), notified).await;
                }
            }
        }
    }
}

/// Up to 60 s of jitter, from the standard library's per-process hash keys.
fn jitter_ms() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::time::Instant::now()) % 60_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_and_commands() {
        let dir = std::env::temp_dir().join(format!("s3-tokio-creds-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(read_file(&path, 10).await.unwrap(), b"abc");
        assert_eq!(read_file(&path, 1).await.unwrap().len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
        if cfg!(unix) {
            let out = run("printf ok".to_owned(), Duration::from_secs(5), 100)
                .await
                .unwrap();
            assert_eq!(out.stdout, b"ok");
            let e = run("sleep 5".to_owned(), Duration::from_millis(200), 100)
                .await
                .unwrap_err();
            assert!(e.to_string().contains("did not finish"), "{e}");
        }
    }

    #[tokio::test]
    async fn imds_over_http_and_a_hanging_endpoint() {
        use tokio::io::AsyncWriteExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if s.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let body = if head.starts_with("PUT /latest/api/token") {
                        "tok".to_owned()
                    } else if head.starts_with("GET /latest/meta-data/iam/security-credentials/ ") {
                        "role".to_owned()
                    } else if head
                        .starts_with("GET /latest/meta-data/iam/security-credentials/role")
                    {
                        r#"{"AccessKeyId":"TK","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"}"#.to_owned()
                    } else {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        return;
                    };
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.write_all(reply.as_bytes()).await;
                });
            }
        });
        let vars = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", url.clone())];
        let lookup = move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        let c = run_provider(&mut Provider::imds(lookup)).await.unwrap();
        assert_eq!(c.access_key(), Some("TK"));

        let started = Instant::now();
        let full = format!("{url}/hang");
        let lookup =
            move |name: &str| (name == "AWS_CONTAINER_CREDENTIALS_FULL_URI").then(|| full.clone());
        let e = run_provider(&mut Provider::container(lookup))
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(7));
        assert!(e.to_string().contains("did not answer"), "{e}");
    }
}
