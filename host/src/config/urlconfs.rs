//! `[urlconfs.NAME]` and `[error_views]`: URLconfs besides the root one
//! (Django's `request.urlconf`, for per-host or multi-tenant routing) and
//! the views answering 400, 403, 404 and 500 in each (Django's
//! `handler400` ... `handler500`).

use std::collections::BTreeMap;

use toml::Spanned;

use crate::router::{RouteDef, Router};

use super::locate::Source;
use super::routes;
use super::schema::{RawErrorViews, RawUrlconf};
use super::{ComponentSpec, ConfigError};

/// A named URLconf.
#[derive(Debug, Clone)]
pub struct UrlConf {
    /// Its routes, in resolution order.
    pub routes: Vec<RouteDef>,
    /// Its compiled resolver.
    pub router: Router,
    /// Its error views.
    pub error_views: ErrorViews,
}

/// The views a URLconf answers errors with, by status; `None` is Django's
/// default handler (the `NNN.html` template if there is one, else the
/// built-in page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorViews {
    /// `400`: Django's `handler400`.
    pub bad_request: Option<String>,
    /// `403`: `handler403`.
    pub permission_denied: Option<String>,
    /// `404`: `handler404`.
    pub not_found: Option<String>,
    /// `500`: `handler500`.
    pub server_error: Option<String>,
}

impl ErrorViews {
    /// The view for `status`, if one is configured.
    pub fn for_status(&self, status: u16) -> Option<&str> {
        match status {
            400 => self.bad_request.as_deref(),
            403 => self.permission_denied.as_deref(),
            404 => self.not_found.as_deref(),
            500 => self.server_error.as_deref(),
            _ => None,
        }
    }
}

/// `[error_views]` (`field` = `error_views`) or a URLconf's, each naming
/// a defined view.
pub(super) fn error_views(
    src: &Source<'_>,
    views: &BTreeMap<String, ComponentSpec>,
    field: &str,
    raw: RawErrorViews,
) -> Result<ErrorViews, ConfigError> {
    let check = |status: &str, name: Option<Spanned<String>>| {
        let Some(name) = name else { return Ok(None) };
        if views.contains_key(name.get_ref()) {
            return Ok(Some(name.into_inner()));
        }
        Err(src.error(
            name.span(),
            &format!("{field}.{status}"),
            format!(
                "no view named {:?} (define it under [views])",
                name.get_ref()
            ),
        ))
    };
    Ok(ErrorViews {
        bad_request: check("400", raw.bad_request)?,
        permission_denied: check("403", raw.permission_denied)?,
        not_found: check("404", raw.not_found)?,
        server_error: check("500", raw.server_error)?,
    })
}

/// `[urlconfs.NAME]`, by name.
pub(super) fn urlconfs(
    src: &Source<'_>,
    views: &BTreeMap<String, ComponentSpec>,
    raw: BTreeMap<Spanned<String>, RawUrlconf>,
) -> Result<BTreeMap<String, UrlConf>, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, urlconf) in raw {
        let field = format!("urlconfs.{}", name.get_ref());
        let valid = !name.get_ref().is_empty()
            && name
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        if !valid {
            return Err(src.error(
                name.span(),
                &field,
                "a URLconf name uses letters, digits, '_', '-' and '.'".to_owned(),
            ));
        }
        let (routes, router) =
            routes::compile(src, views, &format!("{field}.routes"), urlconf.routes)?;
        let error_views = error_views(
            src,
            views,
            &format!("{field}.error_views"),
            urlconf.error_views,
        )?;
        out.insert(
            name.into_inner(),
            UrlConf {
                routes,
                router,
                error_views,
            },
        );
    }
    Ok(out)
}
