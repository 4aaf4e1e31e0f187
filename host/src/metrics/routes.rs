//! Each route's label and duration histogram, resolved when its pipeline
//! loads: a request then looks up only its status's counter.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use prometheus_client::metrics::histogram::Histogram;

use super::{Metrics, RouteLabel};

/// The route label of answers no route gave: 404s, static files,
/// health checks, refused requests.
const NO_ROUTE: &str = "none";

/// One pipeline's routes, each with its label and duration histogram
/// resolved at load.
pub(crate) struct Routes {
    by_name: HashMap<String, Route>,
    none: Route,
}

/// A route's label: Django's `ResolverMatch.view_name`, the route's
/// (namespaced) name, else its view's name.
pub(crate) struct Route {
    pub(super) label: Arc<str>,
    pub(super) duration: Histogram,
}

impl Route {
    /// Its label: the route's name with its namespaces, else its view's.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }
}

impl Routes {
    /// The routes labelled `names` (every URLconf's).
    pub(crate) fn new(metrics: &Metrics, names: impl Iterator<Item = String>) -> Routes {
        let route = |name: &str| {
            let label: Arc<str> = name.into();
            let duration = metrics.request_duration.get_or_create_owned(&RouteLabel {
                route: label.clone(),
            });
            Route { label, duration }
        };
        let mut by_name = HashMap::new();
        for name in names {
            if let Entry::Vacant(entry) = by_name.entry(name) {
                let resolved = route(entry.key());
                entry.insert(resolved);
            }
        }
        Routes {
            by_name,
            none: route(NO_ROUTE),
        }
    }

    /// The route labelled `name`, if the URLconfs have it.
    pub(crate) fn get(&self, name: &str) -> Option<&Route> {
        self.by_name.get(name)
    }

    /// The label of answers no route gave.
    pub(crate) fn none(&self) -> &Route {
        &self.none
    }
}
