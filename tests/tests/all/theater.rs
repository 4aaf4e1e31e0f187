//! The movie-theater example (`examples/movie-theater`) driven through its
//! pipeline without a socket, the way a browser would use it: cookies kept
//! between requests, the CSRF token read off each form. The same app in a
//! real browser over HTTPS is `browser.rs`.

use std::collections::BTreeMap;

use bytes::Bytes;
use shallot::Pipeline;
use shallot_tests::{Outcome, run};

/// The example's config on a fresh SQLite database, without its TLS table
/// (in process there is no socket) and signing sessions with PATH, which
/// is always set; `extra` is appended.
pub(crate) fn config_text(extra: &str) -> (String, String) {
    let (path, text) = shallot_tests::example_config("movie-theater");
    let dir = shallot_tests::template_dir(&[]);
    let migrations = std::path::Path::new(&path).with_file_name("migrations");
    let replaced = text
        .replace(
            "url = \"sqlite:../../target/movie-theater/theater.db\"\nmigrations = \"migrations\"",
            &format!(
                "url = \"sqlite:{}\"\nmigrations = \"{}\"",
                dir.join("theater.db").display(),
                migrations.display()
            ),
        )
        .replace("SHALLOT_SESSION_SECRET", "PATH");
    assert!(
        replaced.contains("theater.db\"\nmigrations") && replaced.contains("secret_env = \"PATH\""),
        "the example's database or session lines changed"
    );
    (path, format!("{replaced}\n{extra}"))
}

/// The app, migrated and seeded, without TLS.
pub(crate) async fn app(extra: &str) -> Pipeline {
    let (path, text) = config_text(extra);
    let start = text.find("[server.tls]").expect("the example serves HTTPS");
    let end = start + text[start..].find("\n\n").unwrap();
    let text = format!("{}{}", &text[..start], &text[end..]);
    let config = shallot::Config::parse(&path, &text).unwrap();
    shallot_tests::databases::migrated(&config).await
}

/// One visitor: a cookie jar over the pipeline.
#[derive(Clone)]
struct Visitor<'a> {
    app: &'a Pipeline,
    cookies: BTreeMap<String, String>,
}

impl<'a> Visitor<'a> {
    fn new(app: &'a Pipeline) -> Self {
        Visitor {
            app,
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, method: &str, uri: &str, form: &str) -> Outcome {
        let mut req = http::Request::builder().method(method).uri(uri);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("Cookie", jar.join("; "));
        }
        if method == "POST" {
            req = req.header("Content-Type", "application/x-www-form-urlencoded");
        }
        let out = run(self.app, req.body(Bytes::from(form.to_owned())).unwrap()).await;
        for set in out.response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        out
    }

    async fn get(&mut self, uri: &str) -> Outcome {
        self.send("GET", uri, "").await
    }

    /// Posts `form` to `uri` with the CSRF token of the form on `page`.
    async fn post(&mut self, page: &str, uri: &str, form: &str) -> Outcome {
        let shown = self.get(page).await;
        let token = csrf_token(shown.body());
        self.send("POST", uri, &format!("csrfmiddlewaretoken={token}&{form}"))
            .await
    }

    async fn log_in(&mut self, user: &str) -> Outcome {
        let out = self
            .post(
                "/accounts/login/",
                "/accounts/login/",
                &format!("username={user}&password={user}-secret&next=/bookings/mine/"),
            )
            .await;
        assert_eq!(out.response.status(), 302, "{}", out.body());
        out
    }

    async fn book(&mut self, showtime: u32, seat: u32) -> Outcome {
        let uri = format!("/bookings/showtimes/{showtime}/book/");
        self.post("/movies/1/", &uri, &format!("seat={seat}")).await
    }
}

/// The token of a page's `csrf_input`.
fn csrf_token(page: &str) -> String {
    let at = page
        .find("name=\"csrfmiddlewaretoken\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF field in {page}"));
    let rest = &page[at + "name=\"csrfmiddlewaretoken\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn location(out: &Outcome) -> String {
    out.header("location")
        .unwrap_or_else(|| panic!("no Location: {} {}", out.response.status(), out.body()))
}

#[tokio::test]
async fn pages_and_links() {
    let app = app("").await;
    let mut v = Visitor::new(&app);
    let list = v.get("/").await;
    assert_eq!(list.response.status(), 200);
    let body = list.body();
    for title in [
        "The Lighthouse Keeper",
        "Paper Moons",
        "The Last Tram",
        "A Quiet Orbit",
        "Salt and Honey",
    ] {
        assert!(body.contains(title), "{title} missing from {body}");
    }
    // Links come from url() and static(); the headers from the middleware.
    assert!(body.contains("href=\"/movies/1/\""), "{body}");
    assert!(
        body.contains("src=\"/static/posters/paper-moons.svg\""),
        "{body}"
    );
    assert!(body.contains("href=\"/accounts/login/?next=/\""), "{body}");
    assert_eq!(list.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        list.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        list.header("referrer-policy").as_deref(),
        Some("same-origin")
    );
    let detail = v.get("/movies/4/").await;
    assert!(
        detail.body().contains("<h1>A Quiet Orbit</h1>"),
        "{}",
        detail.body()
    );
    assert!(detail.body().contains("12 of 12"), "{}", detail.body());
    assert!(
        detail.body().contains("Log in to book"),
        "{}",
        detail.body()
    );
    // The custom error pages: 404 for an unknown movie or path, with the
    // layout and the path; APPEND_SLASH first.
    let missing = v.get("/movies/99/").await;
    assert_eq!(missing.response.status(), 404);
    assert!(missing.body().contains("404: no such page") && missing.body().contains("/movies/99/"));
    let slash = v.get("/movies/4").await;
    assert_eq!(
        (slash.response.status().as_u16(), location(&slash).as_str()),
        (301, "/movies/4/")
    );
    // Logged out, the bookings page sends to the login page.
    let mine = v.get("/bookings/mine/").await;
    assert_eq!(location(&mine), "/accounts/login/?next=/bookings/mine/");
}

/// The `theater` guest's whole flow: log in, book a seat, see the message
/// once, be refused the same seat, log out.
#[tokio::test]
pub(crate) async fn theater() {
    let app = app("").await;
    let mut v = Visitor::new(&app);
    // A wrong password: the form again, with Django's message.
    let wrong = v
        .post(
            "/accounts/login/",
            "/accounts/login/",
            "username=bob&password=nope",
        )
        .await;
    assert_eq!(wrong.response.status(), 200);
    assert!(
        wrong
            .body()
            .contains("Please enter a correct username and password.")
    );
    // Without the token the POST is refused by the CSRF middleware.
    let forged = v
        .send(
            "POST",
            "/accounts/login/",
            "username=bob&password=bob-secret",
        )
        .await;
    assert_eq!(forged.response.status(), 403);
    let csrf_before = v.cookies["csrftoken"].clone();
    let token_before = csrf_token(v.get("/accounts/login/").await.body());
    let login = v.log_in("bob").await;
    assert_eq!(location(&login), "/bookings/mine/");
    // Django's login(): a new CSRF secret, and the session cookie is
    // Secure, HttpOnly, SameSite=Lax.
    assert_ne!(
        v.cookies["csrftoken"], csrf_before,
        "the CSRF secret rotates on login"
    );
    // So a token handed out before login no longer passes.
    let stale = v
        .send(
            "POST",
            "/bookings/showtimes/1/book/",
            &format!("csrfmiddlewaretoken={token_before}&seat=1"),
        )
        .await;
    assert_eq!(stale.response.status(), 403, "{}", stale.body());
    let session = login.header("set-cookie").unwrap();
    assert!(
        session.contains("sessionid=")
            && session.contains("; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax; Secure"),
        "{session}"
    );
    let detail = v.get("/movies/1/").await;
    assert!(
        detail.body().contains("<span id=\"user\">bob</span>"),
        "{}",
        detail.body()
    );
    assert!(
        detail
            .body()
            .contains("<option value=\"3\">Seat 3</option>")
    );
    let booked = v.book(1, 3).await;
    assert_eq!(location(&booked), "/bookings/mine/");
    let mine = v.get("/bookings/mine/").await;
    let body = mine.body();
    assert!(body.contains("<li class=\"success\">Booked seat 3 for The Lighthouse Keeper at 2026-12-18 18:00.</li>"), "{body}");
    assert!(body.contains("<td class=\"seat\">3</td>"), "{body}");
    // Shown once: the next page has no message.
    let again = v.get("/bookings/mine/").await;
    assert!(!again.body().contains("Booked seat"), "{}", again.body());
    // The seat is gone from the form; booking it again is refused with an
    // error message on the movie's page.
    let detail = v.get("/movies/1/").await;
    let first = &detail.body()[detail.body().find("id=\"showtime-1\"").unwrap()..];
    let first = &first[..first.find("</tr>").unwrap()];
    assert!(
        !first.contains("<option value=\"3\">") && first.contains("<option value=\"4\">"),
        "{first}"
    );
    assert!(detail.body().contains("11 of 12"));
    let twice = v.book(1, 3).await;
    assert_eq!(location(&twice), "/movies/1/");
    let shown = v.get("/movies/1/").await;
    assert!(shown.body().contains("<li class=\"error\">Seat 3 for The Lighthouse Keeper at 2026-12-18 18:00 is already taken.</li>"), "{}", shown.body());
    // Logging out (a POST with the token) flushes the session.
    let out = v.post("/movies/1/", "/accounts/logout/", "").await;
    assert_eq!(location(&out), "/");
    assert!(!v.cookies.contains_key("sessionid"));
    assert!(v.get("/").await.body().contains("id=\"login\""));
}

#[tokio::test]
async fn no_seat_is_booked_twice_under_concurrent_requests() {
    let app = app("").await;
    let mut bob = Visitor::new(&app);
    bob.log_in("bob").await;
    let mut alice = Visitor::new(&app);
    alice.log_in("alice").await;
    // Sixteen requests for seat 5 of showtime 3, from both users at once.
    let tokens = [
        csrf_token(bob.get("/").await.body()),
        csrf_token(alice.get("/").await.body()),
    ];
    let mut tasks = Vec::new();
    for i in 0..16 {
        let mut who = if i % 2 == 0 {
            bob.clone()
        } else {
            alice.clone()
        };
        let form = format!("csrfmiddlewaretoken={}&seat=5", tokens[i % 2]);
        tasks.push(async move {
            location(&who.send("POST", "/bookings/showtimes/3/book/", &form).await)
        });
    }
    let places = futures::future::join_all(tasks).await;
    let won = places.iter().filter(|l| *l == "/bookings/mine/").count();
    let lost = places.iter().filter(|l| *l == "/movies/2/").count();
    assert_eq!((won, lost), (1, 15), "{places:?}");
    let detail = Visitor::new(&app).get("/movies/2/").await;
    assert!(detail.body().contains("7 of 8"), "{}", detail.body());
}

#[tokio::test]
async fn staff_page_needs_the_permission() {
    let app = app("").await;
    let mut bob = Visitor::new(&app);
    bob.log_in("bob").await;
    let denied = bob.get("/movies/add/").await;
    assert_eq!(denied.response.status(), 403);
    assert!(
        denied.body().contains("403: not for you"),
        "{}",
        denied.body()
    );
    assert!(!bob.get("/").await.body().contains("Add a movie"));

    let mut alice = Visitor::new(&app);
    alice.log_in("alice").await;
    assert!(alice.get("/").await.body().contains("Add a movie"));
    // A form with errors comes back with them and the values typed.
    let bad = alice
        .post(
            "/movies/add/",
            "/movies/add/",
            "title=&year=1700&runtime_minutes=ninety",
        )
        .await;
    assert_eq!(bad.response.status(), 200);
    let body = bad.body();
    assert!(body.contains("This field is required."), "{body}");
    assert!(
        body.contains("Ensure this value is between 1888 and 2100."),
        "{body}"
    );
    assert!(
        body.contains("Enter a whole number.") && body.contains("value=\"ninety\""),
        "{body}"
    );
    let added = alice
        .post(
            "/movies/add/",
            "/movies/add/",
            "title=Night+%26+Day&year=2026&runtime_minutes=101&tagline=New&synopsis=Fresh",
        )
        .await;
    assert_eq!(location(&added), "/movies/6/");
    let page = alice.get("/movies/6/").await;
    assert!(
        page.body().contains("<h1>Night &amp; Day</h1>"),
        "{}",
        page.body()
    );
    assert!(
        page.body()
            .contains("Added \u{201c}Night &amp; Day\u{201d}."),
        "{}",
        page.body()
    );
}

#[tokio::test]
async fn login_moves_the_session_to_a_new_key() {
    let app = app("").await;
    let mut v = Visitor::new(&app);
    v.log_in("bob").await;
    let bobs = v.cookies["sessionid"].clone();
    // Logging in as someone else on the same browser: a new key, the old
    // one deleted (Django's cycle_key, after flushing another user's data).
    v.log_in("alice").await;
    assert_ne!(v.cookies["sessionid"], bobs);
    assert!(
        v.get("/")
            .await
            .body()
            .contains("<span id=\"user\">alice</span>")
    );
    let mut stale = Visitor::new(&app);
    stale.cookies.insert("sessionid".into(), bobs);
    let out = stale.get("/bookings/mine/").await;
    assert_eq!(out.response.status(), 302, "the old key is gone");
}

#[tokio::test]
async fn server_error_page() {
    let app = app(&shallot_tests::with_guests(
        "[views.boom]\ncomponent = \"{boom}\"\n[[routes]]\npath = \"boom\"\nview = \"boom\"\n",
    ))
    .await;
    let out = Visitor::new(&app).get("/boom").await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.body().contains("500: the projector broke"),
        "{}",
        out.body()
    );
}
