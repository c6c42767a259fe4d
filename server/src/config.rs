//! Configuration: defaults < TOML file (`--config`) < `PASSGRID_*` environment <
//! command-line flags, resolved once into typed structs.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;

use crate::instance::DataConfig;

pub mod serve_limits;

/// Everything that can be set in the TOML file. Unknown keys are an error, so a typo
/// is reported instead of silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    #[serde(default)]
    pub log: LogFile,
    #[serde(default)]
    pub serve: ServeFile,
    #[serde(default)]
    pub auth: AuthFile,
    #[serde(default)]
    pub mail: crate::mail::MailFile,
    /// `[forward_auth]`: protected domains and the cookie (SPEC §10.2).
    #[serde(default)]
    pub forward_auth: crate::sso::ForwardAuthFile,
    /// `[radius]`: the RADIUS server for VPNs and network devices (SPEC §10.4).
    #[serde(default)]
    pub radius: crate::radius::RadiusFile,
}

/// `[auth]`: login settings; the `default` policy and group policies override them
/// per user (policy.rs).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    pub challenge_ttl_secs: Option<i64>,
    pub session_idle_secs: Option<i64>,
    pub session_absolute_secs: Option<i64>,
    pub grid_canvas_only: Option<bool>,
    pub require_certificate: Option<bool>,
    pub auto_issue_certificate: Option<bool>,
    pub max_certificates_per_user: Option<u32>,
    pub max_downloads_per_certificate: Option<u32>,
    /// `p256` (default), `rsa2048` or `rsa3072`.
    pub certificate_key: Option<crate::ca::client_cert::KeyType>,
    /// `[auth.shared_profiles]`: profile name = [user IDs allowed on its terminals].
    pub shared_profiles: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// Consecutive failures that lock a login ID (0: never).
    pub lockout_threshold: Option<u32>,
    /// Seconds a lock lasts (0: until an operator unlocks).
    pub lockout_secs: Option<i64>,
    /// Mail the user and the administrators when a user is locked.
    pub lockout_notify: Option<bool>,
    /// Login starts from one address: `{ burst = 100, per_minute = 300 }` (0: off).
    pub rate_limit_per_source: Option<crate::policy::Rate>,
    /// Login starts for one user ID: `{ burst = 10, per_minute = 20 }` (0: off).
    pub rate_limit_per_user: Option<crate::policy::Rate>,
    /// Networks sign-in is allowed from (CIDR); empty: any.
    pub allowed_networks: Option<Vec<String>>,
    /// Days and hours sign-in is allowed, e.g. `["Mon-Fri 08:00-19:00"]`; empty: any.
    pub allowed_hours: Option<Vec<String>>,
    /// The time zone of `allowed_hours` (IANA name; default UTC).
    pub time_zone: Option<String>,
    /// Login protect (SPEC §1.10).
    pub login_protect: Option<bool>,
    /// `grid` (default), `totp` or `both` (SPEC §4.1).
    pub method: Option<crate::policy::LoginMethod>,
    /// The additional phrase: `off` (default), `before` or `after` the digits.
    pub phrase: Option<crate::otp::phrase::PhraseMode>,
    pub phrase_min_len: Option<usize>,
    pub phrase_max_len: Option<usize>,
    /// RADIUS sign-ins: `web-grid` (default), `challenge` or `off` (SPEC §10.4).
    pub radius_mode: Option<crate::policy::RadiusMode>,
    /// Mail users made by directory sync or a CSV folder their first-login notice
    /// (user ID, sign-in URL, initial pattern); needs [mail] and [serve] public_url.
    pub first_login_mail: Option<bool>,
}

impl AuthFile {
    fn phrase_rule(
        &self,
        d: crate::otp::phrase::PhraseRule,
    ) -> Result<crate::otp::phrase::PhraseRule, ConfigError> {
        let min_len = self.phrase_min_len.unwrap_or(d.min_len);
        let max_len = self.phrase_max_len.unwrap_or(d.max_len);
        if !(1..=64).contains(&min_len) || !(min_len..=64).contains(&max_len) {
            return Err(ConfigError::Invalid(format!(
                "[auth] phrase_min_len = {min_len}, phrase_max_len = {max_len}: \
                 need 1 <= min <= max <= 64"
            )));
        }
        Ok(crate::otp::phrase::PhraseRule {
            mode: self.phrase.unwrap_or(d.mode),
            min_len,
            max_len,
        })
    }

    fn lockout_rule(
        &self,
        d: crate::policy::LockoutRule,
    ) -> Result<crate::policy::LockoutRule, ConfigError> {
        let threshold = self.lockout_threshold.unwrap_or(d.threshold);
        if threshold > 1000 {
            return Err(ConfigError::Invalid(format!(
                "[auth] lockout_threshold = {threshold} is out of range (0 to 1000)"
            )));
        }
        let lock_secs = self.lockout_secs.unwrap_or(d.lock_secs);
        if !(0..=365 * 24 * 3600).contains(&lock_secs) {
            return Err(ConfigError::Invalid(format!(
                "[auth] lockout_secs = {lock_secs} is out of range (0 to 1 year)"
            )));
        }
        Ok(crate::policy::LockoutRule {
            threshold,
            lock_secs,
            notify: self.lockout_notify.unwrap_or(d.notify),
        })
    }

    pub fn settings(&self) -> Result<crate::policy::AuthSettings, ConfigError> {
        let d = crate::policy::AuthSettings::default();
        let pick = |v: Option<i64>, default: i64, name: &str| match v {
            None => Ok(default),
            Some(s) if (1..=30 * 24 * 3600).contains(&s) => Ok(s),
            Some(s) => Err(ConfigError::Invalid(format!(
                "[auth] {name} = {s} is out of range (1 s to 30 days)"
            ))),
        };
        let count = |v: Option<u32>, default: u32, name: &str| match v {
            None => Ok(default),
            Some(n) if (1..=1000).contains(&n) => Ok(n),
            Some(n) => Err(ConfigError::Invalid(format!(
                "[auth] {name} = {n} is out of range (1 to 1000)"
            ))),
        };
        let access_source = crate::policy::access_rules::AccessSource {
            networks: self.allowed_networks.clone().unwrap_or_default(),
            hours: self.allowed_hours.clone().unwrap_or_default(),
            time_zone: self.time_zone.clone().unwrap_or_else(|| "UTC".into()),
        };
        Ok(crate::policy::AuthSettings {
            challenge_ttl_secs: pick(
                self.challenge_ttl_secs,
                d.challenge_ttl_secs,
                "challenge_ttl_secs",
            )?,
            session_idle_secs: pick(
                self.session_idle_secs,
                d.session_idle_secs,
                "session_idle_secs",
            )?,
            session_absolute_secs: pick(
                self.session_absolute_secs,
                d.session_absolute_secs,
                "session_absolute_secs",
            )?,
            grid_canvas_only: self.grid_canvas_only.unwrap_or(d.grid_canvas_only),
            require_certificate: self.require_certificate.unwrap_or(d.require_certificate),
            auto_issue_certificate: self
                .auto_issue_certificate
                .unwrap_or(d.auto_issue_certificate),
            max_certificates_per_user: count(
                self.max_certificates_per_user,
                d.max_certificates_per_user,
                "max_certificates_per_user",
            )?,
            max_downloads_per_certificate: count(
                self.max_downloads_per_certificate,
                d.max_downloads_per_certificate,
                "max_downloads_per_certificate",
            )?,
            shared_profiles: self.shared_profiles.clone().unwrap_or_default(),
            certificate_key: self.certificate_key.unwrap_or_default(),
            lockout: self.lockout_rule(d.lockout)?,
            rate_per_source: self.rate_limit_per_source.unwrap_or(d.rate_per_source),
            rate_per_user: self.rate_limit_per_user.unwrap_or(d.rate_per_user),
            access: access_source
                .parse()
                .map_err(|e| ConfigError::Invalid(format!("[auth] {e}")))?,
            access_source,
            login_protect: self.login_protect.unwrap_or(d.login_protect),
            method: self.method.unwrap_or(d.method),
            phrase: self.phrase_rule(d.phrase)?,
            radius_mode: self.radius_mode.unwrap_or(d.radius_mode),
            first_login_mail: self.first_login_mail.unwrap_or(d.first_login_mail),
            ..d
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFile {
    pub format: Option<LogFormat>,
    pub level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeFile {
    pub listen: Option<SocketAddr>,
    pub http_listen: Option<SocketAddr>,
    pub hostnames: Option<Vec<String>>,
    pub site_root: Option<PathBuf>,
    pub public_url: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub handshake_timeout_secs: Option<u64>,
    pub max_body_bytes: Option<usize>,
    /// Addresses (CIDR) of TLS-terminating proxies whose certificate header is believed.
    pub trusted_proxies: Option<Vec<String>>,
    /// The header such a proxy puts the client certificate in.
    pub client_cert_header: Option<String>,
    /// Seconds from accept to a connection's first request (TLS handshake included).
    pub first_request_timeout_secs: Option<u64>,
    /// Seconds a connection may stay open with no request in flight.
    pub idle_timeout_secs: Option<u64>,
    /// Connections open at once, in all (default: 4096, less to fit the file limit).
    pub max_connections: Option<usize>,
    /// Connections open at once per source address (IPv6: per /64).
    pub max_connections_per_source: Option<usize>,
    /// A file with the bearer token that opens `/metrics`.
    pub metrics_token_file: Option<PathBuf>,
    /// Networks (CIDR) that may read `/metrics` without the token (default loopback).
    pub metrics_allow: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("{0}")]
    Invalid(String),
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> Result<FileConfig, ConfigError> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let err = |reason: String| ConfigError::File {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        toml::from_str(&text).map_err(|e| err(e.message().to_string()))
    }
}

/// The data settings every data-touching subcommand needs: flags < file < default.
pub fn data_config(
    flag_dir: Option<PathBuf>,
    flag_url: Option<String>,
    file: &FileConfig,
) -> DataConfig {
    let data_dir = flag_dir
        .or_else(|| file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("./data"));
    let database_url = flag_url
        .or_else(|| file.database_url.clone())
        .unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("passgrid.db").display()
            )
        });
    DataConfig {
        data_dir,
        database_url,
    }
}

/// Settings of `passgrid serve`.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub http_listen: Option<SocketAddr>,
    pub hostnames: Vec<String>,
    pub site_root: PathBuf,
    /// Set explicitly (flag, env, file); otherwise derived from the bound address.
    pub public_url: Option<String>,
    pub tls_files: Option<(PathBuf, PathBuf)>,
    pub handshake_timeout: Duration,
    pub max_body_bytes: usize,
    pub proxy: Option<crate::http::proxy::ProxySettings>,
    pub connections: serve_limits::ConnectionSettings,
    pub metrics_access: crate::http::metrics_access::MetricsAccess,
}

/// The flag/env side of `serve` (clap fills it).
#[derive(Debug, Default, Clone)]
pub struct ServeFlags {
    pub listen: Option<SocketAddr>,
    pub http_listen: Option<SocketAddr>,
    pub hostnames: Vec<String>,
    pub site_root: Option<PathBuf>,
    pub public_url: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

impl ServeConfig {
    pub fn resolve(flags: ServeFlags, file: &ServeFile) -> Result<ServeConfig, ConfigError> {
        let listen = flags
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8443)));
        let hostnames = if flags.hostnames.is_empty() {
            file.hostnames.clone().unwrap_or_default()
        } else {
            flags.hostnames
        };
        for h in &hostnames {
            if h.is_empty()
                || h.len() > 253
                || !h
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
            {
                return Err(ConfigError::Invalid(format!(
                    "hostname {h:?} is not a valid DNS name or IP address"
                )));
            }
        }
        let tls_cert = flags.tls_cert.or_else(|| file.tls_cert.clone());
        let tls_key = flags.tls_key.or_else(|| file.tls_key.clone());
        let tls_files = match (tls_cert, tls_key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid(
                    "--tls-cert and --tls-key go together".into(),
                ))
            }
        };
        let public_url = flags
            .public_url
            .or_else(|| file.public_url.clone())
            .map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = &public_url {
            if !url.starts_with("https://") {
                return Err(ConfigError::Invalid(format!(
                    "public URL {url:?} must start with https://"
                )));
            }
        }
        let site_root = flags
            .site_root
            .or_else(|| file.site_root.clone())
            .unwrap_or_else(default_site_root);
        let proxy = match &file.trusted_proxies {
            None => None,
            Some(list) if list.is_empty() => None,
            Some(list) => {
                let trusted = list
                    .iter()
                    .map(|c| {
                        c.parse().map_err(|e| {
                            ConfigError::Invalid(format!("[serve] trusted_proxies: {e}"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let name = file
                    .client_cert_header
                    .as_deref()
                    .unwrap_or("X-SSL-Client-Cert");
                let header = axum::http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    ConfigError::Invalid(format!(
                        "[serve] client_cert_header {name:?} is not a header name"
                    ))
                })?;
                Some(crate::http::proxy::ProxySettings { trusted, header })
            }
        };
        let connections = serve_limits::connection_settings(file)?;
        let metrics_access = serve_limits::metrics_access(file)?;
        Ok(ServeConfig {
            connections,
            metrics_access,
            proxy,
            listen,
            http_listen: flags.http_listen.or(file.http_listen),
            hostnames,
            site_root,
            public_url,
            tls_files,
            handshake_timeout: Duration::from_secs(
                file.handshake_timeout_secs.unwrap_or(10).clamp(1, 120),
            ),
            max_body_bytes: file.max_body_bytes.unwrap_or(1024 * 1024),
        })
    }
}

impl ServeConfig {
    /// The URL users reach passgrid at: as configured, else the first host name (or
    /// the listening IP) with the port actually bound.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let host = self
            .hostnames
            .first()
            .cloned()
            .unwrap_or_else(|| bound.ip().to_string());
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        if bound.port() == 443 {
            format!("https://{host}")
        } else {
            format!("https://{host}:{}", bound.port())
        }
    }
}

/// `site/` next to the binary's directory (target/release/../site), else the
/// workspace's target/site (for `cargo run`).
fn default_site_root() -> PathBuf {
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        let beside = dir.join("../site");
        if beside.join("pkg").is_dir() {
            return beside;
        }
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site"))
}

/// Environment variables passgrid reads; any other `PASSGRID_*` is probably a typo.
pub const KNOWN_ENV: &[&str] = &[
    "PASSGRID_CONFIG",
    // Debug builds only (see clock::process_clock).
    "PASSGRID_TEST_CLOCK_FILE",
    "PASSGRID_DATA_DIR",
    "PASSGRID_DATABASE_URL",
    "PASSGRID_LOG_FORMAT",
    "PASSGRID_LOG_LEVEL",
    "PASSGRID_JSON",
    "PASSGRID_LISTEN",
    "PASSGRID_HTTP_LISTEN",
    "PASSGRID_HOSTNAMES",
    "PASSGRID_SITE_ROOT",
    "PASSGRID_PUBLIC_URL",
    "PASSGRID_TLS_CERT",
    "PASSGRID_TLS_KEY",
    "PASSGRID_MASTER_KEY",
];

/// Names of set `PASSGRID_*` variables that passgrid does not know.
pub fn unknown_env_vars() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("PASSGRID_") && !KNOWN_ENV.contains(&k.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beat_defaults() {
        let file: FileConfig = toml::from_str(
            "data_dir = \"/srv/pg\"\n[serve]\nlisten = \"127.0.0.1:9443\"\nhostnames = [\"a.example\"]\n",
        )
        .unwrap();
        let data = data_config(None, None, &file);
        assert_eq!(data.data_dir, PathBuf::from("/srv/pg"));
        assert_eq!(data.database_url, "sqlite:///srv/pg/passgrid.db?mode=rwc");
        let serve = ServeConfig::resolve(ServeFlags::default(), &file.serve).unwrap();
        assert_eq!(serve.listen.port(), 9443);
        assert_eq!(serve.public_url(serve.listen), "https://a.example:9443");
        let flags = ServeFlags {
            listen: Some("127.0.0.1:443".parse().unwrap()),
            hostnames: vec!["b.example".into()],
            ..Default::default()
        };
        let serve = ServeConfig::resolve(flags, &file.serve).unwrap();
        assert_eq!(serve.public_url(serve.listen), "https://b.example");
        let data = data_config(Some("/x".into()), Some("postgres://h/db".into()), &file);
        assert_eq!(data.database_url, "postgres://h/db");
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        assert!(toml::from_str::<FileConfig>("data_dri = \"x\"").is_err());
        assert!(toml::from_str::<FileConfig>("[serve]\nlisten = \"nope\"").is_err());
        let flags = ServeFlags {
            tls_cert: Some("c.pem".into()),
            ..Default::default()
        };
        assert!(ServeConfig::resolve(flags, &ServeFile::default()).is_err());
        let flags = ServeFlags {
            hostnames: vec!["bad host".into()],
            ..Default::default()
        };
        assert!(ServeConfig::resolve(flags, &ServeFile::default()).is_err());
        let flags = ServeFlags {
            public_url: Some("http://x".into()),
            ..Default::default()
        };
        assert!(ServeConfig::resolve(flags, &ServeFile::default()).is_err());
    }

    #[test]
    fn ipv6_listen_makes_bracketed_url() {
        let flags = ServeFlags {
            listen: Some("[::1]:8443".parse().unwrap()),
            ..Default::default()
        };
        let serve = ServeConfig::resolve(flags, &ServeFile::default()).unwrap();
        assert_eq!(
            serve.public_url("[::1]:8443".parse().unwrap()),
            "https://[::1]:8443"
        );
        assert_eq!(
            serve.public_url("[::1]:40000".parse().unwrap()),
            "https://[::1]:40000"
        );
    }
}
