//! ID-token signing keys, sealed under the master key (like the CA key).

use sqlx::{any::AnyRow, Row};

use super::{Store, StoreError};

/// A signing key as stored.
#[derive(Clone, Debug)]
pub struct StoredSigningKey {
    pub kid: String,
    pub alg: String,
    pub active: bool,
    pub key_sealed: Vec<u8>,
    pub public_jwk: String,
    pub retired_at: Option<i64>,
    pub created_at: i64,
}

fn from_row(r: &AnyRow) -> StoredSigningKey {
    StoredSigningKey {
        kid: r.get(0),
        alg: r.get(1),
        active: r.get::<Option<String>, _>(2).is_some(),
        key_sealed: r.get(3),
        public_jwk: r.get(4),
        retired_at: r.get(5),
        created_at: r.get(6),
    }
}

const COLUMNS: &str = "kid, alg, active_alg, key_sealed, public_jwk, retired_at, created_at";

impl Store {
    /// Keys in use, and retired keys retired after `retired_after` (still published).
    pub async fn oidc_keys(&self, retired_after: i64) -> Result<Vec<StoredSigningKey>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM oidc_keys WHERE retired_at IS NULL OR retired_at > $1 \
             ORDER BY created_at DESC, kid"
        ))
        .bind(retired_after)
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// Stores a new signing key for its alg; `Conflict` when another server stored one
    /// first (the caller then uses that one).
    pub async fn insert_oidc_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO oidc_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, $6)"
        ))
        .bind(&key.kid)
        .bind(&key.alg)
        .bind(&key.alg)
        .bind(&key.key_sealed)
        .bind(&key.public_jwk)
        .bind(key.created_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Retires the signing keys in use and stores their successors, in one transaction.
    pub async fn rotate_oidc_keys(
        &self,
        successors: &[StoredSigningKey],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "UPDATE oidc_keys SET active_alg = NULL, retired_at = $1 WHERE active_alg IS NOT NULL",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for key in successors {
            sqlx::query(&format!(
                "INSERT INTO oidc_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, $6)"
            ))
            .bind(&key.kid)
            .bind(&key.alg)
            .bind(&key.alg)
            .bind(&key.key_sealed)
            .bind(&key.public_jwk)
            .bind(key.created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
