//! `shallot migrate`: applies each database's migrations not yet applied;
//! and the check `serve` and `check` make before starting.

use std::path::PathBuf;

use shallot::{Config, migrate};

/// Applies what is pending in every `[databases]` entry with `migrations`,
/// printing each file as it is applied.
pub(crate) async fn run(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    let mut applied = 0;
    for (name, spec) in &config.databases {
        if spec.migrations.is_none() {
            continue;
        }
        let done = migrate::apply(name, spec).await?;
        for migration in &done {
            println!("{name}: applied {}", migration.name);
        }
        if done.is_empty() {
            println!("{name}: no migrations to apply");
        }
        applied += done.len();
    }
    println!("ok: {applied} applied");
    Ok(())
}

/// A sentence naming the migrations not yet applied, if there are any.
pub(crate) async fn unapplied(config: &Config) -> anyhow::Result<Option<String>> {
    let mut parts = Vec::new();
    for (name, spec) in &config.databases {
        let pending = migrate::pending(name, spec).await?;
        if !pending.is_empty() {
            let names: Vec<&str> = pending.iter().map(|m| m.name.as_str()).collect();
            parts.push(format!(
                "database {name:?} has {} unapplied migration{}: {}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ));
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("; ")))
}
