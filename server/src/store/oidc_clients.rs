//! OpenID Connect clients (SPEC §10.1): registered redirect URIs, the hashed secret,
//! the ID-token algorithm, token lifetimes. Each belongs to one application.

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{applications::Application, Store, StoreError};

/// A client as stored (never its secret: only the secret's SHA-256).
#[derive(Clone, Debug, Serialize)]
pub struct OidcClient {
    pub client_id: String,
    pub application: String,
    #[serde(skip)]
    pub secret_hash: Option<Vec<u8>>,
    /// `ES256` or `RS256`.
    pub id_token_alg: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub scopes: Vec<String>,
    pub access_token_secs: i64,
    pub refresh_token_secs: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl OidcClient {
    /// Public clients (RFC 6749 §2.1) hold no secret.
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }
}

const COLUMNS: &str = "client_id, application, secret_hash, id_token_alg, redirect_uris, \
     post_logout_uris, backchannel_logout_uri, scopes, access_token_secs, refresh_token_secs, \
     created_at, updated_at";

fn lines(text: String) -> Vec<String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn from_row(r: &AnyRow) -> OidcClient {
    OidcClient {
        client_id: r.get(0),
        application: r.get(1),
        secret_hash: r.get(2),
        id_token_alg: r.get(3),
        redirect_uris: lines(r.get(4)),
        post_logout_uris: lines(r.get(5)),
        backchannel_logout_uri: r.get(6),
        scopes: r
            .get::<String, _>(7)
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        access_token_secs: r.get(8),
        refresh_token_secs: r.get(9),
        created_at: r.get(10),
        updated_at: r.get(11),
    }
}

impl Store {
    /// Stores a client with its application, in one transaction; `Conflict` when the
    /// name is taken.
    pub async fn insert_oidc_client(
        &self,
        app: &Application,
        client: &OidcClient,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        super::applications::insert_application_in(&mut tx, app).await?;
        sqlx::query(&format!(
            "INSERT INTO oidc_clients ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&client.client_id)
        .bind(&client.application)
        .bind(client.secret_hash.clone())
        .bind(&client.id_token_alg)
        .bind(client.redirect_uris.join("\n"))
        .bind(client.post_logout_uris.join("\n"))
        .bind(client.backchannel_logout_uri.as_deref())
        .bind(client.scopes.join(" "))
        .bind(client.access_token_secs)
        .bind(client.refresh_token_secs)
        .bind(client.created_at)
        .bind(client.updated_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces what may change of a client (not its ID, application or secret).
    pub async fn update_oidc_client(&self, client: &OidcClient) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE oidc_clients SET id_token_alg = $2, redirect_uris = $3, \
             post_logout_uris = $4, backchannel_logout_uri = $5, scopes = $6, \
             access_token_secs = $7, refresh_token_secs = $8, updated_at = $9 \
             WHERE client_id = $1",
        )
        .bind(&client.client_id)
        .bind(&client.id_token_alg)
        .bind(client.redirect_uris.join("\n"))
        .bind(client.post_logout_uris.join("\n"))
        .bind(client.backchannel_logout_uri.as_deref())
        .bind(client.scopes.join(" "))
        .bind(client.access_token_secs)
        .bind(client.refresh_token_secs)
        .bind(client.updated_at)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn oidc_client(&self, client_id: &str) -> Result<Option<OidcClient>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM oidc_clients WHERE client_id = $1"
        ))
        .bind(client_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    /// The client of an application, by the application's name.
    pub async fn oidc_client_of(
        &self,
        application: &str,
    ) -> Result<Option<OidcClient>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM oidc_clients WHERE application = $1"
        ))
        .bind(application)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(from_row))
    }

    pub async fn oidc_clients(&self) -> Result<Vec<OidcClient>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM oidc_clients ORDER BY application"
        ))
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }
}
