//! Administrator API tokens: stored by SHA-256, with a public prefix to name them.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

/// A token as listed (never the token itself).
#[derive(Clone, Debug, Serialize)]
pub struct AdminTokenInfo {
    pub prefix: String,
    pub admin_id: String,
    pub name: String,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
}

/// Who a presented token belongs to, with the administrator's current role.
#[derive(Clone, Debug)]
pub struct TokenHolder {
    pub admin_id: String,
    pub role: String,
    pub prefix: String,
}

impl Store {
    pub async fn create_admin_token(
        &self,
        token_hash: &[u8],
        prefix: &str,
        admin_id: &str,
        name: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_tokens (token_hash, prefix, admin_id, name, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(prefix)
        .bind(admin_id)
        .bind(name)
        .bind(expires_at)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The active administrator behind an unexpired token, if any.
    pub async fn admin_token_holder(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<TokenHolder>, StoreError> {
        let row = sqlx::query(
            "SELECT t.admin_id, u.admin_role, t.prefix FROM admin_tokens t \
             JOIN users u ON u.id = t.admin_id \
             WHERE t.token_hash = $1 AND t.expires_at > $2 \
             AND u.admin_role IS NOT NULL AND u.status = 'active'",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| TokenHolder {
            admin_id: r.get(0),
            role: r.get(1),
            prefix: r.get(2),
        }))
    }

    pub async fn admin_tokens(&self) -> Result<Vec<AdminTokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT prefix, admin_id, name, expires_at, last_used_at, created_at \
             FROM admin_tokens ORDER BY created_at, prefix",
        )
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| AdminTokenInfo {
                prefix: r.get(0),
                admin_id: r.get(1),
                name: r.get(2),
                expires_at: r.get(3),
                last_used_at: r.get(4),
                created_at: r.get(5),
            })
            .collect())
    }

    /// Revokes (deletes) a token by its prefix; whether there was one.
    pub async fn revoke_admin_token(&self, prefix: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM admin_tokens WHERE prefix = $1")
            .bind(prefix)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
