//! `[static]`: Django's `STATIC_URL`, `STATICFILES_DIRS` and `STATIC_ROOT`,
//! and how the server serves them (nginx's part of the cycle, or
//! WhiteNoise's).

use std::path::{Path, PathBuf};

use super::ConfigError;
use super::locate::Source;
use super::numbers::DAY_SECS;
use super::schema::RawStatic;

/// How static files reach the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaticServe {
    /// By the server, before the middleware chain (nginx's role): no
    /// component runs for a static file.
    Server,
    /// Through the middleware chain, in place of the view (WhiteNoise's
    /// role, or Django's `static()` URL patterns): every middleware sees the
    /// request and the response.
    Chain,
    /// Not at all (a CDN or another server serves `url`).
    Off,
}

/// `[static]`.
#[derive(Debug, Clone)]
pub struct StaticConfig {
    /// `STATIC_URL`: what `static()` prefixes, and where files are served
    /// when it is a path. Default `/static/`.
    pub url: String,
    /// `STATICFILES_DIRS`: folders searched in order, resolved against the
    /// config file's folder (a project folder, then each app's).
    pub dirs: Vec<PathBuf>,
    /// `STATIC_ROOT`: where `shallot collectstatic` writes. When it holds a
    /// manifest, files are served from it alone and `static()` gives the
    /// hashed names.
    pub root: Option<PathBuf>,
    /// How they are served. Default `Server`.
    pub serve: StaticServe,
    /// `Cache-Control: max-age` for files without a content hash in their
    /// name (hashed ones are cached for a year). Default 60 (WhiteNoise's).
    pub max_age_secs: u64,
}

impl Default for StaticConfig {
    fn default() -> Self {
        StaticConfig {
            url: "/static/".to_owned(),
            dirs: Vec::new(),
            root: None,
            serve: StaticServe::Server,
            max_age_secs: 60,
        }
    }
}

impl StaticConfig {
    /// The URL path files are served under, if the server serves them:
    /// `url` when it is a path and there is a folder to serve.
    pub fn served_prefix(&self) -> Option<&str> {
        let has_files = !self.dirs.is_empty() || self.root.is_some();
        (self.serve != StaticServe::Off && has_files && self.url.starts_with('/'))
            .then_some(self.url.as_str())
    }
}

pub(super) fn statics(
    src: &Source<'_>,
    base: &Path,
    raw: RawStatic,
) -> Result<StaticConfig, ConfigError> {
    let mut out = StaticConfig::default();
    if let Some(url) = &raw.url {
        out.url = url_prefix(src, url)?;
    }
    for (i, dir) in raw.dirs.iter().enumerate() {
        let path = base.join(dir.get_ref());
        if !path.is_dir() {
            return Err(src.error(
                dir.span(),
                &format!("static.dirs[{i}]"),
                format!("directory not found: {}", path.display()),
            ));
        }
        out.dirs.push(path);
    }
    // The root may not exist yet: `collectstatic` makes it.
    out.root = raw.root.as_ref().map(|r| base.join(r.get_ref()));
    if let Some(serve) = &raw.serve {
        out.serve = match serve.get_ref().as_str() {
            "server" => StaticServe::Server,
            "chain" => StaticServe::Chain,
            "off" => StaticServe::Off,
            other => {
                return Err(src.error(
                    serve.span(),
                    "static.serve",
                    format!("unknown value {other:?}: expected \"server\", \"chain\" or \"off\""),
                ));
            }
        };
    }
    if let Some(secs) = src.bounded_opt(
        raw.max_age_secs.as_ref(),
        "static.max_age_secs",
        0,
        365 * DAY_SECS,
    )? {
        out.max_age_secs = secs;
    }
    Ok(out)
}

/// `[static] url`: a path (`/static/`) or an absolute URL (a CDN), ending
/// in '/' as Django requires.
fn url_prefix(src: &Source<'_>, url: &toml::Spanned<String>) -> Result<String, ConfigError> {
    let text = url.get_ref();
    let absolute = text.starts_with("http://") || text.starts_with("https://");
    let problem = if !(text.starts_with('/') || absolute) {
        "must be a path starting with '/' or an http(s) URL"
    } else if !text.ends_with('/') {
        "must end with '/' (Django's STATIC_URL rule)"
    } else if text == "/" {
        "must not be '/': every path would be a static file"
    } else if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "must not contain spaces or control characters"
    } else {
        return Ok(text.clone());
    };
    Err(src.error(url.span(), "static.url", problem.to_owned()))
}
