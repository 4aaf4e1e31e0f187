//! `[[routes]]`: Django's urlpatterns. Each route names a view defined in
//! the same file or includes more routes; the router then compiles the
//! patterns, and its errors are mapped back to where each pattern was
//! written.

use std::collections::BTreeMap;

use toml::Spanned;

use crate::router::{Pattern, RouteDef, Router, Target};

use super::locate::{Source, Span};
use super::schema::RawRoute;
use super::{ComponentSpec, ConfigError};

/// Where each route's pattern was written, for the router's errors.
type PatternSpans = Vec<(String, Span)>;

/// The routes, in resolution order, and the resolver compiled from them.
pub(super) fn compile(
    src: &Source<'_>,
    views: &BTreeMap<String, ComponentSpec>,
    field: &str,
    raw: Vec<Spanned<RawRoute>>,
) -> Result<(Vec<RouteDef>, Router), ConfigError> {
    let mut spans = Vec::new();
    let routes = routes(src, views, &mut spans, field, raw)?;
    let router = Router::new(routes.clone()).map_err(|e| {
        let (field, span) = spans
            .iter()
            .find(|(field, _)| {
                field.strip_suffix(".path").or(field.strip_suffix(".regex")) == Some(e.at())
            })
            .cloned()
            .unwrap_or_else(|| (e.at().to_owned(), 0..0));
        src.error(span, &field, e.detail())
    })?;
    Ok((routes, router))
}

/// The list `field` (`routes`, `routes[2].include`).
fn routes(
    src: &Source<'_>,
    views: &BTreeMap<String, ComponentSpec>,
    spans: &mut PatternSpans,
    field: &str,
    raw: Vec<Spanned<RawRoute>>,
) -> Result<Vec<RouteDef>, ConfigError> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, route) in raw.into_iter().enumerate() {
        let field = format!("{field}[{i}]");
        out.push(route_def(src, views, spans, &field, route)?);
    }
    Ok(out)
}

/// One route: a `path` or a `regex`, and a `view` or an `include`.
fn route_def(
    src: &Source<'_>,
    views: &BTreeMap<String, ComponentSpec>,
    spans: &mut PatternSpans,
    field: &str,
    route: Spanned<RawRoute>,
) -> Result<RouteDef, ConfigError> {
    let span = route.span();
    let route = route.into_inner();
    let err = |msg: &str| src.error(span.clone(), field, msg.to_owned());
    let pattern = match (route.path, route.regex) {
        (Some(p), None) => {
            spans.push((format!("{field}.path"), p.span()));
            Pattern::Path(p.into_inner())
        }
        (None, Some(r)) => {
            spans.push((format!("{field}.regex"), r.span()));
            Pattern::Regex(r.into_inner())
        }
        (Some(_), Some(_)) => return Err(err("a route has either `path` or `regex`, not both")),
        (None, None) => {
            return Err(err(
                "a route needs `path` (like Django's path()) or `regex` (like re_path())",
            ));
        }
    };
    let target = match (route.view, route.include) {
        (Some(view), None) => {
            if route.namespace.is_some() {
                return Err(err("`namespace` belongs to a route with `include`"));
            }
            if !views.contains_key(view.get_ref()) {
                let known: Vec<&str> = views.keys().map(String::as_str).collect();
                return Err(src.error(
                    view.span(),
                    &format!("{field}.view"),
                    format!(
                        "unknown view {:?} (defined views: {})",
                        view.get_ref(),
                        known.join(", ")
                    ),
                ));
            }
            Target::View(view.into_inner())
        }
        (None, Some(include)) => Target::Include {
            namespace: route.namespace,
            routes: routes(src, views, spans, &format!("{field}.include"), include)?,
        },
        (Some(_), Some(_)) => return Err(err("a route has either `view` or `include`, not both")),
        (None, None) => return Err(err("a route needs `view` or `include`")),
    };
    Ok(RouteDef {
        pattern,
        name: route.name,
        target,
    })
}
