//! Issuing a client certificate (SPEC §2.2–2.5): the profile from the holder's
//! settings (their policy: key type, validity, how many valid certificates they may
//! hold), minting by the CA, the record, and one audit entry — success and failure
//! alike. Every way in (the portal, the command line, mailed and printed links, bulk
//! jobs) issues through here.

use zeroize::Zeroizing;

use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    ca::{
        client_cert::{ClientProfile, IssuedCertificate, IssuedWithKey},
        pkcs12::{self, new_password, P12Encoding},
        CaError,
    },
    instance::Instance,
    policy::AuthSettings,
    store::users::User,
};

/// Who asks, and the action the audit log files the issuance under.
#[derive(Clone, Copy, Debug)]
pub struct Requester<'a> {
    pub actor: &'a str,
    pub source: &'a str,
    pub action: Action,
}

impl Requester<'_> {
    /// The command line's requests.
    pub fn cli(action: Action) -> Requester<'static> {
        Requester {
            actor: "cli",
            source: "local",
            action,
        }
    }
}

/// Whom a certificate names.
#[derive(Clone, Copy, Debug)]
pub enum Holder<'a> {
    /// A user's own certificate.
    User(&'a User),
    /// A shared-terminal certificate (SPEC §2.5) of this profile.
    Shared(&'a str),
}

impl Holder<'_> {
    fn profile<'a>(&'a self, settings: &AuthSettings) -> ClientProfile<'a> {
        match self {
            Holder::User(user) => settings.client_profile(user),
            Holder::Shared(name) => ClientProfile {
                user_id: name,
                shared: true,
                email: None,
                validity_days: settings.certificate_validity_days,
                max_valid: settings.max_certificates_per_user,
                key: settings.certificate_key,
            },
        }
    }

    /// The audit log's target.
    fn target(&self) -> String {
        match self {
            Holder::User(user) => user.id.clone(),
            Holder::Shared(name) => format!("shared:{name}"),
        }
    }
}

async fn audited<T>(
    instance: &Instance,
    requester: Requester<'_>,
    holder: Holder<'_>,
    result: &Result<T, CaError>,
    success: impl FnOnce(&T) -> String,
    now: i64,
) {
    let reason = match result {
        Ok(issued) => success(issued),
        Err(err) => err.to_string(),
    };
    let target = holder.target();
    let event = AuditEvent {
        actor: requester.actor,
        source: requester.source,
        action: requester.action,
        target: &target,
        outcome: Outcome::of(result),
        reason: &reason,
    };
    record(&instance.store, event, now).await;
}

/// Issues a certificate for the key of a PKCS#10 request (PEM or DER): the key never
/// leaves the device.
pub async fn issue_from_csr(
    instance: &Instance,
    settings: &AuthSettings,
    user: &User,
    csr: &[u8],
    requester: Requester<'_>,
    now: i64,
) -> Result<IssuedCertificate, CaError> {
    let holder = Holder::User(user);
    let result = instance
        .ca
        .issue_client_certificate_from_csr(&instance.store, csr, &holder.profile(settings), now)
        .await;
    audited(
        instance,
        requester,
        holder,
        &result,
        |c| format!("serial {}", c.record.serial),
        now,
    )
    .await;
    result
}

/// Issues a certificate for a key made here; the caller delivers the key (a pickup
/// that waits for its downloads) or packs it.
pub async fn issue_with_key(
    instance: &Instance,
    settings: &AuthSettings,
    holder: Holder<'_>,
    requester: Requester<'_>,
    now: i64,
) -> Result<IssuedWithKey, CaError> {
    let result = instance
        .ca
        .issue_client_certificate_with_key(&instance.store, &holder.profile(settings), now)
        .await;
    audited(
        instance,
        requester,
        holder,
        &result,
        |c| format!("serial {}", c.issued.record.serial),
        now,
    )
    .await;
    result
}

/// A certificate packed with its key as PKCS#12 under a fresh password.
pub struct IssuedPkcs12 {
    pub serial: String,
    pub not_after: i64,
    pub file: Zeroizing<Vec<u8>>,
    /// Shown once, never stored.
    pub password: Zeroizing<String>,
    pub encoding: P12Encoding,
}

/// Issues a certificate and packs it as PKCS#12 (`friendly_name` inside the file);
/// `encoding` overrides the settings' default. A certificate whose file cannot be
/// made is withdrawn again, so nobody holds a valid certificate whose key is lost.
pub async fn issue_pkcs12(
    instance: &Instance,
    settings: &AuthSettings,
    holder: Holder<'_>,
    friendly_name: &str,
    encoding: Option<P12Encoding>,
    requester: Requester<'_>,
    now: i64,
) -> Result<IssuedPkcs12, CaError> {
    let encoding = encoding.unwrap_or(settings.p12_encoding);
    let result = async {
        let made = instance
            .ca
            .issue_client_certificate_with_key(&instance.store, &holder.profile(settings), now)
            .await?;
        let serial = made.issued.record.serial.clone();
        let packed = new_password().and_then(|password| {
            pkcs12::build(
                &made.key_der,
                &made.cert_der,
                instance.ca.cert_der(),
                friendly_name,
                &password,
                encoding,
            )
            .map(|file| (file, password))
        });
        match packed {
            Ok((file, password)) => Ok(IssuedPkcs12 {
                serial,
                not_after: made.issued.record.not_after,
                file: Zeroizing::new(file),
                password,
                encoding,
            }),
            Err(err) => {
                if let Err(undo) = instance.store.delete_undelivered_certificate(&serial).await {
                    tracing::error!(error = %undo, serial, "withdrawing an unpacked certificate failed");
                }
                Err(err)
            }
        }
    }
    .await;
    audited(
        instance,
        requester,
        holder,
        &result,
        |p| format!("serial {}, {}", p.serial, p.encoding.name()),
        now,
    )
    .await;
    result
}
