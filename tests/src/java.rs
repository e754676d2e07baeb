//! JARs (UDFs, jobs) built for the tests the way a tenant builds them: `javac` against the
//! engine's API (the Flink 2.3.0 `lib/` that `scripts/flink.sh` installs), `--release
//! 11` so the classes load on both engine versions. Sources: `tests/java/<name>/`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `lib/` of the installed Flink 2.3.0 (`scripts/flink.sh install` prints its home).
fn flink_lib() -> PathBuf {
    let out = Command::new(repo().join("scripts/flink.sh"))
        .args(["install", "2.3.0"])
        .output()
        .expect("scripts/flink.sh runs");
    assert!(
        out.status.success(),
        "scripts/flink.sh install 2.3.0 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let home = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    PathBuf::from(home).join("lib")
}

/// Compiles `tests/java/<name>` into a JAR; its bytes.
pub fn compiled_jar(name: &str) -> Vec<u8> {
    let sources = repo().join("tests/java").join(name);
    let work = std::env::temp_dir().join(format!(
        "sluice-udf-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let classes = work.join("classes");
    std::fs::create_dir_all(&classes).unwrap();
    let mut files = Vec::new();
    collect_java(&sources, &mut files);
    assert!(
        !files.is_empty(),
        "no Java sources under {}",
        sources.display()
    );
    let classpath = format!("{}/*", flink_lib().display());
    let status = Command::new("javac")
        .args(["--release", "11", "-nowarn", "-cp", &classpath, "-d"])
        .arg(&classes)
        .args(&files)
        .status()
        .expect("javac runs");
    assert!(status.success(), "javac failed for tests/java/{name}");
    // Resources (such as META-INF/services entries) go into the JAR as they are.
    copy_resources(&sources, &sources, &classes);
    let jar = work.join(format!("{name}.jar"));
    let status = Command::new("jar")
        .arg("cf")
        .arg(&jar)
        .arg("-C")
        .arg(&classes)
        .arg(".")
        .status()
        .expect("jar runs");
    assert!(status.success(), "jar failed for tests/java/{name}");
    let bytes = std::fs::read(&jar).unwrap();
    let _ = std::fs::remove_dir_all(&work);
    bytes
}

fn collect_java(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_java(&path, out);
        } else if path.extension().is_some_and(|e| e == "java") {
            out.push(path);
        }
    }
}

fn copy_resources(root: &Path, dir: &Path, classes: &Path) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            copy_resources(root, &path, classes);
        } else if path.extension().is_none_or(|e| e != "java") {
            let target = classes.join(path.strip_prefix(root).unwrap());
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
