//! Percent-decoding of the raw path, and resolution on the decoded path.

use super::*;

#[test]
fn decode_path_unquotes_every_escape() {
    assert_eq!(decode_path("/items/%34%32/"), "/items/42/");
    assert_eq!(decode_path("/a%2Fb/"), "/a/b/");
    assert_eq!(decode_path("/caf%C3%A9"), "/café");
    assert_eq!(decode_path("/caf%c3%a9"), "/café");
    assert_eq!(decode_path("/a%20b+c"), "/a b+c");
    assert_eq!(decode_path("/%25"), "/%");
}

#[test]
fn decode_path_leaves_malformed_escapes_literal() {
    assert_eq!(decode_path("/%zz/"), "/%zz/");
    assert_eq!(decode_path("/%4"), "/%4");
    assert_eq!(decode_path("/%"), "/%");
    assert_eq!(decode_path("/%%41"), "/%A");
}

#[test]
fn decode_path_repercents_broken_utf8() {
    assert_eq!(decode_path("/%FF"), "/%FF");
    assert_eq!(decode_path("/%ff"), "/%FF");
    // A truncated sequence, then one cut short by the end of the path.
    assert_eq!(decode_path("/%E2%82x/%E2%82"), "/%E2%82x/%E2%82");
    // Valid text on both sides of the broken byte is kept decoded.
    assert_eq!(decode_path("/%C3%A9%FF%C3%A9"), "/é%FFé");
    // A UTF-16 surrogate encoded in UTF-8 is not valid UTF-8.
    assert_eq!(decode_path("/%ED%A0%80"), "/%ED%A0%80");
}

#[test]
fn decode_path_keeps_raw_non_ascii() {
    assert_eq!(decode_path("/café/%C3%A9"), "/café/é");
}

#[test]
fn decode_path_of_empty_is_root() {
    assert_eq!(decode_path(""), "/");
    assert_eq!(decode_path("/"), "/");
}

#[test]
fn percent_encoded_digits_resolve() {
    let r = router(vec![path("items/<int:id>/", "item")]);
    assert_eq!(hit(&r, "/items/%34%32/").1, kw(&[("id", "42")]));
    assert_eq!(hit(&r, "/%69tems/42/").1, kw(&[("id", "42")]));
}

#[test]
fn encoded_slash_splits_segments() {
    let r = router(vec![path("s/<str:s>/", "str"), path("p/<path:p>/", "path")]);
    assert!(r.resolve("/s/a%2Fb/").is_none());
    assert_eq!(
        hit(&r, "/p/a%2Fb/"),
        ("path".to_owned(), kw(&[("p", "a/b")]))
    );
    assert_eq!(hit(&r, "/p/x%2fy/").1, kw(&[("p", "x/y")]));
}

#[test]
fn broken_utf8_reaches_the_view_repercented() {
    let r = router(vec![path("s/<str:s>/", "str")]);
    assert_eq!(hit(&r, "/s/%FF/").1, kw(&[("s", "%FF")]));
    assert_eq!(hit(&r, "/s/%E2%82/").1, kw(&[("s", "%E2%82")]));
    assert_eq!(hit(&r, "/s/%zz/").1, kw(&[("s", "%zz")]));
    assert_eq!(hit(&r, "/s/a%0Ab/").1, kw(&[("s", "a\nb")]));
}
