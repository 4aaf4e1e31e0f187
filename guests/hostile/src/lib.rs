//! A view that does one hostile thing, chosen by its `action` config:
//!
//! | action | what it tries |
//! |---|---|
//! | `loop` | spin forever |
//! | `memory` | allocate without end |
//! | `recursion` | recurse without end |
//! | `panic` | panic |
//! | `huge-response` | a body of `size_mib` MiB (default 48) |
//! | `many-bodies` | build responses until the host says no |
//! | `header-injection` | a header value with CR/LF |
//! | `garbage-status` | `Response::new(status)` with `status` (default 1000) |
//! | `read-file` | read `path` (default `/etc/passwd`) |
//! | `list-env` | list every environment variable it can see |
//! | `socket` | open a TCP connection to `addr` |
//! | `outbound` | HTTP GET `url` through the outbound capability |
//! | `kv` | open key-value store `store` and count a hit |
//! | `log-flood` | print `lines` lines (default 100000) to stdout |
//! | `log-wit-flood` | the same through `shallot:http/log` |
//! | `host-loop` | copy a `size_mib` MiB body (default 8) out of the host `iterations` times (default 1000) |
//! | `kv-big` | `set` `count` values (default 10) of `size_kib` KiB (default 32768) in store `store` |
//! | `forge` | put newlines and escape codes in its log, stdout and error message |
//! | `whoami` | answer with the request's scheme, client address and Host |
//!
//! Operations that a sandbox should deny answer 200 `denied: <error>`
//! when denied and `ALLOWED: <what>` when not, so tests see which.

use std::hint::black_box;

use shallot_guest::{Error, Request, Response, ViewInfo, config, view};

fn setting(key: &str, default: &str) -> String {
    config::get(key).unwrap_or_else(|| default.to_owned())
}

fn outcome<T: std::fmt::Debug, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> Response {
    match result {
        Ok(v) => Response::text(200, &format!("ALLOWED: {what}: {v:?}")),
        Err(e) => Response::text(200, &format!("denied: {e}")),
    }
}

#[inline(never)]
#[expect(unconditional_recursion, reason = "overflowing the stack is the point")]
fn recurse(depth: u64) -> u64 {
    black_box(depth) + recurse(black_box(depth + 1))
}

#[view]
fn handle(req: &Request, _view: ViewInfo) -> Result<Response, Error> {
    match setting("action", "").as_str() {
        "loop" => {
            let mut x = 0u64;
            loop {
                x = black_box(x.wrapping_add(1));
            }
        }
        "memory" => {
            let mut hoard = Vec::new();
            loop {
                hoard.push(black_box(vec![1u8; 1 << 20]));
            }
        }
        "recursion" => Ok(Response::text(200, &recurse(0).to_string())),
        "panic" => panic!("hostile view panics on purpose"),
        "huge-response" => {
            let mib: usize = setting("size_mib", "48").parse().unwrap_or(48);
            let resp = Response::new(200);
            resp.set_body(&vec![b'x'; mib << 20]);
            Ok(resp)
        }
        "many-bodies" => {
            let chunk = vec![b'x'; 8 << 20];
            let mut kept = Vec::new();
            loop {
                let resp = Response::new(200);
                resp.set_body(&chunk);
                kept.push(resp);
            }
        }
        "header-injection" => {
            let resp = Response::text(200, "injected?");
            resp.set_header("X-Evil", "a\r\nSet-Cookie: stolen=1")?;
            Ok(resp)
        }
        "garbage-status" => {
            let status: u16 = setting("status", "1000").parse().unwrap_or(1000);
            Ok(Response::new(status))
        }
        "read-file" => Ok(outcome(
            "read",
            std::fs::read_to_string(setting("path", "/etc/passwd")),
        )),
        "list-env" => {
            let vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
            Ok(Response::text(200, &format!("env: [{}]", vars.join(", "))))
        }
        "socket" => Ok(outcome(
            "connect",
            std::net::TcpStream::connect(setting("addr", "127.0.0.1:80")),
        )),
        "outbound" => {
            let resp = shallot_guest::http::get(&setting("url", "http://127.0.0.1:1/"))?;
            Ok(Response::text(
                200,
                &format!("ALLOWED: outbound: {}", resp.status),
            ))
        }
        "kv" => {
            let store = shallot_guest::kv::Store::open(&setting("store", "default"))?;
            let hits = store.increment("hits", 1, None)?;
            Ok(Response::text(200, &format!("hits={hits}")))
        }
        "log-flood" => {
            let lines: u32 = setting("lines", "100000").parse().unwrap_or(100_000);
            for i in 0..lines {
                println!("flood line {i}");
            }
            Ok(Response::text(200, "flooded"))
        }
        "log-wit-flood" => {
            let lines: u32 = setting("lines", "100000").parse().unwrap_or(100_000);
            for i in 0..lines {
                shallot_guest::log::info(&format!("flood line {i}"));
            }
            Ok(Response::text(200, "flooded"))
        }
        "host-loop" => {
            let mib: usize = setting("size_mib", "8").parse().unwrap_or(8);
            let iterations: u32 = setting("iterations", "1000").parse().unwrap_or(1000);
            let resp = Response::new(200);
            resp.set_body(&vec![b'x'; mib << 20]);
            let mut copied = 0usize;
            for _ in 0..iterations {
                // Each call makes the host copy the whole body into us.
                copied += black_box(resp.body()).len();
            }
            Ok(Response::text(200, &format!("copied {copied} bytes")))
        }
        "kv-big" => {
            let store = shallot_guest::kv::Store::open(&setting("store", "granted"))?;
            let count: u32 = setting("count", "10").parse().unwrap_or(10);
            let kib: usize = setting("size_kib", "32768").parse().unwrap_or(32768);
            let value = vec![b'v'; kib << 10];
            for i in 0..count {
                store.set(&format!("big-{i}"), &value, None)?;
            }
            Ok(Response::text(200, &format!("stored {count}")))
        }
        "forge" => {
            shallot_guest::log::info(
                "ok\n2026-01-01T00:00:00Z ERROR shallot::cycle: forged by the log",
            );
            println!("out \x1b[2J\rforged by stdout");
            Err(Error::internal(
                "bad\n2026-01-01T00:00:00Z ERROR shallot::cycle: forged by an error",
            ))
        }
        "whoami" => Ok(Response::text(
            200,
            &format!(
                "scheme={} client={} host={}{}",
                req.scheme(),
                req.client_addr(),
                req.header("host").unwrap_or_default(),
                // What the cookies arrived as, when there are any.
                req.header("cookie")
                    .map_or(String::new(), |c| format!(" cookie={c}"))
            ),
        )),
        other => Err(Error::internal(format!("unknown action {other:?}"))),
    }
}
