//! Finds the site directory `cargo xtask build` makes (target/site, or
//! PASSGRID_SITE_DIR) and hands it to the embedding. Without a built site, an empty
//! directory is embedded and the server serves the site from disk as before.

use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=PASSGRID_SITE_DIR");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    println!("cargo::rustc-check-cfg=cfg(site_embedded)");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    // Where `cargo xtask build` puts it: beside the builds (CARGO_TARGET_DIR honoured).
    let site = env::var_os("PASSGRID_SITE_DIR")
        .map(PathBuf::from)
        .or_else(|| env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("site")))
        .unwrap_or_else(|| manifest.join("../target/site"));
    // Watched so that a new build of the site is embedded by the next cargo build; it is
    // made (empty) when missing, because cargo reruns a build script every time for a
    // watched path that does not exist.
    let _ = fs::create_dir_all(&site);
    println!("cargo:rerun-if-changed={}", site.display());
    // A finished site has its manifest of content-hashed names.
    let dir = if site.join("pkg/assets.json").is_file() {
        println!("cargo:rustc-cfg=site_embedded");
        site
    } else {
        let empty = PathBuf::from(env::var("OUT_DIR").unwrap_or_default()).join("no-site");
        let _ = fs::create_dir_all(&empty);
        empty
    };
    println!(
        "cargo:rustc-env=PASSGRID_EMBED_DIR={}",
        dir.canonicalize().unwrap_or(dir).display()
    );
}
