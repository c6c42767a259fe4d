//! One directory run on the wire: connect (plain, StartTLS or LDAPS), bind, search
//! page by page, unbind — each step bounded in time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ldap3::asn1::{parse_tag, StructureTag};
use ldap3::controls::{Control, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchResult, StdStream};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use super::entries::map_entry;
use super::*;

/// Aborts a task when the handle is dropped, so no LDAP work outlives its caller.
pub(super) struct AbortOnDrop<T>(pub(super) JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Settings that passed every check that needs no server.
pub(super) struct CheckedSettings {
    pub(super) url: LdapUrl,
    pub(super) tls: Option<Arc<ClientConfig>>,
    pub(super) starttls: bool,
    pub(super) bind_dn: String,
    pub(super) bind_password: Zeroizing<String>,
    pub(super) base: String,
    pub(super) filter: String,
    pub(super) map: AttributeMap,
    pub(super) group_attr: Option<String>,
    pub(super) attrs: Vec<String>,
    pub(super) timeout: Duration,
    pub(super) page_size: i32,
}

impl CheckedSettings {
    pub(super) fn new(settings: &LdapSettings) -> Result<Self, LdapError> {
        let url = parse_url(&settings.url)?;
        let is_tls = url.scheme == LdapScheme::Ldaps || settings.starttls;
        if settings.starttls && url.scheme == LdapScheme::Ldaps {
            return Err(LdapError::InvalidSettings(
                "StartTLS is for ldap:// URLs; ldaps:// is TLS already".into(),
            ));
        }
        if settings.ca_pem.is_some() && !is_tls {
            // A CA on a plain connection would suggest a protection that is not there.
            return Err(LdapError::InvalidSettings(
                "a CA is given but the connection is not TLS: use ldaps:// or StartTLS".into(),
            ));
        }
        if !settings.bind_dn.is_empty() && settings.bind_password.is_empty() {
            // RFC 4513 §5.1.2: a DN without password is an unauthenticated bind,
            // which some servers accept as anonymous.
            return Err(LdapError::InvalidSettings(
                "the bind password is empty".into(),
            ));
        }
        if settings.bind_dn.is_empty() && !settings.bind_password.is_empty() {
            return Err(LdapError::InvalidSettings(
                "a bind password is given without a bind DN".into(),
            ));
        }
        if ldap3::parse_filter(&settings.filter).is_err() {
            return Err(LdapError::InvalidFilter {
                filter: settings.filter.clone(),
            });
        }
        if settings.page_size < 1 {
            return Err(LdapError::InvalidSettings(
                "the page size must be at least 1".into(),
            ));
        }
        if settings.timeout.is_zero() {
            return Err(LdapError::InvalidSettings(
                "the time-out must be more than zero".into(),
            ));
        }
        if settings.map.id.is_empty() {
            return Err(LdapError::InvalidSettings(
                "at least one ID attribute is needed".into(),
            ));
        }
        let mut attrs: Vec<String> = Vec::new();
        let wanted = settings
            .map
            .id
            .iter()
            .chain(&settings.map.name)
            .chain(&settings.map.email)
            .chain(settings.map.extra.iter().map(|e| &e.attr))
            .chain(&settings.group_attr);
        for attr in wanted {
            if !is_attribute_name(attr) {
                return Err(LdapError::InvalidSettings(format!(
                    "{attr:?} is not an attribute name"
                )));
            }
            if !attrs.iter().any(|a| a.eq_ignore_ascii_case(attr)) {
                attrs.push(attr.clone());
            }
        }
        let tls = if is_tls {
            Some(Arc::new(tls_config(settings.ca_pem.as_deref())?))
        } else {
            None
        };
        Ok(CheckedSettings {
            url,
            tls,
            starttls: settings.starttls,
            bind_dn: settings.bind_dn.clone(),
            bind_password: settings.bind_password.clone(),
            base: settings.base.clone(),
            filter: settings.filter.clone(),
            map: settings.map.clone(),
            group_attr: settings.group_attr.clone(),
            attrs,
            timeout: settings.timeout,
            page_size: settings.page_size,
        })
    }

    fn timed_out(&self, stage: impl Into<String>) -> LdapError {
        LdapError::Timeout {
            url: self.url.to_string(),
            stage: stage.into(),
            timeout: self.timeout,
        }
    }

    fn lost(&self, stage: impl Into<String>, cause: ldap3::LdapError) -> LdapError {
        LdapError::ConnectionLost {
            url: self.url.to_string(),
            stage: stage.into(),
            cause: cause.to_string(),
        }
    }
}

/// An attribute descriptor (RFC 4512 §2.5): a name or numeric OID, with options.
fn is_attribute_name(attr: &str) -> bool {
    let mut parts = attr.split(';');
    let base = parts.next().unwrap_or_default();
    let name_ok = base.starts_with(|c: char| c.is_ascii_alphabetic())
        && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid_ok = !base.is_empty()
        && base
            .split('.')
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let options_ok =
        parts.all(|o| !o.is_empty() && o.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    (name_ok || oid_ok) && options_ok
}

/// A rustls client configuration trusting `ca_pem`, or the system roots.
fn tls_config(ca_pem: Option<&[u8]>) -> Result<ClientConfig, LdapError> {
    let mut roots = RootCertStore::empty();
    match ca_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| LdapError::InvalidCa(format!("PEM: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| LdapError::InvalidCa(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(LdapError::InvalidCa(
                    "no CERTIFICATE block in the PEM".into(),
                ));
            }
        }
        None => {
            // Certificates the system store holds but rustls cannot parse are skipped.
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
    }
    // ring, explicitly: passgrid builds rustls without aws-lc-rs.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| LdapError::Internal(format!("TLS configuration: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Bounds a step by the time-out.
async fn bounded<F: std::future::Future>(timeout: Duration, step: F) -> Option<F::Output> {
    tokio::time::timeout(timeout, step).await.ok()
}

pub(super) async fn fetch_checked(
    settings: CheckedSettings,
) -> Result<Vec<DirectoryEntry>, LdapError> {
    let (mut ldap, driver) = connect(&settings).await?;
    let _driver = AbortOnDrop(driver);
    bind(&settings, &mut ldap).await?;
    let entries = search_all_pages(&settings, &mut ldap).await?;
    // The data is complete; a failing unbind changes nothing about it.
    let _ = bounded(settings.timeout, ldap.unbind()).await;
    Ok(entries)
}

/// TCP, then TLS or StartTLS; returns the handle and the connection's driver task.
async fn connect(settings: &CheckedSettings) -> Result<(Ldap, JoinHandle<()>), LdapError> {
    let url = settings.url.to_string();
    let connect_error = |cause: String| LdapError::Connect {
        url: url.clone(),
        cause,
    };
    // The TCP connection is ours so that "cannot connect" and "TLS failed" differ.
    let tcp = bounded(
        settings.timeout,
        TcpStream::connect((settings.url.host.as_str(), settings.url.port)),
    )
    .await
    .ok_or_else(|| settings.timed_out("connect"))?
    .map_err(|e| connect_error(e.to_string()))?;
    let tcp = tcp.into_std().map_err(|e| connect_error(e.to_string()))?;
    let mut conn_settings = LdapConnSettings::new().set_std_stream(StdStream::Tcp(tcp));
    if let Some(config) = &settings.tls {
        conn_settings = conn_settings
            .set_config(Arc::clone(config))
            .set_starttls(settings.starttls);
    }
    let stage = if settings.starttls {
        "StartTLS"
    } else {
        "TLS handshake"
    };
    let (conn, ldap) = bounded(
        settings.timeout,
        LdapConnAsync::with_settings(conn_settings, &url),
    )
    .await
    .ok_or_else(|| settings.timed_out(stage))?
    .map_err(|e| match e {
        ldap3::LdapError::LdapResult { result } => LdapError::StartTlsRefused {
            url: url.clone(),
            code: result.rc,
            result: result.to_string(),
        },
        ldap3::LdapError::Io { source } if settings.tls.is_none() => {
            connect_error(source.to_string())
        }
        ldap3::LdapError::Io { source } => LdapError::Tls {
            url: url.clone(),
            cause: source.to_string(),
        },
        other => LdapError::Tls {
            url: url.clone(),
            cause: other.to_string(),
        },
    })?;
    let driver = tokio::spawn(async move {
        // Its errors reach the waiting operation, which reports them.
        let _ = conn.drive().await;
    });
    Ok((ldap, driver))
}

async fn bind(settings: &CheckedSettings, ldap: &mut Ldap) -> Result<(), LdapError> {
    if settings.bind_dn.is_empty() {
        return Ok(());
    }
    let result = bounded(
        settings.timeout,
        ldap.simple_bind(&settings.bind_dn, &settings.bind_password),
    )
    .await
    .ok_or_else(|| settings.timed_out("bind"))?
    .map_err(|e| settings.lost("bind", e))?;
    match result.rc {
        RC_SUCCESS => Ok(()),
        RC_INVALID_CREDENTIALS => Err(LdapError::BindRefused {
            bind_dn: settings.bind_dn.clone(),
        }),
        code => Err(LdapError::BindFailed {
            bind_dn: settings.bind_dn.clone(),
            code,
            result: result.to_string(),
        }),
    }
}

/// The paged search (RFC 2696): one request per page, each carrying the server's
/// cookie from the previous answer, until the cookie comes back empty.
async fn search_all_pages(
    settings: &CheckedSettings,
    ldap: &mut Ldap,
) -> Result<Vec<DirectoryEntry>, LdapError> {
    let mut entries = Vec::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut cookie = Vec::new();
    let mut page: u32 = 0;
    loop {
        page += 1;
        let control = PagedResults {
            size: settings.page_size,
            cookie: cookie.clone(),
        };
        let SearchResult(raw_entries, result) = bounded(
            settings.timeout,
            ldap.with_controls(control).search(
                &settings.base,
                Scope::Subtree,
                &settings.filter,
                &settings.attrs,
            ),
        )
        .await
        .ok_or_else(|| settings.timed_out(format!("search page {page}")))?
        .map_err(|e| match e {
            ldap3::LdapError::FilterParsing => LdapError::InvalidFilter {
                filter: settings.filter.clone(),
            },
            other => settings.lost(format!("search page {page}"), other),
        })?;
        if result.rc != RC_SUCCESS {
            return Err(LdapError::SearchRefused {
                base: settings.base.clone(),
                page,
                code: result.rc,
                result: result.to_string(),
            });
        }
        let page_had_entries = !raw_entries.is_empty();
        for raw in raw_entries {
            // Continuation references point into other naming contexts (AD's
            // DomainDnsZones…); they are not followed.
            if raw.is_ref() || raw.is_intermediate() {
                continue;
            }
            let entry = map_entry(settings, raw)?;
            let key = entry.id.to_lowercase();
            // IDs compare case-insensitively, as sAMAccountName and uid do.
            if let Some(&first) = seen_ids.get(&key) {
                let first: &DirectoryEntry = &entries[first];
                return Err(LdapError::DuplicateId {
                    id: entry.id,
                    first_dn: first.dn.clone(),
                    second_dn: entry.dn,
                });
            }
            seen_ids.insert(key, entries.len());
            entries.push(entry);
        }
        let page_error = |reason: String| LdapError::Page {
            base: settings.base.clone(),
            page,
            reason,
        };
        let next = match paged_cookie(&result.ctrls) {
            Some(Ok(next)) => next,
            Some(Err(reason)) => return Err(page_error(reason)),
            // No control on the first answer: the server did not page but answered
            // the whole search successfully.
            None if page == 1 => Vec::new(),
            None => {
                return Err(page_error(
                    "the answer lacks the paged-results control".into(),
                ))
            }
        };
        if next.is_empty() {
            return Ok(entries);
        }
        if !page_had_entries && next == cookie {
            return Err(page_error(
                "the server repeated its cookie without progress".into(),
            ));
        }
        cookie = next;
    }
}

/// The cookie of the paged-results control among `ctrls`, if there is one.
/// Parsed here because ldap3's parser panics on a malformed value.
fn paged_cookie(ctrls: &[Control]) -> Option<Result<Vec<u8>, String>> {
    let raw = ctrls
        .iter()
        .map(|Control(_, raw)| raw)
        .find(|raw| raw.ctype == PAGED_RESULTS_OID)?;
    let malformed = || "malformed paged-results control".to_string();
    let cookie = raw
        .val
        .as_deref()
        .and_then(|val| parse_tag(val).ok())
        .and_then(|(_, tag)| tag.expect_constructed())
        .and_then(|parts| parts.into_iter().nth(1))
        .and_then(StructureTag::expect_primitive)
        .ok_or_else(malformed);
    Some(cookie)
}
