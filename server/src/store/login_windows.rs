//! Login-protect windows (SPEC §1.10): until when a user may sign in on another device.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Opens (or re-opens) the window of `user_id` until `open_until`.
    pub async fn open_login_window(
        &self,
        user_id: &str,
        open_until: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_windows (user_id, open_until, opened_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET open_until = excluded.open_until, \
             opened_at = excluded.opened_at",
        )
        .bind(user_id)
        .bind(open_until)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Until when the window of `user_id` is open, if it is open at `now`.
    pub async fn login_window(&self, user_id: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT open_until FROM login_windows WHERE user_id = $1 AND open_until > $2",
        )
        .bind(user_id)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Closes the window (used by the sign-in it let through, so one window lets one
    /// sign-in in).
    pub async fn close_login_window(&self, user_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_windows WHERE user_id = $1")
            .bind(user_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{scratch::scratch_store, users::NewUser};

    #[tokio::test]
    async fn a_window_is_open_for_its_time_only() {
        let (_dir, store) = scratch_store().await;
        let user = NewUser {
            id: "dee",
            display_name: "",
            email: None,
            admin_role: None,
            source: "local",
        };
        store.create_user(&user, 0).await.unwrap();
        assert_eq!(store.login_window("dee", 100).await.unwrap(), None);
        store.open_login_window("dee", 160, 100).await.unwrap();
        assert_eq!(store.login_window("dee", 159).await.unwrap(), Some(160));
        assert_eq!(
            store.login_window("dee", 160).await.unwrap(),
            None,
            "expired"
        );
        store.open_login_window("dee", 260, 200).await.unwrap();
        store.close_login_window("dee").await.unwrap();
        assert_eq!(store.login_window("dee", 201).await.unwrap(), None, "used");
    }
}
