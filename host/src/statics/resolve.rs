//! From a URL to a file inside one of the served folders, or nothing.
//!
//! The rules, each refusing before the filesystem is asked: the path is
//! percent-decoded once and must be UTF-8 without NUL or backslash; no
//! segment may be `.`, `..` or start with a dot (dotfiles such as `.env` or
//! `.git/`), and a path ending in '/' names a folder, which is never listed.
//! Then the file must be a regular file whose real path (symlinks followed)
//! is still inside the folder it was found in.

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;

/// The relative path a URL (after the static prefix) names, if it is
/// allowed at all. Repeated slashes are merged, as nginx does.
pub(super) fn relative(encoded: &str) -> Option<String> {
    let decoded = percent_decode_str(encoded).decode_utf8().ok()?;
    if decoded.is_empty() || decoded.ends_with('/') || decoded.contains(['\0', '\\']) {
        return None;
    }
    let mut out = String::with_capacity(decoded.len());
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('.') {
            return None;
        }
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(segment);
    }
    (!out.is_empty()).then_some(out)
}

/// A served folder, with its real path for the containment check.
#[derive(Debug)]
pub(super) struct Folder {
    real: PathBuf,
}

impl Folder {
    /// `None` when the folder does not exist (a `root` not collected yet).
    pub(super) fn new(path: &Path) -> Option<Folder> {
        Some(Folder {
            real: path.canonicalize().ok()?,
        })
    }

    /// The real path of `relative` in this folder, if it is a regular file
    /// that does not leave the folder.
    pub(super) fn find(&self, relative: &str) -> Option<(PathBuf, std::fs::Metadata)> {
        let real = self.real.join(relative).canonicalize().ok()?;
        if !real.starts_with(&self.real) {
            return None;
        }
        let meta = std::fs::metadata(&real).ok()?;
        meta.is_file().then_some((real, meta))
    }
}

#[cfg(test)]
mod tests {
    use super::relative;

    #[test]
    fn plain_paths_pass_and_slashes_merge() {
        assert_eq!(relative("css/site.css").as_deref(), Some("css/site.css"));
        assert_eq!(relative("css//site.css").as_deref(), Some("css/site.css"));
        assert_eq!(relative("a%20b.txt").as_deref(), Some("a b.txt"));
    }

    #[test]
    fn traversal_dotfiles_folders_and_nul_are_refused() {
        for bad in [
            "../secret",
            "css/../../secret",
            "%2e%2e/secret",
            "%2E%2E%2fsecret",
            "css/%2e%2e/%2e%2e/secret",
            "./site.css",
            ".env",
            "css/.hidden",
            ".git/config",
            "css/",
            "",
            "a%00.css",
            "a%5c..%5csecret",
            "%ff.css",
        ] {
            assert_eq!(relative(bad), None, "{bad:?} should be refused");
        }
    }
}
