//! The crate's one error type. Messages say what was wrong without echoing the
//! attacker's document: names are cut short and values are never quoted whole.

/// Why a signature (XML-DSig or HTTP-Redirect query signature) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The SP must sign but the message carries no signature.
    #[error("the message is not signed but the service provider must sign it")]
    Missing,
    /// The message is signed but there is no key to check it with.
    #[error("the message is signed but no verification key is known for the service provider")]
    NoKey,
    /// More than one `ds:Signature`, or one that is not a direct child of the root.
    #[error("exactly one ds:Signature, a direct child of the root element, is allowed")]
    Placement,
    /// A second element with the root's name, or duplicate ID values (wrapping).
    #[error("the document holds {0}: refused as a signature-wrapping attempt")]
    Wrapping(&'static str),
    /// The Reference does not point at the root element's ID.
    #[error("the signature's Reference must be the one URI \"#<root ID>\"")]
    Reference,
    /// The transforms are not exactly enveloped-signature then exc-c14n.
    #[error("transforms must be exactly enveloped-signature then exclusive c14n")]
    Transforms,
    /// An algorithm outside what the caller allows.
    #[error("algorithm not allowed: {0}")]
    Algorithm(&'static str),
    /// The structure of ds:Signature is not the one XML-DSig defines.
    #[error("malformed ds:Signature: {0}")]
    Malformed(&'static str),
    /// The digest of the referenced element does not match DigestValue.
    #[error("the digest of the signed element does not match")]
    Digest,
    /// The RSA signature does not verify with any of the SP's keys.
    #[error("the signature value does not verify with the service provider's key")]
    Value,
    /// The redirect binding message also carries an XML signature (Bindings §3.4.4.1).
    #[error("an HTTP-Redirect message must not carry a ds:Signature element")]
    EmbeddedInRedirect,
}

/// Everything that can go wrong in the SAML layer.
#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    /// Input bigger than the limit for its kind.
    #[error("input is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size seen (or a lower bound of it).
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A DOCTYPE (hence entities, XXE, XML bombs) was present.
    #[error(
        "document type declarations are refused (no DTD, no entities, no external references)"
    )]
    DtdRefused,
    /// The XML is not well-formed (the parser's reason, with position).
    #[error("XML is not well-formed: {0}")]
    Malformed(String),
    /// Elements nest deeper than allowed.
    #[error("XML nests deeper than {limit} elements")]
    TooDeep {
        /// The depth limit.
        limit: usize,
    },
    /// Too many nodes.
    #[error("XML has more than {limit} nodes")]
    TooManyNodes {
        /// The node limit.
        limit: u32,
    },
    /// The root or a child is not the expected element (namespace and name).
    #[error("expected {expected}, found {found}")]
    UnexpectedElement {
        /// The expected qualified name.
        expected: &'static str,
        /// What was found, cut short.
        found: String,
    },
    /// A required element or attribute is absent.
    #[error("{element} lacks {what}")]
    Missing {
        /// The element that lacks it.
        element: &'static str,
        /// What is missing.
        what: &'static str,
    },
    /// A value is present but invalid.
    #[error("invalid {what}")]
    Invalid {
        /// Which value.
        what: &'static str,
    },
    /// Transfer encoding (base64, DEFLATE, URL encoding, UTF-8) failed.
    #[error("encoding: {0}")]
    Encoding(&'static str),
    /// A signature was refused.
    #[error("signature refused: {0}")]
    Signature(#[from] SignatureError),
    /// A key or certificate could not be used.
    #[error("key or certificate: {0}")]
    Key(&'static str),
    /// A time check failed (expired, not yet valid).
    #[error("time check failed: {0}")]
    Time(&'static str),
    /// Encryption failed.
    #[error("encryption: {0}")]
    Encryption(&'static str),
}

/// Cuts an attacker-supplied name to a short, printable prefix for an error message.
pub(crate) fn brief(s: &str) -> String {
    const MAX: usize = 48;
    let mut out: String = s
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// Shorthand for the crate's results.
pub type Result<T, E = SamlError> = std::result::Result<T, E>;
