//! What a load balancer and an operator see: the health check on the main
//! listener (`health_path`) and on the admin listener (`/health`), 200
//! while serving and 503 once draining while requests are still served;
//! the admin listener's token.

use std::sync::Arc;

use shallot::LivePipeline;
use shallot::admin::AdminToken;
use shallot::config::ServerConfig;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::socket::read_response;

const APP: &str = r#"
[views.hello]
component = "{hello}"

[[routes]]
path = "hello"
view = "hello"
"#;

async fn live() -> Arc<LivePipeline> {
    Arc::new(LivePipeline::fixed(
        shallot_tests::pipeline(APP).await,
        shallot_tests::runtime().clone(),
    ))
}

/// One request on a new connection: status, head, body.
pub(crate) async fn ask(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n{headers}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    read_response(&mut stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_path_is_ready_then_draining_while_requests_go_on() {
    let live = live().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = ServerConfig {
        health_path: Some("/-/health".into()),
        ..ServerConfig::default()
    };
    let serving = live.clone();
    tokio::spawn(async move {
        shallot::server::serve(listener, serving, &settings, std::future::pending()).await
    });
    let (status, head, body) = ask(addr, "/-/health", "").await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    assert!(
        head.to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{head}"
    );
    // Only that path: another one goes to the URLconf.
    assert_eq!(ask(addr, "/-/health/x", "").await.0, 404);
    live.start_draining();
    let (status, _, body) = ask(addr, "/-/health", "").await;
    assert_eq!((status, body.as_str()), (503, "draining\n"));
    assert_eq!(ask(addr, "/hello", "").await.0, 200, "still serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_health_path_the_urlconf_answers() {
    let live = live().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        shallot::server::serve(
            listener,
            live,
            &ServerConfig::default(),
            std::future::pending(),
        )
        .await
    });
    assert_eq!(ask(addr, "/-/health", "").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_wants_its_token() {
    let live = live().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(shallot::admin::serve(
        listener,
        live.clone(),
        ServerConfig::default(),
        Some(AdminToken::new("s3cret-token")),
    ));
    for headers in [
        "",
        "Authorization: Bearer wrong-token!\r\n",
        "Authorization: Bearer s3cret-toke\r\n",
        "Authorization: s3cret-token\r\n",
        // HTTP Basic with the wrong password, and without a colon.
        "Authorization: Basic YWRtaW46d3Jvbmc=\r\n",
        "Authorization: Basic czNjcmV0LXRva2Vu\r\n",
    ] {
        let (status, head, _) = ask(addr, "/status", headers).await;
        assert_eq!(status, 401, "{headers:?}");
        assert!(
            head.contains("www-authenticate: Bearer realm=\"shallot admin\"")
                && head.contains("www-authenticate: Basic realm=\"shallot admin\""),
            "{head}"
        );
        assert_eq!(ask(addr, "/health", headers).await.0, 401);
    }
    let token = "Authorization: Bearer s3cret-token\r\n";
    let (status, _, body) = ask(addr, "/status", token).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"version\""), "{body}");
    assert_eq!(ask(addr, "/health", token).await.2, "ready\n");
    // A browser sends the token as HTTP Basic's password (admin:s3cret-token).
    let basic = "Authorization: Basic YWRtaW46czNjcmV0LXRva2Vu\r\n";
    let (status, head, _) = ask(addr, "/", basic).await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    live.start_draining();
    assert_eq!(ask(addr, "/health", token).await.0, 503);
}

#[test]
fn an_admin_token_variable_that_is_unset_stops_the_server() {
    let settings = ServerConfig {
        admin_token_env: Some("SHALLOT_TEST_UNSET_ADMIN_TOKEN".into()),
        ..ServerConfig::default()
    };
    let err = AdminToken::from_env(&settings).err().expect("refused");
    assert_eq!(
        err.to_string(),
        "server.admin_token_env names SHALLOT_TEST_UNSET_ADMIN_TOKEN, which is not set or \
         empty: export the admin token in it"
    );
    // PATH is always set: a token.
    let settings = ServerConfig {
        admin_token_env: Some("PATH".into()),
        ..ServerConfig::default()
    };
    assert!(AdminToken::from_env(&settings).unwrap().is_some());
}
