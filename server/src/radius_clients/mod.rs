//! RADIUS clients (NAS devices, SPEC §10.4): adding, listing and removing them, the
//! certificates passgrid's CA issues them for RadSec, and the reply attributes per
//! group — shared by the command line and the administrators' API, every check here.
//! Each NAS is an application (kind `radius`) so the access rules of SPEC §6.3 hold
//! for it ("VPN users must be in group vpn" is `passgrid app set vpn --group vpn`).

pub mod replies;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::{
    ca::{client_cert::ClientProfile, CaError},
    instance::Instance,
    master_key::SealError,
    sso::{
        clients::{check_app_name, update_app, AppRules},
        SsoError,
    },
    store::{
        applications::Application,
        radius_clients::{RadiusClientCertificate, RadiusClientRow},
        Store, StoreError,
    },
};

/// Shortest shared secret accepted: RFC 2865 §3 asks for at least 16 octets, and a
/// short one is guessable offline from any captured Access-Request.
pub const MIN_SECRET_LEN: usize = 16;
/// Longest shared secret accepted (FreeRADIUS and most NAS devices stop at 128).
pub const MAX_SECRET_LEN: usize = 128;
/// Valid certificates one NAS may hold at once (a renewal overlaps the old one).
const MAX_CERTIFICATES_PER_NAS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum RadiusClientError {
    /// An administrator's input that cannot be used; the text says why.
    #[error("{0}")]
    Invalid(String),
    #[error("no RADIUS client named {0:?}")]
    NotFound(String),
    #[error("an application named {0:?} exists already")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Ca(#[from] CaError),
    #[error(transparent)]
    Rules(#[from] SsoError),
}

/// How a NAS secret is sealed under the master key (bound to the NAS's name, so a
/// sealed secret copied to another row does not open).
pub fn secret_purpose(name: &str) -> String {
    format!("radius secret {name}")
}

/// The shared-terminal profile name a NAS certificate is recorded under (its CN).
pub fn certificate_name(name: &str) -> String {
    format!("radius:{name}")
}

/// A NAS as listed: never its secret.
#[derive(Debug, Serialize)]
pub struct RadiusClientView {
    pub name: String,
    pub address: String,
    pub has_secret: bool,
    pub require_message_authenticator: bool,
    pub application: Option<Application>,
    pub certificates: Vec<RadiusClientCertificate>,
    pub created_at: i64,
}

/// What an administrator gives for a new NAS.
pub struct NewRadiusClient<'a> {
    pub name: &'a str,
    /// One address or a CIDR block.
    pub address: &'a str,
    /// The shared secret (UDP); `None` for a NAS that speaks RadSec only.
    pub secret: Option<&'a [u8]>,
    pub require_message_authenticator: bool,
    pub rules: &'a AppRules,
}

fn invalid(text: impl Into<String>) -> RadiusClientError {
    RadiusClientError::Invalid(text.into())
}

/// Checks an address block the way the RADIUS server reads it.
pub fn check_address(address: &str) -> Result<String, RadiusClientError> {
    let address = address.trim();
    address
        .parse::<passgrid_radius::IpNetwork>()
        .map_err(|e| invalid(e.to_string()))?;
    Ok(address.to_string())
}

/// Checks a shared secret: 16 to 128 octets of printable ASCII (what NAS consoles
/// accept), so it can be typed into one.
pub fn check_secret(secret: &[u8]) -> Result<(), RadiusClientError> {
    if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&secret.len())
        || !secret.iter().all(|b| b.is_ascii_graphic())
    {
        return Err(invalid(format!(
            "the shared secret must be {MIN_SECRET_LEN} to {MAX_SECRET_LEN} printable ASCII \
             characters without spaces"
        )));
    }
    Ok(())
}

/// Adds a NAS and its application (with `rules`); the secret is sealed at once.
pub async fn add_client(
    instance: &Instance,
    new: &NewRadiusClient<'_>,
    now: i64,
) -> Result<RadiusClientView, RadiusClientError> {
    check_app_name(new.name)?;
    let address = check_address(new.address)?;
    let secret_sealed = match new.secret {
        Some(secret) => {
            check_secret(secret)?;
            Some(
                instance
                    .master_key
                    .seal(secret, &secret_purpose(new.name))?,
            )
        }
        None => None,
    };
    let app = Application {
        name: new.name.to_string(),
        kind: "radius".into(),
        description: String::new(),
        allowed_groups: vec![],
        allowed_networks: vec![],
        allowed_hours: vec![],
        time_zone: "UTC".into(),
        require_certificate: false,
        max_auth_age_secs: None,
        domain: None,
        created_at: now,
        updated_at: now,
    };
    let row = RadiusClientRow {
        name: new.name.to_string(),
        address,
        secret_sealed,
        require_message_authenticator: new.require_message_authenticator,
        created_at: now,
        updated_at: now,
    };
    match instance.store.insert_radius_client(&app, &row).await {
        Err(StoreError::Conflict) => return Err(RadiusClientError::Exists(new.name.into())),
        other => other?,
    }
    if has_rules(new.rules) {
        if let Err(e) = update_app(&instance.store, new.name, new.rules, now).await {
            // All or nothing: a NAS whose rules were refused is not left behind open.
            instance.store.delete_application(new.name).await?;
            return Err(e.into());
        }
    }
    client(&instance.store, new.name).await
}

fn has_rules(r: &AppRules) -> bool {
    r.description.is_some()
        || r.allowed_groups.is_some()
        || r.allowed_networks.is_some()
        || r.allowed_hours.is_some()
        || r.time_zone.is_some()
        || r.require_certificate.is_some()
}

/// One NAS with its application and certificates.
pub async fn client(store: &Store, name: &str) -> Result<RadiusClientView, RadiusClientError> {
    let row = store
        .radius_client(name)
        .await?
        .ok_or_else(|| RadiusClientError::NotFound(name.into()))?;
    let certificates = store
        .radius_client_certificates()
        .await?
        .into_iter()
        .filter(|c| c.client == name)
        .collect();
    Ok(view(row, store.application(name).await?, certificates))
}

fn view(
    row: RadiusClientRow,
    application: Option<Application>,
    certificates: Vec<RadiusClientCertificate>,
) -> RadiusClientView {
    RadiusClientView {
        has_secret: row.secret_sealed.is_some(),
        name: row.name,
        address: row.address,
        require_message_authenticator: row.require_message_authenticator,
        application,
        certificates,
        created_at: row.created_at,
    }
}

/// Every NAS.
pub async fn clients(store: &Store) -> Result<Vec<RadiusClientView>, RadiusClientError> {
    let certificates = store.radius_client_certificates().await?;
    let mut out = Vec::new();
    for row in store.radius_clients().await? {
        let application = store.application(&row.name).await?;
        let mine = certificates
            .iter()
            .filter(|c| c.client == row.name)
            .cloned()
            .collect();
        out.push(view(row, application, mine));
    }
    Ok(out)
}

/// Removes a NAS: its certificates are revoked first (they must not open RadSec
/// again if the name comes back), then its application and row go.
pub async fn remove_client(
    instance: &Instance,
    name: &str,
    now: i64,
) -> Result<(), RadiusClientError> {
    let store = &instance.store;
    if store.radius_client(name).await?.is_none() {
        return Err(RadiusClientError::NotFound(name.into()));
    }
    for cert in store.radius_client_certificates().await? {
        if cert.client == name && !cert.revoked {
            match instance
                .ca
                .revoke(store, &cert.serial, "cessation-of-operation", now)
                .await
            {
                Ok(_) | Err(CaError::AlreadyRevoked(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    store.delete_application(name).await?;
    Ok(())
}

/// Issues a RadSec certificate for NAS `name` from its CSR (the key stays on the NAS)
/// and records it as that NAS's; returns the record and the certificate in PEM.
pub async fn issue_certificate(
    instance: &Instance,
    name: &str,
    csr: &[u8],
    validity_days: i64,
    now: i64,
) -> Result<(String, Zeroizing<String>), RadiusClientError> {
    let store = &instance.store;
    if store.radius_client(name).await?.is_none() {
        return Err(RadiusClientError::NotFound(name.into()));
    }
    if !(1..=3650).contains(&validity_days) {
        return Err(invalid("validity: 1 to 3650 days"));
    }
    let cn = certificate_name(name);
    let profile = ClientProfile {
        user_id: &cn,
        shared: true,
        email: None,
        validity_days,
        max_valid: MAX_CERTIFICATES_PER_NAS,
        key: Default::default(),
    };
    let issued = instance
        .ca
        .issue_client_certificate_from_csr(store, csr, &profile, now)
        .await?;
    store
        .add_radius_client_certificate(&issued.record.serial, name, now)
        .await?;
    Ok((issued.record.serial, Zeroizing::new(issued.cert_pem)))
}
