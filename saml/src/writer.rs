//! A small element tree for the XML the IdP generates, written directly in
//! exclusive canonical form (exc-c14n §3, C14N §2): every element declares the one
//! prefix it uses unless an ancestor already did with the same URI, attributes are
//! unprefixed and sorted, no empty-element tags, canonical escaping. A signature's
//! digest is then the SHA-256 of what is sent, and any conforming c14n of the
//! parsed output gives back the same bytes (tested in `dsig_sign`).

use crate::c14n::{escape_attribute, escape_text};

/// An element of generated XML.
#[derive(Debug, Clone)]
pub(crate) struct El {
    prefix: &'static str,
    ns: &'static str,
    local: &'static str,
    attrs: Vec<(&'static str, String)>,
    children: Vec<Child>,
}

#[derive(Debug, Clone)]
enum Child {
    El(El),
    Text(String),
}

impl El {
    /// A new element `prefix:local` in namespace `ns`.
    pub(crate) fn new(prefix: &'static str, ns: &'static str, local: &'static str) -> Self {
        El {
            prefix,
            ns,
            local,
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Adds an unprefixed attribute (replacing one of the same name).
    pub(crate) fn attr(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.attrs.retain(|(n, _)| *n != name);
        self.attrs.push((name, value.into()));
        self
    }

    /// Adds the attribute when `value` is `Some`.
    pub(crate) fn attr_opt(self, name: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// Appends a child element.
    pub(crate) fn child(mut self, child: El) -> Self {
        self.children.push(Child::El(child));
        self
    }

    /// Appends a child element when `Some`.
    pub(crate) fn child_opt(self, child: Option<El>) -> Self {
        match child {
            Some(c) => self.child(c),
            None => self,
        }
    }

    /// Appends text content.
    pub(crate) fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Child::Text(text.into()));
        self
    }

    /// Appends a child element in place.
    pub(crate) fn push(&mut self, child: El) {
        self.children.push(Child::El(child));
    }

    /// Value of an unprefixed attribute.
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Inserts `child` right after the first `Issuer` child, or first if none: the
    /// place of `ds:Signature` in Response, Assertion, LogoutRequest/Response
    /// (Core §3.2.2, §2.3.3) and EntityDescriptor (Metadata §2.3.2, first child).
    pub(crate) fn insert_after_issuer(&mut self, child: El) {
        let at = self
            .children
            .iter()
            .position(|c| matches!(c, Child::El(e) if e.local == "Issuer"))
            .map(|i| i + 1)
            .unwrap_or(0);
        self.children.insert(at, Child::El(child));
    }

    /// The canonical form of this element as the apex of a subtree.
    pub(crate) fn render(&self) -> String {
        let mut out = String::with_capacity(1024);
        let mut in_scope: Vec<(&'static str, &'static str)> = Vec::new();
        self.render_into(&mut out, &mut in_scope);
        out
    }

    fn render_into(&self, out: &mut String, in_scope: &mut Vec<(&'static str, &'static str)>) {
        let mark = in_scope.len();
        out.push('<');
        self.write_qname(out);
        let declared = in_scope
            .iter()
            .rev()
            .find(|(p, _)| *p == self.prefix)
            .map(|(_, u)| *u);
        if declared != Some(self.ns) {
            if self.prefix.is_empty() {
                out.push_str(" xmlns=\"");
            } else {
                out.push_str(" xmlns:");
                out.push_str(self.prefix);
                out.push_str("=\"");
            }
            escape_attribute(self.ns, out);
            out.push('"');
            in_scope.push((self.prefix, self.ns));
        }
        let mut attrs: Vec<&(&'static str, String)> = self.attrs.iter().collect();
        attrs.sort_by_key(|(n, _)| *n);
        for (name, value) in attrs {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape_attribute(value, out);
            out.push('"');
        }
        out.push('>');
        for c in &self.children {
            match c {
                Child::El(e) => e.render_into(out, in_scope),
                Child::Text(t) => escape_text(t, out),
            }
        }
        out.push_str("</");
        self.write_qname(out);
        out.push('>');
        in_scope.truncate(mark);
    }

    fn write_qname(&self, out: &mut String) {
        if !self.prefix.is_empty() {
            out.push_str(self.prefix);
            out.push(':');
        }
        out.push_str(self.local);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::c14n::canonicalize;
    use crate::parse::{parse_document, Limits};

    #[test]
    fn output_is_its_own_canonical_form() {
        let el = El::new("samlp", crate::names::NS_PROTOCOL, "Response")
            .attr("ID", "_1")
            .attr("Destination", "https://sp.example/acs?a=1&b=\"2\"")
            .child(El::new("saml", crate::names::NS_ASSERTION, "Issuer").text("idp <&>"))
            .child(
                El::new("saml", crate::names::NS_ASSERTION, "Assertion")
                    .attr("ID", "_2")
                    .child(El::new("saml", crate::names::NS_ASSERTION, "Issuer").text("x\r\n")),
            );
        let out = el.render();
        let doc = parse_document(&out, &Limits::REQUEST).unwrap();
        assert_eq!(canonicalize(doc.root_element(), None, &[]).unwrap(), out);
        let assertion = doc
            .descendants()
            .find(|n| n.tag_name().name() == "Assertion")
            .unwrap();
        let sub = canonicalize(assertion, None, &[]).unwrap();
        assert!(out.contains(&sub), "{sub}");
    }
}
