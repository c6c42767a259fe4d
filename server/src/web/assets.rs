//! Static files and response compression.
//!
//! - `/pkg/` holds the WASM, its JS glue and the stylesheet under names that carry a
//!   hash of their content (written by `cargo xtask build-site` with `assets.json`);
//!   those are cached for a year (`immutable`), anything else there is revalidated.
//!   Each file sits beside its `.br` and `.gz`, sent to browsers that accept them.
//! - Dynamic answers (HTML, JSON) are compressed with brotli or gzip, except those
//!   marked `no-store` by their handler: they carry a secret for one reader (initial
//!   patterns, new tokens, key files, a grid's digits), and a secret compressed
//!   together with text an attacker chose can leak through the size (BREACH). Pages
//!   keep their one long-lived secret, the CSRF token, masked anew in every response
//!   (`csrf`), so compressing them gives an attacker nothing to measure.
//! - Every page learns the asset names and whether mail can be sent.

use std::path::Path;

use app::context::{AssetNames, SiteFeatures};
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, Response as HttpResponse},
    middleware::Next,
    response::Response,
};
use tower_http::{
    compression::{
        predicate::{DefaultPredicate, Predicate},
        CompressionLayer,
    },
    services::ServeDir,
};

/// What the pages need to know about the site, made once at start.
#[derive(Clone, Debug, Default)]
pub struct SiteContext {
    pub assets: AssetNames,
    pub features: SiteFeatures,
}

impl SiteContext {
    /// Reads `pkg/assets.json` from the site embedded in the binary or under the site
    /// root (the unhashed names without it).
    pub fn load(site_root: &Path, embedded: bool, mail: bool) -> SiteContext {
        let manifest = if embedded {
            passgrid_site::file("pkg/assets.json").map(|f| f.bytes.into_owned())
        } else {
            std::fs::read(site_root.join("pkg").join("assets.json")).ok()
        };
        let assets = manifest
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .map(|v| {
                let name = |key: &str, default: String| {
                    v[key]
                        .as_str()
                        .filter(|n| is_asset_name(n))
                        .map_or(default, str::to_string)
                };
                let d = AssetNames::default();
                AssetNames {
                    main: name("main", d.main),
                    console: name("console", d.console),
                    css: name("css", d.css),
                }
            })
            .unwrap_or_default();
        SiteContext {
            assets,
            features: SiteFeatures { mail },
        }
    }
}

/// A file name from the manifest: letters, digits, `.`, `-`, `_` only.
fn is_asset_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Puts the asset names and the site's features into every request.
pub async fn attach_site_context(
    State(site): State<SiteContext>,
    mut req: Request,
    next: Next,
) -> Response {
    req.extensions_mut().insert(site.assets.clone());
    req.extensions_mut().insert(site.features.clone());
    next.run(req).await
}

/// `/pkg/`: precompressed files, hashed names cached for good.
pub fn pkg_service(pkg_dir: &Path) -> ServeDir {
    ServeDir::new(pkg_dir)
        .precompressed_br()
        .precompressed_gzip()
}

/// Whether a `/pkg/` path names a content-hashed file (`name.0123456789abcdef.ext`).
pub fn is_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    file.split('.')
        .any(|part| part.len() == 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Cache headers of `/pkg/` answers.
pub async fn pkg_cache_headers(req: Request, next: Next) -> Response {
    let hashed = is_hashed(req.uri().path());
    let mut res = next.run(req).await;
    if res.status().is_success() {
        let value = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// Leaves out answers that carry a secret (`Cache-Control: no-store`, see above).
#[derive(Clone, Copy)]
pub struct NotSecret;

impl Predicate for NotSecret {
    fn should_compress<B>(&self, response: &HttpResponse<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        !response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"))
    }
}

/// Brotli or gzip for dynamic answers, as the browser accepts.
pub fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .compress_when(DefaultPredicate::new().and(NotSecret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_names_are_immutable() {
        assert!(is_hashed("/pkg/passgrid.0123456789abcdef.wasm"));
        assert!(is_hashed("/pkg/passgrid-admin.0123456789abcdef.js"));
        assert!(!is_hashed("/pkg/passgrid.wasm"));
        assert!(!is_hashed("/pkg/passgrid.css"));
    }

    #[test]
    fn the_manifest_names_the_files_or_the_defaults_stand() {
        let dir = std::env::temp_dir().join(format!("passgrid-assets-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        let ctx = SiteContext::load(&dir, false, false);
        assert_eq!(ctx.assets.main, "passgrid");
        std::fs::write(
            dir.join("pkg/assets.json"),
            r#"{"main":"passgrid.0123456789abcdef","console":"../evil","css":"passgrid.0123456789abcdef.css"}"#,
        )
        .unwrap();
        let ctx = SiteContext::load(&dir, false, true);
        assert_eq!(ctx.assets.main, "passgrid.0123456789abcdef");
        assert_eq!(ctx.assets.console, "passgrid-admin", "a path is refused");
        assert_eq!(ctx.assets.css, "passgrid.0123456789abcdef.css");
        assert!(ctx.features.mail);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
