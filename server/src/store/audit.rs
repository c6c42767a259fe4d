//! The audit log: every administrative action and authentication attempt.

use super::{
    batch::{AuditRow, Write},
    Store, StoreError,
};

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
        self.batcher
            .write(Write::Audit(AuditRow {
                at: now,
                actor: event.actor.to_owned(),
                source: event.source.to_owned(),
                action: event.action.to_owned(),
                target: event.target.to_owned(),
                outcome: event.outcome.to_owned(),
                reason: event.reason.to_owned(),
            }))
            .await?;
        Ok(())
    }
}
