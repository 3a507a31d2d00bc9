//! The layout ARCHITECTURE.md promises, checked on the source: inside each family of `solvers` the modules
//! import one another without a loop (the data flow one way), and no library file grows past 700 lines
//! (generated tables aside).
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `.rs` files directly in `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
}

/// The sibling modules a module's code (comments and its test module aside) names as `super::m`.
fn sibling_imports(text: &str, siblings: &BTreeSet<String>, own: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (i, _) in line.match_indices("super::") {
            let name: String = line[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            if siblings.contains(&name) && name != own {
                found.insert(name);
            }
        }
    }
    found
}

/// A cycle of the graph, if it has one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut loop_ = path[i..].to_vec();
            loop_.push(node.to_string());
            return Some(loop_);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in &graph[node] {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_of_each_family_import_one_another_without_a_loop() {
    let families = ["regression", "sindy", "gp_pde", "privacy", "langevin", "radio"];
    let mut edges = 0;
    for family in families {
        let dir = root().join("solvers/src").join(family);
        let files = sources(&dir);
        let names: BTreeSet<String> = files
            .iter()
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .filter(|n| n != "mod")
            .collect();
        let graph: BTreeMap<String, BTreeSet<String>> = names
            .iter()
            .map(|n| {
                let text = std::fs::read_to_string(dir.join(format!("{n}.rs"))).unwrap();
                (n.clone(), sibling_imports(&text, &names, n))
            })
            .collect();
        edges += graph.values().map(BTreeSet::len).sum::<usize>();
        if let Some(c) = cycle(&graph) {
            panic!("{family}: import loop {}", c.join(" → "));
        }
    }
    assert!(edges > 20, "only {edges} imports read: the reader is broken");
    // The checker itself sees a loop where there is one.
    let two: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "a")]
        .into_iter()
        .map(|(x, y)| (x.to_string(), BTreeSet::from([y.to_string()])))
        .collect();
    assert!(cycle(&two).is_some());
}

#[test]
fn no_library_file_is_longer_than_700_lines() {
    let mut long = Vec::new();
    let mut dirs = vec![
        root().join("src"),
        root().join("core/src"),
        root().join("solvers/src"),
        root().join("gpu/src"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let generated = text.starts_with("// @generated");
                let lines = text.lines().count();
                if lines > 700 && !generated {
                    long.push(format!("{} ({lines} lines)", path.display()));
                }
            }
        }
    }
    assert!(long.is_empty(), "files over 700 lines: {long:?}");
}
