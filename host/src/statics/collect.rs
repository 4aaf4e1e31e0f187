//! `shallot collectstatic`: Django's `collectstatic` with
//! `ManifestStaticFilesStorage`, plus WhiteNoise's compressed siblings.
//!
//! Every file of `[static] dirs` (the first folder that has a name wins,
//! as with Django's finders; dotfiles and `~` backups are skipped) is
//! copied to `root` twice: under its name and under a content-hashed name
//! (`css/site.css` -> `css/site.3b1a9f00c2de.css`, the first 12 hex digits
//! of the MD5 of its content). In CSS, `url(...)` and `@import`
//! references are rewritten to the hashed names first (so the CSS's own
//! hash covers them); a reference to a file that is not collected fails
//! the run, as in Django. `staticfiles.json` maps names to hashed names.
//! Text-like files also get `.br` and `.gz` siblings when compression
//! saves at least 5%.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use md5::Digest;
use regex::Regex;

use super::manifest::{MANIFEST, Manifest};
use crate::config::StaticConfig;

/// What a run did.
#[derive(Debug, Default)]
pub struct Collected {
    /// Files copied (each once, plus its hashed copy).
    pub files: usize,
    /// Compressed siblings written.
    pub compressed: usize,
    /// Where.
    pub root: PathBuf,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// `[static] root` is not set.
    #[error(
        "[static] root is not set: collectstatic needs a folder to write to (Django's STATIC_ROOT)"
    )]
    NoRoot,
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A stylesheet refers to a file that is not collected.
    #[error("the file '{reference}' referenced from '{css}' could not be found")]
    Missing {
        /// The stylesheet's name.
        css: String,
        /// What it refers to, resolved against it.
        reference: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CollectError + '_ {
    move |source| CollectError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Collects `config.dirs` into `config.root`.
pub fn collect(config: &StaticConfig) -> Result<Collected, CollectError> {
    let root = config.root.clone().ok_or(CollectError::NoRoot)?;
    // name -> source file, the first folder winning.
    let mut sources = BTreeMap::new();
    for dir in &config.dirs {
        let real = dir.canonicalize().map_err(io(dir))?;
        walk(&real, &real, &mut sources)?;
    }
    let mut contents = BTreeMap::new();
    for (name, path) in &sources {
        contents.insert(name.clone(), std::fs::read(path).map_err(io(path))?);
    }
    let hashed = hash_names(&contents, &config.url)?;
    let mut done = Collected {
        root: root.clone(),
        ..Collected::default()
    };
    for (name, (hashed_name, processed)) in &hashed {
        // The name keeps the original content, as Django's copy does; the
        // hashed copy has the rewritten references.
        for (out, content) in [(name, &contents[name]), (hashed_name, processed)] {
            let path = root.join(out);
            write(&path, content)?;
            done.compressed += compress(&path, content)?;
        }
        done.files += 1;
    }
    let manifest = Manifest::new(
        hashed
            .iter()
            .map(|(name, (hashed, _))| (name.clone(), hashed.clone()))
            .collect(),
    );
    write(&root.join(MANIFEST), manifest.to_json().as_bytes())?;
    Ok(done)
}

/// Every regular file under `dir`, by its `/`-separated name relative to
/// `top`; symlinks are followed only while they stay inside `top`.
fn walk(top: &Path, dir: &Path, out: &mut BTreeMap<String, PathBuf>) -> Result<(), CollectError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .collect::<Result<_, _>>()
        .map_err(io(dir))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // Django's default ignore patterns: `.*`, `*~`, `CVS`.
        if name.starts_with('.') || name.ends_with('~') || name == "CVS" {
            continue;
        }
        let Ok(real) = entry.path().canonicalize() else {
            continue;
        };
        if !real.starts_with(top) {
            continue;
        }
        if real.is_dir() {
            walk(top, &real, out)?;
        } else if real.is_file() {
            let relative = entry
                .path()
                .strip_prefix(top)
                .map_or_else(|_| PathBuf::from(name), Path::to_path_buf);
            let key = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.entry(key).or_insert(real);
        }
    }
    Ok(())
}

/// Each name's hashed name and final content: other files as they are,
/// then stylesheets with their references rewritten, over a few passes so
/// that a stylesheet importing another gets the other's final name.
fn hash_names(
    contents: &BTreeMap<String, Vec<u8>>,
    static_url: &str,
) -> Result<BTreeMap<String, (String, Vec<u8>)>, CollectError> {
    let is_css = |name: &str| name.ends_with(".css");
    let mut out = BTreeMap::new();
    for (name, content) in contents {
        out.insert(name.clone(), (hashed_name(name, content), content.clone()));
    }
    // Django's `max_post_process_passes`.
    for _ in 0..5 {
        let mut changed = false;
        for (name, content) in contents.iter().filter(|(n, _)| is_css(n)) {
            let text = String::from_utf8_lossy(content);
            let rewritten = rewrite_css(name, &text, static_url, &out)?.into_bytes();
            let hashed = hashed_name(name, &rewritten);
            if out[name].0 != hashed {
                changed = true;
            }
            out.insert(name.clone(), (hashed, rewritten));
        }
        if !changed {
            break;
        }
    }
    Ok(out)
}

/// `dir/name.ext` -> `dir/name.<12 hex of md5>.ext`, as Django names them.
fn hashed_name(name: &str, content: &[u8]) -> String {
    let digest = md5::Md5::digest(content);
    let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let (dir, file) = name.rsplit_once('/').map_or(("", name), |(d, f)| (d, f));
    let (stem, ext) = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (file, String::new()),
    };
    let hashed = format!("{stem}.{hash}{ext}");
    if dir.is_empty() {
        hashed
    } else {
        format!("{dir}/{hashed}")
    }
}

/// Django's CSS patterns: `url(...)` and `@import "..."`. References that
/// are fragments, data or another origin are left alone.
fn rewrite_css(
    css_name: &str,
    text: &str,
    static_url: &str,
    names: &BTreeMap<String, (String, Vec<u8>)>,
) -> Result<String, CollectError> {
    static PATTERNS: std::sync::LazyLock<[Regex; 2]> = std::sync::LazyLock::new(|| {
        [
            Regex::new(r#"url\(\s*(['"]?)\s*([^'")]*?)\s*(['"]?)\s*\)"#).expect("valid"),
            Regex::new(r#"@import\s*(['"])\s*([^'"]*?)\s*(['"])"#).expect("valid"),
        ]
    });
    let mut text = text.to_owned();
    for pattern in PATTERNS.iter() {
        let mut failure = None;
        text = pattern
            .replace_all(&text, |caps: &regex::Captures<'_>| {
                let whole = caps[0].to_owned();
                let url = &caps[2];
                if url.is_empty()
                    || url.starts_with('#')
                    || url.starts_with("//")
                    || url.contains("://")
                    || url.starts_with("data:")
                {
                    return whole;
                }
                let split = url.find(['?', '#']).unwrap_or(url.len());
                let (path, suffix) = url.split_at(split);
                let target = if let Some(absolute) = path.strip_prefix(static_url) {
                    absolute.to_owned()
                } else if path.starts_with('/') {
                    return whole;
                } else {
                    join(css_name, path)
                };
                let Some((hashed, _)) = names.get(&target) else {
                    failure.get_or_insert(CollectError::Missing {
                        css: css_name.to_owned(),
                        reference: target,
                    });
                    return whole;
                };
                // Keep the reference's own form: relative stays relative.
                let new_path = match path.rfind('/') {
                    Some(i) => format!("{}{}", &path[..=i], file_name(hashed)),
                    None => file_name(hashed).to_owned(),
                };
                whole.replacen(url, &format!("{new_path}{suffix}"), 1)
            })
            .into_owned();
        if let Some(e) = failure {
            return Err(e);
        }
    }
    Ok(text)
}

fn file_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// `reference` relative to the folder of `from`, with `.` and `..`
/// resolved (`css/site.css` + `../img/a.png` = `img/a.png`).
fn join(from: &str, reference: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for segment in reference.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn write(path: &Path, content: &[u8]) -> Result<(), CollectError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    std::fs::write(path, content).map_err(io(path))
}

/// Writes `.br` and `.gz` siblings of a text-like file when each saves at
/// least 5% (WhiteNoise's rule); returns how many were written.
fn compress(path: &Path, content: &[u8]) -> Result<usize, CollectError> {
    const TEXT: [&str; 9] = [
        "css", "js", "mjs", "html", "txt", "svg", "json", "xml", "map",
    ];
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !TEXT.contains(&ext) {
        return Ok(0);
    }
    let mut written = 0;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(content).map_err(io(path))?;
    let gz = gz.finish().map_err(io(path))?;
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
        w.write_all(content).map_err(io(path))?;
    }
    for (bytes, suffix) in [(br, "br"), (gz, "gz")] {
        if (bytes.len() as f64) < content.len() as f64 * 0.95 {
            let mut name = path.as_os_str().to_owned();
            name.push(format!(".{suffix}"));
            write(Path::new(&name), &bytes)?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::{hashed_name, join};

    #[test]
    fn hashed_names_keep_the_folder_and_extension() {
        // md5("") = d41d8cd98f00b204e9800998ecf8427e, as Django would name it.
        assert_eq!(
            hashed_name("css/site.css", b""),
            "css/site.d41d8cd98f00.css"
        );
        assert_eq!(hashed_name("LICENSE", b""), "LICENSE.d41d8cd98f00");
    }

    #[test]
    fn references_resolve_against_the_stylesheet() {
        assert_eq!(join("css/site.css", "../img/a.png"), "img/a.png");
        assert_eq!(join("css/site.css", "fonts/x.woff"), "css/fonts/x.woff");
        assert_eq!(join("site.css", "./a.png"), "a.png");
    }
}
