//! Authorization codes (RFC 6749 §4.1.2): stored by hash in the database, so any
//! server of a cluster redeems what another issued; consumed at most once.

use sqlx::Row;

use super::{Store, StoreError};

/// What a code was issued for.
#[derive(Clone, Debug)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    /// The PKCE S256 challenge (RFC 7636 §4.2), if the client sent one.
    pub code_challenge: Option<String>,
    pub user_id: String,
    pub sid: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub auth_time: i64,
    /// RFC 8176 values, separated by spaces.
    pub amr: String,
}

/// The answer to a redemption.
pub enum Redeemed {
    /// First use: the grant.
    Fresh(CodeGrant),
    /// The code was redeemed before: a replay (RFC 6749 §4.1.2 — revoke what it gave).
    Replayed { client_id: String },
    /// Unknown or expired.
    Unknown,
}

impl Store {
    /// Stores a code and notes, in the same transaction, that its session signed in to
    /// the client (the back-channel logout target, `oidc_logins`): one write, not two.
    pub async fn insert_oidc_code(
        &self,
        code_hash: &[u8],
        grant: &CodeGrant,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, code_challenge, \
             user_id, sid, scope, nonce, auth_time, amr, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(code_hash)
        .bind(&grant.client_id)
        .bind(&grant.redirect_uri)
        .bind(grant.code_challenge.as_deref())
        .bind(&grant.user_id)
        .bind(&grant.sid)
        .bind(&grant.scope)
        .bind(grant.nonce.as_deref())
        .bind(grant.auth_time)
        .bind(&grant.amr)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        super::oidc_logins::note_oidc_login_in(
            &mut tx,
            &grant.sid,
            &grant.client_id,
            &grant.user_id,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Consumes a code: one UPDATE … RETURNING, so of two servers redeeming the same
    /// code at once exactly one gets it.
    pub async fn redeem_oidc_code(
        &self,
        code_hash: &[u8],
        now: i64,
    ) -> Result<Redeemed, StoreError> {
        let row = sqlx::query(
            "UPDATE oidc_codes SET consumed_at = $2 \
             WHERE code_hash = $1 AND consumed_at IS NULL AND expires_at > $2 \
             RETURNING client_id, redirect_uri, code_challenge, user_id, sid, scope, nonce, \
             auth_time, amr",
        )
        .bind(code_hash)
        .bind(now)
        .fetch_optional(self.writer())
        .await?;
        if let Some(r) = row {
            return Ok(Redeemed::Fresh(CodeGrant {
                client_id: r.get(0),
                redirect_uri: r.get(1),
                code_challenge: r.get(2),
                user_id: r.get(3),
                sid: r.get(4),
                scope: r.get(5),
                nonce: r.get(6),
                auth_time: r.get(7),
                amr: r.get(8),
            }));
        }
        let used = sqlx::query(
            "SELECT client_id FROM oidc_codes WHERE code_hash = $1 AND consumed_at IS NOT NULL",
        )
        .bind(code_hash)
        .fetch_optional(self.reader())
        .await?;
        Ok(match used {
            Some(r) => Redeemed::Replayed {
                client_id: r.get(0),
            },
            None => Redeemed::Unknown,
        })
    }

    /// Drops codes expired for longer than `keep` seconds (kept a while to recognise
    /// replays).
    pub async fn purge_oidc_codes(&self, now: i64, keep: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM oidc_codes WHERE expires_at < $1")
            .bind(now - keep)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
