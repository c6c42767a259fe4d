//! passgrid as a SAML 2.0 identity provider (SPEC §10.4, issue #19): the Web Browser
//! SSO profile (SAML Profiles §4.1) and Single Logout (§4.4) on top of the login
//! decision (`auth`) and the SSO session (`sso`). The protocol and XML security are
//! the `passgrid-saml` crate's; this module decides: which SP, which ACS (from its
//! metadata only), whether the user may, what NameID and attributes, which key signs.
//! Nothing here knows about HTTP requests; `saml` is the front end.

mod answer;
pub mod keys;
pub mod logout;
pub mod presets;
pub mod sign_in;
pub mod sps;
pub mod subject;

use std::{collections::HashMap, sync::Arc};

use passgrid_saml::{names, IdpMetadata, SpMetadata};
use tokio::sync::RwLock;

use crate::{
    auth::AuthError,
    ca::CaError,
    instance::Instance,
    master_key::SealError,
    random::RandomError,
    store::{saml_sps::SamlSpRow, Store, StoreError},
};

/// How long a response's assertion is valid (Core §2.5.1.2 NotOnOrAfter): long
/// enough for a slow browser to post it, short enough to be useless later.
pub const ASSERTION_SECS: i64 = 300;
/// How old an AuthnRequest may be (its IssueInstant), and how far in the future.
pub const REQUEST_MAX_AGE_SECS: i64 = 300;
/// Clock skew allowed either way, and how far NotBefore lies before now.
pub const SKEW_SECS: i64 = 60;
/// How long a request waits for its sign-in (the sign-in page's own lifetime).
pub const PENDING_SECS: i64 = 1800;
/// How long a Single Logout chain may take.
pub const LOGOUT_SECS: i64 = 600;
/// Answered requests are kept this long: longer than any session lives, so Single
/// Logout still finds the SPs a session signed in to.
pub const KEEP_SECS: i64 = 31 * 86_400;
/// Opened keys are re-read from the database this often (a rotation by the command
/// line or another server reaches every server within it).
const KEY_CACHE_SECS: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum SamlIdpError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Ca(#[from] CaError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The SAML layer failed on what passgrid builds (a key, a signature).
    #[error("SAML: {0}")]
    Saml(#[from] passgrid_saml::SamlError),
    /// An administrator's input that cannot be used; the text says why.
    #[error("{0}")]
    Invalid(String),
    #[error("no such service provider: {0}")]
    NotFound(String),
    #[error("{0} exists already")]
    Exists(String),
    /// Metadata could not be fetched from its URL.
    #[error("fetching metadata: {0}")]
    Fetch(String),
}

/// The IdP's signing key and every certificate its metadata publishes.
pub struct SigningKeys {
    pub active: passgrid_saml::IdpSigningKey,
    pub active_kid: String,
    /// DER, the active one first, then retired ones not yet dropped.
    pub certificates: Vec<Vec<u8>>,
}

/// An SP as the protocol uses it: its settings and its parsed metadata.
#[derive(Clone)]
pub struct ServiceProvider {
    pub row: SamlSpRow,
    pub metadata: Arc<SpMetadata>,
}

impl ServiceProvider {
    /// Whether its AuthnRequests must be signed: its metadata says it signs them
    /// (`AuthnRequestsSigned`, Metadata §2.4.4), or an administrator said so.
    pub fn requests_must_be_signed(&self) -> bool {
        self.row.require_signed_requests || self.metadata.authn_requests_signed
    }

    /// The `SignaturePolicy` its messages are read under (never SHA-1).
    pub fn signature_policy(&self) -> passgrid_saml::SignaturePolicy<'_> {
        passgrid_saml::SignaturePolicy {
            certificates: &self.metadata.signing_certificates,
            required: self.requests_must_be_signed(),
            allow_sha1: false,
        }
    }
}

/// The identity provider: its entity ID, the opened signing keys and the parsed
/// metadata of the SPs (cached, keyed by their change time).
pub struct IdentityProvider {
    /// The entity ID: passgrid's public URL (the Issuer of everything it sends).
    pub entity_id: String,
    keys: RwLock<Option<(i64, Arc<SigningKeys>)>>,
    parsed: RwLock<HashMap<String, (i64, Arc<SpMetadata>)>>,
}

impl IdentityProvider {
    /// Makes sure a signing key exists and builds the IdP.
    pub async fn start(instance: &Instance, public_url: &str) -> Result<Self, SamlIdpError> {
        keys::ensure_key(&instance.store, &instance.master_key, instance.clock.now()).await?;
        Ok(IdentityProvider {
            entity_id: public_url.trim_end_matches('/').to_string(),
            keys: RwLock::new(None),
            parsed: RwLock::new(HashMap::new()),
        })
    }

    /// The SSO endpoint (both bindings).
    pub fn sso_url(&self) -> String {
        format!("{}/saml/sso", self.entity_id)
    }

    /// The Single Logout endpoint (both bindings).
    pub fn slo_url(&self) -> String {
        format!("{}/saml/slo", self.entity_id)
    }

    /// The signing keys, re-read from the database when older than 30 s.
    pub async fn keys(&self, instance: &Instance) -> Result<Arc<SigningKeys>, SamlIdpError> {
        let now = instance.clock.now();
        if let Some((at, keys)) = self.keys.read().await.as_ref() {
            if now - at < KEY_CACHE_SECS {
                return Ok(keys.clone());
            }
        }
        self.fresh_keys(instance).await
    }

    /// The signing keys fresh from the database (the metadata must show a new
    /// certificate as soon as any server may sign with it).
    pub async fn fresh_keys(&self, instance: &Instance) -> Result<Arc<SigningKeys>, SamlIdpError> {
        let keys = Arc::new(keys::load(&instance.store, &instance.master_key).await?);
        *self.keys.write().await = Some((instance.clock.now(), keys.clone()));
        Ok(keys)
    }

    /// The IdP's metadata (Metadata §2.4.3): entity ID, every published signing
    /// certificate, SSO and SLO endpoints for HTTP-Redirect and HTTP-POST.
    pub async fn metadata_xml(&self, instance: &Instance) -> Result<String, SamlIdpError> {
        let keys = self.fresh_keys(instance).await?;
        let md = IdpMetadata {
            entity_id: self.entity_id.clone(),
            sso_url: self.sso_url(),
            slo_url: Some(self.slo_url()),
            signing_certificates: keys.certificates.clone(),
            want_authn_requests_signed: false,
            name_id_formats: vec![
                names::nameid::PERSISTENT.into(),
                names::nameid::EMAIL.into(),
                names::nameid::UNSPECIFIED.into(),
                names::nameid::TRANSIENT.into(),
            ],
            valid_until: None,
        };
        Ok(md.to_xml(None)?)
    }

    /// The SP whose entity ID is `entity_id`.
    pub async fn sp_by_entity(
        &self,
        store: &Store,
        entity_id: &str,
    ) -> Result<Option<ServiceProvider>, SamlIdpError> {
        match store.saml_sp_by_entity(entity_id).await? {
            Some(row) => self.with_metadata(store, row).await,
            None => Ok(None),
        }
    }

    /// The SP of application `name`.
    pub async fn sp_by_name(
        &self,
        store: &Store,
        name: &str,
    ) -> Result<Option<ServiceProvider>, SamlIdpError> {
        match store.saml_sp(name).await? {
            Some(row) => self.with_metadata(store, row).await,
            None => Ok(None),
        }
    }

    /// Adds the parsed metadata, from the cache when the SP has not changed since.
    async fn with_metadata(
        &self,
        store: &Store,
        row: SamlSpRow,
    ) -> Result<Option<ServiceProvider>, SamlIdpError> {
        if let Some((at, md)) = self.parsed.read().await.get(&row.application) {
            if *at == row.updated_at {
                let metadata = md.clone();
                return Ok(Some(ServiceProvider { row, metadata }));
            }
        }
        let Some(xml) = store.saml_sp_metadata(&row.application).await? else {
            return Ok(None);
        };
        // Checked when registered; metadata that no longer parses serves nobody.
        let metadata = Arc::new(SpMetadata::parse(&xml)?);
        self.parsed
            .write()
            .await
            .insert(row.application.clone(), (row.updated_at, metadata.clone()));
        Ok(Some(ServiceProvider { row, metadata }))
    }
}

/// Minute upkeep: requests and logout chains past their time.
pub async fn purge_expired(store: &Store, now: i64) -> Result<(), SamlIdpError> {
    store.purge_saml_requests(now - KEEP_SECS, now).await?;
    Ok(())
}
