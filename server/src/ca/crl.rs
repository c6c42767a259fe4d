//! The certificate revocation list (SPEC §2.1, §2.7): regenerated on every revocation
//! and before it expires, kept in the database so every server of a cluster serves
//! the same one, with a CRL number that only grows.

use rcgen::{
    CertificateRevocationListParams, KeyIdMethod, RevocationReason, RevokedCertParams, SerialNumber,
};

use super::{at, CaError, CertificateAuthority};
use crate::store::{client_certs::StoredCrl, Store};

/// How long a CRL is valid (its nextUpdate).
pub const CRL_VALIDITY_SECS: i64 = 7 * 24 * 3600;
/// A CRL with less than this left is replaced when next asked for (and by the
/// server's hourly check).
pub const CRL_REFRESH_BEFORE_SECS: i64 = 2 * 24 * 3600;

/// Revocation reasons an administrator may give (RFC 5280 §5.3.1). `certificateHold`
/// is left out: passgrid never un-revokes.
pub const REASONS: [&str; 6] = [
    "unspecified",
    "key-compromise",
    "affiliation-changed",
    "superseded",
    "cessation-of-operation",
    "privilege-withdrawn",
];

fn reason_code(reason: &str) -> Option<RevocationReason> {
    match reason {
        "key-compromise" => Some(RevocationReason::KeyCompromise),
        "affiliation-changed" => Some(RevocationReason::AffiliationChanged),
        "superseded" => Some(RevocationReason::Superseded),
        "cessation-of-operation" => Some(RevocationReason::CessationOfOperation),
        "privilege-withdrawn" => Some(RevocationReason::PrivilegeWithdrawn),
        // RFC 5280: the reason code extension should be absent rather than say
        // "unspecified".
        _ => None,
    }
}

/// A reason as typed by an administrator, checked against [`REASONS`].
pub fn parse_reason(reason: Option<&str>) -> Result<&'static str, CaError> {
    let wanted = reason.unwrap_or("unspecified");
    REASONS
        .iter()
        .find(|r| **r == wanted)
        .copied()
        .ok_or_else(|| {
            CaError::BadRequest(format!(
                "unknown revocation reason {wanted:?} (one of: {})",
                REASONS.join(", ")
            ))
        })
}

/// A serial as people type it (`AB:CD…`, `abcd…`, `0xabcd…`) in the stored form:
/// lower-case hex, no separators.
pub fn normalize_serial(typed: &str) -> Result<String, CaError> {
    let trimmed = typed.trim();
    let hex: String = trimmed
        .strip_prefix("0x")
        .unwrap_or(trimmed)
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    // RFC 5280 serials are at most 20 octets.
    if hex.is_empty() || hex.len() > 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CaError::BadRequest(format!(
            "{typed:?} is not a certificate serial (hexadecimal, at most 20 bytes)"
        )));
    }
    Ok(hex)
}

impl CertificateAuthority {
    /// Revokes a certificate and publishes a new CRL at once. Logins check the
    /// database, so the revocation holds from the next request on (SPEC §2.7).
    pub async fn revoke(
        &self,
        store: &Store,
        serial: &str,
        reason: &str,
        now: i64,
    ) -> Result<crate::store::client_certs::ClientCertRecord, CaError> {
        let record = store
            .client_certificate(serial)
            .await?
            .ok_or_else(|| CaError::UnknownCertificate(serial.to_string()))?;
        if !store.revoke_client_certificate(serial, reason, now).await? {
            return Err(CaError::AlreadyRevoked(serial.to_string()));
        }
        self.publish_crl(store, now).await?;
        Ok(crate::store::client_certs::ClientCertRecord {
            revoked_at: Some(now),
            ..record
        })
    }

    /// The CRL to serve now: the stored one, or a new one when none is stored or the
    /// stored one is close to its nextUpdate.
    pub async fn crl(&self, store: &Store, now: i64) -> Result<StoredCrl, CaError> {
        match store.current_crl().await? {
            Some(crl) if crl.next_update - now > CRL_REFRESH_BEFORE_SECS => Ok(crl),
            _ => self.publish_crl(store, now).await,
        }
    }

    /// Signs and stores a new CRL with every revoked, unexpired certificate.
    pub async fn publish_crl(&self, store: &Store, now: i64) -> Result<StoredCrl, CaError> {
        // Two servers publishing at once compute the same number; the loser reads
        // again and publishes the next one, so no revocation is left out.
        for _ in 0..5 {
            let number = store.current_crl().await?.map_or(1, |c| c.crl_number + 1);
            let crl = self.sign_crl(store, number, now).await?;
            if store.store_crl(&crl).await? {
                return Ok(crl);
            }
        }
        Err(CaError::Corrupt(
            "could not store a new CRL after 5 attempts".into(),
        ))
    }

    async fn sign_crl(&self, store: &Store, number: i64, now: i64) -> Result<StoredCrl, CaError> {
        let revoked = store
            .revoked_unexpired(now)
            .await?
            .into_iter()
            .map(|entry| {
                let serial = hex::decode(&entry.serial).map_err(|_| {
                    CaError::Corrupt(format!("stored serial {:?} is not hex", entry.serial))
                })?;
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&serial),
                    revocation_time: at(entry.revoked_at)?,
                    reason_code: entry.reason.as_deref().and_then(reason_code),
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>, CaError>>()?;
        let params = CertificateRevocationListParams {
            this_update: at(now)?,
            next_update: at(now + CRL_VALIDITY_SECS)?,
            crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs: revoked,
            // The authority key identifier must equal the CA's subject key identifier,
            // whatever method made it (an imported CA may use another).
            key_identifier_method: match self.subject_key_id() {
                Some(ski) => KeyIdMethod::PreSpecified(ski),
                None => KeyIdMethod::Sha256,
            },
        };
        let signed = params.signed_by(&self.issuer()?)?;
        Ok(StoredCrl {
            crl_number: number,
            der: signed.der().to_vec(),
            this_update: now,
            next_update: now + CRL_VALIDITY_SECS,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_accepted_as_people_type_them() {
        assert_eq!(normalize_serial("AB:cd:01").ok().as_deref(), Some("abcd01"));
        assert_eq!(normalize_serial(" 0x4F2a ").ok().as_deref(), Some("4f2a"));
        assert!(normalize_serial("").is_err());
        assert!(normalize_serial("xyz").is_err());
        assert!(normalize_serial(&"a".repeat(41)).is_err());
    }

    #[test]
    fn reasons_are_checked_and_unspecified_has_no_code() {
        assert_eq!(parse_reason(None).ok(), Some("unspecified"));
        assert_eq!(
            parse_reason(Some("key-compromise")).ok(),
            Some("key-compromise")
        );
        assert!(parse_reason(Some("bored")).is_err());
        assert!(parse_reason(Some("certificate-hold")).is_err());
        assert!(reason_code("unspecified").is_none());
        assert_eq!(
            reason_code("superseded"),
            Some(RevocationReason::Superseded)
        );
    }
}
