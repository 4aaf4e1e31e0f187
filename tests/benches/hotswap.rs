//! Hot-swap figures: startup with a cold and a warm compile cache, and swap
//! latency (component file written -> first response from the new version,
//! through the file watcher, debounce included).
//!
//! Run with: cargo bench -p shallot-tests --bench hotswap

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shallot::LivePipeline;
use shallot_tests::{get, guests};

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shallot-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The quickstart config, pointed at this build's guests and `cache`.
fn quickstart(at: &Path, cache: &Path) -> PathBuf {
    let (_, text) = shallot_tests::example_config("quickstart");
    let text = text.replace(
        "[server]\n",
        &format!("[server]\ncompile_cache = \"{}\"\n", cache.display()),
    );
    let path = at.join("shallot.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let work = dir("startup");
    let cache = work.join("cache");
    let config = quickstart(&work, &cache);
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for _ in 0..5 {
        let _ = std::fs::remove_dir_all(&cache);
        let t = Instant::now();
        let live = LivePipeline::load(&config).await.unwrap();
        assert_eq!(live.current().handle(get("/hello")).await.status(), 200);
        cold.push(t.elapsed());
        let t = Instant::now();
        let live = LivePipeline::load(&config).await.unwrap();
        assert_eq!(live.current().handle(get("/hello")).await.status(), 200);
        warm.push(t.elapsed());
    }
    println!("startup to first response, quickstart (6 middleware + 3 views), median of 5:");
    println!(
        "  cold compile cache: {:>8.1} ms",
        median(cold.clone()).as_secs_f64() * 1e3
    );
    println!(
        "  warm compile cache: {:>8.1} ms",
        median(warm.clone()).as_secs_f64() * 1e3
    );
    println!(
        "  ratio cold/warm:    {:>8.1}x",
        median(cold).as_secs_f64() / median(warm).as_secs_f64()
    );

    // Swap latency: replace a middleware's component file and wait for the
    // first response that shows the new component.
    let work = dir("swap");
    let component = work.join("mw.wasm");
    let probe = std::fs::read(guests::PROBE).unwrap();
    let security = std::fs::read(guests::SECURITY_HEADERS).unwrap();
    std::fs::write(&component, &probe).unwrap();
    let config = work.join("shallot.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ncompile_cache = \"{}\"\n[[middleware]]\nname = \"m\"\ncomponent = \"{}\"\n\
             [views.v]\ncomponent = \"{}\"\n[[routes]]\npath = \"ok\"\nview = \"v\"\n",
            work.join("cache").display(),
            component.display(),
            guests::PROBE_VIEW
        ),
    )
    .unwrap();
    let live = Arc::new(LivePipeline::load(&config).await.unwrap());
    let _watch = shallot::watch::spawn(live.clone()).unwrap();
    let mut swaps = Vec::new();
    for i in 0..20 {
        let (bytes, marker) = if i % 2 == 0 {
            (&security, "x-frame-options")
        } else {
            (&probe, "x-seen")
        };
        let tmp = component.with_extension("tmp");
        std::fs::write(&tmp, bytes).unwrap();
        let t = Instant::now();
        std::fs::rename(&tmp, &component).unwrap();
        loop {
            if live
                .current()
                .handle(get("/ok"))
                .await
                .headers()
                .contains_key(marker)
            {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "swap {i} never happened"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        swaps.push(t.elapsed());
    }
    let mut sorted = swaps.clone();
    sorted.sort();
    println!(
        "swap latency (file renamed -> first response from the new version; {} ms debounce included), 20 swaps:",
        shallot::watch::DEBOUNCE.as_millis()
    );
    println!(
        "  median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        median(swaps).as_secs_f64() * 1e3,
        sorted[17].as_secs_f64() * 1e3,
        sorted[19].as_secs_f64() * 1e3
    );
}
