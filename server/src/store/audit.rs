//! The audit log: every administrative action and authentication attempt.

use super::{Store, StoreError};

/// One audit entry. `reason` never holds a secret.
pub struct AuditEvent<'a> {
    pub actor: &'a str,
    pub source: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: &'a str,
    pub reason: &'a str,
}

impl Store {
    pub async fn append_audit(&self, event: &AuditEvent<'_>, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, source, action, target, outcome, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(now)
        .bind(event.actor)
        .bind(event.source)
        .bind(event.action)
        .bind(event.target)
        .bind(event.outcome)
        .bind(event.reason)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
