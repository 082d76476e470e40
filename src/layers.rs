//! The rule of the crate's layers, kept by a test: a top-level module may use only modules
//! of a lower layer (`crate::x` paths in its files), so every arrow of the dependency graph
//! points down. The order is the one in the crate's documentation.

#![cfg(test)]
#![expect(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module's layer: 0 is the bottom.
const LAYERS: &[(&str, u8)] = &[
    ("error", 0),
    ("fault", 0),
    ("output_mode", 0),
    ("spark_text", 0),
    ("trigger", 0),
    ("fs", 1),
    ("options", 1),
    ("kafka", 2),
    ("sql", 3),
    ("source", 3),
    ("sink", 4),
    ("engine", 5),
    ("job", 6),
    ("session", 7),
    ("dataframe", 8),
    ("dashboard", 8),
    ("repl", 8),
    ("cli", 9),
];

/// The `crate::x` modules named in `text`.
fn uses(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        // `kindling::crate::` never occurs; skip `$crate::` in macros.
        if text[..at].ends_with('$') {
            continue;
        }
        let name: String = text[at + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.push(name);
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_uses_only_lower_layers() {
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_string_lossy().into_owned();
        if matches!(module.as_str(), "lib" | "main" | "layers") {
            continue;
        }
        let Some(&layer) = layers.get(module.as_str()) else {
            panic!("src/{module} has no layer: add it to LAYERS in src/layers.rs");
        };
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path.clone());
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for used in uses(&text) {
                if used == module {
                    continue;
                }
                match layers.get(used.as_str()) {
                    Some(&l) if l < layer => {}
                    Some(&l) => violations.push(format!(
                        "{} (layer {layer}) uses crate::{used} (layer {l})",
                        file.strip_prefix(&src).unwrap().display()
                    )),
                    None => {}
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "arrows that point up or sideways:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_rule_catches_an_upward_use() {
    assert_eq!(
        uses("use crate::engine::checkpoint::write_atomically;"),
        ["engine"]
    );
    assert!(uses("macro_rules! m { () => { $crate::x } }").is_empty());
}
