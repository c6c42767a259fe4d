//! Applying a whole user import (CSV file, directory sync run) in one transaction:
//! nothing of it is stored unless all of it is.

use sqlx::Row;

use super::{batch::values, groups::set_user_groups, Store, StoreError};

/// A user as an import compares it.
#[derive(Clone, Debug)]
pub struct UserBrief {
    pub id: String,
    pub display_name: String,
    pub email: Option<String>,
    pub status: String,
    pub source: String,
    /// Set for administrators (of any role).
    pub admin_role: Option<String>,
}

/// A new user of an import, with its sealed initial pattern.
pub struct ImportedUser {
    pub id: String,
    pub display_name: String,
    pub email: Option<String>,
    pub status: String,
    pub groups: Vec<String>,
    pub pattern_sealed: Vec<u8>,
}

/// Changes to an existing user (`None`: leave as it is).
pub struct UserUpdate {
    pub id: String,
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub status: Option<String>,
    pub groups: Option<Vec<String>>,
    /// A new owner: an administrator adopts the account into a source (or back to
    /// `local`); sources change only the accounts they own.
    pub source: Option<String>,
}

/// Everything one import writes.
pub struct ImportBatch {
    pub source: String,
    pub new_groups: Vec<String>,
    pub adds: Vec<ImportedUser>,
    pub updates: Vec<UserUpdate>,
    pub key_id: String,
    pub pattern_expires_at: i64,
    /// Extra attributes set or removed (new users' included).
    pub attributes: Vec<super::user_attributes::AttributeChange>,
}

/// Rows per multi-row INSERT (under SQLite's parameter limit with room to spare).
const ROWS_PER_INSERT: usize = 500;

impl Store {
    /// Every user, briefly, for diffing an import in memory (one query, not one per row).
    pub async fn user_briefs(&self) -> Result<Vec<UserBrief>, StoreError> {
        let rows =
            sqlx::query("SELECT id, display_name, email, status, source, admin_role FROM users")
                .fetch_all(self.reader())
                .await?;
        Ok(rows
            .iter()
            .map(|r| UserBrief {
                id: r.get(0),
                display_name: r.get(1),
                email: r.get(2),
                status: r.get(3),
                source: r.get(4),
                admin_role: r.get(5),
            })
            .collect())
    }

    /// Writes the whole import in one transaction.
    pub async fn apply_user_import(&self, batch: &ImportBatch, now: i64) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        for g in &batch.new_groups {
            sqlx::query("INSERT INTO groups (name, description, created_at) VALUES ($1, '', $2)")
                .bind(g)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        for chunk in batch.adds.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO users (id, display_name, email, status, source, created_at, updated_at) \
                 VALUES {}",
                values(chunk.len(), 7, &mut 1)
            );
            let mut q = sqlx::query(&sql);
            for u in chunk {
                q = q
                    .bind(&u.id)
                    .bind(&u.display_name)
                    .bind(&u.email)
                    .bind(&u.status)
                    .bind(&batch.source)
                    .bind(now)
                    .bind(now);
            }
            q.execute(&mut *tx).await?;
            let sql = format!(
                "INSERT INTO patterns (user_id, sealed, key_id, is_initial, expires_at, created_at) \
                 VALUES {}",
                values(chunk.len(), 6, &mut 1)
            );
            let mut q = sqlx::query(&sql);
            for u in chunk {
                q = q
                    .bind(&u.id)
                    .bind(&u.pattern_sealed)
                    .bind(&batch.key_id)
                    .bind(1_i64)
                    .bind(batch.pattern_expires_at)
                    .bind(now);
            }
            q.execute(&mut *tx).await?;
            let memberships: Vec<(&str, &str)> = chunk
                .iter()
                .flat_map(|u| u.groups.iter().map(move |g| (u.id.as_str(), g.as_str())))
                .collect();
            for m in memberships.chunks(ROWS_PER_INSERT) {
                let sql = format!(
                    "INSERT INTO user_groups (user_id, group_name) VALUES {}",
                    values(m.len(), 2, &mut 1)
                );
                let mut q = sqlx::query(&sql);
                for (u, g) in m {
                    q = q.bind(*u).bind(*g);
                }
                q.execute(&mut *tx).await?;
            }
        }
        for u in &batch.updates {
            update_user_in(&mut tx, u, now).await?;
        }
        super::user_attributes::apply_attribute_changes_in(&mut tx, &batch.attributes, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Changes one user (the fields that are `Some`) in one transaction.
    pub async fn update_user(&self, update: &UserUpdate, now: i64) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        update_user_in(&mut tx, update, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn update_user_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    u: &UserUpdate,
    now: i64,
) -> Result<(), StoreError> {
    if let Some(name) = &u.display_name {
        sqlx::query("UPDATE users SET display_name = $1, updated_at = $2 WHERE id = $3")
            .bind(name)
            .bind(now)
            .bind(&u.id)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(email) = &u.email {
        sqlx::query("UPDATE users SET email = $1, updated_at = $2 WHERE id = $3")
            .bind(email)
            .bind(now)
            .bind(&u.id)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(status) = &u.status {
        sqlx::query("UPDATE users SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now)
            .bind(&u.id)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(source) = &u.source {
        sqlx::query("UPDATE users SET source = $1, updated_at = $2 WHERE id = $3")
            .bind(source)
            .bind(now)
            .bind(&u.id)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(groups) = &u.groups {
        set_user_groups(tx, &u.id, groups).await?;
    }
    Ok(())
}
