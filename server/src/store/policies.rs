//! Policies and their attachment to groups (SPEC §7). The settings column holds a
//! JSON object that `policy.rs` validated; this module only moves it.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

/// The policy that applies to everyone (it may have no row).
const DEFAULT_POLICY: &str = "default";

/// A policy as stored.
#[derive(Clone, Debug, Serialize)]
pub struct StoredPolicy {
    pub name: String,
    /// JSON object: key -> value text.
    pub settings: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A policy attached to a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub policy: String,
    pub group: String,
    pub priority: i64,
}

/// A group policy that applies to a user, with the group it comes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub attachment: Attachment,
    pub settings: String,
}

/// What resolving one user's policy needs: the `default` policy's settings (if it has
/// a row) and every group policy of the user's groups.
#[derive(Clone, Debug, Default)]
pub struct PolicyLayers {
    pub default: Option<String>,
    pub candidates: Vec<Candidate>,
}

/// The default policy's row and the user's group policies, in one statement; `$2` is
/// the user ID or a subquery's result (see the callers).
fn layers_sql(user_expr: &str) -> String {
    format!(
        "SELECT p.name, p.settings, '', CAST(0 AS BIGINT) FROM policies p WHERE p.name = $1 \
         UNION ALL \
         SELECT p.name, p.settings, pg.group_name, pg.priority FROM user_groups ug \
         JOIN policy_groups pg ON pg.group_name = ug.group_name \
         JOIN policies p ON p.name = pg.policy_name \
         WHERE ug.user_id = {user_expr}"
    )
}

impl Store {
    pub async fn policies(&self) -> Result<Vec<StoredPolicy>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, settings, created_at, updated_at FROM policies ORDER BY name",
        )
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(stored_policy).collect())
    }

    pub async fn policy(&self, name: &str) -> Result<Option<StoredPolicy>, StoreError> {
        let row = sqlx::query(
            "SELECT name, settings, created_at, updated_at FROM policies WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(stored_policy))
    }

    /// Creates the policy or replaces its settings.
    pub async fn save_policy(
        &self,
        name: &str,
        settings: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO policies (name, settings, created_at, updated_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (name) DO UPDATE SET settings = excluded.settings, \
             updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(settings)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Deletes a policy (its attachments go with it); false when there was none.
    pub async fn delete_policy(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM policies WHERE name = $1")
            .bind(name)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every attachment, by policy then priority (highest first) then group.
    pub async fn policy_attachments(&self) -> Result<Vec<Attachment>, StoreError> {
        let rows = sqlx::query(
            "SELECT policy_name, group_name, priority FROM policy_groups \
             ORDER BY policy_name, priority DESC, group_name",
        )
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Attachment {
                policy: r.get(0),
                group: r.get(1),
                priority: r.get(2),
            })
            .collect())
    }

    /// Attaches `policy` to `group`, or changes the priority of that attachment.
    /// `StoreError::Conflict` when the group already has another policy.
    pub async fn attach_policy(
        &self,
        policy: &str,
        group: &str,
        priority: i64,
    ) -> Result<(), StoreError> {
        // The WHERE of the upsert leaves another policy's attachment alone: no row
        // changes, and that is the conflict.
        let done = sqlx::query(
            "INSERT INTO policy_groups (group_name, policy_name, priority) VALUES ($1, $2, $3) \
             ON CONFLICT (group_name) DO UPDATE SET priority = excluded.priority \
             WHERE policy_groups.policy_name = excluded.policy_name",
        )
        .bind(group)
        .bind(policy)
        .bind(priority)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    /// Detaches `policy` from `group`; false when it was not attached there.
    pub async fn detach_policy(&self, policy: &str, group: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM policy_groups WHERE group_name = $1 AND policy_name = $2")
                .bind(group)
                .bind(policy)
                .execute(self.writer())
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The policy layers of `user_id` (known or not: the same statement either way).
    pub async fn policy_layers_for_user(&self, user_id: &str) -> Result<PolicyLayers, StoreError> {
        let rows = sqlx::query(&layers_sql("$2"))
            .bind(DEFAULT_POLICY)
            .bind(user_id)
            .fetch_all(self.reader())
            .await?;
        Ok(layers(&rows))
    }

    /// The policy layers of the user a login challenge was issued for (the default
    /// alone when there is no such challenge), so a verify needs one statement.
    pub async fn policy_layers_for_challenge(
        &self,
        challenge_id: &str,
    ) -> Result<PolicyLayers, StoreError> {
        let rows = sqlx::query(&layers_sql(
            "(SELECT claimed_user FROM challenges WHERE id = $2)",
        ))
        .bind(DEFAULT_POLICY)
        .bind(challenge_id)
        .fetch_all(self.reader())
        .await?;
        Ok(layers(&rows))
    }
}

fn stored_policy(r: &sqlx::any::AnyRow) -> StoredPolicy {
    StoredPolicy {
        name: r.get(0),
        settings: r.get(1),
        created_at: r.get(2),
        updated_at: r.get(3),
    }
}

fn layers(rows: &[sqlx::any::AnyRow]) -> PolicyLayers {
    let mut out = PolicyLayers::default();
    for r in rows {
        let group: String = r.get(2);
        if group.is_empty() {
            out.default = Some(r.get(1));
        } else {
            out.candidates.push(Candidate {
                attachment: Attachment {
                    policy: r.get(0),
                    group,
                    priority: r.get(3),
                },
                settings: r.get(1),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::store::scratch::scratch_store;

    #[tokio::test]
    async fn layers_come_in_one_statement_and_attachments_cascade() {
        let (_dir, store) = scratch_store().await;
        store.create_group("sales", "", 1).await.expect("group");
        store.create_group("ops", "", 1).await.expect("group");
        let ann = crate::store::users::NewUser {
            id: "ann",
            display_name: "Ann",
            email: None,
            admin_role: None,
            source: "local",
        };
        store
            .create_user_in_groups(&ann, &["sales".into(), "ops".into()], 1)
            .await
            .expect("user");
        store
            .save_policy("default", r#"{"method":"grid"}"#, 1)
            .await
            .expect("default");
        store.save_policy("strict", "{}", 1).await.expect("strict");
        store.save_policy("other", "{}", 1).await.expect("other");
        store
            .attach_policy("strict", "sales", 10)
            .await
            .expect("attach");
        // Re-attaching changes the priority; another policy on the same group conflicts.
        store
            .attach_policy("strict", "sales", 20)
            .await
            .expect("again");
        assert!(matches!(
            store.attach_policy("other", "sales", 5).await,
            Err(crate::store::StoreError::Conflict)
        ));
        store.attach_policy("other", "ops", 5).await.expect("ops");
        let layers = store.policy_layers_for_user("ann").await.expect("layers");
        assert_eq!(layers.default.as_deref(), Some(r#"{"method":"grid"}"#));
        let mut got: Vec<_> = layers
            .candidates
            .iter()
            .map(|c| (c.attachment.policy.as_str(), c.attachment.priority))
            .collect();
        got.sort();
        assert_eq!(got, [("other", 5), ("strict", 20)]);
        let nobody = store
            .policy_layers_for_user("nobody")
            .await
            .expect("layers");
        assert!(nobody.candidates.is_empty() && nobody.default.is_some());
        assert!(store.delete_policy("strict").await.expect("delete"));
        assert_eq!(store.policy_attachments().await.expect("list").len(), 1);
        assert!(store.detach_policy("other", "ops").await.expect("detach"));
        assert!(!store.detach_policy("other", "ops").await.expect("detach"));
    }
}
