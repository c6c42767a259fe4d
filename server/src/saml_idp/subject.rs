//! Who the assertion is about, per SP: the NameID (SAML Core §2.2.3, formats §8.3)
//! and the attributes (§2.7.3) from the user's fields, groups and extra attributes.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use passgrid_saml::{names, Attribute, NameId};

use super::{SamlIdpError, ServiceProvider};
use crate::store::{users::User, Store};

/// Why no assertion can be made for this user at this SP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubjectRefusal {
    /// The NameID needs a value the user does not have (mail, an attribute).
    MissingValue(String),
    /// The SP asked for a NameID format this SP is not configured for (Core
    /// §3.4.1.1: the IdP MUST then answer InvalidNameIDPolicy).
    NameIdPolicy(String),
}

impl SubjectRefusal {
    /// The audit reason.
    pub fn reason(&self) -> String {
        match self {
            SubjectRefusal::MissingValue(what) => format!("the user has no {what} for the NameID"),
            SubjectRefusal::NameIdPolicy(f) => format!("NameID format {f} not offered to this SP"),
        }
    }
}

/// The NameID and attributes of one assertion.
#[derive(Clone, Debug)]
pub struct Subject {
    pub name_id: NameId,
    pub attributes: Vec<Attribute>,
}

/// The format a configured NameID kind implies.
fn implied_format(kind: &str) -> &'static str {
    match kind {
        "email" => names::nameid::EMAIL,
        "login" => names::nameid::UNSPECIFIED,
        "transient" => names::nameid::TRANSIENT,
        // persistent, and attributes (stable identifiers such as Microsoft's ImmutableID).
        _ => names::nameid::PERSISTENT,
    }
}

/// The NameID Format this SP gets.
pub fn format_for(sp: &ServiceProvider) -> String {
    sp.row
        .name_id_format
        .clone()
        .unwrap_or_else(|| implied_format(&sp.row.name_id).to_string())
}

/// Whether a requested NameIDPolicy Format can be met: none, unspecified, or the
/// one this SP is configured for.
pub fn policy_allows(sp: &ServiceProvider, requested: Option<&str>) -> Result<(), SubjectRefusal> {
    match requested {
        None => Ok(()),
        Some(f) if f == names::nameid::UNSPECIFIED || f == format_for(sp) => Ok(()),
        Some(f) => Err(SubjectRefusal::NameIdPolicy(f.chars().take(128).collect())),
    }
}

fn random_id() -> Result<String, SamlIdpError> {
    let mut bytes = [0u8; 20];
    crate::random::os_random(&mut bytes)?;
    Ok(B64.encode(bytes))
}

fn attr_value<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The subject of an assertion for `user` at `sp`.
pub async fn subject_for(
    store: &Store,
    idp_entity_id: &str,
    sp: &ServiceProvider,
    user: &User,
    now: i64,
) -> Result<Result<Subject, SubjectRefusal>, SamlIdpError> {
    let wants_attrs = sp.row.name_id.starts_with("attr:")
        || sp.row.attributes.iter().any(|a| a.contains("=attr:"));
    let user_attrs = if wants_attrs {
        store.user_attributes(&user.id).await?
    } else {
        Vec::new()
    };
    let format = format_for(sp);
    let entity = &sp.row.entity_id;
    let (value, qualified) = match sp.row.name_id.as_str() {
        "persistent" => {
            let fresh = random_id()?;
            (
                store
                    .persistent_name_id(entity, &user.id, &fresh, now)
                    .await?,
                true,
            )
        }
        "transient" => (random_id()?, true),
        "email" => match user.email.as_deref().filter(|e| !e.is_empty()) {
            Some(e) => (e.to_string(), false),
            None => return Ok(Err(SubjectRefusal::MissingValue("mail address".into()))),
        },
        "login" => (user.id.clone(), false),
        other => {
            let name = other.strip_prefix("attr:").unwrap_or(other);
            match attr_value(&user_attrs, name) {
                Some(v) => (v.to_string(), false),
                None => {
                    return Ok(Err(SubjectRefusal::MissingValue(format!(
                        "attribute {name}"
                    ))))
                }
            }
        }
    };
    let mut name_id = NameId::new(value, &format);
    if qualified {
        // Core §8.3.7: a persistent or transient identifier names the IdP and the SP
        // it is meant for.
        name_id.name_qualifier = Some(idp_entity_id.to_string());
        name_id.sp_name_qualifier = Some(entity.clone());
    }
    let mut groups = None;
    let mut attributes = Vec::new();
    for spec in &sp.row.attributes {
        let Some((name, field)) = spec.split_once('=') else {
            continue;
        };
        let values: Vec<String> = match field {
            "login" => vec![user.id.clone()],
            "email" => user
                .email
                .iter()
                .filter(|e| !e.is_empty())
                .cloned()
                .collect(),
            "name" => vec![user.display_name.clone()]
                .into_iter()
                .filter(|n| !n.is_empty())
                .collect(),
            "groups" => {
                if groups.is_none() {
                    groups = Some(store.user_groups(&user.id).await?);
                }
                groups.clone().unwrap_or_default()
            }
            f => f
                .strip_prefix("attr:")
                .and_then(|a| attr_value(&user_attrs, a))
                .map(|v| vec![v.to_string()])
                .unwrap_or_default(),
        };
        // An attribute without values says nothing: it is left out (Core §2.7.3.1
        // allows zero values, but SPs read an empty one as "cleared").
        if values.is_empty() {
            continue;
        }
        // URI names (urn:oid:…, http://schemas…) are of the uri format; plain names basic.
        let name_format = if name.starts_with("urn:") || name.contains("://") {
            names::attrname::URI
        } else {
            names::attrname::BASIC
        };
        attributes.push(Attribute::new(name, name_format, values));
    }
    Ok(Ok(Subject {
        name_id,
        attributes,
    }))
}
