//! Static files over a real socket: what nginx and WhiteNoise do (MIME
//! types, validators and 304s, one byte range, HEAD, precompressed
//! siblings), what they refuse (traversal in every spelling, dotfiles,
//! folders, symlinks leaving the folder, NUL), serving before the chain or
//! through it, and `collectstatic`'s hashed names and manifest.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use shallot::config::ServerConfig;
use shallot_tests::pipeline;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A fresh folder `static/` with `files`, and a `secret.txt` beside it
/// that nothing may reach.
fn site(files: &[(&str, &[u8])]) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("shallot-test-static-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("static")).unwrap();
    std::fs::write(dir.join("secret.txt"), "TOP SECRET").unwrap();
    for (name, bytes) in files {
        let path = dir.join("static").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

/// Serves a pipeline with a `probe` middleware (it adds `X-Seen: a` to
/// every response it sees) and `[static]` as given, on a loopback port.
async fn serve(static_toml: &str) -> SocketAddr {
    let app = format!(
        r#"
[[middleware]]
name = "a"
component = "{{probe}}"
config = {{ name = "a" }}

[views.v]
component = "{{probe-view}}"

[[routes]]
path = "v"
view = "v"

[static]
{static_toml}
"#
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let live = Arc::new(shallot::LivePipeline::fixed(
        pipeline(&app).await,
        shallot_tests::runtime().clone(),
    ));
    tokio::spawn(async move {
        let settings = ServerConfig::default();
        shallot::server::serve(listener, live, &settings, std::future::pending()).await
    });
    addr
}

fn dirs(site: &Path) -> String {
    format!("dirs = [{:?}]", site.join("static").to_str().unwrap())
}

struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        self.head.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with(&prefix)
                .then(|| l[prefix.len()..].trim().to_owned())
        })
    }
}

/// Sends `method path` with `headers` on a fresh connection, written raw
/// so that nothing normalises the path, and reads the reply to the end.
async fn fetch(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
        .await
        .expect("reply in time")
        .unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    Reply {
        status: head[9..12].parse().unwrap(),
        head,
        body: raw[split + 4..].to_vec(),
    }
}

async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    fetch(addr, "GET", path, headers).await
}

const CSS: &[u8] = b"body { color: #333; }\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_served_with_its_type_validators_and_cache_control_before_the_chain() {
    let site = site(&[
        ("css/site.css", CSS),
        ("app.js", b"let x = 1;"),
        ("logo.png", b"\x89PNG"),
    ]);
    let addr = serve(&dirs(&site)).await;
    let r = get(addr, "/static/css/site.css", &[]).await;
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.body, CSS);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(r.header("content-length").as_deref(), Some("22"));
    assert_eq!(r.header("accept-ranges").as_deref(), Some("bytes"));
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    let etag = r.header("etag").expect("an ETag");
    assert!(etag.starts_with('"') && etag.ends_with("-16\""), "{etag}");
    assert!(r.header("last-modified").unwrap().ends_with(" GMT"));
    // nginx's part: no component ran.
    assert_eq!(r.header("x-seen"), None, "{}", r.head);
    assert_eq!(
        get(addr, "/static/app.js", &[])
            .await
            .header("content-type")
            .as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        get(addr, "/static/logo.png", &[])
            .await
            .header("content-type")
            .as_deref(),
        Some("image/png")
    );
    // The rest of the site still goes through the chain.
    let v = get(addr, "/v", &[]).await;
    assert_eq!(v.status, 200);
    assert_eq!(v.header("x-seen").as_deref(), Some("a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_give_304_and_if_none_match_decides_over_if_modified_since() {
    let site = site(&[("site.css", CSS)]);
    let addr = serve(&dirs(&site)).await;
    let first = get(addr, "/static/site.css", &[]).await;
    let etag = first.header("etag").unwrap();
    let modified = first.header("last-modified").unwrap();

    let r = get(addr, "/static/site.css", &[("If-None-Match", &etag)]).await;
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag").as_deref(), Some(etag.as_str()));
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    // A weak tag and a list match too (weak comparison).
    let weak = format!("\"other\", W/{etag}");
    assert_eq!(
        get(addr, "/static/site.css", &[("If-None-Match", &weak)])
            .await
            .status,
        304
    );
    assert_eq!(
        get(addr, "/static/site.css", &[("If-None-Match", "*")])
            .await
            .status,
        304
    );

    let r = get(
        addr,
        "/static/site.css",
        &[("If-Modified-Since", &modified)],
    )
    .await;
    assert_eq!(r.status, 304);
    let old = "Mon, 01 Jan 2001 00:00:00 GMT";
    assert_eq!(
        get(addr, "/static/site.css", &[("If-Modified-Since", old)])
            .await
            .status,
        200
    );
    // If-None-Match present and not matching: 200 even though the date
    // alone would give 304 (RFC 9110 13.1.3).
    let r = get(
        addr,
        "/static/site.css",
        &[
            ("If-None-Match", "\"stale\""),
            ("If-Modified-Since", &modified),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, CSS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_byte_range_gives_206_and_a_range_past_the_end_416() {
    let site = site(&[("digits.txt", b"0123456789")]);
    let addr = serve(&dirs(&site)).await;
    let path = "/static/digits.txt";
    for (range, body, content_range) in [
        ("bytes=0-3", &b"0123"[..], "bytes 0-3/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-2", b"89", "bytes 8-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
    ] {
        let r = get(addr, path, &[("Range", range)]).await;
        assert_eq!(r.status, 206, "{range}: {}", r.head);
        assert_eq!(r.body, body, "{range}");
        assert_eq!(r.header("content-range").as_deref(), Some(content_range));
        assert_eq!(r.header("content-length"), Some(body.len().to_string()));
    }
    for range in ["bytes=10-", "bytes=99-100", "bytes=-0"] {
        let r = get(addr, path, &[("Range", range)]).await;
        assert_eq!(r.status, 416, "{range}: {}", r.head);
        assert_eq!(r.header("content-range").as_deref(), Some("bytes */10"));
    }
    // Several ranges, another unit, nonsense: the whole file.
    for range in ["bytes=0-1,4-5", "items=0-1", "bytes=x-y", "bytes=5-2"] {
        let r = get(addr, path, &[("Range", range)]).await;
        assert_eq!(r.status, 200, "{range}");
        assert_eq!(r.body, b"0123456789");
    }
    // If-Range: the current tag gets the range, a stale one the whole.
    let etag = get(addr, path, &[]).await.header("etag").unwrap();
    let r = get(addr, path, &[("Range", "bytes=0-0"), ("If-Range", &etag)]).await;
    assert_eq!((r.status, r.body.as_slice()), (206, &b"0"[..]));
    let r = get(
        addr,
        path,
        &[("Range", "bytes=0-0"), ("If-Range", "\"old\"")],
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_has_the_headers_without_the_body_and_other_methods_get_405() {
    let site = site(&[("site.css", CSS)]);
    let addr = serve(&dirs(&site)).await;
    let r = fetch(addr, "HEAD", "/static/site.css", &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-length").as_deref(), Some("22"));
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/css; charset=utf-8")
    );
    for method in ["POST", "PUT", "DELETE"] {
        let r = fetch(addr, method, "/static/site.css", &[("Content-Length", "0")]).await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow").as_deref(), Some("GET, HEAD"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn precompressed_siblings_are_chosen_by_accept_encoding_with_vary() {
    let site = site(&[
        ("app.js", b"plain js"),
        ("app.js.br", b"brotli js"),
        ("app.js.gz", b"gzip js"),
        ("only.css", CSS),
    ]);
    let addr = serve(&dirs(&site)).await;
    let path = "/static/app.js";
    for (accept, body, coding) in [
        ("gzip, deflate, br", &b"brotli js"[..], Some("br")),
        ("gzip", b"gzip js", Some("gzip")),
        ("br;q=0, gzip", b"gzip js", Some("gzip")),
        ("identity", b"plain js", None),
        ("", b"plain js", None),
    ] {
        let headers: &[(&str, &str)] = if accept.is_empty() {
            &[]
        } else {
            &[("Accept-Encoding", accept)]
        };
        let r = get(addr, path, headers).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, body, "{accept:?}");
        assert_eq!(
            r.header("content-encoding").as_deref(),
            coding,
            "{accept:?}"
        );
        assert_eq!(r.header("vary").as_deref(), Some("Accept-Encoding"));
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("text/javascript; charset=utf-8")
        );
    }
    // Each representation has its own tag.
    let br = get(addr, path, &[("Accept-Encoding", "br")])
        .await
        .header("etag");
    let plain = get(addr, path, &[]).await.header("etag");
    assert_ne!(br, plain);
    // A file without siblings does not vary.
    assert_eq!(
        get(addr, "/static/only.css", &[("Accept-Encoding", "br")])
            .await
            .header("vary"),
        None
    );
    // A sibling older than its file is stale and ignored.
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    let gz = std::fs::File::options()
        .write(true)
        .open(site.join("static/app.js.gz"))
        .unwrap();
    gz.set_modified(old).unwrap();
    let br = std::fs::File::options()
        .write(true)
        .open(site.join("static/app.js.br"))
        .unwrap();
    br.set_modified(old).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = get(addr, path, &[("Accept-Encoding", "gzip, br")]).await;
    assert_eq!(r.body, b"plain js");
    assert_eq!(r.header("content-encoding"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_dotfiles_folders_symlinks_out_and_nul_are_404() {
    let site = site(&[
        ("css/site.css", CSS),
        (".env", b"SECRET=1"),
        ("css/.hidden", b"x"),
    ]);
    std::os::unix::fs::symlink(site.join("secret.txt"), site.join("static/out.txt")).unwrap();
    std::os::unix::fs::symlink(site.join("static/css/site.css"), site.join("static/in.css"))
        .unwrap();
    std::os::unix::fs::symlink(&site, site.join("static/up")).unwrap();
    let addr = serve(&dirs(&site)).await;
    for path in [
        "/static/../secret.txt",
        "/static/css/../../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/css/%2e%2e/%2e%2e/secret.txt",
        "/static/..%5csecret.txt",
        "/static/.env",
        "/static/css/.hidden",
        "/static/css/",
        "/static/",
        "/static/css",
        "/static/out.txt",
        "/static/up/secret.txt",
        "/static/site.css%00.txt",
        "/static/nothing-here.css",
    ] {
        let r = get(addr, path, &[]).await;
        assert_eq!(r.status, 404, "{path} should be refused: {}", r.head);
        assert!(
            !String::from_utf8_lossy(&r.body).contains("SECRET"),
            "{path} leaked"
        );
    }
    // A symlink that stays inside the folder is fine.
    let r = get(addr, "/static/in.css", &[]).await;
    assert_eq!((r.status, r.body.as_slice()), (200, CSS));
    // Repeated slashes are merged, as nginx does.
    assert_eq!(get(addr, "/static//css//site.css", &[]).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_folder_that_has_a_name_wins_and_an_edit_is_seen_within_a_second() {
    let a = site(&[("site.css", b"from a")]);
    let b = site(&[("site.css", b"from b"), ("only-b.css", b"b")]);
    let toml = format!(
        "dirs = [{:?}, {:?}]",
        a.join("static").to_str().unwrap(),
        b.join("static").to_str().unwrap()
    );
    let addr = serve(&toml).await;
    assert_eq!(get(addr, "/static/site.css", &[]).await.body, b"from a");
    assert_eq!(get(addr, "/static/only-b.css", &[]).await.body, b"b");
    let before = get(addr, "/static/site.css", &[]).await.header("etag");
    std::fs::write(a.join("static/site.css"), b"edited in a").unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = get(addr, "/static/site.css", &[]).await;
    assert_eq!(r.body, b"edited in a");
    assert_ne!(r.header("etag"), before);
    // An edit that keeps the size is seen too (the exact modification
    // time, not only the size, decides whether held bytes are reused).
    std::fs::write(a.join("static/site.css"), b"EDITED IN A").unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        get(addr, "/static/site.css", &[]).await.body,
        b"EDITED IN A"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_is_streamed_whole_and_by_range() {
    // Larger than what is held in memory: read from disk in chunks.
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let site = site(&[("big.bin", &big)]);
    let addr = serve(&dirs(&site)).await;
    let r = get(addr, "/static/big.bin", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(big.len().to_string()));
    assert!(r.body == big, "the streamed body differs");
    let r = get(addr, "/static/big.bin", &[("Range", "bytes=2999990-")]).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &big[2_999_990..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_chain_every_middleware_sees_the_file() {
    let site = site(&[("site.css", CSS)]);
    let addr = serve(&format!("{}\nserve = \"chain\"", dirs(&site))).await;
    let r = get(addr, "/static/site.css", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, CSS);
    assert_eq!(r.header("x-seen").as_deref(), Some("a"), "{}", r.head);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/css; charset=utf-8")
    );
    let etag = r.header("etag").unwrap();
    assert_eq!(
        get(addr, "/static/site.css", &[("If-None-Match", &etag)])
            .await
            .status,
        304
    );
    let missing = get(addr, "/static/missing.css", &[]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("x-seen").as_deref(), Some("a"));
    // `off`: the prefix is an ordinary path (here, not routed).
    let addr = serve(&format!("{}\nserve = \"off\"", dirs(&site))).await;
    let r = get(addr, "/static/site.css", &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-seen").as_deref(), Some("a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collectstatic_writes_hashed_names_a_manifest_and_compressed_siblings() {
    let css = b"@import \"base.css\";\nbody { background: url('../img/bg.png?v=1#x'); }\n.a { background: url(data:image/png;base64,AAAA); }\n";
    let site = site(&[
        ("css/site.css", css),
        ("css/base.css", b"h1 { font-weight: bold; }"),
        ("img/bg.png", b"\x89PNG not really"),
        (
            "js/app.js",
            "console.log('shallot');\n".repeat(400).as_bytes(),
        ),
        (".DS_Store", b"junk"),
    ]);
    let root = site.join("collected");
    let config = shallot::config::StaticConfig {
        dirs: vec![site.join("static")],
        root: Some(root.clone()),
        ..Default::default()
    };
    let done = shallot::statics::collect::collect(&config).unwrap();
    assert_eq!(done.files, 4);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("staticfiles.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["version"], "1.1");
    let paths = manifest["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 4, "{paths:?}");
    assert!(!paths.contains_key(".DS_Store"));
    let hashed_png = paths["img/bg.png"].as_str().unwrap();
    let hashed_base = paths["css/base.css"].as_str().unwrap();
    let hashed_css = paths["css/site.css"].as_str().unwrap();
    // Django's naming: the first 12 hex digits of the MD5 of the content.
    let md5_png = "img/bg.";
    assert!(hashed_png.starts_with(md5_png) && hashed_png.ends_with(".png"));
    assert_eq!(hashed_png.len(), "img/bg.".len() + 12 + ".png".len());
    // The hashed stylesheet refers to hashed names, keeping query and
    // fragment; data URLs are left alone; the unhashed copy is original.
    let rewritten = std::fs::read_to_string(root.join(hashed_css)).unwrap();
    let png_file = hashed_png.rsplit('/').next().unwrap();
    let base_file = hashed_base.rsplit('/').next().unwrap();
    assert!(
        rewritten.contains(&format!("url('../img/{png_file}?v=1#x')")),
        "{rewritten}"
    );
    assert!(
        rewritten.contains(&format!("@import \"{base_file}\"")),
        "{rewritten}"
    );
    assert!(rewritten.contains("url(data:image/png;base64,AAAA)"));
    assert_eq!(std::fs::read(root.join("css/site.css")).unwrap(), css);
    // A compressible file gets both siblings, under both names, holding
    // its content; a PNG gets none.
    let js = "console.log('shallot');\n".repeat(400);
    let hashed_js = paths["js/app.js"].as_str().unwrap();
    for name in ["js/app.js", hashed_js] {
        let gz = std::fs::read(root.join(format!("{name}.gz"))).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text)
            .unwrap();
        assert_eq!(text, js);
        let br = std::fs::read(root.join(format!("{name}.br"))).unwrap();
        assert!(br.len() < js.len() / 10, "brotli: {} bytes", br.len());
    }
    assert!(!root.join("img/bg.png.gz").exists());

    // Served from the root: the hashed name is cached for a year, the
    // plain one for max_age_secs, and static() in a template links the
    // hashed name.
    let toml = format!(
        "root = {:?}\ndirs = [{:?}]",
        root.to_str().unwrap(),
        site.join("static").to_str().unwrap()
    );
    let addr = serve(&toml).await;
    let r = get(addr, &format!("/static/{hashed_css}"), &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    let r = get(addr, "/static/css/site.css", &[]).await;
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    let config = shallot_tests::config(&format!("[static]\n{toml}"));
    let files = shallot::statics::StaticFiles::load(&config.static_files).unwrap();
    assert_eq!(
        files.manifest().unwrap().lookup("css/site.css"),
        Some(hashed_css)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collectstatic_refuses_a_stylesheet_referring_to_a_missing_file() {
    let site = site(&[(
        "css/site.css",
        b"body { background: url(../img/gone.png); }",
    )]);
    let config = shallot::config::StaticConfig {
        dirs: vec![site.join("static")],
        root: Some(site.join("collected")),
        ..Default::default()
    };
    let err = shallot::statics::collect::collect(&config).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file 'img/gone.png' referenced from 'css/site.css' could not be found"
    );
}
