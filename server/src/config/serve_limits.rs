//! The `[serve]` keys that bound what clients may hold and see: connection timeouts
//! and caps (issue #13, item 8) and who may read `/metrics`.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{ConfigError, ServeFile};
use crate::{http::metrics_access::MetricsAccess, net::Cidr};

/// Connection limits as configured; the total cap is fitted to the process's file
/// limit when serving starts (`effective_max_total`).
#[derive(Clone, Debug)]
pub struct ConnectionSettings {
    pub first_request_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_total: Option<usize>,
    pub max_per_source: usize,
}

/// Total connections when none is configured.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Connections per source when none is configured: room for an office behind one
/// address; idle ones make way for new ones anyway.
pub const DEFAULT_MAX_PER_SOURCE: usize = 128;

fn invalid(key: &str, why: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid(format!("[serve] {key}: {why}"))
}

pub fn connection_settings(file: &ServeFile) -> Result<ConnectionSettings, ConfigError> {
    let secs = |key: &str, value: Option<u64>, default: u64, max: u64| match value {
        None => Ok(Duration::from_secs(default)),
        Some(v) if (1..=max).contains(&v) => Ok(Duration::from_secs(v)),
        Some(_) => Err(invalid(key, format_args!("1 to {max} seconds"))),
    };
    let count = |key: &str, value: Option<usize>| match value {
        Some(0) => Err(invalid(key, "at least 1")),
        v => Ok(v),
    };
    Ok(ConnectionSettings {
        first_request_timeout: secs(
            "first_request_timeout_secs",
            file.first_request_timeout_secs,
            15,
            300,
        )?,
        idle_timeout: secs("idle_timeout_secs", file.idle_timeout_secs, 60, 3600)?,
        max_total: count("max_connections", file.max_connections)?,
        max_per_source: count(
            "max_connections_per_source",
            file.max_connections_per_source,
        )?
        .unwrap_or(DEFAULT_MAX_PER_SOURCE),
    })
}

/// The total cap that fits `file_limit` descriptors: a quarter of them (at least 64)
/// stays for the database, the log and the files the server opens.
pub fn effective_max_total(configured: Option<usize>, file_limit: Option<u64>) -> usize {
    let wanted = configured.unwrap_or(DEFAULT_MAX_CONNECTIONS);
    match file_limit.and_then(|l| usize::try_from(l).ok()) {
        Some(limit) => wanted.min(limit.saturating_sub((limit / 4).max(64)).max(16)),
        None => wanted,
    }
}

pub fn metrics_access(file: &ServeFile) -> Result<MetricsAccess, ConfigError> {
    let mut access = MetricsAccess::default();
    if let Some(list) = &file.metrics_allow {
        access.allow = list
            .iter()
            .map(|c| c.parse::<Cidr>().map_err(|e| invalid("metrics_allow", e)))
            .collect::<Result<_, _>>()?;
    }
    if let Some(path) = &file.metrics_token_file {
        let key = "metrics_token_file";
        let shown = path.display();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|e| invalid(key, format_args!("{shown}: {e}")))?
                .permissions()
                .mode();
            // Like the master key: a secret others can read is refused, not used.
            if mode & 0o004 != 0 {
                return Err(invalid(
                    key,
                    format_args!("{shown} can be read by every user (chmod o-r)"),
                ));
            }
        }
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| invalid(key, format_args!("{shown}: {e}")))?,
        );
        let token = text.trim();
        if token.len() < 16 || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(
                key,
                format_args!("{shown}: the token is at least 16 characters, without spaces"),
            ));
        }
        access.token_sha256 = Some(Sha256::digest(token.as_bytes()).into());
    }
    Ok(access)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_cap_fits_the_file_limit() {
        assert_eq!(effective_max_total(None, None), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(effective_max_total(None, Some(256)), 192);
        assert_eq!(effective_max_total(None, Some(1024)), 768);
        assert_eq!(effective_max_total(Some(100), Some(1_000_000)), 100);
        assert_eq!(effective_max_total(Some(10_000), Some(1024)), 768);
        assert_eq!(effective_max_total(None, Some(20)), 16);
    }

    #[test]
    fn bad_values_are_refused_with_the_key() {
        let file: ServeFile = toml::from_str("idle_timeout_secs = 0").unwrap();
        assert!(connection_settings(&file)
            .unwrap_err()
            .to_string()
            .contains("idle_timeout_secs"));
        let file: ServeFile = toml::from_str("max_connections_per_source = 0").unwrap();
        assert!(connection_settings(&file).is_err());
        let file: ServeFile = toml::from_str("metrics_allow = [\"nonsense\"]").unwrap();
        assert!(metrics_access(&file).is_err());
        let file: ServeFile = toml::from_str("").unwrap();
        let d = connection_settings(&file).unwrap();
        assert_eq!(
            (d.first_request_timeout.as_secs(), d.idle_timeout.as_secs()),
            (15, 60)
        );
    }
}
