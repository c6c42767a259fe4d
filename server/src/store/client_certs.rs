//! Client certificates issued by the CA.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

/// A client certificate as recorded at issuance.
#[derive(Clone, Debug, Serialize)]
pub struct ClientCertRecord {
    pub serial: String,
    /// The user it was issued to; `None` for a shared-terminal certificate.
    pub user_id: Option<String>,
    /// The shared-terminal profile it was issued for (SPEC §2.5).
    pub shared_profile: Option<String>,
    pub subject: String,
    pub fingerprint_sha256: String,
    pub not_before: i64,
    pub not_after: i64,
    pub revoked_at: Option<i64>,
}

/// A revoked certificate as the CRL lists it.
pub struct RevokedEntry {
    pub serial: String,
    pub revoked_at: i64,
    pub reason: Option<String>,
}

/// The stored CRL.
pub struct StoredCrl {
    pub crl_number: i64,
    pub der: Vec<u8>,
    pub this_update: i64,
    pub next_update: i64,
}

const RECORD_COLUMNS: &str = "serial, user_id, subject, fingerprint_sha256, not_before, \
     not_after, revoked_at, shared_profile";

fn record(r: &sqlx::any::AnyRow) -> ClientCertRecord {
    ClientCertRecord {
        serial: r.get(0),
        user_id: r.get(1),
        subject: r.get(2),
        fingerprint_sha256: r.get(3),
        not_before: r.get(4),
        not_after: r.get(5),
        revoked_at: r.get(6),
        shared_profile: r.get(7),
    }
}

impl ClientCertRecord {
    /// Who it belongs to, for people: the user ID, or `shared:PROFILE`.
    pub fn owner(&self) -> String {
        match (&self.user_id, &self.shared_profile) {
            (Some(user), _) => user.clone(),
            (None, Some(profile)) => format!("shared:{profile}"),
            (None, None) => String::new(),
        }
    }
}

impl Store {
    /// Records the certificate unless the user already holds `max_valid` valid ones;
    /// `false` then. Count and insert are one transaction, with the user's row locked
    /// on PostgreSQL (SQLite has one writer), so two issuances at once cannot both
    /// pass the limit.
    pub async fn insert_client_certificate_within(
        &self,
        record: &ClientCertRecord,
        cert_pem: &str,
        max_valid: u32,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer().begin().await?;
        if let (super::Backend::Postgres, Some(user)) = (self.backend(), &record.user_id) {
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        }
        // A user's certificates count against the user's limit, a profile's against
        // the profile's.
        let held: i64 = sqlx::query(
            "SELECT COUNT(*) FROM client_certificates \
             WHERE (user_id = $1 OR shared_profile = $2) AND revoked_at IS NULL AND not_after > $3",
        )
        .bind(&record.user_id)
        .bind(&record.shared_profile)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        if held >= i64::from(max_valid) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO client_certificates (serial, user_id, shared_profile, subject, cert_pem, \
             fingerprint_sha256, not_before, not_after, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&record.serial)
        .bind(&record.user_id)
        .bind(&record.shared_profile)
        .bind(&record.subject)
        .bind(cert_pem)
        .bind(&record.fingerprint_sha256)
        .bind(record.not_before)
        .bind(record.not_after)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes a certificate that was never handed out (its pickup goes with it):
    /// the undo of an issuance whose delivery failed.
    pub async fn delete_undelivered_certificate(&self, serial: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM client_certificates WHERE serial = $1")
            .bind(serial)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// How many valid (unrevoked, unexpired) client certificates exist at all.
    pub async fn valid_certificate_total(&self, now: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM client_certificates WHERE revoked_at IS NULL AND not_after > $1",
        )
        .bind(now)
        .fetch_one(self.reader())
        .await?;
        Ok(row.get(0))
    }

    /// How many valid (unrevoked, unexpired) certificates the user (or, with `shared`,
    /// the shared-terminal profile) holds.
    pub async fn valid_certificate_count(
        &self,
        owner: &str,
        shared: bool,
        now: i64,
    ) -> Result<i64, StoreError> {
        let column = if shared { "shared_profile" } else { "user_id" };
        let row = sqlx::query(&format!(
            "SELECT COUNT(*) FROM client_certificates \
             WHERE {column} = $1 AND revoked_at IS NULL AND not_after > $2"
        ))
        .bind(owner)
        .bind(now)
        .fetch_one(self.reader())
        .await?;
        Ok(row.get(0))
    }

    /// The record of the certificate with this serial (lower-case hex), if passgrid issued it.
    pub async fn client_certificate(
        &self,
        serial: &str,
    ) -> Result<Option<ClientCertRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM client_certificates WHERE serial = $1"
        ))
        .bind(serial)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(record))
    }

    /// Certificates, newest first; of one user when given.
    pub async fn client_certificates(
        &self,
        user_id: Option<&str>,
    ) -> Result<Vec<ClientCertRecord>, StoreError> {
        let rows = match user_id {
            Some(user) => {
                sqlx::query(&format!(
                    "SELECT {RECORD_COLUMNS} FROM client_certificates \
                     WHERE user_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, serial"
                ))
                .bind(user)
                .fetch_all(self.reader())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {RECORD_COLUMNS} FROM client_certificates WHERE deleted_at IS NULL \
                 ORDER BY created_at DESC, serial"
                ))
                .fetch_all(self.reader())
                .await?
            }
        };
        Ok(rows.iter().map(record).collect())
    }

    /// Revokes every valid certificate of a user in one transaction; the serials.
    pub async fn revoke_user_certificates(
        &self,
        user_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.writer().begin().await?;
        let serials = revoke_valid_of_user(&mut tx, user_id, reason, now).await?;
        tx.commit().await?;
        Ok(serials)
    }

    /// Deletes a user's certificates (SPEC §2.9) in one transaction: the valid ones
    /// are revoked first, so they stay on the CRL until they expire; all leave every
    /// list, and keys still waiting for a download are destroyed. Returns the serials.
    pub async fn delete_user_certificates(
        &self,
        user_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.writer().begin().await?;
        let serials: Vec<String> = sqlx::query(
            "SELECT serial FROM client_certificates \
             WHERE user_id = $1 AND deleted_at IS NULL ORDER BY serial",
        )
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        // Expired ones need no revocation: they may leave the CRL anyway.
        revoke_valid_of_user(&mut tx, user_id, reason, now).await?;
        sqlx::query(
            "UPDATE client_certificates SET deleted_at = $2 \
             WHERE user_id = $1 AND deleted_at IS NULL",
        )
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM certificate_pickups WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(serials)
    }

    /// Marks the certificate revoked. `false` when it does not exist or already was.
    pub async fn revoke_client_certificate(
        &self,
        serial: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer().begin().await?;
        let done = sqlx::query(
            "UPDATE client_certificates SET revoked_at = $2, revocation_reason = $3 \
             WHERE serial = $1 AND revoked_at IS NULL",
        )
        .bind(serial)
        .bind(now)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        let revoked = done.rows_affected() == 1;
        if revoked {
            end_sessions_of_certificate(&mut tx, serial).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// Revoked certificates that have not expired yet (expired ones may leave the CRL,
    /// RFC 5280 §3.3).
    pub async fn revoked_unexpired(&self, now: i64) -> Result<Vec<RevokedEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT serial, revoked_at, revocation_reason FROM client_certificates \
             WHERE revoked_at IS NOT NULL AND not_after > $1 ORDER BY revoked_at, serial",
        )
        .bind(now)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| RevokedEntry {
                serial: r.get(0),
                revoked_at: r.get(1),
                reason: r.get(2),
            })
            .collect())
    }

    pub async fn current_crl(&self) -> Result<Option<StoredCrl>, StoreError> {
        let row = sqlx::query(
            "SELECT crl_number, der, this_update, next_update FROM crl_state WHERE id = 1",
        )
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| StoredCrl {
            crl_number: r.get(0),
            der: r.get(1),
            this_update: r.get(2),
            next_update: r.get(3),
        }))
    }

    /// Stores a CRL if its number is higher than the stored one's (two servers
    /// regenerating at once: the higher number wins, the number never goes back).
    pub async fn store_crl(&self, crl: &StoredCrl) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO crl_state (id, crl_number, der, this_update, next_update) \
             VALUES (1, $1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET crl_number = excluded.crl_number, der = excluded.der, \
             this_update = excluded.this_update, next_update = excluded.next_update \
             WHERE crl_state.crl_number < excluded.crl_number",
        )
        .bind(crl.crl_number)
        .bind(&crl.der)
        .bind(crl.this_update)
        .bind(crl.next_update)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// Revokes the valid certificates of `user_id` inside a transaction; their serials.
async fn revoke_valid_of_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    reason: &str,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    const VALID: &str =
        "user_id = $1 AND revoked_at IS NULL AND not_after > $2 AND deleted_at IS NULL";
    let serials: Vec<String> = sqlx::query(&format!(
        "SELECT serial FROM client_certificates WHERE {VALID} ORDER BY serial"
    ))
    .bind(user_id)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    sqlx::query(&format!(
        "UPDATE client_certificates SET revoked_at = $2, revocation_reason = $3 WHERE {VALID}"
    ))
    .bind(user_id)
    .bind(now)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    for serial in &serials {
        end_sessions_of_certificate(tx, serial).await?;
    }
    Ok(serials)
}

/// A revoked certificate's device is signed out at once: its sessions go with it.
async fn end_sessions_of_certificate(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    serial: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM sessions WHERE cert_fingerprint IN \
         (SELECT fingerprint_sha256 FROM client_certificates WHERE serial = $1)",
    )
    .bind(serial)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
