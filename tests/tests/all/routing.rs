//! URL resolution through the whole pipeline: what the resolver matched
//! reaches the view (and `process-view`) converted, named and namespaced.
//! The resolver's own edge cases are unit-tested in `host/src/router/tests`.

use shallot_tests::{get, pipeline, run};

const ROUTES: &str = r#"
[views.v]
component = "{probe-view}"

[[routes]]
path = "items/<int:item_id>/"
view = "v"
name = "item"

[[routes]]
regex = "^archive/([0-9]{4})/([0-9]{2})/$"
view = "v"
name = "archive"

[[routes]]
path = "api/"
namespace = "api"

[[routes.include]]
path = "users/<uuid:id>/files/<path:rest>"
view = "v"
name = "file"

[[routes]]
regex = "^posts/(?P<slug>[-a-z]+)/$"
view = "v"
"#;

async fn body(path: &str) -> (u16, String) {
    let out = run(&pipeline(ROUTES).await, get(path)).await;
    (out.response.status().as_u16(), out.body().to_owned())
}

#[tokio::test]
async fn int_converter_value_is_canonical_and_unbounded() {
    let (_, b) = body("/items/0042/").await;
    assert!(
        b.starts_with("view=v route=item args= kwargs=item_id=42 "),
        "{b}"
    );
    let (_, b) = body("/items/99999999999999999999999999/").await;
    assert!(
        b.contains("kwargs=item_id=99999999999999999999999999 "),
        "{b}"
    );
}

#[tokio::test]
async fn regex_groups_without_names_are_positional_args() {
    let (_, b) = body("/archive/2026/11/").await;
    assert!(
        b.starts_with("view=v route=archive args=2026,11 kwargs= "),
        "{b}"
    );
}

#[tokio::test]
async fn include_prefix_namespace_and_path_converter() {
    let (_, b) = body("/api/users/123e4567-e89b-42d3-a456-426614174000/files/a/b.txt").await;
    assert!(
        b.starts_with("view=v route=api:file args= kwargs=id=123e4567-e89b-42d3-a456-426614174000,rest=a/b.txt "),
        "{b}"
    );
}

#[tokio::test]
async fn percent_encoded_paths_are_decoded_before_matching() {
    let (_, b) = body("/items/%34%32/").await;
    assert!(b.contains("kwargs=item_id=42 path=/items/42/ "), "{b}");
}

#[tokio::test]
async fn no_match_is_404() {
    for path in [
        "/items/42",
        "/items/-1/",
        "/archive/26/11/",
        "/api/users/not-a-uuid/files/x",
        "/posts/UPPER/",
    ] {
        assert_eq!(body(path).await.0, 404, "{path}");
    }
}

#[tokio::test]
async fn named_regex_groups_are_kwargs() {
    let (_, b) = body("/posts/hello-world/").await;
    assert!(
        b.starts_with("view=v route=- args= kwargs=slug=hello-world "),
        "{b}"
    );
}

/// The routes above, plus a route to a view that reverses what its query
/// names (`shallot:http/urls`).
async fn reversed(query: &str) -> (u16, String) {
    let toml = format!(
        "{ROUTES}\n[views.rev]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"reverse\" }}\n\
         [[routes]]\npath = \"reverse/\"\nview = \"rev\"\n"
    );
    let out = run(&pipeline(&toml).await, get(&format!("/reverse/?{query}"))).await;
    (out.response.status().as_u16(), out.body().to_owned())
}

#[tokio::test]
async fn a_view_reverses_the_pipelines_routes() {
    assert_eq!(
        reversed("name=item&item_id=42").await,
        (200, "/items/42/".to_owned())
    );
    assert_eq!(
        reversed("name=archive&arg=2026&arg=12").await,
        (200, "/archive/2026/12/".to_owned())
    );
    assert_eq!(
        reversed("name=api:file&id=12345678-1234-5678-1234-567812345678&rest=a/b.txt").await,
        (
            200,
            "/api/users/12345678-1234-5678-1234-567812345678/files/a/b.txt".to_owned()
        )
    );
    // Django: NoReverseMatch escapes the view, so the client gets a 500.
    assert_eq!(reversed("name=item&item_id=x").await.0, 500);
    assert_eq!(reversed("name=nope").await.0, 500);
}
