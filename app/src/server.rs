//! Listening socket and graceful shutdown.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use poem::listener::TcpAcceptor;
use poem::{IntoEndpoint, Server};

/// A TCP socket already bound, so the real address (port 0 resolved) is
/// known before serving.
#[derive(Debug)]
pub struct BoundListener {
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
}

impl BoundListener {
    /// Binds `addr`.
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|err| io::Error::new(err.kind(), format!("cannot bind {addr}: {err}")))?;
        let local_addr = listener.local_addr()?;
        Ok(Self { listener, local_addr })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `ep` until `shutdown` completes; then stops accepting, lets
    /// in-flight requests finish and returns once all connections closed or
    /// `grace` elapsed, whichever comes first.
    pub async fn serve<E>(self, ep: E, shutdown: impl Future<Output = ()>, grace: Duration) -> io::Result<()>
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        let acceptor = TcpAcceptor::from_tokio(self.listener)?;
        Server::new_with_acceptor(acceptor)
            .name("tutorbook")
            .run_with_graceful_shutdown(ep, shutdown, Some(grace))
            .await
    }
}

/// URL of the Swagger UI for a server bound to `addr`; a wildcard address is
/// shown as the loopback address of the same family so the link works.
pub fn docs_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/docs", SocketAddr::new(ip, addr.port()))
}

/// Completes on the first SIGINT (Ctrl-C) or, on Unix, SIGTERM.
///
/// If a handler cannot be installed it is logged and that signal is simply
/// never reported, rather than shutting down at once.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => tracing::info!("received SIGINT, shutting down"),
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGINT");
                std::future::pending::<()>().await;
            }
        }
    };

    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
                tracing::info!("received SIGTERM, shutting down");
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
