//! The pipeline's URLconfs: the root one and the named ones a middleware
//! may pick for a request (Django's `request.urlconf`), each with its
//! error views. Resolution, `reverse()`, `url()` in templates and the
//! error views of a request all use the URLconf chosen when its URL was
//! resolved, as Django's `set_urlconf` makes them.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{Config, ErrorViews};
use crate::router::Router;

/// The request attribute naming the URLconf (Django's `request.urlconf`).
pub(crate) const ATTRIBUTE: &str = "urlconf";

/// One URLconf: its resolver and its error views.
pub(crate) struct UrlConf {
    pub(crate) router: Router,
    pub(crate) error_views: ErrorViews,
}

/// Every URLconf of a pipeline; a cheap clone.
#[derive(Clone)]
pub(crate) struct UrlConfs {
    root: Arc<UrlConf>,
    named: Arc<HashMap<String, UrlConf>>,
}

impl UrlConfs {
    pub(crate) fn new(config: &Config) -> Self {
        let named = config
            .urlconfs
            .iter()
            .map(|(name, u)| {
                let urlconf = UrlConf {
                    router: u.router.clone(),
                    error_views: u.error_views.clone(),
                };
                (name.clone(), urlconf)
            })
            .collect();
        UrlConfs {
            root: Arc::new(UrlConf {
                router: config.router.clone(),
                error_views: config.error_views.clone(),
            }),
            named: Arc::new(named),
        }
    }

    /// The URLconf `name` (the root one for `None`); `None` when no
    /// URLconf has that name.
    pub(crate) fn get(&self, name: Option<&str>) -> Option<&UrlConf> {
        match name {
            None => Some(&self.root),
            Some(name) => self.named.get(name),
        }
    }

    /// The resolver `reverse()` uses for a request resolved with `name`.
    pub(crate) fn router(&self, name: Option<&str>) -> &Router {
        &self.get(name).unwrap_or(&self.root).router
    }

    /// Every resolver, the root one first.
    pub(crate) fn routers(&self) -> impl Iterator<Item = &Router> {
        std::iter::once(&self.root.router).chain(self.named.values().map(|u| &u.router))
    }
}
