//! Over a real socket: HTTP/1.1 keep-alive, the 431 and 413 limits, and a
//! graceful shutdown that lets in-flight requests finish.

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

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(settings: ServerConfig) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let pipeline = Arc::new(shallot::LivePipeline::fixed(
        pipeline(APP).await,
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
async fn read_response(stream: &mut TcpStream) -> (u16, String, String) {
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
