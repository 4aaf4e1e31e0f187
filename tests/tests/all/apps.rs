//! The capability-using middleware (`rate-limit`, `sessions`,
//! `login-required`) and the `account` views, as wired in
//! `examples/sessions/shallot.toml`.

use shallot_tests::{Outcome, get, pipeline, request, run};

/// The sessions example's stack with a fresh database. The signing secret
/// is read from a granted environment variable; PATH is always set, so the
/// test needs no process-wide `set_var`.
pub(crate) fn app(limit: u32) -> String {
    let kv = shallot_tests::fresh_kv_path();
    format!(
        r#"
[key_value]
path = "{}"

[[middleware]]
name = "rate-limit"
component = "{{rate-limit}}"
key_value_stores = ["ratelimit"]
config = {{ limit = {limit}, window_secs = 60 }}

[[middleware]]
name = "sessions"
component = "{{sessions}}"
key_value_stores = ["sessions"]
env = ["PATH"]
config = {{ secret_env = "PATH" }}

[[middleware]]
name = "login-required"
component = "{{login-required}}"
config = {{ protected_views = "whoami" }}

[views.login]
component = "{{account}}"
config = {{ page = "login" }}

[views.logout]
component = "{{account}}"
config = {{ page = "logout" }}

[views.whoami]
component = "{{account}}"
config = {{ page = "whoami" }}

[[routes]]
path = "accounts/login/"
view = "login"

[[routes]]
path = "accounts/logout/"
view = "logout"

[[routes]]
path = "me/"
view = "whoami"
"#,
        kv.display()
    )
}

pub(crate) fn login_request(user: &str) -> http::Request<bytes::Bytes> {
    http::Request::post("/accounts/login/?next=/me/")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(bytes::Bytes::from(format!("username={user}")))
        .unwrap()
}

/// `sessionid=<value>` from a response's Set-Cookie.
pub(crate) fn cookie(out: &Outcome) -> String {
    let set = out.header("set-cookie").expect("a session cookie");
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
pub(crate) async fn login_required() {
    let p = pipeline(&app(100)).await;
    let out = run(&p, get("/me/")).await;
    assert_eq!(out.response.status(), 302);
    assert_eq!(
        out.header("location").as_deref(),
        Some("/accounts/login/?next=/me/")
    );
}

#[tokio::test]
pub(crate) async fn sessions() {
    let p = pipeline(&app(100)).await;
    let login = run(&p, login_request("alice")).await;
    assert_eq!(login.response.status(), 302);
    assert_eq!(login.header("location").as_deref(), Some("/me/"));
    let set = login.header("set-cookie").unwrap();
    assert!(
        set.ends_with("; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax"),
        "{set}"
    );
    let cookie = cookie(&login);

    let me = run(&p, request("GET", "/me/", &[("Cookie", &cookie)])).await;
    assert_eq!(
        (me.response.status().as_u16(), me.body()),
        (200, "hello, alice")
    );
    assert!(
        me.header("set-cookie").is_none(),
        "an unchanged session is not saved again"
    );

    // A forged signature is an anonymous request.
    let forged = format!("{}0", &cookie[..cookie.len() - 1]);
    let forged = if forged == cookie {
        format!("{}1", &cookie[..cookie.len() - 1])
    } else {
        forged
    };
    let out = run(&p, request("GET", "/me/", &[("Cookie", &forged)])).await;
    assert_eq!(out.response.status(), 302);
}

#[tokio::test]
async fn sessions_survive_a_restart_of_the_pipeline() {
    let toml = app(100);
    let cookie = {
        let p = pipeline(&toml).await;
        cookie(&run(&p, login_request("bob")).await)
    };
    let p = pipeline(&toml).await;
    let me = run(&p, request("GET", "/me/", &[("Cookie", &cookie)])).await;
    assert_eq!(me.body(), "hello, bob");
}

#[tokio::test]
pub(crate) async fn account() {
    let p = pipeline(&app(100)).await;
    let cookie = cookie(&run(&p, login_request("carol")).await);
    let out = run(
        &p,
        request("POST", "/accounts/logout/", &[("Cookie", &cookie)]),
    )
    .await;
    assert_eq!(out.response.status(), 302);
    assert!(
        out.header("set-cookie").unwrap().contains("Max-Age=0"),
        "the cookie is cleared"
    );
    let me = run(&p, request("GET", "/me/", &[("Cookie", &cookie)])).await;
    assert_eq!(
        me.response.status(),
        302,
        "the session is gone from the store"
    );
    // Django's LogoutView: POST only, so a link elsewhere cannot log out.
    let out = run(
        &p,
        request("GET", "/accounts/logout/", &[("Cookie", &cookie)]),
    )
    .await;
    assert_eq!(out.response.status(), 405);
    let bad = run(&p, login_request("no%20spaces")).await;
    assert_eq!(bad.response.status(), 400);
}

#[tokio::test]
pub(crate) async fn rate_limit() {
    let p = pipeline(&app(3)).await;
    for _ in 0..3 {
        assert_eq!(
            run(&p, request("POST", "/accounts/logout/", &[]))
                .await
                .response
                .status(),
            302
        );
    }
    let limited = run(&p, request("POST", "/accounts/logout/", &[])).await;
    assert_eq!(limited.response.status(), 429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
}
