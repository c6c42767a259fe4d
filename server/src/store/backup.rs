//! Online backups of a SQLite installation (SPEC §13 `passgrid backup`).

use super::{Backend, Store, StoreError};

impl Store {
    /// Writes a consistent copy of the SQLite database to `path` (an empty file or
    /// none) while servers keep writing: `VACUUM INTO` reads one snapshot, which WAL
    /// keeps stable without holding up writers.
    pub async fn backup_into(&self, path: &str) -> Result<(), StoreError> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::UnsupportedUrl);
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(self.reader())
            .await?;
        Ok(())
    }

    /// Moves the whole WAL into the database file and empties it, so that the file
    /// alone holds everything (before it is moved into place by a restore).
    pub async fn checkpoint_all(&self) -> Result<(), StoreError> {
        if self.backend() == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(self.writer())
                .await?;
        }
        Ok(())
    }
}
