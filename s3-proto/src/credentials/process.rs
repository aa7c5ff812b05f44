//! `credential_process`: a command that prints credentials as JSON.
//!
//! The output is `{"Version": 1, "AccessKeyId": …, "SecretAccessKey": …, "SessionToken": …,
//! "Expiration": "<ISO 8601>"}`; see
//! <https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html>.

use std::time::{Duration, SystemTime};

use super::Credentials;
use super::io::{Io, IoResult, ProcessOutput, Step};
use super::json::{self, Value};
use super::machine::{Machine, from_json, misuse};
use crate::error::{Error, ResponseError, TransportError, TransportErrorKind};

/// The platform shell a runtime runs a command through, and its flag: `sh -c`, or `cmd /C`
/// on Windows (as the AWS SDKs do).
pub const SHELL: [&str; 2] = if cfg!(windows) {
    ["cmd", "/C"]
} else {
    ["sh", "-c"]
};

/// How long a `credential_process` may run in a profile
/// ([`Provider::process`](super::Provider::process) takes its own).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Parses a credential command's output.
///
/// # Errors
/// [`Error::Transport`] for a non-zero exit (the command failed); [`Error::Response`] for
/// output that is not the documented JSON, a `Version` other than 1, or a missing key.
pub fn parse_output(output: &ProcessOutput) -> Result<Credentials, Error> {
    if output.status != Some(0) {
        let how = match output.status {
            Some(code) => format!("exited with status {code}"),
            None => "was killed by a signal".to_owned(),
        };
        return Err(TransportError::new(
            TransportErrorKind::Other,
            format!("credential_process {how}"),
        )
        .into());
    }
    if output.stdout.len() > super::io::MAX_FILE {
        return Err(ResponseError::BodyTooLarge {
            limit: super::io::MAX_FILE,
        }
        .into());
    }
    let doc = json::parse(&output.stdout)?;
    match doc.get("Version") {
        Some(Value::Number(n)) if n == "1" => {}
        None => return Err(ResponseError::MissingField { field: "Version" }.into()),
        Some(_) => return Err(ResponseError::invalid("Version", "must be 1").into()),
    }
    from_json(&doc, "SessionToken")
}

/// Runs the command once and parses its output.
pub(crate) struct Process {
    command: Option<String>,
    timeout: Duration,
    done: Option<Result<Credentials, Error>>,
}

impl Process {
    pub(crate) fn new(command: String) -> Self {
        Process {
            command: Some(command),
            timeout: TIMEOUT,
            done: None,
        }
    }
}

impl super::Provider {
    /// `credential_process` outside a profile: runs `command` through the shell, killed after
    /// `timeout` (profiles use [`TIMEOUT`]).
    pub fn process(command: impl Into<String>, timeout: Duration) -> Self {
        let mut process = Process::new(command.into());
        process.timeout = timeout;
        super::Provider::new("credential_process", process)
    }
}

impl Machine for Process {
    fn poll(&mut self, _now: SystemTime) -> Step {
        if let Some(command) = self.command.take() {
            return Step::Io(Io::Run {
                command,
                timeout: self.timeout,
            });
        }
        Step::Done(self.done.take().unwrap_or_else(|| Err(misuse())))
    }

    fn handle(&mut self, result: IoResult) {
        self.done = Some(match result {
            IoResult::Run(Ok(out)) => parse_output(&out),
            IoResult::Run(Err(e)) => Err(e),
            _ => Err(misuse()),
        });
    }
}
