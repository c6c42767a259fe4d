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
        /// The answer was right: what a success writes, if the count allows it.
        on_success: Option<SuccessRows>,
    },
    Session(SessionRow),
    Audit(AuditRow),
}

/// What a right answer writes in the transaction that consumes its grid, when the
/// count lets it succeed: the ID's failures forgotten, the session, the audit entry.
pub struct SuccessRows {
    pub session: Option<SessionRow>,
    audit: AuditRow,
}

impl SuccessRows {
    pub fn new(session: Option<SessionRow>, audit: &AuditInsert<'_>, now: i64) -> SuccessRows {
        SuccessRows {
            session,
            audit: AuditRow::new(audit, now),
        }
    }
}

pub(crate) enum Written {
    Stored,
    Consumed(Option<Consumed>),
}

/// A consumed challenge and what its attempt became.
#[derive(Debug)]
pub struct Consumed {
    pub challenge: ConsumedChallenge,
    /// Its place in the lock-out count, when counted.
    pub attempt: Option<Attempt>,
    /// Its success rows were written (a right answer within the lock-out budget).
    pub succeeded: bool,
}

/// Where one attempt stands in its ID's lock-out budget, counted before its answer is
/// known to anyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// This attempt's place in the count of consecutive failures (itself included).
    pub count: i64,
    /// The ID's lock after counting, if any (it may lie in the past).
    pub locked_until: Option<i64>,
}

impl Attempt {
    /// Over the budget: refused whatever its answer.
    pub fn over(&self, claim: &Claim) -> bool {
        self.count > claim.threshold
    }
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
    // Step one: the stored challenges, then the consumptions, whose rows say whose
    // lock-out to count. No consumption can be of a challenge stored in its own batch
    // (a grid's ID is handed out only once its batch has committed), so on PostgreSQL
    // the two can be one statement (see `Step`).
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
    let successes_possible = writes.iter().any(|w| {
        matches!(
            w,
            Write::Consume {
                on_success: Some(_),
                ..
            }
        )
    });
    let others = writes
        .iter()
        .any(|w| matches!(w, Write::Session(_) | Write::Audit(_)));

    let mut tx = Transaction::start(db).await?;
    let mut consumed: HashMap<String, ConsumedChallenge> = HashMap::new();
    let claims_wanted = writes
        .iter()
        .any(|w| matches!(w, Write::Consume { claim: Some(_), .. }));
    if !first.is_empty() {
        let last = !others && !claims_wanted && !successes_possible;
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
        let last = !others && !successes_possible;
        for row in tx.run(&claims, last).await? {
            let (id, failures, locked_until) = lockouts::claimed_from_row(&row)?;
            counted.insert(id, (failures, locked_until));
        }
    }

    // Each attempt of an ID gets its own place in the count, the last one the total;
    // of two verifications of one challenge in one batch, the first gets it.
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
    let mut results = Vec::with_capacity(writes.len());
    let mut clears: Vec<String> = Vec::new();
    let mut session_rows: Vec<&SessionRow> = Vec::new();
    let mut audit_rows: Vec<&AuditRow> = Vec::new();
    for w in writes {
        results.push(match w {
            Write::Consume {
                request,
                claim,
                on_success,
                ..
            } => Written::Consumed(consumed.remove(&request.id).map(|challenge| {
                let attempt = claim.and_then(|_| place(&challenge.claimed_user));
                let within = match (claim, attempt) {
                    (Some(claim), Some(attempt)) => !attempt.over(claim),
                    _ => true,
                };
                let succeeded = match on_success {
                    Some(rows) if within => {
                        clears.push(challenge.claimed_user.clone());
                        session_rows.extend(rows.session.as_ref());
                        audit_rows.push(&rows.audit);
                        true
                    }
                    _ => false,
                };
                Consumed {
                    challenge,
                    attempt,
                    succeeded,
                }
            })),
            Write::Session(s) => {
                session_rows.push(s);
                Written::Stored
            }
            Write::Audit(a) => {
                audit_rows.push(a);
                Written::Stored
            }
            Write::Challenge(_) => Written::Stored,
        });
    }
    let mut second = Step::new(db.backend);
    if !clears.is_empty() {
        let ids: Vec<&str> = clears.iter().map(String::as_str).collect();
        lockouts::clear_statement(&mut second, &ids);
    }
    if !session_rows.is_empty() {
        sessions::insert_statement(&mut second, &session_rows);
    }
    if !audit_rows.is_empty() {
        audit_rows::insert_statement(&mut second, &audit_rows);
    }
    if !second.is_empty() {
        tx.run(&second, true).await?;
    }
    tx.finish().await?;
    Ok(results)
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
    /// gets the challenge, on SQLite and PostgreSQL alike.
    pub async fn consume_challenge(
        &self,
        id: &str,
        flow_hash: &[u8],
        cert_fingerprint: Option<&str>,
        now: i64,
    ) -> Result<Option<ConsumedChallenge>, StoreError> {
        let settled = self
            .settle_login(id, flow_hash, cert_fingerprint, None, None, now)
            .await?;
        Ok(settled.map(|c| c.challenge))
    }

    /// A login's one write step: consumes the challenge (as `consume_challenge`);
    /// with `claim`, counts the attempt toward its ID's lock-out in the same
    /// transaction; and with `on_success` (the answer was right), when the attempt is
    /// within the budget, forgets the ID's failures and writes the session and the
    /// audit entry in it too. So N answers at once take N places of the budget, and
    /// none succeeds past it, whatever their order.
    pub async fn settle_login(
        &self,
        id: &str,
        flow_hash: &[u8],
        cert_fingerprint: Option<&str>,
        claim: Option<Claim>,
        on_success: Option<SuccessRows>,
        now: i64,
    ) -> Result<Option<Consumed>, StoreError> {
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
                on_success,
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
}

#[cfg(test)]
mod tests;

/// The family the store's batcher writes.
pub(crate) type LoginBatcher = Batcher<LoginWrites>;
