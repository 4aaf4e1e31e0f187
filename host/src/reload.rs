//! Hot swap: a pipeline that can be replaced while serving.
//!
//! A reload builds a complete new pipeline off the request path (config,
//! compile, link, validate, routes) and then swaps it in atomically. Every
//! request holds an `Arc` of the version it started on and runs entirely on
//! it; the old version is freed when its last request ends. A reload that
//! fails changes nothing for clients: the current pipeline keeps serving and
//! the reason is logged and kept for `shallot status`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::ArcSwap;

use crate::config::Config;
use crate::engine::{EngineOptions, Runtime};
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;

/// Why a pipeline could not be (re)built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The config file is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A component was refused.
    #[error(transparent)]
    Load(#[from] crate::load_error::LoadError),
    /// A file disappeared between reading the config and hashing it.
    #[error("cannot read a component file: {0}")]
    Io(#[from] std::io::Error),
    /// The new certificate or key was refused; the old pair keeps serving.
    #[error("TLS: {0}")]
    Tls(#[from] crate::server::TlsError),
    /// A fixed pipeline has no config file to reload from.
    #[error("this pipeline has no config file to reload from")]
    NoConfig,
}

/// What `shallot status` reports.
#[derive(Debug, Clone)]
pub struct ReloadStatus {
    /// 1 for the pipeline served at start, +1 for every successful swap.
    pub version: u64,
    /// When the active version was loaded.
    pub loaded_at: SystemTime,
    /// Each component of the active version with its file's SHA-256.
    pub components: Vec<(String, String)>,
    /// Why the most recent reload failed, if it did (cleared by a good one).
    pub last_error: Option<String>,
}

/// The pipeline being served, replaceable at any time.
pub struct LivePipeline {
    current: ArcSwap<Pipeline>,
    config_path: Option<PathBuf>,
    runtime: Mutex<Runtime>,
    status: Mutex<ReloadStatus>,
    /// What the active version was built from, to skip no-op reloads (an
    /// editor touching a file twice).
    fingerprint: Mutex<u64>,
    /// The config and component files of the last config that parsed, which
    /// the watcher watches (a half-written component of a newer config
    /// included, so that completing it triggers the reload).
    files: Mutex<Vec<PathBuf>>,
    /// The template folders of that config, watched whole: a template
    /// added, changed or removed anywhere under them reloads.
    dirs: Mutex<Vec<PathBuf>>,
    /// One reload at a time: two racing reloads could swap in an older one.
    reloading: tokio::sync::Mutex<()>,
    /// The server's certificate, re-read on every reload.
    tls: Mutex<Option<Arc<crate::server::Tls>>>,
    /// Set when the server starts stopping: health checks answer 503.
    draining: std::sync::atomic::AtomicBool,
    /// Every version's metrics, so counters carry on across a swap.
    metrics: Arc<Metrics>,
    /// The serving threads the server started with. A reload cannot add
    /// or remove threads, so every version's pools keep this many shares.
    /// `None` for a fixed pipeline, which never reloads.
    workers: Option<usize>,
}

impl ReloadStatus {
    /// The JSON the admin endpoint serves.
    pub fn to_json(&self) -> serde_json::Value {
        let loaded_at = self
            .loaded_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        serde_json::json!({
            "version": self.version,
            "loaded_at_unix": loaded_at,
            "components": self.components.iter()
                .map(|(name, sha)| serde_json::json!({ "name": name, "sha256": sha }))
                .collect::<Vec<_>>(),
            "last_error": self.last_error,
        })
    }
}

impl LivePipeline {
    /// Loads `config_path` and serves it; `reload` re-reads that file.
    pub async fn load(config_path: &Path) -> Result<LivePipeline, ReloadError> {
        LivePipeline::from_config(&Config::load(config_path)?).await
    }

    /// Serves an already parsed config; `reload` re-reads its file.
    pub async fn from_config(config: &Config) -> Result<LivePipeline, ReloadError> {
        let runtime = Runtime::new(EngineOptions::for_config(config))?
            .with_disk_cache(&config.server.compile_cache);
        let pipeline = Pipeline::load_with(&runtime, config).await?;
        let (fingerprint, components) = fingerprint(config)?;
        let loaded_at = SystemTime::now();
        let metrics = serving_first(&pipeline, loaded_at);
        Ok(LivePipeline {
            current: ArcSwap::from_pointee(pipeline),
            config_path: Some(config.path.clone()),
            files: Mutex::new(input_files(config)),
            dirs: Mutex::new(config.templates.dirs.clone()),
            runtime: Mutex::new(runtime),
            status: Mutex::new(ReloadStatus {
                version: 1,
                loaded_at,
                components,
                last_error: None,
            }),
            fingerprint: Mutex::new(fingerprint),
            reloading: tokio::sync::Mutex::new(()),
            tls: Mutex::new(None),
            draining: std::sync::atomic::AtomicBool::new(false),
            metrics,
            workers: Some(config.server.workers),
        })
    }

    /// Serves a fixed pipeline (no config file to reload from).
    pub fn fixed(pipeline: Pipeline, runtime: Runtime) -> LivePipeline {
        let loaded_at = SystemTime::now();
        let metrics = serving_first(&pipeline, loaded_at);
        LivePipeline {
            current: ArcSwap::from_pointee(pipeline),
            config_path: None,
            runtime: Mutex::new(runtime),
            status: Mutex::new(ReloadStatus {
                version: 1,
                loaded_at,
                components: Vec::new(),
                last_error: None,
            }),
            fingerprint: Mutex::new(0),
            files: Mutex::new(Vec::new()),
            dirs: Mutex::new(Vec::new()),
            reloading: tokio::sync::Mutex::new(()),
            tls: Mutex::new(None),
            draining: std::sync::atomic::AtomicBool::new(false),
            metrics,
            workers: None,
        }
    }

    /// Marks the server as stopping: from now on health checks answer 503
    /// (requests are still served), so load balancers take it out.
    pub fn start_draining(&self) {
        self.draining
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether [`start_draining`](Self::start_draining) was called.
    pub fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Has every reload re-read `tls`'s certificate and key too (the old
    /// pair keeps serving if the new files are refused).
    pub fn attach_tls(&self, tls: Arc<crate::server::Tls>) {
        *self.tls.lock().expect("tls lock") = Some(tls);
    }

    /// The version to run the next request on.
    pub fn current(&self) -> Arc<Pipeline> {
        self.current.load_full()
    }

    /// The config file this pipeline reloads from.
    pub fn config_path(&self) -> Option<&Path> {
        self.config_path.as_deref()
    }

    /// A snapshot of the reload state.
    pub fn status(&self) -> ReloadStatus {
        self.status.lock().expect("status lock").clone()
    }

    /// Rebuilds from the config file and swaps the result in. `Ok(false)`
    /// when nothing changed since the active version; on error the active
    /// version stays and the reason is kept in [`ReloadStatus::last_error`].
    pub async fn reload(&self) -> Result<bool, ReloadError> {
        let _one_at_a_time = self.reloading.lock().await;
        let result = self.try_reload().await;
        let tls = self.tls.lock().expect("tls lock").clone();
        let tls_result = tls.map_or(Ok(()), |tls| tls.reload());
        let mut status = self.status.lock().expect("status lock");
        match &result {
            Ok(Some(components)) => {
                status.version += 1;
                status.loaded_at = SystemTime::now();
                status.components = components.clone();
                status.last_error = None;
                tracing::info!(
                    version = status.version,
                    "reloaded: the new pipeline is serving"
                );
            }
            Ok(None) => tracing::debug!("reload: nothing changed"),
            Err(e) => {
                tracing::error!(
                    "reload failed; version {} keeps serving: {e}",
                    status.version
                );
                status.last_error = Some(e.to_string());
            }
        }
        // Counted as the caller sees it: an error if either part failed.
        self.metrics.serving(status.version, status.loaded_at);
        match (&result, &tls_result) {
            (Ok(None), Ok(())) => {}
            (Ok(Some(_)), Ok(())) => self.metrics.reloaded(true),
            _ => self.metrics.reloaded(false),
        }
        if let Err(e) = tls_result {
            tracing::error!("certificate reload failed; the previous one keeps serving: {e}");
            status.last_error = Some(format!("TLS: {e}"));
            result?;
            return Err(ReloadError::Tls(e));
        }
        result.map(|swapped| swapped.is_some())
    }

    /// The new version's component hashes, or `None` when nothing changed.
    async fn try_reload(&self) -> Result<Option<Vec<(String, String)>>, ReloadError> {
        let path = self.config_path.as_deref().ok_or(ReloadError::NoConfig)?;
        let mut config = Config::load(path)?;
        if let Some(workers) = self.workers
            && config.server.workers != workers
        {
            tracing::warn!(
                "[server] workers changed from {workers} to {}: that takes effect at the next start",
                config.server.workers
            );
            config.server.workers = workers;
        }
        *self.files.lock().expect("files lock") = input_files(&config);
        *self.dirs.lock().expect("dirs lock") = config.templates.dirs.clone();
        let (fingerprint, components) = fingerprint(&config)?;
        if fingerprint == *self.fingerprint.lock().expect("fingerprint lock") {
            return Ok(None);
        }
        let options = EngineOptions::for_config(&config);
        let same_engine = {
            let current = self.runtime.lock().expect("runtime lock");
            (*current.options() == options).then(|| current.clone())
        };
        // A change of engine-wide settings (fuel, stack) needs a new engine.
        let runtime = match same_engine {
            Some(runtime) => runtime,
            None => Runtime::new(options)?.with_disk_cache(&config.server.compile_cache),
        };
        let pipeline = Pipeline::load_with_metrics(&runtime, &config, self.metrics.clone()).await?;
        self.current.store(Arc::new(pipeline));
        *self.runtime.lock().expect("runtime lock") = runtime;
        *self.fingerprint.lock().expect("fingerprint lock") = fingerprint;
        Ok(Some(components))
    }

    /// Every file a reload depends on: the config and each component.
    pub fn watched_files(&self) -> Vec<PathBuf> {
        self.files.lock().expect("files lock").clone()
    }

    /// The folders the watcher watches with everything under them (the
    /// template folders).
    pub fn watched_dirs(&self) -> Vec<PathBuf> {
        self.dirs.lock().expect("dirs lock").clone()
    }
}

/// The metrics of the first version, which every later one shares, set
/// to show it serving.
fn serving_first(pipeline: &Pipeline, loaded_at: SystemTime) -> Arc<Metrics> {
    let metrics = pipeline.metrics().clone();
    metrics.serving(1, loaded_at);
    metrics
}

fn input_files(config: &Config) -> Vec<PathBuf> {
    std::iter::once(config.path.clone())
        .chain(config.components().map(|c| c.component.clone()))
        .chain(other_inputs(config))
        .collect()
}

/// The files besides the config and its components that a reload reads:
/// the certificate pair, and the manifest `static()` reads (which a
/// `collectstatic` run rewrites).
fn other_inputs(config: &Config) -> impl Iterator<Item = PathBuf> + '_ {
    let tls = config
        .server
        .tls
        .iter()
        .flat_map(|t| [t.cert.clone(), t.key.clone()]);
    let manifest = config
        .static_files
        .root
        .iter()
        .map(|root| root.join(crate::statics::MANIFEST));
    tls.chain(manifest)
}

/// A hash of the config text, every component's bytes and every template,
/// plus each
/// component's own hash for the status report.
fn fingerprint(config: &Config) -> std::io::Result<(u64, Vec<(String, String)>)> {
    let mut all = DefaultHasher::new();
    std::fs::read(&config.path)?.hash(&mut all);
    let mut components = Vec::new();
    for spec in config.components() {
        let bytes = std::fs::read(&spec.component)?;
        bytes.hash(&mut all);
        components.push((spec.name.clone(), crate::cache::sha256(&bytes)));
    }
    for path in other_inputs(config) {
        // Absent is a state too (no manifest yet).
        std::fs::read(path).ok().hash(&mut all);
    }
    for dir in &config.templates.dirs {
        for (name, path) in crate::templates::files(dir).map_err(std::io::Error::other)? {
            name.hash(&mut all);
            std::fs::read(&path)?.hash(&mut all);
        }
    }
    Ok((all.finish(), components))
}
