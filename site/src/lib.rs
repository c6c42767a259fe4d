//! The site passgrid serves (`pkg/` with the WASM, JS and CSS, and the public files),
//! embedded at compile time when `cargo xtask build` has made it, so that a server
//! needs nothing beside its binary, its configuration and the master key.

use std::borrow::Cow;

#[derive(rust_embed::RustEmbed)]
#[folder = "$PASSGRID_EMBED_DIR"]
struct Files;

/// An embedded file.
pub struct File {
    pub bytes: Cow<'static, [u8]>,
    /// The MIME type guessed from the name.
    pub content_type: String,
    /// A strong validator: the SHA-256 of the content, in hex.
    pub etag: String,
}

/// Whether this binary carries a site (built with one present).
pub fn is_embedded() -> bool {
    cfg!(site_embedded)
}

/// The file at `path` (relative to the site root, e.g. `pkg/passgrid.wasm`).
pub fn file(path: &str) -> Option<File> {
    let found = Files::get(path)?;
    let content_type = found.metadata.mimetype().to_string();
    let etag = found
        .metadata
        .sha256_hash()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(File {
        bytes: found.data,
        content_type,
        etag,
    })
}
