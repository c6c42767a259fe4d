//! The SAML IdP's signing keys, sealed under the master key (like the OIDC keys and
//! the CA key). The certificate of a retired key stays published in the metadata
//! until an administrator drops it, so SPs can move to the new one first.

use sqlx::{any::AnyRow, Row};

use super::{Store, StoreError};

/// A signing key as stored.
#[derive(Clone, Debug)]
pub struct StoredSamlKey {
    pub kid: String,
    pub active: bool,
    pub key_sealed: Vec<u8>,
    /// DER.
    pub certificate: Vec<u8>,
    pub retired_at: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str = "kid, active, key_sealed, certificate, retired_at, created_at";

fn from_row(r: &AnyRow) -> StoredSamlKey {
    StoredSamlKey {
        kid: r.get(0),
        active: r.get::<Option<String>, _>(1).is_some(),
        key_sealed: r.get(2),
        certificate: r.get(3),
        retired_at: r.get(4),
        created_at: r.get(5),
    }
}

async fn insert_in<'e, E>(exec: E, key: &StoredSamlKey) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "INSERT INTO saml_keys ({COLUMNS}) VALUES ($1, 'signing', $2, $3, NULL, $4)"
    ))
    .bind(&key.kid)
    .bind(&key.key_sealed)
    .bind(&key.certificate)
    .bind(key.created_at)
    .execute(exec)
    .await?;
    Ok(())
}

impl Store {
    /// Every key kept: the one that signs first, then retired ones, newest first.
    pub async fn saml_keys(&self) -> Result<Vec<StoredSamlKey>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM saml_keys \
             ORDER BY CASE WHEN active IS NULL THEN 1 ELSE 0 END, created_at DESC, kid"
        ))
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// Stores the first signing key; `Conflict` when another server stored one first.
    pub async fn insert_saml_key(&self, key: &StoredSamlKey) -> Result<(), StoreError> {
        insert_in(self.writer(), key).await
    }

    /// Retires the signing key and stores its successor, in one transaction.
    pub async fn rotate_saml_key(
        &self,
        successor: &StoredSamlKey,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("UPDATE saml_keys SET active = NULL, retired_at = $1 WHERE active IS NOT NULL")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        insert_in(&mut *tx, successor).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the retired keys (their certificates leave the metadata); how many.
    pub async fn drop_retired_saml_keys(&self) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM saml_keys WHERE active IS NULL")
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
