//! The host side of each capability, through the same views a store's
//! data gives, with no guest compiled (see `testkit`). What a guest sees
//! end to end (linking, the SDKs) is tested in `tests/tests/all`.

use super::testkit::Kit;
use crate::bindings::config::Host as _;
use crate::bindings::key_value::HostStore;
use crate::bindings::outbound_http::{Host as _, OutgoingRequest};
use crate::bindings::types::{ErrorKind, HostResponse};
use crate::capability::kv::KvQuota;
use crate::limits::{LimitHit, Limits};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("shallot-kit-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_store_not_in_the_grant_cannot_be_opened() {
    let dir = temp_dir("grant");
    let mut kit = Kit::new().with_stores(&["sessions"], &dir, KvQuota::default());
    let denied = kit.kv().open("carts".into()).await.unwrap().unwrap_err();
    assert_eq!(denied.kind, ErrorKind::PermissionDenied);
    assert_eq!(
        denied.message,
        "middleware `kit` may not open key-value store \"carts\": not in its key_value_stores"
    );
    let store = kit.kv().open("sessions".into()).await.unwrap().unwrap();
    kit.kv()
        .set(store, "k".into(), b"v".to_vec(), None)
        .await
        .unwrap()
        .unwrap();
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn stores_are_namespaces_and_values_round_trip() {
    let dir = temp_dir("namespaces");
    let mut kit = Kit::new().with_stores(&["a", "b"], &dir, KvQuota::default());
    let a = kit.kv().open("a".into()).await.unwrap().unwrap();
    let b = kit.kv().open("b".into()).await.unwrap().unwrap();
    let a2 = wasmtime::component::Resource::new_borrow(a.rep());
    kit.kv()
        .set(a, "k".into(), b"in a".to_vec(), None)
        .await
        .unwrap()
        .unwrap();
    let from_b = kit.kv().get(b, "k".into()).await.unwrap().unwrap();
    let from_a = kit.kv().get(a2, "k".into()).await.unwrap().unwrap();
    assert_eq!(from_b, None);
    assert_eq!(from_a.as_deref(), Some(&b"in a"[..]));
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_value_over_the_cap_is_a_quota_error_for_the_guest() {
    let dir = temp_dir("quota");
    let quota = KvQuota {
        max_value_bytes: 10,
        ..KvQuota::default()
    };
    let mut kit = Kit::new().with_stores(&["s"], &dir, quota);
    let s = kit.kv().open("s".into()).await.unwrap().unwrap();
    let err = kit
        .kv()
        .set(s, "k".into(), vec![0; 11], None)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::QuotaExceeded);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn moving_a_big_value_is_charged_to_the_calls_cpu_budget() {
    let dir = temp_dir("cpu");
    let quota = KvQuota {
        max_value_bytes: 16 << 20,
        ..KvQuota::default()
    };
    let limits = Limits {
        cpu_time: std::time::Duration::from_millis(1),
        ..Limits::default()
    };
    // Written by a component with the default budget...
    let mut writer = Kit::new().with_stores(&["s"], &dir, quota);
    let s = writer.kv().open("s".into()).await.unwrap().unwrap();
    writer
        .kv()
        .set(s, "big".into(), vec![7; 12 << 20], None)
        .await
        .unwrap()
        .unwrap();
    // ...read by one with 1 ms: 12 MiB at 2 GB/s is 6 ms, three ticks over.
    let mut kit = Kit::with_limits(limits.clone()).with_stores(&["s"], &dir, quota);
    let s = kit.kv().open("s".into()).await.unwrap().unwrap();
    kit.begin_call();
    let trap = kit.kv().get(s, "big".into()).await.unwrap_err();
    assert!(trap.to_string().contains("CPU time limit"), "{trap}");
    assert_eq!(kit.meter.limiter.hit, Some(LimitHit::CpuTime));
    // Writing it is charged the same way.
    let mut kit = Kit::with_limits(limits).with_stores(&["s"], &dir, quota);
    let s = kit.kv().open("s".into()).await.unwrap().unwrap();
    kit.begin_call();
    let trap = kit
        .kv()
        .set(s, "big2".into(), vec![7; 12 << 20], None)
        .await
        .unwrap_err();
    assert!(trap.to_string().contains("CPU time limit"), "{trap}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_body_handed_to_the_host_counts_against_the_memory_limit() {
    let limits = Limits {
        memory_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut kit = Kit::with_limits(limits);
    let resp = kit.types().new(200).unwrap();
    let again = wasmtime::component::Resource::new_borrow(resp.rep());
    kit.types().set_body(resp, vec![0; 600 << 10]).unwrap();
    let trap = kit.types().set_body(again, vec![0; 600 << 10]).unwrap_err();
    assert!(trap.to_string().contains("memory limit of 1 MiB"), "{trap}");
    assert_eq!(kit.meter.limiter.hit, Some(LimitHit::Memory));
}

#[test]
fn a_header_with_a_line_break_is_an_error_not_a_header() {
    let mut kit = Kit::new();
    let resp = kit.types().new(200).unwrap();
    let again = wasmtime::component::Resource::new_borrow(resp.rep());
    let err = kit
        .types()
        .set_header(resp, "x-a".into(), "1\r\nx-b: 2".into())
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Internal);
    assert!(!kit.types().has_header(again, "x-b".into()).unwrap());
}

#[test]
fn a_status_outside_200_to_599_is_refused() {
    let mut kit = Kit::new();
    assert!(kit.types().new(101).is_err());
    let resp = kit.types().new(200).unwrap();
    let err = kit.types().set_status(resp, 600).unwrap().unwrap_err();
    assert!(err.message.contains("200..=599"), "{}", err.message);
}

#[test]
fn a_component_reads_only_its_own_config() {
    let mut kit = Kit::new().with_config(&[("greeting", "hi")]);
    assert_eq!(
        kit.config().get("greeting".into()).unwrap().as_deref(),
        Some("hi")
    );
    assert_eq!(kit.config().get("other".into()).unwrap(), None);
    assert_eq!(kit.config().get_all().unwrap().len(), 1);
}

#[tokio::test]
async fn an_outbound_request_off_the_list_is_denied_before_connecting() {
    let mut kit = Kit::new().with_hosts(&["http://127.0.0.1:9"]);
    let req = OutgoingRequest {
        method: "GET".into(),
        url: "http://example.com/".into(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    let err = kit.outbound().send(req).await.unwrap().unwrap_err();
    assert_eq!(err.kind, ErrorKind::PermissionDenied);
    assert_eq!(
        err.message,
        "outbound request to http://example.com:80 denied: it is not in allowed_outbound_hosts"
    );
}

#[test]
fn reverse_is_djangos_over_the_pipelines_routes() {
    use crate::bindings::urls::Host as _;
    use crate::router::{Pattern, RouteDef, Router, Target};
    let routes = vec![RouteDef {
        pattern: Pattern::Path("items/<int:pk>/".into()),
        name: Some("item".into()),
        target: Target::View("v".into()),
    }];
    let mut kit = Kit::new().with_routes(Router::new(routes).unwrap());
    let url = kit
        .urls()
        .reverse("item".into(), vec!["7".into()], Vec::new())
        .unwrap()
        .unwrap();
    assert_eq!(url, "/items/7/");
    let err = kit
        .urls()
        .reverse("item".into(), Vec::new(), vec![("pk".into(), "x".into())])
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Internal);
    assert!(
        err.message
            .starts_with("Reverse for 'item' with keyword arguments"),
        "{}",
        err.message
    );
}
