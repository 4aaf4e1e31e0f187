//! `shallot status`: ask a running server's admin endpoint how it is doing.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use shallot::Config;

/// Prints the status JSON of the server at `admin`, or at the config's
/// `server.admin` when only the config is given.
pub(crate) async fn run(admin: Option<SocketAddr>, config: Option<PathBuf>) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = config
        .map(|path| Config::load(&path).map(|c| (path, c)))
        .transpose()?;
    let addr = match (admin, &config) {
        (Some(addr), _) => addr,
        (None, Some((path, config))) => config
            .server
            .admin
            .with_context(|| format!("{} sets no server.admin address", path.display()))?,
        (None, None) => anyhow::bail!("give the admin address (--admin ADDR) or the config file"),
    };
    // The token the config's admin_token_env names, else SHALLOT_ADMIN_TOKEN.
    let var = config
        .as_ref()
        .and_then(|(_, c)| c.server.admin_token_env.clone())
        .unwrap_or_else(|| "SHALLOT_ADMIN_TOKEN".to_owned());
    let authorization = std::env::var(&var)
        .ok()
        .filter(|t| !t.is_empty())
        .map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| {
            format!("no admin endpoint at {addr} (is `server.admin` set and the server running?)")
        })?;
    let request = format!("GET /status HTTP/1.0\r\nHost: shallot\r\n{authorization}\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    if response.starts_with("HTTP/1.1 401") || response.starts_with("HTTP/1.0 401") {
        anyhow::bail!("the admin endpoint at {addr} wants a token: export it in {var}");
    }
    let status: serde_json::Value =
        serde_json::from_str(body).context("the admin endpoint sent no JSON")?;
    println!("{}", serde_json::to_string_pretty(&status)?);
    Ok(())
}
