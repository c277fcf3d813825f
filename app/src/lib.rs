//! The tutorbook HTTP service: configuration, routes and server lifecycle.
//!
//! The binary (`src/main.rs`) is a thin wrapper around [`run`]; tests build the
//! routes with [`build_app`] and drive them through `poem::test::TestClient`.

pub mod auth;
pub mod config;
pub mod demo;
pub mod effects;
pub mod http;
pub mod server;
pub mod state;
pub mod telemetry;

pub use config::{Config, ConfigError};
pub use http::build_app;
pub use state::AppState;

/// Binds the configured address and serves the app until SIGINT or SIGTERM,
/// then drains in-flight requests for at most [`Config::shutdown_grace`].
pub async fn run(config: Config, state: AppState) -> std::io::Result<()> {
    let listener = server::BoundListener::bind(config.bind).await?;
    tracing::info!("tutorbook listening on {}", server::docs_url(listener.local_addr()));
    listener
        .serve(build_app(state), server::shutdown_signal(), config.shutdown_grace)
        .await?;
    tracing::info!("tutorbook stopped");
    Ok(())
}
