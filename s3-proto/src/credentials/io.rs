//! The IO a credential provider asks for, and the results a runtime feeds back.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use http::{Request, Response};

use super::Credentials;
use crate::error::{Error, ResponseError};

/// Largest response body a provider reads (IMDS, container, STS, SSO): 64 KiB.
///
/// Runtimes stop reading one byte past it; providers reject anything longer as
/// [`ResponseError::BodyTooLarge`].
pub const MAX_RESPONSE: usize = 64 * 1024;

/// Largest file (shared config, token file, SSO cache) or command output a provider reads: 1 MiB.
pub const MAX_FILE: usize = 1024 * 1024;

/// One piece of IO a provider needs done before it can go on.
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // one at a time, moved straight to the runtime
pub enum Io {
    /// Send this request (the body is complete) and return the response with its whole body,
    /// or a transport error once `timeout` has passed (connect and read together).
    Http {
        /// The request, already signed when it must be.
        request: Request<Vec<u8>>,
        /// Time allowed for the whole exchange.
        timeout: Duration,
    },
    /// Read this file whole; a missing file is `NotFound`, which providers treat as "absent".
    ReadFile(PathBuf),
    /// Run `command` through the platform shell (`sh -c` / `cmd /C`) with stdin closed and
    /// stderr passed through, and return its exit status and stdout.
    Run {
        /// The command line, as written in the profile.
        command: String,
        /// Time allowed before the process is killed and a timeout reported.
        timeout: Duration,
    },
}

impl Io {
    /// The most bytes of body, file or output the provider will accept; read at most one more.
    pub fn limit(&self) -> usize {
        match self {
            Io::Http { .. } => MAX_RESPONSE,
            Io::ReadFile(_) | Io::Run { .. } => MAX_FILE,
        }
    }

    /// The answer of a runtime that does not know this kind of IO (`Io` is
    /// non-exhaustive: a newer s3-proto may ask for more).
    pub fn unsupported(&self) -> IoResult {
        let why = "credential provider asked for IO this runtime does not perform";
        let error = crate::TransportError::new(crate::TransportErrorKind::Other, why);
        IoResult::Run(Err(error.into()))
    }
}

/// What a credential command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessOutput {
    /// The exit code; `None` when the process was killed by a signal.
    pub status: Option<i32>,
    /// Everything written to stdout (at most [`MAX_FILE`] + 1 bytes).
    pub stdout: Vec<u8>,
}

/// The outcome of an [`Io`], fed back to the provider that asked for it.
#[derive(Debug)]
pub enum IoResult {
    /// The response to [`Io::Http`] (any status), or the transport failure.
    Http(Result<Response<Vec<u8>>, Error>),
    /// The contents of [`Io::ReadFile`], or why it could not be read.
    File(std::io::Result<Vec<u8>>),
    /// The output of [`Io::Run`], or why it could not be run (a timeout is a transport error).
    Run(Result<ProcessOutput, Error>),
}

/// What a provider wants next.
#[derive(Debug)]
pub enum Step<T = Credentials> {
    /// Do this IO and pass its [`IoResult`] to `handle`.
    Io(Io),
    /// The provider is finished: credentials, or why there are none.
    Done(Result<T, Error>),
}

/// A machine that resolves credentials through IO it asks a runtime to perform: the one shape
/// ([`Provider`](super::Provider), [`DefaultChain`](super::chain::DefaultChain),
/// [`Refresh`](super::source::Refresh)) every runtime drives with one loop:
///
/// ```text
/// loop { match m.poll(now()) { Step::Io(io) => m.handle(perform(io)), Step::Done(r) => return r } }
/// ```
pub trait Resolve: Send {
    /// What the machine produces.
    type Output;
    /// The next step at `now`; after [`Step::Io`] the caller must `handle` the result before
    /// polling again.
    fn poll(&mut self, now: SystemTime) -> Step<Self::Output>;
    /// Feeds the result of the last [`Step::Io`].
    fn handle(&mut self, result: IoResult);
}

/// The body of a response, checked against [`MAX_RESPONSE`].
pub(crate) fn body(bytes: &[u8]) -> Result<&[u8], Error> {
    if bytes.len() > MAX_RESPONSE {
        return Err(ResponseError::BodyTooLarge {
            limit: MAX_RESPONSE,
        }
        .into());
    }
    Ok(bytes)
}

/// A file's bytes as text, checked against [`MAX_FILE`].
pub(crate) fn file_text(bytes: Vec<u8>, what: &'static str) -> Result<String, Error> {
    if bytes.len() > MAX_FILE {
        return Err(ResponseError::BodyTooLarge { limit: MAX_FILE }.into());
    }
    String::from_utf8(bytes).map_err(|_| ResponseError::invalid(what, "not UTF-8").into())
}
