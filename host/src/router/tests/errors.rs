//! Every `RouteError`, with its exact message.

use super::*;

fn error_of(routes: Vec<RouteDef>) -> RouteError {
    Router::new(routes).expect_err("route table is rejected")
}

fn message(route: &str) -> String {
    error_of(vec![path("ok/", "ok"), path(route, "v")]).to_string()
}

#[test]
fn invalid_converter() {
    let err = error_of(vec![path("items/<foo:x>/", "v")]);
    assert_eq!(
        err,
        RouteError::InvalidConverter {
            at: "routes[0]".to_owned(),
            route: "items/<foo:x>/".to_owned(),
            converter: "foo".to_owned(),
        }
    );
    assert_eq!(
        err.to_string(),
        "routes[0]: URL route 'items/<foo:x>/' uses invalid converter 'foo'."
    );
}

#[test]
fn messages_quote_like_python_repr() {
    assert_eq!(
        message("it's/<foo:x>/"),
        "routes[1]: URL route \"it's/<foo:x>/\" uses invalid converter 'foo'."
    );
    assert_eq!(
        message(r"a\b/<foo:x>"),
        r"routes[1]: URL route 'a\\b/<foo:x>' uses invalid converter 'foo'."
    );
    assert_eq!(
        message("\u{a0}/<int:x\u{1}>"),
        r"routes[1]: URL route '\xa0/<int:x\x01>' uses parameter name 'x\x01' which isn't a valid Python identifier."
    );
}

#[test]
fn invalid_parameter_name() {
    assert_eq!(
        message("items/<int:1x>/"),
        "routes[1]: URL route 'items/<int:1x>/' uses parameter name '1x' which isn't a valid Python identifier."
    );
    assert_eq!(
        message("<a:b:c>"),
        "routes[1]: URL route '<a:b:c>' uses parameter name 'b:c' which isn't a valid Python identifier."
    );
    assert_eq!(
        message("<:x>"),
        "routes[1]: URL route '<:x>' uses parameter name ':x' which isn't a valid Python identifier."
    );
    assert_eq!(
        message("<int:a-b>"),
        "routes[1]: URL route '<int:a-b>' uses parameter name 'a-b' which isn't a valid Python identifier."
    );
}

#[test]
fn unicode_identifiers_are_valid_parameter_names() {
    let r = router(vec![path("<int:café>/<str:_名前>/", "v")]);
    assert_eq!(hit(&r, "/1/x/").1, kw(&[("café", "1"), ("_名前", "x")]));
}

#[test]
fn whitespace_in_angle_brackets() {
    let expected =
        "routes[1]: URL route 'items/<int: x>/' cannot contain whitespace in angle brackets <…>.";
    assert_eq!(message("items/<int: x>/"), expected);
    assert!(matches!(
        error_of(vec![path("<x\ty>", "v")]),
        RouteError::WhitespaceInAngleBrackets { .. }
    ));
    // Outside angle brackets Django allows it.
    let r = router(vec![path("a b/<int:n>/", "v")]);
    assert!(r.resolve("/a%20b/1/").is_some());
}

#[test]
fn first_bad_parameter_is_reported() {
    assert_eq!(
        message("<foo:a>/<int:1b>"),
        "routes[1]: URL route '<foo:a>/<int:1b>' uses invalid converter 'foo'."
    );
}

#[test]
fn duplicate_parameter() {
    assert_eq!(
        message("<int:x>/<str:x>/"),
        "routes[1]: URL route '<int:x>/<str:x>/' uses parameter name 'x' more than once."
    );
}

#[test]
fn unmatched_brackets() {
    let err = error_of(vec![named(path("items/<int:x/", "v"), "nm")]);
    assert_eq!(
        err.to_string(),
        "routes[0]: Your URL pattern 'items/<int:x/' [name='nm'] has an unmatched '<' bracket."
    );
    assert_eq!(
        message("items/x>/"),
        "routes[1]: Your URL pattern 'items/x>/' has an unmatched '>' bracket."
    );
    assert_eq!(
        message("a>b<c"),
        "routes[1]: Your URL pattern 'a>b<c' has an unmatched '>' bracket."
    );
    assert_eq!(
        message("<int:x>>"),
        "routes[1]: Your URL pattern '<int:x>>' has an unmatched '>' bracket."
    );
}

#[test]
fn unmatched_bracket_on_include_has_no_name() {
    let mut def = include(Pattern::Path("a<".to_owned()), None, vec![]);
    def.name = Some("ignored".to_owned());
    assert_eq!(
        error_of(vec![def]).to_string(),
        "routes[0]: Your URL pattern 'a<' has an unmatched '<' bracket."
    );
}

#[test]
fn invalid_regex() {
    let err = error_of(vec![re_path("^(abc$", "v")]);
    let RouteError::InvalidRegex { at, regex, reason } = &err else {
        panic!("expected InvalidRegex, got {err:?}");
    };
    assert_eq!((at.as_str(), regex.as_str()), ("routes[0]", "^(abc$"));
    assert_eq!(reason, "unclosed group");
    assert_eq!(
        err.to_string(),
        "routes[0]: \"^(abc$\" is not a valid regular expression: unclosed group"
    );
}

#[test]
fn python_only_regex_syntax_is_rejected() {
    let err = error_of(vec![re_path(r"^(?=a)a/$", "v")]);
    assert_eq!(
        err.to_string(),
        "routes[0]: \"^(?=a)a/$\" is not a valid regular expression: look-around, including look-ahead and look-behind, is not supported"
    );
}

#[test]
fn position_path_names_nested_routes() {
    let err = error_of(vec![
        path("ok/", "ok"),
        include(
            Pattern::Path("api/".to_owned()),
            Some("api"),
            vec![
                path("fine/", "fine"),
                include(
                    Pattern::Regex("^deep/".to_owned()),
                    None,
                    vec![path("items/<foo:x>/", "v")],
                ),
            ],
        ),
    ]);
    assert_eq!(
        err.to_string(),
        "routes[1].include[1].include[0]: URL route 'items/<foo:x>/' uses invalid converter 'foo'."
    );
}

#[test]
fn bad_include_pattern_is_located_at_the_include() {
    let err = error_of(vec![include(Pattern::Regex("(".to_owned()), None, vec![])]);
    assert!(matches!(err, RouteError::InvalidRegex { ref at, .. } if at == "routes[0]"));
}
