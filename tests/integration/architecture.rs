//! The shape of the core, checked on its source: no import cycle among its modules,
//! and the process environment read only at the edge (`src/cli`, `src/main.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::repo_root;

/// Every `.rs` file under `dir`, with its path relative to `src/`.
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(repo_root().join("src")).unwrap();
            out.push((
                rel.to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

/// The non-test code of a file: unit-test modules and test-support files left out,
/// since tests may reach across modules without making the core's layers circular.
fn production_code(rel: &str, text: &str) -> Option<String> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if name == "tests.rs" || rel.contains("tests/") || rel.starts_with("testing/") {
        return None;
    }
    let end = inline_test_module(text).unwrap_or(text.len());
    // Comments may name any module; only code makes a dependency.
    Some(
        text[..end]
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Where a file's inline unit-test module starts (`#[cfg(test)]` then `mod x {`); a
/// test module declared in a file of its own (`mod tests;`) ends nothing, so the
/// production code after it still counts.
fn inline_test_module(text: &str) -> Option<usize> {
    text.match_indices("#[cfg(test)]\n")
        .map(|(i, _)| i)
        .find(|&i| {
            let next = text[i..].lines().nth(1).unwrap_or("").trim();
            (next.starts_with("mod ") || next.starts_with("pub(crate) mod ")) && next.ends_with('{')
        })
}

/// The top-level core module a file belongs to (`deploy/stack.rs` → `deploy`).
fn module_of(rel: &str) -> Option<String> {
    let first = rel.split('/').next()?.trim_end_matches(".rs");
    (!matches!(first, "main" | "lib" | "cli")).then(|| first.to_owned())
}

/// `crate::X` references of the core, module by module.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(&repo_root().join("src"), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in &files {
        let (Some(module), Some(code)) = (module_of(rel), production_code(rel, text)) else {
            continue;
        };
        let deps = graph.entry(module.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                deps.insert(name);
            }
        }
    }
    graph
}

/// A cycle through `start`, if any (depth-first search).
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start.to_owned());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if let Some(c) = walk(graph, start, next, path, seen) {
                    return Some(c);
                }
                path.pop();
            }
        }
        None
    }
    walk(
        graph,
        start,
        start,
        &mut vec![start.to_owned()],
        &mut BTreeSet::new(),
    )
}

#[test]
fn core_modules_import_no_cycle() {
    let graph = graph();
    assert!(graph.contains_key("deploy") && graph["deploy"].contains("aws"));
    // Edges the graph must hold, so that a reader that finds nothing cannot pass.
    assert!(graph["deploy"].contains("cost"), "{:?}", graph["deploy"]);
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_from(&graph, m))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(
        cycles.is_empty(),
        "import cycles in the core:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let graph = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
        ("d".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(cycle_from(&graph, "a").unwrap(), ["a", "b", "c", "a"]);
    assert_eq!(cycle_from(&graph, "d"), None);
}

#[test]
fn the_core_reads_no_environment_variable() {
    let mut files = Vec::new();
    sources(&repo_root().join("src"), &mut files);
    let offenders: Vec<&str> = files
        .iter()
        .filter(|(rel, _)| module_of(rel).is_some())
        .filter(|(_, text)| text.contains("env::var"))
        .map(|(rel, _)| rel.as_str())
        .collect();
    assert!(
        offenders.is_empty(),
        "the core reads the process environment (do it in src/cli/process.rs): {offenders:?}"
    );
}

/// The map a newcomer reads (`docs/architecture.md`) names every top-level module of
/// the core (each file and folder of `src/`) and the edge's shared files: one added
/// without its line there fails here. Files inside a folder are described in prose.
#[test]
fn the_architecture_map_names_every_module() {
    let map = std::fs::read_to_string(repo_root().join("docs/architecture.md")).unwrap();
    // `src/cli/` holds one file per subcommand, named by the command; these are not.
    let mut missing: Vec<String> = ["common.rs", "docs.rs", "process.rs"]
        .iter()
        .filter(|f| !map.contains(&format!("`{f}`")))
        .map(|f| format!("src/cli/{f}"))
        .collect();
    for entry in std::fs::read_dir(repo_root().join("src")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let shown = if path.is_dir() {
            format!("src/{name}/")
        } else if name.ends_with(".rs") {
            format!("src/{name}")
        } else {
            continue;
        };
        if !map.contains(&format!("`{shown}`")) {
            missing.push(shown);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/architecture.md does not name {missing:?}"
    );
}
