//! Includes, namespaces, kwargs merging, resolution order and the listing.

use super::*;

fn api_table() -> Vec<RouteDef> {
    vec![
        named(path("", "home"), "home"),
        named(path("items/<int:item_id>/", "item"), "item"),
        include(
            Pattern::Path("api/".to_owned()),
            Some("api"),
            vec![
                named(path("items/<int:item_id>/", "api_item"), "item-detail"),
                include(
                    Pattern::Path("users/<slug:user>/".to_owned()),
                    Some("users"),
                    vec![named(path("posts/<int:post>/", "post"), "post")],
                ),
                path("unnamed/", "unnamed"),
            ],
        ),
    ]
}

#[test]
fn include_prefix_passes_the_rest_on() {
    let r = router(api_table());
    assert_eq!(
        r.resolve("/api/items/7/"),
        Some(ResolverMatch {
            view: "api_item".to_owned(),
            route_name: Some("api:item-detail".to_owned()),
            args: vec![],
            kwargs: kw(&[("item_id", "7")]),
            route: "api/items/<int:item_id>/".to_owned(),
        })
    );
    assert!(r.resolve("/api/").is_none());
    assert!(r.resolve("/api").is_none());
}

#[test]
fn nested_namespaces_join_and_kwargs_merge_outer_first() {
    let r = router(api_table());
    assert_eq!(
        r.resolve("/api/users/ann/posts/003/"),
        Some(ResolverMatch {
            view: "post".to_owned(),
            route_name: Some("api:users:post".to_owned()),
            args: vec![],
            kwargs: kw(&[("user", "ann"), ("post", "3")]),
            route: "api/users/<slug:user>/posts/<int:post>/".to_owned(),
        })
    );
}

#[test]
fn unnamed_route_in_namespace_has_no_name() {
    let r = router(api_table());
    let m = r.resolve("/api/unnamed/").expect("resolves");
    assert_eq!(m.view, "unnamed");
    assert_eq!(m.route_name, None);
}

#[test]
fn include_without_namespace_or_with_empty_one_adds_nothing() {
    let r = router(vec![
        include(
            Pattern::Path("a/".to_owned()),
            None,
            vec![named(path("x/", "ax"), "x")],
        ),
        include(
            Pattern::Path("b/".to_owned()),
            Some(""),
            vec![named(path("x/", "bx"), "x")],
        ),
    ]);
    assert_eq!(
        r.resolve("/a/x/").and_then(|m| m.route_name).as_deref(),
        Some("x")
    );
    assert_eq!(
        r.resolve("/b/x/").and_then(|m| m.route_name).as_deref(),
        Some("x")
    );
}

#[test]
fn endpoint_kwarg_overrides_prefix_value_but_keeps_its_place() {
    let r = router(vec![include(
        Pattern::Regex(r"^o/(?P<a>\w+)/(?P<b>\w+)/".to_owned()),
        None,
        vec![re_path(r"^(?P<a>\w+)/$", "over")],
    )]);
    assert_eq!(hit(&r, "/o/1/2/3/").1, kw(&[("a", "3"), ("b", "2")]));
}

#[test]
fn positional_args_concatenate_only_without_kwargs() {
    let pos = || {
        vec![
            re_path(r"^(\d+)/(\d+)/$", "pos"),
            named(re_path(r"^n/(?P<k>\w+)/$", "posnamed"), "pn"),
        ]
    };
    let r = router(vec![
        include(Pattern::Regex(r"^g/(\d+)/".to_owned()), None, pos()),
        include(Pattern::Regex(r"^h/(?P<hk>\w+)/".to_owned()), None, pos()),
    ]);
    let m = r.resolve("/g/1/2/3/").expect("resolves");
    assert_eq!(
        (m.args, m.kwargs),
        (vec!["1".into(), "2".into(), "3".into()], vec![])
    );
    assert_eq!(m.route, r"^g/(\d+)/(\d+)/(\d+)/$");
    let m = r.resolve("/g/1/n/zz/").expect("resolves");
    assert_eq!((m.args, m.kwargs), (vec![], kw(&[("k", "zz")])));
    // The prefix's named group drops its own unnamed ones, not the endpoint's.
    let m = r.resolve("/h/q/2/3/").expect("resolves");
    assert_eq!(
        (m.args, m.kwargs),
        (vec!["2".into(), "3".into()], kw(&[("hk", "q")]))
    );
    let m = r.resolve("/h/q/n/zz/").expect("resolves");
    assert_eq!(m.kwargs, kw(&[("hk", "q"), ("k", "zz")]));
    assert_eq!(m.route_name.as_deref(), Some("pn"));
}

#[test]
fn unanchored_include_regex_searches_and_drops_what_precedes() {
    let r = router(vec![include(
        Pattern::Regex("noanchor/".to_owned()),
        None,
        vec![path("x/", "na")],
    )]);
    let m = r.resolve("/zzznoanchor/x/").expect("search semantics");
    assert_eq!(m.route, "noanchor/x/");
}

#[test]
fn empty_include_prefix() {
    let r = router(vec![include(
        Pattern::Path(String::new()),
        Some("root"),
        vec![named(re_path(r"^x/$", "x"), "x")],
    )]);
    let m = r.resolve("/x/").expect("resolves");
    assert_eq!(m.route, r"^x/$");
    assert_eq!(m.route_name.as_deref(), Some("root:x"));
}

#[test]
fn first_match_wins() {
    let r = router(vec![
        path("a/<int:n>/", "int"),
        path("a/<str:s>/", "str"),
        path("a/<int:n>/", "shadowed"),
    ]);
    assert_eq!(hit(&r, "/a/5/").0, "int");
    assert_eq!(hit(&r, "/a/x/").0, "str");
}

#[test]
fn failed_include_falls_through_to_later_routes() {
    let r = router(vec![
        include(
            Pattern::Path("a/".to_owned()),
            None,
            vec![path("x/", "inner")],
        ),
        path("a/y/", "outer"),
    ]);
    assert_eq!(hit(&r, "/a/x/").0, "inner");
    assert_eq!(hit(&r, "/a/y/").0, "outer");
    assert!(r.resolve("/a/z/").is_none());
}

#[test]
fn include_prefix_with_same_parameter_as_endpoint_path() {
    let r = router(vec![include(
        Pattern::Path("dup/<int:a>/".to_owned()),
        None,
        vec![path("<str:b>/", "dup1")],
    )]);
    assert_eq!(hit(&r, "/dup/05/q/").1, kw(&[("a", "5"), ("b", "q")]));
}

#[test]
fn endpoints_lists_full_patterns_in_resolution_order() {
    let r = router(api_table());
    let list: Vec<(String, String, Option<String>)> = r
        .endpoints()
        .into_iter()
        .map(|e| (e.pattern, e.view, e.name))
        .collect();
    let s = |v: &str| v.to_owned();
    assert_eq!(
        list,
        vec![
            (s(""), s("home"), Some(s("home"))),
            (s("items/<int:item_id>/"), s("item"), Some(s("item"))),
            (
                s("api/items/<int:item_id>/"),
                s("api_item"),
                Some(s("api:item-detail"))
            ),
            (
                s("api/users/<slug:user>/posts/<int:post>/"),
                s("post"),
                Some(s("api:users:post"))
            ),
            (s("api/unnamed/"), s("unnamed"), None),
        ]
    );
}

#[test]
fn endpoints_join_regex_routes_like_resolve() {
    let r = router(vec![include(
        Pattern::Regex("^api/".to_owned()),
        None,
        vec![
            re_path(r"^v/(?P<n>\d+)/$", "v"),
            include(
                Pattern::Path(String::new()),
                None,
                vec![re_path("^w/$", "w")],
            ),
        ],
    )]);
    let patterns: Vec<String> = r.endpoints().into_iter().map(|e| e.pattern).collect();
    assert_eq!(patterns, vec![r"^api/v/(?P<n>\d+)/$", "^api/w/$"]);
    assert_eq!(
        r.resolve("/api/w/").map(|m| m.route).as_deref(),
        Some("^api/w/$")
    );
    assert_eq!(
        r.resolve("/api/v/1/").map(|m| m.route).as_deref(),
        Some(r"^api/v/(?P<n>\d+)/$")
    );
}

#[test]
fn empty_table_resolves_nothing() {
    let r = router(vec![]);
    assert!(r.resolve("/").is_none());
    assert!(r.endpoints().is_empty());
}
