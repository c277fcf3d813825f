//! `tutorbook`: the HTTP service binary. Configuration comes from the
//! environment; see `tutorbook_app::config`.

use std::error::Error;
use std::process::ExitCode;

use tutorbook_app::{AppState, Config, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("tutorbook: invalid configuration: {}", chain(&err));
            return ExitCode::from(2);
        }
    };
    if let Err(err) = telemetry::init(&config.log_filter) {
        eprintln!("tutorbook: cannot set up logging: {err}");
        return ExitCode::from(2);
    }

    let state = match AppState::open(&config.database, config.pool_size).await {
        Ok(state) => state,
        Err(err) => {
            tracing::error!("tutorbook cannot open its database: {}", chain(&err));
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(store = state.store.backend_name(), "database ready");
    match tutorbook_app::run(config, state).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("tutorbook failed: {}", chain(&err));
            ExitCode::FAILURE
        }
    }
}

/// `err` followed by its sources, `: `-separated; a source whose message
/// its parent already repeats is skipped.
fn chain(err: &dyn Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}
