//! `shallot status`: ask a running server's admin endpoint how it is doing.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use shallot::Config;

/// Prints the status JSON of the server at `admin`, or at the config's
/// `server.admin` when only the config is given.
pub(crate) async fn run(admin: Option<SocketAddr>, config: Option<PathBuf>) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = match (admin, config) {
        (Some(addr), _) => addr,
        (None, Some(path)) => Config::load(&path)?
            .server
            .admin
            .with_context(|| format!("{} sets no server.admin address", path.display()))?,
        (None, None) => anyhow::bail!("give the admin address (--admin ADDR) or the config file"),
    };
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| {
            format!("no admin endpoint at {addr} (is `server.admin` set and the server running?)")
        })?;
    stream
        .write_all(b"GET /status HTTP/1.0\r\nHost: shallot\r\n\r\n")
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let status: serde_json::Value =
        serde_json::from_str(body).context("the admin endpoint sent no JSON")?;
    println!("{}", serde_json::to_string_pretty(&status)?);
    Ok(())
}
