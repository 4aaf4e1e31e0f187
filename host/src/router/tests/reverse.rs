//! `reverse()`, each expected value what Django 5.2's `reverse()` returns
//! (or the `NoReverseMatch` it raises) for the same table and arguments.

use super::*;
use crate::router::ReverseError;

fn table() -> Router {
    let api = vec![
        named(path("items/<int:item_id>/", "v"), "item-detail"),
        include(
            Pattern::Path("users/<slug:user>/".to_owned()),
            Some("users"),
            vec![named(path("posts/<int:post>/", "v"), "post")],
        ),
    ];
    let plain = vec![
        named(path("about/", "v"), "about"),
        include(
            Pattern::Path("teams/".to_owned()),
            Some("teams"),
            vec![named(path("<str:team>/", "v"), "team")],
        ),
    ];
    router(vec![
        named(path("", "v"), "home"),
        named(path("items/<int:pk>/", "v"), "item"),
        named(path("files/<path:rest>", "v"), "file"),
        named(path("u/<uuid:id>/", "v"), "uuid"),
        named(path("s/<slug:s>/", "v"), "slug"),
        named(path("dup/<int:a>/", "v"), "dup"),
        named(path("dup/<str:a>/x/", "v"), "dup"),
        named(path("my-items/<str:name>/", "v"), "quoted"),
        named(re_path(r"^archive/(\d{4})/(\d{2})/$", "v"), "archive"),
        named(
            re_path(r"^re/(?P<year>[0-9]{4})/(?:page-(?P<page>[0-9]+)/)?$", "v"),
            "optional",
        ),
        named(re_path(r"^alt/(?:a|b)/$", "v"), "alt"),
        include(Pattern::Path("api/".to_owned()), Some("api"), api),
        include(Pattern::Path("site/".to_owned()), None, plain),
    ])
}

fn args(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn rev(name: &str, a: &[&str], k: &[(&str, &str)]) -> String {
    match table().reverse(name, &args(a), &kw(k)) {
        Ok(url) => url,
        Err(e) => format!("NoReverseMatch: {e}"),
    }
}

#[test]
fn every_converter_reverses_and_is_checked() {
    assert_eq!(rev("home", &[], &[]), "/");
    assert_eq!(rev("item", &[], &[("pk", "42")]), "/items/42/");
    assert_eq!(rev("item", &["42"], &[]), "/items/42/");
    assert_eq!(rev("item", &[], &[("pk", "007")]), "/items/007/");
    assert_eq!(
        rev("item", &["x"], &[]),
        r"NoReverseMatch: Reverse for 'item' with arguments '('x',)' not found. 1 pattern(s) tried: ['items/(?P<pk>[0-9]+)/\\Z']"
    );
    assert_eq!(
        rev("file", &[], &[("rest", "a/b c/ü.txt")]),
        "/files/a/b%20c/%C3%BC.txt"
    );
    assert_eq!(
        rev("file", &[], &[("rest", "/etc/passwd")]),
        "/files//etc/passwd"
    );
    assert_eq!(
        rev(
            "uuid",
            &[],
            &[("id", "12345678-1234-5678-1234-567812345678")]
        ),
        "/u/12345678-1234-5678-1234-567812345678/"
    );
    assert_eq!(
        rev("uuid", &[], &[("id", "nope")]),
        r"NoReverseMatch: Reverse for 'uuid' with keyword arguments '{'id': 'nope'}' not found. 1 pattern(s) tried: ['u/(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/\\Z']"
    );
    assert_eq!(
        rev("slug", &[], &[("s", "a b")]),
        r"NoReverseMatch: Reverse for 'slug' with keyword arguments '{'s': 'a b'}' not found. 1 pattern(s) tried: ['s/(?P<s>[-a-zA-Z0-9_]+)/\\Z']"
    );
    assert_eq!(
        rev("quoted", &[], &[("name", "a?b#c%d")]),
        "/my-items/a%3Fb%23c%25d/"
    );
}

#[test]
fn of_two_routes_with_one_name_the_last_defined_is_tried_first() {
    assert_eq!(rev("dup", &["7"], &[]), "/dup/7/x/");
    assert_eq!(rev("dup", &["x"], &[]), "/dup/x/x/");
}

#[test]
fn regex_routes_reverse_through_their_normalized_forms() {
    assert_eq!(rev("archive", &["2026", "12"], &[]), "/archive/2026/12/");
    assert_eq!(
        rev("archive", &[], &[]),
        r"NoReverseMatch: Reverse for 'archive' with no arguments not found. 1 pattern(s) tried: ['archive/(\\d{4})/(\\d{2})/$']"
    );
    assert_eq!(rev("optional", &[], &[("year", "2026")]), "/re/2026/");
    assert_eq!(
        rev("optional", &[], &[("year", "2026"), ("page", "3")]),
        "/re/2026/page-3/"
    );
    assert_eq!(rev("optional", &["2026"], &[]), "/re/2026/");
    assert_eq!(
        rev("alt", &[], &[]),
        r"NoReverseMatch: Reverse for 'alt' with no arguments not found. 1 pattern(s) tried: ['alt/(?:a|b)/$']"
    );
}

#[test]
fn namespaces_nest_and_plain_includes_pass_names_up() {
    assert_eq!(
        rev("api:item-detail", &[], &[("item_id", "5")]),
        "/api/items/5/"
    );
    assert_eq!(
        rev("api:users:post", &[], &[("user", "ann"), ("post", "9")]),
        "/api/users/ann/posts/9/"
    );
    assert_eq!(
        rev("api:nope:post", &[], &[]),
        "NoReverseMatch: 'nope' is not a registered namespace inside 'api'"
    );
    assert_eq!(
        rev("nope:item", &[], &[]),
        "NoReverseMatch: 'nope' is not a registered namespace"
    );
    assert_eq!(
        rev("item-detail", &[], &[("item_id", "5")]),
        "NoReverseMatch: Reverse for 'item-detail' not found. 'item-detail' is not a valid view function or pattern name."
    );
    assert_eq!(rev("about", &[], &[]), "/site/about/");
    assert_eq!(rev("teams:team", &["red"], &[]), "/site/teams/red/");
}

#[test]
fn wrong_arguments_are_no_reverse_match() {
    assert_eq!(
        rev("missing", &[], &[]),
        "NoReverseMatch: Reverse for 'missing' not found. 'missing' is not a valid view function or pattern name."
    );
    assert_eq!(
        rev("item", &[], &[("pk", "1"), ("extra", "2")]),
        r"NoReverseMatch: Reverse for 'item' with keyword arguments '{'pk': '1', 'extra': '2'}' not found. 1 pattern(s) tried: ['items/(?P<pk>[0-9]+)/\\Z']"
    );
    assert_eq!(
        table().reverse("item", &args(&["1"]), &kw(&[("pk", "1")])),
        Err(ReverseError::MixedArguments)
    );
    assert_eq!(
        ReverseError::MixedArguments.to_string(),
        "Don't mix *args and **kwargs in call to reverse()!"
    );
}

#[test]
fn a_reversed_path_resolves_back_to_its_route() {
    let r = table();
    for (name, a, k) in [
        ("item", vec![], kw(&[("pk", "42")])),
        ("file", vec![], kw(&[("rest", "a/b c/ü.txt")])),
        (
            "api:users:post",
            vec![],
            kw(&[("user", "ann"), ("post", "9")]),
        ),
        ("archive", args(&["2026", "12"]), vec![]),
    ] {
        let url = r.reverse(name, &a, &k).unwrap();
        let m = r.resolve(&url).unwrap_or_else(|| panic!("{url} resolves"));
        assert_eq!(m.route_name.as_deref(), Some(name), "{url}");
        assert_eq!((m.args, m.kwargs), (a, k), "{url}");
    }
}
