//! TOTP tokens and software-token enrolments (SPEC §4). Seeds arrive sealed.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

/// A token as stored.
#[derive(Clone, Debug)]
pub struct StoredToken {
    pub serial: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub secret_sealed: Vec<u8>,
    pub algorithm: String,
    pub digits: i64,
    pub period: i64,
    pub last_step: Option<i64>,
    pub drift: i64,
}

/// A token for listings: no seed.
#[derive(Clone, Debug, Serialize)]
pub struct TokenSummary {
    pub serial: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub algorithm: String,
    pub digits: i64,
    pub period: i64,
    pub drift: i64,
    pub created_at: i64,
    pub assigned_at: Option<i64>,
}

/// A token to store.
pub struct NewToken<'a> {
    pub serial: &'a str,
    pub kind: &'a str,
    pub user_id: Option<&'a str>,
    pub secret_sealed: &'a [u8],
    pub algorithm: &'a str,
    pub digits: i64,
    pub period: i64,
}

const TOKEN_COLUMNS: &str =
    "serial, kind, user_id, secret_sealed, algorithm, digits, period, last_step, drift";

fn token_from_row(r: &sqlx::any::AnyRow) -> StoredToken {
    StoredToken {
        serial: r.get(0),
        kind: r.get(1),
        user_id: r.get(2),
        secret_sealed: r.get(3),
        algorithm: r.get(4),
        digits: r.get(5),
        period: r.get(6),
        last_step: r.get(7),
        drift: r.get(8),
    }
}

async fn insert_token<'e, E>(executor: E, t: &NewToken<'_>, now: i64) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO tokens (serial, kind, user_id, secret_sealed, algorithm, digits, period, \
         drift, created_at, assigned_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
    )
    .bind(t.serial)
    .bind(t.kind)
    .bind(t.user_id)
    .bind(t.secret_sealed)
    .bind(t.algorithm)
    .bind(t.digits)
    .bind(t.period)
    .bind(now)
    .bind(t.user_id.map(|_| now))
    .execute(executor)
    .await?;
    Ok(())
}

/// Frees `user_id` of its current token: a software token goes (its seed is of no use
/// to anyone else), a hardware token stays in stock, unassigned.
async fn release_user_token(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM tokens WHERE user_id = $1 AND kind = 'software'")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    let released = sqlx::query(
        "UPDATE tokens SET user_id = NULL, assigned_at = NULL, last_step = NULL \
         WHERE user_id = $1",
    )
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(deleted.rows_affected() + released.rows_affected() > 0)
}

impl Store {
    /// Takes the user's token away (a software token is deleted, a hardware one goes
    /// back to the unassigned ones): the user enrols or gets one again. Whether the
    /// user had one.
    pub async fn reset_user_token(&self, user_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.writer().begin().await?;
        let had = release_user_token(&mut tx, user_id).await?;
        tx.commit().await?;
        Ok(had)
    }

    /// Serials among `serials` that are stored already.
    pub async fn existing_token_serials(
        &self,
        serials: &[&str],
    ) -> Result<Vec<String>, StoreError> {
        let mut found = Vec::new();
        for chunk in serials.chunks(500) {
            let list = super::batch::values(1, chunk.len(), &mut 1);
            let sql = format!("SELECT serial FROM tokens WHERE serial IN {list} ORDER BY serial");
            let mut query = sqlx::query(&sql);
            for s in chunk {
                query = query.bind(*s);
            }
            let rows = query.fetch_all(self.reader()).await?;
            found.extend(rows.iter().map(|r| r.get::<String, _>(0)));
        }
        Ok(found)
    }

    /// Stores all tokens in one transaction: all or none.
    pub async fn insert_tokens(&self, tokens: &[NewToken<'_>], now: i64) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        for t in tokens {
            insert_token(&mut *tx, t, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn token(&self, serial: &str) -> Result<Option<StoredToken>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE serial = $1"
        ))
        .bind(serial)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(token_from_row))
    }

    pub async fn user_token(&self, user_id: &str) -> Result<Option<StoredToken>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE user_id = $1"
        ))
        .bind(user_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(token_from_row))
    }

    /// Tokens, optionally of one user, by serial.
    pub async fn tokens(&self, user_id: Option<&str>) -> Result<Vec<TokenSummary>, StoreError> {
        let sql = "SELECT serial, kind, user_id, algorithm, digits, period, drift, created_at, \
                   assigned_at FROM tokens WHERE ($1 IS NULL OR user_id = $1) ORDER BY serial";
        let rows = sqlx::query(sql)
            .bind(user_id)
            .fetch_all(self.reader())
            .await?;
        Ok(rows
            .iter()
            .map(|r| TokenSummary {
                serial: r.get(0),
                kind: r.get(1),
                user_id: r.get(2),
                algorithm: r.get(3),
                digits: r.get(4),
                period: r.get(5),
                drift: r.get(6),
                created_at: r.get(7),
                assigned_at: r.get(8),
            })
            .collect())
    }

    /// Gives hardware token `serial` to `user_id`, replacing the user's token. The
    /// token's step memory starts afresh with its new owner.
    pub async fn assign_token(
        &self,
        serial: &str,
        user_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        release_user_token(&mut tx, user_id).await?;
        sqlx::query(
            "UPDATE tokens SET user_id = $1, assigned_at = $2, last_step = NULL, drift = 0 \
             WHERE serial = $3",
        )
        .bind(user_id)
        .bind(now)
        .bind(serial)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records an accepted code's time step, only if it is later than the last one:
    /// of two servers accepting the same code at once, one wins (SPEC §4.3).
    pub async fn record_token_step(
        &self,
        serial: &str,
        step: i64,
        drift: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE tokens SET last_step = $1, drift = $2 \
             WHERE serial = $3 AND (last_step IS NULL OR last_step < $1)",
        )
        .bind(step)
        .bind(drift)
        .bind(serial)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Starts (or restarts) the enrolment of a software token.
    pub async fn save_token_enrolment(
        &self,
        user_id: &str,
        secret_sealed: &[u8],
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO token_enrolments (user_id, secret_sealed, expires_at, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
             secret_sealed = excluded.secret_sealed, expires_at = excluded.expires_at, \
             created_at = excluded.created_at",
        )
        .bind(user_id)
        .bind(secret_sealed)
        .bind(expires_at)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn token_enrolment(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query(
            "SELECT secret_sealed FROM token_enrolments WHERE user_id = $1 AND expires_at > $2",
        )
        .bind(user_id)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Turns a confirmed enrolment into the user's token (replacing any other) in one
    /// transaction; `last_step` is the confirming code's step, so that code is spent.
    pub async fn finish_token_enrolment(
        &self,
        token: &NewToken<'_>,
        last_step: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let user_id = token.user_id.ok_or(StoreError::Conflict)?;
        let mut tx = self.writer().begin().await?;
        sqlx::query("DELETE FROM token_enrolments WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        release_user_token(&mut tx, user_id).await?;
        insert_token(&mut *tx, token, now).await?;
        sqlx::query("UPDATE tokens SET last_step = $1 WHERE serial = $2")
            .bind(last_step)
            .bind(token.serial)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
