//! `shallot serve`: the HTTP server, reloading on file changes and SIGHUP
//! and draining in-flight requests on SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use shallot::{Config, LivePipeline};

/// Serves the config at `path`, on `listen` if given, until a signal stops it.
pub(crate) async fn run(
    path: PathBuf,
    listen: Option<SocketAddr>,
    allow_unapplied_migrations: bool,
) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    if let Some(pending) = super::migrate::unapplied(&config).await? {
        if !allow_unapplied_migrations {
            anyhow::bail!(
                "{pending}; run `shallot migrate {}` first (or serve with --allow-unapplied-migrations)",
                path.display()
            );
        }
        tracing::warn!("{pending}");
    }
    let live = Arc::new(LivePipeline::from_config(&config).await?);
    let addr = listen.unwrap_or(config.server.listen);
    let workers = config.server.workers;
    let mut listeners = shallot::server::Listeners::bind(addr, config.server.backlog, workers)
        .with_context(|| format!("cannot listen on {addr}"))?;
    let mut scheme = "http";
    if let Some(files) = &config.server.tls {
        let tls = Arc::new(shallot::server::Tls::load(files, config.server.http2)?);
        live.attach_tls(tls.clone());
        listeners = listeners.with_tls(tls);
        scheme = "https";
        if let Some(redirect) = config.server.redirect_http {
            let listener = shallot::server::bind(redirect, config.server.backlog)
                .with_context(|| format!("cannot listen on the redirect address {redirect}"))?;
            tracing::info!("redirecting http://{redirect} to https");
            let https_port = listeners.local_addr().port();
            let settings = config.server.clone();
            tokio::spawn(async move {
                shallot::server::serve_redirect(
                    listener,
                    https_port,
                    &settings,
                    std::future::pending(),
                )
                .await
            });
        }
    }
    tracing::info!(
        "serving {} on {scheme}://{} ({} middleware, {} views; {workers} worker threads)",
        path.display(),
        listeners.local_addr(),
        live.current().middleware().len(),
        config.views.len()
    );
    // Reload on changes to the config or any component, and on SIGHUP.
    let _watch = shallot::watch::spawn(live.clone()).context("cannot watch the config's files")?;
    if let Some(admin) = config.server.admin {
        let token = shallot::admin::AdminToken::from_env(&config.server)?;
        let listener = shallot::server::bind(admin, config.server.backlog)
            .with_context(|| format!("cannot listen on the admin address {admin}"))?;
        tracing::info!(
            "admin status on http://{admin}/status{}",
            if token.is_some() {
                " (token required)"
            } else {
                ""
            }
        );
        let admin = shallot::admin::serve(listener, live.clone(), config.server.clone(), token);
        tokio::spawn(admin);
    }
    tokio::spawn(reload_on_sighup(live.clone()));
    let stopping = drain_then_stop(live.clone(), config.server.drain);
    shallot::server::serve_workers(listeners, live, &config.server, stopping).await?;
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

/// Resolves when the server should stop accepting: a stop signal, then
/// `drain` more of serving with the health check answering 503 so that
/// load balancers have taken this host out by then.
async fn drain_then_stop(live: Arc<LivePipeline>, drain: std::time::Duration) {
    shutdown_signal().await;
    live.start_draining();
    if !drain.is_zero() {
        tracing::info!(
            "draining: health checks answer 503 for {drain:?}, then stopping (signal again to stop now)"
        );
        tokio::select! {
            () = tokio::time::sleep(drain) => {}
            () = shutdown_signal() => {}
        }
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
