//! `shallot routes`: the URL patterns, like Django's show_urls.

use std::path::PathBuf;

use shallot::Config;

/// Prints the routes of the config at `path`; no component is loaded.
pub(crate) fn run(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    print!("{}", shallot::router::show_urls(&config.router));
    Ok(())
}
