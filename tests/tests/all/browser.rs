//! The movie theater in a real browser: Debian's Chromium, headless,
//! driven over WebDriver (chromedriver, through fantoccini) against the
//! app served over HTTPS with HTTP/2 on a loopback port. A visitor opens
//! the list, opens a movie, logs in, books a seat, sees the message once,
//! is refused the staff page, logs out, and meets the 404 page. Each step
//! asserts on what the page shows and leaves a screenshot under
//! `target/browser/` for people to look at.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's
//! `chromium` and `chromium-driver`, which `scripts/test.sh` installs).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use shallot::config::{ServerConfig, TlsFiles};
use shallot::server::Tls;
use tokio::net::TcpListener;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver, killed however the test ends.
pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) async fn start_driver() -> (Driver, String) {
    for program in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(program).exists(),
            "{program} is missing: install Debian's chromium and chromium-driver \
             (scripts/test.sh does: apt-get install chromium chromium-driver)"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (driver, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on {port}");
}

/// The app over HTTPS (a dev certificate for `localhost`) with HTTP/2, as
/// `shallot serve` runs it.
async fn serve_app() -> SocketAddr {
    let pipeline = crate::theater::app("").await;
    let dir = shallot_tests::template_dir(&[]);
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    let (cert, key) = shallot::server::dev_certificate(&["localhost".to_owned()]).unwrap();
    std::fs::write(&files.cert, cert).unwrap();
    std::fs::write(&files.key, key).unwrap();
    let tls = Arc::new(Tls::load(&files, true).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let live = Arc::new(shallot::LivePipeline::fixed(
        pipeline,
        shallot_tests::runtime().clone(),
    ));
    tokio::spawn(async move {
        let settings = ServerConfig::default();
        shallot::server::serve_with(listener, live, &settings, Some(tls), std::future::pending())
            .await
    });
    addr
}

pub(crate) async fn browser(driver: &str) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("acceptInsecureCerts".into(), json!(true));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1100,800",
                     "--ignore-certificate-errors"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a Chromium session")
}

/// Where the screenshots go: `target/browser/`.
fn shots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")),
        PathBuf::from,
    );
    let dir = target.join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

/// The text of the element `css` selects; a failure names the page and
/// shows what it says instead.
pub(crate) async fn text(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap(),
        Err(e) => {
            let url = c.current_url().await.unwrap();
            let shown = script(c, "return document.body.innerText").await;
            panic!("no {css} on {url}: {e}\nthe page says: {shown}")
        }
    }
}

async fn click(c: &Client, element: Locator<'_>) {
    c.find(element).await.unwrap().click().await.unwrap();
}

pub(crate) async fn script(c: &Client, js: &str) -> Value {
    c.execute(js, vec![]).await.unwrap()
}

async fn path(c: &Client) -> String {
    c.current_url().await.unwrap().path().to_owned()
}

/// Waits (up to 30 s: the suite runs beside it) for a click's
/// navigation to land on `expected`: a click returns once the browser has
/// started the request, not always after the next page has loaded.
async fn arrive(c: &Client, expected: &str) {
    for _ in 0..300 {
        let ready = script(c, "return document.readyState").await == json!("complete");
        if ready && path(c).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shown = script(c, "return document.body.innerText").await;
    panic!(
        "still on {} instead of {expected}; the page says: {shown}",
        path(c).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_books_a_seat_in_chromium() {
    let addr = serve_app().await;
    let (_driver, driver_url) = start_driver().await;
    let c = browser(&driver_url).await;
    let site = format!("https://localhost:{}", addr.port());

    // 1. The list: every movie, the stylesheet applied, posters loaded,
    //    over HTTP/2.
    c.goto(&format!("{site}/")).await.unwrap();
    assert_eq!(text(&c, "main h1").await, "Now showing");
    let titles = c.find_all(Locator::Css(".movie .title")).await.unwrap();
    assert_eq!(titles.len(), 5);
    assert_eq!(
        script(
            &c,
            "return getComputedStyle(document.querySelector('.bar')).backgroundColor"
        )
        .await,
        json!("rgb(29, 27, 38)"),
        "site.css is served and applied"
    );
    assert_eq!(
        script(
            &c,
            "return [...document.images].every(i => i.complete && i.naturalWidth === 200)"
        )
        .await,
        json!(true),
        "every poster loaded"
    );
    assert_eq!(
        script(
            &c,
            "return performance.getEntriesByType('navigation')[0].nextHopProtocol"
        )
        .await,
        json!("h2")
    );
    screenshot(&c, "01-list").await;

    // 2. A movie: its showtimes, and a login link instead of a form.
    click(&c, Locator::LinkText("A Quiet Orbit")).await;
    arrive(&c, "/movies/4/").await;
    assert_eq!(text(&c, "main h1").await, "A Quiet Orbit");
    assert_eq!(text(&c, "#showtime-6 .free").await, "12 of 12");
    screenshot(&c, "02-movie").await;

    // 3. Log in through the movie's link, and land back on the movie.
    click(&c, Locator::LinkText("Log in to book")).await;
    arrive(&c, "/accounts/login/").await;
    c.find(Locator::Id("id_username"))
        .await
        .unwrap()
        .send_keys("bob")
        .await
        .unwrap();
    c.find(Locator::Id("id_password"))
        .await
        .unwrap()
        .send_keys("bob-secret")
        .await
        .unwrap();
    screenshot(&c, "03-login").await;
    click(&c, Locator::Id("login-submit")).await;
    arrive(&c, "/movies/4/").await;
    assert_eq!(text(&c, "#user").await, "bob");

    // 4. Book seat 7 of the first showtime (a CSRF-protected POST): the
    //    bookings page with the success message.
    click(&c, Locator::Css("#showtime-6 select option[value='7']")).await;
    click(&c, Locator::Css("#showtime-6 button.book")).await;
    arrive(&c, "/bookings/mine/").await;
    assert_eq!(
        text(&c, ".messages li.success").await,
        "Booked seat 7 for A Quiet Orbit at 2026-12-18 20:30."
    );
    assert_eq!(text(&c, ".bookings td.seat").await, "7");
    screenshot(&c, "04-booked").await;
    // The message is shown once.
    c.refresh().await.unwrap();
    assert!(
        c.find(Locator::Css(".messages")).await.is_err(),
        "the message is gone"
    );

    // 5. The staff page, as a customer: the custom 403 page.
    c.goto(&format!("{site}/movies/add/")).await.unwrap();
    assert_eq!(text(&c, "main h1").await, "403: not for you");
    screenshot(&c, "05-staff-only").await;

    // 6. Log out (a POST with the token): anonymous again.
    click(&c, Locator::Id("logout")).await;
    arrive(&c, "/").await;
    assert_eq!(text(&c, "#login").await, "Log in");
    screenshot(&c, "06-logged-out").await;

    // 7. A page that does not exist: the custom 404 page.
    c.goto(&format!("{site}/movies/99/")).await.unwrap();
    assert_eq!(text(&c, "main h1").await, "404: no such page");
    screenshot(&c, "07-not-found").await;

    c.close().await.unwrap();
}
