//! Users and administrators.

use serde::Serialize;
use sqlx::Row;

use super::{
    patterns::{insert_initial_pattern, NewInitialPattern},
    Store, StoreError,
};

/// A user as stored.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: String,
    pub display_name: String,
    pub email: Option<String>,
    pub admin_role: Option<String>,
    pub status: String,
    pub source: String,
    pub created_at: i64,
}

/// What is needed to create a user.
pub struct NewUser<'a> {
    pub id: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub admin_role: Option<&'a str>,
    pub source: &'a str,
}

const USER_COLUMNS: &str = "id, display_name, email, admin_role, status, source, created_at";

fn user_from_row(r: &sqlx::any::AnyRow) -> User {
    User {
        id: r.get(0),
        display_name: r.get(1),
        email: r.get(2),
        admin_role: r.get(3),
        status: r.get(4),
        source: r.get(5),
        created_at: r.get(6),
    }
}

pub(crate) async fn insert_user<'e, E>(
    executor: E,
    user: &NewUser<'_>,
    now: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO users (id, display_name, email, admin_role, status, source, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'active', $5, $6, $6)",
    )
    .bind(user.id)
    .bind(user.display_name)
    .bind(user.email)
    .bind(user.admin_role)
    .bind(user.source)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

impl Store {
    /// Creates a user; `StoreError::Conflict` when the ID is taken.
    pub async fn create_user(&self, user: &NewUser<'_>, now: i64) -> Result<(), StoreError> {
        self.create_user_with(user, &[], None, now).await
    }

    /// Creates a user with its group memberships in one transaction.
    pub async fn create_user_in_groups(
        &self,
        user: &NewUser<'_>,
        groups: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        self.create_user_with(user, groups, None, now).await
    }

    /// Creates a user (an administrator, from the command line) with its initial
    /// pattern in one transaction: never an account nobody can sign in to.
    pub async fn create_user_with_initial_pattern(
        &self,
        user: &NewUser<'_>,
        pattern: &NewInitialPattern,
        now: i64,
    ) -> Result<(), StoreError> {
        self.create_user_with(user, &[], Some(pattern), now).await
    }

    async fn create_user_with(
        &self,
        user: &NewUser<'_>,
        groups: &[String],
        pattern: Option<&NewInitialPattern>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        if user.admin_role.is_some() {
            // An administrator however made ends the first-administrator set-up links.
            super::setup_tokens::retire_setup_links(&mut tx).await?;
        }
        insert_user(&mut *tx, user, now).await?;
        super::groups::set_user_groups(&mut tx, user.id, groups).await?;
        if let Some(pattern) = pattern {
            insert_initial_pattern(&mut *tx, user.id, pattern, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        Ok(row.as_ref().map(user_from_row))
    }

    pub async fn count_admins(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM users WHERE admin_role IS NOT NULL")
            .fetch_one(self.reader())
            .await?;
        Ok(row.get(0))
    }

    /// How many active accounts hold the `admin` role: the last one may not be
    /// disabled or deleted (nobody could administer the installation any more).
    pub async fn active_admin_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM users WHERE admin_role = 'admin' AND status = 'active'",
        )
        .fetch_one(self.reader())
        .await?;
        Ok(row.get(0))
    }

    /// Mail addresses of administrators (for notices such as a lock-out).
    pub async fn admin_emails(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT email FROM users WHERE admin_role IS NOT NULL AND email IS NOT NULL \
             AND status = 'active' ORDER BY id",
        )
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
