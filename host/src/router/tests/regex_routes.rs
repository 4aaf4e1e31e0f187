//! `re_path` routes: Python regex semantics as Django applies them.

use super::*;

#[test]
fn named_groups_become_raw_kwargs() {
    let r = router(vec![re_path(
        r"^articles/(?P<year>[0-9]{4})/(?P<slug>[\w-]+)/$",
        "article",
    )]);
    let m = r.resolve("/articles/0042/hello-x/").expect("resolves");
    assert_eq!(m.kwargs, kw(&[("year", "0042"), ("slug", "hello-x")]));
    assert!(m.args.is_empty());
    assert_eq!(m.route, r"^articles/(?P<year>[0-9]{4})/(?P<slug>[\w-]+)/$");
    assert!(r.resolve("/articles/42/x/").is_none());
}

#[test]
fn unnamed_groups_become_args() {
    let r = router(vec![re_path(r"^(\d+)/(\d+)/$", "pos")]);
    let m = r.resolve("/1/22/").expect("resolves");
    assert_eq!(m.args, vec!["1", "22"]);
    assert!(m.kwargs.is_empty());
}

#[test]
fn named_groups_hide_unnamed_ones() {
    let r = router(vec![re_path(r"^(\d+)/(?P<k>\w+)/$", "mixed")]);
    let m = r.resolve("/1/z/").expect("resolves");
    assert!(m.args.is_empty());
    assert_eq!(m.kwargs, kw(&[("k", "z")]));
}

#[test]
fn non_participating_named_group_is_dropped() {
    let r = router(vec![re_path(
        r"^re/(?P<year>[0-9]{4})/(?P<m>[0-9]{2})?/?$",
        "re",
    )]);
    assert_eq!(
        hit(&r, "/re/2024/05/").1,
        kw(&[("year", "2024"), ("m", "05")])
    );
    let m = r.resolve("/re/2024//").expect("resolves");
    assert_eq!(m.kwargs, kw(&[("year", "2024")]));
    // The named group exists, so there are still no positional args.
    assert!(m.args.is_empty());
}

#[test]
fn non_participating_unnamed_group_is_an_empty_arg() {
    let r = router(vec![re_path(r"^opt/(a)?b/$", "opt")]);
    assert_eq!(
        r.resolve("/opt/b/").map(|m| m.args),
        Some(vec![String::new()])
    );
    assert_eq!(
        r.resolve("/opt/ab/").map(|m| m.args),
        Some(vec!["a".to_owned()])
    );
}

#[test]
fn dollar_endpoint_uses_fullmatch() {
    // A search would stop at "a"; fullmatch tries the other alternative.
    let r = router(vec![re_path(r"^alt/(?:a|ab)$", "alt")]);
    assert!(r.resolve("/alt/ab").is_some());
    assert!(r.resolve("/alt/a").is_some());
    assert!(r.resolve("/alt/abc").is_none());
    // `\$` also ends with '$', so Django fullmatches it too.
    let r = router(vec![re_path(r"^price/5\$", "price")]);
    assert!(r.resolve("/price/5$").is_some());
    assert!(r.resolve("/price/5$x").is_none());
}

#[test]
fn endpoint_without_dollar_is_a_search() {
    let r = router(vec![re_path(r"^pre", "pre")]);
    let m = r.resolve("/prefix/more").expect("a prefix is enough");
    assert_eq!(m.route, "^pre");
    let r = router(vec![re_path(r"item", "item")]);
    assert!(r.resolve("/my/items").is_some());
    assert!(r.resolve("/my/thing").is_none());
}

#[test]
fn python_end_of_string_anchor_is_translated() {
    let r = router(vec![re_path(r"^x/(?P<n>\d+)\Z", "x")]);
    assert_eq!(hit(&r, "/x/12").1, kw(&[("n", "12")]));
    assert!(r.resolve("/x/12/").is_none());
    // An escaped backslash before Z stays a literal backslash and Z.
    let r = router(vec![re_path(r"^y\\Z$", "y")]);
    assert!(r.resolve("/y%5CZ").is_some());
}

#[test]
fn verbose_flag_with_trailing_comment_still_fullmatches() {
    let r = router(vec![re_path(
        "(?x) ^ v / (?P<n> \\d+ ) $ # trailing comment",
        "v",
    )]);
    // Ends with "comment", not '$': a search.
    assert_eq!(hit(&r, "/v/7").1, kw(&[("n", "7")]));
    let r = router(vec![re_path("(?x) ^ w / (?P<n> \\d+ ) # comment\n$", "w")]);
    assert_eq!(hit(&r, "/w/7").1, kw(&[("n", "7")]));
    assert!(r.resolve("/w/7/").is_none());
}

#[test]
fn case_insensitive_flag() {
    let r = router(vec![re_path(r"(?i)^about/$", "about")]);
    assert!(r.resolve("/ABOUT/").is_some());
}

#[test]
fn unicode_classes_match_like_python() {
    let r = router(vec![re_path(r"^w/(?P<w>\w+)/$", "w")]);
    assert_eq!(hit(&r, "/w/caf%C3%A9/").1, kw(&[("w", "café")]));
}
