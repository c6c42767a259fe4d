//! One-time links that create the first administrator. Only a SHA-256 of each token is
//! stored, so the database never holds a usable link.

use sqlx::Row;

use super::{
    patterns::{insert_initial_pattern, NewInitialPattern},
    users::insert_user,
    users::NewUser,
    Store, StoreError,
};

/// Why a set-up attempt failed.
#[derive(Debug, PartialEq, Eq)]
pub enum SetupOutcome {
    Created,
    InvalidToken,
    UserExists,
    /// An administrator exists already (made by `admin create`, say): the link's
    /// purpose is gone.
    AdminExists,
}

/// Deletes every set-up link not yet used, inside the caller's transaction (one that
/// makes an administrator). Run before the administrator is inserted: on PostgreSQL
/// the delete waits for a link being used at this moment (its row is locked), so the
/// two are ordered one way or the other, never interleaved.
pub(crate) async fn retire_setup_links(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM setup_tokens WHERE used_at IS NULL")
        .execute(&mut **tx)
        .await?;
    Ok(())
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
        retire_setup_links(&mut tx).await?;
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

    /// Whether the link can still create the first administrator (for its page; the
    /// creation checks again, in its transaction).
    pub async fn setup_token_usable(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             AND NOT EXISTS (SELECT 1 FROM users WHERE admin_role IS NOT NULL)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.is_some())
    }

    /// Consumes the token and creates the administrator with its initial pattern in
    /// one transaction: all of it happens or nothing, a token works once even under
    /// concurrent use, and only while no administrator exists — checked here, at use,
    /// whoever made the others and however.
    pub async fn create_first_admin(
        &self,
        token_hash: &[u8],
        admin: &NewUser<'_>,
        pattern: &NewInitialPattern,
        now: i64,
    ) -> Result<SetupOutcome, StoreError> {
        let mut tx = self.writer().begin().await?;
        let consumed = sqlx::query(
            "UPDATE setup_tokens SET used_at = $2, admin_id = $3 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .bind(admin.id)
        .execute(&mut *tx)
        .await?;
        if consumed.rows_affected() != 1 {
            return Ok(SetupOutcome::InvalidToken);
        }
        // Other links (two servers starting at once each print one) are retired
        // before the count: on PostgreSQL this waits for a concurrent use of one of
        // them, so two "first" administrators cannot both see none.
        retire_setup_links(&mut tx).await?;
        let admins: i64 = sqlx::query("SELECT COUNT(*) FROM users WHERE admin_role IS NOT NULL")
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        if admins > 0 {
            drop(tx);
            // The link is dead for good (the rollback kept it unused).
            let mut tx = self.writer().begin().await?;
            retire_setup_links(&mut tx).await?;
            tx.commit().await?;
            return Ok(SetupOutcome::AdminExists);
        }
        match insert_user(&mut *tx, admin, now).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Ok(SetupOutcome::UserExists),
            Err(e) => return Err(e),
        }
        insert_initial_pattern(&mut *tx, admin.id, pattern, now).await?;
        tx.commit().await?;
        Ok(SetupOutcome::Created)
    }

    /// Marks the initial pattern of the administrator a used link made as shown,
    /// once, within `window` seconds of its use: that administrator, or `None`.
    pub async fn reveal_first_admin(
        &self,
        token_hash: &[u8],
        now: i64,
        window: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "UPDATE setup_tokens SET revealed_at = $2 \
             WHERE token_hash = $1 AND used_at IS NOT NULL AND admin_id IS NOT NULL \
             AND revealed_at IS NULL AND used_at > $3 RETURNING admin_id",
        )
        .bind(token_hash)
        .bind(now)
        .bind(now - window)
        .fetch_optional(self.writer())
        .await?;
        Ok(row.map(|r| r.get(0)))
    }
}
