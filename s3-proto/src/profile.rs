//! The AWS conventions a user already has: environment variables and the shared
//! `~/.aws/credentials` and `~/.aws/config` files, resolved without IO.
//!
//! A runtime asks [`shared_files`] where the files are, reads them, and passes their text
//! to [`resolve`] with its environment lookup. Precedence follows the AWS CLI: environment
//! variables, then the credentials file, then the config file.

use std::path::PathBuf;

use crate::config::{Config, DEFAULT_REGION};
use crate::credentials::Credentials;
use crate::error::InputError;

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
    mut read: impl FnMut(&std::path::Path) -> std::io::Result<String>,
) -> Result<(Config, Credentials), crate::Error> {
    let files = shared_files(&mut lookup);
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
    let credentials = text(files.credentials)?;
    let config = text(files.config)?;
    Ok(resolve(lookup, credentials.as_deref(), config.as_deref())?)
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

/// Resolves config and credentials from the environment and the shared files' contents.
///
/// Credentials come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, else
/// the profile's `aws_access_key_id`/`aws_secret_access_key`/`aws_session_token` in the
/// credentials file, then the config file; none at all means anonymous. The region comes from
/// `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region` (default us-east-1); the
/// endpoint from `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, then the profile's `endpoint_url`.
///
/// # Errors
/// [`InputError`] for half a key pair or an unusable endpoint URL.
pub fn resolve(
    mut lookup: impl FnMut(&str) -> Option<String>,
    credentials_file: Option<&str>,
    config_file: Option<&str>,
) -> Result<(Config, Credentials), InputError> {
    let profile = profile_name(&mut lookup);
    let cred_section = credentials_file
        .map(|t| section(t, &profile, false))
        .unwrap_or_default();
    let conf_section = config_file
        .map(|t| section(t, &profile, true))
        .unwrap_or_default();
    let from_files = |key: &str| find(&cred_section, key).or_else(|| find(&conf_section, key));

    let credentials = match Credentials::from_lookup(&mut lookup)? {
        Some(c) => c,
        None => {
            let fake_env = |name: &str| match name {
                "AWS_ACCESS_KEY_ID" => from_files("aws_access_key_id"),
                "AWS_SECRET_ACCESS_KEY" => from_files("aws_secret_access_key"),
                "AWS_SESSION_TOKEN" => from_files("aws_session_token"),
                _ => None,
            };
            Credentials::from_lookup(fake_env)?.unwrap_or_else(Credentials::anonymous)
        }
    };

    let mut get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let region = get("AWS_REGION")
        .or_else(|| get("AWS_DEFAULT_REGION"))
        .or_else(|| find(&conf_section, "region"))
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let endpoint = get("AWS_ENDPOINT_URL_S3")
        .or_else(|| get("AWS_ENDPOINT_URL"))
        .or_else(|| find(&conf_section, "endpoint_url"));
    let config = match endpoint {
        Some(url) => Config::new(&url, region)?,
        None => Config::aws(region),
    };
    Ok((config, credentials))
}

fn find(entries: &[(String, String)], key: &str) -> Option<String> {
    entries
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
}

/// The `key = value` pairs of one profile's section. In the config file a named profile is
/// `[profile name]` (and `[default]` stays bare); in the credentials file it is `[name]`.
/// Indented lines belong to a nested block (`s3 =`) and are skipped.
fn section(text: &str, profile: &str, config_file: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            let name = if config_file {
                name.strip_prefix("profile ")
                    .map(str::trim)
                    .unwrap_or(if name == "default" { name } else { "" })
            } else {
                name
            };
            inside = name == profile;
            continue;
        }
        if inside {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
    }
    out
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
}
