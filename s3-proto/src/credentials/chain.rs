//! The default credential chain, in the AWS SDKs' order: environment, web identity from the
//! environment, the shared profile, container credentials, instance metadata.
//!
//! The first provider that is configured answers; one that is configured but fails stops the
//! chain with its error (as the SDKs do), and when none is configured the error lists every
//! provider and why it was skipped. Anonymous access is never a fallback: ask for
//! [`Credentials::anonymous`] explicitly.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::cache::SharedCache;
use super::container::container_env;
use super::imds::imds_env;
use super::io::{Io, IoResult, Step};
use super::machine::{Env, Machine, Provider, Ready, environment, misuse};
use super::process::Process;
use super::sso::Sso;
use super::sts::{AssumeRoleMachine, AssumeRoleParams, StsTarget, WebIdentity, web_identity_env};
use super::{CredentialSource, Credentials, CredentialsError};
use crate::error::{Error, InputError};
use crate::profile::{self, ProfileChain, ProfileFiles, ProfileSource, Section};

/// The providers of the default chain, in order.
pub const ORDER: [&str; 5] = [
    "environment",
    "web-identity",
    "profile",
    "container",
    "imds",
];

enum State {
    /// Ask for the config file, then the credentials file.
    Read(usize),
    Wait(usize),
    /// Start provider `ORDER[i]`.
    Start(usize),
    Run(usize, Provider),
    Done,
}

/// The default chain as one machine: `poll`, do the [`Io`], `handle`, until [`Step::Done`].
pub struct DefaultChain {
    env: Env,
    profile: String,
    profile_explicit: bool,
    paths: [Option<PathBuf>; 2],
    texts: [Option<String>; 2],
    file_error: Option<InputError>,
    files_read: bool,
    tried: Vec<(&'static str, String)>,
    state: State,
}

impl std::fmt::Debug for DefaultChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DefaultChain")
            .field("profile", &self.profile)
            .field("tried", &self.tried)
            .finish_non_exhaustive()
    }
}

impl DefaultChain {
    /// The chain over the variables `lookup` returns (captured now; `AWS_PROFILE` picks the
    /// profile, `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` / `HOME` the files).
    pub fn new(lookup: impl FnMut(&str) -> Option<String>) -> Self {
        let env = Env::capture(lookup);
        let explicit = env.get("AWS_PROFILE").map(str::to_owned);
        let files = profile::shared_files(env.lookup());
        DefaultChain {
            profile: explicit.clone().unwrap_or_else(|| "default".to_owned()),
            profile_explicit: explicit.is_some(),
            paths: [files.config, files.credentials],
            texts: [None, None],
            file_error: None,
            files_read: false,
            tried: Vec::new(),
            env,
            state: State::Start(0),
        }
    }

    /// A [`CredentialSource`] that resolves with this chain (a fresh copy for every refresh,
    /// over the variables captured now) and caches the result for every clone of a client.
    pub fn cached(&self) -> CredentialSource {
        let (env, profile, explicit) = (
            self.env.clone(),
            self.profile.clone(),
            self.profile_explicit,
        );
        CredentialSource::cached(SharedCache::default(), move || {
            let mut chain = DefaultChain::new(env.lookup());
            chain.profile = profile.clone();
            chain.profile_explicit = explicit;
            Box::new(chain)
        })
    }

    /// Uses profile `name` instead of `AWS_PROFILE` / `default`.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = name.into();
        self.profile_explicit = true;
        self
    }

    /// The providers skipped so far, and why.
    pub fn tried(&self) -> &[(&'static str, String)] {
        &self.tried
    }

    /// The next step at `now`.
    pub fn poll(&mut self, now: SystemTime) -> Step {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Read(i) if i < 2 => match &self.paths[i] {
                    Some(path) => {
                        self.state = State::Wait(i);
                        return Step::Io(Io::ReadFile(path.clone()));
                    }
                    None => self.state = State::Read(i + 1),
                },
                State::Read(_) => self.state = State::Start(1),
                State::Start(i) => {
                    let Some(&name) = ORDER.get(i) else {
                        return Step::Done(Err(CredentialsError::NoneFound {
                            tried: std::mem::take(&mut self.tried),
                        }
                        .into()));
                    };
                    // The files are read once, after the environment and before the first
                    // provider that may use them, so a broken file never hides AWS_* keys.
                    if i >= 1 && !self.files_read {
                        self.files_read = true;
                        self.state = State::Read(0);
                        continue;
                    }
                    let provider = self.build(name);
                    self.state = State::Run(i, provider);
                }
                State::Run(i, mut provider) => match provider.poll(now) {
                    Step::Io(io) => {
                        self.state = State::Run(i, provider);
                        return Step::Io(io);
                    }
                    Step::Done(Ok(c)) => return Step::Done(Ok(c)),
                    Step::Done(Err(Error::Credentials(e))) if e.is_not_configured() => {
                        let reason = match *e {
                            CredentialsError::NotConfigured { reason, .. } => reason,
                            other => other.to_string(),
                        };
                        self.tried.push((provider.name(), reason));
                        self.state = State::Start(i + 1);
                    }
                    Step::Done(Err(e)) => return Step::Done(Err(e)),
                },
                State::Wait(_) | State::Done => return Step::Done(Err(misuse())),
            }
        }
    }

    /// Feeds the result of the last [`Step::Io`].
    pub fn handle(&mut self, result: IoResult) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Wait(i) => {
                let failure = match result {
                    IoResult::File(Ok(bytes)) => {
                        match super::io::file_text(bytes, "shared config file") {
                            Ok(text) => {
                                self.texts[i] = Some(text);
                                None
                            }
                            Err(e) => Some(e.to_string()),
                        }
                    }
                    IoResult::File(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
                    IoResult::File(Err(e)) => Some(format!("cannot be read: {e}")),
                    _ => Some(misuse().to_string()),
                };
                if let (Some(reason), None) = (failure, &self.file_error) {
                    let path = self.paths[i].as_deref().map(Path::display);
                    self.file_error = Some(InputError::Profile {
                        at: path.map(|p| p.to_string()).unwrap_or_default(),
                        line: None,
                        key: None,
                        reason,
                    });
                }
                self.state = State::Read(i + 1);
            }
            State::Run(i, mut provider) => {
                provider.handle(result);
                self.state = State::Run(i, provider);
            }
            other => self.state = other,
        }
    }

    fn files(&self) -> Result<ProfileFiles, Error> {
        if let Some(e) = &self.file_error {
            return Err(e.clone().into());
        }
        let label = |i: usize| {
            self.paths[i]
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        let (config, creds) = (label(0), label(1));
        Ok(ProfileFiles::parse(
            self.texts[1].as_deref().map(|t| (creds.as_str(), t)),
            self.texts[0].as_deref().map(|t| (config.as_str(), t)),
        )?)
    }

    fn build(&self, name: &'static str) -> Provider {
        match name {
            "environment" => Provider::new(name, Ready(Some(environment(&self.env)))),
            "web-identity" => {
                let files = self.files().unwrap_or_default();
                web_identity_env(
                    &self.env,
                    files.settings(&self.profile).region.as_deref(),
                    files.endpoint_url(&self.profile, "sts"),
                )
            }
            "profile" => match self.profile_machine() {
                Ok(m) => Provider::new(name, m),
                Err(e) => Provider::ready(name, Err(e)),
            },
            "container" => container_env(&self.env),
            _ => imds_env(&self.imds_env()),
        }
    }

    /// The environment with the profile's IMDS settings filling in unset variables.
    fn imds_env(&self) -> Env {
        let files = self.files().ok();
        let profile = files.as_ref().and_then(|f| f.profile(&self.profile));
        imds_settings(&self.env, profile)
    }

    fn profile_machine(&self) -> Result<Box<dyn Machine>, Error> {
        let files = self.files()?;
        let chain = match files.credential_chain(&self.profile)? {
            Some(chain) => chain,
            None if files.profile(&self.profile).is_none() && self.profile_explicit => {
                return Err(InputError::Profile {
                    at: format!("profile {}", self.profile),
                    line: None,
                    key: None,
                    reason: "does not exist in the shared config or credentials file".to_owned(),
                }
                .into());
            }
            None => {
                return Err(CredentialsError::not_configured(
                    "profile",
                    match files.profile(&self.profile) {
                        None => format!("no profile {}", self.profile),
                        Some(_) => format!("profile {} sets no credentials", self.profile),
                    },
                ));
            }
        };
        profile_chain_machine(&self.env, chain, &files, &self.profile)
    }
}

impl super::io::Resolve for DefaultChain {
    type Output = Credentials;
    fn poll(&mut self, now: SystemTime) -> Step {
        DefaultChain::poll(self, now)
    }
    fn handle(&mut self, result: IoResult) {
        DefaultChain::handle(self, result);
    }
}

/// `env` with `profile`'s IMDS settings (`metadata_service_timeout`, ...) filling in unset
/// variables.
pub(crate) fn imds_settings(env: &Env, profile: Option<&Section>) -> Env {
    let Some(p) = profile else {
        return env.clone();
    };
    env.with_fallbacks(&[
        (
            "AWS_METADATA_SERVICE_TIMEOUT",
            p.get("metadata_service_timeout"),
        ),
        (
            "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
            p.get("metadata_service_num_attempts"),
        ),
        (
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            p.get("ec2_metadata_service_endpoint"),
        ),
        (
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
            p.get("ec2_metadata_service_endpoint_mode"),
        ),
        (
            "AWS_EC2_METADATA_V1_DISABLED",
            p.get("ec2_metadata_v1_disabled"),
        ),
    ])
}

/// Builds the machine for `profile`'s resolved chain; its region and its STS and SSO
/// endpoints come from `files` (after the environment).
fn profile_chain_machine(
    env: &Env,
    chain: ProfileChain,
    files: &ProfileFiles,
    profile: &str,
) -> Result<Box<dyn Machine>, Error> {
    let region = files.settings(profile).region;
    let sts = || StsTarget::from_env(env, files.endpoint_url(profile, "sts"), region.as_deref());
    let (mut machine, mut label): (Box<dyn Machine>, &'static str) = match chain.base {
        ProfileSource::Static {
            access_key,
            secret_key,
            session_token,
        } => {
            let mut c = Credentials::new(access_key, secret_key.expose());
            if let Some(t) = session_token {
                c = c.with_session_token(t.expose());
            }
            (Box::new(Ready(Some(Ok(c)))), "profile")
        }
        ProfileSource::WebIdentity {
            role_arn,
            token_file,
            session_name,
        } => (
            Box::new(WebIdentity::new(sts()?, role_arn, session_name, token_file)),
            "profile (web identity)",
        ),
        ProfileSource::Process { command } => (
            Box::new(Process::new(command)),
            "profile (credential_process)",
        ),
        ProfileSource::Sso(config) => {
            let home = env
                .get("HOME")
                .or_else(|| env.get("USERPROFILE"))
                .ok_or_else(|| {
                    InputError::argument("HOME", "is needed to find the SSO token cache")
                })?;
            let endpoint = env.endpoint("AWS_ENDPOINT_URL_SSO", files.endpoint_url(profile, "sso"));
            (
                Box::new(Sso::new(config, Path::new(home), endpoint)),
                "profile (sso)",
            )
        }
        ProfileSource::Environment => {
            let result = environment(env).map_err(|e| -> Error {
                InputError::argument("credential_source", format!("Environment: {e}")).into()
            });
            (Box::new(Ready(Some(result))), "profile (environment)")
        }
        ProfileSource::Imds => (Box::new(Forward(imds_env(env))), "profile (imds)"),
        ProfileSource::Container => (Box::new(Forward(container_env(env))), "profile (container)"), // `ProfileSource` is non-exhaustive for users; every variant is handled above.
    };
    for role in chain.roles {
        machine = Box::new(AssumeRoleMachine::new(
            sts()?,
            AssumeRoleParams {
                role_arn: role.role_arn,
                session_name: role.session_name,
                external_id: role.external_id,
                duration_seconds: role.duration_seconds,
            },
            machine,
        ));
        label = "profile (assume role)";
    }
    Ok(Box::new(Named(label, machine)))
}

/// Sets the provider name on credentials a machine produces.
struct Named(&'static str, Box<dyn Machine>);

impl Machine for Named {
    fn poll(&mut self, now: SystemTime) -> Step {
        match self.1.poll(now) {
            Step::Done(Ok(c)) => Step::Done(Ok(c.with_provider(self.0))),
            other => other,
        }
    }
    fn handle(&mut self, result: IoResult) {
        self.1.handle(result);
    }
}

/// A whole provider used as the source of a role; "not configured" becomes a failure, since
/// the profile asked for it.
struct Forward(Provider);

impl Machine for Forward {
    fn poll(&mut self, now: SystemTime) -> Step {
        match self.0.poll(now) {
            Step::Done(Err(Error::Credentials(e))) if e.is_not_configured() => {
                let name = self.0.name();
                Step::Done(Err(CredentialsError::Failed {
                    provider: name,
                    source: InputError::argument("credential_source", e.to_string()).into(),
                }
                .into()))
            }
            other => other,
        }
    }
    fn handle(&mut self, result: IoResult) {
        self.0.handle(result);
    }
}

impl Provider {
    /// The shared-profile provider for profile `name`, given the files' texts (the runtime
    /// reads them; see [`profile::shared_files`]).
    pub fn profile(
        lookup: impl FnMut(&str) -> Option<String>,
        name: &str,
        credentials_file: Option<&str>,
        config_file: Option<&str>,
    ) -> Self {
        let env = Env::capture(lookup);
        let build = || -> Result<Box<dyn Machine>, Error> {
            let files = ProfileFiles::parse(
                credentials_file.map(|t| ("credentials file", t)),
                config_file.map(|t| ("config file", t)),
            )?;
            let chain = files.credential_chain(name)?.ok_or_else(|| {
                CredentialsError::not_configured(
                    "profile",
                    format!("profile {name} sets no credentials"),
                )
            })?;
            profile_chain_machine(&env, chain, &files, name)
        };
        match build() {
            Ok(m) => Provider::new("profile", m),
            Err(e) => Provider::ready("profile", Err(e)),
        }
    }
}
