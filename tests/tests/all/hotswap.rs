//! Hot swap under load: every request runs on exactly one pipeline
//! version, none fails, and a broken reload changes nothing for clients.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use shallot::LivePipeline;
use shallot_tests::{get, guests, logged, with_guests};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shallot-hotswap-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Replaces a file the way deploy tools do: write aside, then rename.
fn replace(path: &Path, contents: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Two probes that both mark responses with `version`: a response from
/// one version says `vN, vN`; a mix would say `v1, v2`.
fn config(version: &str, component: &str) -> String {
    with_guests(&format!(
        "[[middleware]]\nname = \"a\"\ncomponent = \"{component}\"\nconfig = {{ name = \"{version}\" }}\n\
         [[middleware]]\nname = \"b\"\ncomponent = \"{component}\"\nconfig = {{ name = \"{version}\" }}\n\
         [views.v]\ncomponent = \"{{probe-view}}\"\n[[routes]]\npath = \"ok\"\nview = \"v\"\n"
    ))
}

struct Load {
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<Vec<String>>>,
}

/// Clients sending requests back to back; each returns what went wrong.
fn start_load(
    live: &Arc<LivePipeline>,
    clients: usize,
    ok: fn(&http::Response<bytes::Bytes>) -> bool,
) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let tasks = (0..clients)
        .map(|_| {
            let (live, stop, served) = (live.clone(), stop.clone(), served.clone());
            tokio::spawn(async move {
                let mut bad = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let resp = live.current().handle(get("/ok")).await;
                    if !ok(&resp) {
                        bad.push(format!("{} {:?}", resp.status(), resp.headers()));
                    }
                    served.fetch_add(1, Ordering::Relaxed);
                }
                bad
            })
        })
        .collect();
    Load {
        stop,
        served,
        tasks,
    }
}

impl Load {
    async fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let mut bad = Vec::new();
        for task in self.tasks {
            bad.extend(task.await.unwrap());
        }
        (self.served.load(Ordering::Relaxed), bad)
    }
}

fn one_version(resp: &http::Response<bytes::Bytes>) -> bool {
    let seen: Vec<&str> = resp
        .headers()
        .get_all("x-seen")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    resp.status() == 200 && (seen == ["v1", "v1"] || seen == ["v2", "v2"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_swaps_under_load_lose_no_request_and_never_mix_versions() {
    let dir = temp_dir("fifty");
    let path = dir.join("shallot.toml");
    replace(&path, config("v1", "{probe}").as_bytes());
    let live = Arc::new(LivePipeline::load(&path).await.unwrap());
    let load = start_load(&live, 4, one_version);

    for i in 0..50 {
        let version = if i % 2 == 0 { "v2" } else { "v1" };
        if i == 25 {
            // A broken component in the middle of the sequence.
            let junk = dir.join("junk.wasm");
            std::fs::write(&junk, b"\0asm not really").unwrap();
            replace(&path, config("v3", junk.to_str().unwrap()).as_bytes());
            assert!(live.reload().await.is_err());
            let err = live.status().last_error.unwrap();
            assert!(err.contains("cannot compile"), "{err}");
        }
        replace(&path, config(version, "{probe}").as_bytes());
        assert!(live.reload().await.unwrap(), "swap {i} changed something");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (served, bad) = load.finish().await;
    assert!(
        bad.is_empty(),
        "{} of {served} requests failed or mixed versions: {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
    assert!(
        served > 50,
        "the load kept running during the swaps ({served} requests)"
    );
    let status = live.status();
    assert_eq!(status.version, 51);
    assert_eq!(status.last_error, None, "a good reload clears the error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_swaps_a_replaced_component_file_once_and_survives_a_half_written_one() {
    let dir = temp_dir("watch");
    let component = dir.join("mw.wasm");
    let probe = std::fs::read(guests::PROBE).unwrap();
    let security = std::fs::read(guests::SECURITY_HEADERS).unwrap();
    replace(&component, &probe);
    let path = dir.join("shallot.toml");
    replace(&path, config("v1", component.to_str().unwrap()).as_bytes());
    let live = Arc::new(LivePipeline::load(&path).await.unwrap());
    let _watch = shallot::watch::spawn(live.clone()).unwrap();

    // A component written in two chunks: the first half alone would not
    // compile; the watcher reloads once both are there.
    let half = security.len() / 2;
    std::fs::write(&component, &security[..half]).unwrap();
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&component)
            .unwrap();
        f.write_all(&security[half..]).unwrap();
    }
    let swapped = wait_for(|| {
        let live = live.clone();
        async move {
            live.current()
                .handle(get("/ok"))
                .await
                .headers()
                .contains_key("x-frame-options")
        }
    })
    .await;
    assert!(
        swapped,
        "the new component was never served (status: {:?})",
        live.status()
    );
    assert_eq!(live.status().last_error, None);

    // Touched twice in a row: one reload, or none if nothing changed.
    let before = live.status().version;
    replace(&component, &probe);
    replace(&component, &probe);
    let back = wait_for(|| {
        let live = live.clone();
        async move {
            live.current()
                .handle(get("/ok"))
                .await
                .headers()
                .contains_key("x-seen")
        }
    })
    .await;
    assert!(
        back,
        "the replaced component was never served (status: {:?})",
        live.status()
    );
    tokio::time::sleep(shallot::watch::DEBOUNCE * 4).await;
    assert_eq!(
        live.status().version,
        before + 1,
        "two quick writes give one reload"
    );
}

/// Polls `check` for up to 60 s: a bound on waiting for the watcher, not a
/// speed requirement (with the whole suite on two cores, compiling the new
/// component has taken over 10 s).
async fn wait_for<F, Fut>(check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn runtime(fuel: bool, cache: &Path) -> shallot::Runtime {
    shallot::Runtime::new(shallot::EngineOptions {
        fuel,
        ..shallot::EngineOptions::default()
    })
    .unwrap()
    .with_disk_cache(cache)
}

#[test]
fn the_compile_cache_is_reused_and_corrupt_or_foreign_entries_are_rebuilt() {
    let cache = temp_dir("cache");
    let _ = std::fs::remove_dir_all(&cache);
    let probe = Path::new(guests::PROBE);
    assert!(
        !runtime(false, &cache).precompile(probe).unwrap(),
        "first run compiles"
    );
    assert!(
        runtime(false, &cache).precompile(probe).unwrap(),
        "a restart loads from the cache"
    );

    let entry = |suffix: &str| {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_str().unwrap().ends_with(suffix))
            .collect();
        found.sort();
        found
    };
    // Corrupt: flip bytes in the middle of the compiled code.
    let cwasm = entry(".cwasm").pop().unwrap();
    let mut bytes = std::fs::read(&cwasm).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&cwasm, &bytes).unwrap();
    assert!(
        !runtime(false, &cache).precompile(probe).unwrap(),
        "a corrupt entry is rebuilt"
    );
    assert!(
        runtime(false, &cache).precompile(probe).unwrap(),
        "and the rebuilt entry is used"
    );

    // Foreign: an entry compiled for another engine configuration (fuel),
    // with a valid digest, put where this engine looks.
    assert!(!runtime(true, &cache).precompile(probe).unwrap());
    let entries = entry(".cwasm");
    assert_eq!(entries.len(), 2, "one entry per engine configuration");
    let mine = entries.iter().find(|p| **p == cwasm).unwrap().clone();
    let foreign = entries.into_iter().find(|p| *p != cwasm).unwrap();
    std::fs::copy(&foreign, &mine).unwrap();
    std::fs::copy(
        foreign.with_extension("sha256"),
        mine.with_extension("sha256"),
    )
    .unwrap();
    assert!(
        !runtime(false, &cache).precompile(probe).unwrap(),
        "a foreign entry is rebuilt, not loaded"
    );
    assert!(runtime(false, &cache).precompile(probe).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_endpoint_reports_version_hashes_and_the_last_error() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = temp_dir("admin");
    let path = dir.join("shallot.toml");
    replace(&path, config("v1", "{probe}").as_bytes());
    let live = Arc::new(LivePipeline::load(&path).await.unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(shallot::admin::serve(
        listener,
        live.clone(),
        Default::default(),
        None,
    ));
    let fetch = || async move {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /status HTTP/1.0\r\n\r\n").await.unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).await.unwrap();
        let body = text.split_once("\r\n\r\n").unwrap().1.to_owned();
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    let status = fetch().await;
    assert_eq!(status["version"], 1);
    assert_eq!(status["last_error"], serde_json::Value::Null);
    let probe_sha = {
        use std::fmt::Write;
        let digest = sha256(&std::fs::read(guests::PROBE).unwrap());
        digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    assert_eq!(status["components"][0]["name"], "a");
    assert_eq!(status["components"][0]["sha256"], probe_sha);

    replace(&path, b"[[middleware]]\nname = \"a\"\n");
    assert!(live.reload().await.is_err());
    let status = fetch().await;
    assert_eq!(status["version"], 1);
    let err = status["last_error"].as_str().unwrap();
    assert!(err.contains("missing field `component`"), "{err}");
}

/// Serving threads are started once, so a reload keeps the count the
/// server started with (its pools keep one share per thread) and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_changes_workers_keeps_the_started_count_and_warns() {
    let dir = temp_dir("workers");
    let path = dir.join("shallot.toml");
    let with_workers = |n: usize, version: &str| {
        format!("[server]\nworkers = {n}\n{}", config(version, "{probe}"))
    };
    replace(&path, with_workers(2, "v1").as_bytes());
    let live = LivePipeline::load(&path).await.unwrap();
    replace(&path, with_workers(3, "v2").as_bytes());
    let (reloaded, log) = logged(live.reload()).await;
    assert!(reloaded.unwrap(), "the rest of the file is swapped in");
    assert!(
        log.iter()
            .any(|l| l.contains("[server] workers changed from 2 to 3")
                && l.contains("next start")),
        "{log:?}"
    );
    let resp = live.current().handle(get("/ok")).await;
    let seen: Vec<_> = resp.headers().get_all("x-seen").iter().collect();
    assert_eq!(seen, ["v2", "v2"]);
    // The same count again: nothing to say.
    replace(&path, with_workers(2, "v3").as_bytes());
    let (reloaded, log) = logged(live.reload()).await;
    assert!(reloaded.unwrap());
    assert!(
        !log.iter().any(|l| l.contains("workers changed")),
        "{log:?}"
    );
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_watched_and_a_broken_one_keeps_the_previous_version() {
    let dir = temp_dir("templates");
    let templates = dir.join("templates");
    std::fs::create_dir_all(templates.join("pages")).unwrap();
    replace(&templates.join("pages/page.html"), b"v1");
    let path = dir.join("shallot.toml");
    let toml = with_guests(
        "[templates]\ndirs = [\"templates\"]\n\
         [views.v]\ncomponent = \"{probe-view}\"\nconfig = { action = \"template:pages/page.html\" }\n\
         [[routes]]\npath = \"ok\"\nview = \"v\"\n",
    );
    replace(&path, toml.as_bytes());
    let live = Arc::new(LivePipeline::load(&path).await.unwrap());
    let _watch = shallot::watch::spawn(live.clone()).unwrap();
    let body_is = |want: &'static str| {
        let live = live.clone();
        move || {
            let live = live.clone();
            async move { live.current().handle(get("/ok")).await.body() == want.as_bytes() }
        }
    };
    assert!(body_is("v1")().await);

    // A changed template, in a subfolder, is served after the reload.
    replace(
        &templates.join("pages/page.html"),
        b"v2 {{ url('x') if false }}",
    );
    assert!(
        wait_for(body_is("v2 ")).await,
        "the changed template was never served"
    );

    // A broken one is refused: the previous version keeps serving, and
    // the status names the file and line.
    let version = live.status().version;
    replace(&templates.join("pages/page.html"), b"ok\n{% if %}");
    let refused = wait_for(|| {
        let live = live.clone();
        async move { live.status().last_error.is_some() }
    })
    .await;
    assert!(refused, "the broken template was never reported");
    let error = live.status().last_error.unwrap();
    assert!(error.contains("pages/page.html:2: "), "{error}");
    assert_eq!(live.status().version, version);
    assert!(body_is("v2 ")().await);

    // A new template file is seen too.
    replace(
        &templates.join("pages/page.html"),
        b"{% include 'new.html' %}",
    );
    replace(&templates.join("new.html"), b"included");
    assert!(
        wait_for(body_is("included")).await,
        "the new template was never served"
    );
}
