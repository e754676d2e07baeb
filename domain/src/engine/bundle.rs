//! A JAR job with dependencies, as Flink takes one through its REST API: the job's JAR
//! with each dependency nested under `lib/`. `/jars/{id}/run` has no classpath of its
//! own, but Flink's packaged program extracts the JARs under `lib/` of the program JAR
//! and ships them with the job to the TaskManagers (its user classpath), which is what
//! the Flink documentation tells a user who submits such a job by hand.

use std::io::{Cursor, Write};

use sha2::{Digest, Sha256};
use store::artifacts::ArtifactRow;

/// What identifies a bundle's content: the job JAR's and every dependency's hashes,
/// in order, so the same artifacts make the same bundle (uploaded once per cluster).
pub fn version(main: &ArtifactRow, dependencies: &[ArtifactRow]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(main.sha256.as_bytes());
    for d in dependencies {
        hasher.update(b"\n");
        hasher.update(d.sha256.as_bytes());
    }
    hex::encode(hasher.finalize())[..16].to_owned()
}

/// The job JAR's entries as they are (copied raw, not recompressed), then each
/// dependency stored whole as `lib/<name>`. A dependency whose name the JAR already
/// has under `lib/` replaces nothing: the JAR's own entry stays and the dependency is
/// stored under its artifact id.
pub fn bundle(main: &[u8], dependencies: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    let mut source = zip::ZipArchive::new(Cursor::new(main))?;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(
        main.len() + dependencies.iter().map(|(_, b)| b.len()).sum::<usize>(),
    )));
    let mut taken = std::collections::HashSet::new();
    for i in 0..source.len() {
        let entry = source.by_index_raw(i)?;
        taken.insert(entry.name().to_owned());
        out.raw_copy_file(entry)?;
    }
    // Stored, not deflated: JARs are compressed already.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    if !taken.contains("lib/") {
        out.add_directory("lib/", options)?;
    }
    for (name, bytes) in dependencies {
        let mut entry = format!("lib/{name}");
        if taken.contains(&entry) {
            entry = format!("lib/dependency-{}-{name}", taken.len());
        }
        taken.insert(entry.clone());
        out.start_file(entry, options)?;
        out.write_all(bytes)?;
    }
    Ok(out.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            out.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            out.write_all(bytes).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn dependencies_are_nested_under_lib_beside_the_jobs_own_entries() {
        let main = jar(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
            ("com/acme/Job.class", b"\xca\xfe\xba\xbe"),
            ("lib/own.jar", b"own"),
        ]);
        let dep = jar(&[("com/acme/Util.class", b"\xca\xfe\xba\xbe")]);
        let bundled = bundle(
            &main,
            &[
                ("util.jar".to_owned(), dep.clone()),
                ("own.jar".to_owned(), b"other".to_vec()),
            ],
        )
        .unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bundled)).unwrap();
        let mut names: Vec<String> = archive.file_names().map(str::to_owned).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "META-INF/MANIFEST.MF",
                "com/acme/Job.class",
                "lib/",
                "lib/dependency-4-own.jar",
                "lib/own.jar",
                "lib/util.jar"
            ]
        );
        let mut nested = Vec::new();
        archive
            .by_name("lib/util.jar")
            .unwrap()
            .read_to_end(&mut nested)
            .unwrap();
        assert_eq!(nested, dep, "a dependency is stored whole");
        let mut own = Vec::new();
        archive
            .by_name("lib/own.jar")
            .unwrap()
            .read_to_end(&mut own)
            .unwrap();
        assert_eq!(own, b"own", "the job's own entry stays");
    }
}
