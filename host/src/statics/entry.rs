//! What the server knows about one static file: its representations (the
//! file, and its precompressed `.br` / `.gz` siblings) with their sizes and
//! validators, and the bytes of the small ones. Built from the filesystem
//! at most once a second per file (nginx's `open_file_cache_valid`), so a
//! hot small file costs no syscall at all.

use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::HeaderValue;

use super::resolve::Folder;

/// Files up to this size are kept in memory once read (64 MiB in all, see
/// `MAX_HELD`): streaming a 100 KiB file from disk with a read per request
/// was half nginx's speed, and sending held bytes is a copy-free write.
pub(super) const SMALL: u64 = 1024 * 1024;

/// A content coding a representation is stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coding {
    Identity,
    Brotli,
    Gzip,
}

impl Coding {
    /// The sibling's suffix and the `Content-Encoding` / `Accept-Encoding`
    /// token, in the order of preference (brotli is smaller).
    pub(super) const COMPRESSED: [(Coding, &'static str, &'static str); 2] =
        [(Coding::Brotli, ".br", "br"), (Coding::Gzip, ".gz", "gzip")];

    pub(super) fn token(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Brotli => Some("br"),
            Coding::Gzip => Some("gzip"),
        }
    }
}

/// One stored form of the file.
#[derive(Debug)]
pub(super) struct Variant {
    pub(super) coding: Coding,
    pub(super) path: PathBuf,
    pub(super) len: u64,
    /// The exact modification time, to tell an unchanged file on
    /// revalidation (the ETag has only seconds).
    modified: Option<SystemTime>,
    /// Strong, like nginx's: modification time and size, plus the coding
    /// (a compressed form is a different representation).
    pub(super) etag: HeaderValue,
    /// The whole content, for small files.
    pub(super) data: Option<Bytes>,
}

/// A file as served.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) checked: Instant,
    pub(super) mtime_secs: u64,
    pub(super) last_modified: HeaderValue,
    pub(super) content_type: HeaderValue,
    pub(super) cache_control: HeaderValue,
    /// The identity form first, then the compressed siblings present.
    pub(super) variants: Vec<Variant>,
}

impl Entry {
    /// Looks `relative` up in `folders`, first match wins (Django's
    /// finders). `None` when no folder has it as a regular file inside.
    /// The bytes of a representation `previous` already holds are reused
    /// when its file has not changed, so revalidating a hot file is a few
    /// `stat`s, not a read.
    pub(super) fn build(
        folders: &[Folder],
        relative: &str,
        cache_control: HeaderValue,
        hold: bool,
        previous: Option<&Entry>,
    ) -> Option<Entry> {
        let old =
            |coding: Coding| previous.and_then(|p| p.variants.iter().find(|v| v.coding == coding));
        let (folder, (path, meta)) = folders
            .iter()
            .find_map(|f| f.find(relative).map(|found| (f, found)))?;
        let mtime_secs = modified_secs(&meta);
        let mut variants = vec![variant(
            Coding::Identity,
            path,
            &meta,
            mtime_secs,
            hold,
            old(Coding::Identity),
        )];
        for (coding, suffix, _) in Coding::COMPRESSED {
            // A sibling must be as new as the file: a stale .gz left behind
            // by an edit would serve the old content.
            let sibling = folder.find(&format!("{relative}{suffix}"));
            if let Some((path, meta)) = sibling {
                let secs = modified_secs(&meta);
                if secs >= mtime_secs {
                    variants.push(variant(coding, path, &meta, secs, hold, old(coding)));
                }
            }
        }
        let last_modified =
            httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_secs(mtime_secs));
        Some(Entry {
            checked: Instant::now(),
            mtime_secs,
            last_modified: HeaderValue::from_str(&last_modified).expect("an HTTP date"),
            content_type: content_type(relative),
            cache_control,
            variants,
        })
    }

    /// Whether the client should be told the response varies with
    /// `Accept-Encoding`.
    pub(super) fn varies(&self) -> bool {
        self.variants.len() > 1
    }

    /// The bytes held in memory for every variant.
    pub(super) fn held(&self) -> usize {
        self.variants
            .iter()
            .filter_map(|v| v.data.as_ref())
            .map(Bytes::len)
            .sum()
    }
}

fn variant(
    coding: Coding,
    path: PathBuf,
    meta: &std::fs::Metadata,
    mtime_secs: u64,
    hold: bool,
    previous: Option<&Variant>,
) -> Variant {
    let len = meta.len();
    let modified = meta.modified().ok();
    let suffix = coding.token().map_or(String::new(), |t| format!("-{t}"));
    let etag = format!("\"{mtime_secs:x}-{len:x}{suffix}\"");
    let unchanged = previous.filter(|p| p.path == path && p.len == len && p.modified == modified);
    // Read now, so the hot path never opens a small file; a read error
    // leaves it to be streamed (and fail) like a large one.
    let data = match unchanged {
        Some(p) if p.data.is_some() => p.data.clone(),
        _ => (hold && len <= SMALL)
            .then(|| std::fs::read(&path).ok())
            .flatten()
            .filter(|d| d.len() as u64 == len)
            .map(Bytes::from),
    };
    Variant {
        coding,
        path,
        len,
        modified,
        etag: HeaderValue::from_str(&etag).expect("hex digits"),
        data,
    }
}

/// Whole seconds since the epoch of a file's modification (what ETags and
/// `Last-Modified` carry).
fn modified_secs(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

/// The MIME type from the extension, with `charset=utf-8` for text (as
/// WhiteNoise and Django's `FileResponse` do).
fn content_type(relative: &str) -> HeaderValue {
    let mime = mime_guess::from_path(relative).first_or_octet_stream();
    let text = mime.type_() == mime_guess::mime::TEXT
        || matches!(mime.subtype().as_str(), "javascript" | "json" | "xml");
    let value = if text && mime.get_param("charset").is_none() {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// Seconds since the epoch of an HTTP date header, if it parses.
pub(super) fn http_date_secs(value: &HeaderValue) -> Option<u64> {
    let time: SystemTime = httpdate::parse_http_date(value.to_str().ok()?).ok()?;
    time.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}
