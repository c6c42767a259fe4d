//! Hardened parsing of what peers send: no DTD (so no entities, no XXE, no XML
//! bomb), a size limit, a node and a depth limit, and checked namespaces.

use roxmltree::{Document, Node, NodeType, ParsingOptions};

/// One step of a depth-first walk: entering or leaving a node.
#[derive(Debug, Clone, Copy)]
pub enum Edge<'a, 'i> {
    /// Entering the node (before its children).
    Open(Node<'a, 'i>),
    /// Leaving the node (after its children).
    Close(Node<'a, 'i>),
}

/// Depth-first walk of a subtree without recursion (roxmltree 0.21 has none).
pub fn walk<'a, 'i>(apex: Node<'a, 'i>) -> impl Iterator<Item = Edge<'a, 'i>> {
    let mut next = Some(Edge::Open(apex));
    std::iter::from_fn(move || {
        let current = next?;
        next = match current {
            Edge::Open(n) => match n.first_child() {
                Some(c) => Some(Edge::Open(c)),
                None => Some(Edge::Close(n)),
            },
            Edge::Close(n) if n == apex => None,
            Edge::Close(n) => match n.next_sibling() {
                Some(s) => Some(Edge::Open(s)),
                None => n.parent().map(Edge::Close),
            },
        };
        Some(current)
    })
}

use crate::error::{brief, Result, SamlError};

/// Limits applied before and while parsing a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum size of the XML text in bytes.
    pub max_bytes: usize,
    /// Maximum element nesting depth (the root is depth 1).
    pub max_depth: usize,
    /// Maximum number of nodes (elements, text, comments, PIs).
    pub max_nodes: u32,
}

impl Limits {
    /// For protocol messages (AuthnRequest, LogoutRequest, LogoutResponse).
    pub const REQUEST: Limits = Limits {
        max_bytes: 256 * 1024,
        max_depth: 32,
        max_nodes: 10_000,
    };
    /// For SP metadata, which can hold many certificates and endpoints.
    pub const METADATA: Limits = Limits {
        max_bytes: 1024 * 1024,
        max_depth: 48,
        max_nodes: 100_000,
    };
}

/// Parses `text` under `limits`, refusing any DOCTYPE.
pub fn parse_document<'a>(text: &'a str, limits: &Limits) -> Result<Document<'a>> {
    if text.len() > limits.max_bytes {
        return Err(SamlError::TooLarge {
            size: text.len(),
            limit: limits.max_bytes,
        });
    }
    // roxmltree refuses a DTD with an internal subset but lets an empty `<!DOCTYPE x>`
    // through; SAML never needs one (Core §1.3 uses no DTD), so any is refused.
    if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err(SamlError::DtdRefused);
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits.max_nodes,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => SamlError::DtdRefused,
        roxmltree::Error::NodesLimitReached => SamlError::TooManyNodes {
            limit: limits.max_nodes,
        },
        other => SamlError::Malformed(brief(&other.to_string())),
    })?;
    check_depth(&doc, limits.max_depth)?;
    Ok(doc)
}

/// Walks the tree without recursion so a deep document cannot exhaust the stack here.
fn check_depth(doc: &Document<'_>, max_depth: usize) -> Result<()> {
    let mut depth = 0usize;
    for edge in walk(doc.root()) {
        match edge {
            Edge::Open(n) if n.is_element() => {
                depth += 1;
                if depth > max_depth {
                    return Err(SamlError::TooDeep { limit: max_depth });
                }
            }
            Edge::Close(n) if n.is_element() => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// True when `node` is the element `{ns}local`.
pub fn is_element(node: &Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().name() == local && node.tag_name().namespace() == Some(ns)
}

/// Returns the root element if it is `{ns}local`, else says what it was.
pub fn expect_root<'a, 'i>(
    doc: &'a Document<'i>,
    ns: &str,
    local: &str,
    expected: &'static str,
) -> Result<Node<'a, 'i>> {
    let root = doc.root_element();
    if is_element(&root, ns, local) {
        Ok(root)
    } else {
        Err(SamlError::UnexpectedElement {
            expected,
            found: describe(&root),
        })
    }
}

/// `{namespace}local` of an element, cut short, for error messages.
pub fn describe(node: &Node<'_, '_>) -> String {
    let name = node.tag_name();
    match name.namespace() {
        Some(ns) => brief(&format!("{{{ns}}}{}", name.name())),
        None => brief(name.name()),
    }
}

/// Element children of `node` (text, comments and PIs skipped).
pub fn child_elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(|n| n.node_type() == NodeType::Element)
}

/// The first child element `{ns}local`, if any.
pub fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, local: &str) -> Option<Node<'a, 'i>> {
    child_elements(node).find(|n| is_element(n, ns, local))
}

/// All child elements `{ns}local`.
pub fn children<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &'a str,
    local: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a
where
    'i: 'a,
{
    child_elements(node).filter(move |n| is_element(n, ns, local))
}

/// The one child `{ns}local`; absent or repeated is an error.
pub fn single_child<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &str,
    local: &str,
    what: &'static str,
) -> Result<Option<Node<'a, 'i>>> {
    let mut found = child_elements(node).filter(|n| is_element(n, ns, local));
    let first = found.next();
    if found.next().is_some() {
        return Err(SamlError::Invalid { what });
    }
    Ok(first)
}

/// Concatenated text content of an element (its text descendants), trimmed.
pub fn text_of(node: Node<'_, '_>) -> String {
    let mut out = String::new();
    for d in node.descendants() {
        if d.is_text() {
            if let Some(t) = d.text() {
                out.push_str(t);
            }
        }
    }
    out.trim().to_owned()
}

/// An unqualified attribute; absent is an error naming `element` and `what`.
pub fn required_attr<'a>(
    node: &Node<'a, '_>,
    name: &str,
    element: &'static str,
    what: &'static str,
) -> Result<&'a str> {
    node.attribute(name)
        .ok_or(SamlError::Missing { element, what })
}

/// Parses an `xs:boolean` ("true", "false", "1", "0"); absent is `default`.
pub fn bool_attr(
    node: &Node<'_, '_>,
    name: &str,
    what: &'static str,
    default: bool,
) -> Result<bool> {
    match node.attribute(name).map(str::trim) {
        None => Ok(default),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => Err(SamlError::Invalid { what }),
    }
}

/// Checks `Version="2.0"` (Core §3.2.1) on a protocol message root.
pub fn check_version(node: &Node<'_, '_>, element: &'static str) -> Result<()> {
    match node.attribute("Version") {
        Some(crate::names::SAML_VERSION) => Ok(()),
        Some(_) => Err(SamlError::Invalid {
            what: "Version (must be 2.0)",
        }),
        None => Err(SamlError::Missing {
            element,
            what: "Version",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_doctype_and_entities() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><a>&lol2;</a>"#;
        assert!(matches!(
            parse_document(bomb, &Limits::REQUEST),
            Err(SamlError::DtdRefused)
        ));
        let xxe = r#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
        assert!(matches!(
            parse_document(xxe, &Limits::REQUEST),
            Err(SamlError::DtdRefused)
        ));
        let empty = r#"<!DOCTYPE a><a/>"#;
        assert!(matches!(
            parse_document(empty, &Limits::REQUEST),
            Err(SamlError::DtdRefused)
        ));
    }

    #[test]
    fn undeclared_entity_is_malformed() {
        assert!(matches!(
            parse_document("<a>&x;</a>", &Limits::REQUEST),
            Err(SamlError::Malformed(_))
        ));
    }

    #[test]
    fn size_depth_and_node_limits() {
        let limits = Limits {
            max_bytes: 100,
            max_depth: 3,
            max_nodes: 8,
        };
        let big = format!("<a>{}</a>", "x".repeat(200));
        assert!(matches!(
            parse_document(&big, &limits),
            Err(SamlError::TooLarge { .. })
        ));
        assert!(parse_document("<a><b><c/></b></a>", &limits).is_ok());
        assert!(matches!(
            parse_document("<a><b><c><d/></c></b></a>", &limits),
            Err(SamlError::TooDeep { limit: 3 })
        ));
        assert!(matches!(
            parse_document("<a><b/><b/><b/><b/><b/><b/><b/><b/><b/></a>", &limits),
            Err(SamlError::TooManyNodes { .. })
        ));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let n = 50_000;
        let deep = format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        let limits = Limits {
            max_bytes: 1 << 20,
            max_depth: 32,
            max_nodes: 200_000,
        };
        assert!(matches!(
            parse_document(&deep, &limits),
            Err(SamlError::TooDeep { .. })
        ));
    }

    #[test]
    fn root_namespace_is_checked() {
        let doc = parse_document(
            r#"<AuthnRequest xmlns="urn:example:not-saml"/>"#,
            &Limits::REQUEST,
        )
        .unwrap();
        let err = expect_root(
            &doc,
            crate::names::NS_PROTOCOL,
            "AuthnRequest",
            "samlp:AuthnRequest",
        )
        .unwrap_err();
        assert!(err.to_string().contains("urn:example:not-saml"), "{err}");
    }
}
