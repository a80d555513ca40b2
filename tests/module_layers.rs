//! The module graph stays layered (docs/ARCHITECTURE.md, "Structure"): no import cycle
//! among the crate's top-level modules or among the files of `mixer/`, `model/` imports
//! nothing else of the crate, and no lower stage imports `mixer/`, `api/` or `cli/`.
//!
//! Reads the sources as text: every `crate::<module>` path outside comments counts as an
//! import of that module (a `use`, a path in code, or a `[`doc link`]` would all count,
//! so doc links are stripped with the comments).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's code without `//` comments (line comments and doc comments).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Identifiers following `prefix` in `code` (e.g. "crate::" -> "mixer").
fn targets(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        rest = &rest[i + prefix.len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// The top-level module a file under src/ belongs to ("mixer" for src/mixer/core.rs,
/// "time" for src/time.rs).
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("component");
    let s = first.as_os_str().to_string_lossy();
    s.trim_end_matches(".rs").to_owned()
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let m = top_module(&src, &f);
        if m == "lib" || m == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("read");
        let deps = g.entry(m.clone()).or_default();
        for t in targets(&code(&text), "crate::") {
            if t != m {
                deps.insert(t);
            }
        }
    }
    g
}

/// A cycle in `g`, if any, as the list of nodes on it.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(1) => {
                let i = stack.iter().position(|s| s == n).unwrap_or(0);
                let mut c = stack[i..].to_vec();
                c.push(n.to_owned());
                return Some(c);
            }
            Some(2) => return None,
            _ => {}
        }
        state.insert(n.to_owned(), 1);
        stack.push(n.to_owned());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, g, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(n.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if let Some(c) = visit(n, g, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn top_level_modules_have_no_import_cycle() {
    let g = graph();
    assert!(g.contains_key("mixer") && g.contains_key("model"), "{g:?}");
    if let Some(c) = find_cycle(&g) {
        panic!("import cycle: {}", c.join(" -> "));
    }
}

#[test]
fn model_is_the_bottom_and_lower_stages_do_not_import_the_mixer() {
    let g = graph();
    let model: Vec<&String> = g["model"].iter().filter(|d| *d != "time").collect();
    assert!(model.is_empty(), "model imports {model:?}");
    for lower in [
        "ingest", "media", "compose", "layout", "audio", "output", "request", "receive", "time",
        "events",
    ] {
        let bad: Vec<&String> = g
            .get(lower)
            .into_iter()
            .flatten()
            .filter(|d| ["mixer", "api", "cli", "fuzzing"].contains(&d.as_str()))
            .collect();
        assert!(bad.is_empty(), "{lower} imports {bad:?}");
    }
}

#[test]
fn files_of_the_mixer_have_no_import_cycle() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/mixer");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        if name.ends_with("_tests") || name == "mod" {
            continue;
        }
        let c = code(&std::fs::read_to_string(f).unwrap());
        let mut deps = targets(&c, "crate::mixer::");
        deps.extend(targets(&c, "super::"));
        deps.remove(&name);
        g.insert(name, deps);
    }
    let known: BTreeSet<String> = g.keys().cloned().collect();
    for deps in g.values_mut() {
        deps.retain(|d| known.contains(d));
    }
    if let Some(c) = find_cycle(&g) {
        panic!("import cycle in src/mixer: {}", c.join(" -> "));
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut g = BTreeMap::new();
    g.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    g.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    g.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(find_cycle(&g).map(|c| c.len()), Some(4));
    g.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&g), None);
}
