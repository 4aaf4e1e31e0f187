//! `shallot collectstatic`: `[static] dirs` into `[static] root`, with
//! content-hashed names, a manifest and compressed siblings.

use std::path::PathBuf;

use shallot::Config;

/// Collects the static files of the config at `path`.
pub(crate) fn run(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    let done = shallot::statics::collect::collect(&config.static_files)?;
    println!(
        "{} static files copied to {} (each also under its hashed name), {} compressed siblings, manifest {}",
        done.files,
        done.root.display(),
        done.compressed,
        shallot::statics::MANIFEST,
    );
    Ok(())
}
