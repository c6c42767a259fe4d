//! Registering service providers: from a metadata file, a metadata URL (fetched once,
//! again on demand) or a preset, with the NameID, attributes, signing and encryption
//! they get, and their application's access rules. Shared by the command line and
//! the administrators' API, with every check in one place.

use passgrid_saml::{names, Binding, SpMetadata};
use serde::Deserialize;

use super::{presets, SamlIdpError};
use crate::{
    sso::{backchannel::Sender, clients},
    store::{saml_sps::SamlSpRow, Store, StoreError},
};

/// Largest metadata document taken from a URL.
const MAX_METADATA_BYTES: usize = 1024 * 1024;

/// What an administrator gives for an SP; `None` leaves a setting as it is (or takes
/// the default for a new SP).
#[derive(Debug, Default, Deserialize)]
pub struct SpSettings {
    /// The metadata document itself (a file's content).
    pub metadata_xml: Option<String>,
    /// Where to fetch the metadata from (now, and again on refresh).
    pub metadata_url: Option<String>,
    /// `microsoft365` or `google-workspace`: metadata and defaults made by passgrid.
    pub preset: Option<String>,
    /// The Google Workspace domain (preset `google-workspace`).
    pub domain: Option<String>,
    /// `persistent`, `email`, `login`, `transient` or `attr:NAME`.
    pub name_id: Option<String>,
    /// A NameID Format other than the one `name_id` implies ("" clears).
    pub name_id_format: Option<String>,
    /// `NAME=FIELD` each; FIELD is login, email, name, groups or attr:NAME.
    pub attributes: Option<Vec<String>>,
    /// `assertion`, `response` or `both`.
    pub sign: Option<String>,
    /// `aes256-gcm`, `aes128-cbc` or `off`.
    pub encrypt: Option<String>,
    /// Refuse unsigned AuthnRequests even if the metadata does not say the SP signs.
    pub require_signed_requests: Option<bool>,
}

fn invalid(msg: impl Into<String>) -> SamlIdpError {
    SamlIdpError::Invalid(msg.into())
}

/// A user attribute's name: 1-64 of lower-case letters, digits, `_`, `-`, `.`.
pub fn check_attribute_name(name: &str) -> Result<(), SamlIdpError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "attribute name {name:?}: 1-64 lower-case letters, digits, '_', '-', '.'"
        )))
    }
}

/// The NameID Format URI for a shorthand or a URI.
fn name_id_format_uri(value: &str) -> Result<String, SamlIdpError> {
    Ok(match value {
        "persistent" => names::nameid::PERSISTENT.into(),
        "email" => names::nameid::EMAIL.into(),
        "unspecified" => names::nameid::UNSPECIFIED.into(),
        "transient" => names::nameid::TRANSIENT.into(),
        uri if uri.starts_with("urn:") && uri.len() <= 256 && uri.is_ascii() => uri.into(),
        other => {
            return Err(invalid(format!(
                "NameID format {other:?}: persistent, email, unspecified, transient or a urn:"
            )))
        }
    })
}

fn check_name_id(value: &str) -> Result<(), SamlIdpError> {
    match value {
        "persistent" | "email" | "login" | "transient" => Ok(()),
        other => match other.strip_prefix("attr:") {
            Some(name) => check_attribute_name(name),
            None => Err(invalid(format!(
                "nameid {other:?}: persistent, email, login, transient or attr:NAME"
            ))),
        },
    }
}

/// Checks `NAME=FIELD` (FIELD: login, email, name, groups, attr:NAME).
pub fn check_attribute_spec(spec: &str) -> Result<(), SamlIdpError> {
    let bad = || {
        invalid(format!(
            "attribute {spec:?}: NAME=FIELD, FIELD one of login, email, name, groups, attr:NAME"
        ))
    };
    let (name, field) = spec.split_once('=').ok_or_else(bad)?;
    if name.is_empty() || name.len() > 256 || name.chars().any(|c| c.is_control() || c == ' ') {
        return Err(bad());
    }
    match field {
        "login" | "email" | "name" | "groups" => Ok(()),
        f => match f.strip_prefix("attr:") {
            Some(attr) => check_attribute_name(attr),
            None => Err(bad()),
        },
    }
}

/// An endpoint URL from metadata: https://, or http:// on a loopback host (an SP on
/// the same machine); it becomes a form's action or a redirect target.
fn check_endpoint(url: &str, what: &str) -> Result<(), SamlIdpError> {
    clients::check_client_uri(url, what).map_err(|e| invalid(e.to_string()))
}

/// Parses metadata and checks what the IdP will use of it.
pub fn check_metadata(xml: &str) -> Result<SpMetadata, SamlIdpError> {
    let md = SpMetadata::parse(xml).map_err(|e| invalid(format!("SP metadata: {e}")))?;
    let posts: Vec<_> = md
        .assertion_consumer_services
        .iter()
        .filter(|a| a.binding == names::BINDING_POST)
        .collect();
    if posts.is_empty() {
        return Err(invalid(
            "SP metadata: no AssertionConsumerService with the HTTP-POST binding",
        ));
    }
    for acs in posts {
        check_endpoint(&acs.location, "AssertionConsumerService")?;
    }
    for slo in &md.single_logout_services {
        if Binding::from_uri(&slo.binding).is_some() {
            check_endpoint(&slo.location, "SingleLogoutService")?;
            if let Some(r) = &slo.response_location {
                check_endpoint(r, "SingleLogoutService ResponseLocation")?;
            }
        }
    }
    Ok(md)
}

/// Fetches metadata from `url` (HTTPS, or HTTP on loopback).
pub async fn fetch_metadata(fetcher: &Sender, url: &str) -> Result<String, SamlIdpError> {
    check_endpoint(url, "metadata URL")?;
    let (status, body) = fetcher
        .get(url, MAX_METADATA_BYTES)
        .await
        .map_err(SamlIdpError::Fetch)?;
    if status != 200 {
        return Err(SamlIdpError::Fetch(format!("{url}: HTTP {status}")));
    }
    String::from_utf8(body).map_err(|_| SamlIdpError::Fetch(format!("{url}: not UTF-8")))
}

/// Applies the settings that are given to `row`.
fn apply(row: &mut SamlSpRow, s: &SpSettings) -> Result<(), SamlIdpError> {
    if let Some(n) = &s.name_id {
        check_name_id(n)?;
        row.name_id = n.clone();
    }
    if let Some(f) = &s.name_id_format {
        row.name_id_format = if f.is_empty() {
            None
        } else {
            Some(name_id_format_uri(f)?)
        };
    }
    if let Some(attrs) = &s.attributes {
        if attrs.len() > 50 {
            return Err(invalid("at most 50 attributes"));
        }
        for a in attrs {
            check_attribute_spec(a)?;
        }
        row.attributes = attrs.clone();
    }
    if let Some(sign) = &s.sign {
        if !matches!(sign.as_str(), "assertion" | "response" | "both") {
            return Err(invalid(format!(
                "sign {sign:?}: assertion, response or both"
            )));
        }
        row.sign = sign.clone();
    }
    if let Some(e) = &s.encrypt {
        if !matches!(e.as_str(), "aes256-gcm" | "aes128-cbc" | "off") {
            return Err(invalid(format!(
                "encrypt {e:?}: aes256-gcm, aes128-cbc or off"
            )));
        }
        row.encrypt = e.clone();
    }
    if let Some(r) = s.require_signed_requests {
        row.require_signed_requests = r;
    }
    Ok(())
}

/// The metadata a registration names: a document, a URL, or a preset.
async fn metadata_of(
    fetcher: &Sender,
    s: &SpSettings,
) -> Result<Option<(String, Option<String>)>, SamlIdpError> {
    match (&s.metadata_xml, &s.metadata_url, &s.preset) {
        (Some(xml), None, None) => Ok(Some((xml.clone(), None))),
        (None, Some(url), None) => Ok(Some((
            fetch_metadata(fetcher, url).await?,
            Some(url.clone()),
        ))),
        (None, None, Some(p)) => Ok(Some((presets::metadata(p, s.domain.as_deref())?, None))),
        (None, None, None) => Ok(None),
        _ => Err(invalid(
            "give one of: the metadata (file), a metadata URL, or a preset",
        )),
    }
}

/// Registers an SP and its application (of the same name, kind `saml`).
pub async fn add_sp(
    store: &Store,
    fetcher: &Sender,
    name: &str,
    settings: &SpSettings,
    rules: &clients::AppRules,
    now: i64,
) -> Result<SamlSpRow, SamlIdpError> {
    clients::check_app_name(name).map_err(|e| invalid(e.to_string()))?;
    let (xml, url) = metadata_of(fetcher, settings).await?.ok_or_else(|| {
        invalid("an SP needs its metadata: --metadata FILE|URL, or --preset microsoft365|google-workspace")
    })?;
    let md = check_metadata(&xml)?;
    let mut row = SamlSpRow {
        application: name.to_string(),
        entity_id: md.entity_id.clone(),
        metadata_fetched_at: url.as_ref().map(|_| now),
        metadata_url: url,
        preset: settings.preset.clone(),
        name_id: "persistent".into(),
        name_id_format: None,
        attributes: vec![],
        sign: "assertion".into(),
        encrypt: "aes256-gcm".into(),
        require_signed_requests: false,
        created_at: now,
        updated_at: now,
    };
    if let Some(p) = &settings.preset {
        presets::apply_defaults(p, &mut row)?;
    }
    apply(&mut row, settings)?;
    let mut app = clients::new_application(name, "saml", now);
    clients::apply_rules(&mut app, rules).map_err(|e| invalid(e.to_string()))?;
    if app.domain.is_some() {
        return Err(invalid(
            "a domain belongs to forward-auth applications only",
        ));
    }
    clients::check_groups_exist(store, &app)
        .await
        .map_err(|e| invalid(e.to_string()))?;
    match store.insert_saml_sp(&app, &row, &xml).await {
        Err(StoreError::Conflict) => Err(SamlIdpError::Exists(format!(
            "application {name:?} or an SP with entity ID {:?}",
            row.entity_id
        ))),
        other => other.map(|()| row).map_err(Into::into),
    }
}

/// Changes an SP (new metadata from a document or URL, or its settings) and its
/// application's rules.
pub async fn update_sp(
    store: &Store,
    fetcher: &Sender,
    name: &str,
    settings: &SpSettings,
    rules: &clients::AppRules,
    now: i64,
) -> Result<SamlSpRow, SamlIdpError> {
    let mut row = store
        .saml_sp(name)
        .await?
        .ok_or_else(|| SamlIdpError::NotFound(name.into()))?;
    if settings.preset.is_some() {
        return Err(invalid("a preset is chosen when the SP is added"));
    }
    let metadata = metadata_of(fetcher, settings).await?;
    if let Some((xml, url)) = &metadata {
        let md = check_metadata(xml)?;
        row.entity_id = md.entity_id;
        if url.is_some() {
            row.metadata_url = url.clone();
            row.metadata_fetched_at = Some(now);
        }
    }
    apply(&mut row, settings)?;
    row.updated_at = now;
    let mut app = store
        .application(name)
        .await?
        .ok_or_else(|| SamlIdpError::NotFound(name.into()))?;
    clients::apply_rules(&mut app, rules).map_err(|e| invalid(e.to_string()))?;
    clients::check_groups_exist(store, &app)
        .await
        .map_err(|e| invalid(e.to_string()))?;
    app.updated_at = now;
    match store
        .update_saml_sp(&row, metadata.as_ref().map(|(x, _)| x.as_str()))
        .await
    {
        Err(StoreError::Conflict) => {
            return Err(SamlIdpError::Exists(format!(
                "an SP with entity ID {:?}",
                row.entity_id
            )))
        }
        other => other?,
    };
    store.update_application(&app).await?;
    Ok(row)
}

/// Fetches an SP's metadata again from the URL it was registered with.
pub async fn refresh_metadata(
    store: &Store,
    fetcher: &Sender,
    name: &str,
    now: i64,
) -> Result<SamlSpRow, SamlIdpError> {
    let row = store
        .saml_sp(name)
        .await?
        .ok_or_else(|| SamlIdpError::NotFound(name.into()))?;
    let url = row
        .metadata_url
        .clone()
        .ok_or_else(|| invalid(format!("{name} was not registered from a metadata URL")))?;
    let settings = SpSettings {
        metadata_url: Some(url),
        ..Default::default()
    };
    update_sp(store, fetcher, name, &settings, &Default::default(), now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        assert!(check_name_id("attr:immutable_id").is_ok());
        assert!(check_name_id("attr:Immutable ID").is_err());
        assert!(check_name_id("random").is_err());
        assert!(check_attribute_spec("IDPEmail=email").is_ok());
        assert!(check_attribute_spec("urn:oid:0.9.2342.19200300.100.1.3=email").is_ok());
        assert!(check_attribute_spec("groups=groups").is_ok());
        assert!(check_attribute_spec("x=attr:immutable_id").is_ok());
        assert!(check_attribute_spec("x=password").is_err());
        assert!(check_attribute_spec("=email").is_err());
        assert_eq!(
            name_id_format_uri("email").unwrap(),
            names::nameid::EMAIL.to_string()
        );
        assert!(name_id_format_uri("javascript:x").is_err());
    }

    #[test]
    fn metadata_endpoints_must_be_https_or_loopback() {
        let md = |acs: &str| {
            format!(
                r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0"/>
</md:SPSSODescriptor></md:EntityDescriptor>"#
            )
        };
        assert!(check_metadata(&md("https://sp.example/acs")).is_ok());
        assert!(check_metadata(&md("http://127.0.0.1:8080/acs")).is_ok());
        assert!(check_metadata(&md("http://sp.example/acs")).is_err());
        assert!(check_metadata(&md("javascript:alert(1)")).is_err());
    }
}
