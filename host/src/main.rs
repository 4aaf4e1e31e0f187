//! The `shallot` command: serve a config, check it, list its routes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shallot::{Config, LivePipeline, Pipeline};

/// Every request allocates its stores, tables and headers and frees them
/// again; glibc's malloc spent ~14% of a request's CPU in a profile of the
/// quickstart under load, mimalloc's thread-local free lists much less.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "Django's request/response cycle, every middleware and view a Wasm component"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP with the pipeline a config describes.
    Serve {
        /// Listen on this address instead of the config's `server.listen`.
        #[arg(long, env = "SHALLOT_LISTEN")]
        listen: Option<SocketAddr>,
        /// The config file (shallot.toml).
        config: PathBuf,
    },
    /// Validate a config and every component's exports; print the hook table.
    Check {
        /// The config file (shallot.toml).
        config: PathBuf,
    },
    /// List the URL patterns, like Django's show_urls.
    Routes {
        /// The config file (shallot.toml).
        config: PathBuf,
    },
    /// Compile every component into the compile cache ahead of time.
    Precompile {
        /// The config file (shallot.toml).
        config: PathBuf,
    },
    /// Send one request through a config's pipeline in process (no socket)
    /// and print the response like `curl -i`.
    Call {
        /// The config file (shallot.toml).
        config: PathBuf,
        /// The path (and query), e.g. `/items/42/?x=1`.
        path: String,
        /// The method.
        #[arg(short = 'X', long, default_value = "GET")]
        method: String,
        /// A request header, `Name: value` (repeatable).
        #[arg(short = 'H', long = "header")]
        headers: Vec<String>,
    },
    /// Scaffold a project that builds and has a test.
    New {
        #[command(subcommand)]
        what: NewCommand,
    },
    /// Ask a running server's admin endpoint for its status.
    Status {
        /// The admin address; defaults to the config's `server.admin`.
        #[arg(long)]
        admin: Option<SocketAddr>,
        /// The config file (shallot.toml), to find `server.admin`.
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum NewCommand {
    /// A middleware: `shallot new middleware NAME --lang rust|python|js`.
    Middleware {
        /// Lower-case letters, digits and '-'; the project's folder.
        name: String,
        /// rust, python or js.
        #[arg(long, default_value = "rust")]
        lang: shallot::scaffold::Lang,
        /// Where to create the project's folder.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHALLOT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        match cli.command {
            Command::Serve { listen, config } => serve(config, listen).await,
            Command::Check { config } => check(config).await,
            Command::Routes { config } => routes(config),
            Command::Precompile { config } => precompile(config),
            Command::Status { admin, config } => status(admin, config).await,
            Command::Call {
                config,
                path,
                method,
                headers,
            } => call(config, path, method, headers).await,
            Command::New {
                what: NewCommand::Middleware { name, lang, dir },
            } => new_middleware(&dir, &name, lang),
        }
    })
}

async fn serve(path: PathBuf, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    let live = Arc::new(LivePipeline::from_config(&config).await?);
    let addr = listen.unwrap_or(config.server.listen);
    let listener = shallot::server::bind(addr, config.server.backlog)
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(
        "serving {} on http://{} ({} middleware, {} views)",
        path.display(),
        listener.local_addr()?,
        live.current().middleware().len(),
        config.views.len()
    );
    // Reload on changes to the config or any component, and on SIGHUP.
    let _watch = shallot::watch::spawn(live.clone()).context("cannot watch the config's files")?;
    if let Some(admin) = config.server.admin {
        let listener = shallot::server::bind(admin, config.server.backlog)
            .with_context(|| format!("cannot listen on the admin address {admin}"))?;
        tracing::info!("admin status on http://{admin}/status");
        let admin = shallot::admin::serve(listener, live.clone(), config.server.clone());
        tokio::spawn(admin);
    }
    tokio::spawn(reload_on_sighup(live.clone()));
    shallot::server::serve(listener, live, &config.server, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn reload_on_sighup(live: Arc<LivePipeline>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; reloads come from file changes only");
        return;
    };
    while hup.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading");
        // The outcome is logged and kept in the status by reload().
        let _ = live.reload().await;
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("can install a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn check(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    let pipeline = Pipeline::load(&config).await?;
    print!("{}", shallot::pipeline::hook_table(&pipeline));
    println!(
        "ok: {} middleware, {} views, {} routes",
        pipeline.middleware().len(),
        config.views.len(),
        pipeline.router().endpoints().len()
    );
    Ok(())
}

async fn call(
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

fn new_middleware(
    dir: &std::path::Path,
    name: &str,
    lang: shallot::scaffold::Lang,
) -> anyhow::Result<()> {
    let home = shallot::scaffold::shallot_home();
    for file in shallot::scaffold::middleware(dir, name, lang, &home)? {
        println!("created {}", file.display());
    }
    println!(
        "build and test with: bash {}/test.sh (SHALLOT=path/to/shallot if it is not on PATH)",
        dir.join(name).display()
    );
    Ok(())
}

fn routes(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    print!("{}", shallot::router::show_urls(&config.router));
    Ok(())
}

fn precompile(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    let runtime = shallot::Runtime::new(shallot::EngineOptions::for_config(&config))?
        .with_disk_cache(&config.server.compile_cache);
    for spec in config.middleware.iter().chain(config.views.values()) {
        let cached = runtime.precompile(&spec.component)?;
        let how = if cached { "cached" } else { "compiled" };
        println!("{how:<8}  {:<20}  {}", spec.name, spec.component.display());
    }
    println!("cache: {}", config.server.compile_cache.display());
    Ok(())
}

async fn status(admin: Option<SocketAddr>, config: Option<PathBuf>) -> anyhow::Result<()> {
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
