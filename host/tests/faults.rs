//! Faults, against the real `shallot serve` process: killed with SIGKILL in
//! the middle of key-value writes and of a reload, a compile cache that
//! cannot be written, a storm of SIGHUPs under load, and many downloads of
//! a file far larger than the memory they may hold, and uploads as large
//! to a view that reads them in chunks, and as large streaming responses
//! from a view. The guests come
//! from the integration suite's build (`target/guests`, built by
//! `cargo test --workspace` or `bash scripts/build-guests.sh`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn guest(name: &str) -> PathBuf {
    let target = option_env!("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let file = name.replace('-', "_");
    let path = target.join(format!("guests/wasm32-wasip2/release/{file}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: build the guests first (cargo test --workspace, or bash scripts/build-guests.sh)",
        path.display()
    );
    path
}

/// The hostile guest counting hits in a key-value store at `/h`, and a
/// plain view at `/ok`.
fn config(kv: &Path, version: &str) -> String {
    format!(
        r#"# {version}
[key_value]
path = "{kv}"

[views.h]
component = "{hostile}"
allowed_outbound_hosts = ["http://127.0.0.1:1"]
key_value_stores = ["granted"]
config = {{ action = "kv", store = "granted" }}

[views.ok]
component = "{view}"
config = {{ version = "{version}" }}

[[routes]]
path = "h"
view = "h"

[[routes]]
path = "ok"
view = "ok"
"#,
        kv = kv.display(),
        hostile = guest("hostile").display(),
        view = guest("probe-view").display(),
    )
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

struct Server {
    child: Child,
    addr: SocketAddr,
    /// Its stderr: a file, not a pipe nobody reads, which would fill and
    /// block the server's logging.
    log: PathBuf,
}

impl Server {
    /// `shallot serve CONFIG`, through `bash -c PREFIX exec ...` so a test
    /// can set limits on the process; waits until it answers.
    fn start(config: &Path, shell_prefix: &str) -> Server {
        let addr = free_port();
        let command = format!(
            "{shell_prefix} exec '{}' serve --listen {addr} '{}'",
            env!("CARGO_BIN_EXE_shallot"),
            config.display()
        );
        let log = config.with_extension(format!("{}.log", addr.port()));
        let child = Command::new("bash")
            .args(["-c", &command])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut server = Server { child, addr, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while get(addr, "/ok").is_none() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("shallot exited with {status}: {}", server.stderr());
            }
            assert!(Instant::now() < deadline, "shallot did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Kills with SIGKILL and returns what it logged.
    fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.stderr()
    }

    fn stderr(&mut self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// One request; the status and body, or None if the connection failed.
fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: test\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.get(9..12)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

fn hits(addr: SocketAddr) -> Option<u64> {
    let (status, body) = get(addr, "/h")?;
    (status == 200).then(|| body.strip_prefix("hits=")?.parse().ok())?
}

#[test]
fn sigkill_during_key_value_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shallot.toml");
    std::fs::write(&path, config(&dir.path().join("kv.redb"), "v1")).unwrap();
    for round in 0..3 {
        let server = Server::start(&path, "");
        let addr = server.addr;
        let seen = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let (seen, stop) = (seen.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match hits(addr) {
                            Some(n) => {
                                seen.fetch_max(n, Ordering::Relaxed);
                            }
                            None => break,
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        let acknowledged = seen.load(Ordering::Relaxed);
        assert!(acknowledged > 0, "round {round}: no write went through");
        // The next start opens the file (no corruption) and every write a
        // client saw acknowledged is there.
        let server = Server::start(&path, "");
        let next = hits(server.addr).expect("the restarted server serves");
        assert!(
            next > acknowledged,
            "round {round}: {acknowledged} writes were acknowledged, the next is {next}"
        );
        eprintln!("round {round}: killed after {acknowledged} acknowledged writes; next is {next}");
        server.kill();
    }
}

#[test]
fn sigkill_during_a_reload_leaves_a_config_that_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shallot.toml");
    let kv = dir.path().join("kv.redb");
    std::fs::write(&path, config(&kv, "v1")).unwrap();
    for round in 0..5u64 {
        let server = Server::start(&path, "");
        // A changed config, then SIGHUP; killed while that reload (a new
        // pipeline, compile-cache writes) may be under way.
        std::fs::write(&path, config(&kv, &format!("v{}", round + 2))).unwrap();
        server.signal("HUP");
        std::thread::sleep(Duration::from_millis(round * 15));
        server.kill();
        let server = Server::start(&path, "");
        assert_eq!(get(server.addr, "/ok").map(|r| r.0), Some(200));
        server.kill();
    }
}

#[test]
fn sigterm_drains_with_the_health_check_at_503_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shallot.toml");
    let kv = dir.path().join("kv.redb");
    let text = format!(
        "{}\n[server]\nhealth_path = \"/-/health\"\ndrain_secs = 3\n",
        config(&kv, "v1")
    );
    std::fs::write(&path, text).unwrap();
    let mut server = Server::start(&path, "");
    assert_eq!(get(server.addr, "/-/health"), Some((200, "ready\n".into())));
    server.signal("TERM");
    let stopped_at = Instant::now();
    // Draining: the check says 503 at once, requests are still served.
    let mut draining = false;
    while stopped_at.elapsed() < Duration::from_secs(2) {
        if get(server.addr, "/-/health") == Some((503, "draining\n".into())) {
            draining = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(draining, "{}", server.stderr());
    assert_eq!(get(server.addr, "/ok").map(|r| r.0), Some(200));
    // Then, after drain_secs, it stops on its own, cleanly.
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(30),
            "still running"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}: {}", server.stderr());
    assert!(
        stopped_at.elapsed() >= Duration::from_secs(3),
        "stopped before draining for drain_secs"
    );
    assert!(get(server.addr, "/ok").is_none(), "nothing listens after");
}

#[test]
fn a_compile_cache_that_cannot_be_written_is_logged_and_serving_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shallot.toml");
    // No key-value store here: every file write fails the same way.
    let text = format!(
        "[server]\ncompile_cache = \"cache\"\n\n[views.ok]\ncomponent = \"{}\"\n\n[[routes]]\npath = \"ok\"\nview = \"ok\"\n",
        guest("probe-view").display()
    );
    std::fs::write(&path, text).unwrap();
    // Files may not grow past 128 KiB, as on a nearly full disk: a
    // compiled component is far larger, while a component's initial
    // memory image (which wasmtime writes to a memfd, a file this limit
    // counts too) fits. SIGXFSZ would kill the process: ignored, so the
    // write fails with an error instead.
    let server = Server::start(&path, "trap '' XFSZ; ulimit -f 128;");
    for _ in 0..20 {
        assert_eq!(get(server.addr, "/ok").map(|r| r.0), Some(200));
    }
    let log = server.kill();
    assert!(log.contains("cannot write the compile cache"), "{log}");
}

#[test]
fn a_storm_of_sighups_under_load_loses_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shallot.toml");
    let kv = dir.path().join("kv.redb");
    std::fs::write(&path, config(&kv, "v1")).unwrap();
    let server = Server::start(&path, "");
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicU64::new(0));
    let served = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (stop, failures, served) = (stop.clone(), failures.clone(), served.clone());
            std::thread::spawn(move || {
                let path = if i % 2 == 0 { "/ok" } else { "/h" };
                while !stop.load(Ordering::Relaxed) {
                    match get(addr, path) {
                        Some((200, _)) => served.fetch_add(1, Ordering::Relaxed),
                        _ => failures.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for i in 0..60 {
        if i % 10 == 0 {
            // Some signals find a changed config, most an unchanged one.
            std::fs::write(&path, config(&kv, &format!("storm-{i}"))).unwrap();
        }
        server.signal("HUP");
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let log = server.kill();
    assert_eq!(failures.load(Ordering::Relaxed), 0, "{log}");
    assert!(served.load(Ordering::Relaxed) > 100);
    eprintln!(
        "60 SIGHUPs, {} swaps, {} requests served, none failed",
        log.matches("reloaded: the new pipeline is serving").count(),
        served.load(Ordering::Relaxed)
    );
    assert!(
        log.contains("reloaded: the new pipeline is serving"),
        "{log}"
    );
}

/// The largest resident set the process has had, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn sixteen_downloads_of_a_256_mib_static_file_hold_chunks_not_the_file() {
    const SIZE: u64 = 256 << 20;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("static")).unwrap();
    // Sparse: no disk is used, but every byte is read and sent.
    let big = std::fs::File::create(dir.path().join("static/big.bin")).unwrap();
    big.set_len(SIZE).unwrap();
    let path = dir.path().join("shallot.toml");
    let text = config(&dir.path().join("kv.redb"), "v1") + "\n[static]\ndirs = [\"static\"]\n";
    std::fs::write(&path, text).unwrap();
    let mut server = Server::start(&path, "");
    let pid = server.child.id();
    let before = peak_rss_kib(pid);
    let addr = server.addr;
    let downloads: Vec<_> = (0..16)
        .map(|_| {
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .unwrap();
                write!(stream, "GET /static/big.bin HTTP/1.0\r\nHost: test\r\n\r\n").unwrap();
                let mut buf = vec![0u8; 1 << 16];
                let mut total = 0u64;
                loop {
                    match stream.read(&mut buf).unwrap() {
                        0 => break total,
                        n => total += n as u64,
                    }
                }
            })
        })
        .collect();
    for download in downloads {
        let received = download.join().unwrap();
        assert!(received > SIZE, "a download ended early: {received} bytes");
    }
    let after = peak_rss_kib(pid);
    let grew_mib = after.saturating_sub(before) / 1024;
    // 4 GiB went out; holding one file whole would be 256 MiB. The
    // benchmark (bench/stream.sh) measures the tight figure.
    assert!(
        grew_mib < 128,
        "peak RSS grew by {grew_mib} MiB during the downloads ({before} KiB before, {after} KiB after): {}",
        server.stderr()
    );
    let _ = server.kill();
}

#[test]
fn four_uploads_of_256_mib_to_a_counting_view_hold_chunks_not_the_bodies() {
    const SIZE: usize = 256 << 20;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shallot.toml");
    let text = config(&dir.path().join("kv.redb"), "v1")
        + &format!(
            r#"
[views.count]
component = "{view}"
config = {{ action = "count-body:65536" }}
# Copying 256 MiB into the guest is charged at 2 GB/s: 134 ms of CPU.
limits = {{ cpu_ms = 5000 }}

[[routes]]
path = "count"
view = "count"

[server]
max_stream_bytes = {max}
"#,
            view = guest("probe-view").display(),
            max = 1u64 << 30,
        );
    std::fs::write(&path, text).unwrap();
    let mut server = Server::start(&path, "");
    let pid = server.child.id();
    let before = peak_rss_kib(pid);
    let addr = server.addr;
    let uploads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .unwrap();
                write!(
                    stream,
                    "POST /count HTTP/1.0\r\nHost: test\r\nContent-Length: {SIZE}\r\n\r\n"
                )
                .unwrap();
                let chunk = vec![7u8; 1 << 16];
                for _ in 0..SIZE / chunk.len() {
                    stream.write_all(&chunk).unwrap();
                }
                let mut response = String::new();
                stream.read_to_string(&mut response).unwrap();
                response
            })
        })
        .collect();
    for upload in uploads {
        let response = upload.join().unwrap();
        assert!(
            response.starts_with("HTTP/1.0 200") && response.contains(&format!("bytes={SIZE} ")),
            "{response}"
        );
    }
    let after = peak_rss_kib(pid);
    let grew_mib = after.saturating_sub(before) / 1024;
    // 1 GiB came in; holding one body whole would be 256 MiB.
    assert!(
        grew_mib < 128,
        "peak RSS grew by {grew_mib} MiB during the uploads ({before} KiB before, {after} KiB after): {}",
        server.stderr()
    );
    let _ = server.kill();
}

#[test]
fn four_downloads_of_a_256_mib_streaming_response_hold_chunks_not_the_body() {
    const CHUNKS: u64 = 4096;
    const CHUNK: u64 = 65536;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shallot.toml");
    let text = config(&dir.path().join("kv.redb"), "v1")
        + &format!(
            r#"
[views.stream]
component = "{view}"
config = {{ action = "stream:{CHUNKS}:{CHUNK}" }}

[[routes]]
path = "stream"
view = "stream"
"#,
            view = guest("probe-view").display(),
        );
    std::fs::write(&path, text).unwrap();
    let mut server = Server::start(&path, "");
    let pid = server.child.id();
    let before = peak_rss_kib(pid);
    let addr = server.addr;
    let downloads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .unwrap();
                write!(stream, "GET /stream HTTP/1.0\r\nHost: test\r\n\r\n").unwrap();
                let mut buf = vec![0u8; 1 << 16];
                let mut total = 0u64;
                loop {
                    match stream.read(&mut buf).unwrap() {
                        0 => break total,
                        n => total += n as u64,
                    }
                }
            })
        })
        .collect();
    for download in downloads {
        let received = download.join().unwrap();
        assert!(
            received > CHUNKS * CHUNK,
            "a download ended early: {received} bytes"
        );
    }
    let after = peak_rss_kib(pid);
    let grew_mib = after.saturating_sub(before) / 1024;
    // 1 GiB went out; one body held whole would be 256 MiB.
    assert!(
        grew_mib < 128,
        "peak RSS grew by {grew_mib} MiB during the downloads ({before} KiB before, {after} KiB after): {}",
        server.stderr()
    );
    let _ = server.kill();
}
