//! The on-disk cache of compiled components (wasmtime `serialize`), keyed
//! by the component's content hash and the engine's configuration, so a
//! restart or a reload recompiles only what changed.
//!
//! Loading native code from disk is only as safe as the file: every entry
//! carries the SHA-256 of its own bytes, written by us next to it, and an
//! entry whose digest does not match (corrupt, truncated, or written by
//! someone else) is rebuilt, never loaded. wasmtime additionally refuses an
//! entry compiled for another engine configuration.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `bytes`, in hex.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A folder of compiled components for one engine configuration.
#[derive(Debug, Clone)]
pub(crate) struct DiskCache {
    dir: PathBuf,
}

/// Where a component came from, for logs and the startup benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Cache,
    Compiled,
}

impl DiskCache {
    pub(crate) fn new(dir: &Path) -> Self {
        DiskCache {
            dir: dir.to_owned(),
        }
    }

    fn entry(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
        engine
            .precompile_compatibility_hash()
            .hash(&mut engine_hash);
        self.dir.join(format!(
            "{}-{:016x}.cwasm",
            sha256(wasm),
            engine_hash.finish()
        ))
    }

    /// The compiled component for `wasm`: from the cache when a verified
    /// entry exists, else compiled and stored.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, Source)> {
        let entry = self.entry(engine, wasm);
        if let Some(component) = self.load(engine, &entry) {
            return Ok((component, Source::Cache));
        }
        let component = Component::new(engine, wasm)?;
        if let Err(e) = self.store(&entry, &component) {
            tracing::warn!("cannot write the compile cache {}: {e}", entry.display());
        }
        Ok((component, Source::Compiled))
    }

    fn load(&self, engine: &Engine, entry: &Path) -> Option<Component> {
        let bytes = std::fs::read(entry).ok()?;
        let digest = std::fs::read_to_string(entry.with_extension("sha256")).ok();
        if digest.as_deref().map(str::trim) != Some(sha256(&bytes).as_str()) {
            tracing::warn!(
                "compile cache entry {} is corrupt or foreign; rebuilding it",
                entry.display()
            );
            return None;
        }
        // SAFETY: the bytes are exactly what `store` wrote from
        // `Component::serialize` (their SHA-256 matches the digest written
        // beside them), and wasmtime checks they were compiled for this
        // engine's configuration before using them.
        #[allow(
            unsafe_code,
            reason = "loading precompiled code; integrity checked above"
        )]
        let loaded = unsafe { Component::deserialize(engine, &bytes) };
        match loaded {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(
                    "compile cache entry {} cannot be used ({e}); rebuilding it",
                    entry.display()
                );
                None
            }
        }
    }

    /// Writes aside and renames, digest last: a crash mid-write leaves an
    /// entry without a valid digest, which is rebuilt.
    fn store(&self, entry: &Path, component: &Component) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize().map_err(std::io::Error::other)?;
        let tmp = entry.with_extension("tmp");
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, entry)?;
        let digest_tmp = entry.with_extension("sha256.tmp");
        std::fs::write(&digest_tmp, sha256(&bytes))?;
        std::fs::rename(&digest_tmp, entry.with_extension("sha256"))
    }
}
