//! `shallot precompile`: fill the compile cache ahead of time, so that the
//! first start (or a deploy) does not pay for compiling.

use std::path::PathBuf;

use shallot::Config;

/// Compiles every component of the config at `path` into its compile
/// cache, printing whether each was compiled or already cached.
pub(crate) fn run(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    let runtime = shallot::Runtime::new(shallot::EngineOptions::for_config(&config))?
        .with_disk_cache(&config.server.compile_cache);
    for spec in config.components() {
        let cached = runtime.precompile(&spec.component)?;
        let how = if cached { "cached" } else { "compiled" };
        println!("{how:<8}  {:<20}  {}", spec.name, spec.component.display());
    }
    println!("cache: {}", config.server.compile_cache.display());
    Ok(())
}
