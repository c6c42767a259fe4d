//! Reply attributes per group (SPEC §10.4): what an Access-Accept carries for members
//! of a group, as configured text, checked by the `radius` front end when set.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Replaces the reply attributes of `group` (empty: none).
    pub async fn set_radius_group_replies(
        &self,
        group: &str,
        attributes: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("DELETE FROM radius_group_replies WHERE group_name = $1")
            .bind(group)
            .execute(&mut *tx)
            .await?;
        for (position, attribute) in attributes.iter().enumerate() {
            sqlx::query(
                "INSERT INTO radius_group_replies (group_name, position, attribute) \
                 VALUES ($1, $2, $3)",
            )
            .bind(group)
            .bind(position as i64)
            .bind(attribute)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every group's reply attributes, in order.
    pub async fn radius_group_replies(&self) -> Result<BTreeMap<String, Vec<String>>, StoreError> {
        let rows = sqlx::query(
            "SELECT group_name, attribute FROM radius_group_replies \
             ORDER BY group_name, position",
        )
        .fetch_all(self.reader())
        .await?;
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in &rows {
            out.entry(r.get(0)).or_default().push(r.get(1));
        }
        Ok(out)
    }
}
