//! The rule of the layers inside a crate, kept by a test: a top-level module may use only
//! modules of a lower layer (`crate::x` paths in its files), so every arrow of the dependency
//! graph points down. Between crates Cargo keeps the rule; inside `kindling-core` and this
//! crate this test does. The order is the one in the crates' documentation.

#![cfg(test)]
#![expect(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

/// Each crate's source directory (from the workspace root) and its top-level modules'
/// layers: 0 is the bottom.
const CRATES: &[(&str, &[(&str, u8)])] = &[
    (
        "crates/core/src",
        &[
            ("error", 0),
            ("fault", 0),
            ("output_mode", 0),
            ("spark_text", 0),
            ("trigger", 0),
            ("types", 0),
            ("fs", 1),
            ("options", 1),
            ("spark_errors", 1),
        ],
    ),
    (
        "src",
        &[
            // The lower crates, re-exported under their module names.
            ("error", 0),
            ("fault", 0),
            ("fs", 0),
            ("options", 0),
            ("output_mode", 0),
            ("spark_text", 0),
            ("trigger", 0),
            ("types", 0),
            ("spark_errors", 0),
            ("kafka", 0),
            ("sql", 0),
            ("source", 0),
            ("sink", 0),
            ("engine", 0),
            ("dashboard", 0),
            ("job", 1),
            ("session", 2),
            ("dataframe", 3),
            ("repl", 3),
            ("cli", 4),
        ],
    ),
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
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut violations = Vec::new();
    for (dir, layers) in CRATES {
        let layers: BTreeMap<&str, u8> = layers.iter().copied().collect();
        let src = root.join(dir);
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            let module = path.file_stem().unwrap().to_string_lossy().into_owned();
            if matches!(module.as_str(), "lib" | "main" | "layers") {
                continue;
            }
            let Some(&layer) = layers.get(module.as_str()) else {
                panic!("{dir}/{module} has no layer: add it to CRATES in src/layers.rs");
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
                            file.strip_prefix(root).unwrap().display()
                        )),
                        None => {}
                    }
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
    assert_eq!(uses("use crate::session::Session;"), ["session"]);
    assert!(uses("macro_rules! m { () => { $crate::x } }").is_empty());
}
