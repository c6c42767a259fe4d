//! Rows of the certificate authority: its certificate and its sealed private key.

use sqlx::Row;

use super::{Store, StoreError};

/// The active CA as stored.
pub struct StoredCa {
    pub cert_pem: String,
    pub key_sealed: Vec<u8>,
}

impl Store {
    /// The CA in use, if one was created.
    pub async fn active_ca(&self) -> Result<Option<StoredCa>, StoreError> {
        let row =
            sqlx::query("SELECT cert_pem, key_sealed FROM ca_certificates WHERE is_active = 1")
                .fetch_optional(self.reader())
                .await?;
        Ok(row.map(|r| StoredCa {
            cert_pem: r.get(0),
            key_sealed: r.get(1),
        }))
    }

    /// Stores a new active CA unless another server stored one first; returns whether
    /// this one was stored (if not, read `active_ca` again and use the winner's).
    pub async fn insert_active_ca(
        &self,
        cert_pem: &str,
        key_sealed: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO ca_certificates (is_active, cert_pem, key_sealed, created_at) \
             VALUES (1, $1, $2, $3) ON CONFLICT (is_active) DO NOTHING",
        )
        .bind(cert_pem)
        .bind(key_sealed)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Retires the active CA and makes this one active, in one transaction; the CRL
    /// of the former CA goes with it (the new one starts its own numbering).
    pub async fn replace_active_ca(
        &self,
        cert_pem: &str,
        key_sealed: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("UPDATE ca_certificates SET is_active = NULL WHERE is_active = 1")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO ca_certificates (is_active, cert_pem, key_sealed, created_at) \
             VALUES (1, $1, $2, $3)",
        )
        .bind(cert_pem)
        .bind(key_sealed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM crl_state")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
