//! `shallot call`: one request through the pipeline in process, no socket,
//! printed like `curl -i`.

use std::path::PathBuf;

use anyhow::Context;
use shallot::{Config, Pipeline};

/// Sends `method uri` with `headers` (each `Name: value`) through the
/// config at `path` and prints the response.
pub(crate) async fn run(
    path: PathBuf,
    uri: String,
    method: String,
    headers: Vec<String>,
) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    let pipeline = Pipeline::load(&config).await?;
    let mut req = http::Request::builder().method(method.as_str()).uri(&uri);
    for h in &headers {
        let (name, value) = h
            .split_once(':')
            .with_context(|| format!("header {h:?} is not `Name: value`"))?;
        req = req.header(name.trim(), value.trim());
    }
    let req = req
        .body(bytes::Bytes::new())
        .with_context(|| format!("invalid request {method} {uri}"))?;
    let resp = pipeline.handle(req).await;
    println!("HTTP/1.1 {}", resp.status());
    for (name, value) in resp.headers() {
        println!("{name}: {}", String::from_utf8_lossy(value.as_bytes()));
    }
    println!();
    println!("{}", String::from_utf8_lossy(resp.body()));
    Ok(())
}
