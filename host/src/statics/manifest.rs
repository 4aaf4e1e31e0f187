//! `staticfiles.json`, Django's `ManifestStaticFilesStorage` manifest:
//! every collected name and its content-hashed copy.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The manifest's file name in `STATIC_ROOT`, as Django names it.
pub const MANIFEST: &str = "staticfiles.json";

/// Django writes version "1.1"; Shallot reads what it writes.
const VERSION: &str = "1.1";

#[derive(Serialize, Deserialize)]
struct Raw {
    paths: BTreeMap<String, String>,
    version: String,
    #[serde(default)]
    hash: String,
}

/// Names to hashed names, and the set of hashed names (served with a
/// year-long `Cache-Control`).
#[derive(Debug, Default)]
pub struct Manifest {
    paths: BTreeMap<String, String>,
    hashed: HashSet<String>,
}

impl Manifest {
    /// Reads `root/staticfiles.json`; `Ok(None)` when there is none.
    pub fn read(root: &Path) -> Result<Option<Manifest>, String> {
        let path = root.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let raw: Raw =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if raw.version != VERSION {
            return Err(format!(
                "{}: manifest version {:?}, expected {VERSION:?}",
                path.display(),
                raw.version
            ));
        }
        Ok(Some(Manifest::new(raw.paths)))
    }

    pub(crate) fn new(paths: BTreeMap<String, String>) -> Manifest {
        let hashed = paths.values().cloned().collect();
        Manifest { paths, hashed }
    }

    /// The hashed name of `name`.
    pub fn lookup(&self, name: &str) -> Option<&str> {
        self.paths.get(name).map(String::as_str)
    }

    /// Whether `name` is a content-hashed copy.
    pub fn is_hashed(&self, name: &str) -> bool {
        self.hashed.contains(name)
    }

    /// The manifest's JSON, with Django's fields (`hash` is a digest of
    /// the paths, which Django uses to tell manifests apart).
    pub(crate) fn to_json(&self) -> String {
        use sha2::Digest;
        let mut digest = sha2::Sha256::new();
        for (name, hashed) in &self.paths {
            digest.update(name.as_bytes());
            digest.update([0]);
            digest.update(hashed.as_bytes());
            digest.update([0]);
        }
        let hash: String = digest.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let raw = Raw {
            paths: self.paths.clone(),
            version: VERSION.to_owned(),
            hash,
        };
        serde_json::to_string_pretty(&raw).expect("strings serialize")
    }
}
