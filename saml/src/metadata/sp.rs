//! Parsing an SP's metadata (Metadata §2.3.2 EntityDescriptor, §2.4.4
//! SPSSODescriptor): entity ID, ACS and SLO endpoints, certificates, flags.
//! The metadata comes from an administrator (file or URL fetched once), so its
//! own signature, if any, is not checked here.

use jiff::Timestamp;
use roxmltree::Node;

use crate::error::{Result, SamlError};
use crate::keys::SpCertificate;
use crate::messages::authn_request::AuthnRequest;
use crate::names::{BINDING_POST, NS_DSIG, NS_METADATA, NS_PROTOCOL};
use crate::parse::{bool_attr, child, children, is_element, parse_document, text_of, Limits};
use crate::timestamps::parse_instant;

/// An endpoint (Metadata §2.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Binding URI.
    pub binding: String,
    /// URL.
    pub location: String,
    /// `ResponseLocation`, where responses go if not to `location`.
    pub response_location: Option<String>,
}

/// An indexed endpoint (Metadata §2.2.3), e.g. an AssertionConsumerService.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedEndpoint {
    /// Binding URI.
    pub binding: String,
    /// URL.
    pub location: String,
    /// `index`.
    pub index: u16,
    /// `isDefault`, if given.
    pub is_default: Option<bool>,
}

/// What the IdP needs to know about an SP.
#[derive(Debug, Clone)]
pub struct SpMetadata {
    /// `entityID`: the Audience and the AuthnRequest's Issuer.
    pub entity_id: String,
    /// `AuthnRequestsSigned`.
    pub authn_requests_signed: bool,
    /// `WantAssertionsSigned`.
    pub want_assertions_signed: bool,
    /// AssertionConsumerService endpoints, in document order.
    pub assertion_consumer_services: Vec<IndexedEndpoint>,
    /// SingleLogoutService endpoints.
    pub single_logout_services: Vec<Endpoint>,
    /// Certificates for checking the SP's signatures (`use="signing"` or no use).
    pub signing_certificates: Vec<SpCertificate>,
    /// Certificates for encrypting to the SP (`use="encryption"` or no use).
    pub encryption_certificates: Vec<SpCertificate>,
    /// NameID formats the SP supports.
    pub name_id_formats: Vec<String>,
    /// `validUntil` of the entity, if set.
    pub valid_until: Option<Timestamp>,
}

const E: &str = "SP metadata";

impl SpMetadata {
    /// Parses SP metadata: an `EntityDescriptor`, or an `EntitiesDescriptor`
    /// holding exactly one entity with an SPSSODescriptor.
    pub fn parse(xml: &str) -> Result<Self> {
        let doc = parse_document(xml, &Limits::METADATA)?;
        let root = doc.root_element();
        let entity = if is_element(&root, NS_METADATA, "EntityDescriptor") {
            root
        } else if is_element(&root, NS_METADATA, "EntitiesDescriptor") {
            let mut sps = root
                .descendants()
                .filter(|n| is_element(n, NS_METADATA, "EntityDescriptor"))
                .filter(|n| child(*n, NS_METADATA, "SPSSODescriptor").is_some());
            match (sps.next(), sps.next()) {
                (Some(one), None) => one,
                (None, _) => {
                    return Err(SamlError::Missing {
                        element: E,
                        what: "an EntityDescriptor with an SPSSODescriptor",
                    })
                }
                _ => {
                    return Err(SamlError::Invalid {
                        what: "SP metadata (more than one SP entity)",
                    })
                }
            }
        } else {
            return Err(SamlError::UnexpectedElement {
                expected: "md:EntityDescriptor",
                found: crate::parse::describe(&root),
            });
        };
        Self::from_entity(entity)
    }

    fn from_entity(entity: Node<'_, '_>) -> Result<Self> {
        let entity_id = entity
            .attribute("entityID")
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 1024)
            .ok_or(SamlError::Missing {
                element: E,
                what: "entityID",
            })?
            .to_owned();
        let mut descriptors = children(entity, NS_METADATA, "SPSSODescriptor").filter(|d| {
            d.attribute("protocolSupportEnumeration")
                .is_some_and(|p| p.split_whitespace().any(|u| u == NS_PROTOCOL))
        });
        let sp = match (descriptors.next(), descriptors.next()) {
            (Some(one), None) => one,
            (None, _) => {
                return Err(SamlError::Missing {
                    element: E,
                    what: "an SPSSODescriptor supporting SAML 2.0",
                })
            }
            _ => {
                return Err(SamlError::Invalid {
                    what: "SP metadata (more than one SAML 2.0 SPSSODescriptor)",
                })
            }
        };

        let mut assertion_consumer_services = Vec::new();
        for acs in children(sp, NS_METADATA, "AssertionConsumerService") {
            let index = acs
                .attribute("index")
                .and_then(|i| i.trim().parse::<u16>().ok())
                .ok_or(SamlError::Invalid {
                    what: "AssertionConsumerService index",
                })?;
            assertion_consumer_services.push(IndexedEndpoint {
                binding: attr(acs, "Binding")?,
                location: attr(acs, "Location")?,
                index,
                is_default: acs
                    .attribute("isDefault")
                    .map(|_| bool_attr(&acs, "isDefault", "isDefault", false))
                    .transpose()?,
            });
        }
        if assertion_consumer_services.is_empty() {
            return Err(SamlError::Missing {
                element: E,
                what: "AssertionConsumerService",
            });
        }
        let single_logout_services = children(sp, NS_METADATA, "SingleLogoutService")
            .map(|s| {
                Ok(Endpoint {
                    binding: attr(s, "Binding")?,
                    location: attr(s, "Location")?,
                    response_location: s.attribute("ResponseLocation").map(str::to_owned),
                })
            })
            .collect::<Result<Vec<_>>>()?;

        let mut signing_certificates = Vec::new();
        let mut encryption_certificates = Vec::new();
        for kd in children(sp, NS_METADATA, "KeyDescriptor") {
            let usage = kd.attribute("use");
            for cert in kd
                .descendants()
                .filter(|n| is_element(n, NS_DSIG, "X509Certificate"))
            {
                let cert = SpCertificate::from_base64(&text_of(cert))?;
                // No `use` means the key serves both purposes (Metadata §2.4.1.1).
                if usage != Some("encryption") {
                    signing_certificates.push(cert.clone());
                }
                if usage != Some("signing") {
                    encryption_certificates.push(cert);
                }
            }
        }

        Ok(SpMetadata {
            entity_id,
            authn_requests_signed: bool_attr(
                &sp,
                "AuthnRequestsSigned",
                "AuthnRequestsSigned",
                false,
            )?,
            want_assertions_signed: bool_attr(
                &sp,
                "WantAssertionsSigned",
                "WantAssertionsSigned",
                false,
            )?,
            assertion_consumer_services,
            single_logout_services,
            signing_certificates,
            encryption_certificates,
            name_id_formats: children(sp, NS_METADATA, "NameIDFormat")
                .map(text_of)
                .collect(),
            valid_until: entity
                .attribute("validUntil")
                .map(|v| parse_instant(v, "validUntil"))
                .transpose()?,
        })
    }

    /// The default ACS (Metadata §2.2.3): the first with `isDefault="true"`, else
    /// the first without `isDefault="false"`, else the first.
    pub fn default_acs(&self) -> Option<&IndexedEndpoint> {
        let acs = &self.assertion_consumer_services;
        acs.iter()
            .find(|a| a.is_default == Some(true))
            .or_else(|| acs.iter().find(|a| a.is_default.is_none()))
            .or_else(|| acs.first())
    }

    /// The HTTP-POST ACS the Response must go to for `request`: by index, by an
    /// exact match of the requested URL against the metadata, or the default. A
    /// URL that is not in the metadata is refused (Profiles §4.1.4.1).
    pub fn acs_for(&self, request: &AuthnRequest) -> Result<&IndexedEndpoint> {
        let acs = &self.assertion_consumer_services;
        let found = if let Some(i) = request.acs_index {
            acs.iter().find(|a| a.index == i)
        } else if let Some(url) = &request.acs_url {
            acs.iter().find(|a| {
                a.location == *url
                    && request
                        .protocol_binding
                        .as_ref()
                        .is_none_or(|b| *b == a.binding)
                    && a.binding == BINDING_POST
            })
        } else {
            self.default_acs()
                .filter(|a| a.binding == BINDING_POST)
                .or_else(|| acs.iter().find(|a| a.binding == BINDING_POST))
        };
        let found = found.ok_or(SamlError::Invalid {
            what: "AssertionConsumerService (not in the SP's metadata)",
        })?;
        if found.binding != BINDING_POST {
            return Err(SamlError::Invalid {
                what: "AssertionConsumerService binding (only HTTP-POST is supported)",
            });
        }
        Ok(found)
    }

    /// The first SingleLogoutService with `binding`.
    pub fn slo_endpoint(&self, binding: &str) -> Option<&Endpoint> {
        self.single_logout_services
            .iter()
            .find(|e| e.binding == binding)
    }
}

fn attr(node: Node<'_, '_>, name: &'static str) -> Result<String> {
    node.attribute(name)
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 2048)
        .map(str::to_owned)
        .ok_or(SamlError::Missing {
            element: E,
            what: name,
        })
}

#[cfg(test)]
#[path = "sp_tests.rs"]
mod tests;
