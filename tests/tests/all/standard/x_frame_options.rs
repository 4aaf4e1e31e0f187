//! `x-frame-options`: Django's `XFrameOptionsMiddleware`, in Rust and in
//! Python (`guests/python/x_frame_options.py`), both held to the same
//! checks, one per behaviour.

use bytes::Bytes;
use shallot_tests::{Outcome, get, pipeline, run};

/// `guest` (its `config` table holding `config`), then the middleware in
/// `inner` (TOML entries), in front of the probe view at `page/`.
async fn send(guest: &str, config: &str, inner: &str, req: http::Request<Bytes>) -> Outcome {
    let toml = format!(
        "[[middleware]]\nname = \"xfo\"\ncomponent = \"{{{guest}}}\"\nconfig = {{ {config} }}\n\
         {inner}\
         [views.v]\ncomponent = \"{{probe-view}}\"\n\
         [[routes]]\npath = \"page/\"\nview = \"v\"\n"
    );
    run(&pipeline(&toml).await, req).await
}

/// A probe middleware inside `guest` whose `process_response` sets
/// `name: value`, as a view (or its decorator) would.
fn sets(name: &str, value: &str) -> String {
    format!(
        "[[middleware]]\nname = \"inner-{}\"\ncomponent = \"{{probe}}\"\n\
         config = {{ process_response = \"header:{name}:{value}\" }}\n",
        name.to_lowercase()
    )
}

#[tokio::test]
pub(crate) async fn x_frame_options() {
    check_x_frame_options("x-frame-options").await;
}

#[tokio::test]
pub(crate) async fn py_x_frame_options() {
    check_x_frame_options("py-x-frame-options").await;
}

async fn check_x_frame_options(guest: &str) {
    deny_by_default(guest).await;
    on_every_response(guest).await;
    configured_value_is_upper_cased(guest).await;
    never_replaces_an_existing_header(guest).await;
    exempt_responses_get_no_header(guest).await;
}

/// `X_FRAME_OPTIONS` defaults to `DENY`.
async fn deny_by_default(guest: &str) {
    let out = send(guest, "", "", get("/page/")).await;
    assert_eq!(out.response.status(), 200, "{guest}");
    assert_eq!(
        out.header("x-frame-options").as_deref(),
        Some("DENY"),
        "{guest}: default"
    );
}

/// Any status and content type: here Django's 404 page.
async fn on_every_response(guest: &str) {
    let out = send(guest, "", "", get("/missing/")).await;
    assert_eq!(out.response.status(), 404, "{guest}");
    assert_eq!(
        out.header("x-frame-options").as_deref(),
        Some("DENY"),
        "{guest}: on a 404"
    );
}

/// `get_xframe_options_value` upper-cases the setting.
async fn configured_value_is_upper_cased(guest: &str) {
    let out = send(
        guest,
        r#"x_frame_options = "sameorigin""#,
        "",
        get("/page/"),
    )
    .await;
    assert_eq!(
        out.header("x-frame-options").as_deref(),
        Some("SAMEORIGIN"),
        "{guest}: configured"
    );
}

/// A header the view set (`@xframe_options_sameorigin`) wins.
async fn never_replaces_an_existing_header(guest: &str) {
    let inner = sets("X-Frame-Options", "SAMEORIGIN");
    let out = send(guest, "", &inner, get("/page/")).await;
    assert_eq!(
        out.header("x-frame-options").as_deref(),
        Some("SAMEORIGIN"),
        "{guest}: existing header"
    );
}

/// `@xframe_options_exempt`: the response carries `Xframe-Options-Exempt`,
/// which the middleware honours and removes.
async fn exempt_responses_get_no_header(guest: &str) {
    let inner = sets("Xframe-Options-Exempt", "1");
    let out = send(guest, "", &inner, get("/page/")).await;
    assert_eq!(out.response.status(), 200, "{guest}");
    assert_eq!(out.header("x-frame-options"), None, "{guest}: exempt");
    assert_eq!(
        out.header("xframe-options-exempt"),
        None,
        "{guest}: the marker never reaches the client"
    );
    // Exempt and with its own header: the header stays, the marker goes.
    let inner = [
        sets("Xframe-Options-Exempt", "1"),
        sets("X-Frame-Options", "SAMEORIGIN"),
    ]
    .concat();
    let out = send(guest, "", &inner, get("/page/")).await;
    assert_eq!(
        out.header("x-frame-options").as_deref(),
        Some("SAMEORIGIN"),
        "{guest}: exempt with a header"
    );
    assert_eq!(out.header("xframe-options-exempt"), None, "{guest}");
}
