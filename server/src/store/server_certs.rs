//! The TLS server certificate issued by the CA, keyed by the set of names it covers.

use sqlx::Row;

use super::{Store, StoreError};

pub struct StoredServerCert {
    pub cert_pem: String,
    pub key_sealed: Vec<u8>,
    pub not_after: i64,
}

impl Store {
    pub async fn server_certificate(
        &self,
        names: &str,
    ) -> Result<Option<StoredServerCert>, StoreError> {
        let row = sqlx::query(
            "SELECT cert_pem, key_sealed, not_after FROM server_certificates WHERE names = $1",
        )
        .bind(names)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| StoredServerCert {
            cert_pem: r.get(0),
            key_sealed: r.get(1),
            not_after: r.get(2),
        }))
    }

    pub async fn put_server_certificate(
        &self,
        names: &str,
        cert: &StoredServerCert,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO server_certificates (names, cert_pem, key_sealed, not_after, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (names) DO UPDATE SET \
             cert_pem = excluded.cert_pem, key_sealed = excluded.key_sealed, \
             not_after = excluded.not_after, created_at = excluded.created_at",
        )
        .bind(names)
        .bind(&cert.cert_pem)
        .bind(&cert.key_sealed)
        .bind(cert.not_after)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
