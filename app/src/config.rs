//! Runtime configuration, read once from environment variables at start-up.
//!
//! | variable         | default          | meaning                                   |
//! |------------------|------------------|-------------------------------------------|
//! | `TUTORBOOK_BIND` | `127.0.0.1:8080` | address to listen on, `IP:PORT`           |
//! | `RUST_LOG`       | `info`           | log filter (`tracing-subscriber` syntax)  |
//! | `DATABASE_URL`   | (unset)          | `postgres://...`: use Postgres            |
//! | `TUTORBOOK_DATA_DIR` | `.data`      | where the SQLite file lives without `DATABASE_URL` |
//! | `TUTORBOOK_DB_POOL` | `16`          | most database connections in the pool     |
//!
//! A variable that is set but empty counts as unset.

use std::ffi::OsStr;
use std::net::{AddrParseError, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;
use tracing_subscriber::filter::{EnvFilter, ParseError};

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
}

/// Why the configuration could not be loaded. Messages name the variable,
/// the offending value and what would be accepted.
#[derive(Debug, Error)]
pub enum ConfigError {
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
        let (mut bind, mut log_filter, mut database_url, mut data_dir, mut pool) = (None, None, None, None, None);
        for (key, value) in vars {
            let (key, value) = (key.as_ref(), value.as_ref());
            if key == BIND_VAR {
                bind = non_empty(BIND_VAR, value)?;
            } else if key == LOG_VAR {
                log_filter = non_empty(LOG_VAR, value)?;
            } else if key == DATABASE_URL_VAR {
                database_url = non_empty(DATABASE_URL_VAR, value)?;
            } else if key == DATA_DIR_VAR {
                data_dir = non_empty(DATA_DIR_VAR, value)?;
            } else if key == POOL_VAR {
                pool = non_empty(POOL_VAR, value)?;
            }
        }

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
        Ok(config)
    }
}

fn non_empty(var: &'static str, value: &OsStr) -> Result<Option<String>, ConfigError> {
    let value = value.to_str().ok_or(ConfigError::NotUnicode { var })?.trim();
    Ok((!value.is_empty()).then(|| value.to_owned()))
}
