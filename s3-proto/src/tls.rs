//! Which certificates an https connection trusts: the same meaning in every runtime.
//!
//! Runtimes use rustls. By default they trust the Mozilla roots built into `webpki-roots`;
//! [`Tls::native_roots`] switches to the platform's store (read by `rustls-native-certs`,
//! which honours the process's `SSL_CERT_FILE` and `SSL_CERT_DIR`, or the values given to
//! [`Tls::platform_store`]), and [`Tls::ca_bundle`] adds a PEM bundle
//! (`AWS_CA_BUNDLE`, a profile's `ca_bundle`, or your own). A bundle *replaces* the built-in
//! roots, as `AWS_CA_BUNDLE` does for the AWS CLI and boto3; with native roots it is added to
//! them. A certificate that does not verify fails as
//! [`crate::TransportErrorKind::Tls`].

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::error::{Error, InputError, TransportError, TransportErrorKind};

/// The trust settings of a client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tls {
    /// Trust the platform's certificate store instead of the built-in Mozilla roots.
    pub native_roots: bool,
    /// PEM text of extra CA certificates (read by the caller: proto reads no files).
    pub ca_bundle: Option<Vec<u8>>,
    /// Where the platform's store is read from, when given as values ([`Tls::platform_store`])
    /// rather than taken from the process's environment.
    pub store: Option<StorePaths>,
}

/// One read of the platform's store: a PEM file, a directory of PEM files, or both.
pub type StoreSource<'a> = (Option<&'a Path>, Option<&'a Path>);

/// `SSL_CERT_FILE` and `SSL_CERT_DIR` as values: the OpenSSL convention that points the
/// platform's store at a PEM file and at directories of PEM certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StorePaths {
    /// `SSL_CERT_FILE`.
    pub file: Option<PathBuf>,
    /// `SSL_CERT_DIR`, split on `:` (`;` on Windows).
    pub dirs: Vec<PathBuf>,
}

impl StorePaths {
    /// The paths `lookup` gives for `SSL_CERT_FILE` and `SSL_CERT_DIR`; `None` when neither is
    /// set (empty values count as unset).
    pub fn from_lookup(mut lookup: impl FnMut(&str) -> Option<String>) -> Option<Self> {
        let mut get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let separator = if cfg!(windows) { ';' } else { ':' };
        let paths = StorePaths {
            file: get("SSL_CERT_FILE").map(PathBuf::from),
            dirs: get("SSL_CERT_DIR")
                .map(|dirs| {
                    dirs.split(separator)
                        .filter(|d| !d.is_empty())
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default(),
        };
        (paths.file.is_some() || !paths.dirs.is_empty()).then_some(paths)
    }

    /// What to load, as `(file, directory)` pairs for a loader that takes one of each
    /// (`rustls_native_certs::load_certs_from_paths`): the file with the first directory, then
    /// each further directory.
    pub fn sources(&self) -> Vec<StoreSource<'_>> {
        let mut dirs = self.dirs.iter().map(PathBuf::as_path);
        let mut out = vec![(self.file.as_deref(), dirs.next())];
        out.extend(dirs.map(|d| (None, Some(d))));
        out
    }
}

impl Tls {
    /// Trusts the platform's certificate store (`true`) or the built-in roots (`false`).
    pub fn native_roots(mut self, yes: bool) -> Self {
        self.native_roots = yes;
        self
    }

    /// Reads the platform's store (with [`Tls::native_roots`]) where `lookup`'s `SSL_CERT_FILE`
    /// and `SSL_CERT_DIR` point, instead of the process's variables; when `lookup` sets neither,
    /// the operating system's default store is read as without this call.
    pub fn platform_store(mut self, lookup: impl FnMut(&str) -> Option<String>) -> Self {
        self.store = StorePaths::from_lookup(lookup);
        self
    }

    /// Trusts the CA certificates in `pem` (see the module doc for how it combines).
    pub fn ca_bundle(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_bundle = Some(pem.into());
        self
    }

    /// The DER certificates of the bundle, if one is set.
    ///
    /// # Errors
    /// As [`certificates`].
    pub fn bundle_certificates(&self) -> Result<Vec<Vec<u8>>, Error> {
        self.ca_bundle
            .as_deref()
            .map_or(Ok(Vec::new()), certificates)
    }
}

impl Tls {
    /// The roots to trust: `None` for the built-in Mozilla roots; otherwise the DER
    /// certificates of the platform's store and of the bundle. The store is read by `native`
    /// (only called with [`Tls::native_roots`]), which returns the certificates it found and
    /// the errors it met (as `rustls_native_certs` does): once per [`StorePaths::sources`] pair of [`Tls::store`], or once
    /// with `None` (the process's own store) when no paths were given.
    ///
    /// # Errors
    /// As [`certificates`] for a bad bundle; [`TransportErrorKind::Tls`] when the platform's
    /// store was asked for but nothing could be loaded from it.
    pub fn roots<C: AsRef<[u8]>, E: std::fmt::Display>(
        &self,
        mut native: impl FnMut(Option<StoreSource<'_>>) -> (Vec<C>, Vec<E>),
    ) -> Result<Option<Vec<Vec<u8>>>, Error> {
        let mut roots = self.bundle_certificates()?;
        if self.native_roots {
            let (mut found, mut errors) = (Vec::new(), Vec::new());
            let sources = match &self.store {
                Some(store) => store.sources().into_iter().map(Some).collect(),
                None => vec![None],
            };
            for source in sources {
                let (certs, failed) = native(source);
                found.extend(certs.iter().map(|c| c.as_ref().to_vec()));
                errors.extend(failed.iter().map(E::to_string));
            }
            if found.is_empty() {
                let why = errors.first().map_or("it is empty", String::as_str);
                let message =
                    format!("tls: no certificate loaded from the platform's store: {why}");
                return Err(TransportError::new(TransportErrorKind::Tls, message).into());
            }
            roots.append(&mut found);
        }
        Ok((!roots.is_empty()).then_some(roots))
    }
}

/// The platform's root certificates as [`Tls::roots`] takes them: a closure calling
/// `rustls_native_certs` (for one [`StoreSource`], or the process's own store) in the runtime
/// that expands it, when that runtime is built with its `native-roots` feature (and the
/// crate); otherwise none, saying why.
#[doc(hidden)]
#[macro_export]
macro_rules! native_roots {
    () => {
        |_source: Option<$crate::tls::StoreSource<'_>>| {
            #[cfg(feature = "native-roots")]
            let found = match _source {
                Some((file, dir)) => rustls_native_certs::load_certs_from_paths(file, dir),
                None => rustls_native_certs::load_native_certs(),
            };
            #[cfg(feature = "native-roots")]
            return (found.certs, found.errors);
            #[cfg(not(feature = "native-roots"))]
            (
                Vec::<Vec<u8>>::new(),
                vec!["the client was built without its native-roots feature"],
            )
        }
    };
}

/// A rustls client configuration (ring, rustls' safe protocol versions) trusting `roots`, the
/// DER certificates [`Tls::roots`] chose: for runtimes on rustls.
///
/// # Errors
/// [`TransportErrorKind::Tls`] when none of the certificates is usable.
#[cfg(feature = "rustls")]
pub fn rustls_config(roots: Vec<Vec<u8>>) -> Result<std::sync::Arc<rustls::ClientConfig>, Error> {
    let mut store = rustls::RootCertStore::empty();
    let ders = roots
        .into_iter()
        .map(rustls::pki_types::CertificateDer::from);
    let (_, rejected) = store.add_parsable_certificates(ders);
    let tls_error = |why: String| Error::from(TransportError::new(TransportErrorKind::Tls, why));
    if store.is_empty() {
        let why = format!("tls: none of the {rejected} root certificates is usable");
        return Err(tls_error(why));
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(format!("tls: {e}")))?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(std::sync::Arc::new(config))
}

/// The DER bytes of every `CERTIFICATE` block in PEM text (other blocks are skipped).
///
/// # Errors
/// [`Error::Input`] naming `ca_bundle` when a block is not valid base64, a block does not end,
/// or there is no certificate at all.
pub fn certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let bad = |why: &str| -> Error { InputError::argument("ca_bundle", why.to_owned()).into() };
    let text = std::str::from_utf8(pem).map_err(|_| bad("is not PEM text"))?;
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in text.lines().map(str::trim) {
        match &mut block {
            None if line == BEGIN => block = Some(String::new()),
            None => {}
            Some(b64) if line == END => {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|_| bad("holds a certificate that is not valid base64"))?;
                out.push(der);
                block = None;
            }
            Some(b64) => b64.push_str(line),
        }
    }
    if block.is_some() {
        return Err(bad("ends inside a certificate"));
    }
    if out.is_empty() {
        return Err(bad("holds no PEM certificate"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks() {
        let pem = "junk\n-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\n\
                   -----BEGIN PRIVATE KEY-----\nBB==\n-----END PRIVATE KEY-----\n\
                   -----BEGIN CERTIFICATE-----\r\nBAU=\r\n-----END CERTIFICATE-----\r\n";
        assert_eq!(
            certificates(pem.as_bytes()).unwrap(),
            vec![vec![0, 1, 2, 3], vec![4, 5]]
        );
        for bad in [
            "",
            "no pem",
            "-----BEGIN CERTIFICATE-----\nAA",
            "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
        ] {
            let e = certificates(bad.as_bytes()).unwrap_err();
            assert!(e.to_string().contains("ca_bundle"), "{e}");
        }
        assert!(Tls::default().bundle_certificates().unwrap().is_empty());
        let none = |_: Option<StoreSource<'_>>| -> (Vec<Vec<u8>>, Vec<String>) {
            (Vec::new(), vec!["no store".into()])
        };
        assert_eq!(Tls::default().roots(none).unwrap(), None);
        let e = Tls::default().native_roots(true).roots(none).unwrap_err();
        assert!(
            e.to_string().contains("tls: no certificate") && e.to_string().contains("no store"),
            "{e}"
        );
        let pem = pem.as_bytes().to_vec();
        let both = Tls::default().native_roots(true).ca_bundle(pem);
        let roots = both.roots(|_| (vec![vec![9]], Vec::<String>::new()));
        let roots = roots.unwrap().unwrap();
        assert_eq!(roots, vec![vec![0, 1, 2, 3], vec![4, 5], vec![9]]);
    }

    #[test]
    fn platform_store_paths_as_values() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            StorePaths::from_lookup(vars(&[("SSL_CERT_FILE", " ")])),
            None
        );
        let both = vars(&[("SSL_CERT_FILE", "/b.pem"), ("SSL_CERT_DIR", "/d1:/d2")]);
        let paths = StorePaths::from_lookup(both).unwrap();
        if cfg!(unix) {
            let sources = paths.sources();
            assert_eq!(
                sources,
                vec![
                    (Some(Path::new("/b.pem")), Some(Path::new("/d1"))),
                    (None, Some(Path::new("/d2")))
                ]
            );
        }
        let tls = Tls::default()
            .native_roots(true)
            .platform_store(vars(&[("SSL_CERT_FILE", "/b.pem")]));
        let seen = tls
            .roots(|source| {
                assert_eq!(source, Some((Some(Path::new("/b.pem")), None)));
                (vec![vec![1]], Vec::<String>::new())
            })
            .unwrap();
        assert_eq!(seen, Some(vec![vec![1]]));
    }
}
