//! `cargo xtask layers`: the server's modules import downward only.
//!
//! The layers are declared once, in the `layers:` block of `server/src/lib.rs`'s doc
//! comment (one line per layer, highest first: a name, then its modules). Every
//! `crate::` path in non-test code is an import of the module it names; an import of
//! a module in a higher layer, of a module no layer names, or one that closes a
//! circle between modules is reported with its file and line.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt, fs,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};

/// One `crate::module` reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    pub file: PathBuf,
    pub line: usize,
    pub from: String,
    pub to: String,
}

/// A broken rule.
#[derive(Debug, PartialEq, Eq)]
pub enum Violation {
    /// `from` (layer `from_layer`) imports `to` of the higher layer `to_layer`.
    Upward {
        import: Import,
        from_layer: String,
        to_layer: String,
    },
    /// A module that no layer names.
    Undeclared { module: String, file: PathBuf },
    /// Modules that import each other around a circle; one import of each step.
    Cycle(Vec<Import>),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Upward {
                import,
                from_layer,
                to_layer,
            } => write!(
                f,
                "{}:{}: {} ({from_layer}) imports {} ({to_layer}), a higher layer",
                import.file.display(),
                import.line,
                import.from,
                import.to
            ),
            Violation::Undeclared { module, file } => write!(
                f,
                "{}: module {module} is in no layer of server/src/lib.rs",
                file.display()
            ),
            Violation::Cycle(steps) => {
                write!(f, "modules import each other in a circle:")?;
                for s in steps {
                    write!(
                        f,
                        "\n    {}:{}: {} imports {}",
                        s.file.display(),
                        s.line,
                        s.from,
                        s.to
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// The layers, highest first: (layer name, its modules).
pub fn declared_layers(lib_rs: &str) -> Result<Vec<(String, Vec<String>)>> {
    let mut layers = Vec::new();
    let mut inside = false;
    for line in lib_rs.lines() {
        let text = line.trim_start().trim_start_matches("//!").trim();
        if text == "layers:" {
            inside = true;
            continue;
        }
        if inside {
            if text.starts_with("```") || text.is_empty() {
                break;
            }
            let mut words = text.split_whitespace();
            let name = words.next().context("an empty layer line")?.to_string();
            layers.push((name, words.map(str::to_string).collect()));
        }
    }
    if layers.is_empty() {
        bail!("no `layers:` block in the doc comment of server/src/lib.rs");
    }
    Ok(layers)
}

/// The text of `source` before its first `#[cfg(test)]`: tests may reach anywhere.
fn non_test_part(source: &str) -> &str {
    match source.find("#[cfg(test)]") {
        Some(i) => &source[..i],
        None => source,
    }
}

/// The modules a file's text names after `crate::`, each with its line.
pub fn crate_imports(source: &str) -> Vec<(usize, String)> {
    let text = non_test_part(source);
    let bytes = text.as_bytes();
    let line_of = |pos: usize| text[..pos].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("crate::") {
        let start = from + found;
        from = start + "crate::".len();
        // `foo_crate::x` or `$crate::` is not ours.
        if start > 0 {
            let prev = bytes[start - 1];
            if prev.is_ascii_alphanumeric() || prev == b'_' || prev == b'$' {
                continue;
            }
        }
        if bytes.get(from) == Some(&b'{') {
            // A group: the first name of each top-level item.
            let mut depth = 0usize;
            let mut item_start = true;
            let mut pos = from;
            while pos < bytes.len() {
                match bytes[pos] {
                    b'{' => {
                        depth += 1;
                        if depth == 1 {
                            item_start = true;
                        }
                    }
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b',' if depth == 1 => item_start = true,
                    c if depth == 1 && item_start && (c.is_ascii_alphabetic() || c == b'_') => {
                        let end = text[pos..]
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .map_or(text.len(), |n| pos + n);
                        out.push((line_of(pos), text[pos..end].to_string()));
                        item_start = false;
                        pos = end;
                        continue;
                    }
                    _ => {}
                }
                pos += 1;
            }
            from = pos;
        } else {
            let end = text[from..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(text.len(), |n| from + n);
            if end > from {
                out.push((line_of(start), text[from..end].to_string()));
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Every rule broken under `src` (a crate's `src` directory with a `lib.rs`).
pub fn check(src: &Path) -> Result<Vec<Violation>> {
    let lib = fs::read_to_string(src.join("lib.rs")).context("reading lib.rs")?;
    let layers = declared_layers(&lib)?;
    let mut rank: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (i, (name, modules)) in layers.iter().enumerate() {
        for m in modules {
            rank.insert(m.clone(), (i, name.clone()));
        }
    }
    let mut files = Vec::new();
    rust_files(src, &mut files)?;
    files.sort();
    let mut violations = Vec::new();
    let mut undeclared = BTreeSet::new();
    // One import per edge (the first seen), for the circle report.
    let mut edges: BTreeMap<(String, String), Import> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(src).unwrap_or(file);
        let first = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        let module = first.trim_end_matches(".rs").to_string();
        let is_test_file = file.file_name().is_some_and(|n| n == "tests.rs");
        if module == "lib" || module == "main" || is_test_file {
            continue;
        }
        let Some((from_rank, from_layer)) = rank.get(&module).cloned() else {
            if undeclared.insert(module.clone()) {
                violations.push(Violation::Undeclared {
                    module,
                    file: rel.to_path_buf(),
                });
            }
            continue;
        };
        let source = fs::read_to_string(file)?;
        for (line, to) in crate_imports(&source) {
            if to == module {
                continue;
            }
            let import = Import {
                file: Path::new("server/src").join(rel),
                line,
                from: module.clone(),
                to: to.clone(),
            };
            match rank.get(&to) {
                Some((to_rank, to_layer)) if *to_rank < from_rank => {
                    violations.push(Violation::Upward {
                        import: import.clone(),
                        from_layer: from_layer.clone(),
                        to_layer: to_layer.clone(),
                    });
                }
                // Not a module of ours (a macro or a type at the crate root), or one
                // reported as undeclared on its own.
                None => continue,
                _ => {}
            }
            edges.entry((module.clone(), to)).or_insert(import);
        }
    }
    violations.extend(cycles(&edges).into_iter().map(Violation::Cycle));
    Ok(violations)
}

/// The circles of the module graph, each as one import per step.
fn cycles(edges: &BTreeMap<(String, String), Import>) -> Vec<Vec<Import>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from).or_default().push(to);
    }
    let mut found = Vec::new();
    let mut seen_sets: BTreeSet<Vec<String>> = BTreeSet::new();
    for start in next.keys() {
        // Breadth-first from `start` back to `start`: the shortest circle through it.
        let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([*start]);
        let mut closed = None;
        while let Some(at) = queue.pop_front() {
            for to in next.get(at).into_iter().flatten() {
                if to == start {
                    closed = Some(at);
                    break;
                }
                if !parent.contains_key(to) {
                    parent.insert(to, at);
                    queue.push_back(to);
                }
            }
            if closed.is_some() {
                break;
            }
        }
        let Some(mut at) = closed else { continue };
        let mut path = vec![*start];
        while at != *start {
            path.push(at);
            at = parent[at];
        }
        path.reverse();
        let mut key: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        key.sort();
        if !seen_sets.insert(key) {
            continue;
        }
        // path: start, ..., last; the circle is start -> ... -> last -> start.
        let steps = path
            .iter()
            .zip(path.iter().cycle().skip(1))
            .filter_map(|(a, b)| edges.get(&(a.to_string(), b.to_string())).cloned())
            .collect();
        found.push(steps);
    }
    found
}

/// Runs the check on the workspace's server crate; fails listing every violation.
pub fn run(workspace: &Path) -> Result<()> {
    let src = workspace.join("server/src");
    let violations = check(&src)?;
    if violations.is_empty() {
        println!("layers: every import of server/src points down the layers of lib.rs");
        return Ok(());
    }
    for v in &violations {
        eprintln!("{v}");
    }
    bail!(
        "{} layer violation(s): see the layers in server/src/lib.rs",
        violations.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIB: &str = "//! ```text\n//! layers:\n//! top    web\n//! middle auth\n//! bottom store\n//! ```\npub mod auth;\n";

    fn fixture(files: &[(&str, &str)]) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("xtask-layers-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn reads_the_declared_layers() {
        let layers = declared_layers(LIB).unwrap();
        assert_eq!(layers[0], ("top".to_string(), vec!["web".to_string()]));
        assert_eq!(layers.len(), 3);
    }

    #[test]
    fn finds_paths_and_groups_with_their_lines() {
        let src = "use crate::{\n    auth::login,\n    store::{a, b},\n};\nfn f() { crate::web::x(); }\nlet _ = my_crate::nope;\n#[cfg(test)]\nuse crate::late;";
        assert_eq!(
            crate_imports(src),
            vec![
                (2, "auth".to_string()),
                (3, "store".to_string()),
                (5, "web".to_string())
            ]
        );
    }

    #[test]
    fn downward_imports_pass() {
        let dir = fixture(&[
            ("lib.rs", LIB),
            (
                "web/mod.rs",
                "use crate::auth::login;\nuse crate::store::Store;\n",
            ),
            ("auth/mod.rs", "use crate::store::Store;\n"),
            (
                "store.rs",
                "pub struct Store;\n#[cfg(test)]\nuse crate::web;\n",
            ),
        ]);
        assert_eq!(check(&dir).unwrap(), vec![]);
    }

    #[test]
    fn an_upward_import_is_named_with_its_file_and_line() {
        let dir = fixture(&[
            ("lib.rs", LIB),
            ("web/mod.rs", "use crate::auth::login;\n"),
            (
                "auth/login.rs",
                "//! x\n\nuse crate::{\n    store::S,\n    web::AppState,\n};\n",
            ),
            ("store.rs", "pub struct S;\n"),
        ]);
        let violations = check(&dir).unwrap();
        let text: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
        assert!(
            text.iter().any(|t| t.starts_with(
                "server/src/auth/login.rs:5: auth (middle) imports web (top), a higher layer"
            )),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("circle")),
            "web and auth import each other: {text:?}"
        );
    }

    #[test]
    fn a_circle_within_one_layer_and_an_unknown_module_are_reported() {
        let lib = "//! ```text\n//! layers:\n//! one a b\n//! ```\n";
        let dir = fixture(&[
            ("lib.rs", lib),
            ("a.rs", "use crate::b::X;\n"),
            ("b.rs", "\nuse crate::a::Y;\n"),
            ("c.rs", "pub struct Z;\n"),
        ]);
        let text: Vec<String> = check(&dir).unwrap().iter().map(|v| v.to_string()).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("server/src/b.rs:2: b imports a")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("module c is in no layer")),
            "{text:?}"
        );
    }
}
