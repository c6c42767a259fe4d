//! Build tasks that cargo alone cannot express: the WASM (wasm32 build, wasm-bindgen,
//! wasm-opt), the site directory the server serves, and installing the tools needed.
//!
//!     cargo xtask build [--release]     WASM + site + server
//!     cargo xtask build-site [--release] WASM + site only (the tests build the server)
//!     cargo xtask run [-- serve args]   release build, then `passgrid serve`
//!     cargo xtask wasm-size             gzip size of the built WASM
//!     cargo xtask layers                the server's imports point down its layers

mod layers;

use anyhow::{bail, Context, Result};
use std::{
    env,
    ffi::OsString,
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Instant,
};

/// The wasm-opt that keeps Leptos hydration working (binaryen 116 from crates.io;
/// Debian's binaryen 108 breaks it, see shared/recipes/leptos-build.md).
const WASM_OPT_CRATE_VERSION: &str = "0.116.1";
const MIN_BINARYEN: u32 = 116;
const OUTPUT_NAME: &str = "passgrid";
/// The console's WASM (all islands, `frontend --features console`); the sign-in pages
/// load the smaller one without the console.
const CONSOLE_OUTPUT_NAME: &str = "passgrid-admin";

/// The WASM modules of the site: (file name, frontend features).
const MODULES: &[(&str, &str)] = &[(OUTPUT_NAME, ""), (CONSOLE_OUTPUT_NAME, "console")];

fn main() {
    if let Err(err) = run() {
        eprintln!("xtask: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let mut args: Vec<String> = env::args().skip(1).collect();
    if args.is_empty() {
        bail!("usage: cargo xtask build [--release] | build-site [--release] | run [-- ARGS] | wasm-size | layers");
    }
    let task = args.remove(0);
    let release = args.iter().any(|a| a == "--release");
    match task.as_str() {
        "build" => build(release, true).map(|_| ()),
        "build-site" => build(release, false).map(|_| ()),
        "run" => {
            let passthrough: Vec<String> = match args.iter().position(|a| a == "--") {
                Some(i) => args[i + 1..].to_vec(),
                None => Vec::new(),
            };
            let started = Instant::now();
            let server = build(true, true)?;
            eprintln!(
                "xtask: built in {:.0} s; starting {}",
                started.elapsed().as_secs_f64(),
                server.display()
            );
            let mut cmd = Command::new(&server);
            if passthrough.is_empty() || passthrough[0].starts_with('-') {
                cmd.arg("serve");
            }
            let status = cmd.args(&passthrough).status()?;
            std::process::exit(status.code().unwrap_or(1));
        }
        "layers" => layers::run(&workspace_root()?),
        "wasm-size" => {
            report_sizes(&site_dir()?.join("pkg"))?;
            Ok(())
        }
        other => bail!("unknown task {other:?}"),
    }
}

fn workspace_root() -> Result<PathBuf> {
    let manifest = env::var("CARGO_MANIFEST_DIR").context("run through `cargo xtask`")?;
    Ok(Path::new(&manifest)
        .parent()
        .context("xtask has no parent directory")?
        .to_path_buf())
}

/// The cargo target directory: `CARGO_TARGET_DIR` when set, else `target/`.
fn target_dir() -> Result<PathBuf> {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            Ok(if dir.is_absolute() {
                dir
            } else {
                workspace_root()?.join(dir)
            })
        }
        _ => Ok(workspace_root()?.join("target")),
    }
}

fn site_dir() -> Result<PathBuf> {
    Ok(target_dir()?.join("site"))
}

fn cargo() -> OsString {
    env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// A cargo command without the variables `cargo run` set for xtask itself: build
/// scripts (ring's) watch some of them, and a difference would rebuild them every
/// time a plain `cargo build` and `cargo xtask` alternate.
fn cargo_command() -> Command {
    let mut cmd = Command::new(cargo());
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key == "CARGO_MANIFEST_DIR"
            || key == "CARGO_MANIFEST_PATH"
            || key.starts_with("CARGO_PKG_")
            || key == "CARGO_CRATE_NAME"
            || key == "CARGO_BIN_NAME"
            || key == "CARGO_PRIMARY_PACKAGE"
        {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Builds everything and returns the path of the server binary.
fn build(release: bool, with_server: bool) -> Result<PathBuf> {
    let root = workspace_root()?;
    ensure_wasm_target()?;
    // The 11-minute wasm-opt install runs beside the Rust builds instead of before them.
    let mut wasm_opt_install = if release {
        start_wasm_opt_install()?
    } else {
        None
    };

    let profile = if release { "wasm-release" } else { "dev" };
    let profile_dir = if release { "wasm-release" } else { "debug" };
    let pkg = site_dir()?.join("pkg");
    fs::create_dir_all(&pkg)?;
    // Each module: built, then bound (JS glue); optimised below.
    for (name, features) in MODULES {
        let t = Instant::now();
        run_cmd(
            cargo_command()
                .current_dir(&root)
                .args([
                    "build",
                    "-p",
                    "frontend",
                    "--lib",
                    "--target",
                    "wasm32-unknown-unknown",
                ])
                .args(["--profile", profile])
                .args(["--features", features]),
        )?;
        eprintln!(
            "xtask: frontend {name} built in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        let wasm_in = target_dir()?
            .join("wasm32-unknown-unknown")
            .join(profile_dir)
            .join("frontend.wasm");
        wasm_bindgen_cli_support::Bindgen::new()
            .input_path(&wasm_in)
            .out_name(name)
            .web(true)?
            .typescript(false)
            .generate(&pkg)
            .with_context(|| format!("wasm-bindgen on {}", wasm_in.display()))?;
    }

    // The server embeds the finished site (passgrid-site), so its final build comes
    // last. While a first-time `cargo install wasm-opt` runs, build it once already:
    // its dependencies are then compiled, and the last build only redoes passgrid.
    if with_server && wasm_opt_install.is_some() {
        build_server(&root, release)?;
    }

    if release {
        if let Some(child) = wasm_opt_install.as_mut() {
            eprintln!("xtask: waiting for `cargo install wasm-opt` to finish…");
            let status = child.wait()?;
            if !status.success() {
                bail!("cargo install wasm-opt failed (see its output above)");
            }
        }
    }
    for (name, _) in MODULES {
        let bg = pkg.join(format!("{name}_bg.wasm"));
        let final_wasm = pkg.join(format!("{name}.wasm"));
        if release {
            let wasm_opt = find_wasm_opt()?.context("wasm-opt is not installed")?;
            run_cmd(
                Command::new(wasm_opt)
                    .arg(&bg)
                    .args([
                        "-Oz",
                        "--enable-bulk-memory",
                        "--enable-nontrapping-float-to-int",
                    ])
                    .args([
                        "--enable-reference-types",
                        "--enable-sign-ext",
                        "--enable-mutable-globals",
                    ])
                    .arg("-o")
                    .arg(&final_wasm),
            )?;
            fs::remove_file(&bg)?;
        } else {
            fs::rename(&bg, &final_wasm)?;
        }
    }

    copy_static(&root)?;
    name_by_content(&pkg)?;
    report_sizes(&pkg)?;
    if with_server {
        build_server(&root, release)?;
    }
    let server = target_dir()?
        .join(if release { "release" } else { "debug" })
        .join("passgrid");
    Ok(server)
}

/// Renames the WASM, its JS glue and the stylesheet to names with a hash of their
/// content (so the server may let browsers cache them for good), writes `.br` and
/// `.gz` beside each (served to browsers that accept them: nothing is compressed per
/// request), and lists the names in `assets.json` for the server.
fn name_by_content(pkg: &Path) -> Result<()> {
    // Files of earlier builds: every name but the fresh, unhashed outputs.
    let fresh: Vec<String> = MODULES
        .iter()
        .flat_map(|(name, _)| [format!("{name}.js"), format!("{name}.wasm")])
        .chain([format!("{OUTPUT_NAME}.css")])
        .collect();
    for entry in fs::read_dir(pkg)? {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().to_string();
        if !fresh.contains(&file) && entry.file_type()?.is_file() {
            fs::remove_file(entry.path())?;
        }
    }
    let mut manifest: Vec<(&str, String)> = Vec::new();
    let mut hashed_files = Vec::new();
    for (name, _) in MODULES {
        let js = fs::read(pkg.join(format!("{name}.js")))?;
        let wasm = fs::read(pkg.join(format!("{name}.wasm")))?;
        // One hash for both: the page names them by one output name.
        let hash = short_hash(&[&js, &wasm]);
        let stem = format!("{name}.{hash}");
        fs::rename(
            pkg.join(format!("{name}.js")),
            pkg.join(format!("{stem}.js")),
        )?;
        fs::rename(
            pkg.join(format!("{name}.wasm")),
            pkg.join(format!("{stem}.wasm")),
        )?;
        hashed_files.push(format!("{stem}.js"));
        hashed_files.push(format!("{stem}.wasm"));
        let key = if *name == OUTPUT_NAME {
            "main"
        } else {
            "console"
        };
        manifest.push((key, stem));
    }
    let css = fs::read(pkg.join(format!("{OUTPUT_NAME}.css")))?;
    let css_name = format!("{OUTPUT_NAME}.{}.css", short_hash(&[&css]));
    fs::rename(pkg.join(format!("{OUTPUT_NAME}.css")), pkg.join(&css_name))?;
    hashed_files.push(css_name.clone());
    manifest.push(("css", css_name));
    for name in &hashed_files {
        let bytes = fs::read(pkg.join(name))?;
        fs::write(pkg.join(format!("{name}.gz")), gzip(&bytes)?)?;
        fs::write(pkg.join(format!("{name}.br")), brotli(&bytes)?)?;
    }
    let json = manifest
        .iter()
        .map(|(k, v)| format!("  \"{k}\": \"{v}\""))
        .collect::<Vec<_>>()
        .join(",\n");
    fs::write(pkg.join("assets.json"), format!("{{\n{json}\n}}\n"))?;
    Ok(())
}

/// 16 hex digits of SHA-256 over the parts.
fn short_hash(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The manifest's value for `key` ("main", "console", "css").
fn asset_name(pkg: &Path, key: &str) -> Result<String> {
    let text = fs::read_to_string(pkg.join("assets.json")).context("reading pkg/assets.json")?;
    let needle = format!("\"{key}\": \"");
    let start = text.find(&needle).context("assets.json lacks a name")? + needle.len();
    let end = text[start..]
        .find('"')
        .context("assets.json is malformed")?
        + start;
    Ok(text[start..end].to_string())
}

/// `cargo build -p passgrid`, which embeds target/site as it is now.
fn build_server(root: &Path, release: bool) -> Result<()> {
    let t = Instant::now();
    let mut server_build = cargo_command();
    server_build
        .current_dir(root)
        .args(["build", "-p", "passgrid"]);
    if release {
        server_build.arg("--release");
    }
    run_cmd(&mut server_build)?;
    eprintln!("xtask: server built in {:.0} s", t.elapsed().as_secs_f64());
    Ok(())
}

fn ensure_wasm_target() -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match out {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("wasm32-unknown-unknown") => {
            Ok(())
        }
        Ok(_) => run_cmd(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"])),
        // No rustup: the toolchain was installed another way; cargo will say if the target is missing.
        Err(_) => Ok(()),
    }
}

/// The binaryen version of a `wasm-opt` on PATH, if any.
fn find_wasm_opt() -> Result<Option<PathBuf>> {
    let candidates = [
        env::var_os("WASM_OPT").map(PathBuf::from),
        env::var_os("CARGO_HOME").map(|h| PathBuf::from(h).join("bin/wasm-opt")),
        env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/wasm-opt")),
        Some(PathBuf::from("wasm-opt")),
    ];
    for candidate in candidates.into_iter().flatten() {
        let Ok(out) = Command::new(&candidate).arg("--version").output() else {
            continue;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        // "wasm-opt version 116 (version_116)"
        let version = text
            .split_whitespace()
            .nth(2)
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0);
        if version >= MIN_BINARYEN {
            return Ok(Some(candidate));
        }
        eprintln!(
            "xtask: ignoring {} ({}): binaryen {MIN_BINARYEN} or newer is needed",
            candidate.display(),
            text.trim()
        );
    }
    Ok(None)
}

fn start_wasm_opt_install() -> Result<Option<Child>> {
    if find_wasm_opt()?.is_some() {
        return Ok(None);
    }
    eprintln!("xtask: installing wasm-opt {WASM_OPT_CRATE_VERSION} from crates.io in the background (about 11 minutes on 2 cores)");
    let child = cargo_command()
        .args([
            "install",
            "wasm-opt",
            "--locked",
            "--version",
            WASM_OPT_CRATE_VERSION,
        ])
        .stdout(Stdio::null())
        .spawn()
        .context("starting cargo install wasm-opt")?;
    Ok(Some(child))
}

fn copy_static(root: &Path) -> Result<()> {
    let site = site_dir()?;
    fs::copy(
        root.join("style/main.css"),
        site.join("pkg").join(format!("{OUTPUT_NAME}.css")),
    )
    .context("copying style/main.css")?;
    copy_dir(&root.join("public"), &site)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The sign-in pages' WASM first (what every user downloads), then the console's.
fn report_sizes(pkg: &Path) -> Result<()> {
    for (key, what) in [("main", "sign-in pages"), ("console", "console")] {
        let wasm = pkg.join(format!("{}.wasm", asset_name(pkg, key)?));
        let bytes = fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
        println!(
            "WASM size ({what}): {} = {:.1} KB raw, {:.1} KB gzip, {:.1} KB brotli",
            wasm.display(),
            bytes.len() as f64 / 1000.0,
            gzip(&bytes)?.len() as f64 / 1000.0,
            brotli(&bytes)?.len() as f64 / 1000.0
        );
    }
    Ok(())
}

fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    Ok(gz.finish()?)
}

fn run_cmd(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}
