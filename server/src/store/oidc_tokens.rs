//! Access and refresh tokens (RFC 6749 §1.4, §1.5), by hash. Refresh tokens rotate:
//! each is used once; a second use revokes the whole family (RFC 9700 §4.14.2).

use sqlx::{any::AnyRow, Row};

use super::{Store, StoreError};

/// A token as stored.
#[derive(Clone, Debug)]
pub struct StoredToken {
    pub kind: String,
    pub family: Vec<u8>,
    pub client_id: String,
    pub user_id: String,
    pub sid: String,
    pub scope: String,
    pub auth_time: i64,
    pub amr: String,
    pub expires_at: i64,
    pub created_at: i64,
}

/// A new token.
pub struct NewToken<'a> {
    pub token_hash: &'a [u8],
    pub kind: &'a str,
    pub family: &'a [u8],
    pub client_id: &'a str,
    pub user_id: &'a str,
    pub sid: &'a str,
    pub scope: &'a str,
    pub auth_time: i64,
    pub amr: &'a str,
    pub expires_at: i64,
}

/// The answer to using a refresh token.
pub enum Rotation {
    Fresh(StoredToken),
    /// Used before: a replay. Its family has been revoked.
    Replayed {
        client_id: String,
        user_id: String,
    },
    /// Unknown, expired or revoked.
    Unknown,
}

const COLUMNS: &str =
    "kind, family, client_id, user_id, sid, scope, auth_time, amr, expires_at, created_at";

fn from_row(r: &AnyRow) -> StoredToken {
    StoredToken {
        kind: r.get(0),
        family: r.get(1),
        client_id: r.get(2),
        user_id: r.get(3),
        sid: r.get(4),
        scope: r.get(5),
        auth_time: r.get(6),
        amr: r.get(7),
        expires_at: r.get(8),
        created_at: r.get(9),
    }
}

impl Store {
    /// Stores tokens in one transaction (an access token and its refresh token).
    pub async fn insert_oidc_tokens(
        &self,
        tokens: &[NewToken<'_>],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        for t in tokens {
            sqlx::query(
                "INSERT INTO oidc_tokens (token_hash, kind, family, client_id, user_id, sid, \
                 scope, auth_time, amr, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(t.token_hash)
            .bind(t.kind)
            .bind(t.family)
            .bind(t.client_id)
            .bind(t.user_id)
            .bind(t.sid)
            .bind(t.scope)
            .bind(t.auth_time)
            .bind(t.amr)
            .bind(t.expires_at)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A live (unexpired, unrevoked) token of `kind`.
    pub async fn live_oidc_token(
        &self,
        token_hash: &[u8],
        kind: &str,
        now: i64,
    ) -> Result<Option<StoredToken>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM oidc_tokens WHERE token_hash = $1 AND kind = $2 \
             AND expires_at > $3 AND revoked_at IS NULL AND used_at IS NULL"
        ))
        .bind(token_hash)
        .bind(kind)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// Uses a refresh token once. A token used before is a replay: its whole family
    /// is revoked in the same call.
    pub async fn rotate_refresh_token(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Rotation, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE oidc_tokens SET used_at = $2 WHERE token_hash = $1 AND kind = 'refresh' \
             AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 RETURNING {COLUMNS}"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.writer())
        .await?;
        if let Some(r) = row {
            return Ok(Rotation::Fresh(from_row(&r)));
        }
        let used = sqlx::query(
            "SELECT family, client_id, user_id FROM oidc_tokens \
             WHERE token_hash = $1 AND kind = 'refresh' AND used_at IS NOT NULL",
        )
        .bind(token_hash)
        .fetch_optional(self.reader())
        .await?;
        let Some(r) = used else {
            return Ok(Rotation::Unknown);
        };
        let family: Vec<u8> = r.get(0);
        self.revoke_oidc_family(&family, now).await?;
        Ok(Rotation::Replayed {
            client_id: r.get(1),
            user_id: r.get(2),
        })
    }

    /// Revokes every token of a family; how many were live.
    pub async fn revoke_oidc_family(&self, family: &[u8], now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE oidc_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL",
        )
        .bind(family)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }

    /// The family of a token of `client_id` (any state), for revocation (RFC 7009).
    pub async fn oidc_token_family(
        &self,
        token_hash: &[u8],
        client_id: &str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let row = sqlx::query(
            "SELECT kind, family FROM oidc_tokens WHERE token_hash = $1 AND client_id = $2",
        )
        .bind(token_hash)
        .bind(client_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Revokes one token.
    pub async fn revoke_oidc_token(&self, token_hash: &[u8], now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE oidc_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Revokes every token of a passgrid session (its logout).
    pub async fn revoke_oidc_session_tokens(&self, sid: &str, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE oidc_tokens SET revoked_at = $2 WHERE sid = $1 AND revoked_at IS NULL",
        )
        .bind(sid)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }

    /// How many tokens of a family are live (tests and the console).
    pub async fn live_oidc_family_tokens(
        &self,
        family: &[u8],
        now: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM oidc_tokens WHERE family = $1 AND revoked_at IS NULL \
             AND used_at IS NULL AND expires_at > $2",
        )
        .bind(family)
        .bind(now)
        .fetch_one(self.reader())
        .await?;
        Ok(row.get(0))
    }

    pub async fn purge_oidc_tokens(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM oidc_tokens WHERE expires_at < $1")
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
