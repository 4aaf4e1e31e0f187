//! The `shallot` command: serve a config, check it, list its routes.
//!
//! This file is the command line (clap's definitions) and the dispatch; each
//! subcommand's body lives in its own module under `cli/`, since only the
//! binary needs it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// The subcommands' bodies, and how an error is printed.
mod cli {
    pub(crate) mod call;
    pub(crate) mod check;
    pub(crate) mod collectstatic;
    pub(crate) mod dev_cert;
    pub(crate) mod migrate;
    pub(crate) mod new;
    pub(crate) mod precompile;
    pub(crate) mod report;
    pub(crate) mod routes;
    pub(crate) mod serve;
    pub(crate) mod status;
}

use cli::{
    call, check, collectstatic, dev_cert, migrate, new, precompile, report, routes, serve, status,
};

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
        /// Serve even if a database has migrations not yet applied.
        #[arg(long)]
        allow_unapplied_migrations: bool,
        /// The config file (shallot.toml).
        config: PathBuf,
    },
    /// Validate a config and every component's exports; print the hook table.
    Check {
        /// The config file (shallot.toml).
        config: PathBuf,
    },
    /// Apply each database's migrations not yet applied, in order, each
    /// file in one transaction.
    Migrate {
        /// The config file (shallot.toml).
        config: PathBuf,
    },
    /// Copy `[static] dirs` into `[static] root` with content-hashed names,
    /// a manifest (staticfiles.json) and .br/.gz siblings.
    Collectstatic {
        /// The config file (shallot.toml).
        config: PathBuf,
    },
    /// Write a self-signed certificate and key (cert.pem, key.pem) for
    /// serving HTTPS in development.
    DevCert {
        /// Where to write them.
        #[arg(long, default_value = ".shallot/tls")]
        out: PathBuf,
        /// Names and addresses the certificate is for.
        #[arg(default_values = ["localhost", "127.0.0.1", "::1"])]
        hosts: Vec<String>,
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

/// Runs the command; an error is printed without repeating itself (see
/// [`report`]) and exits with status 1.
fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", report::render(&error));
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHALLOT_LOG")
                // PostgreSQL's notices arrive at info: a connection given
                // back after a write is rolled back to be safe, and the
                // server's "no transaction in progress" would log a line
                // per write request.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("info,tokio_postgres::connection=warn")
                }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    // Requests are served on `[server] workers` threads of their own (see
    // `server::serve_workers`); this runtime loads, reloads and answers
    // the admin endpoint, and runs the other commands.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        match cli.command {
            Command::Serve {
                listen,
                allow_unapplied_migrations,
                config,
            } => serve::run(config, listen, allow_unapplied_migrations).await,
            Command::Migrate { config } => migrate::run(config).await,
            Command::Check { config } => check::run(config).await,
            Command::Routes { config } => routes::run(config),
            Command::Collectstatic { config } => collectstatic::run(config),
            Command::DevCert { out, hosts } => dev_cert::run(&out, &hosts),
            Command::Precompile { config } => precompile::run(config),
            Command::Status { admin, config } => status::run(admin, config).await,
            Command::Call {
                config,
                path,
                method,
                headers,
            } => call::run(config, path, method, headers).await,
            Command::New {
                what: NewCommand::Middleware { name, lang, dir },
            } => new::middleware(&dir, &name, lang),
        }
    })
}
