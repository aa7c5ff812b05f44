//! `Client::builder()` in both runtimes: a client described step by step, from nothing or
//! from the standard environment, then built.
//!
//! ```no_run
//! # fn demo() -> Result<(), s3_proto::Error> {
//! # struct Client;
//! # impl s3_proto::builder::BuildClient for Client {
//! #     fn assemble(_: s3_proto::Config, _: s3_proto::credentials::CredentialSource,
//! #         _: s3_proto::flow::request::Options) -> Result<Self, s3_proto::Error> { Ok(Client) }
//! #     fn lookup(_: &str) -> Option<String> { None }
//! #     fn read(p: &std::path::Path) -> std::io::Result<Vec<u8>> { std::fs::read(p) }
//! # }
//! use std::time::Duration;
//! use s3_proto::{Addressing, Credentials};
//!
//! // In a runtime: `s3_blocking::Client::builder()`.
//! let client: Client = s3_proto::builder::ClientBuilder::new()
//!     .endpoint("http://127.0.0.1:7480")
//!     .region("us-east-1")
//!     .credentials(Credentials::new("AKID", "SECRET"))
//!     .addressing(Addressing::Path)
//!     .request_timeout(Duration::from_secs(30))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! Every setting not given comes from the environment when the builder was asked to start
//! from it ([`ClientBuilder::environment`]), else from the defaults: AWS's
//! endpoint for the region, `us-east-1`, virtual-host addressing, SigV4, the default
//! [`Options`]. Credentials must come from somewhere: given, the environment, or
//! [`ClientBuilder::anonymous`].

use std::marker::PhantomData;
use std::path::Path;
use std::time::Duration;

use crate::checksum::ChecksumPolicy;
use crate::config::{Config, SignatureVersion};
use crate::credentials::{CredentialSource, Credentials};
use crate::endpoint::Addressing;
use crate::error::{Error, InputError};
use crate::flow::request::Options;
use crate::integrity::Integrity;
use crate::proxy::Proxies;
use crate::quirks::ServerQuirks;
use crate::retry::RetryPolicy;
use crate::tls::Tls;

/// What a runtime's client provides to be built: its constructor, and how it reads the
/// environment (so this crate never does).
pub trait BuildClient: Sized {
    /// The client for `config`, `credentials` and `options`.
    ///
    /// # Errors
    /// As the runtime's `Client::with_options` (a bad CA bundle or proxy).
    fn assemble(
        config: Config,
        credentials: CredentialSource,
        options: Options,
    ) -> Result<Self, Error>;

    /// The environment variable `name`.
    fn lookup(name: &str) -> Option<String>;

    /// The file at `path`.
    ///
    /// # Errors
    /// The file system's.
    fn read(path: &Path) -> std::io::Result<Vec<u8>>;
}

/// A client described step by step (see the module docs).
#[derive(Debug)]
pub struct ClientBuilder<C> {
    from_env: bool,
    endpoint: Option<String>,
    region: Option<String>,
    credentials: Option<CredentialSource>,
    addressing: Option<Addressing>,
    signature: Option<SignatureVersion>,
    tls: Option<Tls>,
    proxy: Option<Proxies>,
    request_checksums: Option<ChecksumPolicy>,
    options: Options,
    client: PhantomData<fn() -> C>,
}

impl<C: BuildClient> Default for ClientBuilder<C> {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl<C: BuildClient> ClientBuilder<C> {
    /// Nothing set: defaults only.
    pub fn new() -> Self {
        ClientBuilder {
            from_env: false,
            endpoint: None,
            region: None,
            credentials: None,
            addressing: None,
            signature: None,
            tls: None,
            proxy: None,
            request_checksums: None,
            options: Options::default(),
            client: PhantomData,
        }
    }

    /// Starts from the standard environment (variables and shared files, as
    /// `Client::from_env` reads them): what is set on the builder overrides it.
    pub fn environment(mut self) -> Self {
        self.from_env = true;
        self
    }

    /// The endpoint URL (`http://127.0.0.1:7480`, `https://minio.example.com`).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The region to sign for.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The credentials: fixed keys, or a refreshing source.
    pub fn credentials(mut self, credentials: impl Into<CredentialSource>) -> Self {
        self.credentials = Some(credentials.into());
        self
    }

    /// No credentials: requests go unsigned (public buckets).
    pub fn anonymous(self) -> Self {
        self.credentials(Credentials::anonymous())
    }

    /// Path-style or virtual-host addressing.
    pub fn addressing(mut self, addressing: Addressing) -> Self {
        self.addressing = Some(addressing);
        self
    }

    /// The signature version (SigV4, or SigV2 for old servers).
    pub fn signature(mut self, version: SignatureVersion) -> Self {
        self.signature = Some(version);
        self
    }

    /// Every option at once (replaces what was set before).
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Time allowed to connect.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.connect_timeout(Some(timeout));
        self
    }

    /// Time allowed for one whole attempt.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.request_timeout(Some(timeout));
        self
    }

    /// Longest silence while sending or receiving.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.stall_timeout(Some(timeout));
        self
    }

    /// When and how failed requests are tried again.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.options = self.options.retry(policy);
        self
    }

    /// How much verification reads insist on.
    pub fn integrity(mut self, integrity: Integrity) -> Self {
        self.options = self.options.integrity(integrity);
        self
    }

    /// The certificates trusted for https (a CA bundle, the platform's store).
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The forward proxies.
    pub fn proxy(mut self, proxy: Proxies) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// How the server differs from AWS S3 (a preset such as
    /// [`ServerQuirks::ceph`](crate::quirks::ServerQuirks::ceph); default AWS's).
    pub fn quirks(mut self, quirks: ServerQuirks) -> Self {
        self.options = self.options.quirks(quirks);
        self
    }

    /// When uploads carry a flexible checksum nobody asked for (the SDKs'
    /// `request_checksum_calculation`; from the environment, else `when_required`).
    pub fn request_checksums(mut self, policy: ChecksumPolicy) -> Self {
        self.request_checksums = Some(policy);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Input`] for a bad endpoint, no credentials from anywhere, or what the
    /// environment and the runtime refuse (see `Client::from_env` and
    /// `Client::with_options`).
    pub fn build(self) -> Result<C, Error> {
        let (config, credentials, tls, proxy, checksums) = match self.from_env {
            true => {
                let setup = crate::profile::setup_from_env(C::lookup, C::read)?;
                let tls = Some(setup.tls.clone());
                // A region given here wins over one instance metadata would name.
                let credentials = match self.region {
                    Some(_) => setup.credentials,
                    None => setup.credential_source(),
                };
                (
                    Some(setup.config),
                    Some(credentials),
                    tls,
                    Some(setup.proxy),
                    Some(setup.request_checksums),
                )
            }
            false => (None, None, None, None, None),
        };
        let region = self
            .region
            .clone()
            .or_else(|| config.as_ref().map(|c| c.region().to_owned()))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let mut config = match (self.endpoint, config) {
            (Some(url), _) => Config::new(&url, region)?,
            (None, Some(config)) if self.region.is_some() => config.with_region(&region),
            (None, Some(config)) => config,
            (None, None) => Config::aws(region),
        };
        if let Some(addressing) = self.addressing {
            config = config.addressing(addressing);
        }
        if let Some(version) = self.signature {
            config = config.signature(version);
        }
        let credentials = self.credentials.or(credentials).ok_or_else(|| {
            InputError::argument(
                "credentials",
                "none given: set them, start from the environment, or ask for anonymous",
            )
        })?;
        let mut options = self.options;
        if let Some(tls) = self.tls.or(tls) {
            options = options.tls(tls);
        }
        if let Some(proxy) = self.proxy.or(proxy) {
            options = options.proxy(proxy);
        }
        if let Some(policy) = self.request_checksums.or(checksums) {
            options = options.request_checksums(policy);
        }
        C::assemble(config, credentials, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Built(Config, Options);

    impl BuildClient for Built {
        fn assemble(config: Config, _: CredentialSource, options: Options) -> Result<Self, Error> {
            Ok(Built(config, options))
        }
        fn lookup(name: &str) -> Option<String> {
            match name {
                "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:9000".into()),
                "AWS_REGION" => Some("eu-west-1".into()),
                "AWS_ACCESS_KEY_ID" => Some("AKID".into()),
                "AWS_SECRET_ACCESS_KEY" => Some("SECRET".into()),
                "AWS_REQUEST_CHECKSUM_CALCULATION" => Some("WHEN_SUPPORTED".into()),
                _ => None,
            }
        }
        fn read(_: &Path) -> std::io::Result<Vec<u8>> {
            Err(std::io::ErrorKind::NotFound.into())
        }
    }

    #[test]
    fn settings_override_the_environment_and_defaults_fill_the_rest() {
        let Built(config, options) = ClientBuilder::<Built>::new()
            .environment()
            .region("us-west-2")
            .request_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        assert_eq!(config.region(), "us-west-2");
        assert_eq!(options.request_timeout, Some(Duration::from_secs(5)));
        assert_eq!(options.request_checksums, ChecksumPolicy::WhenSupported);
        assert_eq!(options.quirks, ServerQuirks::aws());
        let Built(_, options) = ClientBuilder::<Built>::new()
            .environment()
            .request_checksums(ChecksumPolicy::WhenRequired)
            .quirks(ServerQuirks::ceph())
            .build()
            .unwrap();
        assert_eq!(options.request_checksums, ChecksumPolicy::WhenRequired);
        assert_eq!(options.quirks, ServerQuirks::ceph());
        let Built(config, options) = ClientBuilder::<Built>::new().anonymous().build().unwrap();
        assert_eq!(options.request_checksums, ChecksumPolicy::WhenRequired);
        assert_eq!(config.region(), "us-east-1");
        let err = ClientBuilder::<Built>::new().build().unwrap_err();
        assert!(err.to_string().contains("credentials"), "{err}");
        let err = ClientBuilder::<Built>::new()
            .endpoint("not a url")
            .anonymous()
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{err}");
    }
}
