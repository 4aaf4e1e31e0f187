//! Django's URL resolver (`django/urls/resolvers.py`), reproduced so that a
//! route table written for Django resolves the same paths to the same views
//! with the same captured arguments.
//!
//! The table is compiled once by [`Router::new`]; every mistake Django would
//! only report when the first request arrives (or as a `check` warning) is
//! reported there instead, so a bad config never reaches traffic.

mod decode;
mod error;
mod normalize;
mod pattern;
mod pyfmt;
mod reverse;
mod route;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use decode::decode_path;
pub use error::RouteError;
pub use reverse::ReverseError;

use pattern::{CompiledPattern, PatternMatch};

/// One entry of the route table, as the config file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDef {
    /// How this entry matches the path.
    pub pattern: Pattern,
    /// Django's `name=`; ignored on includes, as Django ignores it there.
    pub name: Option<String>,
    /// What a match leads to.
    pub target: Target,
}

/// The two ways Django spells a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// `path("items/<int:id>/")`: literal text with `<converter:name>` parameters.
    Path(String),
    /// `re_path(r"^items/(?P<id>[0-9]+)/$")`: a Python-style regular expression.
    Regex(String),
}

/// What a route leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An endpoint: the name of the view that handles it.
    View(String),
    /// `include(...)`: the pattern is a prefix and `routes` resolve the rest.
    Include {
        /// `include(..., namespace=)`; prefixes the names of every route below.
        namespace: Option<String>,
        /// The included route table.
        routes: Vec<RouteDef>,
    },
}

/// The outcome of a successful resolution, as Django's `ResolverMatch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverMatch {
    /// The view that handles the path.
    pub view: String,
    /// The route's name with its namespaces joined by ':' (`"api:item-detail"`),
    /// or `None` when the endpoint has no name.
    pub route_name: Option<String>,
    /// Positional arguments: only regex routes whose groups are all unnamed
    /// produce them. A group that did not take part in the match, which
    /// Django passes as `None`, is given as an empty string.
    pub args: Vec<String>,
    /// Keyword arguments in pattern order, outer includes first; `int`
    /// values are in canonical decimal form.
    pub kwargs: Vec<(String, String)>,
    /// The full pattern text that matched, prefixes included (Django's `route`).
    pub route: String,
}

/// One endpoint of the table, for a `show_urls`-like listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointInfo {
    /// The full pattern, include prefixes joined as Django joins them.
    pub pattern: String,
    /// The view's name.
    pub view: String,
    /// The namespaced route name (`"api:item"`), if the endpoint has one.
    pub name: Option<String>,
}

/// A compiled route table; cloning shares it.
#[derive(Debug, Clone)]
pub struct Router {
    nodes: Arc<[Node]>,
    /// The named routes, for `reverse()`.
    names: Arc<reverse::Namespace>,
}

#[derive(Debug)]
struct Node {
    pattern: CompiledPattern,
    kind: NodeKind,
}

#[derive(Debug)]
enum NodeKind {
    Endpoint {
        view: String,
        name: Option<String>,
    },
    Include {
        namespace: Option<String>,
        children: Vec<Node>,
    },
}

/// A match below the root, before namespaces are joined: kept borrowed so
/// failed branches cost no allocation beyond their captures.
struct Partial<'a> {
    view: &'a str,
    url_name: Option<&'a str>,
    namespaces: Vec<&'a str>,
    args: Vec<String>,
    kwargs: Vec<(String, String)>,
    route: String,
}

impl Router {
    /// Compiles every pattern; the error says which route (by its position
    /// path, e.g. `routes[1].include[0]`) and why, with Django's wording
    /// where Django has one (e.g. `URL route 'items/<foo:x>/' uses invalid
    /// converter 'foo'.`).
    pub fn new(routes: Vec<RouteDef>) -> Result<Router, RouteError> {
        let nodes = compile(routes, None)?;
        Ok(Router {
            names: Arc::new(reverse::build(&nodes)),
            nodes: nodes.into(),
        })
    }

    /// Resolves a raw request path (as received: starts with '/', may
    /// contain %XX escapes; no query string).
    pub fn resolve(&self, raw_path: &str) -> Option<ResolverMatch> {
        let path_info = decode::path_info(raw_path);
        // Django's root resolver is `re_path(r"^/", ...)`: the path must
        // start with '/', and only the part after it is matched.
        let rest = path_info.strip_prefix('/')?;
        let partial = resolve_children(&self.nodes, rest, PatternMatch::default(), None, "")?;
        let route_name = partial.url_name.map(|name| {
            let mut parts: Vec<&str> = partial.namespaces.clone();
            parts.push(name);
            parts.join(":")
        });
        Some(ResolverMatch {
            view: partial.view.to_owned(),
            route_name,
            args: partial.args,
            kwargs: partial.kwargs,
            route: partial.route,
        })
    }

    /// Django's `reverse()`: the path of the route named `name` (with its
    /// namespaces, `"api:item"`) for these arguments, percent-encoded,
    /// with the leading '/'. Positional `args` or `kwargs`, not both.
    pub fn reverse(
        &self,
        name: &str,
        args: &[String],
        kwargs: &[(String, String)],
    ) -> Result<String, ReverseError> {
        self.names.reverse(name, args, kwargs)
    }

    /// Every endpoint for a `show_urls`-like listing, in resolution order.
    pub fn endpoints(&self) -> Vec<EndpointInfo> {
        let mut out = Vec::new();
        collect_endpoints(&self.nodes, "", &[], &mut out);
        out
    }
}

fn compile(defs: Vec<RouteDef>, parent: Option<&str>) -> Result<Vec<Node>, RouteError> {
    defs.into_iter()
        .enumerate()
        .map(|(i, def)| {
            let at = match parent {
                None => format!("routes[{i}]"),
                Some(parent) => format!("{parent}.include[{i}]"),
            };
            let (kind, name) = match def.target {
                Target::View(view) => {
                    let name = def.name;
                    (
                        NodeKind::Endpoint {
                            view,
                            name: name.clone(),
                        },
                        name,
                    )
                }
                Target::Include { namespace, routes } => (
                    NodeKind::Include {
                        namespace,
                        children: compile(routes, Some(&at))?,
                    },
                    None,
                ),
            };
            let is_endpoint = matches!(kind, NodeKind::Endpoint { .. });
            let pattern = CompiledPattern::new(def.pattern, name.as_deref(), is_endpoint, &at)?;
            Ok(Node { pattern, kind })
        })
        .collect()
}

/// `URLResolver.resolve` after its own pattern matched: `prefix` is what that
/// pattern captured, `rest` what is left of the path for `children`.
fn resolve_children<'a>(
    children: &'a [Node],
    rest: &str,
    prefix: PatternMatch,
    namespace: Option<&'a str>,
    own_route: &str,
) -> Option<Partial<'a>> {
    let sub = children
        .iter()
        .find_map(|child| resolve_node(child, rest))?;
    let mut kwargs = prefix.kwargs;
    merge_kwargs(&mut kwargs, sub.kwargs);
    // Django: "If there are *any* named groups, ignore all non-named groups."
    // The test is on the merged kwargs, so an include's named groups also
    // drop its own positional ones, but never the endpoint's.
    let args = if kwargs.is_empty() {
        let mut args = prefix.args;
        args.extend(sub.args);
        args
    } else {
        sub.args
    };
    let mut namespaces = Vec::with_capacity(sub.namespaces.len() + 1);
    // Django's ResolverMatch drops empty namespaces as well as missing ones.
    namespaces.extend(namespace.filter(|ns| !ns.is_empty()));
    namespaces.extend(sub.namespaces);
    Some(Partial {
        view: sub.view,
        url_name: sub.url_name,
        namespaces,
        args,
        kwargs,
        route: join_route(own_route, &sub.route),
    })
}

fn resolve_node<'a>(node: &'a Node, path: &str) -> Option<Partial<'a>> {
    let matched = node.pattern.matches(path)?;
    match &node.kind {
        NodeKind::Endpoint { view, name } => Some(Partial {
            view,
            url_name: name.as_deref(),
            namespaces: Vec::new(),
            args: matched.args,
            kwargs: matched.kwargs,
            route: node.pattern.text().to_owned(),
        }),
        NodeKind::Include {
            namespace,
            children,
        } => {
            let rest = &path[matched.end..];
            resolve_children(
                children,
                rest,
                matched,
                namespace.as_deref(),
                node.pattern.text(),
            )
        }
    }
}

/// Python's `dict.update`: a key seen again keeps its first position but
/// takes the later value.
fn merge_kwargs(into: &mut Vec<(String, String)>, from: Vec<(String, String)>) {
    for (key, value) in from {
        match into.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => into.push((key, value)),
        }
    }
}

/// Django's `URLResolver._join_route`: the inner route loses its leading '^'
/// only when there is an outer route to attach it to.
fn join_route(outer: &str, inner: &str) -> String {
    if outer.is_empty() {
        return inner.to_owned();
    }
    let inner = inner.strip_prefix('^').unwrap_or(inner);
    format!("{outer}{inner}")
}

fn collect_endpoints(
    nodes: &[Node],
    prefix: &str,
    namespaces: &[&str],
    out: &mut Vec<EndpointInfo>,
) {
    for node in nodes {
        let route = join_route(prefix, node.pattern.text());
        match &node.kind {
            NodeKind::Endpoint { view, name } => out.push(EndpointInfo {
                pattern: route,
                view: view.clone(),
                name: name.as_ref().map(|name| {
                    let mut parts = namespaces.to_vec();
                    parts.push(name);
                    parts.join(":")
                }),
            }),
            NodeKind::Include {
                namespace,
                children,
            } => {
                let mut inner = namespaces.to_vec();
                inner.extend(namespace.as_deref().filter(|ns| !ns.is_empty()));
                collect_endpoints(children, &route, &inner, out);
            }
        }
    }
}

/// The listing `shallot routes` prints, like django-extensions' `show_urls`:
/// one endpoint per line, `/pattern  view  name`, in resolution order.
pub fn show_urls(router: &Router) -> String {
    let endpoints = router.endpoints();
    let rows: Vec<(String, &str, &str)> = endpoints
        .iter()
        .map(|e| {
            (
                format!("/{}", e.pattern),
                e.view.as_str(),
                e.name.as_deref().unwrap_or(""),
            )
        })
        .collect();
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let view_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (pattern, view, name) in rows {
        out.push_str(format!("{pattern:<width$}  {view:<view_width$}  {name}").trim_end());
        out.push('\n');
    }
    out
}
