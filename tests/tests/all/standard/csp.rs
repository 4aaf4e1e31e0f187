//! `csp`: Django 6's `ContentSecurityPolicyMiddleware` (the enforced and
//! report-only policies, the per-request nonce and its template value).

use shallot_tests::{Outcome, get, pipeline, run};

/// `csp` (with `config`) outside a probe middleware `inner` (its
/// `process_response` doing `inner`), in front of the probe view
/// rendering `page.html` = `nonce={{ csp_nonce }}`.
async fn with_csp(config: &str, inner: &str) -> Outcome {
    let dir = shallot_tests::template_dir(&[("page.html", "nonce={{ csp_nonce }}")]);
    let toml = format!(
        "[templates]\ndirs = [\"{}\"]\n\
         [[middleware]]\nname = \"csp\"\ncomponent = \"{{csp}}\"\nconfig = {{ {config} }}\n\
         [[middleware]]\nname = \"inner\"\ncomponent = \"{{probe}}\"\nconfig = {{ name = \"inner\", process_response = \"{inner}\" }}\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"template:page.html\" }}\n\
         [[routes]]\npath = \"page/\"\nview = \"v\"\n",
        dir.display()
    );
    run(&pipeline(&toml).await, get("/page/")).await
}

#[tokio::test]
pub(crate) async fn csp() {
    let out = with_csp(
        r#"policy = ["default-src 'self'", "img-src 'self' https://img.example", "upgrade-insecure-requests"]"#,
        "pass",
    )
    .await;
    assert_eq!(
        out.header("content-security-policy").as_deref(),
        Some("default-src 'self'; img-src 'self' https://img.example; upgrade-insecure-requests")
    );
    assert_eq!(out.header("content-security-policy-report-only"), None);
    // No directive asked for a nonce: none is made.
    assert_eq!(
        out.body(),
        "nonce=None",
        "Django's None, as Jinja2 prints it"
    );
}

#[tokio::test]
async fn report_only_is_its_own_header_and_both_can_be_sent() {
    let out = with_csp(
        r#"policy = ["default-src 'self'"], report_only_policy = ["default-src 'none'", "report-uri /csp/"]"#,
        "pass",
    )
    .await;
    assert_eq!(
        out.header("content-security-policy").as_deref(),
        Some("default-src 'self'")
    );
    assert_eq!(
        out.header("content-security-policy-report-only").as_deref(),
        Some("default-src 'none'; report-uri /csp/")
    );
}

#[tokio::test]
async fn the_nonce_is_fresh_per_request_and_the_template_sees_the_headers_one() {
    let config = r#"policy = ["script-src 'self' {nonce}", "style-src {nonce}"]"#;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let out = with_csp(config, "pass").await;
        let nonce = out.body().strip_prefix("nonce=").unwrap().to_owned();
        assert_eq!(nonce.len(), 22, "{nonce}");
        assert!(
            nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "base64url: {nonce}"
        );
        assert_eq!(
            out.header("content-security-policy"),
            Some(format!(
                "script-src 'self' 'nonce-{nonce}'; style-src 'nonce-{nonce}'"
            ))
        );
        seen.push(nonce);
    }
    assert_ne!(seen[0], seen[1], "a nonce is never reused");
}

#[tokio::test]
async fn a_policy_the_response_already_has_is_kept() {
    let out = with_csp(
        r#"policy = ["default-src 'self'"]"#,
        "header:Content-Security-Policy:default-src https://view.example",
    )
    .await;
    assert_eq!(
        out.header("content-security-policy").as_deref(),
        Some("default-src https://view.example")
    );
}
