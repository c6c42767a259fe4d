//! Handing a new certificate to the device in front of its user (SPEC §2.3, §5.2):
//! the CA issues a key and a certificate, both wait sealed under the master key with
//! the certificate password, behind a one-time token bound to the signed-in user.
//! The page shows the password; the first download builds the PKCS#12 and deletes
//! the row, and with it the only copy of the key.

use zeroize::Zeroizing;

use crate::{
    ca::{
        mobileconfig,
        pkcs12::{self, new_password, P12Encoding},
        CaError,
    },
    instance::Instance,
    issuance::{issue_with_key, Holder, Requester},
    notices::{self, Notice},
    otp::patterns::open_pattern,
    policy::AuthSettings,
    random::{new_token, token_hash},
    store::{
        pickups::{Access, StoredPickup},
        users::User,
        StoreError,
    },
};

/// How long a prepared certificate waits for its download.
pub const PICKUP_TTL_SECS: i64 = 30 * 60;

fn key_purpose(serial: &str) -> String {
    format!("pickup-key:{serial}")
}

fn password_purpose(serial: &str) -> String {
    format!("pickup-password:{serial}")
}

/// What the download page shows.
pub struct PickupView {
    pub user_id: String,
    pub serial: String,
    pub password: Zeroizing<String>,
    pub expires_at: i64,
}

/// The form a download takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pkcs12(P12Encoding),
    /// An iOS/iPadOS configuration profile holding a legacy-encoded PKCS#12.
    IosProfile,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pkcs12(e) => e.name(),
            Format::IosProfile => "mobileconfig",
        }
    }
}

/// The file of a download.
pub struct Delivered {
    pub user_id: String,
    pub serial: String,
    pub file: Vec<u8>,
    pub file_name: String,
    pub content_type: &'static str,
}

/// Removes pickups nobody downloaded in time and revokes their certificates (the key
/// is gone, so the certificate is dead weight that would block the next auto-issue).
pub async fn expire_pickups(instance: &Instance, now: i64) -> Result<usize, CaError> {
    let serials = instance.store.purge_pickups(now).await?;
    for serial in &serials {
        instance
            .store
            .revoke_client_certificate(serial, "cessation-of-operation", now)
            .await?;
    }
    if !serials.is_empty() {
        instance.ca.publish_crl(&instance.store, now).await?;
    }
    Ok(serials.len())
}

/// Whether the user holds no valid (unrevoked, unexpired) certificate: the case for
/// auto-issue at first login.
pub async fn has_no_certificate(
    instance: &Instance,
    user_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(instance
        .store
        .valid_certificate_count(user_id, false, now)
        .await?
        == 0)
}

/// How a prepared certificate will be collected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collect {
    /// On the download page of the signed-in user, for `PICKUP_TTL_SECS`.
    SignedIn,
    /// Through a one-time link (mail, print-out), for `LINK_TTL_SECS`.
    Link,
}

/// How long a mailed or printed one-time link stays valid.
pub const LINK_TTL_SECS: i64 = 72 * 3600;

/// Issues a certificate for `user` (audited as `requester` asks) and leaves it for its
/// downloads; returns the token.
pub async fn prepare(
    instance: &Instance,
    user: &User,
    settings: &AuthSettings,
    collect: Collect,
    requester: Requester<'_>,
    now: i64,
) -> Result<Prepared, CaError> {
    let made = issue_with_key(instance, settings, Holder::User(user), requester, now).await?;
    let serial = made.issued.record.serial;
    let password = new_password()?;
    let token = new_token().map_err(|_| CaError::Random)?;
    let key = &instance.master_key;
    let stored = StoredPickup {
        user_id: user.id.clone(),
        serial: serial.clone(),
        key_sealed: key.seal(&made.key_der, &key_purpose(&serial))?,
        cert_der: made.cert_der,
        password_sealed: key.seal(password.as_bytes(), &password_purpose(&serial))?,
        expires_at: now
            + match collect {
                Collect::SignedIn => PICKUP_TTL_SECS,
                Collect::Link => LINK_TTL_SECS,
            },
        downloads_left: i64::from(settings.max_downloads_per_certificate),
        by_link: collect == Collect::Link,
    };
    instance
        .store
        .insert_pickup(&token_hash(&token), &stored, now)
        .await?;
    Ok(Prepared {
        token,
        serial,
        expires_at: stored.expires_at,
        password,
    })
}

/// A certificate waiting for its downloads.
pub struct Prepared {
    pub token: Zeroizing<String>,
    pub serial: String,
    pub expires_at: i64,
    /// For a printed notice; the download page shows it from its sealed copy.
    pub password: Zeroizing<String>,
}

/// The page's view of a waiting pickup, if the token is alive and reached as it may be.
pub async fn view(
    instance: &Instance,
    token: &str,
    access: Access<'_>,
    now: i64,
) -> Result<Option<PickupView>, CaError> {
    let Some(p) = instance
        .store
        .pickup(&token_hash(token), access, now)
        .await?
    else {
        return Ok(None);
    };
    if !still_valid(instance, &p.serial, now).await? {
        return Ok(None);
    }
    let password = open_password(instance, &p)?;
    Ok(Some(PickupView {
        user_id: p.user_id,
        serial: p.serial,
        password,
        expires_at: p.expires_at,
    }))
}

/// The one download: builds the PKCS#12 in the asked encoding and forgets the key.
pub async fn take(
    instance: &Instance,
    token: &str,
    access: Access<'_>,
    format: Format,
    now: i64,
) -> Result<Option<Delivered>, CaError> {
    let Some(p) = instance
        .store
        .take_pickup(&token_hash(token), access, now)
        .await?
    else {
        return Ok(None);
    };
    // Revoked (or expired) while it waited: nothing to hand out, and the key goes.
    if !still_valid(instance, &p.serial, now).await? {
        instance.store.delete_pickup(&token_hash(token)).await?;
        return Ok(None);
    }
    let password = open_password(instance, &p)?;
    let key = instance
        .master_key
        .open(&p.key_sealed, &key_purpose(&p.serial))?;
    let encoding = match format {
        Format::Pkcs12(e) => e,
        Format::IosProfile => P12Encoding::Legacy,
    };
    let p12 = pkcs12::build(
        &key,
        &p.cert_der,
        instance.ca.cert_der(),
        &p.user_id,
        &password,
        encoding,
    )?;
    let name = file_safe(&p.user_id);
    let (file, file_name, content_type) = match format {
        Format::Pkcs12(P12Encoding::Modern) => {
            (p12, format!("passgrid-{name}.p12"), "application/x-pkcs12")
        }
        Format::Pkcs12(P12Encoding::Legacy) => (
            p12,
            format!("passgrid-{name}-legacy.p12"),
            "application/x-pkcs12",
        ),
        Format::IosProfile => (
            mobileconfig::profile(&p12, &p.user_id, &p.serial)?.into_bytes(),
            format!("passgrid-{name}.mobileconfig"),
            "application/x-apple-aspen-config",
        ),
    };
    Ok(Some(Delivered {
        user_id: p.user_id,
        file_name,
        serial: p.serial,
        file,
        content_type,
    }))
}

async fn still_valid(instance: &Instance, serial: &str, now: i64) -> Result<bool, CaError> {
    Ok(instance
        .store
        .client_certificate(serial)
        .await?
        .is_some_and(|c| c.revoked_at.is_none() && c.not_after > now))
}

fn open_password(instance: &Instance, p: &StoredPickup) -> Result<Zeroizing<String>, CaError> {
    let bytes = instance
        .master_key
        .open(&p.password_sealed, &password_purpose(&p.serial))?;
    String::from_utf8(bytes.to_vec())
        .map(Zeroizing::new)
        .map_err(|_| CaError::Corrupt("sealed certificate password is not text".into()))
}

/// A user ID as a file-name part: letters, digits, `-`, `_`, `.` kept, the rest `_`.
pub(crate) fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One user's first-login notice: a certificate behind a one-time link, and the
/// initial pattern while the user still has it. Returns the notice and the serial.
pub async fn notice_for(
    instance: &Instance,
    user: &User,
    settings: &AuthSettings,
    public: &str,
    requester: Requester<'_>,
    now: i64,
) -> Result<(Notice, String), CaError> {
    let pattern = match instance.store.pattern(&user.id).await? {
        Some(p) if p.is_initial => Some(
            open_pattern(&instance.master_key, &user.id, &p.sealed)
                .map_err(|e| CaError::Corrupt(e.to_string()))?
                .to_vec(),
        ),
        _ => None,
    };
    let prepared = prepare(instance, user, settings, Collect::Link, requester, now).await?;
    Ok((
        Notice {
            user_id: user.id.clone(),
            display_name: user.display_name.clone(),
            login_url: format!("{public}/login"),
            link: format!("{public}/certificate?t={}", prepared.token.as_str()),
            link_valid_until: notices::rfc3339(prepared.expires_at),
            password: prepared.password.to_string(),
            pattern,
        },
        prepared.serial,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_keep_only_harmless_characters() {
        assert_eq!(super::file_safe("alice.b-c_d"), "alice.b-c_d");
        assert_eq!(super::file_safe("a/b\\c\"d é"), "a_b_c_d__");
    }
}
