//! `messages` and `messages-context`: Django's `django.contrib.messages`
//! (the middleware, its cookie, session and fallback storages, the
//! context processor and the API in `shallot_guest::messages` and
//! `shallot.messages`), through the `messages-probe` view and the Python
//! `messages_view`.

use std::io::{Read, Write};

use sha2::{Digest, Sha256};
use shallot::Pipeline;
use shallot_tests::{Outcome, get, pipeline, request, run};

/// The page every rendering test shows: each message as `LEVEL TAGS:
/// TEXT`, then one of `DEFAULT_MESSAGE_LEVELS`.
const PAGE: &str = "{% for m in messages %}{{ m.level }} {{ m.tags }}: {{ m.message }}\n{% endfor %}\
                    levels={{ DEFAULT_MESSAGE_LEVELS.SUCCESS }}";

/// Every field of each message, then `DEFAULT_MESSAGE_LEVELS`.
const FIELDS: &str = "{% for m in messages %}[{{ m.message }}|{{ m.level }}|{{ m.tags }}|{{ m.level_tag }}|{{ m.extra_tags }}]{% endfor %} \
                      {% for name in ['DEBUG', 'INFO', 'SUCCESS', 'WARNING', 'ERROR'] %}{{ DEFAULT_MESSAGE_LEVELS[name] }} {% endfor %}";

/// A page that renders with the context processor without looping over
/// the messages.
const QUIET: &str = "nothing to see";

/// What a pipeline is made of.
struct App<'a> {
    /// The `messages` middleware's config, or `None` for no middleware.
    messages: Option<&'a str>,
    /// Whether `sessions` runs before it.
    sessions: bool,
    /// The context processor's config.
    processor: &'a str,
    /// More TOML (views and routes).
    extra: &'a str,
}

impl Default for App<'_> {
    fn default() -> Self {
        App {
            messages: Some("storage = \"cookie\""),
            sessions: false,
            processor: "",
            extra: "",
        }
    }
}

impl App<'_> {
    /// `sessions` (when asked), `messages` with `config`, the context
    /// processor, and the probe view at `/m/`.
    async fn load(&self) -> Pipeline {
        let dir = shallot_tests::template_dir(&[
            ("page.html", PAGE),
            ("quiet.html", QUIET),
            ("fields.html", FIELDS),
        ]);
        let mut toml = format!(
            "[key_value]\npath = \"{}\"\n\
             [templates]\ndirs = [\"{}\"]\n\
             [[templates.context_processors]]\nname = \"messages\"\ncomponent = \"{{messages-context}}\"\nconfig = {{ {} }}\n",
            shallot_tests::fresh_kv_path().display(),
            dir.display(),
            self.processor,
        );
        if self.sessions {
            toml.push_str(
                "[[middleware]]\nname = \"sessions\"\ncomponent = \"{sessions}\"\n\
                 key_value_stores = [\"sessions\"]\nenv = [\"PATH\"]\nconfig = { secret_env = \"PATH\" }\n",
            );
        }
        if let Some(config) = self.messages {
            // The signing secret comes from a granted variable; PATH is
            // always set, so no test needs a process-wide set_var.
            toml.push_str(&format!(
                "[[middleware]]\nname = \"messages\"\ncomponent = \"{{messages}}\"\n\
                 env = [\"PATH\"]\nconfig = {{ secret_env = \"PATH\", {config} }}\n"
            ));
        }
        toml.push_str(
            "[views.m]\ncomponent = \"{messages-probe}\"\n[[routes]]\npath = \"m/\"\nview = \"m\"\n",
        );
        toml.push_str(self.extra);
        pipeline(&toml).await
    }
}

/// A client keeping the cookies it is sent, as a browser does.
#[derive(Default)]
struct Browser {
    cookies: Vec<(String, String)>,
}

impl Browser {
    async fn get(&mut self, p: &Pipeline, uri: &str) -> Outcome {
        let cookie = self.header();
        let headers: Vec<(&str, &str)> = if cookie.is_empty() {
            Vec::new()
        } else {
            vec![("Cookie", cookie.as_str())]
        };
        let out = run(p, request("GET", uri, &headers)).await;
        for value in set_cookies(&out) {
            let (pair, attributes) = value.split_once(';').unwrap_or((&value, ""));
            let (name, cookie) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !attributes.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), cookie.to_owned()));
            }
        }
        out
    }

    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every `Set-Cookie` of a response, one string each.
fn set_cookies(out: &Outcome) -> Vec<String> {
    out.response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The `Set-Cookie` for cookie `name`, if the response sets one.
fn set_cookie(out: &Outcome, name: &str) -> Option<String> {
    set_cookies(out)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// Django's `delete_cookie("messages", samesite="Lax")`, byte for byte.
const DELETED: &str =
    "messages=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax";

fn page(out: &Outcome) -> &str {
    assert_eq!(out.response.status(), 200, "{:#?}", out.log);
    out.body()
}

#[tokio::test]
pub(crate) async fn messages() {
    let p = App::default().load().await;
    let mut browser = Browser::default();

    // A view adds a message and redirects (Django's post/redirect/get).
    let out = browser.get(&p, "/m/?add=25:Saved.&then=redirect:/m/").await;
    assert_eq!(out.response.status(), 302);
    let set = set_cookie(&out, "messages").expect("the message is stored in the cookie");
    assert!(
        set.ends_with("; HttpOnly; Path=/; SameSite=Lax"),
        "Django's set_cookie with the session cookie's defaults: {set}"
    );

    // The next page shows it, and that consumes it: the cookie is deleted.
    let out = browser.get(&p, "/m/?then=template:page.html").await;
    assert_eq!(page(&out), "25 success: Saved.\nlevels=25");
    assert_eq!(set_cookie(&out, "messages").as_deref(), Some(DELETED));
    assert_eq!(browser.cookie("messages"), None);

    // The one after has nothing left to show.
    let out = browser.get(&p, "/m/?then=template:page.html").await;
    assert_eq!(page(&out), "levels=25");
}

#[tokio::test]
async fn messages_not_shown_are_kept() {
    let p = App::default().load().await;
    let mut browser = Browser::default();
    browser
        .get(&p, "/m/?add=30:Careful&then=redirect:/m/")
        .await;
    let stored = browser.cookie("messages").unwrap().to_owned();

    // A redirect and a plain response neither read nor add: the storage
    // is left alone (Django's update does nothing), the cookie unchanged.
    for uri in ["/m/?then=redirect:/m/", "/m/"] {
        let out = browser.get(&p, uri).await;
        assert!(set_cookie(&out, "messages").is_none(), "{uri}");
    }
    assert_eq!(browser.cookie("messages"), Some(stored.as_str()));

    // A message added before they are shown is stored after them.
    browser.get(&p, "/m/?add=20:Also&then=redirect:/m/").await;
    let out = browser.get(&p, "/m/?then=template:page.html").await;
    assert_eq!(page(&out), "30 warning: Careful\n20 info: Also\nlevels=25");
}

#[tokio::test]
async fn a_rendered_page_with_the_processor_consumes_them_shown_or_not() {
    // The deviation from Django: the processor cannot see what the
    // template reads, so rendering with it marks the messages used.
    let p = App::default().load().await;
    let mut browser = Browser::default();
    browser.get(&p, "/m/?add=25:Unseen&then=redirect:/m/").await;
    let out = browser.get(&p, "/m/?then=template:quiet.html").await;
    assert_eq!(page(&out), QUIET);
    assert_eq!(set_cookie(&out, "messages").as_deref(), Some(DELETED));
}

#[tokio::test]
async fn messages_added_while_rendering_show_on_the_same_page() {
    let p = App::default().load().await;
    let mut browser = Browser::default();
    let out = browser
        .get(&p, "/m/?add=40:Failed:big&then=template:page.html")
        .await;
    assert_eq!(page(&out), "40 big error: Failed\nlevels=25");
    // Shown, so not stored: Django's update stores only what was added
    // after the iteration, here nothing, and deletes the cookie.
    assert_eq!(set_cookie(&out, "messages").as_deref(), Some(DELETED));
}

#[tokio::test]
async fn the_cookie_is_deleted_when_nothing_remains() {
    let p = App::default().load().await;
    // Django deletes the cookie whenever the messages were read and
    // nothing is left, whether or not the client had one.
    let out = run(&p, get("/m/?then=template:page.html")).await;
    assert_eq!(page(&out), "levels=25");
    assert_eq!(set_cookies(&out), vec![DELETED.to_owned()]);
    // Not read and nothing added: no cookie at all.
    let out = run(&p, get("/m/")).await;
    assert!(set_cookies(&out).is_empty());
}

#[tokio::test]
pub(crate) async fn messages_probe() {
    // The API the probe view calls: get_messages marks them used, so only
    // what is added after reading is stored (Django's update with `used`).
    let p = App::default().load().await;
    let mut browser = Browser::default();
    browser.get(&p, "/m/?add=25:First&then=redirect:/m/").await;
    let out = browser.get(&p, "/m/?read=1&add=20:Second").await;
    assert_eq!(page(&out), "ok\n25:First:success");
    let out = browser.get(&p, "/m/?read=1").await;
    assert_eq!(page(&out), "ok\n20:Second:info");
    let out = browser.get(&p, "/m/?read=1").await;
    assert_eq!(page(&out), "ok");

    // Empty messages are dropped; extra tags come before the level's tag;
    // reading twice in a request reads the same messages.
    let out = browser
        .get(&p, "/m/?add=25:&add=25:Tagged:a%20b&read=1&read=1")
        .await;
    assert_eq!(
        page(&out),
        "ok\n25:Tagged:a b success\n25:Tagged:a b success"
    );
}

#[tokio::test]
async fn levels_below_the_minimum_are_dropped() {
    // Django's default MESSAGE_LEVEL is INFO: DEBUG is dropped.
    let p = App::default().load().await;
    let out = run(
        &p,
        get("/m/?add=10:Debug&add=20:Info&then=template:page.html"),
    )
    .await;
    assert_eq!(page(&out), "20 info: Info\nlevels=25");

    // `level` is MESSAGE_LEVEL; set_level changes it for the request.
    let p = App {
        messages: Some("storage = \"cookie\", level = 30"),
        ..App::default()
    }
    .load()
    .await;
    let out = run(
        &p,
        get("/m/?add=25:Success&add=30:Warning&then=template:page.html"),
    )
    .await;
    assert_eq!(page(&out), "30 warning: Warning\nlevels=25");
    let out = run(&p, get("/m/?level=10&add=10:Debug&then=template:page.html")).await;
    assert_eq!(page(&out), "10 debug: Debug\nlevels=25");

    // A level that is not a number fails the layer, naming the key.
    let p = App {
        messages: Some("storage = \"cookie\", level = \"info\""),
        ..App::default()
    }
    .load()
    .await;
    let out = run(&p, get("/m/")).await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("level must be a whole number")),
        "{:#?}",
        out.log
    );
}

#[tokio::test]
async fn a_tampered_cookie_is_ignored() {
    let p = App::default().load().await;
    let mut browser = Browser::default();
    browser
        .get(&p, "/m/?add=25:Genuine&then=redirect:/m/")
        .await;
    let genuine = browser.cookie("messages").unwrap().to_owned();
    let (value, signature) = genuine.rsplit_once(':').unwrap();
    // Another payload under the old signature, and the old payload under
    // a changed signature.
    let forged_payload = format!(
        "{}:{signature}",
        b64(br#"[["__json_message",0,40,"Forged",""]]"#)
    );
    let flipped = if signature.ends_with('A') { 'B' } else { 'A' };
    let forged_signature = format!("{value}:{}{flipped}", &signature[..signature.len() - 1]);
    for forged in [forged_payload, forged_signature, "garbage".to_owned()] {
        let cookie = format!("messages={forged}");
        let out = run(
            &p,
            request("GET", "/m/?then=template:page.html", &[("Cookie", &cookie)]),
        )
        .await;
        assert_eq!(page(&out), "levels=25", "{forged}");
        assert_eq!(set_cookie(&out, "messages").as_deref(), Some(DELETED));
    }
}

#[tokio::test]
async fn adding_without_the_middleware_is_djangos_message_failure() {
    let p = App {
        messages: None,
        ..App::default()
    }
    .load()
    .await;
    let out = run(&p, get("/m/?add=25:Lost")).await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log.iter().any(|l| l.contains(
            "MessageFailure: You cannot add messages without installing the messages middleware"
        )),
        "{:#?}",
        out.log
    );
    // fail_silently drops it; reading without the middleware reads nothing
    // (Django's get_messages gives []), and the processor gives no messages.
    let out = run(
        &p,
        get("/m/?add=25:Lost&silent=1&read=1&then=template:page.html"),
    )
    .await;
    assert_eq!(page(&out), "levels=25");
}

#[tokio::test]
async fn session_storage_keeps_them_in_the_session() {
    let p = App {
        messages: Some("storage = \"session\""),
        sessions: true,
        ..App::default()
    }
    .load()
    .await;
    let mut browser = Browser::default();
    let out = browser
        .get(&p, "/m/?add=25:In%20the%20session&then=redirect:/m/")
        .await;
    assert!(set_cookie(&out, "messages").is_none());
    assert!(
        set_cookie(&out, "sessionid").is_some(),
        "the session middleware saved the changed session"
    );
    // Kept while not shown: the session is not even saved again.
    let out = browser.get(&p, "/m/").await;
    assert!(set_cookies(&out).is_empty(), "{:?}", set_cookies(&out));

    let out = browser.get(&p, "/m/?then=template:page.html").await;
    assert_eq!(page(&out), "25 success: In the session\nlevels=25");
    let out = browser.get(&p, "/m/?then=template:page.html").await;
    assert_eq!(page(&out), "levels=25");
}

#[tokio::test]
async fn the_session_storages_need_the_session_middleware() {
    for storage in ["session", "fallback"] {
        let config = format!("storage = \"{storage}\"");
        let p = App {
            messages: Some(&config),
            ..App::default()
        }
        .load()
        .await;
        let out = run(&p, get("/m/")).await;
        assert_eq!(out.response.status(), 500, "{storage}");
        assert!(
            out.log
                .iter()
                .any(|l| l.contains("requires session middleware to be installed")),
            "{storage}: {:#?}",
            out.log
        );
    }
}

#[tokio::test]
async fn fallback_is_the_default_and_overflows_into_the_session() {
    // Three messages that do not fit in a 200-byte cookie together
    // (241 bytes; one with the sentinel makes 173, two 220): under
    // `fallback` the cookie keeps the oldest that fit, with Django's
    // not-finished sentinel, and the session the rest.
    let p = App {
        messages: Some("max_cookie_size = 200"),
        sessions: true,
        ..App::default()
    }
    .load()
    .await;
    let mut browser = Browser::default();
    let uri = format!(
        "/m/?add=20:{}&add=20:{}&add=20:{}&then=redirect:/m/",
        long(1),
        long(2),
        long(3)
    );
    browser.get(&p, &uri).await;
    let cookie = browser.cookie("messages").expect("the cookie holds some");
    assert!(cookie.len() <= 200, "{cookie}");
    let stored = django_unsign(cookie).expect("Django's signature");
    assert!(
        stored.ends_with(",\"__messagesnotfinished__\"]"),
        "{stored}"
    );
    assert!(
        stored.contains(&long(1)) && !stored.contains(&long(2)),
        "the oldest stay in the cookie: {stored}"
    );
    assert!(
        browser.cookie("sessionid").is_some(),
        "the rest went to the session"
    );

    let out = browser.get(&p, "/m/?then=template:page.html").await;
    assert_eq!(
        page(&out),
        format!(
            "20 info: {}\n20 info: {}\n20 info: {}\nlevels=25",
            long(1),
            long(2),
            long(3)
        )
    );
    // Both storages held messages, so both are emptied.
    assert_eq!(set_cookie(&out, "messages").as_deref(), Some(DELETED));
    let out = browser.get(&p, "/m/?then=template:page.html").await;
    assert_eq!(page(&out), "levels=25");

    // What fits stays in the cookie alone: the session is not touched.
    let mut browser = Browser::default();
    let out = browser.get(&p, "/m/?add=25:Short&then=redirect:/m/").await;
    assert!(set_cookie(&out, "messages").is_some());
    assert!(set_cookie(&out, "sessionid").is_none());
}

#[tokio::test]
async fn the_cookie_storage_drops_the_oldest_that_do_not_fit() {
    // Django's `_store` with `remove_oldest`: the newest that fit with the
    // sentinel stay (here only the third: the last two make 221 bytes).
    let p = App {
        messages: Some("storage = \"cookie\", max_cookie_size = 200"),
        ..App::default()
    }
    .load()
    .await;
    let mut browser = Browser::default();
    let uri = format!(
        "/m/?add=20:{}&add=20:{}&add=20:{}&then=redirect:/m/",
        long(1),
        long(2),
        long(3)
    );
    let out = browser.get(&p, &uri).await;
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("2 message(s) did not fit in the cookie and were dropped")),
        "{:#?}",
        out.log
    );
    let stored = django_unsign(browser.cookie("messages").unwrap()).unwrap();
    assert!(
        stored.ends_with(",\"__messagesnotfinished__\"]"),
        "{stored}"
    );
    let out = browser.get(&p, "/m/?then=template:page.html").await;
    assert_eq!(page(&out), format!("20 info: {}\nlevels=25", long(3)));
}

/// A message text that compresses badly: 48 hex digits.
fn long(n: u8) -> String {
    format!("{:x}", Sha256::digest([n]))[..48].to_owned()
}

#[tokio::test]
pub(crate) async fn messages_context() {
    // Each message's fields, and Django's MESSAGE_TAGS as `tags`; the
    // text is escaped as any context value is.
    let p = App {
        processor: "tags = [\"40=danger\", \"50=critical\"]",
        ..App::default()
    }
    .load()
    .await;
    let out = run(
        &p,
        get("/m/?add=40:Bad:x&add=50:Worse&add=33:Odd&add=25:%3Cb%3E&then=template:fields.html"),
    )
    .await;
    assert_eq!(
        page(&out),
        "[Bad|40|x danger|danger|x][Worse|50|critical|critical|][Odd|33|||][&lt;b&gt;|25|success|success|] \
         10 20 25 30 40 "
    );
}

#[tokio::test]
async fn a_cookie_django_signed_is_read_and_ours_verify_as_django_s() {
    // The test's signer is Django's algorithm written again; pin it to
    // the value Django's `signing.Signer` gives for these inputs
    // (salt "django.contrib.messages", key b"django.http.cookies" + "s3cret").
    assert_eq!(
        django_signature("s3cret", "abc"),
        "tf7cK_fSBOEH2Mq26juDWDlSeK5F-MF5Q-lcp_hmcgI"
    );
    let p = App::default().load().await;
    // Django's JSON: a message marked safe (read as plain text here), one
    // without extra_tags (Django's None), compressed and not.
    let json = r#"[["__json_message",1,25,"<i>Django</i>"],["__json_message",0,40,"Second","x"]]"#;
    let plain = b64(json.as_bytes());
    let compressed = format!(".{}", b64(&zlib(json.as_bytes())));
    for value in [plain, compressed] {
        let cookie = format!("messages={value}:{}", django_signature(&secret(), &value));
        let out = run(
            &p,
            request("GET", "/m/?then=template:page.html", &[("Cookie", &cookie)]),
        )
        .await;
        assert_eq!(
            page(&out),
            "25 success: &lt;i&gt;Django&lt;/i&gt;\n40 x error: Second\nlevels=25",
            "{value}"
        );
    }

    // Ours: Django's signature over Django's JSON.
    let mut browser = Browser::default();
    browser.get(&p, "/m/?add=25:Saved&then=redirect:/m/").await;
    let ours = browser.cookie("messages").unwrap();
    assert_eq!(
        django_unsign(ours).as_deref(),
        Some(r#"[["__json_message",0,25,"Saved",""]]"#)
    );
    // Long enough to shrink, it is compressed as Django compresses it.
    let mut browser = Browser::default();
    browser
        .get(
            &p,
            "/m/?add=25:Saved&add=25:Saved&add=25:Saved&add=25:Saved&then=redirect:/m/",
        )
        .await;
    let ours = browser.cookie("messages").unwrap();
    assert!(ours.starts_with('.'), "{ours}");
    assert_eq!(
        django_unsign(ours).unwrap(),
        format!(
            "[{}]",
            [r#"["__json_message",0,25,"Saved",""]"#; 4].join(",")
        )
    );
}

#[tokio::test]
pub(crate) async fn py_messages_view() {
    // `shallot.messages` in a Python view: its messages reach the Rust
    // processor, and it reads (and so consumes) the ones Rust added.
    let p = App {
        extra: "[views.py]\ncomponent = \"{py-messages-view}\"\n[[routes]]\npath = \"py/\"\nview = \"py\"\n",
        ..App::default()
    }
    .load()
    .await;
    let mut browser = Browser::default();
    let out = browser.get(&p, "/py/?add=From%20Python").await;
    assert_eq!(out.response.status(), 302, "{:#?}", out.log);
    let out = browser.get(&p, "/m/?then=template:page.html").await;
    assert_eq!(page(&out), "25 success: From Python\nlevels=25");

    browser
        .get(&p, "/m/?add=40:From%20Rust:x&then=redirect:/py/")
        .await;
    let out = browser.get(&p, "/py/").await;
    assert_eq!(page(&out), "40 x error: From Rust");
    let out = browser.get(&p, "/py/").await;
    assert_eq!(page(&out), "");

    // set_level, and MessageFailure without the middleware.
    let out = browser.get(&p, "/py/?level=30&add=Dropped").await;
    assert_eq!(out.response.status(), 302);
    assert!(set_cookie(&out, "messages").is_none());
    let p = App {
        messages: None,
        extra: "[views.py]\ncomponent = \"{py-messages-view}\"\n[[routes]]\npath = \"py/\"\nview = \"py\"\n",
        ..App::default()
    }
    .load()
    .await;
    let out = run(&p, get("/py/?add=Lost")).await;
    assert_eq!(out.response.status(), 500);
    assert!(
        out.log
            .iter()
            .any(|l| l
                .contains("You cannot add messages without installing the messages middleware")),
        "{:#?}",
        out.log
    );
}

// ===== Django's signing, written again for the tests =====

fn secret() -> String {
    std::env::var("PATH").expect("PATH is set")
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// `get_cookie_signer(salt="django.contrib.messages").signature(value)`
/// with SECRET_KEY = `secret`.
fn django_signature(secret: &str, value: &str) -> String {
    let key = Sha256::new()
        .chain_update(b"django.contrib.messagessigner")
        .chain_update(b"django.http.cookies")
        .chain_update(secret.as_bytes())
        .finalize();
    b64(&hmac_sha256(&key, value.as_bytes()))
}

/// The JSON in a cookie signed with PATH, if Django's signature holds.
fn django_unsign(cookie: &str) -> Option<String> {
    let (value, signature) = cookie.rsplit_once(':')?;
    if django_signature(&secret(), value) != signature {
        return None;
    }
    let (compressed, base64d) = match value.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let mut data = unb64(base64d);
    if compressed {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(data.as_slice())
            .read_to_end(&mut out)
            .unwrap();
        data = out;
    }
    Some(String::from_utf8(data).unwrap())
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// URL-safe base64 without padding (Django's `b64_encode`).
fn b64(bytes: &[u8]) -> String {
    let mut bits = String::new();
    for b in bytes {
        bits.push_str(&format!("{b:08b}"));
    }
    while !bits.len().is_multiple_of(6) {
        bits.push('0');
    }
    bits.as_bytes()
        .chunks(6)
        .map(|six| {
            let n = six
                .iter()
                .fold(0, |n, &bit| n * 2 + usize::from(bit - b'0'));
            char::from(B64[n])
        })
        .collect()
}

fn unb64(text: &str) -> Vec<u8> {
    let mut bits = String::new();
    for c in text.bytes() {
        let n = B64.iter().position(|&b| b == c).unwrap();
        bits.push_str(&format!("{n:06b}"));
    }
    bits.as_bytes()
        .chunks(8)
        .filter(|eight| eight.len() == 8)
        .map(|eight| eight.iter().fold(0u8, |n, &bit| n * 2 + (bit - b'0')))
        .collect()
}
