//! Applications (SPEC §6.3 "× application"): what users sign in to through passgrid
//! — OpenID Connect clients and forward-auth sites now, SAML SPs and RADIUS clients
//! later — each with its access rules.

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{Store, StoreError};

/// An application and its access rules, as stored.
#[derive(Clone, Debug, Serialize)]
pub struct Application {
    pub name: String,
    /// `oidc` or `forward_auth`.
    pub kind: String,
    pub description: String,
    /// Empty: every user.
    pub allowed_groups: Vec<String>,
    pub allowed_networks: Vec<String>,
    pub allowed_hours: Vec<String>,
    pub time_zone: String,
    pub require_certificate: bool,
    /// Sign in with the grid again when the SSO session's grid is older than this.
    pub max_auth_age_secs: Option<i64>,
    /// Forward-auth: the host name of the site.
    pub domain: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "name, kind, description, allowed_groups, allowed_networks, \
     allowed_hours, time_zone, require_certificate, max_auth_age_secs, domain, created_at, updated_at";

fn split(text: String) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn from_row(r: &AnyRow) -> Application {
    Application {
        name: r.get(0),
        kind: r.get(1),
        description: r.get(2),
        allowed_groups: split(r.get(3)),
        allowed_networks: split(r.get(4)),
        allowed_hours: split(r.get(5)),
        time_zone: r.get(6),
        require_certificate: r.get::<i64, _>(7) != 0,
        max_auth_age_secs: r.get(8),
        domain: r.get(9),
        created_at: r.get(10),
        updated_at: r.get(11),
    }
}

impl Store {
    /// Stores a new application; `Conflict` when the name (or the domain) is taken.
    pub async fn insert_application(&self, app: &Application) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        insert_application_in(&mut tx, app).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces an application's description and rules; whether it exists.
    pub async fn update_application(&self, app: &Application) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE applications SET description = $2, allowed_groups = $3, \
             allowed_networks = $4, allowed_hours = $5, time_zone = $6, \
             require_certificate = $7, max_auth_age_secs = $8, domain = $9, updated_at = $10 \
             WHERE name = $1",
        )
        .bind(&app.name)
        .bind(&app.description)
        .bind(app.allowed_groups.join(";"))
        .bind(app.allowed_networks.join(";"))
        .bind(app.allowed_hours.join(";"))
        .bind(&app.time_zone)
        .bind(i64::from(app.require_certificate))
        .bind(app.max_auth_age_secs)
        .bind(app.domain.as_deref())
        .bind(app.updated_at)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn application(&self, name: &str) -> Result<Option<Application>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM applications WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// The forward-auth application serving `host`.
    pub async fn application_for_domain(
        &self,
        host: &str,
    ) -> Result<Option<Application>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM applications WHERE domain = $1 AND kind = 'forward_auth'"
        ))
        .bind(host)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    pub async fn applications(&self) -> Result<Vec<Application>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM applications ORDER BY name"))
            .fetch_all(self.reader())
            .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    /// Deletes an application (and its OIDC client with its codes and tokens).
    pub async fn delete_application(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM applications WHERE name = $1")
            .bind(name)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Inserts an application inside a transaction (an OIDC client is stored with its
/// application in one).
pub(crate) async fn insert_application_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    app: &Application,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO applications ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(&app.name)
    .bind(&app.kind)
    .bind(&app.description)
    .bind(app.allowed_groups.join(";"))
    .bind(app.allowed_networks.join(";"))
    .bind(app.allowed_hours.join(";"))
    .bind(&app.time_zone)
    .bind(i64::from(app.require_certificate))
    .bind(app.max_auth_age_secs)
    .bind(app.domain.as_deref())
    .bind(app.created_at)
    .bind(app.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
