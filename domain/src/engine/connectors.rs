//! The platform's connector catalogue: which Flink SQL connectors and formats each
//! engine's clusters carry. The engine's own (datagen, print, blackhole, filesystem,
//! json, csv, raw) come with every Flink distribution; the rest are the catalogue's
//! jars, resolved from Maven Central by `scripts/connectors.sh` into
//! `<engine.connectors_dir>/<flink version>/` with a `manifest.json` beside them, and
//! put on the local clusters' classpath by `scripts/flink.sh`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What every Flink distribution (and so every cluster) ships in `lib/` or its core.
const DISTRIBUTION: &[(&str, ConnectorKind)] = &[
    ("blackhole", ConnectorKind::Connector),
    ("datagen", ConnectorKind::Connector),
    ("filesystem", ConnectorKind::Connector),
    ("print", ConnectorKind::Connector),
    ("csv", ConnectorKind::Format),
    ("json", ConnectorKind::Format),
    ("raw", ConnectorKind::Format),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    /// Named by a table's `'connector' = '...'` option.
    Connector,
    /// Named by a table's `'format' = '...'` option.
    Format,
}

/// One jar of a catalogue entry, as the manifest records it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CatalogueJar {
    pub file: String,
    /// Of the jar's bytes, as resolved.
    pub sha256: String,
    pub bytes: u64,
    /// `group:artifact:version` on Maven Central.
    pub maven: String,
}

/// A connector or format available on an engine version's clusters.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Connector {
    /// What a table's `'connector'` or `'format'` option names, e.g. `kafka`.
    pub identifier: String,
    pub kind: ConnectorKind,
    /// `engine`: part of the Flink distribution; `catalogue`: a jar the platform adds.
    pub source: String,
    /// The catalogue's jars (none for the engine's own).
    pub jars: Vec<CatalogueJar>,
}

#[derive(Deserialize)]
struct Manifest {
    flink_version: String,
    entries: Vec<ManifestEntry>,
}

#[derive(Deserialize)]
struct ManifestEntry {
    identifiers: Vec<String>,
    kind: ConnectorKind,
    jars: Vec<CatalogueJar>,
}

/// Each Flink version's catalogue entries, read once at start.
#[derive(Debug, Default)]
pub struct Catalogue {
    by_flink_version: BTreeMap<String, Vec<Connector>>,
}

impl Catalogue {
    /// Reads every `<dir>/<flink version>/manifest.json`. A missing directory is an
    /// empty catalogue (clusters then offer the engine's own connectors only); a
    /// manifest that does not parse is an error, since it would hide what jobs need.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut by_flink_version = BTreeMap::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => anyhow::bail!("engine.connectors_dir {}: {e}", dir.display()),
        };
        for entry in entries {
            let path: PathBuf = entry?.path().join("manifest.json");
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => anyhow::bail!("{}: {e}", path.display()),
            };
            let manifest: Manifest = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let connectors = manifest
                .entries
                .into_iter()
                .flat_map(|entry| {
                    let jars = entry.jars;
                    let kind = entry.kind;
                    entry
                        .identifiers
                        .into_iter()
                        .map(move |identifier| Connector {
                            identifier,
                            kind,
                            source: "catalogue".to_owned(),
                            jars: jars.clone(),
                        })
                })
                .collect();
            by_flink_version.insert(manifest.flink_version, connectors);
        }
        tracing::info!(
            versions = ?by_flink_version.keys().collect::<Vec<_>>(),
            "connector catalogue loaded"
        );
        Ok(Self { by_flink_version })
    }

    /// What a cluster of this Flink version offers: the distribution's own, then the
    /// catalogue's, each kind sorted by identifier.
    pub fn for_flink_version(&self, flink_version: &str) -> Vec<Connector> {
        let mut all: Vec<Connector> = DISTRIBUTION
            .iter()
            .map(|(identifier, kind)| Connector {
                identifier: (*identifier).to_owned(),
                kind: *kind,
                source: "engine".to_owned(),
                jars: Vec::new(),
            })
            .chain(
                self.by_flink_version
                    .get(flink_version)
                    .into_iter()
                    .flatten()
                    .cloned(),
            )
            .collect();
        all.sort_by(|a, b| {
            (a.kind == ConnectorKind::Format, &a.identifier)
                .cmp(&(b.kind == ConnectorKind::Format, &b.identifier))
        });
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_adds_its_entries_to_the_distributions_own() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("sluice-catalogue-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(dir.join("2.3.0"))?;
        std::fs::write(
            dir.join("2.3.0/manifest.json"),
            r#"{"flink_version":"2.3.0","entries":[{"identifiers":["kafka","upsert-kafka"],"kind":"connector",
                "jars":[{"file":"k.jar","sha256":"ab","bytes":3,"maven":"g:k:1"}]}]}"#,
        )?;
        let catalogue = Catalogue::load(&dir)?;
        let names = |v: &str| -> Vec<String> {
            catalogue
                .for_flink_version(v)
                .into_iter()
                .map(|c| c.identifier)
                .collect()
        };
        assert_eq!(
            names("2.3.0"),
            [
                "blackhole",
                "datagen",
                "filesystem",
                "kafka",
                "print",
                "upsert-kafka",
                "csv",
                "json",
                "raw"
            ]
        );
        assert_eq!(names("1.20.5").len(), DISTRIBUTION.len());
        std::fs::write(dir.join("2.3.0/manifest.json"), "{")?;
        assert!(Catalogue::load(&dir).is_err());
        std::fs::remove_dir_all(&dir)?;
        assert!(Catalogue::load(&dir)?.by_flink_version.is_empty());
        Ok(())
    }
}
