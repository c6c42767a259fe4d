//! One-time links that create the first administrator. Only a SHA-256 of each token is
//! stored, so the database never holds a usable link.

use super::{users::insert_user, users::NewUser, Store, StoreError};

/// Why a set-up attempt failed.
#[derive(Debug, PartialEq, Eq)]
pub enum SetupOutcome {
    Created,
    InvalidToken,
    UserExists,
}

impl Store {
    /// Replaces every outstanding token with this one.
    pub async fn replace_setup_token(
        &self,
        token_hash: &[u8],
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("DELETE FROM setup_tokens WHERE used_at IS NULL")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO setup_tokens (token_hash, expires_at, created_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Consumes the token and creates the administrator in one transaction: either both
    /// happen or neither, and a token works once even under concurrent use.
    pub async fn create_first_admin(
        &self,
        token_hash: &[u8],
        admin: &NewUser<'_>,
        now: i64,
    ) -> Result<SetupOutcome, StoreError> {
        let mut tx = self.writer().begin().await?;
        let consumed = sqlx::query(
            "UPDATE setup_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if consumed.rows_affected() != 1 {
            return Ok(SetupOutcome::InvalidToken);
        }
        match insert_user(&mut *tx, admin, now).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Ok(SetupOutcome::UserExists),
            Err(e) => return Err(e),
        }
        // The first administrator exists: no other set-up link may work any more.
        sqlx::query("DELETE FROM setup_tokens WHERE used_at IS NULL")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(SetupOutcome::Created)
    }
}
