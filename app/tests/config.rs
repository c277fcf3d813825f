//! Configuration from environment variables, without touching the process
//! environment.

use std::time::Duration;

use tutorbook_app::{Config, ConfigError};

const NO_VARS: [(&str, &str); 0] = [];

#[test]
fn defaults_apply_when_unset() {
    let config = Config::from_vars(NO_VARS).unwrap();
    assert_eq!(config.bind, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(config.log_filter, "info");
    assert_eq!(config.shutdown_grace, Duration::from_secs(10));
    assert_eq!(config, Config::default());
}

#[test]
fn empty_values_count_as_unset() {
    let config = Config::from_vars([("TUTORBOOK_BIND", " "), ("RUST_LOG", "")]).unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn reads_bind_and_log_filter() {
    let config = Config::from_vars([
        ("TUTORBOOK_BIND", "[::1]:9000"),
        ("RUST_LOG", "tutorbook_app=debug,poem=info"),
        ("UNRELATED", "whatever"),
    ])
    .unwrap();
    assert_eq!(config.bind, "[::1]:9000".parse().unwrap());
    assert_eq!(config.log_filter, "tutorbook_app=debug,poem=info");
}

#[test]
fn bad_bind_address_is_a_clear_error() {
    let err = Config::from_vars([("TUTORBOOK_BIND", "localhost:eighty")]).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidBind { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("TUTORBOOK_BIND"), "{message}");
    assert!(message.contains("\"localhost:eighty\""), "{message}");
    assert!(message.contains("IP:PORT"), "{message}");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn bind_without_port_is_rejected() {
    let err = Config::from_vars([("TUTORBOOK_BIND", "127.0.0.1")]).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidBind { .. }), "{err:?}");
}

#[test]
fn bad_log_filter_is_a_clear_error() {
    let err = Config::from_vars([("RUST_LOG", "tutorbook=notalevel")]).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidLogFilter { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("RUST_LOG"), "{message}");
    assert!(message.contains("notalevel"), "{message}");
}

#[cfg(unix)]
#[test]
fn non_utf8_value_is_rejected() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let err = Config::from_vars([(OsStr::new("TUTORBOOK_BIND"), OsStr::from_bytes(b"\xff:80"))]).unwrap_err();
    assert!(
        matches!(err, ConfigError::NotUnicode { var: "TUTORBOOK_BIND" }),
        "{err:?}"
    );
}

#[test]
fn sqlite_under_the_data_dir_is_the_default_store() {
    let config = Config::from_vars([("TUTORBOOK_DATA_DIR", "/var/lib/tutorbook")]).unwrap();
    assert_eq!(
        config.database,
        tutorbook_app::config::Database::Sqlite {
            path: "/var/lib/tutorbook/tutorbook.db".into()
        }
    );
    assert_eq!(
        Config::from_vars(std::iter::empty::<(&str, &str)>()).unwrap().database,
        tutorbook_app::config::Database::Sqlite {
            path: ".data/tutorbook.db".into()
        }
    );
}

#[test]
fn database_url_selects_postgres_and_is_checked_without_echoing_it() {
    let url = "postgres://app:secret@db:5432/tutorbook";
    let config = Config::from_vars([("DATABASE_URL", url)]).unwrap();
    assert_eq!(
        config.database,
        tutorbook_app::config::Database::Postgres { url: url.into() }
    );

    let err = Config::from_vars([("DATABASE_URL", "mysql://root:hunter2@db/x")]).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidDatabaseUrl { .. }), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "the password leaked: {err}");
}

#[test]
fn pool_size_must_be_a_sane_number() {
    assert_eq!(Config::from_vars([("TUTORBOOK_DB_POOL", "4")]).unwrap().pool_size, 4);
    for bad in ["0", "many", "5000"] {
        let err = Config::from_vars([("TUTORBOOK_DB_POOL", bad)]).unwrap_err();
        assert!(matches!(err, ConfigError::InvalidPoolSize { .. }), "{bad}: {err:?}");
    }
}
