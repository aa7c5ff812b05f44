//! The AWS conventions a user already has: environment variables and the shared
//! `~/.aws/credentials` and `~/.aws/config` files, resolved without IO.
//!
//! A runtime asks [`shared_files`] where the files are, reads them, and passes their text
//! to [`resolve`] with its environment lookup. Precedence follows the AWS CLI: environment
//! variables, then the credentials file, then the config file.

use std::path::PathBuf;

use crate::config::{Config, DEFAULT_REGION};
use crate::credentials::{Credentials, Secret};
use crate::endpoint::Addressing;
use crate::error::InputError;
use crate::sorted::SortedMap;

/// Where the shared files are, from `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE` and
/// `HOME` (or `USERPROFILE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFiles {
    /// The credentials file.
    pub credentials: Option<PathBuf>,
    /// The config file.
    pub config: Option<PathBuf>,
}

/// The config and credentials the AWS CLI would use: `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` / `AWS_DEFAULT_REGION`,
/// `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, and the profile (`AWS_PROFILE`) in
/// `~/.aws/credentials` and `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE` /
/// `AWS_CONFIG_FILE`). `lookup` reads a variable and `read` a file: the runtime's IO.
///
/// # Errors
/// [`InputError`] for half a key pair or a bad endpoint URL; a transport error naming the
/// file when a shared file exists but cannot be read.
pub fn from_env(
    mut lookup: impl FnMut(&str) -> Option<String>,
    read: impl FnMut(&std::path::Path) -> std::io::Result<String>,
) -> Result<(Config, Credentials), crate::Error> {
    let (credentials, config) = read_shared(&mut lookup, read)?;
    Ok(resolve(lookup, credentials.as_deref(), config.as_deref())?)
}

/// Reads the shared credentials and config files (absent files are `None`).
fn read_shared(
    lookup: impl FnMut(&str) -> Option<String>,
    mut read: impl FnMut(&std::path::Path) -> std::io::Result<String>,
) -> Result<(Option<String>, Option<String>), crate::Error> {
    let files = shared_files(lookup);
    let mut text = |path: Option<PathBuf>| -> Result<Option<String>, crate::Error> {
        let Some(path) = path else { return Ok(None) };
        match read(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(crate::TransportError::new(
                crate::TransportErrorKind::Body,
                format!("cannot read {}", path.display()),
            )
            .with_source(e)
            .into()),
        }
    };
    Ok((text(files.credentials)?, text(files.config)?))
}

/// Everything a runtime's `Client::from_env` needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EnvSetup {
    /// Region, endpoint and addressing, as [`resolve_config`].
    pub config: Config,
    /// Trust settings: the CA bundle named by `AWS_CA_BUNDLE`, else the profile's `ca_bundle`;
    /// the platform's store (when asked for) where `SSL_CERT_FILE` / `SSL_CERT_DIR` point.
    pub tls: crate::tls::Tls,
    /// The proxies of `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` (and lower case).
    pub proxy: crate::proxy::Proxies,
    /// The [`DefaultChain`](crate::credentials::chain::DefaultChain) over the variables
    /// `lookup` gave, cached ([`DefaultChain::cached`](crate::credentials::chain::DefaultChain::cached)).
    pub credentials: crate::credentials::CredentialSource,
    /// Where the region is looked up when neither the environment nor the profile names one:
    /// instance metadata, as the SDKs do (`None` when a region is set or
    /// `AWS_EC2_METADATA_DISABLED` is true). [`EnvSetup::credential_source`] applies it.
    pub imds_region: Option<crate::credentials::imds::ImdsRegion>,
    /// When uploads get a checksum nobody asked for: `AWS_REQUEST_CHECKSUM_CALCULATION`, else
    /// the profile's `request_checksum_calculation`, else the default.
    pub request_checksums: crate::checksum::ChecksumPolicy,
}

impl EnvSetup {
    /// [`EnvSetup::credentials`], also discovering the region through
    /// [`EnvSetup::imds_region`] at the first refresh when there is one (see
    /// [`CredentialSource::discovering_region`](crate::credentials::CredentialSource::discovering_region)).
    pub fn credential_source(&self) -> crate::credentials::CredentialSource {
        match self.imds_region.clone() {
            Some(imds) => self
                .credentials
                .clone()
                .discovering_region(move || imds.lookup()),
            None => self.credentials.clone(),
        }
    }
}

/// Everything `Client::from_env` needs, with `lookup` reading a variable and `read` a file
/// (the shared files, then the CA bundle). When no `AWS_ACCESS_KEY_ID` is set, the profile's
/// credential settings are checked now, so a profile naming a source s3-rs cannot use fails
/// here, naming the key, rather than at the first request. Credentials themselves are
/// resolved at the first request; none found is an error there, never anonymous access.
///
/// # Errors
/// As [`config_from_env`]; [`InputError`] for an unusable credential setting of the profile or
/// a CA bundle without certificates; a transport error naming a CA bundle that cannot be read.
pub fn setup_from_env(
    mut lookup: impl FnMut(&str) -> Option<String>,
    mut read: impl FnMut(&std::path::Path) -> std::io::Result<Vec<u8>>,
) -> Result<EnvSetup, crate::Error> {
    setup_with(&mut lookup, &mut read)
}

/// [`setup_from_env`] behind `dyn` closures: compiled once here, not again in each runtime.
fn setup_with(
    mut lookup: &mut dyn FnMut(&str) -> Option<String>,
    read: &mut dyn FnMut(&std::path::Path) -> std::io::Result<Vec<u8>>,
) -> Result<EnvSetup, crate::Error> {
    let (credentials, config) = read_shared(&mut lookup, |path| {
        String::from_utf8(read(path)?)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    })?;
    let profile = profile_name(&mut lookup);
    let files = ProfileFiles::parse(
        credentials.as_deref().map(|t| ("credentials file", t)),
        config.as_deref().map(|t| ("config file", t)),
    )?;
    if Credentials::from_lookup(&mut lookup)?.is_none() {
        files.credential_chain(&profile)?;
    }
    let config = config_of(&mut lookup, &files, &profile)?;
    let env = crate::credentials::machine::Env::capture(&mut lookup);
    let imds_region = match env.region().or(files.settings(&profile).region.as_deref()) {
        Some(_) => None,
        None => {
            let env = crate::credentials::chain::imds_settings(&env, files.profile(&profile));
            crate::credentials::imds::ImdsRegion::from_env(&env)
        }
    };
    let bundle = lookup("AWS_CA_BUNDLE")
        .filter(|v| !v.trim().is_empty())
        .map(PathBuf::from)
        .or(files.settings(&profile).ca_bundle);
    let mut tls = crate::tls::Tls::default().platform_store(&mut lookup);
    if let Some(path) = bundle {
        let pem = read(&path).map_err(|e| {
            crate::TransportError::new(
                crate::TransportErrorKind::Body,
                format!("cannot read the CA bundle {}", path.display()),
            )
            .with_source(e)
        })?;
        tls = tls.ca_bundle(pem);
        tls.bundle_certificates()?;
    }
    let proxy = crate::proxy::Proxies::from_lookup(&mut lookup);
    let request_checksums = lookup("AWS_REQUEST_CHECKSUM_CALCULATION")
        .filter(|v| !v.trim().is_empty())
        .or(files.settings(&profile).request_checksum_calculation)
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or_default();
    let credentials = crate::credentials::chain::DefaultChain::new(lookup).cached();
    Ok(EnvSetup {
        config,
        tls,
        proxy,
        credentials,
        imds_region,
        request_checksums,
    })
}

/// Locates the shared files; nothing is read.
pub fn shared_files(mut lookup: impl FnMut(&str) -> Option<String>) -> SharedFiles {
    let mut get = |name: &str| lookup(name).filter(|v| !v.is_empty());
    let home = get("HOME")
        .or_else(|| get("USERPROFILE"))
        .map(PathBuf::from);
    let in_home = |file: &str| home.as_ref().map(|h| h.join(".aws").join(file));
    SharedFiles {
        credentials: get("AWS_SHARED_CREDENTIALS_FILE")
            .map(PathBuf::from)
            .or_else(|| in_home("credentials")),
        config: get("AWS_CONFIG_FILE")
            .map(PathBuf::from)
            .or_else(|| in_home("config")),
    }
}

/// The profile in use: `AWS_PROFILE`, else `default`.
pub fn profile_name(mut lookup: impl FnMut(&str) -> Option<String>) -> String {
    lookup("AWS_PROFILE")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "default".to_owned())
}

/// Resolves config and static credentials from the environment and the shared files' contents.
///
/// Credentials come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, else
/// the profile's `aws_access_key_id`/`aws_secret_access_key`/`aws_session_token` (credentials
/// file first, then the config file); nothing configured at all means anonymous. A profile whose
/// credentials need IO (`role_arn`, `credential_process`, SSO) is an error naming the key: use
/// [`crate::credentials::chain::DefaultChain`] for those. The region comes from `AWS_REGION`,
/// `AWS_DEFAULT_REGION`, then the profile's `region` (default us-east-1); the endpoint from
/// `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, then the profile's `endpoint_url`; the addressing
/// style from the profile's `s3 = addressing_style`.
///
/// # Errors
/// [`InputError`] for half a key pair, an unusable endpoint URL, a malformed file (with its line)
/// or a profile that names a credential source this function cannot use.
pub fn resolve(
    mut lookup: impl FnMut(&str) -> Option<String>,
    credentials_file: Option<&str>,
    config_file: Option<&str>,
) -> Result<(Config, Credentials), InputError> {
    let profile = profile_name(&mut lookup);
    let files = ProfileFiles::parse(
        credentials_file.map(|t| ("credentials file", t)),
        config_file.map(|t| ("config file", t)),
    )?;
    let credentials = match Credentials::from_lookup(&mut lookup)? {
        Some(c) => c,
        None => match files.credential_chain(&profile)? {
            None => Credentials::anonymous(),
            Some(ProfileChain {
                base:
                    ProfileSource::Static {
                        access_key,
                        secret_key,
                        session_token,
                    },
                roles,
            }) if roles.is_empty() => {
                let c = Credentials::new(access_key, secret_key.expose()).with_provider("profile");
                match session_token {
                    Some(t) => c.with_session_token(t.expose()),
                    None => c,
                }
            }
            Some(chain) => {
                let key = if chain.roles.is_empty() {
                    chain.base.key()
                } else {
                    "role_arn"
                };
                return Err(InputError::Profile {
                    at: format!("profile {profile}"),
                    line: None,
                    key: Some(key.to_owned()),
                    reason: "needs the credential provider chain (s3_proto::credentials), \
                             not static resolution"
                        .to_owned(),
                });
            }
        },
    };
    Ok((config_of(lookup, &files, &profile)?, credentials))
}

/// The config alone (region, endpoint, addressing style), resolved as [`resolve`] does but
/// without touching credentials, for runtimes that take credentials from the provider chain.
///
/// # Errors
/// [`InputError`] for an unusable endpoint URL or a malformed file.
pub fn resolve_config(
    mut lookup: impl FnMut(&str) -> Option<String>,
    credentials_file: Option<&str>,
    config_file: Option<&str>,
) -> Result<Config, InputError> {
    let profile = profile_name(&mut lookup);
    let files = ProfileFiles::parse(
        credentials_file.map(|t| ("credentials file", t)),
        config_file.map(|t| ("config file", t)),
    )?;
    config_of(lookup, &files, &profile)
}

/// [`resolve_config`] with the runtime's environment lookup and file reader, as
/// [`from_env`] reads them.
///
/// # Errors
/// As [`resolve_config`]; a transport error naming a shared file that exists but cannot be
/// read.
pub fn config_from_env(
    mut lookup: impl FnMut(&str) -> Option<String>,
    read: impl FnMut(&std::path::Path) -> std::io::Result<String>,
) -> Result<Config, crate::Error> {
    let (credentials, config) = read_shared(&mut lookup, read)?;
    Ok(resolve_config(
        lookup,
        credentials.as_deref(),
        config.as_deref(),
    )?)
}

fn config_of(
    mut lookup: impl FnMut(&str) -> Option<String>,
    files: &ProfileFiles,
    profile: &str,
) -> Result<Config, InputError> {
    let settings = files.settings(profile);
    let mut get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let region = get("AWS_REGION")
        .or_else(|| get("AWS_DEFAULT_REGION"))
        .or(settings.region)
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let endpoint = get("AWS_ENDPOINT_URL_S3")
        .or_else(|| get("AWS_ENDPOINT_URL"))
        .or(settings.endpoint_url);
    let mut config = match endpoint {
        Some(url) => Config::new(&url, region)?,
        None => Config::aws(region),
    };
    if let Some(addressing) = settings.addressing {
        config = config.addressing(addressing);
    }
    Ok(config)
}

/// The non-credential settings of a profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProfileSettings {
    /// `region`.
    pub region: Option<String>,
    /// The S3 endpoint of the files ([`ProfileFiles::endpoint_url`] for `s3`).
    pub endpoint_url: Option<String>,
    /// `ca_bundle`: a PEM file of extra trusted roots.
    pub ca_bundle: Option<PathBuf>,
    /// `s3 = addressing_style` (`path`, `virtual` or `auto`).
    pub addressing: Option<Addressing>,
    /// `request_checksum_calculation` (`when_supported` or `when_required`), as written.
    pub request_checksum_calculation: Option<String>,
}

/// One `key = value` line, with its nested `sub = value` lines (`s3 =` blocks).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Property {
    key: String,
    value: String,
    line: usize,
    sub: Vec<(String, String)>,
}

/// A `[profile x]` or `[sso-session x]` section, merged over both files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    props: Vec<Property>,
}

impl Section {
    /// The value of `key` (case-insensitive); the credentials file wins over the config file,
    /// a later line over an earlier one. Empty values count as unset.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .rev()
            .find(|p| p.key.eq_ignore_ascii_case(key))
            .map(|p| p.value.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The nested value `key = \n  sub = value` (for example `s3` / `addressing_style`).
    pub fn sub(&self, key: &str, sub: &str) -> Option<&str> {
        self.props
            .iter()
            .rev()
            .filter(|p| p.key.eq_ignore_ascii_case(key))
            .find_map(|p| {
                p.sub
                    .iter()
                    .rev()
                    .find(|(k, _)| k.eq_ignore_ascii_case(sub))
            })
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// The parsed shared config and credentials files: profiles, `sso-session` and `services`
/// sections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileFiles {
    profiles: SortedMap<String, Section>,
    sso_sessions: SortedMap<String, Section>,
    services: SortedMap<String, Section>,
}

/// How deep `source_profile` chains may go before they count as a cycle.
const MAX_CHAIN: usize = 32;

impl ProfileFiles {
    /// Parses both files; each is `(label for errors, text)`. In the config file profiles are
    /// `[default]` and `[profile name]`; in the credentials file `[name]`.
    ///
    /// # Errors
    /// [`InputError::Profile`] with the file and line of the first malformed line.
    pub fn parse(
        credentials: Option<(&str, &str)>,
        config: Option<(&str, &str)>,
    ) -> Result<Self, InputError> {
        let mut files = ProfileFiles::default();
        // Config first, so that the credentials file's values, pushed later, win.
        if let Some((label, text)) = config {
            files.parse_one(label, text, true)?;
        }
        if let Some((label, text)) = credentials {
            files.parse_one(label, text, false)?;
        }
        Ok(files)
    }

    fn parse_one(&mut self, label: &str, text: &str, config_file: bool) -> Result<(), InputError> {
        let err = |line: usize, reason: &str| InputError::Profile {
            at: label.to_owned(),
            line: Some(line),
            key: None,
            reason: reason.to_owned(),
        };
        // The section being filled; `None` inside a section we ignore.
        let mut current: Option<&mut Section> = None;
        let mut seen_section = false;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
                continue;
            }
            if raw.starts_with([' ', '\t']) && seen_section {
                // Continuation of the previous property: a nested `k = v` when its value is
                // empty, else more of its value.
                let Some(section) = current.as_deref_mut() else {
                    continue;
                };
                let Some(prop) = section.props.last_mut() else {
                    return Err(err(n, "indented line without a property above it"));
                };
                if prop.value.is_empty() {
                    let Some((k, v)) = trimmed.split_once('=') else {
                        return Err(err(n, "nested setting without '='"));
                    };
                    if k.trim().is_empty() {
                        return Err(err(n, "nested setting without a name"));
                    }
                    prop.sub
                        .push((k.trim().to_ascii_lowercase(), strip_comment(v).to_owned()));
                } else {
                    prop.value.push('\n');
                    prop.value.push_str(trimmed);
                }
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let Some(end) = rest.find(']') else {
                    return Err(err(n, "section header without ']'"));
                };
                let after = rest[end + 1..].trim();
                if !after.is_empty() && !after.starts_with(['#', ';']) {
                    return Err(err(n, "text after a section header"));
                }
                let name = rest[..end].trim();
                if name.is_empty() {
                    return Err(err(n, "empty section name"));
                }
                seen_section = true;
                let mut words = name.split_whitespace();
                let (kind, named) = match (words.next(), words.next(), words.next()) {
                    (Some(only), None, _) => (None, only),
                    (Some(kind), Some(named), None) => (Some(kind), named),
                    _ => return Err(err(n, "section name has more than two words")),
                };
                let sections = match (config_file, kind) {
                    (false, None) | (true, Some("profile")) => Some(&mut self.profiles),
                    (true, None) if named == "default" => Some(&mut self.profiles),
                    (true, Some("sso-session")) => Some(&mut self.sso_sessions),
                    (true, Some("services")) => Some(&mut self.services),
                    // `[name]` without `profile ` in the config file, and
                    // `[profile x]` in the credentials file are ignored, as the AWS CLI does.
                    _ => None,
                };
                current =
                    sections.map(|s| s.get_or_insert_with(named.to_owned(), Section::default));
                continue;
            }
            let Some((k, v)) = trimmed.split_once('=') else {
                return Err(err(n, "expected 'key = value' or '[section]'"));
            };
            let key = k.trim();
            if key.is_empty() {
                return Err(err(n, "setting without a name"));
            }
            if !seen_section {
                return Err(err(n, "setting before any [section]"));
            }
            if let Some(section) = current.as_deref_mut() {
                section.props.push(Property {
                    key: key.to_ascii_lowercase(),
                    value: strip_comment(v).to_owned(),
                    line: n,
                    sub: Vec::new(),
                });
            }
        }
        Ok(())
    }

    /// The profile called `name`, if either file has it.
    pub fn profile(&self, name: &str) -> Option<&Section> {
        self.profiles.get(name)
    }

    /// The `[sso-session name]` section, if the config file has it.
    pub fn sso_session(&self, name: &str) -> Option<&Section> {
        self.sso_sessions.get(name)
    }

    /// The endpoint the shared files configure for `service` (the SDKs' service id in lower
    /// case: `s3`, `sts`, `sso`) in profile `name`: the `[services x]` section the profile
    /// names (`services = x`, then `service =` / `endpoint_url =` nested), else the profile's
    /// own nested `service = endpoint_url`, else its `endpoint_url`. The environment
    /// (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`) comes before any of these; see
    /// <https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html>.
    pub fn endpoint_url(&self, name: &str, service: &str) -> Option<&str> {
        let p = self.profile(name)?;
        p.get("services")
            .and_then(|s| self.services.get(s))
            .and_then(|s| s.sub(service, "endpoint_url"))
            .or_else(|| p.sub(service, "endpoint_url"))
            .or_else(|| p.get("endpoint_url"))
    }

    /// The region, endpoint, CA bundle and addressing style of profile `name`.
    pub fn settings(&self, name: &str) -> ProfileSettings {
        let Some(p) = self.profile(name) else {
            return ProfileSettings::default();
        };
        ProfileSettings {
            region: p.get("region").map(str::to_owned),
            endpoint_url: self.endpoint_url(name, "s3").map(str::to_owned),
            ca_bundle: p.get("ca_bundle").map(PathBuf::from),
            addressing: match p.sub("s3", "addressing_style") {
                Some("path") => Some(Addressing::Path),
                Some("virtual") => Some(Addressing::VirtualHost),
                Some("auto") => Some(Addressing::Auto),
                _ => None,
            },
            request_checksum_calculation: p.get("request_checksum_calculation").map(str::to_owned),
        }
    }

    /// How profile `name` obtains credentials: a base source and the roles assumed from it.
    ///
    /// `Ok(None)` when the profile does not exist or sets no credentials at all, so a chain may
    /// move on. Follows `source_profile` chains: the first profile's `role_arn` wins over its
    /// static keys; in a source profile, static keys end the chain (as the AWS SDKs do).
    ///
    /// # Errors
    /// [`InputError::Profile`] naming the profile and key for a cycle, a missing source profile,
    /// both or neither of `source_profile` and `credential_source`, an unknown
    /// `credential_source`, half a key pair, or an incomplete SSO configuration.
    pub fn credential_chain(&self, name: &str) -> Result<Option<ProfileChain>, InputError> {
        let mut roles = Vec::new();
        let mut visited: Vec<&str> = Vec::new();
        let mut current = name;
        loop {
            let first = visited.is_empty();
            let Some(p) = self.profile(current) else {
                if first {
                    return Ok(None);
                }
                let from = visited.last().copied().unwrap_or(name);
                return Err(key_error(
                    from,
                    "source_profile",
                    format!("names profile {current}, which does not exist"),
                ));
            };
            if !first {
                if let Some(base) = static_keys(current, p)? {
                    roles.reverse();
                    return Ok(Some(ProfileChain { base, roles }));
                }
            }
            if visited.contains(&current) || visited.len() > MAX_CHAIN {
                return Err(key_error(
                    current,
                    "source_profile",
                    format!("cycle: {} -> {current}", visited.join(" -> ")),
                ));
            }
            visited.push(current);
            let Some(role_arn) = p.get("role_arn") else {
                if let Some(base) = self.base_source(current, p)? {
                    roles.reverse();
                    return Ok(Some(ProfileChain { base, roles }));
                }
                if first {
                    return Ok(None);
                }
                return Err(key_error(
                    current,
                    "source_profile",
                    "the source profile has no credentials".to_owned(),
                ));
            };
            if let Some(file) = p.get("web_identity_token_file") {
                let base = ProfileSource::WebIdentity {
                    role_arn: role_arn.to_owned(),
                    token_file: PathBuf::from(file),
                    session_name: p.get("role_session_name").map(str::to_owned),
                };
                roles.reverse();
                return Ok(Some(ProfileChain { base, roles }));
            }
            roles.push(AssumeRole {
                profile: current.to_owned(),
                role_arn: role_arn.to_owned(),
                session_name: p.get("role_session_name").map(str::to_owned),
                external_id: p.get("external_id").map(str::to_owned),
                duration_seconds: match p.get("duration_seconds") {
                    None => None,
                    Some(d) => Some(
                        d.parse::<u32>()
                            .ok()
                            .filter(|d| (900..=43_200).contains(d))
                            .ok_or_else(|| {
                                key_error(
                                    current,
                                    "duration_seconds",
                                    "must be 900 to 43200".to_owned(),
                                )
                            })?,
                    ),
                },
            });
            match (p.get("source_profile"), p.get("credential_source")) {
                (Some(_), Some(_)) => {
                    return Err(key_error(
                        current,
                        "credential_source",
                        "set together with source_profile; use one".to_owned(),
                    ));
                }
                (None, None) => {
                    return Err(key_error(
                        current,
                        "role_arn",
                        "needs source_profile, credential_source or web_identity_token_file"
                            .to_owned(),
                    ));
                }
                (None, Some(source)) => {
                    let base = match source {
                        "Environment" => ProfileSource::Environment,
                        "Ec2InstanceMetadata" => ProfileSource::Imds,
                        "EcsContainer" => ProfileSource::Container,
                        other => {
                            return Err(key_error(
                                current,
                                "credential_source",
                                format!(
                                    "{other:?} is not one of Environment, Ec2InstanceMetadata, EcsContainer"
                                ),
                            ));
                        }
                    };
                    roles.reverse();
                    return Ok(Some(ProfileChain { base, roles }));
                }
                (Some(source), None) => {
                    if source == current {
                        // A profile may name itself to assume a role with its own static keys.
                        let Some(base) = static_keys(current, p)? else {
                            return Err(key_error(
                                current,
                                "source_profile",
                                "names its own profile, which has no static keys".to_owned(),
                            ));
                        };
                        roles.reverse();
                        return Ok(Some(ProfileChain { base, roles }));
                    }
                    current = source;
                }
            }
        }
    }

    /// The credentials of a profile without `role_arn`: SSO, static keys, `credential_process`.
    fn base_source(&self, name: &str, p: &Section) -> Result<Option<ProfileSource>, InputError> {
        for unsupported in ["login_session"] {
            if p.get(unsupported).is_some() {
                return Err(key_error(
                    name,
                    unsupported,
                    "is not supported by s3-rs".to_owned(),
                ));
            }
        }
        if let Some(session) = p.get("sso_session") {
            let Some(s) = self.sso_session(session) else {
                return Err(key_error(
                    name,
                    "sso_session",
                    format!("names [sso-session {session}], which does not exist"),
                ));
            };
            let need = |sec: &Section, sec_name: &str, key: &'static str| {
                sec.get(key)
                    .map(str::to_owned)
                    .ok_or_else(|| key_error(sec_name, key, "is required for SSO".to_owned()))
            };
            let session_label = format!("sso-session {session}");
            return Ok(Some(ProfileSource::Sso(SsoConfig {
                session_name: Some(session.to_owned()),
                start_url: need(s, &session_label, "sso_start_url")?,
                region: need(s, &session_label, "sso_region")?,
                account_id: need(p, name, "sso_account_id")?,
                role_name: need(p, name, "sso_role_name")?,
            })));
        }
        if let Some(start_url) = p.get("sso_start_url") {
            let need = |key: &'static str| {
                p.get(key)
                    .map(str::to_owned)
                    .ok_or_else(|| key_error(name, key, "is required for SSO".to_owned()))
            };
            return Ok(Some(ProfileSource::Sso(SsoConfig {
                session_name: None,
                start_url: start_url.to_owned(),
                region: need("sso_region")?,
                account_id: need("sso_account_id")?,
                role_name: need("sso_role_name")?,
            })));
        }
        if let Some(base) = static_keys(name, p)? {
            return Ok(Some(base));
        }
        if let Some(command) = p.get("credential_process") {
            return Ok(Some(ProfileSource::Process {
                command: command.to_owned(),
            }));
        }
        if p.get("web_identity_token_file").is_some() {
            return Err(key_error(
                name,
                "web_identity_token_file",
                "needs role_arn".to_owned(),
            ));
        }
        Ok(None)
    }
}

fn key_error(profile: &str, key: &str, reason: String) -> InputError {
    InputError::Profile {
        at: format!("profile {profile}"),
        line: None,
        key: Some(key.to_owned()),
        reason,
    }
}

fn static_keys(name: &str, p: &Section) -> Result<Option<ProfileSource>, InputError> {
    match (p.get("aws_access_key_id"), p.get("aws_secret_access_key")) {
        (Some(access), Some(secret)) => Ok(Some(ProfileSource::Static {
            access_key: access.to_owned(),
            secret_key: Secret::new(secret),
            session_token: p.get("aws_session_token").map(Secret::new),
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(key_error(
            name,
            "aws_secret_access_key",
            "is missing but aws_access_key_id is set".to_owned(),
        )),
        (None, Some(_)) => Err(key_error(
            name,
            "aws_access_key_id",
            "is missing but aws_secret_access_key is set".to_owned(),
        )),
    }
}

/// A value with a trailing ` # comment` or ` ; comment` removed (only after whitespace, so
/// `#` and `;` inside secrets and URLs survive).
fn strip_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    let mut end = bytes.len();
    for (i, pair) in bytes.windows(2).enumerate() {
        if matches!(pair[0], b' ' | b'\t') && matches!(pair[1], b'#' | b';') {
            end = i;
            break;
        }
    }
    value[..end].trim()
}

/// Where a profile's credentials start.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileSource {
    /// `aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`.
    Static {
        /// The access key id.
        access_key: String,
        /// The secret key.
        secret_key: Secret,
        /// The session token.
        session_token: Option<Secret>,
    },
    /// `role_arn` with `web_identity_token_file`: STS `AssumeRoleWithWebIdentity`.
    WebIdentity {
        /// The role to assume.
        role_arn: String,
        /// The file holding the OIDC token.
        token_file: PathBuf,
        /// `role_session_name`.
        session_name: Option<String>,
    },
    /// `credential_process`.
    Process {
        /// The command line.
        command: String,
    },
    /// `sso_session` or the legacy `sso_start_url` keys.
    Sso(SsoConfig),
    /// `credential_source = Environment`.
    Environment,
    /// `credential_source = Ec2InstanceMetadata`.
    Imds,
    /// `credential_source = EcsContainer`.
    Container,
}

impl ProfileSource {
    /// The profile key that selects this source, for error messages.
    pub fn key(&self) -> &'static str {
        match self {
            ProfileSource::Static { .. } => "aws_access_key_id",
            ProfileSource::WebIdentity { .. } => "web_identity_token_file",
            ProfileSource::Process { .. } => "credential_process",
            ProfileSource::Sso(c) if c.session_name.is_some() => "sso_session",
            ProfileSource::Sso(_) => "sso_start_url",
            ProfileSource::Environment | ProfileSource::Imds | ProfileSource::Container => {
                "credential_source"
            }
        }
    }
}

/// The SSO settings of a profile (from `[sso-session x]` or the legacy keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoConfig {
    /// The `sso_session` name; `None` for the legacy configuration.
    pub session_name: Option<String>,
    /// `sso_start_url`.
    pub start_url: String,
    /// `sso_region`: where the SSO portal is.
    pub region: String,
    /// `sso_account_id`.
    pub account_id: String,
    /// `sso_role_name`.
    pub role_name: String,
}

/// One `role_arn` to assume with the credentials obtained so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    /// The profile that asks for it.
    pub profile: String,
    /// `role_arn`.
    pub role_arn: String,
    /// `role_session_name`.
    pub session_name: Option<String>,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `duration_seconds`.
    pub duration_seconds: Option<u32>,
}

/// A profile's credentials: the base source, then each role to assume, innermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChain {
    /// Where the first credentials come from.
    pub base: ProfileSource,
    /// Roles assumed in order, each with the credentials of the one before.
    pub roles: Vec<AssumeRole>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREDENTIALS: &str = "\
[default]
aws_access_key_id = DEFAULTKEY
aws_secret_access_key = defaultsecret

[work]
aws_access_key_id=WORKKEY
aws_secret_access_key=worksecret
aws_session_token = worktoken
";

    const CONFIG: &str = "\
[default]
region = eu-west-1

[profile work]
region = ap-southeast-1
endpoint_url = http://127.0.0.1:7480
s3 =
  addressing_style = path
";

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl FnMut(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn default_profile_from_files() {
        let (config, creds) = resolve(env(&[]), Some(CREDENTIALS), Some(CONFIG)).unwrap();
        assert_eq!(creds.access_key(), Some("DEFAULTKEY"));
        assert_eq!(config.region(), "eu-west-1");
        assert!(config.target().endpoint().is_aws());
    }

    #[test]
    fn named_profile_and_env_precedence() {
        let (config, creds) = resolve(
            env(&[("AWS_PROFILE", "work")]),
            Some(CREDENTIALS),
            Some(CONFIG),
        )
        .unwrap();
        assert_eq!(creds.access_key(), Some("WORKKEY"));
        assert_eq!(
            creds
                .session_token()
                .map(crate::credentials::Secret::expose),
            Some("worktoken")
        );
        assert_eq!(config.region(), "ap-southeast-1");
        assert_eq!(config.target().endpoint().url(), "http://127.0.0.1:7480");

        let vars = &[
            ("AWS_PROFILE", "work"),
            ("AWS_ACCESS_KEY_ID", "ENVKEY"),
            ("AWS_SECRET_ACCESS_KEY", "envsecret"),
            ("AWS_REGION", "us-west-2"),
            ("AWS_ENDPOINT_URL", "http://localhost:9000"),
        ];
        let (config, creds) = resolve(env(vars), Some(CREDENTIALS), Some(CONFIG)).unwrap();
        assert_eq!(creds.access_key(), Some("ENVKEY"));
        assert!(creds.session_token().is_none());
        assert_eq!(config.region(), "us-west-2");
        assert_eq!(config.target().endpoint().url(), "http://localhost:9000");
    }

    #[test]
    fn nothing_configured_is_anonymous_us_east_1() {
        let (config, creds) = resolve(env(&[]), None, None).unwrap();
        assert!(creds.is_anonymous());
        assert_eq!(config.region(), "us-east-1");
    }

    #[test]
    fn file_locations() {
        let files = shared_files(env(&[("HOME", "/home/u")]));
        assert_eq!(
            files.credentials,
            Some(PathBuf::from("/home/u/.aws/credentials"))
        );
        let files = shared_files(env(&[("HOME", "/home/u"), ("AWS_CONFIG_FILE", "/etc/aws")]));
        assert_eq!(files.config, Some(PathBuf::from("/etc/aws")));
    }

    fn parse_config(text: &str) -> Result<ProfileFiles, InputError> {
        ProfileFiles::parse(None, Some(("/home/u/.aws/config", text)))
    }

    #[test]
    fn malformed_files_are_errors_with_line_numbers() {
        for (text, line) in [
            ("[default\nregion = x\n", 1),
            ("region = x\n", 1),
            ("[default]\nregion = x\njust words\n", 3),
            ("[default]\n= value\n", 2),
            ("\n\n[]\n", 3),
            ("[default] trailing\n", 1),
            ("[default]\ns3 =\n  addressing_style\n", 3),
            ("[profile a b c]\n", 1),
        ] {
            let err = parse_config(text).unwrap_err();
            let InputError::Profile {
                line: got, ref at, ..
            } = err
            else {
                panic!("{err:?}");
            };
            assert_eq!(got, Some(line), "{text:?}: {err}");
            assert_eq!(at, "/home/u/.aws/config");
            assert!(err.to_string().contains(&format!("line {line}")), "{err}");
        }
        // Garbage never panics.
        for text in [
            "\u{0}\u{ffff}",
            "[",
            "]",
            "=",
            "\t=",
            "[default]\n\tx",
            "[default]\n\u{feff}a=b",
        ] {
            let _ = parse_config(text);
        }
    }

    #[test]
    fn settings_nested_blocks_comments_and_precedence() {
        let config = "\
# comment
; another
[profile dev] ; trailing comment
region = eu-north-1 # inline comment
endpoint_url = http://127.0.0.1:7480
ca_bundle = /etc/ssl/ceph-ca.pem
s3 =
  addressing_style = virtual
  endpoint_url = http://127.0.0.1:9000
aws_access_key_id = FROMCONFIG
aws_secret_access_key = secret#with;hash
[dev]
region = ignored-in-config-file
[services s]
s3 =
  endpoint_url = http://ignored
";
        let credentials = "[dev]\naws_access_key_id = FROMCREDS\n";
        let files =
            ProfileFiles::parse(Some(("creds", credentials)), Some(("config", config))).unwrap();
        let s = files.settings("dev");
        assert_eq!(s.region.as_deref(), Some("eu-north-1"));
        assert_eq!(s.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s.ca_bundle, Some(PathBuf::from("/etc/ssl/ceph-ca.pem")));
        assert_eq!(s.addressing, Some(Addressing::VirtualHost));
        let p = files.profile("dev").unwrap();
        assert_eq!(p.get("aws_access_key_id"), Some("FROMCREDS"));
        assert_eq!(p.get("AWS_SECRET_ACCESS_KEY"), Some("secret#with;hash"));
        assert_eq!(p.sub("s3", "addressing_style"), Some("virtual"));
    }

    #[test]
    fn service_endpoints_from_a_services_section() {
        let config = "\
[profile local]
services = here
endpoint_url = http://global
[profile plain]
endpoint_url = http://global
[services here]
sso =
  endpoint_url = http://sso
s3 =
  endpoint_url = http://s3
";
        let files = parse_config(config).unwrap();
        assert_eq!(files.endpoint_url("local", "sso"), Some("http://sso"));
        assert_eq!(files.endpoint_url("local", "s3"), Some("http://s3"));
        assert_eq!(files.endpoint_url("local", "sts"), Some("http://global"));
        assert_eq!(files.endpoint_url("plain", "sso"), Some("http://global"));
        assert_eq!(files.endpoint_url("nobody", "sso"), None);
        assert_eq!(
            files.settings("local").endpoint_url.as_deref(),
            Some("http://s3")
        );
    }

    #[test]
    fn credential_chains_and_their_errors() {
        let config = "\
[profile legacy-sso]
sso_start_url = https://d-1.awsapps.com/start
sso_region = us-east-1
sso_account_id = 1
sso_role_name = R

[profile half-sso]
sso_session = s

[sso-session s]
sso_start_url = https://x
sso_region = eu-west-1

[profile web]
role_arn = arn:aws:iam::1:role/w
web_identity_token_file = /var/token
role_session_name = w

[profile both]
role_arn = arn:aws:iam::1:role/b
source_profile = web
credential_source = Environment

[profile neither]
role_arn = arn:aws:iam::1:role/n

[profile missing-source]
role_arn = arn:aws:iam::1:role/m
source_profile = ghost

[profile half-keys]
aws_access_key_id = A

[profile bad-duration]
role_arn = arn:aws:iam::1:role/d
credential_source = Environment
duration_seconds = 12

[profile login]
login_session = arn:aws:iam::1:user/u

[profile empty]
region = us-east-1
";
        let files = parse_config(config).unwrap();
        let chain = files.credential_chain("legacy-sso").unwrap().unwrap();
        assert!(
            matches!(&chain.base, ProfileSource::Sso(c) if c.session_name.is_none() && c.role_name == "R")
        );
        let chain = files.credential_chain("web").unwrap().unwrap();
        assert!(
            matches!(&chain.base, ProfileSource::WebIdentity { token_file, .. } if token_file == &PathBuf::from("/var/token"))
        );
        assert!(chain.roles.is_empty());
        assert!(files.credential_chain("empty").unwrap().is_none());
        assert!(files.credential_chain("absent").unwrap().is_none());
        for (profile, key) in [
            ("half-sso", "sso_account_id"),
            ("both", "credential_source"),
            ("neither", "role_arn"),
            ("missing-source", "source_profile"),
            ("half-keys", "aws_secret_access_key"),
            ("bad-duration", "duration_seconds"),
            ("login", "login_session"),
        ] {
            let err = files.credential_chain(profile).unwrap_err();
            let InputError::Profile { key: Some(got), .. } = &err else {
                panic!("{profile}: {err:?}");
            };
            assert_eq!(got, key, "{profile}: {err}");
        }
    }

    #[test]
    fn static_resolution_refuses_profiles_it_cannot_use() {
        let config = "[profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = role\naws_access_key_id = A\naws_secret_access_key = S\n[profile proc]\ncredential_process = echo\n";
        for (profile, key) in [("role", "role_arn"), ("proc", "credential_process")] {
            let vars: &'static [(&'static str, &'static str)] = match profile {
                "role" => &[("AWS_PROFILE", "role")],
                _ => &[("AWS_PROFILE", "proc")],
            };
            let err = resolve(env(vars), None, Some(config)).unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
        }
        let (config, _) = resolve(
            env(&[("AWS_PROFILE", "work")]),
            Some(CREDENTIALS),
            Some(CONFIG),
        )
        .unwrap();
        assert_eq!(config.target().addressing(), Addressing::Path);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_files_never_panic(text in "(\\PC|\n|\t| |\\[|\\]|=){0,200}") {
            if let Ok(files) = parse_config(&text) {
                for name in ["default", "a", ""] {
                    let _ = files.credential_chain(name);
                    let _ = files.settings(name);
                }
            }
        }
    }
}
