//! The module graph has no circles: no file imports, directly or through others, a
//! file that imports it. Read from the sources (`crate::` and `super::` paths), so a
//! new circle fails here by name. The crate root only assembles modules, so its own
//! imports are not counted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every source file of a crate, by its module path (`engine::reconciler`).
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            found.insert(module, path);
        }
    }
    found
}

fn identifier_at(text: &str) -> Option<&str> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (end > 0).then(|| &text[..end])
}

/// The module paths a file names, from `crate::a::b` and `super::c` paths (with the
/// names in a `{...}` group after them).
fn named_paths(text: &str, here: &[String]) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for (prefix, base) in [
        ("crate::", Vec::new()),
        ("super::", here[..here.len().saturating_sub(1)].to_vec()),
    ] {
        for (at, _) in text.match_indices(prefix) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue; // part of a longer path (`super::super::`, `x::crate::`)
            }
            let mut path = base.clone();
            let mut rest = &text[at + prefix.len()..];
            while let Some(segment) = identifier_at(rest) {
                match segment {
                    "super" => {
                        path.pop();
                    }
                    "self" => {}
                    _ => path.push(segment.to_owned()),
                }
                rest = &rest[segment.len()..];
                match rest.strip_prefix("::") {
                    Some(more) => rest = more,
                    None => break,
                }
            }
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for name in group.split([',', ' ', '\n']).filter(|n| !n.is_empty()) {
                    let name = name.split("::").next().unwrap_or(name);
                    let mut item = path.clone();
                    item.push(name.trim().to_owned());
                    paths.push(item);
                }
            }
            paths.push(path);
        }
    }
    paths
}

/// The circles of a crate's module graph, each as its files.
fn circles(src: &Path) -> Vec<BTreeSet<PathBuf>> {
    let files = modules(src);
    let mut edges: BTreeMap<&Vec<String>, BTreeSet<&Vec<String>>> = BTreeMap::new();
    for (module, path) in &files {
        if module.is_empty() {
            continue; // the crate root assembles; it is not a layer
        }
        let text = std::fs::read_to_string(path).unwrap();
        for named in named_paths(&text, module) {
            // The file that holds it: the longest module path that is a file.
            let target = (0..=named.len())
                .rev()
                .find_map(|n| files.get_key_value(&named[..n]).map(|(k, _)| k));
            if let Some(target) = target.filter(|t| *t != module && !t.is_empty()) {
                edges.entry(module).or_default().insert(target);
            }
        }
    }
    // A file is in a circle with each file it reaches that reaches it back.
    let reach = |from: &Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(m) = stack.pop() {
            for next in edges.get(m).into_iter().flatten() {
                if seen.insert(*next) {
                    stack.push(next);
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&Vec<String>, BTreeSet<&Vec<String>>> =
        files.keys().map(|m| (m, reach(m))).collect();
    let mut found: Vec<BTreeSet<PathBuf>> = Vec::new();
    for (module, reached) in &reaches {
        if !reached.contains(module) {
            continue;
        }
        let circle: BTreeSet<PathBuf> = reached
            .iter()
            .filter(|other| reaches[*other].contains(module))
            .map(|m| files[*m].clone())
            .collect();
        if !found.contains(&circle) {
            found.push(circle);
        }
    }
    found
}

/// Every crate of the workspace whose sources these tests read.
const CRATES: [&str; 8] = [
    "gateway",
    "workers",
    "domain",
    "store",
    "delivery",
    "billing",
    "lifecycle",
    "engine-client",
];

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for krate in CRATES {
        let found = circles(&root.join(krate).join("src"));
        assert!(found.is_empty(), "{krate} has import circles: {found:#?}");
    }
}

/// The workspace crates each crate may use, and the outside crates it must not: the
/// crate diagram of the README, checked against each `Cargo.toml`.
#[test]
fn each_crate_uses_only_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rules: [(&str, &[&str], &[&str]); 8] = [
        (
            "store",
            &[],
            &["axum", "tower", "tower-http", "utoipa-axum", "reqwest"],
        ),
        ("delivery", &[], &["axum", "sqlx"]),
        ("billing", &[], &["axum", "sqlx", "tokio"]),
        ("lifecycle", &[], &["axum", "sqlx", "tokio"]),
        ("engine-client", &[], &["axum", "sqlx"]),
        (
            "domain",
            &[
                "sluice-store",
                "sluice-delivery",
                "sluice-billing",
                "sluice-lifecycle",
                "sluice-engine-client",
            ],
            &["axum", "tower", "tower-http", "utoipa-axum", "sqlx"],
        ),
        (
            "workers",
            &[
                "sluice-domain",
                "sluice-store",
                "sluice-delivery",
                "sluice-billing",
                "sluice-engine-client",
            ],
            &["axum", "tower", "tower-http", "utoipa-axum", "sqlx"],
        ),
        (
            "gateway",
            &[
                "sluice-domain",
                "sluice-workers",
                "sluice-store",
                "sluice-delivery",
                "sluice-billing",
                "sluice-lifecycle",
                "sluice-engine-client",
            ],
            &["sqlx"],
        ),
    ];
    for (krate, allowed, forbidden) in rules {
        let manifest = std::fs::read_to_string(root.join(krate).join("Cargo.toml")).unwrap();
        let dependencies = manifest
            .split("\n[")
            .find(|section| section.starts_with("dependencies]"))
            .unwrap_or_else(|| panic!("{krate}/Cargo.toml has no [dependencies] to check"));
        let mut checked = 0;
        for line in dependencies.lines().skip(1) {
            let name = line.split(['=', '.', ' ']).next().unwrap_or("").trim();
            if name.is_empty() || name.starts_with('#') {
                continue;
            }
            if name.starts_with("sluice-") {
                assert!(allowed.contains(&name), "{krate} may not use {name}");
            }
            assert!(!forbidden.contains(&name), "{krate} may not use {name}");
            checked += 1;
        }
        assert!(checked > 0, "no dependency of {krate} was read");
    }
}

/// `ApiError` is how an error leaves over HTTP: only the HTTP edge (handlers, extractors,
/// the authenticator, the server) knows it; everything below returns `store::Error`.
#[test]
fn only_the_http_edge_speaks_of_api_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let edge = [
        "gateway/src/api/",
        "gateway/src/access/",
        "gateway/src/error.rs",
        "gateway/src/extract.rs",
        "gateway/src/server.rs",
        "gateway/src/console.rs",
    ];
    let mut offenders = Vec::new();
    for krate in CRATES {
        for path in modules(&root.join(krate).join("src")).into_values() {
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains("ApiError") && !edge.iter().any(|e| relative.starts_with(e)) {
                offenders.push(relative);
            }
        }
    }
    assert!(offenders.is_empty(), "below the HTTP edge: {offenders:?}");
}

/// Tenant data is opened by the authorizer alone: nothing else grants a scope.
#[test]
fn only_the_authorizer_grants_a_scope() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut granting = Vec::new();
    for krate in CRATES {
        for path in modules(&root.join(krate).join("src")).into_values() {
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains("ProjectScope::granted(") || text.contains("AccountScope::granted(") {
                granting.push(relative);
            }
        }
    }
    assert_eq!(granting, ["gateway/src/access/mod.rs"]);
}

/// The workers' unscoped handle is not for requests: no HTTP handler names it.
#[test]
fn no_handler_reaches_every_tenant() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut reaching = Vec::new();
    for path in modules(&root.join("gateway/src/api")).into_values() {
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("all_tenants") || text.contains("AllTenants") {
            reaching.push(path.strip_prefix(&root).unwrap().display().to_string());
        }
    }
    assert!(
        reaching.is_empty(),
        "handlers reaching every tenant: {reaching:?}"
    );
}

#[test]
fn a_circle_is_found() {
    let dir = std::env::temp_dir().join(format!("sluice-layers-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod a;\npub mod b;").unwrap();
    std::fs::write(dir.join("a/mod.rs"), "pub mod c;\nuse crate::b::thing;").unwrap();
    std::fs::write(dir.join("a/c.rs"), "use super::super::b::Thing;").unwrap();
    std::fs::write(dir.join("b.rs"), "use crate::a::{c::Other, self};").unwrap();
    let found = circles(&dir);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(found.len(), 1, "{found:?}");
    let names: Vec<String> = found[0]
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // Ordered by path: a/c.rs, a/mod.rs, b.rs.
    assert_eq!(names, ["c.rs", "mod.rs", "b.rs"]);
}
