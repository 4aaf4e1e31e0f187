//! Expected values were checked against Django 5.2 / 6.1 resolving the same
//! tables.

mod decode;
mod errors;
mod include;
mod regex_routes;
mod reverse;

use super::*;

fn path(route: &str, view: &str) -> RouteDef {
    RouteDef {
        pattern: Pattern::Path(route.to_owned()),
        name: None,
        target: Target::View(view.to_owned()),
    }
}

fn re_path(regex: &str, view: &str) -> RouteDef {
    RouteDef {
        pattern: Pattern::Regex(regex.to_owned()),
        name: None,
        target: Target::View(view.to_owned()),
    }
}

fn named(mut def: RouteDef, name: &str) -> RouteDef {
    def.name = Some(name.to_owned());
    def
}

fn include(pattern: Pattern, namespace: Option<&str>, routes: Vec<RouteDef>) -> RouteDef {
    RouteDef {
        pattern,
        name: None,
        target: Target::Include {
            namespace: namespace.map(str::to_owned),
            routes,
        },
    }
}

fn router(routes: Vec<RouteDef>) -> Router {
    Router::new(routes).expect("route table compiles")
}

fn kw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Resolves and returns (view, kwargs), failing the test on no match.
fn hit(router: &Router, raw: &str) -> (String, Vec<(String, String)>) {
    let m = router
        .resolve(raw)
        .unwrap_or_else(|| panic!("{raw} should resolve"));
    (m.view, m.kwargs)
}

fn one(route: &str) -> Router {
    router(vec![path(route, "v")])
}

#[test]
fn int_converter_matches_digits_only() {
    let r = one("items/<int:id>/");
    assert_eq!(hit(&r, "/items/42/"), ("v".to_owned(), kw(&[("id", "42")])));
    assert!(r.resolve("/items/-1/").is_none());
    assert!(r.resolve("/items/4a/").is_none());
    assert!(r.resolve("/items//").is_none());
    // Full-width digits are Unicode digits but not [0-9].
    assert!(r.resolve("/items/%EF%BC%91/").is_none());
}

#[test]
fn int_converter_drops_leading_zeros_like_python_int() {
    let r = one("items/<int:id>/");
    assert_eq!(hit(&r, "/items/0042/").1, kw(&[("id", "42")]));
    assert_eq!(hit(&r, "/items/000/").1, kw(&[("id", "0")]));
    assert_eq!(hit(&r, "/items/0/").1, kw(&[("id", "0")]));
}

#[test]
fn int_converter_has_no_size_limit() {
    let r = one("items/<int:id>/");
    let huge = "99999999999999999999999999";
    assert_eq!(hit(&r, &format!("/items/{huge}/")).1, kw(&[("id", huge)]));
    assert_eq!(
        hit(&r, &format!("/items/000{huge}/")).1,
        kw(&[("id", huge)])
    );
}

#[test]
fn str_converter_is_one_segment_and_the_default() {
    for route in ["s/<str:s>/", "s/<s>/"] {
        let r = one(route);
        assert_eq!(hit(&r, "/s/hello%20world/").1, kw(&[("s", "hello world")]));
        assert_eq!(hit(&r, "/s/caf%C3%A9/").1, kw(&[("s", "café")]));
        assert!(r.resolve("/s/a/b/").is_none());
        assert!(r.resolve("/s//").is_none());
    }
}

#[test]
fn slug_converter() {
    let r = one("b/<slug:s>/");
    assert_eq!(hit(&r, "/b/My-post_2/").1, kw(&[("s", "My-post_2")]));
    assert!(r.resolve("/b/my.post/").is_none());
    assert!(r.resolve("/b/caf%C3%A9/").is_none());
    assert!(r.resolve("/b/a%20b/").is_none());
}

#[test]
fn uuid_converter_is_lower_case_only() {
    let r = one("u/<uuid:u>/");
    let id = "123e4567-e89b-12d3-a456-426614174000";
    assert_eq!(hit(&r, &format!("/u/{id}/")).1, kw(&[("u", id)]));
    assert!(
        r.resolve("/u/123E4567-E89B-12D3-A456-426614174000/")
            .is_none()
    );
    assert!(r.resolve("/u/123e4567e89b12d3a456426614174000/").is_none());
    assert!(
        r.resolve("/u/123e4567-e89b-12d3-a456-42661417400/")
            .is_none()
    );
}

#[test]
fn path_converter_spans_slashes() {
    let r = one("p/<path:rest>");
    assert_eq!(hit(&r, "/p/a/b/c").1, kw(&[("rest", "a/b/c")]));
    assert_eq!(hit(&r, "/p/a/b/").1, kw(&[("rest", "a/b/")]));
    assert!(r.resolve("/p/").is_none());
    // '.' does not match a newline, in Python as in the regex crate.
    assert!(r.resolve("/p/a%0Ab").is_none());
}

#[test]
fn several_converters_keep_pattern_order() {
    let r = one("<slug:b>/<int:a>/<path:c>");
    assert_eq!(
        hit(&r, "/x-y/007/d/e").1,
        kw(&[("b", "x-y"), ("a", "7"), ("c", "d/e")])
    );
}

#[test]
fn literal_text_is_escaped() {
    let r = one("a.b+c/(x)/");
    assert!(r.resolve("/a.b+c/(x)/").is_some());
    assert!(r.resolve("/aXb+c/(x)/").is_none());
    let r = one("v1.0/<int:n>/");
    assert_eq!(hit(&r, "/v1.0/3/").1, kw(&[("n", "3")]));
    assert!(r.resolve("/v1x0/3/").is_none());
}

#[test]
fn trailing_slash_must_match_exactly() {
    let r = one("items/<int:item_id>/");
    assert!(r.resolve("/items/42").is_none());
    assert!(r.resolve("/items/42//").is_none());
    let r = one("items/<int:item_id>");
    assert!(r.resolve("/items/42/").is_none());
    assert!(r.resolve("/items/42").is_some());
    let r = one("about/");
    assert!(r.resolve("/about/").is_some());
    assert!(r.resolve("/about").is_none());
    assert!(r.resolve("/about/x").is_none());
}

#[test]
fn empty_route_matches_root_only() {
    let r = router(vec![named(path("", "home"), "home")]);
    let m = r.resolve("/").expect("root resolves");
    assert_eq!(m.view, "home");
    assert_eq!(m.route_name.as_deref(), Some("home"));
    assert_eq!(m.route, "");
    assert!(m.kwargs.is_empty() && m.args.is_empty());
    // An empty request path is "/" to Django.
    assert_eq!(r.resolve("").map(|m| m.view).as_deref(), Some("home"));
    assert!(r.resolve("/x").is_none());
    assert!(r.resolve("//").is_none());
}

#[test]
fn root_strips_exactly_one_slash() {
    let r = one("items/<int:id>/");
    assert!(r.resolve("//items/1/").is_none());
    assert!(r.resolve("items/1/").is_none());
}

#[test]
fn resolver_match_for_a_path_route() {
    let r = router(vec![named(path("items/<int:item_id>/", "item"), "item")]);
    assert_eq!(
        r.resolve("/items/42/"),
        Some(ResolverMatch {
            view: "item".to_owned(),
            route_name: Some("item".to_owned()),
            args: vec![],
            kwargs: kw(&[("item_id", "42")]),
            route: "items/<int:item_id>/".to_owned(),
        })
    );
}

#[test]
fn router_is_cheap_to_share_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Router>();
    let r = one("x/");
    let clone = r.clone();
    let handle = std::thread::spawn(move || clone.resolve("/x/").map(|m| m.view));
    assert_eq!(handle.join().expect("thread").as_deref(), Some("v"));
    assert!(r.resolve("/x/").is_some());
}
