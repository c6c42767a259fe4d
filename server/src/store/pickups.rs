//! Certificates waiting for their one download (see the 0004 migration).

use sqlx::Row;

use super::{Store, StoreError};

/// A pickup as stored: secrets still sealed.
pub struct StoredPickup {
    pub user_id: String,
    pub serial: String,
    pub key_sealed: Vec<u8>,
    pub cert_der: Vec<u8>,
    pub password_sealed: Vec<u8>,
    pub expires_at: i64,
    pub downloads_left: i64,
    pub by_link: bool,
}

/// How a pickup is reached.
#[derive(Clone, Copy, Debug)]
pub enum Access<'a> {
    /// By the signed-in user it was issued to.
    User(&'a str),
    /// By its one-time link alone (only pickups made for a link).
    Link,
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl Access<'_> {
    fn clause(self) -> &'static str {
        match self {
            Access::User(_) => "by_link = 0 AND user_id = $3",
            Access::Link => "by_link = 1",
        }
    }

    fn bind<'q>(self, q: AnyQuery<'q>) -> AnyQuery<'q>
    where
        Self: 'q,
    {
        match self {
            Access::User(user) => q.bind(user),
            Access::Link => q,
        }
    }
}

const COLUMNS: &str =
    "user_id, serial, key_sealed, cert_der, password_sealed, expires_at, downloads_left, by_link";

fn pickup(r: &sqlx::any::AnyRow) -> StoredPickup {
    StoredPickup {
        user_id: r.get(0),
        serial: r.get(1),
        key_sealed: r.get(2),
        cert_der: r.get(3),
        password_sealed: r.get(4),
        expires_at: r.get(5),
        downloads_left: r.get(6),
        by_link: r.get::<i64, _>(7) == 1,
    }
}

impl Store {
    pub async fn insert_pickup(
        &self,
        token_hash: &[u8],
        p: &StoredPickup,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO certificate_pickups (token_hash, user_id, serial, key_sealed, cert_der, \
             password_sealed, expires_at, created_at, downloads_left, by_link) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(token_hash)
        .bind(&p.user_id)
        .bind(&p.serial)
        .bind(&p.key_sealed)
        .bind(&p.cert_der)
        .bind(&p.password_sealed)
        .bind(p.expires_at)
        .bind(now)
        .bind(p.downloads_left)
        .bind(i64::from(p.by_link))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The unexpired pickup with this token, left in place (to show the page).
    pub async fn pickup(
        &self,
        token_hash: &[u8],
        access: Access<'_>,
        now: i64,
    ) -> Result<Option<StoredPickup>, StoreError> {
        let row = access
            .bind(
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM certificate_pickups \
                     WHERE token_hash = $1 AND expires_at > $2 AND downloads_left > 0 AND {}",
                    access.clause()
                ))
                .bind(token_hash)
                .bind(now),
            )
            .fetch_optional(self.reader())
            .await?;
        Ok(row.as_ref().map(pickup))
    }

    /// Counts one download off in one statement, so of two concurrent downloads of the
    /// last allowed one only one gets it; after the last, the row goes, and the
    /// sealed key with it.
    pub async fn take_pickup(
        &self,
        token_hash: &[u8],
        access: Access<'_>,
        now: i64,
    ) -> Result<Option<StoredPickup>, StoreError> {
        let row = access
            .bind(
                sqlx::query(&format!(
                    "UPDATE certificate_pickups \
                     SET downloads_left = downloads_left - 1, downloads_done = downloads_done + 1 \
                     WHERE token_hash = $1 AND expires_at > $2 AND downloads_left > 0 AND {} \
                     RETURNING {COLUMNS}",
                    access.clause()
                ))
                .bind(token_hash)
                .bind(now),
            )
            .fetch_optional(self.writer())
            .await?;
        let taken = row.as_ref().map(pickup);
        if taken.as_ref().is_some_and(|p| p.downloads_left == 0) {
            sqlx::query(
                "DELETE FROM certificate_pickups WHERE token_hash = $1 AND downloads_left = 0",
            )
            .bind(token_hash)
            .execute(self.writer())
            .await?;
        }
        Ok(taken)
    }

    pub async fn delete_pickup(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM certificate_pickups WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Expired pickups go, and their keys with them (and any left behind by a
    /// download that stopped half-way); returns the serials of the certificates that
    /// were never downloaded, which nobody can ever use now.
    pub async fn purge_pickups(&self, now: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "DELETE FROM certificate_pickups WHERE expires_at <= $1 OR downloads_left = 0 \
             RETURNING serial, downloads_done",
        )
        .bind(now)
        .fetch_all(self.writer())
        .await?;
        Ok(rows
            .iter()
            .filter(|r| r.get::<i64, _>(1) == 0)
            .map(|r| r.get(0))
            .collect())
    }
}
