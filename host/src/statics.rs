//! Static files, served by the host: nginx's part of the cycle (before any
//! component runs) or WhiteNoise's (through the middleware chain), from
//! `[static] dirs` or, once `shallot collectstatic` has run, from `root`
//! with content-hashed names.
//!
//! A file is resolved once and then served from memory for a second (its
//! metadata, and its bytes when small); large files are streamed from disk
//! in chunks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};

use crate::config::{StaticConfig, StaticServe};
use crate::server::Body;

pub mod collect;
mod entry;
mod manifest;
mod resolve;
mod respond;

use entry::Entry;
pub use manifest::{MANIFEST, Manifest};
use resolve::Folder;

/// How long a file's metadata is trusted before the filesystem is asked
/// again (nginx's `open_file_cache_valid`, which defaults to 60 s).
const REVALIDATE: Duration = Duration::from_secs(1);
/// Files remembered at once; past it the cache starts over.
const MAX_ENTRIES: usize = 10_000;
/// Bytes of small files held in memory at once, all files together.
const MAX_HELD: usize = 64 << 20;
/// `Cache-Control` of a content-hashed name: it never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The static files of one pipeline.
pub struct StaticFiles {
    prefix: Option<String>,
    serve: StaticServe,
    folders: Vec<Folder>,
    manifest: Option<Arc<Manifest>>,
    max_age: HeaderValue,
    cache: RwLock<HashMap<String, Arc<Entry>>>,
    held: AtomicUsize,
}

impl StaticFiles {
    /// The folders and manifest `config` names. Fails on a manifest that
    /// cannot be read.
    pub fn load(config: &StaticConfig) -> Result<StaticFiles, String> {
        let manifest = match &config.root {
            Some(root) => Manifest::read(root)?.map(Arc::new),
            None => None,
        };
        let folders: Vec<&std::path::Path> = match (&manifest, &config.root) {
            (Some(_), Some(root)) => vec![root],
            _ => config.dirs.iter().map(|d| d.as_path()).collect(),
        };
        let max_age = format!("public, max-age={}", config.max_age_secs);
        Ok(StaticFiles {
            prefix: config.served_prefix().map(str::to_owned),
            serve: config.serve,
            folders: folders.into_iter().filter_map(Folder::new).collect(),
            manifest,
            max_age: HeaderValue::from_str(&max_age).expect("digits"),
            cache: RwLock::new(HashMap::new()),
            held: AtomicUsize::new(0),
        })
    }

    /// The collected manifest, when files are served from `root`.
    pub fn manifest(&self) -> Option<&Arc<Manifest>> {
        self.manifest.as_ref()
    }

    /// Whether the server answers `path` itself, before the chain.
    pub fn before_chain(&self, raw_path: &str) -> bool {
        self.serve == StaticServe::Server && self.under_prefix(raw_path).is_some()
    }

    /// Whether the chain answers `path` with a static file, in place of a
    /// view.
    pub fn in_chain(&self, raw_path: &str) -> bool {
        self.serve == StaticServe::Chain && self.under_prefix(raw_path).is_some()
    }

    fn under_prefix<'p>(&self, raw_path: &'p str) -> Option<&'p str> {
        raw_path.strip_prefix(self.prefix.as_deref()?)
    }

    /// The response for a request under the prefix: the file, a 304, a
    /// 206/416, 404 when there is no such file (or it is refused), 405 for
    /// methods other than GET and HEAD.
    pub fn respond(&self, method: &Method, raw_path: &str, headers: &HeaderMap) -> Response<Body> {
        let Some(rest) = self.under_prefix(raw_path) else {
            return respond::plain(StatusCode::NOT_FOUND, "Not Found");
        };
        if method != Method::GET && method != Method::HEAD {
            let mut resp = respond::plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return resp;
        }
        let Some(entry) = resolve::relative(rest).and_then(|r| self.entry(&r)) else {
            return respond::plain(StatusCode::NOT_FOUND, "Not Found");
        };
        respond::respond(&entry, method, headers).unwrap_or_else(|e| {
            tracing::error!(path = raw_path, "static file could not be read: {e}");
            respond::plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        })
    }

    /// The entry for `relative`, from the cache while it is fresh.
    fn entry(&self, relative: &str) -> Option<Arc<Entry>> {
        let cached = self
            .cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(relative)
            .cloned();
        if let Some(entry) = cached.as_ref().filter(|e| e.checked.elapsed() < REVALIDATE) {
            return Some(entry.clone());
        }
        let hold = self.held.load(Ordering::Relaxed) < MAX_HELD;
        let entry = Arc::new(Entry::build(
            &self.folders,
            relative,
            self.cache_control(relative),
            hold,
            cached.as_deref(),
        )?);
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
            self.held.store(0, Ordering::Relaxed);
        }
        self.held.fetch_add(entry.held(), Ordering::Relaxed);
        if let Some(old) = cache.insert(relative.to_owned(), entry.clone()) {
            self.held.fetch_sub(old.held(), Ordering::Relaxed);
        }
        Some(entry)
    }

    fn cache_control(&self, relative: &str) -> HeaderValue {
        if self
            .manifest
            .as_ref()
            .is_some_and(|m| m.is_hashed(relative))
        {
            HeaderValue::from_static(IMMUTABLE)
        } else {
            self.max_age.clone()
        }
    }
}
