//! Presets for the two cloud services customers federate most: Microsoft 365 (Entra
//! ID as a SAML 2.0 SP, "Use a SAML 2.0 identity provider for single sign-on") and
//! Google Workspace ("SSO with a third-party IdP"). Neither needs passgrid to read
//! their metadata: the known values are filled in, and the steps to take on their
//! side are printed.

use super::{sps::check_attribute_name, SamlIdpError};
use crate::store::saml_sps::SamlSpRow;

/// Microsoft 365's entity ID (the Audience of its assertions).
pub const MICROSOFT_ENTITY_ID: &str = "urn:federation:MicrosoftOnline";
/// Microsoft 365's assertion consumer service (HTTP-POST).
pub const MICROSOFT_ACS: &str = "https://login.microsoftonline.com/login.srf";

/// The preset names.
pub const PRESETS: &[&str] = &["microsoft365", "google-workspace"];

fn domain_of(domain: Option<&str>) -> Result<String, SamlIdpError> {
    let d = domain
        .map(|d| d.trim().to_ascii_lowercase())
        .filter(|d| {
            !d.is_empty()
                && d.len() <= 253
                && d.contains('.')
                && d.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        })
        .ok_or_else(|| {
            SamlIdpError::Invalid(
                "google-workspace needs the Workspace domain (--workspace-domain example.com)"
                    .into(),
            )
        })?;
    Ok(d)
}

/// SP metadata (Metadata §2.4.4) with what the service is known to use.
fn sp_metadata(entity_id: &str, acs: &str, name_id_format: &str) -> String {
    format!(
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"{entity_id}\">\
         <md:SPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         WantAssertionsSigned=\"true\">\
         <md:NameIDFormat>{name_id_format}</md:NameIDFormat>\
         <md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" \
         Location=\"{acs}\" index=\"0\" isDefault=\"true\"/>\
         </md:SPSSODescriptor></md:EntityDescriptor>"
    )
}

/// The metadata a preset registers.
pub fn metadata(preset: &str, domain: Option<&str>) -> Result<String, SamlIdpError> {
    match preset {
        "microsoft365" => Ok(sp_metadata(
            MICROSOFT_ENTITY_ID,
            MICROSOFT_ACS,
            passgrid_saml::names::nameid::PERSISTENT,
        )),
        "google-workspace" => {
            let d = domain_of(domain)?;
            // "Use a domain specific issuer" on: Google sends google.com/a/DOMAIN.
            Ok(sp_metadata(
                &format!("google.com/a/{d}"),
                &format!("https://www.google.com/a/{d}/acs"),
                passgrid_saml::names::nameid::EMAIL,
            ))
        }
        other => Err(SamlIdpError::Invalid(format!(
            "preset {other:?}: {}",
            PRESETS.join(" or ")
        ))),
    }
}

/// The preset's defaults; options given with it override them.
pub fn apply_defaults(preset: &str, row: &mut SamlSpRow) -> Result<(), SamlIdpError> {
    match preset {
        // Microsoft: NameID = the user's ImmutableID, format persistent; IDPEmail =
        // the user's UPN; the assertion signed with RSA-SHA256.
        "microsoft365" => {
            row.name_id = "attr:immutable_id".into();
            row.name_id_format = Some(passgrid_saml::names::nameid::PERSISTENT.into());
            row.attributes = vec!["IDPEmail=email".into()];
            row.sign = "assertion".into();
            row.encrypt = "off".into();
        }
        // Google: NameID = the user's primary mail address; the whole Response signed.
        "google-workspace" => {
            row.name_id = "email".into();
            row.name_id_format = None;
            row.attributes = vec![];
            row.sign = "both".into();
            row.encrypt = "off".into();
        }
        other => {
            return Err(SamlIdpError::Invalid(format!(
                "preset {other:?}: {}",
                PRESETS.join(" or ")
            )))
        }
    }
    Ok(())
}

/// What the other side needs from passgrid.
pub struct IdpFacts<'a> {
    pub entity_id: &'a str,
    pub sso_url: &'a str,
    pub slo_url: &'a str,
    /// The signing certificate, base64 DER.
    pub certificate_b64: &'a str,
}

/// The set-up steps on the service's side, for an administrator to follow.
pub fn setup_steps(row: &SamlSpRow, idp: &IdpFacts<'_>) -> Option<String> {
    let IdpFacts {
        entity_id,
        sso_url,
        slo_url,
        certificate_b64,
    } = *idp;
    let lines: Vec<String> = match row.preset.as_deref()? {
        "microsoft365" => {
            let attr = row
                .name_id
                .strip_prefix("attr:")
                .filter(|a| check_attribute_name(a).is_ok())
                .unwrap_or("immutable_id");
            vec![
                "Microsoft 365 (Microsoft Entra ID): federate a verified domain with passgrid".into(),
                format!("1. Users need an ImmutableID, which passgrid keeps as the user attribute {attr:?}:"),
                format!("     directory sync: passgrid sync add-ldap ... --map id=sAMAccountName,{attr}=objectGUID"),
                "     (objectGUID is binary: passgrid stores it base64-encoded, as Entra ID expects),".into(),
                format!("     or a CSV import column \"attr:{attr}\"."),
                "   Each Entra user's OnPremisesImmutableId must be that value (Entra Connect sets it,".into(),
                "   or Update-MgUser -OnPremisesImmutableId).".into(),
                "2. In PowerShell with Microsoft Graph (Connect-MgGraph -Scopes Domain.ReadWrite.All):".into(),
                "     New-MgDomainFederationConfiguration -DomainId \"example.com\" `".into(),
                format!("       -IssuerUri \"{entity_id}\" `"),
                format!("       -PassiveSignInUri \"{sso_url}\" `"),
                format!("       -SignOutUri \"{slo_url}\" `"),
                format!("       -SigningCertificate \"{certificate_b64}\" `"),
                "       -PreferredAuthenticationProtocol \"saml\" `".into(),
                "       -FederatedIdpMfaBehavior \"acceptIfMfaDoneByFederatedIdp\"".into(),
                "3. Sign in at https://portal.office.com as a user of that domain: Microsoft sends the".into(),
                "   browser to passgrid's sign-in (grid, device certificate), then back.".into(),
                "After `passgrid saml rotate-key`, give Microsoft the new certificate".into(),
                "(Update-MgDomainFederationConfiguration -SigningCertificate ...) before".into(),
                "`passgrid saml drop-old-keys`.".into(),
            ]
        }
        "google-workspace" => {
            let mut l: Vec<String> = vec![
                "Google Workspace: Admin console > Security > Authentication > SSO with third-party IdP".into(),
                "1. Add a SAML profile:".into(),
                format!("     IDP entity ID:            {entity_id}"),
                format!("     Sign-in page URL:         {sso_url}"),
                format!("     Sign-out page URL:        {slo_url}"),
                "     Verification certificate: the PEM below".into(),
                format!("     Use a domain specific issuer: on (passgrid expects {:?})", row.entity_id),
                "2. If the profile's SP details (ACS URL, entity ID) differ from passgrid's".into(),
                format!("   (`passgrid saml sp show {}`), register the SP again from Google's metadata", row.application),
                "   file: passgrid saml sp add NAME --metadata FILE --nameid email".into(),
                "3. Assign the profile to organisational units or groups. Users sign in with their".into(),
                "   primary address, which must be their mail address in passgrid (the NameID).".into(),
                "-----BEGIN CERTIFICATE-----".into(),
            ];
            l.extend(
                certificate_b64
                    .as_bytes()
                    .chunks(64)
                    .map(|c| String::from_utf8_lossy(c).into_owned()),
            );
            l.push("-----END CERTIFICATE-----".into());
            l
        }
        _ => return None,
    };
    Some(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_make_metadata_the_parser_accepts() {
        let ms =
            super::super::sps::check_metadata(&metadata("microsoft365", None).unwrap()).unwrap();
        assert_eq!(ms.entity_id, MICROSOFT_ENTITY_ID);
        assert_eq!(ms.assertion_consumer_services[0].location, MICROSOFT_ACS);
        let g = super::super::sps::check_metadata(
            &metadata("google-workspace", Some("Example.COM")).unwrap(),
        )
        .unwrap();
        assert_eq!(g.entity_id, "google.com/a/example.com");
        assert!(metadata("google-workspace", None).is_err());
        assert!(metadata("google-workspace", Some("x\"><evil")).is_err());
        assert!(metadata("okta", None).is_err());
    }
}
