//! What the host enforces on responses guests build: valid headers and
//! statuses, bounded header counts, and framing left to the server.

use shallot_tests::{Outcome, get, pipeline, run};

async fn respond_with(action: &str) -> Outcome {
    let toml = format!(
        "[[middleware]]\nname = \"outer\"\ncomponent = \"{{probe}}\"\nconfig = {{ name = \"outer\" }}\n\
         [[middleware]]\nname = \"p\"\ncomponent = \"{{probe}}\"\nconfig = {{ name = \"p\", process_response = \"{action}\" }}\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\n[[routes]]\npath = \"v\"\nview = \"v\"\n"
    );
    run(&pipeline(&toml).await, get("/v")).await
}

fn raised(out: &Outcome, text: &str) -> bool {
    out.log
        .iter()
        .any(|l| l.starts_with("middleware `p`: raised: ") && l.contains(text))
}

#[tokio::test]
async fn header_injection_is_refused_as_the_layers_error() {
    let out = respond_with("header:X-Evil:a\\r\\nSet-Cookie: stolen=1").await;
    assert_eq!(out.response.status(), 500);
    assert!(out.response.headers().get("set-cookie").is_none());
    assert!(out.response.headers().get("x-evil").is_none());
    assert!(
        raised(&out, "invalid value for header \"X-Evil\""),
        "{:#?}",
        out.log
    );
    assert_eq!(
        out.header("x-seen").as_deref(),
        Some("outer"),
        "the outer layer still ran"
    );
}

#[tokio::test]
async fn invalid_header_names_are_refused() {
    let out = respond_with("header:Bad Name:v").await;
    assert_eq!(out.response.status(), 500);
    assert!(
        raised(&out, "invalid header name \"Bad Name\""),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
async fn framing_and_hop_by_hop_headers_from_guests_are_dropped() {
    for header in [
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "Upgrade",
        "Keep-Alive",
    ] {
        let out = respond_with(&format!("header:{header}:999")).await;
        assert_eq!(out.response.status(), 200, "{header}");
        assert!(
            out.response.headers().get(header).is_none(),
            "{header} reached the client"
        );
        assert!(out.body().starts_with("view=v "), "body intact");
    }
}

#[tokio::test]
async fn out_of_range_statuses_are_errors_or_traps_at_that_layer() {
    let out = respond_with("status:600").await;
    assert_eq!(out.response.status(), 500);
    assert!(
        raised(
            &out,
            "invalid HTTP status 600: a response status must be 200..=599"
        ),
        "{:#?}",
        out.log
    );

    for status in ["101", "99", "1000"] {
        let out = respond_with(&format!("new:{status}")).await;
        assert_eq!(out.response.status(), 500, "{status}");
        assert!(
            out.log
                .iter()
                .any(|l| l.starts_with("middleware `p`: trapped")),
            "{status}: {:#?}",
            out.log
        );
    }
    assert_eq!(respond_with("status:299").await.response.status(), 299);
}

#[tokio::test]
async fn a_flood_of_headers_is_an_error_not_a_host_panic() {
    let out = respond_with("headers:30000").await;
    assert_eq!(out.response.status(), 500);
    assert!(
        raised(&out, "too many response headers (at most 1000)"),
        "{:#?}",
        out.log
    );
}
