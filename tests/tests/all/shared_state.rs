//! Hosts sharing state on Redis, as several `shallot serve` processes
//! behind a load balancer do: two pipelines, each with a key-value file of
//! its own, whose `sessions` and `ratelimit` stores are on one Redis server
//! (`[key_value.NAME] url`). The examples' middleware is unchanged: only
//! the config moved the stores.

use shallot_tests::redis::RedisServer;
use shallot_tests::{pipeline, request, run};

use crate::apps::{app, cookie, login_request};

/// The sessions example's stack (`apps::app`) with both stores on `redis`.
fn on_redis(limit: u32, redis: &RedisServer) -> String {
    let url = redis.url();
    format!(
        r#"{}
[key_value.sessions]
url = "{url}"

[key_value.ratelimit]
url = "{url}"
timeout_ms = 500
"#,
        app(limit)
    )
}

#[tokio::test]
async fn a_session_made_on_one_host_is_valid_on_another() {
    let redis = RedisServer::start();
    let a = pipeline(&on_redis(100, &redis)).await;
    let b = pipeline(&on_redis(100, &redis)).await;
    let cookie = cookie(&run(&a, login_request("alice")).await);
    let me = run(&b, request("GET", "/me/", &[("Cookie", &cookie)])).await;
    assert_eq!(
        (me.response.status().as_u16(), me.body()),
        (200, "hello, alice")
    );
    // Logging out on B ends the session on A too.
    let out = run(
        &b,
        request("POST", "/accounts/logout/", &[("Cookie", &cookie)]),
    )
    .await;
    assert_eq!(out.response.status(), 302);
    let me = run(&a, request("GET", "/me/", &[("Cookie", &cookie)])).await;
    assert_eq!(me.response.status(), 302, "the session is gone from Redis");
}

#[tokio::test]
async fn a_rate_limit_is_counted_across_hosts() {
    let redis = RedisServer::start();
    let a = pipeline(&on_redis(3, &redis)).await;
    let b = pipeline(&on_redis(3, &redis)).await;
    for host in [&a, &b, &a] {
        let out = run(host, request("POST", "/accounts/logout/", &[])).await;
        assert_eq!(out.response.status(), 302);
    }
    let limited = run(&b, request("POST", "/accounts/logout/", &[])).await;
    assert_eq!(limited.response.status(), 429, "the fourth hit, on B");
}

/// Redis going away fails only the requests that need it, with 503, and
/// the host recovers by itself once it is back.
#[tokio::test]
async fn redis_away_is_a_503_until_it_is_back() {
    let mut redis = RedisServer::start();
    let p = pipeline(&on_redis(100, &redis)).await;
    let ok = run(&p, request("POST", "/accounts/logout/", &[])).await;
    assert_eq!(ok.response.status(), 302);
    redis.stop();
    let out = run(&p, request("POST", "/accounts/logout/", &[])).await;
    assert_eq!(out.response.status(), 503, "{}", out.body());
    redis.restart();
    let mut status = 0;
    for _ in 0..50 {
        status = run(&p, request("POST", "/accounts/logout/", &[]))
            .await
            .response
            .status()
            .as_u16();
        if status != 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 302, "served again once Redis is back");
}
