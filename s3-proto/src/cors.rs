//! CORS: the bucket's `CORSConfiguration`, and a pure evaluator of browser preflights.

use std::fmt;

use crate::error::{Error, InputError};
use crate::xml::{XmlReader, XmlWriter};

/// Most rules S3 accepts in one configuration.
pub const MAX_CORS_RULES: usize = 100;

/// A method a CORS rule allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorsMethod {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// HEAD
    Head,
}

impl CorsMethod {
    /// The method name.
    pub fn as_str(self) -> &'static str {
        match self {
            CorsMethod::Get => "GET",
            CorsMethod::Put => "PUT",
            CorsMethod::Post => "POST",
            CorsMethod::Delete => "DELETE",
            CorsMethod::Head => "HEAD",
        }
    }

    /// Parses a method name (exact, upper case as S3 writes them).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "GET" => CorsMethod::Get,
            "PUT" => CorsMethod::Put,
            "POST" => CorsMethod::Post,
            "DELETE" => CorsMethod::Delete,
            "HEAD" => CorsMethod::Head,
            _ => return None,
        })
    }
}

impl fmt::Display for CorsMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One CORS rule: which origins may use which methods with which headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsRule {
    /// Optional rule id.
    pub id: Option<String>,
    /// Allowed methods.
    pub allowed_methods: Vec<CorsMethod>,
    /// Allowed origins; each may hold one `*` wildcard.
    pub allowed_origins: Vec<String>,
    /// Headers a preflight may ask for; each may hold one `*` wildcard.
    pub allowed_headers: Vec<String>,
    /// How long a browser may cache the preflight answer.
    pub max_age_seconds: Option<u32>,
    /// Response headers scripts may read.
    pub expose_headers: Vec<String>,
}

impl CorsRule {
    /// A rule allowing `methods` from `origins` (boto's `add_rule(method, origin)`).
    pub fn new<O: Into<String>>(
        methods: impl IntoIterator<Item = CorsMethod>,
        origins: impl IntoIterator<Item = O>,
    ) -> Self {
        CorsRule {
            allowed_methods: methods.into_iter().collect(),
            allowed_origins: origins.into_iter().map(Into::into).collect(),
            ..CorsRule::default()
        }
    }

    /// Sets the rule id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Allows a request header (`*` for any).
    pub fn allowed_header(mut self, header: impl Into<String>) -> Self {
        self.allowed_headers.push(header.into());
        self
    }

    /// Sets the preflight cache time.
    pub fn max_age_seconds(mut self, seconds: u32) -> Self {
        self.max_age_seconds = Some(seconds);
        self
    }

    /// Exposes a response header to scripts.
    pub fn expose_header(mut self, header: impl Into<String>) -> Self {
        self.expose_headers.push(header.into());
        self
    }
}

/// A bucket's CORS configuration: rules, evaluated in order.
///
/// ```
/// use s3_proto::cors::{CorsConfiguration, CorsMethod, CorsRule};
///
/// let cors = CorsConfiguration::new()
///     .rule(
///         CorsRule::new([CorsMethod::Put, CorsMethod::Post], ["https://www.example.com"])
///             .allowed_header("*")
///             .max_age_seconds(3000)
///             .expose_header("x-amz-server-side-encryption"),
///     )
///     .rule(CorsRule::new([CorsMethod::Get], ["*"]));
/// let answer = cors.preflight("https://www.example.com", "PUT", &["content-type"]).unwrap();
/// assert_eq!(answer.allow_origin, "https://www.example.com");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsConfiguration {
    /// The rules.
    pub rules: Vec<CorsRule>,
}

impl CorsConfiguration {
    /// No rules yet.
    pub fn new() -> Self {
        CorsConfiguration::default()
    }

    /// Adds a rule (boto's `add_rule`).
    pub fn rule(mut self, rule: CorsRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Checks what S3 checks before storing: 1 to 100 rules, each with a method and an origin,
    /// and at most one `*` per origin and header.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] naming the problem.
    pub fn validate(&self) -> Result<(), InputError> {
        if self.rules.is_empty() || self.rules.len() > MAX_CORS_RULES {
            return Err(InputError::argument("cors", "needs 1 to 100 rules"));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.allowed_methods.is_empty() || rule.allowed_origins.is_empty() {
                return Err(InputError::argument(
                    "cors",
                    format!("rule {i} needs at least one method and one origin"),
                ));
            }
            let stars = |s: &String| s.matches('*').count() > 1;
            if rule.allowed_origins.iter().any(stars) || rule.allowed_headers.iter().any(stars) {
                return Err(InputError::argument(
                    "cors",
                    format!("rule {i}: an origin or header may hold only one '*'"),
                ));
            }
        }
        Ok(())
    }

    /// The `<CORSConfiguration>` document.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with(
            "CORSConfiguration",
            r#"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#,
        );
        for rule in &self.rules {
            w.open("CORSRule");
            if let Some(id) = &rule.id {
                w.element("ID", id);
            }
            for m in &rule.allowed_methods {
                w.element("AllowedMethod", m.as_str());
            }
            for o in &rule.allowed_origins {
                w.element("AllowedOrigin", o);
            }
            for h in &rule.allowed_headers {
                w.element("AllowedHeader", h);
            }
            if let Some(age) = rule.max_age_seconds {
                w.element("MaxAgeSeconds", &age.to_string());
            }
            for h in &rule.expose_headers {
                w.element("ExposeHeader", h);
            }
            w.close("CORSRule");
        }
        w.close("CORSConfiguration");
        w.finish()
    }

    /// Parses a `<CORSConfiguration>` document.
    ///
    /// # Errors
    /// [`Error::Response`] for a malformed document or an unknown method.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = XmlReader::new(body)?;
        r.expect_root("CORSConfiguration")?;
        let mut config = CorsConfiguration::default();
        while let Some(tag) = r.next_child()? {
            if tag.name() != b"CORSRule" {
                r.skip()?;
                continue;
            }
            let mut rule = CorsRule::default();
            while let Some(field) = r.next_child()? {
                match field.name() {
                    b"ID" => rule.id = Some(r.text()?.into_owned()),
                    b"AllowedMethod" => rule
                        .allowed_methods
                        .push(r.parse("AllowedMethod", CorsMethod::parse)?),
                    b"AllowedOrigin" => rule.allowed_origins.push(r.text()?.into_owned()),
                    b"AllowedHeader" => rule.allowed_headers.push(r.text()?.into_owned()),
                    b"MaxAgeSeconds" => {
                        rule.max_age_seconds = Some(r.parse("MaxAgeSeconds", |s| s.parse().ok())?);
                    }
                    b"ExposeHeader" => rule.expose_headers.push(r.text()?.into_owned()),
                    _ => r.skip()?,
                }
            }
            config.rules.push(rule);
        }
        r.finish()?;
        Ok(config)
    }

    /// Evaluates a browser preflight (`OPTIONS` with `Origin`, `Access-Control-Request-Method`
    /// and `Access-Control-Request-Headers`) the way Amazon S3 does: the first rule that allows
    /// the origin, the method and every requested header answers.
    ///
    /// # Errors
    /// [`CorsRejection`] saying why no rule allows the request (S3 answers 403).
    pub fn preflight(
        &self,
        origin: &str,
        method: &str,
        request_headers: &[&str],
    ) -> Result<PreflightResponse, CorsRejection> {
        self.preflight_as(Dialect::AmazonS3, origin, method, request_headers)
    }

    /// [`CorsConfiguration::preflight`] as a given server implements it.
    ///
    /// # Errors
    /// [`CorsRejection`] saying why the request is refused.
    pub fn preflight_as(
        &self,
        dialect: Dialect,
        origin: &str,
        method: &str,
        request_headers: &[&str],
    ) -> Result<PreflightResponse, CorsRejection> {
        let method = CorsMethod::parse(method).ok_or(CorsRejection::UnknownMethod)?;
        let requested: Vec<&str> = request_headers
            .iter()
            .flat_map(|h| h.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let mut best = CorsRejection::NoRuleForOrigin;
        for (index, rule) in self.rules.iter().enumerate() {
            let Some(matched_origin) = rule
                .allowed_origins
                .iter()
                .find(|o| wildcard_match(o, origin, false))
            else {
                continue;
            };
            let verdict = if !rule.allowed_methods.contains(&method) {
                Err(CorsRejection::MethodNotAllowed { rule: index })
            } else if let Some(h) = requested.iter().find(|h| {
                !rule
                    .allowed_headers
                    .iter()
                    .any(|a| wildcard_match(a, h, true))
            }) {
                Err(CorsRejection::HeaderNotAllowed {
                    rule: index,
                    header: (*h).to_owned(),
                })
            } else {
                Ok(())
            };
            match verdict {
                Ok(()) => {
                    return Ok(dialect.answer(
                        rule,
                        index,
                        matched_origin,
                        origin,
                        method,
                        &requested,
                    ));
                }
                // Ceph RGW stops at the first rule whose origin matches.
                Err(reason) if dialect == Dialect::CephRgw => return Err(reason),
                Err(reason) => best = reason,
            }
        }
        Err(best)
    }
}

/// Whose CORS semantics to follow: they differ in rule selection and header spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Dialect {
    /// Amazon S3 (per its documentation): the first rule matching origin, method and headers
    /// answers; a `*` origin rule answers `*`; methods are the rule's, comma-space separated.
    #[default]
    AmazonS3,
    /// Ceph RGW 16 (as observed): the first rule matching the origin decides alone; the
    /// origin is always echoed; only the requested method is listed; lists use bare commas;
    /// `Vary: Origin`.
    CephRgw,
}

impl Dialect {
    fn answer(
        self,
        rule: &CorsRule,
        index: usize,
        matched_origin: &str,
        origin: &str,
        method: CorsMethod,
        requested: &[&str],
    ) -> PreflightResponse {
        let (sep, echo_origin) = match self {
            Dialect::AmazonS3 => (", ", matched_origin != "*"),
            Dialect::CephRgw => (",", true),
        };
        let allow_methods = match self {
            Dialect::AmazonS3 => rule
                .allowed_methods
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(sep),
            Dialect::CephRgw => method.as_str().to_owned(),
        };
        let join = |v: &[String]| (!v.is_empty()).then(|| v.join(sep));
        let requested: Vec<String> = requested.iter().map(|h| (*h).to_owned()).collect();
        PreflightResponse {
            rule: index,
            allow_origin: if echo_origin {
                origin.to_owned()
            } else {
                "*".to_owned()
            },
            allow_methods,
            allow_headers: join(&requested),
            max_age: rule.max_age_seconds,
            expose_headers: join(&rule.expose_headers),
            allow_credentials: self == Dialect::AmazonS3 && echo_origin,
            vary: match self {
                Dialect::AmazonS3 => {
                    "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
                }
                Dialect::CephRgw => "Origin",
            },
        }
    }
}

/// The headers a server sends to an allowed preflight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightResponse {
    /// Index of the rule that answered.
    pub rule: usize,
    /// `Access-Control-Allow-Origin`.
    pub allow_origin: String,
    /// `Access-Control-Allow-Methods`.
    pub allow_methods: String,
    /// `Access-Control-Allow-Headers`, when headers were requested.
    pub allow_headers: Option<String>,
    /// `Access-Control-Max-Age`, when the rule sets it.
    pub max_age: Option<u32>,
    /// `Access-Control-Expose-Headers`, when the rule lists any.
    pub expose_headers: Option<String>,
    /// `Access-Control-Allow-Credentials: true`.
    pub allow_credentials: bool,
    /// `Vary`.
    pub vary: &'static str,
}

impl PreflightResponse {
    /// The response headers, as name/value pairs.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("access-control-allow-origin", self.allow_origin.clone()),
            ("access-control-allow-methods", self.allow_methods.clone()),
        ];
        if let Some(v) = &self.allow_headers {
            h.push(("access-control-allow-headers", v.clone()));
        }
        if let Some(v) = &self.expose_headers {
            h.push(("access-control-expose-headers", v.clone()));
        }
        if let Some(v) = self.max_age {
            h.push(("access-control-max-age", v.to_string()));
        }
        if self.allow_credentials {
            h.push(("access-control-allow-credentials", "true".to_owned()));
        }
        h.push(("vary", self.vary.to_owned()));
        h
    }
}

/// Why a preflight is refused (the server answers 403 `AccessForbidden`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorsRejection {
    /// No rule allows the origin.
    NoRuleForOrigin,
    /// The method is not one CORS rules can name.
    UnknownMethod,
    /// The rule matching the origin does not allow the method.
    MethodNotAllowed {
        /// Index of that rule.
        rule: usize,
    },
    /// The rule matching origin and method does not allow a requested header.
    HeaderNotAllowed {
        /// Index of that rule.
        rule: usize,
        /// The header.
        header: String,
    },
}

impl fmt::Display for CorsRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorsRejection::NoRuleForOrigin => f.write_str("no CORS rule allows this origin"),
            CorsRejection::UnknownMethod => f.write_str("not a method CORS rules can allow"),
            CorsRejection::MethodNotAllowed { rule } => {
                write!(f, "rule {rule} matches the origin but not the method")
            }
            CorsRejection::HeaderNotAllowed { rule, header } => {
                write!(
                    f,
                    "rule {rule} does not allow the request header {header:?}"
                )
            }
        }
    }
}

impl std::error::Error for CorsRejection {}

/// Matches `value` against `pattern` holding at most one `*`.
fn wildcard_match(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let eq = |a: &str, b: &str| {
        if case_insensitive {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    match pattern.split_once('*') {
        None => eq(pattern, value),
        Some((head, tail)) => {
            value.len() >= head.len() + tail.len()
                && value.is_char_boundary(head.len())
                && value.is_char_boundary(value.len() - tail.len())
                && eq(&value[..head.len()], head)
                && eq(&value[value.len() - tail.len()..], tail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config() -> CorsConfiguration {
        CorsConfiguration::new()
            .rule(
                CorsRule::new(
                    [CorsMethod::Put, CorsMethod::Post, CorsMethod::Delete],
                    ["http://www.example.com"],
                )
                .id("r1")
                .allowed_header("*")
                .max_age_seconds(3000)
                .expose_header("x-amz-server-side-encryption")
                .expose_header("x-amz-request-id"),
            )
            .rule(CorsRule::new([CorsMethod::Get], ["*"]))
            .rule(
                CorsRule::new(
                    [CorsMethod::Get, CorsMethod::Head],
                    ["http://*.example.org"],
                )
                .allowed_header("x-amz-*")
                .allowed_header("Content-Type"),
            )
    }

    #[test]
    fn amazon_s3_semantics() {
        let c = config();
        let ok = c
            .preflight("http://www.example.com", "PUT", &["x-custom, content-type"])
            .unwrap();
        assert_eq!(ok.rule, 0);
        assert_eq!(ok.allow_methods, "PUT, POST, DELETE");
        assert_eq!(ok.allow_headers.as_deref(), Some("x-custom, content-type"));
        assert_eq!(ok.max_age, Some(3000));
        assert!(ok.allow_credentials);
        // Rule 0 refuses GET, rule 1 (any origin) allows it.
        let get = c.preflight("http://www.example.com", "GET", &[]).unwrap();
        assert_eq!((get.rule, get.allow_origin.as_str()), (1, "*"));
        let head = c
            .preflight(
                "http://a.example.org",
                "HEAD",
                &["X-Amz-Date", "content-type"],
            )
            .unwrap();
        assert_eq!(head.rule, 2);
        assert_eq!(
            c.preflight("http://a.example.org", "HEAD", &["x-other"]),
            Err(CorsRejection::HeaderNotAllowed {
                rule: 2,
                header: "x-other".to_owned()
            })
        );
        assert_eq!(
            c.preflight("http://bad.com", "PUT", &[]),
            Err(CorsRejection::MethodNotAllowed { rule: 1 })
        );
        assert_eq!(
            CorsConfiguration::new().preflight("http://x", "GET", &[]),
            Err(CorsRejection::NoRuleForOrigin)
        );
    }

    #[test]
    fn ceph_rgw_semantics_as_observed() {
        // Answers recorded from Ceph RGW 16.2 for this configuration (see the live scenario
        // in the client tests, which compares against a running RGW).
        let c = config();
        let put = c
            .preflight_as(
                Dialect::CephRgw,
                "http://www.example.com",
                "PUT",
                &["x-custom, content-type"],
            )
            .unwrap();
        assert_eq!(
            put.headers(),
            vec![
                (
                    "access-control-allow-origin",
                    "http://www.example.com".to_owned()
                ),
                ("access-control-allow-methods", "PUT".to_owned()),
                (
                    "access-control-allow-headers",
                    "x-custom,content-type".to_owned()
                ),
                (
                    "access-control-expose-headers",
                    "x-amz-server-side-encryption,x-amz-request-id".to_owned()
                ),
                ("access-control-max-age", "3000".to_owned()),
                ("vary", "Origin".to_owned()),
            ]
        );
        let any = c
            .preflight_as(Dialect::CephRgw, "http://any.com", "GET", &[])
            .unwrap();
        assert_eq!(any.allow_origin, "http://any.com");
        // The first origin match decides: Ceph refuses what a later rule would allow.
        assert!(
            c.preflight_as(Dialect::CephRgw, "http://www.example.com", "GET", &[])
                .is_err()
        );
        assert!(
            c.preflight_as(Dialect::CephRgw, "http://a.example.org", "HEAD", &[])
                .is_err()
        );
        assert!(
            c.preflight_as(Dialect::CephRgw, "http://a.example.org", "GET", &[])
                .is_ok()
        );
    }

    #[test]
    fn validation() {
        assert!(config().validate().is_ok());
        assert!(CorsConfiguration::new().validate().is_err());
        let no_origin =
            CorsConfiguration::new().rule(CorsRule::new([CorsMethod::Get], Vec::<String>::new()));
        assert!(no_origin.validate().is_err());
        let two_stars = CorsConfiguration::new().rule(CorsRule::new([CorsMethod::Get], ["*.*"]));
        assert!(two_stars.validate().is_err());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match(
            "http://*.example.com",
            "http://a.b.example.com",
            false
        ));
        assert!(!wildcard_match(
            "http://*.example.com",
            "http://example.com",
            false
        ));
        assert!(wildcard_match("x-amz-*", "X-AMZ-DATE", true));
        assert!(!wildcard_match("ab*ba", "aba", false));
        assert!(wildcard_match("*", "", false));
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[a-zA-Z0-9 &<>\"'\\t\\r\\n=:/.*é-]{1,20}").unwrap()
    }

    fn method() -> impl Strategy<Value = CorsMethod> {
        prop_oneof![
            Just(CorsMethod::Get),
            Just(CorsMethod::Put),
            Just(CorsMethod::Post),
            Just(CorsMethod::Delete),
            Just(CorsMethod::Head),
        ]
    }

    fn rule() -> impl Strategy<Value = CorsRule> {
        (
            proptest::option::of(text()),
            proptest::collection::vec(method(), 1..4),
            proptest::collection::vec(text(), 1..3),
            proptest::collection::vec(text(), 0..3),
            proptest::option::of(any::<u32>()),
            proptest::collection::vec(text(), 0..3),
        )
            .prop_map(|(id, m, o, h, age, e)| CorsRule {
                id,
                allowed_methods: m,
                allowed_origins: o,
                allowed_headers: h,
                max_age_seconds: age,
                expose_headers: e,
            })
    }

    proptest! {
        #[test]
        fn configuration_round_trips(rules in proptest::collection::vec(rule(), 1..5)) {
            let config = CorsConfiguration { rules };
            let parsed = CorsConfiguration::parse(config.to_xml().as_bytes()).unwrap();
            prop_assert_eq!(parsed, config);
        }

        #[test]
        fn preflight_never_panics(origin in ".{0,30}", method in ".{0,8}", header in ".{0,20}") {
            let _ = config().preflight(&origin, &method, &[&header]);
            let _ = config().preflight_as(Dialect::CephRgw, &origin, &method, &[&header]);
        }
    }
}
