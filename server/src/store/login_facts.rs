//! What one login step needs to know of the ID it names, in one statement: the user's
//! status and pattern, the groups (their policy is resolved in memory), the lock-out
//! count, and the generation of the policies (so a server knows when its copy of
//! them is stale). Unknown IDs take the same statement and get empty facts.

use std::sync::LazyLock;

use super::{
    lite::{FetchedRow, Value},
    lockouts::FailureCount,
    patterns::{LoginSubject, StoredPattern},
    Store, StoreError,
};

/// The facts of one claimed ID.
#[derive(Clone, Debug, Default)]
pub struct LoginFacts {
    /// The ID (for a challenge: its claimed user); `None` when there is no such challenge.
    pub login_id: Option<String>,
    /// Status and pattern, when the ID is a user.
    pub subject: Option<LoginSubject>,
    pub groups: Vec<String>,
    pub failures: Option<FailureCount>,
    pub policy_generation: i64,
    /// For the facts of a challenge: the challenge itself, read before it is consumed.
    pub challenge: Option<StoredChallenge>,
}

/// A challenge as stored, read by a verify before it consumes it.
#[derive(Clone)]
pub struct StoredChallenge {
    pub purpose: String,
    pub flow_hash: Vec<u8>,
    pub cert_fingerprint: Option<String>,
    pub seed: Vec<u8>,
    pub blocks_across: i64,
    pub blocks_down: i64,
    pub expires_at: i64,
    pub consumed: bool,
}

// The seed draws the grid: never in a log line.
impl std::fmt::Debug for StoredChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredChallenge")
            .field("purpose", &self.purpose)
            .field("expires_at", &self.expires_at)
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

/// The challenge's columns, read after the facts' (in `StoredChallenge`'s order).
const CHALLENGE_COLUMNS: [&str; 8] = [
    "purpose",
    "flow_hash",
    "cert_fingerprint",
    "seed",
    "blocks_across",
    "blocks_down",
    "expires_at",
    "consumed_at",
];
const FACT_COLUMNS: usize = 9;

/// The two statements, made once (they run twice per login round).
static FACTS_OF_ID: LazyLock<String> =
    LazyLock::new(|| facts_sql("SELECT CAST($1 AS TEXT) AS id", ""));
static FACTS_OF_CHALLENGE: LazyLock<String> = LazyLock::new(|| {
    let extra: String = CHALLENGE_COLUMNS
        .iter()
        .map(|c| format!(", k.{c}"))
        .collect();
    facts_sql(
        &format!(
            "SELECT claimed_user AS id, {} FROM challenges WHERE id = $1",
            CHALLENGE_COLUMNS.join(", ")
        ),
        &extra,
    )
});

/// `source`: a one-row subquery with the ID as `id` (and more columns in `extra`).
fn facts_sql(source: &str, extra: &str) -> String {
    format!(
        "SELECT k.id, u.status, p.sealed, p.is_initial, p.expires_at, f.failures, \
         f.locked_until, ug.group_name, \
         (SELECT value FROM policy_generation WHERE id = 1){extra} \
         FROM ({source}) k \
         LEFT JOIN users u ON u.id = k.id \
         LEFT JOIN patterns p ON p.user_id = k.id \
         LEFT JOIN login_failures f ON f.login_id = k.id \
         LEFT JOIN user_groups ug ON ug.user_id = k.id"
    )
}

fn facts_of(rows: &[FetchedRow]) -> Result<LoginFacts, StoreError> {
    let Some(first) = rows.first() else {
        return Ok(LoginFacts::default());
    };
    let login_id: Option<String> = first.get(0)?;
    let status: Option<String> = first.get(1)?;
    let subject = status.map(|status| LoginSubject {
        active: status == "active",
        pattern: first
            .get::<Option<Vec<u8>>>(2)
            .ok()
            .flatten()
            .map(|sealed| StoredPattern {
                sealed,
                is_initial: first.get::<Option<i64>>(3).ok().flatten().unwrap_or(0) != 0,
                expires_at: first.get(4).ok().flatten(),
            }),
    });
    let failures = first.get::<Option<i64>>(5)?.map(|failures| FailureCount {
        failures,
        locked_until: first.get(6).ok().flatten(),
    });
    let mut groups = Vec::new();
    for r in rows {
        if let Some(g) = r.get::<Option<String>>(7)? {
            groups.push(g);
        }
    }
    let challenge = match first.get::<Option<String>>(FACT_COLUMNS) {
        Ok(Some(purpose)) => {
            let at = |i: usize| FACT_COLUMNS + i;
            Some(StoredChallenge {
                purpose,
                flow_hash: first.get(at(1))?,
                cert_fingerprint: first.get(at(2))?,
                seed: first.get(at(3))?,
                blocks_across: first.get(at(4))?,
                blocks_down: first.get(at(5))?,
                expires_at: first.get(at(6))?,
                consumed: first.get::<Option<i64>>(at(7))?.is_some(),
            })
        }
        // The facts of an ID have no challenge columns.
        _ => None,
    };
    Ok(LoginFacts {
        login_id,
        subject,
        groups,
        failures,
        policy_generation: first.get::<Option<i64>>(8)?.unwrap_or(0),
        challenge,
    })
}

impl Store {
    /// The facts of `login_id` (known or not: the same statement either way).
    pub async fn login_facts(&self, login_id: &str) -> Result<LoginFacts, StoreError> {
        let rows = self
            .read_rows(&FACTS_OF_ID, &[Value::Text(login_id.to_owned())])
            .await?;
        facts_of(&rows)
    }

    /// The facts of the ID a login challenge was issued for, with the challenge (empty
    /// when there is no such challenge), so a verify needs one statement before its
    /// grid is consumed.
    pub async fn login_facts_of_challenge(
        &self,
        challenge_id: &str,
    ) -> Result<LoginFacts, StoreError> {
        let rows = self
            .read_rows(&FACTS_OF_CHALLENGE, &[Value::Text(challenge_id.to_owned())])
            .await?;
        facts_of(&rows)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{scratch::scratch_store, users::NewUser};

    #[tokio::test]
    async fn known_and_unknown_ids_take_the_same_statement() {
        let (_dir, store) = scratch_store().await;
        let user = NewUser {
            id: "ann",
            display_name: "Ann",
            email: None,
            admin_role: None,
            source: "local",
        };
        for g in ["a", "b"] {
            store.create_group(g, "", 1).await.expect("group");
        }
        store
            .create_user_in_groups(&user, &["a".into(), "b".into()], 1)
            .await
            .expect("user");
        let facts = store.login_facts("ann").await.expect("facts");
        assert_eq!(facts.login_id.as_deref(), Some("ann"));
        assert!(facts.subject.as_ref().is_some_and(|s| s.active));
        let mut groups = facts.groups.clone();
        groups.sort();
        assert_eq!(groups, ["a", "b"]);
        let nobody = store.login_facts("nobody").await.expect("facts");
        assert!(nobody.subject.is_none() && nobody.groups.is_empty());
        // A policy change moves the generation on.
        let before = nobody.policy_generation;
        store.save_policy("p", "{}", 2).await.expect("policy");
        assert!(
            store
                .login_facts("nobody")
                .await
                .expect("facts")
                .policy_generation
                > before
        );
        assert!(store
            .login_facts_of_challenge("no-such")
            .await
            .expect("facts")
            .login_id
            .is_none());
    }
}
