//! HTTPS and HTTP/2 over a real socket, with hyper's client and rustls:
//! ALPN picks `h2` or `http/1.1` and the cycle is the same on both with
//! `request.scheme` `https`; h2c only when enabled; a certificate replaced
//! while serving is used by new handshakes while open connections go on,
//! and a bad one is refused with the old one kept; the HTTP->HTTPS
//! redirect listener.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use shallot::config::{ServerConfig, TlsFiles};
use shallot::server::Tls;
use shallot_tests::pipeline;
use tokio::net::{TcpListener, TcpStream};

const APP: &str = r#"
[views.who]
component = "{hostile}"
allowed_outbound_hosts = ["http://127.0.0.1:1"]
key_value_stores = ["granted"]
config = { action = "whoami" }

[[routes]]
path = "who"
view = "who"
"#;

/// A fresh folder with a dev certificate pair for `localhost`.
fn cert_pair() -> (PathBuf, TlsFiles) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("shallot-test-tls-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    write_pair(&files);
    (dir, files)
}

fn write_pair(files: &TlsFiles) {
    let (cert, key) = shallot::server::dev_certificate(&["localhost".to_owned()]).unwrap();
    std::fs::write(&files.cert, cert).unwrap();
    std::fs::write(&files.key, key).unwrap();
}

async fn serve(settings: ServerConfig, tls: Option<Arc<Tls>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let live = Arc::new(shallot::LivePipeline::fixed(
        // A key-value file of its own: the tests run in parallel, and redb
        // lets one database file be open once.
        pipeline(&format!(
            "[key_value]\npath = {:?}\n{APP}",
            shallot_tests::fresh_kv_path()
        ))
        .await,
        shallot_tests::runtime().clone(),
    ));
    tokio::spawn(async move {
        shallot::server::serve_with(listener, live, &settings, tls, std::future::pending()).await
    });
    addr
}

/// A TLS connection trusting `cert` and offering `alpn`; returns the
/// stream and the certificate the server presented.
async fn connect(
    addr: SocketAddr,
    cert: &Path,
    alpn: &[&[u8]],
) -> (
    tokio_rustls::client::TlsStream<TcpStream>,
    CertificateDer<'static>,
) {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let stream = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake");
    let presented = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
    (stream, presented)
}

/// An HTTP/2 client on `io`, its connection driven in the background.
async fn h2_client<I>(io: I) -> hyper::client::conn::http2::SendRequest<Empty<Bytes>>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .unwrap();
    tokio::spawn(conn);
    send
}

/// An HTTP/1.1 client on `io`, its connection driven in the background.
async fn h1_client<I>(io: I) -> hyper::client::conn::http1::SendRequest<Empty<Bytes>>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .unwrap();
    tokio::spawn(conn);
    send
}

fn get(uri: &str) -> http::Request<Empty<Bytes>> {
    http::Request::get(uri)
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap()
}

async fn text(resp: http::Response<hyper::body::Incoming>) -> (u16, String) {
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alpn_picks_h2_or_http1_and_the_scheme_is_https_on_both() {
    let (_dir, files) = cert_pair();
    let tls = Arc::new(Tls::load(&files, true).unwrap());
    let addr = serve(ServerConfig::default(), Some(tls)).await;

    let (stream, _) = connect(addr, &files.cert, &[b"h2", b"http/1.1"]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let mut h2 = h2_client(stream).await;
    let resp = h2.send_request(get("https://localhost/who")).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    let (status, body) = text(resp).await;
    assert_eq!(status, 200);
    assert!(body.starts_with("scheme=https client=127.0.0.1"), "{body}");
    // Several requests at once on the one connection.
    let many = (0..8).map(|_| h2.send_request(get("https://localhost/who")));
    for resp in futures::future::join_all(many).await {
        assert_eq!(resp.unwrap().status(), 200);
    }

    let (stream, _) = connect(addr, &files.cert, &[b"http/1.1"]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let mut h1 = h1_client(stream).await;
    let resp = h1.send_request(get("/who")).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_11);
    let (status, body) = text(resp).await;
    assert_eq!(status, 200);
    assert!(body.starts_with("scheme=https"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_http2_off_alpn_offers_only_http1() {
    let (_dir, files) = cert_pair();
    let tls = Arc::new(Tls::load(&files, false).unwrap());
    let addr = serve(ServerConfig::default(), Some(tls)).await;
    let (stream, _) = connect(addr, &files.cert, &[b"h2", b"http/1.1"]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_is_served_only_when_enabled() {
    let h2c = serve(
        ServerConfig {
            h2c: true,
            ..ServerConfig::default()
        },
        None,
    )
    .await;
    let tcp = TcpStream::connect(h2c).await.unwrap();
    let mut h2 = h2_client(tcp).await;
    let resp = h2.send_request(get("http://localhost/who")).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    let (status, body) = text(resp).await;
    assert_eq!(status, 200);
    assert!(body.starts_with("scheme=http "), "{body}");
    // HTTP/1.1 on the same port still works.
    let tcp = TcpStream::connect(h2c).await.unwrap();
    let mut h1 = h1_client(tcp).await;
    assert_eq!(h1.send_request(get("/who")).await.unwrap().status(), 200);

    // Off (the default): the HTTP/2 preface is not HTTP/1.1.
    let plain = serve(ServerConfig::default(), None).await;
    let tcp = TcpStream::connect(plain).await.unwrap();
    let mut h2 = h2_client(tcp).await;
    assert!(h2.send_request(get("http://localhost/who")).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_cookie_fields_reach_the_app_as_one_header() {
    // Browsers send each cookie in a field of its own over HTTP/2; the
    // app gets them joined with "; " (RFC 9113 section 8.2.3), as over
    // HTTP/1.1 (joined with ", " a session cookie after another is lost).
    let h2c = serve(
        ServerConfig {
            h2c: true,
            ..ServerConfig::default()
        },
        None,
    )
    .await;
    let mut h2 = h2_client(TcpStream::connect(h2c).await.unwrap()).await;
    let req = http::Request::get("http://localhost/who")
        .header("cookie", "csrftoken=abc")
        .header("cookie", "sessionid=k.s")
        .body(Empty::new())
        .unwrap();
    let (status, body) = text(h2.send_request(req).await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(
        body.ends_with(" cookie=csrftoken=abc; sessionid=k.s"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_certificate_serves_new_handshakes_and_open_connections_go_on() {
    let (_dir, files) = cert_pair();
    let tls = Arc::new(Tls::load(&files, true).unwrap());
    let addr = serve(ServerConfig::default(), Some(tls.clone())).await;
    let (stream, first) = connect(addr, &files.cert, &[b"h2"]).await;
    let mut open = h2_client(stream).await;

    write_pair(&files);
    tls.reload().unwrap();
    let (_, second) = connect(addr, &files.cert, &[b"h2"]).await;
    assert_ne!(first, second, "the new handshake got the old certificate");
    assert_eq!(
        second.as_ref(),
        CertificateDer::pem_file_iter(&files.cert)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .as_ref()
    );
    // The connection made before the reload still serves.
    let resp = open
        .send_request(get("https://localhost/who"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // A broken pair is refused and the current one keeps serving.
    let good_cert = std::fs::read(&files.cert).unwrap();
    std::fs::write(&files.cert, "not a certificate").unwrap();
    let err = tls.reload().unwrap_err().to_string();
    assert!(err.contains("cert.pem"), "{err}");
    std::fs::write(&files.cert, &good_cert).unwrap();
    let (_, third) = connect(addr, &files.cert, &[b"h2"]).await;
    assert_eq!(third, second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_is_not_the_certificate_s_is_refused_naming_both_files() {
    let (_dir, files) = cert_pair();
    let (_other_dir, other) = cert_pair();
    let mismatched = TlsFiles {
        cert: files.cert.clone(),
        key: other.key.clone(),
    };
    let err = Tls::load(&mismatched, true)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains(files.cert.to_str().unwrap()) && err.contains(other.key.to_str().unwrap()),
        "{err}"
    );
    let no_key = TlsFiles {
        cert: files.cert.clone(),
        key: files.cert.clone(),
    };
    let err = Tls::load(&no_key, true).err().expect("refused").to_string();
    assert!(err.contains("no private key"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redirect_listener_sends_every_request_to_https() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let settings = ServerConfig::default();
        shallot::server::serve_redirect(listener, 8443, &settings, std::future::pending()).await
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut h1 = h1_client(tcp).await;
    let req = http::Request::get("/movies/?page=2")
        .header("host", "example.test:8080")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = h1.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 301);
    assert_eq!(
        resp.headers()["location"],
        "https://example.test:8443/movies/?page=2"
    );
}
