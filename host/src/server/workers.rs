//! Thread per core: `[server] workers` threads, each with its own
//! single-threaded event loop and its own listening socket on the shared
//! address (`SO_REUSEPORT`: the kernel spreads new connections across
//! them). A connection is accepted, served and answered on one thread, and
//! its requests take instances from that thread's share of each pool (see
//! `crate::instance`), so nothing on the hot path crosses cores; only the
//! immutable pipeline is shared.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use super::new_socket;
use super::tls::Tls;

use crate::config::ServerConfig;
use crate::reload::LivePipeline;

/// The listening sockets of `workers` threads, all on one address.
pub struct Listeners {
    sockets: Vec<std::net::TcpListener>,
    addr: SocketAddr,
    tls: Option<Arc<Tls>>,
}

impl Listeners {
    /// Binds `workers` sockets to `addr` (port 0: one port the kernel
    /// picks, shared by all). Must run inside a tokio runtime.
    ///
    /// `SO_REUSEPORT` would also let a second server of the same user bind
    /// the same port and silently take half its connections, so the
    /// address is first bound without it: a port already served fails here
    /// with "address in use", as it would without workers.
    pub fn bind(addr: SocketAddr, backlog: u32, workers: usize) -> std::io::Result<Listeners> {
        let addr = bind_alone(addr)?;
        let mut sockets = Vec::with_capacity(workers);
        for _ in 0..workers.max(1) {
            let socket = new_socket(addr)?;
            socket.set_reuseport(true)?;
            socket.bind(addr)?;
            sockets.push(socket.listen(backlog)?.into_std()?);
        }
        Ok(Listeners {
            sockets,
            addr,
            tls: None,
        })
    }

    /// Serves HTTPS with `tls` on every worker.
    pub fn with_tls(mut self, tls: Arc<Tls>) -> Listeners {
        self.tls = Some(tls);
        self
    }

    /// The address every worker listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Binds `addr` once without `SO_REUSEPORT` (and lets it go): the port the
/// workers will share, checked free.
fn bind_alone(addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let socket = new_socket(addr)?;
    socket.bind(addr)?;
    socket.local_addr()
}

/// Serves `pipeline` on every listener, one thread each, until `shutdown`
/// resolves; then each worker stops accepting and drains its own
/// connections (see [`super::serve`]). Returns when all have stopped.
pub async fn serve_workers(
    listeners: Listeners,
    pipeline: Arc<LivePipeline>,
    settings: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut threads = Vec::with_capacity(listeners.sockets.len());
    for (index, socket) in listeners.sockets.into_iter().enumerate() {
        let pipeline = pipeline.clone();
        let settings = settings.clone();
        let tls = listeners.tls.clone();
        let mut stopped = stopped.clone();
        let thread = std::thread::Builder::new()
            .name(format!("shallot-worker-{index}"))
            .spawn(move || -> std::io::Result<()> {
                crate::instance::enter_worker(index);
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(socket)?;
                    let stop = async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    };
                    super::serve_with(listener, pipeline, &settings, tls, stop).await
                })
            })?;
        threads.push(thread);
    }
    shutdown.await;
    let _ = stop.send(true);
    let joined = tokio::task::spawn_blocking(move || {
        threads.into_iter().try_for_each(|thread| {
            thread
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("a worker panicked")))
        })
    });
    joined.await.map_err(std::io::Error::other)?
}
