//! Runtime configuration, read once from environment variables at start-up.
//!
//! | variable         | default          | meaning                                   |
//! |------------------|------------------|-------------------------------------------|
//! | `TUTORBOOK_BIND` | `127.0.0.1:8080` | address to listen on, `IP:PORT`           |
//! | `RUST_LOG`       | `info`           | log filter (`tracing-subscriber` syntax)  |
//!
//! A variable that is set but empty counts as unset.

use std::ffi::OsStr;
use std::net::{AddrParseError, SocketAddr};
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
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: DEFAULT_BIND.parse().expect("DEFAULT_BIND is a valid address"),
            log_filter: DEFAULT_LOG_FILTER.to_owned(),
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
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
        let mut bind = None;
        let mut log_filter = None;
        for (key, value) in vars {
            let key = key.as_ref();
            if key == BIND_VAR {
                bind = non_empty(BIND_VAR, value.as_ref())?;
            } else if key == LOG_VAR {
                log_filter = non_empty(LOG_VAR, value.as_ref())?;
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
        Ok(config)
    }
}

fn non_empty(var: &'static str, value: &OsStr) -> Result<Option<String>, ConfigError> {
    let value = value.to_str().ok_or(ConfigError::NotUnicode { var })?.trim();
    Ok((!value.is_empty()).then(|| value.to_owned()))
}
