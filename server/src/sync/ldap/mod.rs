//! Reading people from an LDAP directory or Active Directory (SPEC §8.2).
//!
//! One run: connect (ldap://, StartTLS or ldaps://), simple bind, a subtree search
//! with the RFC 2696 paged-results control (so a server size limit such as AD's
//! 1,000 does not cut the result short), map every entry, unbind. The answer is the
//! whole directory or an error, never a part: the caller changes nothing on error.

mod client;
mod entries;

use std::fmt;
use std::time::Duration;

use zeroize::Zeroizing;

use client::{fetch_checked, AbortOnDrop, CheckedSettings};

/// The OID of the paged-results control (RFC 2696).
const PAGED_RESULTS_OID: &str = "1.2.840.113556.1.4.319";

/// LDAP result codes this module tells apart (RFC 4511 appendix A).
const RC_SUCCESS: u32 = 0;
const RC_INVALID_CREDENTIALS: u32 = 49;

/// Which directory attributes fill a passgrid user; in each list the first
/// attribute an entry has wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMap {
    /// The login name.
    pub id: Vec<String>,
    /// The name shown to people.
    pub name: Vec<String>,
    /// The mail address.
    pub email: Vec<String>,
    /// Extra user attributes (e.g. `immutable_id` from AD's objectGUID for Microsoft
    /// 365), kept for SAML service providers.
    pub extra: Vec<ExtraAttribute>,
}

/// One extra attribute: passgrid's name for it, the directory attribute, and
/// whether its value is binary (sent base64-encoded).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExtraAttribute {
    pub name: String,
    pub attr: String,
    #[serde(default)]
    pub binary: bool,
}

/// AD attributes whose values are bytes, not text: base64 whatever the map says
/// (a GUID's 16 bytes may by chance be valid UTF-8).
const BINARY_ATTRIBUTES: &[&str] = &[
    "objectGUID",
    "objectSid",
    "msDS-ConsistencyGuid",
    "mS-DS-ConsistencyGuid",
];

/// Whether the directory attribute `attr` holds bytes.
pub fn is_binary_attribute(attr: &str) -> bool {
    BINARY_ATTRIBUTES
        .iter()
        .any(|a| a.eq_ignore_ascii_case(attr))
}

impl Default for AttributeMap {
    /// AD first, then the RFC 4519 / inetOrgPerson names.
    fn default() -> Self {
        let list = |names: &[&str]| names.iter().map(|n| (*n).to_string()).collect();
        AttributeMap {
            id: list(&["sAMAccountName", "uid"]),
            name: list(&["displayName", "cn"]),
            email: list(&["mail"]),
            extra: Vec::new(),
        }
    }
}

impl AttributeMap {
    /// `id=ATTR,name=ATTR,email=ATTR` (any of them; the others keep their defaults),
    /// and extra attributes `NAME=ATTR` (NAME in lower case, e.g.
    /// `immutable_id=objectGUID`; `ATTR;binary` stores a binary value base64-encoded).
    pub fn parse(map: &str) -> Result<AttributeMap, super::SyncError> {
        let mut m = AttributeMap::default();
        for pair in map.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, attr) = pair
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .filter(|(_, v)| {
                    let base = v.strip_suffix(";binary").unwrap_or(v);
                    !base.is_empty() && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
                .ok_or_else(|| {
                    super::SyncError::Invalid(format!(
                        "map {pair:?}: use id=ATTR,name=ATTR,email=ATTR and NAME=ATTR for extra attributes"
                    ))
                })?;
            let slot = match key {
                "id" => &mut m.id,
                "name" => &mut m.name,
                "email" => &mut m.email,
                extra => {
                    let ok = !extra.is_empty()
                        && extra.len() <= 64
                        && extra.bytes().all(|b| {
                            b.is_ascii_lowercase()
                                || b.is_ascii_digit()
                                || matches!(b, b'_' | b'-' | b'.')
                        });
                    if !ok || m.extra.iter().any(|e| e.name == extra) {
                        return Err(super::SyncError::Invalid(format!(
                            "map: {extra:?} is not a field (id, name, email) nor a new extra \
                             attribute name (lower-case letters, digits, '_', '-', '.')"
                        )));
                    }
                    let (base, forced) = match attr.strip_suffix(";binary") {
                        Some(b) => (b, true),
                        None => (attr, false),
                    };
                    m.extra.push(ExtraAttribute {
                        name: extra.to_string(),
                        attr: base.to_string(),
                        binary: forced || is_binary_attribute(base),
                    });
                    continue;
                }
            };
            if attr.ends_with(";binary") {
                return Err(super::SyncError::Invalid(format!(
                    "map {pair:?}: ;binary is for extra attributes"
                )));
            }
            *slot = vec![attr.to_string()];
        }
        Ok(m)
    }
}

/// Where and how to read the directory.
#[derive(Clone)]
pub struct LdapSettings {
    /// `ldap://host[:port]` or `ldaps://host[:port]`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS (RFC 4511 §4.14).
    pub starttls: bool,
    /// Trust only this CA (PEM, one or more certificates); `None`: the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Empty together with an empty password: an anonymous search.
    pub bind_dn: String,
    /// The bind DN's password.
    pub bind_password: Zeroizing<String>,
    /// The search base, e.g. `ou=people,dc=example,dc=com`.
    pub base: String,
    /// An RFC 4515 filter. For AD, `(&(objectCategory=person)(objectClass=user))`
    /// leaves out computer accounts, which are persons too.
    pub filter: String,
    /// Attributes to passgrid fields.
    pub map: AttributeMap,
    /// The attribute naming the groups of an entry (AD: `memberOf`); `None`: no groups.
    pub group_attr: Option<String>,
    /// The bound on each step: connect, TLS, bind, each page.
    pub timeout: Duration,
    /// Entries per page; at most the server's page limit (AD: 1,000).
    pub page_size: i32,
}

impl LdapSettings {
    /// Settings with the defaults: filter `(objectClass=person)`, the AD-friendly
    /// attribute map, no groups, no TLS options, 30 s per step, 500 entries a page.
    pub fn new(url: &str, bind_dn: &str, bind_password: Zeroizing<String>, base: &str) -> Self {
        LdapSettings {
            url: url.to_string(),
            starttls: false,
            ca_pem: None,
            bind_dn: bind_dn.to_string(),
            bind_password,
            base: base.to_string(),
            filter: "(objectClass=person)".to_string(),
            map: AttributeMap::default(),
            group_attr: None,
            timeout: Duration::from_secs(30),
            page_size: 500,
        }
    }
}

impl fmt::Debug for LdapSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapSettings")
            .field("url", &self.url)
            .field("starttls", &self.starttls)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "[given]"))
            .field("bind_dn", &self.bind_dn)
            .field("bind_password", &"[redacted]")
            .field("base", &self.base)
            .field("filter", &self.filter)
            .field("map", &self.map)
            .field("group_attr", &self.group_attr)
            .field("timeout", &self.timeout)
            .field("page_size", &self.page_size)
            .finish()
    }
}

/// One person as the directory describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The entry's distinguished name.
    pub dn: String,
    /// The login name, trimmed, never empty.
    pub id: String,
    /// The display name; the ID when no name attribute is present.
    pub display_name: String,
    /// The mail address, if any.
    pub email: Option<String>,
    /// Group names (see [`group_name`]), sorted, without duplicates.
    pub groups: Vec<String>,
    /// The extra attributes of the map, in its order; an empty value when the entry
    /// has none (the user's attribute is then removed).
    pub attributes: Vec<(String, String)>,
}

/// Why a directory run failed; the messages never contain the bind password.
#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    #[error("invalid LDAP URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: &'static str },
    #[error("invalid LDAP settings: {0}")]
    InvalidSettings(String),
    #[error("invalid CA certificate: {0}")]
    InvalidCa(String),
    #[error("malformed search filter {filter:?}: it must be an RFC 4515 filter such as (objectClass=person), with ( ) * \\ in values escaped")]
    InvalidFilter { filter: String },
    #[error("cannot connect to {url}: {cause}")]
    Connect { url: String, cause: String },
    #[error("TLS with {url} failed: {cause}")]
    Tls { url: String, cause: String },
    #[error("{url} refused StartTLS: {result}")]
    StartTlsRefused {
        url: String,
        code: u32,
        /// The server's answer: code, name, matched DN, text.
        result: String,
    },
    #[error("bind as {bind_dn:?} refused: wrong bind DN or password")]
    BindRefused { bind_dn: String },
    #[error("bind as {bind_dn:?} failed: {result}")]
    BindFailed {
        bind_dn: String,
        code: u32,
        /// The server's answer: code, name, matched DN, text.
        result: String,
    },
    #[error("search of {base:?} refused on page {page}: {result}")]
    SearchRefused {
        base: String,
        page: u32,
        code: u32,
        /// The server's answer: code, name, matched DN, text.
        result: String,
    },
    #[error("paged search of {base:?} failed on page {page}: {reason}")]
    Page {
        base: String,
        page: u32,
        reason: String,
    },
    #[error("{stage} with {url} timed out after {timeout:?}")]
    Timeout {
        url: String,
        stage: String,
        timeout: Duration,
    },
    #[error("connection to {url} lost during {stage}: {cause}")]
    ConnectionLost {
        url: String,
        stage: String,
        cause: String,
    },
    #[error("malformed entry from the server: {0}")]
    MalformedEntry(String),
    #[error("entry {dn:?} has none of the ID attributes {attrs:?}, or only empty values")]
    MissingId { dn: String, attrs: Vec<String> },
    #[error("entries {first_dn:?} and {second_dn:?} have the same ID {id:?}")]
    DuplicateId {
        id: String,
        first_dn: String,
        second_dn: String,
    },
    #[error("entry {dn:?}: the server sent {attr} in ranges (more values than its MaxValRange); ranged retrieval is not supported")]
    RangedAttribute { dn: String, attr: String },
    #[error("the LDAP client stopped unexpectedly: {0}")]
    Internal(String),
}

/// The two URL schemes passgrid accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdapScheme {
    /// Plain TCP, optionally upgraded by StartTLS; default port 389.
    Ldap,
    /// TLS from the first byte; default port 636.
    Ldaps,
}

/// A checked server address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapUrl {
    /// `ldap` or `ldaps`.
    pub scheme: LdapScheme,
    /// A host name or IP address (IPv6 without brackets).
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl fmt::Display for LdapUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            LdapScheme::Ldap => "ldap",
            LdapScheme::Ldaps => "ldaps",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Checks an `ldap://host[:port][/]` or `ldaps://host[:port][/]` URL; the port
/// defaults to 389 or 636. A base DN or search parameters in the URL are refused:
/// they belong in the settings, where they are not silently ignored.
pub fn parse_url(url: &str) -> Result<LdapUrl, LdapError> {
    let invalid = |reason| LdapError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    let trimmed = url.trim();
    let (scheme, rest) = trimmed
        .split_once("://")
        .ok_or_else(|| invalid("expected ldap://host[:port] or ldaps://host[:port]"))?;
    let (scheme, default_port) = if scheme.eq_ignore_ascii_case("ldap") {
        (LdapScheme::Ldap, 389)
    } else if scheme.eq_ignore_ascii_case("ldaps") {
        (LdapScheme::Ldaps, 636)
    } else {
        return Err(invalid("only ldap:// and ldaps:// are supported"));
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err(invalid(
            "a base DN or search parameters in the URL are not supported; set base and filter",
        ));
    }
    if authority.contains('@') {
        return Err(invalid(
            "user information in the URL is not supported; set the bind DN",
        ));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid("unclosed [ in the host"))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(invalid("the address in [ ] is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| invalid("expected :port after ]"))?,
            ),
        };
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(invalid("the host is missing"));
    }
    let host_chars_ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if !host_chars_ok {
        return Err(invalid(
            "the host contains characters not allowed in a host name",
        ));
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(port) if port != 0 => port,
            _ => return Err(invalid("the port must be a number from 1 to 65535")),
        },
    };
    Ok(LdapUrl {
        scheme,
        host: host.to_string(),
        port,
    })
}

/// The group name in a member-of value: the CN of a DN such as AD's `memberOf`
/// (`CN=Sales Team,OU=Groups,DC=corp` → `Sales Team`, escapes `\,` and `\2C`
/// undone), or the trimmed value itself when it does not start with `CN=`.
pub fn group_name(value: &str) -> String {
    let trimmed = value.trim();
    first_cn(trimmed).unwrap_or_else(|| trimmed.to_string())
}

/// The value of a leading `CN=` RDN (RFC 4514 escapes; RFC 1779 quotes and spaces
/// around `=`, which older directories still write).
fn first_cn(dn: &str) -> Option<String> {
    let (attr, rest) = dn.split_once('=')?;
    if !attr.trim().eq_ignore_ascii_case("cn") {
        return None;
    }
    let bytes = rest.trim_start().as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    // Unescaped trailing spaces are not part of the value; escaped ones are.
    let mut significant = 0;
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\\' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|pair| {
                    let pair = std::str::from_utf8(pair).ok()?;
                    u8::from_str_radix(pair, 16).ok()
                });
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 3;
                } else if let Some(&next) = bytes.get(i + 1) {
                    out.push(next);
                    i += 2;
                } else {
                    out.push(b);
                    i += 1;
                }
                significant = out.len();
            }
            b'"' => {
                quoted = !quoted;
                i += 1;
            }
            b',' | b'+' | b';' if !quoted => break,
            _ => {
                out.push(b);
                i += 1;
                if !b.is_ascii_whitespace() || quoted {
                    significant = out.len();
                }
            }
        }
    }
    out.truncate(significant);
    let name = String::from_utf8_lossy(&out).into_owned();
    (!name.is_empty()).then_some(name)
}

/// Reads every entry under `settings.base` that matches `settings.filter`.
///
/// All or nothing: any failure (connect, TLS, bind, any page, an entry without an
/// ID, two entries with one ID) is an error. Each step is bounded by
/// `settings.timeout`.
pub async fn fetch_entries(settings: &LdapSettings) -> Result<Vec<DirectoryEntry>, LdapError> {
    let checked = CheckedSettings::new(settings)?;
    // ldap3 panics on some malformed server answers; in a task, that is an error
    // here instead of a crash of the caller. Dropping our future aborts the task.
    let mut task = AbortOnDrop(tokio::spawn(fetch_checked(checked)));
    match (&mut task.0).await {
        Ok(result) => result,
        Err(join) => Err(LdapError::Internal(join.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::atomic::{AtomicU16, Ordering};
    use std::time::Instant;

    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/slapd-fixture.sh");
    const READER_DN: &str = "cn=reader,dc=example,dc=com";
    const PEOPLE: &str = "ou=people,dc=example,dc=com";

    #[test]
    fn group_name_takes_the_cn_of_a_dn() {
        let cases = [
            ("CN=Sales Team,OU=Groups,DC=corp", "Sales Team"),
            ("cn=sales,ou=groups,dc=example,dc=com", "sales"),
            (r"CN=Smith\, John,OU=Groups,DC=corp", "Smith, John"),
            (r"CN=Sales\2C EMEA,OU=Groups,DC=corp", "Sales, EMEA"),
            (r"CN=M\C3\BCller,DC=corp", "Müller"),
            (r"CN=\23hash\ ,DC=corp", "#hash "),
            ("CN=Ops+UID=ops,DC=corp", "Ops"),
            (r#"CN="Sales, Team",OU=Groups"#, "Sales, Team"),
            ("  cn = Ops , OU=Groups", "Ops"),
            ("CN=Solo", "Solo"),
        ];
        for (value, name) in cases {
            assert_eq!(group_name(value), name, "{value}");
        }
    }

    #[test]
    fn group_name_leaves_plain_names_and_other_dns() {
        let cases = [
            ("  Developers  ", "Developers"),
            ("Sales Team", "Sales Team"),
            ("OU=Groups,DC=corp", "OU=Groups,DC=corp"),
            ("CN=", "CN="),
            ("", ""),
        ];
        for (value, name) in cases {
            assert_eq!(group_name(value), name, "{value:?}");
        }
    }

    #[test]
    fn parse_url_accepts_ldap_and_ldaps_with_default_ports() {
        let url = parse_url("ldap://dc1.corp.example:3268").unwrap();
        assert_eq!(
            url,
            LdapUrl {
                scheme: LdapScheme::Ldap,
                host: "dc1.corp.example".into(),
                port: 3268
            }
        );
        let url = parse_url("ldaps://dc1.corp.example").unwrap();
        assert_eq!((url.scheme, url.port), (LdapScheme::Ldaps, 636));
        let url = parse_url(" LDAP://127.0.0.1/ ").unwrap();
        assert_eq!(
            (url.scheme, url.host.as_str(), url.port),
            (LdapScheme::Ldap, "127.0.0.1", 389)
        );
        let url = parse_url("ldap://[::1]:1389").unwrap();
        assert_eq!(url.host, "::1");
        assert_eq!(url.to_string(), "ldap://[::1]:1389");
        assert_eq!(parse_url("ldaps://h").unwrap().to_string(), "ldaps://h:636");
    }

    #[test]
    fn parse_url_refuses_everything_else() {
        for url in [
            "",
            "dc1:389",
            "http://dc1",
            "ldapi://%2fvar%2frun%2fslapd",
            "ldap://",
            "ldap://:389",
            "ldap://dc1:",
            "ldap://dc1:0",
            "ldap://dc1:65536",
            "ldap://dc1:x",
            "ldap://dc1:389:1",
            "ldap://dc1/dc=example,dc=com",
            "ldap://dc1?uid",
            "ldap://reader@dc1",
            "ldap://[::1",
            "ldap://[dc1]:389",
            "ldap://dc 1",
        ] {
            assert!(
                matches!(parse_url(url), Err(LdapError::InvalidUrl { .. })),
                "{url:?} accepted"
            );
        }
    }

    fn offline_settings() -> LdapSettings {
        // Port 9 (discard) on loopback: nothing listens in a test environment.
        LdapSettings::new(
            "ldap://127.0.0.1:9",
            READER_DN,
            Zeroizing::new("s3cret-pw".into()),
            PEOPLE,
        )
    }

    #[tokio::test]
    async fn settings_are_checked_before_connecting() {
        let mut s = offline_settings();
        s.filter = "(uid=".into();
        let err = fetch_entries(&s).await.unwrap_err();
        println!("{err}");
        assert!(matches!(err, LdapError::InvalidFilter { .. }), "{err}");
        assert!(err.to_string().contains("(uid="), "{err}");

        type Change = Box<dyn Fn(&mut LdapSettings)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "starttls on ldaps",
                Box::new(|s| {
                    s.url = "ldaps://127.0.0.1:9".into();
                    s.starttls = true;
                }),
            ),
            (
                "CA without TLS",
                Box::new(|s| s.ca_pem = Some(b"x".to_vec())),
            ),
            (
                "empty password",
                Box::new(|s| s.bind_password = Zeroizing::new(String::new())),
            ),
            ("password without DN", Box::new(|s| s.bind_dn.clear())),
            ("page size", Box::new(|s| s.page_size = 0)),
            ("time-out", Box::new(|s| s.timeout = Duration::ZERO)),
            ("no ID attribute", Box::new(|s| s.map.id.clear())),
            (
                "attribute name",
                Box::new(|s| s.group_attr = Some("member of".into())),
            ),
        ];
        for (what, change) in cases {
            let mut s = offline_settings();
            change(&mut s);
            let err = fetch_entries(&s).await.unwrap_err();
            println!("{err}");
            assert!(
                matches!(err, LdapError::InvalidSettings(_)),
                "{what}: {err}"
            );
        }

        let mut s = offline_settings();
        s.starttls = true;
        s.ca_pem = Some(b"-----BEGIN NOTHING-----\n-----END NOTHING-----\n".to_vec());
        let err = fetch_entries(&s).await.unwrap_err();
        println!("{err}");
        assert!(matches!(err, LdapError::InvalidCa(_)), "{err}");
    }

    #[test]
    fn the_password_stays_out_of_debug_output() {
        let shown = format!("{:?}", offline_settings());
        assert!(!shown.contains("s3cret-pw"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[tokio::test]
    async fn an_unused_port_is_a_connect_error_within_the_timeout() {
        let mut s = offline_settings();
        s.url = format!("ldap://127.0.0.1:{}", free_port_pair());
        s.timeout = Duration::from_secs(5);
        let started = Instant::now();
        let err = fetch_entries(&s).await.unwrap_err();
        println!("{err}");
        assert!(matches!(err, LdapError::Connect { .. }), "{err}");
        assert!(started.elapsed() < s.timeout);
        assert!(err.to_string().contains("127.0.0.1"), "{err}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accepts and holds connections without a word.
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let mut s = offline_settings();
        s.url = format!("ldap://127.0.0.1:{port}");
        s.timeout = Duration::from_millis(300);
        let err = fetch_entries(&s).await.unwrap_err();
        println!("{err}");
        assert!(
            matches!(&err, LdapError::Timeout { stage, .. } if stage == "bind"),
            "{err}"
        );
        s.url = format!("ldaps://127.0.0.1:{port}");
        let err = fetch_entries(&s).await.unwrap_err();
        println!("{err}");
        assert!(
            matches!(&err, LdapError::Timeout { stage, .. } if stage == "TLS handshake"),
            "{err}"
        );
        holder.abort();
    }

    /// A throw-away slapd from scripts/slapd-fixture.sh, stopped on drop.
    struct Slapd {
        dir: PathBuf,
        port: u16,
    }

    impl Slapd {
        fn start(users: u32) -> Slapd {
            static DIRS: AtomicU16 = AtomicU16::new(0);
            let dir = std::env::temp_dir().join(format!(
                "passgrid-slapd-{}-{}",
                std::process::id(),
                DIRS.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            let port = free_port_pair();
            let slapd = Slapd { dir, port };
            let out = Command::new("bash")
                .arg(FIXTURE)
                .arg("start")
                .arg(&slapd.dir)
                .arg(port.to_string())
                .arg(users.to_string())
                .output()
                .expect("bash runs");
            assert!(
                out.status.success(),
                "{FIXTURE} start failed (are the Debian packages slapd, ldap-utils installed?): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            slapd
        }

        fn url(&self) -> String {
            format!("ldap://127.0.0.1:{}", self.port)
        }

        fn ldaps_url(&self) -> String {
            format!("ldaps://127.0.0.1:{}", self.port + 1)
        }

        fn ca_pem(&self) -> Vec<u8> {
            std::fs::read(self.dir.join("ca.pem")).unwrap()
        }

        fn settings(&self) -> LdapSettings {
            let mut s = LdapSettings::new(
                &self.url(),
                READER_DN,
                Zeroizing::new("readerpw".into()),
                PEOPLE,
            );
            s.group_attr = Some("passgridGroup".into());
            s.timeout = Duration::from_secs(20);
            s
        }

        fn stop(&self) {
            let _ = Command::new("bash")
                .arg(FIXTURE)
                .arg("stop")
                .arg(&self.dir)
                .status();
        }
    }

    impl Drop for Slapd {
        fn drop(&mut self) {
            self.stop();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// Two free consecutive ports (ldap, ldaps) below Linux's ephemeral range, so
    /// parallel tests and outgoing connections do not take them in between.
    fn free_port_pair() -> u16 {
        static NEXT: AtomicU16 = AtomicU16::new(0);
        let base = 10_000 + (std::process::id() % 5_000) as u16 * 4;
        for _ in 0..1_000 {
            let port = base + NEXT.fetch_add(2, Ordering::Relaxed) % 10_000;
            let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
            if free(port) && free(port + 1) {
                return port;
            }
        }
        panic!("no free port pair");
    }

    /// The fixture's groups of user `n` (see scripts/slapd-fixture.sh).
    fn fixture_groups(n: u32) -> Vec<String> {
        if n.is_multiple_of(10) {
            return Vec::new();
        }
        let mut groups = vec![["sales", "dev", "ops"][(n % 3) as usize].to_string()];
        if n.is_multiple_of(4) {
            groups.push("Support, EMEA".into());
        }
        groups.sort();
        groups
    }

    fn check_fixture_entries(entries: &[DirectoryEntry], users: u32) {
        assert_eq!(entries.len(), users as usize);
        let mut by_id: HashMap<&str, &DirectoryEntry> = HashMap::new();
        for entry in entries {
            by_id.insert(entry.id.as_str(), entry);
        }
        for n in 1..=users {
            let id = format!("user{n:05}");
            let entry = by_id
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{id} missing"));
            assert_eq!(entry.dn, format!("uid={id},{PEOPLE}"));
            assert_eq!(entry.display_name, format!("User {n:05}"));
            assert_eq!(
                entry.email.as_deref(),
                Some(format!("{id}@example.com").as_str())
            );
            assert_eq!(entry.groups, fixture_groups(n), "{id}");
        }
    }

    #[tokio::test]
    async fn paging_reads_past_the_server_size_limit() {
        let slapd = Slapd::start(2_500);
        // Without paging the server stops at 1,000.
        let out = Command::new("ldapsearch")
            .args(["-x", "-H", &slapd.url(), "-D", READER_DN, "-w", "readerpw"])
            .args(["-b", PEOPLE, "(objectClass=person)", "1.1"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Size limit exceeded"), "{text}");
        assert_eq!(text.lines().filter(|l| l.starts_with("dn:")).count(), 1_000);

        let started = Instant::now();
        let entries = fetch_entries(&slapd.settings()).await.unwrap();
        println!(
            "fetched {} entries in {:?}",
            entries.len(),
            started.elapsed()
        );
        check_fixture_entries(&entries, 2_500);
        let sample = entries.iter().find(|e| e.id == "user00012").unwrap();
        assert_eq!(sample.groups, ["Support, EMEA", "sales"]);
    }

    #[tokio::test]
    async fn ten_thousand_entries() {
        let slapd = Slapd::start(10_000);
        let started = Instant::now();
        let entries = fetch_entries(&slapd.settings()).await.unwrap();
        println!(
            "fetched {} entries in {:?}",
            entries.len(),
            started.elapsed()
        );
        check_fixture_entries(&entries, 10_000);
    }

    #[tokio::test]
    async fn directory_errors_are_clear() {
        let slapd = Slapd::start(20);

        let mut s = slapd.settings();
        s.bind_password = Zeroizing::new("wrong-pw-123".into());
        let err = fetch_entries(&s).await.unwrap_err();
        println!("{err}");
        assert!(matches!(err, LdapError::BindRefused { .. }), "{err}");
        assert!(!format!("{err} {err:?}").contains("wrong-pw-123"));

        let mut s = slapd.settings();
        s.base = "ou=nobody,dc=example,dc=com".into();
        let err = fetch_entries(&s).await.unwrap_err();
        println!("{err}");
        assert!(
            matches!(
                err,
                LdapError::SearchRefused {
                    code: 32,
                    page: 1,
                    ..
                }
            ),
            "{err}"
        );

        // Above the server's page limit: the server refuses the page.
        let mut s = slapd.settings();
        s.page_size = 2_000;
        let err = fetch_entries(&s).await.unwrap_err();
        println!("{err}");
        assert!(
            matches!(err, LdapError::SearchRefused { code: 11, .. }),
            "{err}"
        );

        let mut s = slapd.settings();
        s.map.id = vec!["employeeNumber".into()];
        let err = fetch_entries(&s).await.unwrap_err();
        println!("{err}");
        assert!(
            matches!(&err, LdapError::MissingId { dn, .. } if dn.starts_with("uid=user")),
            "{err}"
        );

        let mut s = slapd.settings();
        s.filter = "(|(uid=user00001)(uid=user00002))".into();
        s.map.id = vec!["objectClass".into()];
        let err = fetch_entries(&s).await.unwrap_err();
        println!("{err}");
        match &err {
            LdapError::DuplicateId {
                first_dn,
                second_dn,
                ..
            } => {
                let mut dns = [first_dn.as_str(), second_dn.as_str()];
                dns.sort();
                assert_eq!(
                    dns,
                    [
                        format!("uid=user00001,{PEOPLE}"),
                        format!("uid=user00002,{PEOPLE}")
                    ]
                );
            }
            other => panic!("{other}"),
        }

        // Page size 7 over 20 entries: three pages joined.
        let mut s = slapd.settings();
        s.page_size = 7;
        check_fixture_entries(&fetch_entries(&s).await.unwrap(), 20);

        slapd.stop();
        let started = Instant::now();
        let err = fetch_entries(&slapd.settings()).await.unwrap_err();
        println!("{err}");
        assert!(matches!(err, LdapError::Connect { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn starttls_and_ldaps_with_the_fixture_ca() {
        let slapd = Slapd::start(20);
        let mut s = slapd.settings();
        s.starttls = true;
        s.ca_pem = Some(slapd.ca_pem());
        check_fixture_entries(&fetch_entries(&s).await.unwrap(), 20);

        let mut s = slapd.settings();
        s.url = slapd.ldaps_url();
        s.ca_pem = Some(slapd.ca_pem());
        check_fixture_entries(&fetch_entries(&s).await.unwrap(), 20);

        // The certificate names localhost too.
        s.url = format!("ldaps://localhost:{}", slapd.port + 1);
        check_fixture_entries(&fetch_entries(&s).await.unwrap(), 20);
    }

    #[tokio::test]
    async fn an_untrusted_server_certificate_is_a_tls_error() {
        let slapd = Slapd::start(5);
        let other_ca = slapd.dir.join("other-ca.pem");
        let status = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "1", "-subj", "/CN=another CA", "-keyout"])
            .arg(slapd.dir.join("other-ca.key"))
            .arg("-out")
            .arg(&other_ca)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let wrong = std::fs::read(other_ca).unwrap();

        for (url, starttls, ca) in [
            (slapd.url(), true, Some(wrong.clone())),
            (slapd.ldaps_url(), false, Some(wrong)),
            (slapd.ldaps_url(), false, None),
        ] {
            let mut s = slapd.settings();
            s.url = url;
            s.starttls = starttls;
            s.ca_pem = ca;
            let err = fetch_entries(&s).await.unwrap_err();
            println!("{err}");
            assert!(matches!(err, LdapError::Tls { .. }), "{err}");
        }
    }
}
