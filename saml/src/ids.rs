//! Message and assertion IDs: `_` + 32 hex digits (128 bits) from the OS random
//! generator. Core §1.3.4 asks for at least 128 bits of randomness; the leading
//! underscore keeps the value a valid `xs:ID` (an NCName cannot start with a digit).

use rand_core::{OsRng, TryRngCore};

use crate::error::{Result, SamlError};

/// A fresh random ID for a message or assertion.
pub fn new_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| SamlError::Key("the OS random generator failed"))?;
    let mut id = String::with_capacity(33);
    id.push('_');
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_underscore_and_32_hex_and_differ() {
        let a = super::new_id().unwrap();
        let b = super::new_id().unwrap();
        assert_eq!(a.len(), 33);
        assert!(a.starts_with('_'));
        assert!(a[1..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
