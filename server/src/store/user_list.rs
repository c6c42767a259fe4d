//! The administrators' user list (SPEC §8.1, §9.2): search, filters and keyset paging,
//! so the first page stays fast at 100,000 users.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

/// What to list.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    /// Part of the ID, name or mail address (case-insensitive).
    pub q: Option<String>,
    pub group: Option<String>,
    pub status: Option<String>,
    /// Exact source ("local", "csv", "ldap:corp"), or a kind ("ldap", "csv") for all.
    pub source: Option<String>,
    /// `valid`: users holding a valid certificate now; `none`: users holding none.
    pub cert: Option<String>,
    /// Now (Unix seconds), for what "valid" means.
    pub now: i64,
    /// Start after this ID (the `next` of the page before).
    pub after: Option<String>,
    pub limit: i64,
}

/// One row of the list.
#[derive(Clone, Debug, Serialize)]
pub struct UserListRow {
    pub id: String,
    pub display_name: String,
    pub email: Option<String>,
    pub status: String,
    pub source: String,
    pub admin_role: Option<String>,
    /// Valid (unrevoked, unexpired) certificates the user holds.
    pub valid_certificates: i64,
}

/// `%`, `_` and `\` taken literally in a LIKE pattern.
pub(super) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    pub async fn list_users(&self, f: &UserFilter) -> Result<Vec<UserListRow>, StoreError> {
        let q = f.q.as_deref().filter(|q| !q.is_empty()).map(like_escape);
        let kind = f
            .source
            .as_deref()
            .filter(|s| !s.contains(':'))
            .map(|s| format!("{s}:%"));
        let rows = sqlx::query(
            "SELECT u.id, u.display_name, u.email, u.status, u.source, u.admin_role, \
             (SELECT COUNT(*) FROM client_certificates c WHERE c.user_id = u.id \
              AND c.revoked_at IS NULL AND c.not_after > $9) FROM users u \
             WHERE ($1 IS NULL OR LOWER(u.id) LIKE $1 ESCAPE '\\' \
                    OR LOWER(u.display_name) LIKE $1 ESCAPE '\\' \
                    OR LOWER(COALESCE(u.email, '')) LIKE $1 ESCAPE '\\') \
             AND ($2 IS NULL OR EXISTS (SELECT 1 FROM user_groups g \
                                        WHERE g.user_id = u.id AND g.group_name = $2)) \
             AND ($3 IS NULL OR u.status = $3) \
             AND ($4 IS NULL OR u.source = $4 OR u.source LIKE $5) \
             AND ($6 IS NULL OR u.id > $6) \
             AND ($8 IS NULL OR ($8 = 'valid') = EXISTS (SELECT 1 FROM client_certificates c \
                  WHERE c.user_id = u.id AND c.revoked_at IS NULL AND c.not_after > $9)) \
             ORDER BY u.id LIMIT $7",
        )
        .bind(q)
        .bind(f.group.as_deref())
        .bind(f.status.as_deref())
        .bind(f.source.as_deref())
        .bind(kind)
        .bind(f.after.as_deref())
        .bind(f.limit)
        .bind(f.cert.as_deref())
        .bind(f.now)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| UserListRow {
                id: r.get(0),
                display_name: r.get(1),
                email: r.get(2),
                status: r.get(3),
                source: r.get(4),
                admin_role: r.get(5),
                valid_certificates: r.get(6),
            })
            .collect())
    }

    /// Every user the filter matches (its `after` and `limit` are ignored), by keyset
    /// pages; stops once more than `cap` are found (the caller sees `len() > cap`).
    pub async fn all_users_matching(
        &self,
        filter: &UserFilter,
        cap: usize,
    ) -> Result<Vec<UserListRow>, StoreError> {
        const PAGE: i64 = 1000;
        let mut page_filter = UserFilter {
            after: None,
            limit: PAGE,
            ..filter.clone()
        };
        let mut users = Vec::new();
        loop {
            let page = self.list_users(&page_filter).await?;
            let full = page.len() as i64 == PAGE;
            page_filter.after = page.last().map(|u| u.id.clone());
            users.extend(page);
            if !full || users.len() > cap {
                return Ok(users);
            }
        }
    }

    /// Deletes a user (and, by cascade, their pattern, sessions, certificates' owner
    /// link, tokens, memberships); whether there was one.
    pub async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::like_escape;

    #[test]
    fn wildcards_in_a_search_are_literal() {
        assert_eq!(like_escape("A_b%"), "%a\\_b\\%%");
    }
}
