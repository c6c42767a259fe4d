//! SAML service providers (SPEC §10.4): each belongs to one application (kind
//! `saml`) and keeps the metadata it was registered with, from which alone its
//! endpoints and certificates are taken.

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{applications::Application, Store, StoreError};

/// An SP's settings as stored (the metadata XML is read separately, see
/// [`Store::saml_sp_metadata`]: it is large and its parse is cached).
#[derive(Clone, Debug, Serialize)]
pub struct SamlSpRow {
    pub application: String,
    pub entity_id: String,
    pub metadata_url: Option<String>,
    pub metadata_fetched_at: Option<i64>,
    pub preset: Option<String>,
    /// `persistent`, `email`, `login`, `transient` or `attr:NAME`.
    pub name_id: String,
    pub name_id_format: Option<String>,
    /// `NAME=FIELD` each.
    pub attributes: Vec<String>,
    /// `assertion`, `response` or `both`.
    pub sign: String,
    /// `aes256-gcm`, `aes128-cbc` or `off`.
    pub encrypt: String,
    pub require_signed_requests: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "application, entity_id, metadata_url, metadata_fetched_at, preset, \
     name_id, name_id_format, attributes, sign, encrypt, require_signed_requests, created_at, \
     updated_at";

fn from_row(r: &AnyRow) -> SamlSpRow {
    SamlSpRow {
        application: r.get(0),
        entity_id: r.get(1),
        metadata_url: r.get(2),
        metadata_fetched_at: r.get(3),
        preset: r.get(4),
        name_id: r.get(5),
        name_id_format: r.get(6),
        attributes: r
            .get::<String, _>(7)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        sign: r.get(8),
        encrypt: r.get(9),
        require_signed_requests: r.get::<i64, _>(10) != 0,
        created_at: r.get(11),
        updated_at: r.get(12),
    }
}

impl Store {
    /// Stores an SP with its application in one transaction; `Conflict` when the
    /// name or the entity ID is taken.
    pub async fn insert_saml_sp(
        &self,
        app: &Application,
        sp: &SamlSpRow,
        metadata_xml: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        super::applications::insert_application_in(&mut tx, app).await?;
        sqlx::query(&format!(
            "INSERT INTO saml_sps ({COLUMNS}, metadata_xml) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&sp.application)
        .bind(&sp.entity_id)
        .bind(sp.metadata_url.as_deref())
        .bind(sp.metadata_fetched_at)
        .bind(sp.preset.as_deref())
        .bind(&sp.name_id)
        .bind(sp.name_id_format.as_deref())
        .bind(sp.attributes.join("\n"))
        .bind(&sp.sign)
        .bind(&sp.encrypt)
        .bind(i64::from(sp.require_signed_requests))
        .bind(sp.created_at)
        .bind(sp.updated_at)
        .bind(metadata_xml)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces an SP's settings, and its metadata when `metadata_xml` is given;
    /// `Conflict` when the new metadata's entity ID is another SP's.
    pub async fn update_saml_sp(
        &self,
        sp: &SamlSpRow,
        metadata_xml: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE saml_sps SET entity_id = $2, metadata_url = $3, metadata_fetched_at = $4, \
             preset = $5, name_id = $6, name_id_format = $7, attributes = $8, sign = $9, \
             encrypt = $10, require_signed_requests = $11, updated_at = $12, \
             metadata_xml = COALESCE($13, metadata_xml) WHERE application = $1",
        )
        .bind(&sp.application)
        .bind(&sp.entity_id)
        .bind(sp.metadata_url.as_deref())
        .bind(sp.metadata_fetched_at)
        .bind(sp.preset.as_deref())
        .bind(&sp.name_id)
        .bind(sp.name_id_format.as_deref())
        .bind(sp.attributes.join("\n"))
        .bind(&sp.sign)
        .bind(&sp.encrypt)
        .bind(i64::from(sp.require_signed_requests))
        .bind(sp.updated_at)
        .bind(metadata_xml)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The SP whose entity ID is `entity_id`.
    pub async fn saml_sp_by_entity(
        &self,
        entity_id: &str,
    ) -> Result<Option<SamlSpRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM saml_sps WHERE entity_id = $1"
        ))
        .bind(entity_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// The SP of application `name`.
    pub async fn saml_sp(&self, name: &str) -> Result<Option<SamlSpRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM saml_sps WHERE application = $1"
        ))
        .bind(name)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// Every SP, by name.
    pub async fn saml_sps(&self) -> Result<Vec<SamlSpRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM saml_sps ORDER BY application"
        ))
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// The registered metadata of application `name`.
    pub async fn saml_sp_metadata(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT metadata_xml FROM saml_sps WHERE application = $1")
            .bind(name)
            .fetch_optional(self.reader())
            .await?;
        Ok(row.map(|r| r.get(0)))
    }
}
