//! `shallot check`: load everything a server would, serve nothing.

use std::path::PathBuf;

use shallot::{Config, Pipeline};

/// Validates the config at `path` and every component's exports, then
/// prints the hook table and a one-line summary.
pub(crate) async fn run(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    let pipeline = Pipeline::load(&config).await?;
    // `serve` would refuse these, so `check` fails on them too.
    if let Some(pending) = super::migrate::unapplied(&config).await? {
        anyhow::bail!("{pending}; run `shallot migrate {}`", path.display());
    }
    print!("{}", shallot::pipeline::hook_table(&pipeline));
    println!(
        "ok: {} middleware, {} views, {} routes, {} URLconfs; {}",
        pipeline.middleware().len(),
        config.views.len(),
        pipeline.router().endpoints().len(),
        1 + config.urlconfs.len(),
        pipeline.templates_summary()
    );
    Ok(())
}
