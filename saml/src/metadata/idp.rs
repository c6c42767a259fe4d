//! The IdP's metadata (Metadata §2.3.2 EntityDescriptor, §2.4.3 IDPSSODescriptor).

use base64::Engine;
use jiff::Timestamp;

use super::{key_descriptor, md};
use crate::error::Result;
use crate::keys::IdpSigningKey;
use crate::names::{BINDING_POST, BINDING_REDIRECT, NS_PROTOCOL};
use crate::timestamps::format_instant;

/// What the IdP publishes about itself.
#[derive(Debug, Clone)]
pub struct IdpMetadata {
    /// The entity ID (passgrid's public URL).
    pub entity_id: String,
    /// The SSO endpoint, served for both HTTP-Redirect and HTTP-POST.
    pub sso_url: String,
    /// The SLO endpoint, served for both bindings, if Single Logout is on.
    pub slo_url: Option<String>,
    /// Signing certificates in DER: the current one, and during a rotation the
    /// old or next one too, so SPs trust both (Metadata §2.4.1.1).
    pub signing_certificates: Vec<Vec<u8>>,
    /// `WantAuthnRequestsSigned`.
    pub want_authn_requests_signed: bool,
    /// NameID formats offered (see [`crate::names::nameid`]).
    pub name_id_formats: Vec<String>,
    /// `validUntil`, if the metadata should expire.
    pub valid_until: Option<Timestamp>,
}

impl IdpMetadata {
    /// The metadata XML; signed (enveloped, over `EntityDescriptor`) when `key`
    /// is given.
    pub fn to_xml(&self, key: Option<&IdpSigningKey>) -> Result<String> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut idp = md("IDPSSODescriptor")
            .attr("protocolSupportEnumeration", NS_PROTOCOL)
            .attr(
                "WantAuthnRequestsSigned",
                if self.want_authn_requests_signed {
                    "true"
                } else {
                    "false"
                },
            );
        // Schema order: KeyDescriptor*, SingleLogoutService*, NameIDFormat*,
        // SingleSignOnService+ (RoleDescriptorType, SSODescriptorType, §2.4.3).
        for cert in &self.signing_certificates {
            idp.push(key_descriptor("signing", b64.encode(cert)));
        }
        if let Some(slo) = &self.slo_url {
            for binding in [BINDING_REDIRECT, BINDING_POST] {
                idp.push(
                    md("SingleLogoutService")
                        .attr("Binding", binding)
                        .attr("Location", slo.clone()),
                );
            }
        }
        for f in &self.name_id_formats {
            idp.push(md("NameIDFormat").text(f.clone()));
        }
        for binding in [BINDING_REDIRECT, BINDING_POST] {
            idp.push(
                md("SingleSignOnService")
                    .attr("Binding", binding)
                    .attr("Location", self.sso_url.clone()),
            );
        }
        let mut entity = md("EntityDescriptor")
            .attr("entityID", self.entity_id.clone())
            .attr_opt("validUntil", self.valid_until.map(format_instant))
            .child(idp);
        if let Some(key) = key {
            entity = entity.attr("ID", crate::ids::new_id()?);
            crate::dsig_sign::sign_enveloped(&mut entity, key)?;
        }
        Ok(entity.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_keys::{certificate, idp_key, key_material};
    use crate::names::nameid;
    use crate::parse::{parse_document, Limits};

    pub(crate) fn sample() -> IdpMetadata {
        IdpMetadata {
            entity_id: "https://idp.example".into(),
            sso_url: "https://idp.example/saml/sso".into(),
            slo_url: Some("https://idp.example/saml/slo".into()),
            signing_certificates: vec![key_material(0).1.clone(), key_material(1).1.clone()],
            want_authn_requests_signed: true,
            name_id_formats: vec![nameid::PERSISTENT.into(), nameid::EMAIL.into()],
            valid_until: None,
        }
    }

    #[test]
    fn metadata_lists_both_certificates_and_endpoints() {
        let xml = sample().to_xml(None).unwrap();
        assert_eq!(xml.matches("<md:KeyDescriptor use=\"signing\">").count(), 2);
        assert_eq!(xml.matches("<md:SingleSignOnService").count(), 2);
        assert_eq!(xml.matches("<md:SingleLogoutService").count(), 2);
        assert!(xml.contains("WantAuthnRequestsSigned=\"true\""));
        let slo = xml.find("SingleLogoutService").unwrap();
        let sso = xml.find("SingleSignOnService").unwrap();
        let fmt = xml.find("NameIDFormat").unwrap();
        assert!(slo < fmt && fmt < sso, "schema order");
    }

    #[test]
    fn signed_metadata_verifies() {
        let xml = sample().to_xml(Some(&idp_key(0))).unwrap();
        let doc = parse_document(&xml, &Limits::METADATA).unwrap();
        assert_eq!(
            crate::dsig_verify::verify_enveloped(&doc, &[certificate(0)], false),
            Ok(())
        );
        // The Signature is EntityDescriptor's first child (Metadata §2.3.2).
        assert!(xml.split_once('>').unwrap().1.starts_with("<ds:Signature"));
    }
}
