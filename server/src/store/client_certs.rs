//! Client certificates issued by the CA.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

/// A client certificate as recorded at issuance.
#[derive(Clone, Debug, Serialize)]
pub struct ClientCertRecord {
    pub serial: String,
    pub user_id: String,
    pub subject: String,
    pub fingerprint_sha256: String,
    pub not_before: i64,
    pub not_after: i64,
    pub revoked_at: Option<i64>,
}

impl Store {
    pub async fn insert_client_certificate(
        &self,
        record: &ClientCertRecord,
        cert_pem: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_certificates (serial, user_id, subject, cert_pem, fingerprint_sha256, \
             not_before, not_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&record.serial)
        .bind(&record.user_id)
        .bind(&record.subject)
        .bind(cert_pem)
        .bind(&record.fingerprint_sha256)
        .bind(record.not_before)
        .bind(record.not_after)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The record of the certificate with this serial (lower-case hex), if passgrid issued it.
    pub async fn client_certificate(
        &self,
        serial: &str,
    ) -> Result<Option<ClientCertRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT serial, user_id, subject, fingerprint_sha256, not_before, not_after, revoked_at \
             FROM client_certificates WHERE serial = $1",
        )
        .bind(serial)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| ClientCertRecord {
            serial: r.get(0),
            user_id: r.get(1),
            subject: r.get(2),
            fingerprint_sha256: r.get(3),
            not_before: r.get(4),
            not_after: r.get(5),
            revoked_at: r.get(6),
        }))
    }
}
