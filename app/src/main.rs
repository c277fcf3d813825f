//! `tutorbook`: the HTTP service binary. Configuration comes from the
//! environment; see `tutorbook_app::config`.

use std::error::Error;
use std::process::ExitCode;

use tutorbook_app::auth::Auth;
use tutorbook_app::effects::Effects;
use tutorbook_app::{AppState, Config, demo, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        print!("{}", tutorbook_app::config::help_text());
        return ExitCode::SUCCESS;
    }
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
    if config.calendar_half_configured {
        tracing::warn!(
            "GOOGLE_CALENDAR_ENABLED is set without GOOGLE_SERVICE_ACCOUNT_KEY_FILE and GOOGLE_CALENDAR_ORGANIZER: \
             calendar sync stays off"
        );
    }
    // One TLS provider (ring) for every HTTPS client in the process.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let auth = match Auth::new(&config.auth) {
        Ok(auth) => auth,
        Err(err) => {
            tracing::error!(
                "tutorbook cannot build its HTTP client for Google's keys: {}",
                chain(&err)
            );
            return ExitCode::FAILURE;
        }
    };
    let clock: tutorbook_app::state::SharedClock = std::sync::Arc::new(tutorbook_ports::SystemClock);
    let state = match AppState::open(&config.database, config.pool_size, auth, clock).await {
        Ok(state) => state.with_limits(&config.limits).with_browse_cache(config.browse_cache),
        Err(err) => {
            tracing::error!("tutorbook cannot open its database: {}", chain(&err));
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(store = state.store.backend_name(), "database ready");
    if config.demo_data {
        match demo::seed(&state, state.now()).await {
            Ok(demo::Seeded::Data { slots, packages }) => {
                tracing::info!(slots, packages, "demo data seeded: two teachers, a student")
            }
            Ok(demo::Seeded::AlreadyPopulated) => tracing::info!("demo data skipped: the store already has users"),
            Err(err) => {
                tracing::error!("tutorbook cannot seed the demo data: {}", chain(&err));
                return ExitCode::FAILURE;
            }
        }
    }
    if config.auth.dev_login {
        tracing::warn!("development auto-login is ON: POST /api/v1/auth/dev?as=teacher|student");
    }
    if config.auth.jwt_secret == tutorbook_app::config::Secret::new(tutorbook_app::config::DEV_SECRET) {
        tracing::warn!("tokens are signed with the public development secret (TUTORBOOK_ALLOW_DEV_SECRET)");
    }
    let effects_store = match state.effects_store(&config.database, config.effects.db_pool) {
        Ok(store) => store,
        Err(err) => {
            tracing::error!("tutorbook cannot pool the connections of its effects: {}", chain(&err));
            return ExitCode::FAILURE;
        }
    };
    // The user store is the directory: messages go to users' addresses in their locale.
    let effects = match Effects::start(
        &config.effects,
        state.store.clone(),
        effects_store.clone(),
        effects_store,
        state.clock.clone(),
    )
    .await
    {
        Ok(effects) => effects,
        Err(err) => {
            tracing::error!("tutorbook cannot start its background jobs: {}", chain(&err));
            return ExitCode::FAILURE;
        }
    };
    let grace = config.shutdown_grace;
    let served = tutorbook_app::run(config, state).await;
    effects.stop(grace).await;
    match served {
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
