//! Extra attributes of users (SPEC §8, issue #19): values a directory or a CSV file
//! carries beyond ID, name and mail — e.g. `immutable_id` from AD's objectGUID,
//! which Microsoft 365 wants as the NameID — for SAML service providers.

use sqlx::Row;

use super::{Store, StoreError};

/// One change: set `name` of `user_id` to `value`, or remove it (`None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeChange {
    pub user_id: String,
    pub name: String,
    pub value: Option<String>,
}

impl Store {
    /// The attributes of one user, by name.
    pub async fn user_attributes(
        &self,
        user_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows =
            sqlx::query("SELECT name, value FROM user_attributes WHERE user_id = $1 ORDER BY name")
                .bind(user_id)
                .fetch_all(self.reader())
                .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Every attribute of every user: (user, name, value), for diffing an import in
    /// memory.
    pub async fn all_user_attributes(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query("SELECT user_id, name, value FROM user_attributes")
            .fetch_all(self.reader())
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }
}

/// Applies attribute changes inside an import's transaction.
pub(crate) async fn apply_attribute_changes_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    changes: &[AttributeChange],
    now: i64,
) -> Result<(), StoreError> {
    for c in changes {
        match &c.value {
            Some(value) => {
                sqlx::query(
                    "INSERT INTO user_attributes (user_id, name, value, updated_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, name) \
                     DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                )
                .bind(&c.user_id)
                .bind(&c.name)
                .bind(value)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM user_attributes WHERE user_id = $1 AND name = $2")
                    .bind(&c.user_id)
                    .bind(&c.name)
                    .execute(&mut **tx)
                    .await?;
            }
        }
    }
    Ok(())
}
