//! Runs s3-proto's credential providers: HTTP with ureq, files with `std::fs`, commands with
//! `std::process`, each under the timeout the provider asks for.
//!
//! Every decision (which provider, which request, how to parse, when to refresh) is made in
//! [`s3_proto::credentials`]; this module only performs the [`Io`] a machine asks for.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use s3_proto::credentials::cache::{Lookup, SharedCache};
use s3_proto::credentials::chain::DefaultChain;
use s3_proto::credentials::{Io, IoResult, ProcessOutput, Provider, Step};
use s3_proto::{Credentials, Error, ResponseError, TransportError, TransportErrorKind};

use crate::Options;
use crate::client::{now, random_bits, transport_error};

/// Resolves credentials with the default chain over this process's environment (see
/// [`DefaultChain`]): environment, web identity, profile, container, instance metadata.
///
/// # Errors
/// [`Error::Credentials`] listing every provider skipped when none is configured, or the
/// failure of the first configured provider.
pub fn resolve_default() -> Result<Credentials, Error> {
    let mut chain = DefaultChain::new(|name| std::env::var(name).ok());
    run_chain(&mut chain)
}

/// Drives `chain` to its end, performing each IO it asks for.
///
/// # Errors
/// As [`resolve_default`].
pub fn run_chain(chain: &mut DefaultChain) -> Result<Credentials, Error> {
    loop {
        match chain.poll(now()) {
            Step::Io(io) => chain.handle(perform(io)),
            Step::Done(result) => return result,
        }
    }
}

/// Drives one `provider` to its end.
///
/// # Errors
/// [`Error::Credentials`] when the provider is not configured or fails.
pub fn run_provider(provider: &mut Provider) -> Result<Credentials, Error> {
    loop {
        match provider.poll(now()) {
            Step::Io(io) => provider.handle(perform(io)),
            Step::Done(result) => return result,
        }
    }
}

/// Performs one piece of provider IO.
pub fn perform(io: Io) -> IoResult {
    let limit = io.limit();
    match io {
        Io::Http { request, timeout } => IoResult::Http(http(request, timeout, limit)),
        Io::ReadFile(path) => IoResult::File(read_file(&path, limit)),
        Io::Run { command, timeout } => IoResult::Run(run(&command, timeout, limit)),
        // `Io` is non-exhaustive; a kind this runtime does not know cannot be performed.
        _ => IoResult::Run(Err(TransportError::new(
            TransportErrorKind::Other,
            "credential provider asked for IO this runtime does not perform",
        )
        .into())),
    }
}

fn http(
    request: http::Request<Vec<u8>>,
    timeout: Duration,
    limit: usize,
) -> Result<http::Response<Vec<u8>>, Error> {
    let mut options = Options::default();
    options.connect_timeout = Some(timeout);
    options.request_timeout = Some(timeout);
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(timeout))
        .timeout_global(Some(timeout))
        .user_agent(concat!("s3-rs/", env!("CARGO_PKG_VERSION")))
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

/// Runs `command` through the platform shell, killing it after `timeout`.
fn run(command: &str, timeout: Duration, limit: usize) -> Result<ProcessOutput, Error> {
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
    // Read on a thread so a chatty command cannot fill the pipe and stall; the thread ends
    // when the pipe closes, and is left behind if a grandchild keeps it open.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let r = stdout
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map(|_| out);
        let _ = tx.send(r);
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| failed("could not be waited for", e))?
        {
            break status;
        }
        if Instant::now() >= deadline {
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
        .saturating_duration_since(Instant::now())
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
}

/// Longest a caller waits for another caller's refresh before trying itself.
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
    /// caller, while other callers keep using the still-valid ones or wait for it).
    ///
    /// # Errors
    /// As [`resolve_default`], when a refresh this caller made failed and nothing valid is
    /// cached.
    pub fn get(&self) -> Result<Arc<Credentials>, Error> {
        let started = Instant::now();
        loop {
            match self.cache.lookup(now()) {
                Lookup::Use(c) => return Ok(c),
                Lookup::Refresh(current) => {
                    return match resolve_default() {
                        Ok(fresh) => {
                            // Up to 60 s earlier, so clients started together spread out.
                            let jitter = Duration::from_millis(random_bits() % 60_000);
                            Ok(self.cache.store(fresh, now(), jitter))
                        }
                        Err(e) => {
                            self.cache.failed(now());
                            current.ok_or(e)
                        }
                    };
                }
                Lookup::Wait if started.elapsed() < WAIT_FOR_REFRESH => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Lookup::Wait => {
                    return Err(TransportError::new(
                        TransportErrorKind::Timeout,
                        "waited too long for another thread to refresh credentials",
                    )
                    .into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_commands() {
        let dir = std::env::temp_dir().join(format!("s3-creds-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(read_file(&path, 10).unwrap(), b"abc");
        assert_eq!(read_file(&path, 1).unwrap().len(), 2);
        assert_eq!(
            read_file(&dir.join("missing"), 10).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        std::fs::remove_dir_all(&dir).unwrap();

        if cfg!(unix) {
            let out = run(
                "printf '{\"Version\": 1}'; exit 0",
                Duration::from_secs(5),
                100,
            )
            .unwrap();
            assert_eq!(out.status, Some(0));
            assert_eq!(out.stdout, b"{\"Version\": 1}");
            let out = run("exit 7", Duration::from_secs(5), 100).unwrap();
            assert_eq!(out.status, Some(7));
            let e = run("sleep 5", Duration::from_millis(200), 100).unwrap_err();
            assert!(e.to_string().contains("did not finish"), "{e}");
        }
    }

    /// A tiny HTTP/1.1 server answering each request with `reply(method, path, headers)`;
    /// `None` means never answer (a hanging endpoint).
    fn serve(reply: impl Fn(&str, &str, &str) -> Option<(u16, String)> + Send + 'static) -> String {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let mut words = head.split_whitespace();
                let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                match reply(method, path, &head.to_ascii_lowercase()) {
                    Some((status, body)) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    None => {
                        std::thread::sleep(Duration::from_secs(3));
                    }
                }
            }
        });
        format!("http://{addr}")
    }

    fn lookup(vars: Vec<(&'static str, String)>) -> impl FnMut(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn imds_over_http() {
        let url = serve(|method, path, headers| {
            match (method, path) {
            ("PUT", "/latest/api/token") => {
                assert!(headers.contains("x-aws-ec2-metadata-token-ttl-seconds: 21600"));
                Some((200, "tok".to_owned()))
            }
            ("GET", "/latest/meta-data/iam/security-credentials/") => {
                assert!(headers.contains("x-aws-ec2-metadata-token: tok"));
                Some((200, "role".to_owned()))
            }
            ("GET", "/latest/meta-data/iam/security-credentials/role") => Some((
                200,
                r#"{"Code":"Success","AccessKeyId":"IK","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"}"#
                    .to_owned(),
            )),
            _ => Some((404, String::new())),
        }
        });
        let mut p = Provider::imds(lookup(vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)]));
        let c = run_provider(&mut p).unwrap();
        assert_eq!(c.access_key(), Some("IK"));
        assert_eq!(c.provider(), Some("imds"));
    }

    #[test]
    fn hanging_or_hostile_endpoints_are_typed_errors_within_the_timeout() {
        let url = serve(|_, _, _| None);
        let started = Instant::now();
        let mut p = Provider::imds(lookup(vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)]));
        let e = run_provider(&mut p).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{:?}",
            started.elapsed()
        );
        assert!(e.to_string().contains("not configured"), "{e}");

        let url = serve(|_, _, _| Some((200, "x".repeat(200_000))));
        let mut p = Provider::container(lookup(vec![(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("{url}/creds"),
        )]));
        let e = run_provider(&mut p).unwrap_err();
        assert!(e.to_string().contains("exceeds"), "{e}");

        let url = serve(|_, _, _| Some((200, "<html>".to_owned())));
        let mut p = Provider::container(lookup(vec![(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("{url}/creds"),
        )]));
        let e = run_provider(&mut p).unwrap_err();
        assert!(e.to_string().contains("container"), "{e}");
    }
}
