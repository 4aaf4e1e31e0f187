//! Sessions, users and permissions in SQL, as wired in
//! `examples/auth/shallot.toml`: `sessions-sql` (Django's database session
//! backend), `login` (the password checked against `auth_user`),
//! `authentication` (`request.user`), `permissions` (the user's
//! permissions, `permission_required` for views) and the `account` views,
//! with the example's demo users (password `<name>-secret`), on both
//! backends.

use shallot::Pipeline;
use shallot_tests::databases::{self, Backend};
use shallot_tests::{Outcome, get, run};

shallot_tests::on_both_backends!(
    sessions_sql,
    login,
    authentication,
    permissions,
    permission_required,
    py_perm_view,
);

/// The auth example on a fresh database of `backend`; the signing secret
/// comes from PATH, which is always set.
async fn app(backend: Backend) -> (Pipeline, String) {
    let (path, text) = shallot_tests::example_config("auth");
    let migrations = std::path::Path::new(&path).with_file_name("migrations");
    let db = databases::fresh(backend, &migrations).await;
    let text = text
        .replace(
            "url = \"sqlite:.shallot/auth-example.db\"\nmigrations = \"migrations/sqlite\"\n",
            &db,
        )
        .replace(
            "env = [\"SHALLOT_SESSION_SECRET\"]",
            "env = [\"PATH\"]\nconfig = { secret_env = \"PATH\" }",
        );
    assert!(text.contains(&db), "the example's database lines changed");
    // And a Python view behind `permission_required`, and a login that
    // checks no password: a session naming any user, as one made before
    // that user was deactivated or deleted would.
    let text = format!(
        "{text}\n[views.py-change]\ncomponent = \"{}\"\n\
         [[routes]]\npath = \"py/change/\"\nview = \"py-change\"\n\
         [views.any-login]\ncomponent = \"{}\"\nconfig = {{ page = \"login\" }}\n\
         [[routes]]\npath = \"test/login/\"\nview = \"any-login\"\n",
        shallot_tests::guests::PY_PERM_VIEW,
        shallot_tests::guests::ACCOUNT,
    );
    let config = shallot::Config::parse(&path, &text).unwrap();
    (databases::migrated(&config).await, text)
}

fn post(uri: &str, form: &str) -> http::Request<bytes::Bytes> {
    http::Request::post(uri)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(bytes::Bytes::from(form.to_owned()))
        .unwrap()
}

/// The `sessionid=...` cookie a response sets.
fn cookie(out: &Outcome) -> String {
    assert_eq!(out.response.status(), 302, "{}", out.body());
    let set = out.header("set-cookie").expect("a session cookie");
    set.split(';').next().unwrap().to_owned()
}

/// Logs `user` in with their password: the cookie to send back.
async fn sign_in(p: &Pipeline, user: &str) -> String {
    let form = format!("username={user}&password={user}-secret");
    cookie(&run(p, post("/accounts/login/", &form)).await)
}

/// A session naming `user`, however things stand in `auth_user`.
async fn session_for(p: &Pipeline, user: &str) -> String {
    cookie(&run(p, post("/test/login/", &format!("username={user}"))).await)
}

fn with_cookie(uri: &str, cookie: &str) -> http::Request<bytes::Bytes> {
    http::Request::get(uri)
        .header("Cookie", cookie)
        .body(bytes::Bytes::new())
        .unwrap()
}

async fn page(p: &Pipeline, uri: &str, cookie: &str) -> Outcome {
    run(p, with_cookie(uri, cookie)).await
}

async fn sessions_sql(backend: Backend) {
    let (p, text) = app(backend).await;
    let cookie = sign_in(&p, "bob").await;
    assert_eq!(page(&p, "/me/", &cookie).await.body(), "hello, bob");
    // The session is in the database: a second pipeline on the same
    // config, with no key-value store at all, reads it.
    let again = shallot_tests::pipeline(&text).await;
    assert_eq!(page(&again, "/me/", &cookie).await.body(), "hello, bob");
    // A forged signature is ignored.
    let last = if cookie.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &cookie[..cookie.len() - 1]);
    assert_eq!(page(&p, "/me/", &forged).await.body(), "hello, anonymous");
    // Logging out (a POST) deletes the row: the old cookie no longer logs in.
    let logout = http::Request::post("/accounts/logout/")
        .header("Cookie", &cookie)
        .body(bytes::Bytes::new())
        .unwrap();
    let out = run(&p, logout).await;
    assert_eq!(out.response.status(), 302);
    assert!(
        out.header("set-cookie")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "the cookie is cleared"
    );
    assert_eq!(page(&p, "/me/", &cookie).await.body(), "hello, anonymous");
}

async fn login(backend: Backend) {
    let (p, _) = app(backend).await;
    let out = run(&p, get("/accounts/login/")).await;
    assert_eq!(out.response.status(), 200);
    assert!(out.body().contains("<form"), "{}", out.body());
    // A wrong password, a user that does not exist, an inactive user with
    // the right password: the form again, with the one message for all.
    for form in [
        "username=alice&password=wrong",
        "username=nobody&password=nobody-secret",
        "username=dave&password=dave-secret",
        "username=alice",
    ] {
        let out = run(&p, post("/accounts/login/?next=/me/", form)).await;
        assert_eq!(out.response.status(), 200, "{form}");
        assert!(
            out.body()
                .contains("Please enter a correct username and password"),
            "{form}"
        );
        assert!(out.header("set-cookie").is_none(), "{form}");
    }
    let out = run(
        &p,
        post(
            "/accounts/login/?next=/me/",
            "username=alice&password=alice-secret",
        ),
    )
    .await;
    assert_eq!(out.header("location").as_deref(), Some("/me/"));
    assert_eq!(page(&p, "/me/", &cookie(&out)).await.body(), "hello, alice");
    // `next` must stay on this site, as Django's
    // url_has_allowed_host_and_scheme decides: else the default, `/`.
    for next in [
        "//evil.example/",
        "/%5Cevil.example/",
        "/%09/evil.example/",
        "https://evil.example/",
    ] {
        let out = run(
            &p,
            post(
                &format!("/accounts/login/?next={next}"),
                "username=alice&password=alice-secret",
            ),
        )
        .await;
        assert_eq!(out.header("location").as_deref(), Some("/"), "{next}");
    }
}

async fn authentication(backend: Backend) {
    let (p, _) = app(backend).await;
    assert_eq!(run(&p, get("/me/")).await.body(), "hello, anonymous");
    let alice = sign_in(&p, "alice").await;
    assert_eq!(page(&p, "/me/", &alice).await.body(), "hello, alice");
    // A session naming an inactive user, or one that does not exist, is
    // anonymous, as Django's ModelBackend makes it.
    for who in ["dave", "nobody"] {
        let cookie = session_for(&p, who).await;
        assert_eq!(
            page(&p, "/me/", &cookie).await.body(),
            "hello, anonymous",
            "{who}"
        );
    }
}

async fn permissions(backend: Backend) {
    // `edit` needs notes.change_note, checked by the permissions
    // middleware's `required`: without it, Django's permission_required
    // redirects to the login page, logged in or not.
    let (p, _) = app(backend).await;
    let out = run(&p, get("/notes/edit/")).await;
    assert_eq!(out.response.status(), 302);
    assert_eq!(
        out.header("location").as_deref(),
        Some("/accounts/login/?next=/notes/edit/")
    );
    for (who, allowed) in [
        ("alice", true), // through the editors group
        ("carol", true), // a superuser
        ("bob", false),  // only notes.view_note, his own
        ("eve", false),  // nothing
        ("dave", false), // an editor, but inactive
    ] {
        let cookie = session_for(&p, who).await;
        let out = page(&p, "/notes/edit/", &cookie).await;
        if allowed {
            assert_eq!(out.response.status(), 200, "{who}: {}", out.body());
            assert_eq!(out.body(), format!("hello, {who}"));
        } else {
            assert_eq!(out.response.status(), 302, "{who}: {}", out.body());
        }
    }
}

async fn permission_required(backend: Backend) {
    // In the view, with shallot_guest::auth: 403 without the permission.
    let (p, _) = app(backend).await;
    assert_eq!(run(&p, get("/notes/view/")).await.response.status(), 403);
    for (who, view, change) in [
        ("alice", 200, 200),
        ("bob", 200, 403),
        ("carol", 200, 200),
        ("eve", 403, 403),
    ] {
        let cookie = sign_in(&p, who).await;
        let out = page(&p, "/notes/view/", &cookie).await;
        assert_eq!(out.response.status(), view, "{who}: {}", out.body());
        if view == 200 {
            assert_eq!(out.body(), format!("{who} may notes.view_note"));
        }
        let out = page(&p, "/notes/change/", &cookie).await;
        assert_eq!(out.response.status(), change, "{who}: {}", out.body());
    }
}

async fn py_perm_view(backend: Backend) {
    // The Python SDK's `shallot.auth.permission_required`.
    let (p, _) = app(backend).await;
    assert_eq!(run(&p, get("/py/change/")).await.response.status(), 403);
    for (who, status) in [("alice", 200), ("carol", 200), ("bob", 403)] {
        let cookie = sign_in(&p, who).await;
        let out = page(&p, "/py/change/", &cookie).await;
        assert_eq!(out.response.status(), status, "{who}: {}", out.body());
        if status == 200 {
            assert_eq!(out.body(), format!("{who} may change notes"));
        }
    }
}
