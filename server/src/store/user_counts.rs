//! How many users a user-list filter matches, and how many of them are
//! administrators (the console names both before a bulk action, SPEC §2.9). The
//! conditions are those of `list_users` (same parameters, same order); a test over
//! the API compares the count with the list.

use sqlx::Row;

use super::{user_list::UserFilter, Store, StoreError};

/// Who a filter selects.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct UserCounts {
    pub total: i64,
    pub administrators: i64,
    /// Whether `me` (the acting administrator) is among them.
    pub includes_self: bool,
}

impl Store {
    /// Counts the users `f` matches (its `after` and `limit` are ignored).
    pub async fn count_users(&self, f: &UserFilter, me: &str) -> Result<UserCounts, StoreError> {
        let q =
            f.q.as_deref()
                .filter(|q| !q.is_empty())
                .map(super::user_list::like_escape);
        let kind = f
            .source
            .as_deref()
            .filter(|s| !s.contains(':'))
            .map(|s| format!("{s}:%"));
        let row = sqlx::query(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN u.admin_role IS NOT NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN u.id = $8 THEN 1 ELSE 0 END), 0) FROM users u \
             WHERE ($1 IS NULL OR LOWER(u.id) LIKE $1 ESCAPE '\\' \
                    OR LOWER(u.display_name) LIKE $1 ESCAPE '\\' \
                    OR LOWER(COALESCE(u.email, '')) LIKE $1 ESCAPE '\\') \
             AND ($2 IS NULL OR EXISTS (SELECT 1 FROM user_groups g \
                                        WHERE g.user_id = u.id AND g.group_name = $2)) \
             AND ($3 IS NULL OR u.status = $3) \
             AND ($4 IS NULL OR u.source = $4 OR u.source LIKE $5) \
             AND ($6 IS NULL OR ($6 = 'valid') = EXISTS (SELECT 1 FROM client_certificates c \
                  WHERE c.user_id = u.id AND c.revoked_at IS NULL AND c.not_after > $7))",
        )
        .bind(q)
        .bind(f.group.as_deref())
        .bind(f.status.as_deref())
        .bind(f.source.as_deref())
        .bind(kind)
        .bind(f.cert.as_deref())
        .bind(f.now)
        .bind(me)
        .fetch_one(self.reader())
        .await?;
        Ok(UserCounts {
            total: row.get(0),
            administrators: row.get(1),
            includes_self: row.get::<i64, _>(2) > 0,
        })
    }
}
