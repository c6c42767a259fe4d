//! Groups and memberships (SPEC §7, §8).

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

/// A group with its member count.
#[derive(Clone, Debug, Serialize)]
pub struct GroupSummary {
    pub name: String,
    pub description: String,
    pub members: i64,
}

impl Store {
    /// Creates a group; `StoreError::Conflict` when the name is taken.
    pub async fn create_group(
        &self,
        name: &str,
        description: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO groups (name, description, created_at) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(description)
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    pub async fn groups(&self) -> Result<Vec<GroupSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.name, g.description, COUNT(ug.user_id) FROM groups g \
             LEFT JOIN user_groups ug ON ug.group_name = g.name \
             GROUP BY g.name, g.description ORDER BY g.name",
        )
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| GroupSummary {
                name: r.get(0),
                description: r.get(1),
                members: r.get(2),
            })
            .collect())
    }

    /// The names among `names` that are not groups.
    pub async fn missing_groups(&self, names: &[String]) -> Result<Vec<String>, StoreError> {
        let known: std::collections::HashSet<String> =
            self.groups().await?.into_iter().map(|g| g.name).collect();
        Ok(names
            .iter()
            .filter(|n| !known.contains(*n))
            .cloned()
            .collect())
    }

    /// The groups of `user_id`, by name.
    pub async fn user_groups(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT group_name FROM user_groups WHERE user_id = $1 ORDER BY group_name",
        )
        .bind(user_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Changes a group's description; whether the group exists.
    pub async fn set_group_description(
        &self,
        name: &str,
        description: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE groups SET description = $2 WHERE name = $1")
            .bind(name)
            .bind(description)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a group with its memberships and its policy attachment (the users
    /// stay); whether it existed.
    pub async fn delete_group(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.writer().begin().await?;
        for sql in [
            "DELETE FROM user_groups WHERE group_name = $1",
            "DELETE FROM policy_groups WHERE group_name = $1",
        ] {
            sqlx::query(sql).bind(name).execute(&mut *tx).await?;
        }
        let done = sqlx::query("DELETE FROM groups WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every user's groups, sorted by name (exports).
    pub async fn groups_by_user(
        &self,
    ) -> Result<std::collections::HashMap<String, Vec<String>>, StoreError> {
        let mut groups: std::collections::HashMap<String, Vec<String>> = Default::default();
        for (user, group) in self.all_memberships().await? {
            groups.entry(user).or_default().push(group);
        }
        for list in groups.values_mut() {
            list.sort();
        }
        Ok(groups)
    }

    /// Every membership, as (user, group), for diffing a whole import at once.
    pub async fn all_memberships(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT user_id, group_name FROM user_groups")
            .fetch_all(self.reader())
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

/// Replaces the groups of `user_id` inside a transaction.
pub(crate) async fn set_user_groups(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    groups: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM user_groups WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for g in groups {
        sqlx::query("INSERT INTO user_groups (user_id, group_name) VALUES ($1, $2)")
            .bind(user_id)
            .bind(g)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
