//! RADIUS clients (NAS devices, SPEC §10.4): each is an application (kind `radius`)
//! with the address block it sends from, its sealed shared secret, and the
//! certificates passgrid's CA issued to it for RadSec.

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{applications::Application, Store, StoreError};

/// A NAS as stored (the secret still sealed).
#[derive(Clone, Debug)]
pub struct RadiusClientRow {
    pub name: String,
    /// One address or a CIDR block.
    pub address: String,
    /// Sealed under the master key; `None`: RadSec only.
    pub secret_sealed: Option<Vec<u8>>,
    pub require_message_authenticator: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A certificate issued to a NAS for RadSec, with its state.
#[derive(Clone, Debug, Serialize)]
pub struct RadiusClientCertificate {
    pub serial: String,
    pub client: String,
    pub fingerprint_sha256: String,
    pub not_after: i64,
    pub revoked: bool,
}

const COLUMNS: &str =
    "name, address, secret_sealed, require_message_authenticator, created_at, updated_at";

fn from_row(r: &AnyRow) -> RadiusClientRow {
    RadiusClientRow {
        name: r.get(0),
        address: r.get(1),
        secret_sealed: r.get(2),
        require_message_authenticator: r.get::<i64, _>(3) != 0,
        created_at: r.get(4),
        updated_at: r.get(5),
    }
}

impl Store {
    /// Stores a NAS together with its application, in one transaction; `Conflict` when
    /// the name is taken.
    pub async fn insert_radius_client(
        &self,
        app: &Application,
        client: &RadiusClientRow,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        super::applications::insert_application_in(&mut tx, app).await?;
        sqlx::query(&format!(
            "INSERT INTO radius_clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(&client.name)
        .bind(&client.address)
        .bind(client.secret_sealed.as_deref())
        .bind(i64::from(client.require_message_authenticator))
        .bind(client.created_at)
        .bind(client.updated_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn radius_clients(&self) -> Result<Vec<RadiusClientRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM radius_clients ORDER BY name"
        ))
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    pub async fn radius_client(&self, name: &str) -> Result<Option<RadiusClientRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM radius_clients WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// Records a certificate just issued to a NAS.
    pub async fn add_radius_client_certificate(
        &self,
        serial: &str,
        client: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO radius_client_certificates (serial, client, created_at) \
             VALUES ($1, $2, $3)",
        )
        .bind(serial)
        .bind(client)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Every NAS certificate with its revocation state (for the RadSec handshake check
    /// and the listings).
    pub async fn radius_client_certificates(
        &self,
    ) -> Result<Vec<RadiusClientCertificate>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.serial, r.client, c.fingerprint_sha256, c.not_after, c.revoked_at \
             FROM radius_client_certificates r \
             JOIN client_certificates c ON c.serial = r.serial ORDER BY r.client, r.serial",
        )
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| RadiusClientCertificate {
                serial: r.get(0),
                client: r.get(1),
                fingerprint_sha256: r.get(2),
                not_after: r.get(3),
                revoked: r.get::<Option<i64>, _>(4).is_some(),
            })
            .collect())
    }

    /// A fingerprint of the NAS table: changes when a NAS, its application's rules or
    /// its certificates change, so servers reload only then.
    pub async fn radius_clients_version(&self) -> Result<String, StoreError> {
        // The generation (moved by triggers on every change of the table's sources)
        // and the revoked RadSec certificates (a revocation is a change of the CA's).
        let row = sqlx::query(
            "SELECT (SELECT value FROM radius_generation WHERE id = 1), \
             (SELECT COUNT(*) FROM client_certificates c JOIN radius_client_certificates r \
                ON r.serial = c.serial WHERE c.revoked_at IS NOT NULL)",
        )
        .fetch_one(self.reader())
        .await?;
        let parts: Vec<i64> = (0..2).map(|i| r_get(&row, i)).collect();
        Ok(parts
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join("/"))
    }
}

fn r_get(row: &AnyRow, i: usize) -> i64 {
    row.try_get::<i64, _>(i).unwrap_or(0)
}
