//! HTTP-POST binding (Bindings §3.5): the base64 form field, and the auto-submitting
//! HTML form that carries the IdP's Response or LogoutRequest to the SP.

use base64::Engine;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{check_relay_state, MessageKind};
use crate::error::{Result, SamlError};
use crate::parse::Limits;

/// The one inline script of the form page; constant so that a strict CSP can
/// allow it by hash ([`post_form_script_csp_source`]).
pub const POST_FORM_SCRIPT: &str = "document.getElementById('saml-post').submit();";

/// Decodes a base64 field value (already form-decoded by the web framework) into
/// the XML text it carries, within [`Limits::REQUEST`].
pub fn decode_post_field(value: &str) -> Result<String> {
    let bytes = decode_base64_field(value)?;
    if bytes.len() > Limits::REQUEST.max_bytes {
        return Err(SamlError::TooLarge {
            size: bytes.len(),
            limit: Limits::REQUEST.max_bytes,
        });
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| SamlError::Encoding("message is not UTF-8"))
}

/// Base64 with whitespace tolerated (some SPs wrap lines at 76), size-bounded.
pub(crate) fn decode_base64_field(value: &str) -> Result<Zeroizing<Vec<u8>>> {
    crate::keys::decode_base64(value, Limits::REQUEST.max_bytes + 4)
}

/// Base64 of the XML, the value of the `SAMLResponse`/`SAMLRequest` field.
pub fn encode_post_field(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml.as_bytes())
}

/// The HTML page that POSTs `xml` to `action` (the ACS or SLO URL taken from the
/// SP's metadata) with an optional RelayState; everything is HTML-escaped. It
/// submits itself with [`POST_FORM_SCRIPT`] and offers a button without script.
pub fn post_form_html(
    action: &str,
    kind: MessageKind,
    xml: &str,
    relay_state: Option<&str>,
) -> Result<String> {
    let mut html = String::with_capacity(xml.len() * 4 / 3 + 1024);
    html.push_str(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>Signing in</title></head>\n<body>\n\
         <form id=\"saml-post\" method=\"post\" action=\"",
    );
    escape_html(action, &mut html);
    html.push_str("\">\n<input type=\"hidden\" name=\"");
    html.push_str(kind.parameter());
    html.push_str("\" value=\"");
    escape_html(&encode_post_field(xml), &mut html);
    html.push_str("\">\n");
    if let Some(rs) = relay_state {
        check_relay_state(rs)?;
        html.push_str("<input type=\"hidden\" name=\"RelayState\" value=\"");
        escape_html(rs, &mut html);
        html.push_str("\">\n");
    }
    html.push_str(
        "<noscript><p>Script is off: press Continue to go on.</p>\
         <button type=\"submit\">Continue</button></noscript>\n</form>\n<script>",
    );
    html.push_str(POST_FORM_SCRIPT);
    html.push_str("</script>\n</body></html>\n");
    Ok(html)
}

/// The CSP source that allows [`POST_FORM_SCRIPT`], e.g. for
/// `script-src 'sha256-…'` (CSP Level 2 §4.2.4 hash source).
pub fn post_form_script_csp_source() -> String {
    let digest = Sha256::digest(POST_FORM_SCRIPT.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Escapes text for an HTML attribute value or element content.
pub fn escape_html(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_round_trip_with_line_breaks() {
        let xml = "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>";
        let b64 = encode_post_field(xml);
        let wrapped: String = b64
            .as_bytes()
            .chunks(20)
            .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
            .collect();
        assert_eq!(decode_post_field(&wrapped).unwrap(), xml);
        assert!(decode_post_field("not base64!").is_err());
    }

    #[test]
    fn oversized_field_is_refused_before_decoding() {
        let big = "A".repeat(Limits::REQUEST.max_bytes * 2);
        assert!(matches!(
            decode_post_field(&big),
            Err(SamlError::TooLarge { .. })
        ));
    }

    #[test]
    fn form_escapes_and_carries_relay_state() {
        let html = post_form_html(
            "https://sp.example/acs?a=1&b=\"x\"",
            MessageKind::Response,
            "<x/>",
            Some("<script>alert(1)</script>"),
        )
        .unwrap();
        assert!(html.contains("action=\"https://sp.example/acs?a=1&amp;b=&quot;x&quot;\""));
        assert!(html.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
        assert!(html.contains("name=\"SAMLResponse\""));
        assert!(html.contains(&format!("<script>{POST_FORM_SCRIPT}</script>")));
        assert_eq!(html.matches("<script>").count(), 1);
    }

    #[test]
    fn csp_hash_matches_the_script() {
        let src = post_form_script_csp_source();
        assert!(src.starts_with("'sha256-") && src.ends_with('\''));
        assert_eq!(src.len(), "'sha256-'".len() + 44);
    }
}
