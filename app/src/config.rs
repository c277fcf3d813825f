//! Runtime configuration, read once from environment variables at start-up.
//!
//! Every variable, its default and meaning is listed once, in [`VARIABLES`]:
//! `tutorbook --help` prints that table and a test holds the README's copy
//! to it.
//!
//! A variable that is set but empty counts as unset. Booleans are
//! `true`/`false` (also `1`/`0`, `yes`/`no`). The repository's
//! `.cargo/config.toml` turns on the development switches for `cargo run`
//! (and only for commands run through cargo); see
//! `docs/decisions/0004-auth-and-tokens.md`.

use std::ffi::OsStr;
use std::net::{AddrParseError, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use crate::effects::{EffectsConfig, EffectsConfigError};
use tracing_subscriber::filter::{EnvFilter, ParseError};

/// One environment variable the service reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// Its name.
    pub name: &'static str,
    /// What it is when unset, as people read it.
    pub default: &'static str,
    /// What it does.
    pub meaning: &'static str,
}

/// Every variable the service reads (this module and `crate::effects`),
/// in the order `tutorbook --help` and the README list them. A test checks
/// that the README's table is exactly this list and that the code reads no
/// variable missing here.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "TUTORBOOK_BIND",
        default: "`127.0.0.1:8080`",
        meaning: "listen address (`IP:PORT`)",
    },
    Variable {
        name: "RUST_LOG",
        default: "`info`",
        meaning: "log filter (`tracing` env-filter syntax)",
    },
    Variable {
        name: "DATABASE_URL",
        default: "(unset)",
        meaning: "`postgres://...`: run on Postgres instead of SQLite",
    },
    Variable {
        name: "TUTORBOOK_DATA_DIR",
        default: "`.data`",
        meaning: "directory of the SQLite file",
    },
    Variable {
        name: "TUTORBOOK_DB_POOL",
        default: "`16`",
        meaning: "most pooled database connections",
    },
    Variable {
        name: "TUTORBOOK_ENV",
        default: "`development`",
        meaning: "`production` refuses every development switch",
    },
    Variable {
        name: "TUTORBOOK_JWT_SECRET",
        default: "(required)",
        meaning: "HS256 key of the service's tokens, 32+ bytes (`openssl rand -base64 48`)",
    },
    Variable {
        name: "TUTORBOOK_ALLOW_DEV_SECRET",
        default: "`false`",
        meaning: "development only: sign tokens with the public built-in secret",
    },
    Variable {
        name: "TUTORBOOK_TOKEN_TTL_MINUTES",
        default: "`720`",
        meaning: "lifetime of issued tokens",
    },
    Variable {
        name: "TUTORBOOK_GOOGLE_CLIENT_ID",
        default: "(unset)",
        meaning: "enables Google sign-in; the ID tokens' audience",
    },
    Variable {
        name: "TUTORBOOK_GOOGLE_JWKS_URL",
        default: "Google's certs URL",
        meaning: "where Google's signing keys are fetched (https in production)",
    },
    Variable {
        name: "TUTORBOOK_GOOGLE_ISSUERS",
        default: "`https://accounts.google.com,accounts.google.com`",
        meaning: "accepted `iss` values",
    },
    Variable {
        name: "TUTORBOOK_HOST_JWT_SECRET",
        default: "(unset)",
        meaning: "trust HS256 tokens minted by a host service (`sub`, `role`, `exp`), 32+ bytes",
    },
    Variable {
        name: "TUTORBOOK_HOST_JWT_PUBLIC_KEY_FILE",
        default: "(unset)",
        meaning: "or: trust RS256 host tokens, checked with this PEM public key",
    },
    Variable {
        name: "TUTORBOOK_HOST_JWT_ISSUER",
        default: "(unset)",
        meaning: "when set, host tokens must carry this `iss`",
    },
    Variable {
        name: "TUTORBOOK_SIGN_IN_PER_MINUTE",
        default: "`20`",
        meaning: "sign-ins per minute per client address (`0`: no limit)",
    },
    Variable {
        name: "TUTORBOOK_ANONYMOUS_READS_PER_MINUTE",
        default: "`600`",
        meaning: "reads without a token per minute per client address (`0`: no limit)",
    },
    Variable {
        name: "TUTORBOOK_CLIENT_IP_HEADER",
        default: "(unset: the peer address)",
        meaning: "header a trusted proxy puts the client address in (its last entry), e.g. `X-Forwarded-For`",
    },
    Variable {
        name: "TUTORBOOK_REQUEST_TIMEOUT_SECS",
        default: "`30`",
        meaning: "longest a request may run before `503 timed_out` (1 to 600)",
    },
    Variable {
        name: "TUTORBOOK_BROWSE_CACHE_MS",
        default: "`1000`",
        meaning: "how long a browse page is served again while nothing changed in this process: the most browse lags a change made by another instance (0 to 60000; `0`: no cache)",
    },
    Variable {
        name: "TUTORBOOK_DEV_LOGIN",
        default: "`false`",
        meaning: "`?as=teacher` or `?as=student` sign-in; refused in production and beside Google",
    },
    Variable {
        name: "TUTORBOOK_DEMO_DATA",
        default: "`false`",
        meaning: "seed demo teachers and next week's slots into an empty store",
    },
    Variable {
        name: "RESEND_API_KEY",
        default: "(unset)",
        meaning: "send email through Resend; unset: emails go to the log",
    },
    Variable {
        name: "RESEND_FROM",
        default: "(unset)",
        meaning: "sender, required with `RESEND_API_KEY`",
    },
    Variable {
        name: "RESEND_BASE_URL",
        default: "Resend's API URL",
        meaning: "where Resend is reached (tests point it at a local fake)",
    },
    Variable {
        name: "GOOGLE_CALENDAR_ENABLED",
        default: "`false`",
        meaning: "`true`: one Google Calendar event (with Meet) per booked slot",
    },
    Variable {
        name: "GOOGLE_SERVICE_ACCOUNT_KEY_FILE",
        default: "(unset)",
        meaning: "service account JSON key (needed for the calendar)",
    },
    Variable {
        name: "GOOGLE_CALENDAR_ORGANIZER",
        default: "(unset)",
        meaning: "Workspace user owning the events (needed for the calendar)",
    },
    Variable {
        name: "TUTORBOOK_OUTBOX_INTERVAL_SECS",
        default: "`5`",
        meaning: "pause of the outbox worker when idle",
    },
    Variable {
        name: "TUTORBOOK_OUTBOX_PASSES",
        default: "`2`",
        meaning: "outbox passes run at once while there is a backlog (1–64)",
    },
    Variable {
        name: "TUTORBOOK_EFFECTS_DB_POOL",
        default: "`8`",
        meaning: "Postgres connections of the background loops, apart from the requests' pool",
    },
    Variable {
        name: "TUTORBOOK_REMINDER_INTERVAL_SECS",
        default: "`30`",
        meaning: "pause of the reminder scheduler",
    },
    Variable {
        name: "TUTORBOOK_REMINDER_LEADS",
        default: "`24h,1h`",
        meaning: "email reminders before each lesson",
    },
    Variable {
        name: "TUTORBOOK_IDEMPOTENCY_TTL_HOURS",
        default: "`24`",
        meaning: "how long an `Idempotency-Key` is remembered (purged hourly)",
    },
    Variable {
        name: "TUTORBOOK_OUTBOX_RETENTION_DAYS",
        default: "`30`",
        meaning: "how long a delivered outbox message is kept (purged hourly; pending and given-up ones stay)",
    },
    Variable {
        name: "TUTORBOOK_JOBS_INTERVAL_SECS",
        default: "`60`",
        meaning: "pause between passes of the booking jobs (expiring unanswered requests, completing unmarked lessons)",
    },
    Variable {
        name: "TUTORBOOK_COMPLETION_GRACE_HOURS",
        default: "`24`",
        meaning: "how long after a lesson its teacher may mark attendance before it is completed",
    },
];

/// The README's row for a variable.
pub fn readme_row(v: &Variable) -> String {
    format!("| `{}` | {} | {} |", v.name, v.default, v.meaning)
}

/// What `tutorbook --help` prints: every variable with its default.
pub fn help_text() -> String {
    let mut text = String::from(
        "tutorbook: the tutorbook HTTP service.\n\nConfigured only by environment variables; a bad value stops \
         start-up with the variable's name.\nBooleans are true/false, 1/0 or yes/no.\n\n",
    );
    let width = VARIABLES.iter().map(|v| v.name.len()).max().unwrap_or(0);
    for v in VARIABLES {
        text.push_str(&format!(
            "  {:width$}  {} (default: {})\n",
            v.name, v.meaning, v.default
        ));
    }
    text
}

/// Environment variable holding the listen address.
pub const BIND_VAR: &str = "TUTORBOOK_BIND";
/// Environment variable holding the log filter.
pub const LOG_VAR: &str = "RUST_LOG";
/// Listen address used when [`BIND_VAR`] is unset.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Log filter used when [`LOG_VAR`] is unset.
pub const DEFAULT_LOG_FILTER: &str = "info";
/// How long shutdown waits for in-flight requests before dropping them.
/// Postgres connection URL; without it the service uses SQLite.
pub const DATABASE_URL_VAR: &str = "DATABASE_URL";
/// Directory of the SQLite database file.
pub const DATA_DIR_VAR: &str = "TUTORBOOK_DATA_DIR";
/// Maximum pooled database connections.
pub const POOL_VAR: &str = "TUTORBOOK_DB_POOL";
/// Default SQLite data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".data";
/// Default pool size.
pub const DEFAULT_POOL: usize = 16;
/// File name of the SQLite database inside the data directory.
pub const SQLITE_FILE: &str = "tutorbook.db";

/// Which store the service runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// The embedded default: a SQLite file that survives restarts.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// A Postgres server.
    Postgres {
        /// Its connection URL.
        url: String,
    },
}

pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Deployment environment variable.
pub const ENV_VAR: &str = "TUTORBOOK_ENV";
/// The service's token secret.
pub const JWT_SECRET_VAR: &str = "TUTORBOOK_JWT_SECRET";
/// Switch allowing the built-in development secret.
pub const ALLOW_DEV_SECRET_VAR: &str = "TUTORBOOK_ALLOW_DEV_SECRET";
/// Token lifetime in minutes.
pub const TOKEN_TTL_VAR: &str = "TUTORBOOK_TOKEN_TTL_MINUTES";
/// Google OAuth client id (the ID tokens' audience).
pub const GOOGLE_CLIENT_ID_VAR: &str = "TUTORBOOK_GOOGLE_CLIENT_ID";
/// Google's JWKS URL.
pub const GOOGLE_JWKS_URL_VAR: &str = "TUTORBOOK_GOOGLE_JWKS_URL";
/// Accepted Google issuers, comma-separated.
pub const GOOGLE_ISSUERS_VAR: &str = "TUTORBOOK_GOOGLE_ISSUERS";
/// Secret of the host service's tokens.
pub const HOST_JWT_SECRET_VAR: &str = "TUTORBOOK_HOST_JWT_SECRET";
/// File holding the PEM RSA public key of the host service's tokens.
pub const HOST_JWT_PUBLIC_KEY_FILE_VAR: &str = "TUTORBOOK_HOST_JWT_PUBLIC_KEY_FILE";
/// Required issuer of the host service's tokens.
pub const HOST_JWT_ISSUER_VAR: &str = "TUTORBOOK_HOST_JWT_ISSUER";
/// Development auto-login switch.
pub const DEV_LOGIN_VAR: &str = "TUTORBOOK_DEV_LOGIN";
/// Demo data switch.
pub const DEMO_DATA_VAR: &str = "TUTORBOOK_DEMO_DATA";
/// Sign-ins per minute per client address.
pub const SIGN_IN_RATE_VAR: &str = "TUTORBOOK_SIGN_IN_PER_MINUTE";
/// Anonymous reads per minute per client address.
pub const ANONYMOUS_RATE_VAR: &str = "TUTORBOOK_ANONYMOUS_READS_PER_MINUTE";
/// Header a trusted proxy carries the client address in.
pub const CLIENT_IP_HEADER_VAR: &str = "TUTORBOOK_CLIENT_IP_HEADER";
/// The longest a request may run, in seconds.
pub const REQUEST_TIMEOUT_VAR: &str = "TUTORBOOK_REQUEST_TIMEOUT_SECS";
/// How long a browse page may be served again, in milliseconds.
pub const BROWSE_CACHE_VAR: &str = "TUTORBOOK_BROWSE_CACHE_MS";
/// The longest a request may run unless configured.
pub const DEFAULT_REQUEST_TIME_LIMIT: Duration = Duration::from_secs(30);

/// Limits on what one request, or one client, may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLimits {
    /// Sign-ins per minute per client address (0: none).
    pub sign_in_per_minute: u32,
    /// Reads without a token per minute per client address (0: none).
    pub anonymous_reads_per_minute: u32,
    /// Where a trusted proxy puts the client's address.
    pub client_ip_header: Option<poem::http::HeaderName>,
    /// The longest a request may run.
    pub time_limit: Duration,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            sign_in_per_minute: 20,
            anonymous_reads_per_minute: 600,
            client_ip_header: None,
            time_limit: DEFAULT_REQUEST_TIME_LIMIT,
        }
    }
}

/// The built-in development token secret: public (it is in the source), so
/// the service refuses it unless [`ALLOW_DEV_SECRET_VAR`] is set, and always
/// in production.
pub const DEV_SECRET: &str = "tutorbook-development-secret-not-for-production";
/// Shortest accepted HS256 secret, in bytes (RFC 7518 3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;
/// Default token lifetime.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);
/// Google's published signing keys.
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// The `iss` values Google puts in ID tokens.
pub const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];

/// Where the service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// A developer's machine or a test: development shortcuts may be switched on.
    Development,
    /// A real deployment: no development shortcut starts.
    Production,
}

/// A secret: compared and cloned like a string, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's bytes, for keying.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Google sign-in settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleConfig {
    /// The OAuth client id: ID tokens must name it as their audience.
    pub client_id: String,
    /// Where the signing keys are fetched.
    pub jwks_url: String,
    /// Accepted issuers.
    pub issuers: Vec<String>,
}

/// How host tokens are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKey {
    /// HS256 with a secret shared with the host.
    Secret(Secret),
    /// RS256 with the host's public key (PEM); the host keeps the private key.
    RsaPublicPem(String),
}

/// Tokens minted by a trusted host service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// How their signature is checked.
    pub key: HostKey,
    /// The `iss` host tokens must carry, when set.
    pub issuer: Option<String>,
}

/// Identity settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Development or production.
    pub environment: Environment,
    /// Key of the service's own tokens.
    pub jwt_secret: Secret,
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Google sign-in, when configured.
    pub google: Option<GoogleConfig>,
    /// Host-minted tokens, when configured.
    pub host: Option<HostConfig>,
    /// Development auto-login.
    pub dev_login: bool,
}

impl Default for AuthConfig {
    /// Development, the development secret, no Google, no host, no dev login.
    fn default() -> Self {
        Self {
            environment: Environment::Development,
            jwt_secret: Secret::new(DEV_SECRET),
            token_ttl: DEFAULT_TOKEN_TTL,
            google: None,
            host: None,
            dev_login: false,
        }
    }
}

/// Validated service configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Socket address the HTTP server binds to.
    pub bind: SocketAddr,
    /// Log filter directives, already checked to parse.
    pub log_filter: String,
    /// Upper bound on draining in-flight requests at shutdown.
    pub shutdown_grace: Duration,
    /// The store: SQLite under the data directory unless `DATABASE_URL` is set.
    pub database: Database,
    /// Most pooled database connections.
    pub pool_size: usize,
    /// Identity: tokens, Google, host tokens, dev login.
    pub auth: AuthConfig,
    /// Seed demo data into an empty store at start-up.
    pub demo_data: bool,
    /// The effect loops: email, calendar, reminders, housekeeping.
    pub effects: EffectsConfig,
    /// The calendar was switched on without its key file and organizer
    /// (worth a warning: it stays off).
    pub calendar_half_configured: bool,
    /// Rate limits and the request time limit.
    pub limits: RequestLimits,
    /// How long browse pages are kept (docs/decisions/0023-browse-served-from-a-short-cache.md).
    pub browse_cache: Duration,
}

/// Why the configuration could not be loaded. Messages name the variable,
/// the offending value and what would be accepted.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A variable of the effect loops does not parse.
    #[error(transparent)]
    Effects(#[from] EffectsConfigError),
    /// A variable holds bytes that are not UTF-8.
    #[error("{var} is not valid UTF-8")]
    NotUnicode {
        /// The variable's name.
        var: &'static str,
    },
    /// The listen address does not parse.
    #[error(
        "{var}={value:?} is not a valid listen address: expected IP:PORT, \
         e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080"
    )]
    InvalidBind {
        /// The variable's name.
        var: &'static str,
        /// The rejected value.
        value: String,
        /// The parser's complaint.
        #[source]
        source: AddrParseError,
    },
    /// The log filter does not parse.
    #[error(
        "{var}={value:?} is not a valid log filter: expected directives such as \
         `info` or `tutorbook_app=debug,poem=info`"
    )]
    InvalidLogFilter {
        /// The variable's name.
        var: &'static str,
        /// The rejected value.
        value: String,
        /// The parser's complaint.
        #[source]
        source: ParseError,
    },
    /// `DATABASE_URL` is not a Postgres URL (the value is not echoed: it may hold a password).
    #[error("{var} must be a postgres:// or postgresql:// URL (unset it to use the embedded SQLite store)")]
    InvalidDatabaseUrl {
        /// The variable.
        var: &'static str,
    },
    /// The pool size is not a number in 1..=1000.
    #[error("{var}={value:?} must be a whole number from 1 to 1000")]
    InvalidPoolSize {
        /// The variable.
        var: &'static str,
        /// The rejected value.
        value: String,
    },
    /// A variable holds a value outside its allowed set.
    #[error("{var}={value:?} is not valid: expected {expected}")]
    InvalidValue {
        /// The variable.
        var: &'static str,
        /// The rejected value.
        value: String,
        /// What would be accepted.
        expected: &'static str,
    },
    /// The token secret is the public development secret.
    #[error(
        "{var} is not set, so the built-in development secret would sign tokens; set {var} to a random \
         string of at least 32 bytes (e.g. `openssl rand -base64 48`), or for development only set \
         TUTORBOOK_ALLOW_DEV_SECRET=true{production}"
    )]
    DevSecret {
        /// The variable.
        var: &'static str,
        /// Extra words when production forbids the switch.
        production: &'static str,
    },
    /// A secret is too short to key HS256 safely (the value is not echoed).
    #[error("{var} must be at least 32 bytes long")]
    WeakSecret {
        /// The variable.
        var: &'static str,
    },
    /// A development shortcut was switched on where it must not be.
    #[error("{var}=true is refused: {reason}")]
    ShortcutRefused {
        /// The variable.
        var: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: DEFAULT_BIND.parse().expect("DEFAULT_BIND is a valid address"),
            log_filter: DEFAULT_LOG_FILTER.to_owned(),
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            database: Database::Sqlite {
                path: PathBuf::from(DEFAULT_DATA_DIR).join(SQLITE_FILE),
            },
            pool_size: DEFAULT_POOL,
            auth: AuthConfig::default(),
            demo_data: false,
            effects: EffectsConfig::default(),
            calendar_half_configured: false,
            limits: RequestLimits::default(),
            browse_cache: tutorbook_ports::DEFAULT_BROWSE_CACHE.unsigned_abs(),
        }
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars_os())
    }

    /// Reads the configuration from explicit `(name, value)` pairs; unknown
    /// names are ignored. Lets tests avoid mutating the process environment.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        const KNOWN: [&str; 22] = [
            SIGN_IN_RATE_VAR,
            BROWSE_CACHE_VAR,
            ANONYMOUS_RATE_VAR,
            CLIENT_IP_HEADER_VAR,
            REQUEST_TIMEOUT_VAR,
            HOST_JWT_PUBLIC_KEY_FILE_VAR,
            BIND_VAR,
            LOG_VAR,
            DATABASE_URL_VAR,
            DATA_DIR_VAR,
            POOL_VAR,
            ENV_VAR,
            JWT_SECRET_VAR,
            ALLOW_DEV_SECRET_VAR,
            TOKEN_TTL_VAR,
            GOOGLE_CLIENT_ID_VAR,
            GOOGLE_JWKS_URL_VAR,
            GOOGLE_ISSUERS_VAR,
            HOST_JWT_SECRET_VAR,
            HOST_JWT_ISSUER_VAR,
            DEV_LOGIN_VAR,
            DEMO_DATA_VAR,
        ];
        let vars: Vec<(std::ffi::OsString, std::ffi::OsString)> = vars
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .collect();
        let mut values: std::collections::HashMap<&'static str, String> = std::collections::HashMap::new();
        for (key, value) in &vars {
            let (key, value) = (key.as_os_str(), value.as_os_str());
            if let Some(var) = KNOWN.iter().find(|k| key == **k)
                && let Some(value) = non_empty(var, value)?
            {
                values.insert(var, value);
            }
        }
        let (bind, log_filter, database_url, data_dir, pool) = (
            values.remove(BIND_VAR),
            values.remove(LOG_VAR),
            values.remove(DATABASE_URL_VAR),
            values.remove(DATA_DIR_VAR),
            values.remove(POOL_VAR),
        );

        let mut config = Self::default();
        if let Some(value) = bind {
            config.bind = value.parse().map_err(|source| ConfigError::InvalidBind {
                var: BIND_VAR,
                value: value.clone(),
                source,
            })?;
        }
        if let Some(value) = log_filter {
            EnvFilter::builder()
                .parse(&value)
                .map_err(|source| ConfigError::InvalidLogFilter {
                    var: LOG_VAR,
                    value: value.clone(),
                    source,
                })?;
            config.log_filter = value;
        }
        if let Some(url) = database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError::InvalidDatabaseUrl { var: DATABASE_URL_VAR });
            }
            config.database = Database::Postgres { url };
        } else if let Some(dir) = data_dir {
            config.database = Database::Sqlite {
                path: PathBuf::from(dir).join(SQLITE_FILE),
            };
        }
        if let Some(value) = pool {
            config.pool_size = value
                .parse()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or(ConfigError::InvalidPoolSize { var: POOL_VAR, value })?;
        }
        config.demo_data = flag(&mut values, DEMO_DATA_VAR)?;
        config.limits = limits_config(&mut values)?;
        if let Some(value) = values.remove(BROWSE_CACHE_VAR) {
            config.browse_cache = value
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms <= 60_000)
                .map(Duration::from_millis)
                .ok_or(ConfigError::InvalidValue {
                    var: BROWSE_CACHE_VAR,
                    value,
                    expected: "milliseconds from 0 (no cache) to 60000",
                })?;
        }
        config.auth = auth_config(&mut values)?;
        // The effect loops' variables, from the same read of the environment.
        config.calendar_half_configured = EffectsConfig::google_half_configured(vars.iter().cloned());
        config.effects = EffectsConfig::from_vars(vars)?;
        Ok(config)
    }
}

/// The rate limits and the request time limit.
fn limits_config(values: &mut std::collections::HashMap<&'static str, String>) -> Result<RequestLimits, ConfigError> {
    let mut limits = RequestLimits::default();
    let count = |var: &'static str, value: String| {
        value
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= 1_000_000)
            .ok_or(ConfigError::InvalidValue {
                var,
                value,
                expected: "a number of requests from 0 (no limit) to 1000000",
            })
    };
    if let Some(value) = values.remove(SIGN_IN_RATE_VAR) {
        limits.sign_in_per_minute = count(SIGN_IN_RATE_VAR, value)?;
    }
    if let Some(value) = values.remove(ANONYMOUS_RATE_VAR) {
        limits.anonymous_reads_per_minute = count(ANONYMOUS_RATE_VAR, value)?;
    }
    if let Some(value) = values.remove(CLIENT_IP_HEADER_VAR) {
        limits.client_ip_header = Some(value.parse().map_err(|_| ConfigError::InvalidValue {
            var: CLIENT_IP_HEADER_VAR,
            value: value.clone(),
            expected: "a header name such as X-Forwarded-For",
        })?);
    }
    if let Some(value) = values.remove(REQUEST_TIMEOUT_VAR) {
        let secs = value
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=600).contains(n))
            .ok_or(ConfigError::InvalidValue {
                var: REQUEST_TIMEOUT_VAR,
                value,
                expected: "seconds from 1 to 600",
            })?;
        limits.time_limit = Duration::from_secs(secs);
    }
    Ok(limits)
}

/// The identity settings, with the boot-safety rules: no public secret, no
/// development shortcut in production, no dev login beside Google.
fn auth_config(values: &mut std::collections::HashMap<&'static str, String>) -> Result<AuthConfig, ConfigError> {
    let environment = match values.remove(ENV_VAR).as_deref() {
        None | Some("development") => Environment::Development,
        Some("production") => Environment::Production,
        Some(other) => {
            return Err(ConfigError::InvalidValue {
                var: ENV_VAR,
                value: other.to_owned(),
                expected: "`development` or `production`",
            });
        }
    };
    let production = environment == Environment::Production;
    let allow_dev_secret = flag(values, ALLOW_DEV_SECRET_VAR)?;
    let jwt_secret = match values.remove(JWT_SECRET_VAR) {
        Some(secret) if secret != DEV_SECRET => checked_secret(JWT_SECRET_VAR, secret)?,
        _ if allow_dev_secret && !production => Secret::new(DEV_SECRET),
        _ => {
            return Err(ConfigError::DevSecret {
                var: JWT_SECRET_VAR,
                production: if production {
                    " (never with TUTORBOOK_ENV=production)"
                } else {
                    ""
                },
            });
        }
    };
    let token_ttl = match values.remove(TOKEN_TTL_VAR) {
        None => DEFAULT_TOKEN_TTL,
        Some(value) => value
            .parse::<u64>()
            .ok()
            .filter(|m| (1..=60 * 24 * 30).contains(m))
            .map(|m| Duration::from_secs(m * 60))
            .ok_or(ConfigError::InvalidValue {
                var: TOKEN_TTL_VAR,
                value,
                expected: "whole minutes from 1 to 43200 (30 days)",
            })?,
    };
    let jwks_url = values
        .remove(GOOGLE_JWKS_URL_VAR)
        .unwrap_or_else(|| GOOGLE_JWKS_URL.to_owned());
    let issuers = values.remove(GOOGLE_ISSUERS_VAR);
    let google = match values.remove(GOOGLE_CLIENT_ID_VAR) {
        None => None,
        Some(client_id) => {
            let https = jwks_url.starts_with("https://");
            if !(https || (!production && jwks_url.starts_with("http://"))) {
                return Err(ConfigError::InvalidValue {
                    var: GOOGLE_JWKS_URL_VAR,
                    value: jwks_url,
                    expected: "an https:// URL (http:// only outside production)",
                });
            }
            let issuers = match issuers {
                Some(list) => list
                    .split(',')
                    .map(|i| i.trim().to_owned())
                    .filter(|i| !i.is_empty())
                    .collect(),
                None => GOOGLE_ISSUERS.iter().map(|i| (*i).to_owned()).collect(),
            };
            Some(GoogleConfig {
                client_id,
                jwks_url,
                issuers,
            })
        }
    };
    let host_issuer = values.remove(HOST_JWT_ISSUER_VAR);
    let host_secret = values
        .remove(HOST_JWT_SECRET_VAR)
        .map(|secret| checked_secret(HOST_JWT_SECRET_VAR, secret))
        .transpose()?;
    let host_key = values
        .remove(HOST_JWT_PUBLIC_KEY_FILE_VAR)
        .map(read_public_key)
        .transpose()?;
    let host = match (host_secret, host_key) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::InvalidValue {
                var: HOST_JWT_PUBLIC_KEY_FILE_VAR,
                value: "(set)".into(),
                expected: "either TUTORBOOK_HOST_JWT_SECRET or TUTORBOOK_HOST_JWT_PUBLIC_KEY_FILE, not both",
            });
        }
        (Some(secret), None) => Some(HostKey::Secret(secret)),
        (None, Some(pem)) => Some(HostKey::RsaPublicPem(pem)),
        (None, None) => None,
    }
    .map(|key| HostConfig {
        key,
        issuer: host_issuer,
    });
    let dev_login = flag(values, DEV_LOGIN_VAR)?;
    if dev_login && production {
        return Err(ConfigError::ShortcutRefused {
            var: DEV_LOGIN_VAR,
            reason: "development auto-login never runs with TUTORBOOK_ENV=production",
        });
    }
    if dev_login && google.is_some() {
        return Err(ConfigError::ShortcutRefused {
            var: DEV_LOGIN_VAR,
            reason: "development auto-login is off whenever Google sign-in is configured \
                     (unset TUTORBOOK_GOOGLE_CLIENT_ID or TUTORBOOK_DEV_LOGIN)",
        });
    }
    Ok(AuthConfig {
        environment,
        jwt_secret,
        token_ttl,
        google,
        host,
        dev_login,
    })
}

/// Reads and checks the host's PEM public key.
fn read_public_key(path: String) -> Result<String, ConfigError> {
    let pem = std::fs::read_to_string(&path).map_err(|_| ConfigError::InvalidValue {
        var: HOST_JWT_PUBLIC_KEY_FILE_VAR,
        value: path.clone(),
        expected: "a readable file",
    })?;
    jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| ConfigError::InvalidValue {
        var: HOST_JWT_PUBLIC_KEY_FILE_VAR,
        value: path,
        expected: "a PEM RSA public key (`-----BEGIN PUBLIC KEY-----`)",
    })?;
    Ok(pem)
}

fn checked_secret(var: &'static str, secret: String) -> Result<Secret, ConfigError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(ConfigError::WeakSecret { var });
    }
    Ok(Secret::new(secret))
}

fn flag(values: &mut std::collections::HashMap<&'static str, String>, var: &'static str) -> Result<bool, ConfigError> {
    match values.remove(var) {
        None => Ok(false),
        Some(value) => parse_bool(&value).ok_or(ConfigError::InvalidValue {
            var,
            value,
            expected: "true or false",
        }),
    }
}

/// The one reading of a boolean variable, for every variable the service
/// reads: `true`/`false`, `1`/`0` or `yes`/`no`, in any case.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

fn non_empty(var: &'static str, value: &OsStr) -> Result<Option<String>, ConfigError> {
    let value = value.to_str().ok_or(ConfigError::NotUnicode { var })?.trim();
    Ok((!value.is_empty()).then(|| value.to_owned()))
}
