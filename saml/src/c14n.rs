//! Exclusive XML Canonicalization 1.0 without comments (xml-exc-c14n, W3C REC
//! 2002-07-18) of an element subtree of a parsed document, as XML-DSig needs it for
//! `Reference` digests and for `SignedInfo`.
//!
//! The XPath data model the spec works on is what roxmltree gives: entities and
//! character references resolved, CDATA merged into text, line ends normalised to
//! LF (XML 1.0 §2.11) and attribute values normalised (XML 1.0 §3.3.3). Prefixes
//! are read back from the original text, since roxmltree keeps only namespace URIs.

use roxmltree::{Node, NodeType};

use crate::error::{Result, SamlError};
use crate::parse::{walk, Edge};

/// Canonicalizes the subtree rooted at `apex`, leaving out `excluded` (the
/// enveloped signature, XML-DSig §6.6.4) and rendering the prefixes of
/// `inclusive_prefixes` as inclusive c14n would (exc-c14n §3, `#default` for the
/// default namespace).
pub fn canonicalize(
    apex: Node<'_, '_>,
    excluded: Option<Node<'_, '_>>,
    inclusive_prefixes: &[&str],
) -> Result<String> {
    if !apex.is_element() {
        return Err(SamlError::Invalid {
            what: "canonicalization apex (not an element)",
        });
    }
    let input = apex.document().input_text();
    let mut out = String::with_capacity(apex.range().len());
    // Namespace declarations rendered by output ancestors, innermost last; the
    // empty default namespace counts as rendered at the start (exc-c14n §3 via
    // C14N §2.3: `xmlns=""` is emitted only to undo a rendered non-empty default).
    let mut rendered: Vec<Vec<(String, String)>> = vec![vec![(String::new(), String::new())]];
    let mut skipping: Option<Node<'_, '_>> = None;

    for edge in walk(apex) {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                if Some(node) == excluded {
                    skipping = Some(node);
                    continue;
                }
                match node.node_type() {
                    NodeType::Element => {
                        open_element(node, input, inclusive_prefixes, &mut rendered, &mut out)?
                    }
                    NodeType::Text => escape_text(node.text().unwrap_or(""), &mut out),
                    NodeType::PI => {
                        if let Some(pi) = node.pi() {
                            out.push_str("<?");
                            out.push_str(pi.target);
                            if let Some(value) = pi.value {
                                out.push(' ');
                                out.push_str(value);
                            }
                            out.push_str("?>");
                        }
                    }
                    // Comments are dropped: the "without comments" variant.
                    NodeType::Comment | NodeType::Root => {}
                }
            }
            Edge::Close(node) => {
                if let Some(skipped) = skipping {
                    if skipped == node {
                        skipping = None;
                    }
                    continue;
                }
                if node.is_element() {
                    out.push_str("</");
                    out.push_str(element_qname(node, input)?);
                    out.push('>');
                    rendered.pop();
                }
            }
        }
    }
    Ok(out)
}

/// Writes a start tag with the namespace declarations exc-c14n renders and the
/// attributes in canonical order, and pushes the declarations it rendered.
fn open_element(
    node: Node<'_, '_>,
    input: &str,
    inclusive_prefixes: &[&str],
    rendered: &mut Vec<Vec<(String, String)>>,
    out: &mut String,
) -> Result<()> {
    let qname = element_qname(node, input)?;
    let mut utilized: Vec<&str> = vec![prefix_of(qname)];

    // (namespace URI, local name, qualified name as written, value)
    let mut attributes: Vec<(&str, &str, &str, &str)> = Vec::new();
    for attr in node.attributes() {
        let aq = input.get(attr.range_qname()).ok_or(SamlError::Invalid {
            what: "attribute position",
        })?;
        let p = prefix_of(aq);
        // The xml: namespace is never declared (exc-c14n §3, C14N §4.7); an
        // unprefixed attribute is in no namespace and uses no default namespace.
        if !p.is_empty() && p != "xml" {
            utilized.push(p);
        }
        attributes.push((
            attr.namespace().unwrap_or(""),
            attr.name(),
            aq,
            attr.value(),
        ));
    }
    // InclusiveNamespaces PrefixList: those prefixes are handled as in inclusive
    // C14N, i.e. rendered whenever in scope, utilized or not (exc-c14n §3).
    for p in inclusive_prefixes {
        let p = if *p == "#default" { "" } else { *p };
        if lookup(node, p).is_some() {
            utilized.push(p);
        }
    }
    utilized.sort_unstable();
    utilized.dedup();

    let mut frame: Vec<(String, String)> = Vec::new();
    for p in utilized {
        let uri = lookup(node, p).unwrap_or("");
        if !p.is_empty() && uri.is_empty() {
            continue;
        }
        let already = rendered
            .iter()
            .rev()
            .flat_map(|f| f.iter())
            .find(|(rp, _)| rp == p)
            .map(|(_, ru)| ru.as_str());
        if already != Some(uri) {
            frame.push((p.to_owned(), uri.to_owned()));
        }
    }
    // Namespace nodes sort by local name, the default namespace (empty) first.
    frame.sort();
    // Attributes sort by namespace URI (none first), then local name (C14N §2.2).
    attributes.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

    out.push('<');
    out.push_str(qname);
    for (p, uri) in &frame {
        if p.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(p);
            out.push_str("=\"");
        }
        escape_attribute(uri, out);
        out.push('"');
    }
    for (_, _, aq, value) in &attributes {
        out.push(' ');
        out.push_str(aq);
        out.push_str("=\"");
        escape_attribute(value, out);
        out.push('"');
    }
    out.push('>');
    rendered.push(frame);
    Ok(())
}

/// The namespace URI bound to `prefix` ("" for the default) in scope at `node`.
fn lookup<'a>(node: Node<'a, '_>, prefix: &str) -> Option<&'a str> {
    node.lookup_namespace_uri(if prefix.is_empty() {
        None
    } else {
        Some(prefix)
    })
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map(|(p, _)| p).unwrap_or("")
}

/// The element's qualified name as written in the start tag.
pub(crate) fn element_qname<'i>(node: Node<'_, 'i>, input: &'i str) -> Result<&'i str> {
    let tag = input
        .get(node.range().start..)
        .and_then(|t| t.strip_prefix('<'))
        .ok_or(SamlError::Invalid {
            what: "element position",
        })?;
    let end = tag
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(tag.len());
    tag.get(..end).ok_or(SamlError::Invalid {
        what: "element name",
    })
}

/// Text node escaping (C14N §2.3): `&`, `<`, `>` and CR.
pub fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
}

/// Attribute value escaping (C14N §2.3): `&`, `<`, `"`, TAB, LF and CR.
pub fn escape_attribute(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_document, Limits};

    fn c14n_of(xml: &str, local: &str, prefixes: &[&str]) -> String {
        let doc = parse_document(xml, &Limits::REQUEST).unwrap();
        let node = doc
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == local)
            .unwrap();
        canonicalize(node, None, prefixes).unwrap()
    }

    #[test]
    fn spec_example_subtree_drops_unused_ancestor_namespaces() {
        // exc-c14n §2.2: the apex renders only what it visibly utilizes.
        let xml = "<n0:local xmlns:n0=\"foo:bar\" xmlns:n3=\"ftp://example.org\">\n  \
                   <n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\">\n    \
                   <n3:stuff xmlns:n3=\"ftp://example.org\"/>\n  </n1:elem2>\n</n0:local>";
        assert_eq!(
            c14n_of(xml, "elem2", &[]),
            "<n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\">\n    \
             <n3:stuff xmlns:n3=\"ftp://example.org\"></n3:stuff>\n  </n1:elem2>"
        );
    }

    #[test]
    fn inclusive_prefix_list_keeps_unused_namespace() {
        let xml = r#"<a:r xmlns:a="urn:a" xmlns:xs="urn:xs"><a:v t="xs:string">1</a:v></a:r>"#;
        assert_eq!(
            c14n_of(xml, "r", &["xs"]),
            r#"<a:r xmlns:a="urn:a" xmlns:xs="urn:xs"><a:v t="xs:string">1</a:v></a:r>"#
        );
        assert_eq!(
            c14n_of(xml, "r", &[]),
            r#"<a:r xmlns:a="urn:a"><a:v t="xs:string">1</a:v></a:r>"#
        );
    }

    #[test]
    fn attributes_sorted_and_namespaces_sorted() {
        let xml = r#"<e xmlns:b="urn:b" xmlns:a="urn:a" xmlns:unused="urn:u" z="1" b:y="2" a:y="3" a="4"/>"#;
        assert_eq!(
            c14n_of(xml, "e", &[]),
            r#"<e xmlns:a="urn:a" xmlns:b="urn:b" a="4" z="1" a:y="3" b:y="2"></e>"#
        );
    }

    #[test]
    fn default_namespace_undeclaration() {
        let xml = r#"<a xmlns="urn:x"><b xmlns=""><c/></b><d/></a>"#;
        assert_eq!(
            c14n_of(xml, "a", &[]),
            r#"<a xmlns="urn:x"><b xmlns=""><c></c></b><d></d></a>"#
        );
        assert_eq!(c14n_of(xml, "b", &[]), "<b><c></c></b>");
        assert_eq!(c14n_of(xml, "d", &[]), r#"<d xmlns="urn:x"></d>"#);
    }

    #[test]
    fn redeclared_same_value_is_not_repeated_but_changed_value_is() {
        let xml = r#"<p:a xmlns:p="urn:1"><p:b xmlns:p="urn:1"><p:c xmlns:p="urn:2"/></p:b></p:a>"#;
        assert_eq!(
            c14n_of(xml, "a", &[]),
            r#"<p:a xmlns:p="urn:1"><p:b><p:c xmlns:p="urn:2"></p:c></p:b></p:a>"#
        );
    }

    #[test]
    fn escaping_comments_cdata_and_char_refs() {
        let xml = "<a x=\"&#9;t&#10;&quot;&lt;&gt;&amp;\" y='\"'>\r\n<!-- gone -->&lt;&#62;&amp;<![CDATA[<&>]]>&#13;<?pi  data?></a>";
        assert_eq!(
            c14n_of(xml, "a", &[]),
            "<a x=\"&#x9;t&#xA;&quot;&lt;>&amp;\" y=\"&quot;\">\n&lt;&gt;&amp;&lt;&amp;&gt;&#xD;<?pi data?></a>"
        );
    }

    #[test]
    fn excluded_subtree_is_left_out() {
        let xml =
            r#"<a ID="x"><i>1</i><ds:Signature xmlns:ds="urn:ds"><ds:v/></ds:Signature><j/></a>"#;
        let doc = parse_document(xml, &Limits::REQUEST).unwrap();
        let sig = doc
            .descendants()
            .find(|n| n.tag_name().name() == "Signature")
            .unwrap();
        assert_eq!(
            canonicalize(doc.root_element(), Some(sig), &[]).unwrap(),
            r#"<a ID="x"><i>1</i><j></j></a>"#
        );
    }
}
