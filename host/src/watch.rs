//! Reload on file changes: the config file, every component it names and
//! everything under its template folders.
//!
//! Directories are watched rather than files, so a file replaced by rename
//! (how editors and deploy tools write) is seen like one written in place.
//! Events are debounced: a file written in several chunks, or touched twice
//! in a row, gives one reload; a half-written component fails to compile,
//! the current pipeline keeps serving, and the write that completes it
//! triggers the reload that succeeds.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::reload::LivePipeline;

/// Quiet time after the last change before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Watches `live`'s files and reloads it on change, until the returned
/// task is dropped or aborted.
pub fn spawn(live: Arc<LivePipeline>) -> notify::Result<tokio::task::JoinHandle<()>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            let _ = tx.send(event.paths);
        }
    })?;
    let mut watched_dirs = BTreeSet::new();
    let mut files = watch_dirs(&mut watcher, &mut watched_dirs, &live);
    Ok(tokio::spawn(async move {
        while let Some(paths) = rx.recv().await {
            let relevant = |p: &PathBuf| {
                let p = canonical(p);
                files.0.contains(&p) || files.1.iter().any(|dir| p.starts_with(dir))
            };
            if !paths.iter().any(relevant) {
                continue;
            }
            // Let a burst of writes settle into one reload.
            loop {
                match tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                    Ok(Some(_)) => continue,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            // The outcome is logged and kept in the status by reload().
            let _ = live.reload().await;
            files = watch_dirs(&mut watcher, &mut watched_dirs, &live);
        }
    }))
}

/// Starts watching the folder of every file a reload depends on, and the
/// template folders with all they hold; returns those files and folders.
fn watch_dirs(
    watcher: &mut notify::RecommendedWatcher,
    watched: &mut BTreeSet<PathBuf>,
    live: &LivePipeline,
) -> (BTreeSet<PathBuf>, Vec<PathBuf>) {
    let files: BTreeSet<PathBuf> = live.watched_files().iter().map(|p| canonical(p)).collect();
    for file in &files {
        let Some(dir) = file.parent() else { continue };
        if watched.insert(dir.to_owned())
            && let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive)
        {
            tracing::warn!("cannot watch {}: {e}", dir.display());
        }
    }
    let dirs: Vec<PathBuf> = live
        .watched_dirs()
        .iter()
        .filter_map(|d| d.canonicalize().ok())
        .collect();
    for dir in &dirs {
        // A folder already watched on its own (it holds the config) is
        // watched again, recursively.
        if watched.insert(dir.join("**"))
            && let Err(e) = watcher.watch(dir, RecursiveMode::Recursive)
        {
            tracing::warn!("cannot watch {}: {e}", dir.display());
        }
    }
    (files, dirs)
}

/// Absolute, with symlinks in the folder resolved, so event paths and
/// config paths compare equal; the file itself may not exist mid-rename.
fn canonical(path: &std::path::Path) -> PathBuf {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    match (dir.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_owned(),
    }
}
