//! The audit log: every administrative action and authentication attempt.

use super::{
    batch::{Field, Step},
    Store, StoreError,
};

/// One audit entry. `reason` never holds a secret.
pub struct AuditInsert<'a> {
    pub actor: &'a str,
    pub source: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: &'a str,
    pub reason: &'a str,
}

/// An audit row on its way to the group-committed insert.
pub(crate) struct AuditRow {
    pub at: i64,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub reason: String,
}

impl AuditRow {
    pub(crate) fn new(event: &AuditInsert<'_>, now: i64) -> AuditRow {
        AuditRow {
            at: now,
            actor: event.actor.to_owned(),
            source: event.source.to_owned(),
            action: event.action.to_owned(),
            target: event.target.to_owned(),
            outcome: event.outcome.to_owned(),
            reason: event.reason.to_owned(),
        }
    }
}

/// The statement that appends `rows`, in their order (one statement for all).
pub(crate) fn insert_statement(step: &mut Step, rows: &[&AuditRow]) {
    let json = rows
        .iter()
        .map(|a| {
            serde_json::json!([a.at, a.actor, a.source, a.action, a.target, a.outcome, a.reason])
        })
        .collect();
    use Field::{Int, Text};
    let rows = step.select_json(json, &[Int, Text, Text, Text, Text, Text, Text]);
    // The rows are read in their order, so entries keep it.
    let sql = format!(
        "INSERT INTO audit_log (at, actor, source, action, target, outcome, reason) \
         {rows} ORDER BY r.key"
    );
    step.push(sql);
}

/// An audit entry as stored, with its place in the hash chain once sealed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub reason: String,
    pub chain_seq: Option<i64>,
    pub entry_mac: Option<String>,
}

/// The chain position and MAC a sealer gives one entry.
pub struct AuditLink {
    pub id: i64,
    pub chain_seq: i64,
    pub entry_mac: String,
}

const ENTRY_COLUMNS: &str =
    "id, at, actor, source, action, target, outcome, reason, chain_seq, entry_mac";

fn entry_from_row(r: &sqlx::any::AnyRow) -> AuditEntry {
    use sqlx::Row;
    AuditEntry {
        id: r.get(0),
        at: r.get(1),
        actor: r.get(2),
        source: r.get(3),
        action: r.get(4),
        target: r.get(5),
        outcome: r.get(6),
        reason: r.get(7),
        chain_seq: r.get(8),
        entry_mac: r.get(9),
    }
}

/// Rows per UPDATE when links are written.
const LINKS_PER_STATEMENT: usize = 500;

/// Arbitrary, fixed: the PostgreSQL advisory lock that lets one sealer of a cluster
/// work at a time.
const SEALER_LOCK: i64 = 0x7061_7373_6175_6431;

impl Store {
    /// Chains up to `limit` unsealed entries in one transaction: `link` gets the last
    /// sealed entry (position and MAC) and the unsealed ones in id order, and returns
    /// their links. Two sealers at once cannot both succeed: chain positions are
    /// unique, and on PostgreSQL an advisory lock makes the second one wait.
    pub async fn seal_audit_entries<F>(&self, limit: i64, link: F) -> Result<usize, StoreError>
    where
        F: FnOnce(Option<(i64, String)>, &[AuditEntry]) -> Vec<AuditLink>,
    {
        use sqlx::Row;
        let mut tx = self.writer().begin().await?;
        if self.backend() == super::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(SEALER_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        let head = sqlx::query(
            "SELECT chain_seq, entry_mac FROM audit_log WHERE chain_seq IS NOT NULL \
             ORDER BY chain_seq DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| {
            (
                r.get::<i64, _>(0),
                r.get::<Option<String>, _>(1).unwrap_or_default(),
            )
        });
        let rows = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE chain_seq IS NULL ORDER BY id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let entries: Vec<AuditEntry> = rows.iter().map(entry_from_row).collect();
        if entries.is_empty() {
            return Ok(0);
        }
        let links = link(head, &entries);
        // A join on the key, from one JSON parameter: correlated lookups into a
        // VALUES list cost rows² (50 ms per 500 entries on PostgreSQL, where this
        // held a connection from the login path's writes; bench/README.md).
        for chunk in links.chunks(LINKS_PER_STATEMENT) {
            let mut step = Step::new(self.backend());
            let rows = chunk
                .iter()
                .map(|l| serde_json::json!([l.id, l.chain_seq, l.entry_mac]))
                .collect();
            let v = step.select_json(rows, &[Field::Int, Field::Int, Field::Text]);
            let sql = format!(
                "UPDATE audit_log SET chain_seq = v.c1, entry_mac = v.c2 FROM ({v}) AS v \
                 WHERE audit_log.id = v.c0"
            );
            step.bound(&sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(links.len())
    }

    /// Sealed entries after chain position `after`, in chain order.
    pub async fn audit_chain_page(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE chain_seq > $1 \
             ORDER BY chain_seq LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(entry_from_row).collect())
    }

    /// How many entries wait for the sealer.
    pub async fn count_unsealed_audit(&self) -> Result<i64, StoreError> {
        use sqlx::Row;
        let row = sqlx::query("SELECT COUNT(*) FROM audit_log WHERE chain_seq IS NULL")
            .fetch_one(self.reader())
            .await?;
        Ok(row.get(0))
    }
}

/// What to show of the audit log (SPEC §12: filter, export).
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Entries older than this id (the `next` of the page before).
    pub before_id: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Entries matching `f`, newest first.
    pub async fn search_audit(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        // An action ending in '.' matches the whole family ("auth." → auth.*).
        let action_prefix = f
            .action
            .as_deref()
            .filter(|a| a.ends_with('.'))
            .map(|a| format!("{}%", a.replace(['%', '_'], "")));
        let action_exact = f.action.as_deref().filter(|a| !a.ends_with('.'));
        let rows = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log \
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2) \
             AND ($3 IS NULL OR action LIKE $3) AND ($4 IS NULL OR target = $4) \
             AND ($5 IS NULL OR outcome = $5) AND ($6 IS NULL OR at >= $6) \
             AND ($7 IS NULL OR at < $7) AND ($8 IS NULL OR id < $8) \
             ORDER BY id DESC LIMIT $9"
        ))
        .bind(f.actor.as_deref())
        .bind(action_exact)
        .bind(action_prefix)
        .bind(f.target.as_deref())
        .bind(f.outcome.as_deref())
        .bind(f.since)
        .bind(f.until)
        .bind(f.before_id)
        .bind(f.limit)
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(entry_from_row).collect())
    }
}
