//! Namespace, algorithm, binding, format and status URIs (SAML Core/Bindings/Metadata
//! 2.0, XML-DSig, xml-exc-c14n, XML Encryption).

/// SAML 2.0 protocol namespace (`samlp:`).
pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 assertion namespace (`saml:`).
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 metadata namespace (`md:`).
pub const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML-DSig namespace (`ds:`).
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XML Encryption namespace (`xenc:`).
pub const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
/// XML Encryption 1.1 namespace (`xenc11:`), for AES-GCM.
pub const NS_XENC11: &str = "http://www.w3.org/2009/xmlenc11#";

/// Exclusive XML Canonicalization 1.0, without comments.
pub const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// The enveloped-signature transform (XML-DSig §6.6.4).
pub const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// RSA PKCS#1 v1.5 with SHA-256 (RFC 6931 §2.3.2).
pub const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// RSA PKCS#1 v1.5 with SHA-1 (XML-DSig §6.4.2), only when a caller allows it.
pub const ALG_RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
/// SHA-256 digest (XML Encryption §5.7.2).
pub const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
/// SHA-1 digest (XML-DSig §6.2.1), only when a caller allows it.
pub const ALG_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// HTTP-Redirect binding (Bindings §3.4).
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// HTTP-POST binding (Bindings §3.5).
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// NameID formats (Core §8.3).
pub mod nameid {
    /// Unspecified (SAML 1.1 URN, as Core §8.3.1 defines it).
    pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
    /// E-mail address.
    pub const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    /// Persistent, opaque, per SP.
    pub const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
    /// Transient, per session.
    pub const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
    /// Entity identifier (the Issuer's format).
    pub const ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
}

/// Attribute NameFormats (Core §8.2).
pub mod attrname {
    /// Unspecified.
    pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
    /// URI reference (e.g. OIDs as `urn:oid:…`).
    pub const URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
    /// Basic (a plain name).
    pub const BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
}

/// Authentication context classes (SAML Authn Context 2.0).
pub mod authn_context {
    /// Password over a protected transport.
    pub const PASSWORD_PROTECTED_TRANSPORT: &str =
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
    /// TLS client certificate.
    pub const TLS_CLIENT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient";
    /// Time-synchronised token.
    pub const TIME_SYNC_TOKEN: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken";
    /// Unspecified.
    pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified";
}

/// Subject confirmation method bearer (Profiles §3.3).
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// The protocol version every message carries (Core §3.2.1).
pub const SAML_VERSION: &str = "2.0";
