//! The login path's writes, group-committed (see `batch`): challenges stored and
//! consumed, the lock-out count taken by each attempt in the same transaction that
//! consumes its challenge, sessions, audit entries, and the counts a success clears.
//! Each table's SQL is in that table's file; this file puts a batch together.

use std::collections::HashMap;

use super::{
    audit::{self as audit_rows, AuditInsert, AuditRow},
    batch::{Batcher, Db, Family, Step, Transaction},
    challenges::{self, ChallengeRow, ConsumeRequest, ConsumedChallenge, NewChallenge},
    lockouts::{self, Claim, ClaimRow},
    sessions::{self, SessionRow},
    Store, StoreError,
};

pub(crate) enum Write {
    Challenge(ChallengeRow),
    Consume {
        request: ConsumeRequest,
        now: i64,
        /// Count this attempt toward its claimed ID's lock-out (when lock-out is on).
        claim: Option<Claim>,
    },
    Session(SessionRow),
    Audit(AuditRow),
    /// A success: forget the ID's failures (and the lock its own attempt may have set).
    ClearFailures(String),
}

pub(crate) enum Written {
    Stored,
    Consumed(Option<(ConsumedChallenge, Option<Attempt>)>),
}

/// Where one attempt stands in its ID's lock-out budget, counted before its answer is
/// checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// This attempt's place in the count of consecutive failures (itself included).
    pub count: i64,
    /// The ID's lock after counting, if any (it may lie in the past).
    pub locked_until: Option<i64>,
}

/// The login path's family of writes.
pub(crate) struct LoginWrites;

impl Family for LoginWrites {
    type Write = Write;
    type Written = Written;

    async fn write_together(db: &Db, writes: &[Write]) -> Result<Vec<Written>, StoreError> {
        write_together(db, writes).await
    }

    fn stored() -> Written {
        Written::Stored
    }
}

async fn write_together(db: &Db, writes: &[Write]) -> Result<Vec<Written>, StoreError> {
    // Step one: stored challenges first (a grid drawn and answered within one batch is
    // found), then the consumptions, whose rows say whose lock-out to count.
    let mut first = Step::new(db.backend);
    let inserts: Vec<&ChallengeRow> = writes
        .iter()
        .filter_map(|w| match w {
            Write::Challenge(c) => Some(c),
            _ => None,
        })
        .collect();
    if !inserts.is_empty() {
        challenges::insert_statement(&mut first, &inserts);
    }
    let consumes: Vec<&ConsumeRequest> = writes
        .iter()
        .filter_map(|w| match w {
            Write::Consume { request, .. } => Some(request),
            _ => None,
        })
        .collect();
    let consumed_at = writes
        .iter()
        .filter_map(|w| match w {
            Write::Consume { now, .. } => Some(*now),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    if !consumes.is_empty() {
        challenges::consume_statement(&mut first, &consumes, consumed_at);
    }
    let mut second = Step::new(db.backend);
    let clears: Vec<&str> = writes
        .iter()
        .filter_map(|w| match w {
            Write::ClearFailures(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    if !clears.is_empty() {
        lockouts::clear_statement(&mut second, &clears);
    }
    let session_rows: Vec<&SessionRow> = writes
        .iter()
        .filter_map(|w| match w {
            Write::Session(s) => Some(s),
            _ => None,
        })
        .collect();
    if !session_rows.is_empty() {
        sessions::insert_statement(&mut second, &session_rows);
    }
    let audit_rows: Vec<&AuditRow> = writes
        .iter()
        .filter_map(|w| match w {
            Write::Audit(a) => Some(a),
            _ => None,
        })
        .collect();
    if !audit_rows.is_empty() {
        audit_rows::insert_statement(&mut second, &audit_rows);
    }

    let mut tx = Transaction::start(db).await?;
    let mut consumed: HashMap<String, ConsumedChallenge> = HashMap::new();
    let claims_wanted = writes
        .iter()
        .any(|w| matches!(w, Write::Consume { claim: Some(_), .. }));
    if !first.is_empty() {
        let last = second.is_empty() && !claims_wanted;
        for row in tx.run(&first, last).await? {
            let c = ConsumedChallenge::from_row(&row)?;
            consumed.insert(c.id.clone(), c);
        }
    }
    // The claims, per ID: attempts of one ID in this batch are counted together.
    let mut per_id: HashMap<String, (i64, Claim)> = HashMap::new();
    for w in writes {
        if let Write::Consume {
            request,
            claim: Some(claim),
            ..
        } = w
        {
            if let Some(c) = consumed.get(&request.id) {
                per_id
                    .entry(c.claimed_user.clone())
                    .or_insert((0, *claim))
                    .0 += 1;
            }
        }
    }
    let mut counted: HashMap<String, (i64, Option<i64>)> = HashMap::new();
    if !per_id.is_empty() {
        let rows: Vec<ClaimRow<'_>> = per_id
            .iter()
            .map(|(id, (attempts, claim))| ClaimRow {
                login_id: id.as_str(),
                attempts: *attempts,
                claim: *claim,
            })
            .collect();
        let mut claims = Step::new(db.backend);
        lockouts::claim_statement(&mut claims, &rows, consumed_at);
        for row in tx.run(&claims, second.is_empty()).await? {
            let (id, failures, locked_until) = lockouts::claimed_from_row(&row)?;
            counted.insert(id, (failures, locked_until));
        }
    }
    if !second.is_empty() {
        tx.run(&second, true).await?;
    }
    tx.finish().await?;

    // Each attempt of an ID gets its own place in the count, the last one the total.
    let mut taken: HashMap<String, i64> = HashMap::new();
    let mut place = |user: &str| -> Option<Attempt> {
        let (total, locked_until) = *counted.get(user)?;
        let (k, _) = per_id.get(user)?;
        let nth = taken.entry(user.to_owned()).or_insert(0);
        *nth += 1;
        Some(Attempt {
            count: total - k + *nth,
            locked_until,
        })
    };
    Ok(writes
        .iter()
        .map(|w| match w {
            // Of two verifications of one challenge in one batch, the first gets it.
            Write::Consume { request, claim, .. } => {
                Written::Consumed(consumed.remove(&request.id).map(|c| {
                    let attempt = claim.and_then(|_| place(&c.claimed_user));
                    (c, attempt)
                }))
            }
            _ => Written::Stored,
        })
        .collect())
}

/// The group-committed writes of the login path.
impl Store {
    pub async fn insert_challenge(&self, c: &NewChallenge<'_>, now: i64) -> Result<(), StoreError> {
        self.batcher
            .write(Write::Challenge(ChallengeRow::new(c, now)))
            .await?;
        Ok(())
    }

    /// Marks the challenge consumed and returns it — or `None` when it does not exist,
    /// was consumed before, or was drawn for another flow or client certificate (then
    /// it stays for its owner). One statement, so of two concurrent callers only one
    /// gets the challenge, on SQLite and PostgreSQL alike. With `claim`, the attempt
    /// is counted toward its ID's lock-out in the same transaction, before anyone
    /// checks its answer.
    pub async fn consume_challenge(
        &self,
        id: &str,
        flow_hash: &[u8],
        cert_fingerprint: Option<&str>,
        claim: Option<Claim>,
        now: i64,
    ) -> Result<Option<(ConsumedChallenge, Option<Attempt>)>, StoreError> {
        let request = ConsumeRequest {
            id: id.to_owned(),
            flow_hash: flow_hash.to_vec(),
            cert_fingerprint: cert_fingerprint.map(str::to_owned),
        };
        match self
            .batcher
            .write(Write::Consume {
                request,
                now,
                claim,
            })
            .await?
        {
            Written::Consumed(found) => Ok(found),
            Written::Stored => Ok(None),
        }
    }

    pub async fn insert_session(&self, row: SessionRow) -> Result<(), StoreError> {
        self.batcher.write(Write::Session(row)).await?;
        Ok(())
    }

    pub async fn append_audit(&self, event: &AuditInsert<'_>, now: i64) -> Result<(), StoreError> {
        self.batcher
            .write(Write::Audit(AuditRow::new(event, now)))
            .await?;
        Ok(())
    }

    /// Forgets the failures of `login_id` after a success, group-committed.
    pub async fn clear_failures_after_success(&self, login_id: &str) -> Result<(), StoreError> {
        self.batcher
            .write(Write::ClearFailures(login_id.to_owned()))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

/// The family the store's batcher writes.
pub(crate) type LoginBatcher = Batcher<LoginWrites>;
