//! Over a real socket: HTTP/1.1 keep-alive, the 431 and 413 limits, a
//! graceful shutdown that lets in-flight requests finish, the read and
//! write timeouts, and where the scheme and client address come from.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use shallot::config::ServerConfig;
use shallot_tests::pipeline;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

const APP: &str = r#"
[[middleware]]
name = "a"
component = "{probe}"
config = { name = "a" }

[views.v]
component = "{probe-view}"

[views.slow]
component = "{probe-view}"
config = { action = "sleep:300" }

[[routes]]
path = "v"
view = "v"

[[routes]]
path = "slow"
view = "slow"

[views.hello]
component = "{hello}"

[[routes]]
path = "hello"
view = "hello"
"#;

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) stop: Option<oneshot::Sender<()>>,
    pub(crate) task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(settings: ServerConfig) -> Server {
    start_app(APP, settings).await
}

/// Serves `app` (a config with guest placeholders) on a loopback port.
pub(crate) async fn start_app(app: &str, settings: ServerConfig) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let pipeline = Arc::new(shallot::LivePipeline::fixed(
        pipeline(app).await,
        shallot_tests::runtime().clone(),
    ));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        shallot::server::serve(listener, pipeline, &settings, async {
            let _ = stopped.await;
        })
        .await
    });
    Server {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Reads one response (headers + Content-Length body) from the stream.
pub(crate) async fn read_response(stream: &mut TcpStream) -> (u16, String, String) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).await.unwrap();
        assert_eq!(
            n,
            1,
            "connection closed mid-response: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let status = head[9..12].parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.unwrap();
    (status, head, String::from_utf8(body).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let server = start(ServerConfig::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    for _ in 0..3 {
        stream
            .write_all(b"GET /v?x=1 HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        let (status, head, body) = read_response(&mut stream).await;
        assert_eq!(status, 200);
        assert!(
            head.to_ascii_lowercase().contains("x-seen: a\r\n"),
            "{head}"
        );
        assert!(body.contains("path=/v query=x=1"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_get_431() {
    let server = start(ServerConfig {
        max_header_bytes: 8192,
        ..ServerConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let big = "x".repeat(20_000);
    stream
        .write_all(format!("GET /v HTTP/1.1\r\nHost: test\r\nX-Big: {big}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let (status, _, _) = read_response(&mut stream).await;
    assert_eq!(status, 431);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413_whether_declared_or_streamed() {
    let server = start(ServerConfig {
        max_body_bytes: 1000,
        ..ServerConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /v HTTP/1.1\r\nHost: test\r\nContent-Length: 5000\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream).await.0, 413);

    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let chunk = "x".repeat(800);
    let chunked = format!(
        "POST /v HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n{chunk}\r\n320\r\n{chunk}\r\n0\r\n\r\n"
    );
    stream.write_all(chunked.as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut stream).await.0, 413);

    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /v HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n0123456789")
        .await
        .unwrap();
    assert_eq!(
        read_response(&mut stream).await.0,
        200,
        "a body under the limit is accepted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight_requests_and_stops_accepting() {
    let mut server = start(ServerConfig::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.stop.take().unwrap().send(()).unwrap();
    let (status, _, body) = read_response(&mut stream).await;
    assert_eq!((status, body.as_str()), (200, "slept"));
    tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .expect("the server stops once in-flight requests are done")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_gets_the_views_405_without_a_body_and_connect_is_refused() {
    let server = start(ServerConfig::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"HEAD /hello HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let (status, head, body) = read_response(&mut stream).await;
    assert_eq!((status, body.as_str()), (405, ""));
    assert!(
        head.to_ascii_lowercase().contains("allow: get\r\n"),
        "{head}"
    );
    // The connection is still usable: nothing stray was written after the head.
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream).await.2, "hello world");

    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream).await.0, 405);
}

/// The hostile guest answering `whoami` at `/who`, and a 24 MiB response
/// at `/big`.
const HOSTILE: &str = r#"
[views.who]
component = "{hostile}"
allowed_outbound_hosts = ["http://127.0.0.1:1"]
key_value_stores = ["granted"]
config = { action = "whoami" }

[views.big]
component = "{hostile}"
allowed_outbound_hosts = ["http://127.0.0.1:1"]
key_value_stores = ["granted"]
config = { action = "huge-response", size_mib = "24" }

[[routes]]
path = "who"
view = "who"

[[routes]]
path = "big"
view = "big"
"#;

async fn ask(server: &Server, request: &str) -> String {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    read_response(&mut stream).await.2
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheme_and_client_come_from_the_connection_not_the_request() {
    let server = start_app(HOSTILE, ServerConfig::default()).await;
    // An absolute-form request line claims https, and the headers claim a
    // proxy forwarded it: none of it is believed from an untrusted peer.
    let spoofed = "GET https://evil.example/who HTTP/1.1\r\nHost: good.example\r\n\
                   X-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n";
    assert_eq!(
        ask(&server, spoofed).await,
        // RFC 9112: the request line's authority replaces Host.
        "scheme=http client=127.0.0.1 host=evil.example"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_speaks_for_the_client() {
    let server = start_app(
        HOSTILE,
        ServerConfig {
            trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
            ..ServerConfig::default()
        },
    )
    .await;
    let forwarded = "GET /who HTTP/1.1\r\nHost: good.example\r\n\
                     X-Forwarded-Proto: https\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.9\r\n\r\n";
    assert_eq!(
        ask(&server, forwarded).await,
        "scheme=https client=203.0.113.9 host=good.example"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_dropped_after_the_send_timeout() {
    let server = start_app(
        HOSTILE,
        ServerConfig {
            send_timeout: Duration::from_millis(500),
            ..ServerConfig::default()
        },
    )
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    // Read nothing while the server tries to write 24 MiB into the socket
    // buffers, long past the send timeout.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received))
        .await
        .expect("the server closed the connection");
    // Closed (EOF, or a reset once the buffers are gone) before the body
    // could have been written whole.
    let _ = read;
    assert!(
        received.len() < 24 << 20,
        "got all {} bytes: the connection was kept open",
        received.len()
    );
    assert!(
        received.starts_with(b"HTTP/1.1 200"),
        "the response had started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_drops_a_request_head_that_never_ends() {
    let settings = ServerConfig {
        header_read_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let live = Arc::new(shallot::LivePipeline::fixed(
        pipeline(APP).await,
        shallot_tests::runtime().clone(),
    ));
    tokio::spawn(shallot::admin::serve(listener, live, settings, None));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /status HTTP/1.1\r\n").await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "the partial request was still open after 10 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_connections_fits_the_default_backlog() {
    let backlog = ServerConfig::default().backlog;
    let listener = shallot::server::bind("127.0.0.1:0".parse().unwrap(), backlog).unwrap();
    let addr = listener.local_addr().unwrap();
    // 300 connections before any accept: with the kernel's classic 128
    // (tokio's own bind) the 130th SYN is dropped and retried for minutes.
    let connect_all = async {
        let mut clients = Vec::new();
        for _ in 0..300 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        clients
    };
    let clients = tokio::time::timeout(Duration::from_secs(20), connect_all)
        .await
        .expect("every connection was queued");
    for _ in &clients {
        listener.accept().await.unwrap();
    }
}

/// Thread per core: the workers share one port (a second server on it is
/// refused rather than handed half its connections), every connection is
/// served, and on shutdown each worker drains its own in-flight requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_share_one_port_and_drain_their_requests_on_shutdown() {
    let pipeline = Arc::new(shallot::LivePipeline::fixed(
        pipeline(APP).await,
        shallot_tests::runtime().clone(),
    ));
    let any_port = "127.0.0.1:0".parse().unwrap();
    let listeners = shallot::server::Listeners::bind(any_port, 128, 2).unwrap();
    let addr = listeners.local_addr();
    let taken = shallot::server::Listeners::bind(addr, 128, 2)
        .err()
        .expect("a served port is refused");
    assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse);

    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let settings = ServerConfig::default();
        shallot::server::serve_workers(listeners, pipeline, &settings, async {
            let _ = stopped.await;
        })
        .await
    });
    let mut connections = Vec::new();
    for _ in 0..16 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        connections.push(stream);
    }
    for stream in &mut connections {
        let (status, _, body) = read_response(stream).await;
        assert_eq!((status, body.as_str()), (200, "hello world"));
    }
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    let (status, _, _) = read_response(&mut slow).await;
    assert_eq!(status, 200, "the in-flight request finished");
    task.await.unwrap().unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no worker listens after shutdown"
    );
}
