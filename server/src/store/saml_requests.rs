//! The AuthnRequests passgrid took (SAML Core §3.4.1) and what became of them: the
//! request ID, unique per SP, refuses a replay; a request waiting for the sign-in
//! keeps what its answer needs; an answered one names the session and NameID it was
//! answered with, which Single Logout (Profiles §4.4) follows. IdP-initiated
//! sign-ins are kept the same way, without a request ID.

use sqlx::{any::AnyRow, Row};

use super::{Store, StoreError};

/// A request as taken.
#[derive(Clone, Debug)]
pub struct SamlRequestRow {
    pub handle_hash: Vec<u8>,
    pub application: String,
    pub request_id: Option<String>,
    pub acs_url: String,
    pub relay_state: Option<String>,
    pub force_authn: bool,
    pub name_id_policy: Option<String>,
    /// ForceAuthn: the session the browser had when the request came, which may not
    /// answer it (a sign-in makes a new one). Kept in `sid` until the answer.
    pub stale_sid: Option<String>,
    pub expires_at: i64,
    pub created_at: i64,
}

/// What an answer records.
#[derive(Clone, Debug)]
pub struct SamlAnswer {
    pub sid: String,
    pub session_hash: Vec<u8>,
    pub user_id: String,
    pub name_id: String,
    pub name_id_format: String,
    pub at: i64,
}

/// An SP a session signed in to, with the NameID it was given (for a LogoutRequest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlParticipant {
    pub application: String,
    pub user_id: String,
    pub name_id: String,
    pub name_id_format: String,
}

/// The session an SP's LogoutRequest names.
#[derive(Clone, Debug)]
pub struct SamlSessionRef {
    pub sid: String,
    pub session_hash: Vec<u8>,
    pub user_id: String,
}

const COLUMNS: &str = "handle_hash, application, request_id, acs_url, relay_state, \
     force_authn, name_id_policy, expires_at, created_at, sid";

fn from_row(r: &AnyRow) -> SamlRequestRow {
    SamlRequestRow {
        handle_hash: r.get(0),
        application: r.get(1),
        request_id: r.get(2),
        acs_url: r.get(3),
        relay_state: r.get(4),
        force_authn: r.get::<i64, _>(5) != 0,
        name_id_policy: r.get(6),
        expires_at: r.get(7),
        created_at: r.get(8),
        stale_sid: r.get(9),
    }
}

impl Store {
    /// Records a request, answered at once when `answer` is given (a live SSO
    /// session), else waiting for the sign-in. `Conflict`: the SP sent this request
    /// ID before (a replay).
    pub async fn insert_saml_request(
        &self,
        req: &SamlRequestRow,
        answer: Option<&SamlAnswer>,
    ) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO saml_requests ({COLUMNS}, answered_at, session_hash, user_id, \
             name_id, name_id_format) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(&req.handle_hash)
        .bind(&req.application)
        .bind(req.request_id.as_deref())
        .bind(&req.acs_url)
        .bind(req.relay_state.as_deref())
        .bind(i64::from(req.force_authn))
        .bind(req.name_id_policy.as_deref())
        .bind(req.expires_at)
        .bind(req.created_at)
        .bind(match answer {
            Some(a) => Some(a.sid.as_str()),
            None => req.stale_sid.as_deref(),
        })
        .bind(answer.map(|a| a.at))
        .bind(answer.map(|a| a.session_hash.clone()))
        .bind(answer.map(|a| a.user_id.as_str()))
        .bind(answer.map(|a| a.name_id.as_str()))
        .bind(answer.map(|a| a.name_id_format.as_str()))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// A request waiting for its sign-in (not answered, not expired).
    pub async fn pending_saml_request(
        &self,
        handle_hash: &[u8],
        now: i64,
    ) -> Result<Option<SamlRequestRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM saml_requests \
             WHERE handle_hash = $1 AND answered_at IS NULL AND expires_at > $2"
        ))
        .bind(handle_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// Marks a waiting request answered; false when it was answered already (the
    /// continuation used twice) or has expired, so that one request gets one answer.
    pub async fn answer_saml_request(
        &self,
        handle_hash: &[u8],
        answer: &SamlAnswer,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE saml_requests SET answered_at = $2, sid = $3, session_hash = $4, \
             user_id = $5, name_id = $6, name_id_format = $7 \
             WHERE handle_hash = $1 AND answered_at IS NULL AND expires_at > $2",
        )
        .bind(handle_hash)
        .bind(answer.at)
        .bind(&answer.sid)
        .bind(&answer.session_hash)
        .bind(&answer.user_id)
        .bind(&answer.name_id)
        .bind(&answer.name_id_format)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Closes a waiting request without an answer (refused after the sign-in).
    pub async fn close_saml_request(&self, handle_hash: &[u8], now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE saml_requests SET answered_at = $2 WHERE handle_hash = $1 AND answered_at IS NULL",
        )
        .bind(handle_hash)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The SPs session `sid` signed in to and has not logged out of, one row per
    /// SP and NameID.
    pub async fn saml_participants(&self, sid: &str) -> Result<Vec<SamlParticipant>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT application, user_id, name_id, name_id_format FROM saml_requests \
             WHERE sid = $1 AND name_id IS NOT NULL AND logged_out_at IS NULL \
             ORDER BY application",
        )
        .bind(sid)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| SamlParticipant {
                application: r.get(0),
                user_id: r.get(1),
                name_id: r.get(2),
                name_id_format: r.get(3),
            })
            .collect())
    }

    /// The sessions in which SP `application` was given NameID `name_id` and that
    /// have not logged out of it, newest first.
    pub async fn saml_sessions_of(
        &self,
        application: &str,
        name_id: &str,
    ) -> Result<Vec<SamlSessionRef>, StoreError> {
        let rows = sqlx::query(
            "SELECT sid, session_hash, user_id, MAX(answered_at) AS last FROM saml_requests \
             WHERE application = $1 AND name_id = $2 AND logged_out_at IS NULL \
             AND sid IS NOT NULL GROUP BY sid, session_hash, user_id ORDER BY last DESC",
        )
        .bind(application)
        .bind(name_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| SamlSessionRef {
                sid: r.get(0),
                session_hash: r.get(1),
                user_id: r.get(2),
            })
            .collect())
    }

    /// Notes that session `sid` is logged out of SP `application`; whether it was
    /// still signed in there (so that each SP is sent one LogoutRequest).
    pub async fn saml_logged_out(
        &self,
        sid: &str,
        application: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE saml_requests SET logged_out_at = $3 \
             WHERE sid = $1 AND application = $2 AND logged_out_at IS NULL",
        )
        .bind(sid)
        .bind(application)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Forgets requests older than `before` (their sessions have ended by then) and
    /// those that waited in vain past `now`: an ID is kept longer than a request
    /// is accepted (IssueInstant window), so a replay always meets it.
    pub async fn purge_saml_requests(&self, before: i64, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM saml_requests WHERE created_at < $1 \
             OR (answered_at IS NULL AND expires_at < $2)",
        )
        .bind(before)
        .bind(now - 3600)
        .execute(self.writer())
        .await?;
        let chains = sqlx::query("DELETE FROM saml_logouts WHERE expires_at < $1")
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() + chains.rows_affected())
    }

    /// The persistent NameID of `user_id` at SP `entity_id`, made from `fresh` the
    /// first time (SAML Core §8.3.7: stable, opaque, one per pair).
    pub async fn persistent_name_id(
        &self,
        entity_id: &str,
        user_id: &str,
        fresh: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        let find = || {
            sqlx::query(
                "SELECT name_id FROM saml_persistent_ids WHERE entity_id = $1 AND user_id = $2",
            )
            .bind(entity_id)
            .bind(user_id)
        };
        if let Some(row) = find().fetch_optional(self.reader()).await? {
            return Ok(row.get(0));
        }
        sqlx::query(
            "INSERT INTO saml_persistent_ids (entity_id, user_id, name_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (entity_id, user_id) DO NOTHING",
        )
        .bind(entity_id)
        .bind(user_id)
        .bind(fresh)
        .bind(now)
        .execute(self.writer())
        .await?;
        // Another server may have made one first: the stored one wins.
        let row = find().fetch_one(self.writer()).await?;
        Ok(row.get(0))
    }
}

/// A Single Logout in progress.
#[derive(Clone, Debug)]
pub struct SamlLogoutChain {
    pub sid: String,
    pub user_id: String,
    pub reply_application: Option<String>,
    pub reply_request_id: Option<String>,
    pub reply_relay_state: Option<String>,
}

impl Store {
    /// Starts a logout chain under `handle_hash`.
    pub async fn insert_saml_logout(
        &self,
        handle_hash: &[u8],
        chain: &SamlLogoutChain,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO saml_logouts (handle_hash, sid, user_id, reply_application, \
             reply_request_id, reply_relay_state, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(handle_hash)
        .bind(&chain.sid)
        .bind(&chain.user_id)
        .bind(chain.reply_application.as_deref())
        .bind(chain.reply_request_id.as_deref())
        .bind(chain.reply_relay_state.as_deref())
        .bind(expires_at)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The chain of `handle_hash`, if it has not expired.
    pub async fn saml_logout(
        &self,
        handle_hash: &[u8],
        now: i64,
    ) -> Result<Option<SamlLogoutChain>, StoreError> {
        let row = sqlx::query(
            "SELECT sid, user_id, reply_application, reply_request_id, reply_relay_state \
             FROM saml_logouts WHERE handle_hash = $1 AND expires_at > $2",
        )
        .bind(handle_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| SamlLogoutChain {
            sid: r.get(0),
            user_id: r.get(1),
            reply_application: r.get(2),
            reply_request_id: r.get(3),
            reply_relay_state: r.get(4),
        }))
    }

    /// Ends a chain.
    pub async fn delete_saml_logout(&self, handle_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM saml_logouts WHERE handle_hash = $1")
            .bind(handle_hash)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
