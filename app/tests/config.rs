//! Configuration from environment variables, without touching the process
//! environment.

use std::ffi::{OsStr, OsString};
use std::time::Duration;

use tutorbook_app::{Config, ConfigError};

const NO_VARS: [(&str, &str); 0] = [];

/// The configuration from `vars` plus the development-secret switch, which
/// every development start needs (see `auth_*` tests for the refusals).
fn from_dev<I, K, V>(vars: I) -> Result<Config, ConfigError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut all: Vec<(OsString, OsString)> = vec![("TUTORBOOK_ALLOW_DEV_SECRET".into(), "true".into())];
    all.extend(
        vars.into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())),
    );
    Config::from_vars(all)
}

#[test]
fn defaults_apply_when_unset() {
    let config = from_dev(NO_VARS).unwrap();
    assert_eq!(config.bind, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(config.log_filter, "info");
    assert_eq!(config.shutdown_grace, Duration::from_secs(10));
    assert_eq!(config, Config::default());
}

#[test]
fn empty_values_count_as_unset() {
    let config = from_dev([("TUTORBOOK_BIND", " "), ("RUST_LOG", "")]).unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn reads_bind_and_log_filter() {
    let config = from_dev([
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
    let err = from_dev([("TUTORBOOK_BIND", "localhost:eighty")]).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidBind { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("TUTORBOOK_BIND"), "{message}");
    assert!(message.contains("\"localhost:eighty\""), "{message}");
    assert!(message.contains("IP:PORT"), "{message}");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn bind_without_port_is_rejected() {
    let err = from_dev([("TUTORBOOK_BIND", "127.0.0.1")]).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidBind { .. }), "{err:?}");
}

#[test]
fn bad_log_filter_is_a_clear_error() {
    let err = from_dev([("RUST_LOG", "tutorbook=notalevel")]).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidLogFilter { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("RUST_LOG"), "{message}");
    assert!(message.contains("notalevel"), "{message}");
}

#[cfg(unix)]
#[test]
fn non_utf8_value_is_rejected() {
    use std::os::unix::ffi::OsStrExt;

    let err = from_dev([(OsStr::new("TUTORBOOK_BIND"), OsStr::from_bytes(b"\xff:80"))]).unwrap_err();
    assert!(
        matches!(err, ConfigError::NotUnicode { var: "TUTORBOOK_BIND" }),
        "{err:?}"
    );
}

#[test]
fn sqlite_under_the_data_dir_is_the_default_store() {
    let config = from_dev([("TUTORBOOK_DATA_DIR", "/var/lib/tutorbook")]).unwrap();
    assert_eq!(
        config.database,
        tutorbook_app::config::Database::Sqlite {
            path: "/var/lib/tutorbook/tutorbook.db".into()
        }
    );
    assert_eq!(
        from_dev(std::iter::empty::<(&str, &str)>()).unwrap().database,
        tutorbook_app::config::Database::Sqlite {
            path: ".data/tutorbook.db".into()
        }
    );
}

#[test]
fn database_url_selects_postgres_and_is_checked_without_echoing_it() {
    let url = "postgres://app:secret@db:5432/tutorbook";
    let config = from_dev([("DATABASE_URL", url)]).unwrap();
    assert_eq!(
        config.database,
        tutorbook_app::config::Database::Postgres { url: url.into() }
    );

    // A Unix socket on one host (docs/operations.md): the directory as
    // `host`, passed through to tokio-postgres untouched.
    let socket = "postgres://app@/tutorbook?host=/run/postgresql&port=5432";
    assert_eq!(
        from_dev([("DATABASE_URL", socket)]).unwrap().database,
        tutorbook_app::config::Database::Postgres { url: socket.into() }
    );

    let err = from_dev([("DATABASE_URL", "mysql://root:hunter2@db/x")]).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidDatabaseUrl { .. }), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "the password leaked: {err}");
}

#[test]
fn pool_size_must_be_a_sane_number() {
    assert_eq!(from_dev([("TUTORBOOK_DB_POOL", "4")]).unwrap().pool_size, 4);
    for bad in ["0", "many", "5000"] {
        let err = from_dev([("TUTORBOOK_DB_POOL", bad)]).unwrap_err();
        assert!(matches!(err, ConfigError::InvalidPoolSize { .. }), "{bad}: {err:?}");
    }
}

#[test]
fn browse_cache_is_milliseconds_up_to_a_minute() {
    assert_eq!(from_dev(NO_VARS).unwrap().browse_cache, Duration::from_secs(1));
    let off = from_dev([("TUTORBOOK_BROWSE_CACHE_MS", "0")]).unwrap();
    assert_eq!(off.browse_cache, Duration::ZERO);
    let short = from_dev([("TUTORBOOK_BROWSE_CACHE_MS", "250")]).unwrap();
    assert_eq!(short.browse_cache, Duration::from_millis(250));
    for bad in ["-1", "1s", "60001"] {
        let err = from_dev([("TUTORBOOK_BROWSE_CACHE_MS", bad)]).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::InvalidValue {
                    var: "TUTORBOOK_BROWSE_CACHE_MS",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
    }
}

const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

#[test]
fn auth_refuses_the_development_secret_without_the_switch() {
    let err = Config::from_vars(NO_VARS).unwrap_err();
    assert!(matches!(err, ConfigError::DevSecret { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("TUTORBOOK_JWT_SECRET"), "{message}");
    assert!(message.contains("TUTORBOOK_ALLOW_DEV_SECRET"), "{message}");
    // Naming the dev secret explicitly is no way around it.
    let err = Config::from_vars([("TUTORBOOK_JWT_SECRET", tutorbook_app::config::DEV_SECRET)]).unwrap_err();
    assert!(matches!(err, ConfigError::DevSecret { .. }), "{err:?}");
}

#[test]
fn auth_production_refuses_every_development_shortcut() {
    let prod = ("TUTORBOOK_ENV", "production");
    let err = Config::from_vars([prod, ("TUTORBOOK_ALLOW_DEV_SECRET", "true")]).unwrap_err();
    assert!(err.to_string().contains("never with TUTORBOOK_ENV=production"), "{err}");
    let err = Config::from_vars([prod, ("TUTORBOOK_JWT_SECRET", SECRET), ("TUTORBOOK_DEV_LOGIN", "true")]).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::ShortcutRefused {
                var: "TUTORBOOK_DEV_LOGIN",
                ..
            }
        ),
        "{err:?}"
    );
    let err = Config::from_vars([
        prod,
        ("TUTORBOOK_JWT_SECRET", SECRET),
        ("TUTORBOOK_GOOGLE_CLIENT_ID", "client"),
        ("TUTORBOOK_GOOGLE_JWKS_URL", "http://127.0.0.1:1/keys"),
    ])
    .unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::InvalidValue {
                var: "TUTORBOOK_GOOGLE_JWKS_URL",
                ..
            }
        ),
        "{err:?}"
    );

    let config = Config::from_vars([
        prod,
        ("TUTORBOOK_JWT_SECRET", SECRET),
        ("TUTORBOOK_GOOGLE_CLIENT_ID", "client"),
    ])
    .unwrap();
    assert_eq!(config.auth.environment, tutorbook_app::config::Environment::Production);
    let google = config.auth.google.expect("google configured");
    assert_eq!(google.jwks_url, "https://www.googleapis.com/oauth2/v3/certs");
    assert_eq!(google.issuers, ["https://accounts.google.com", "accounts.google.com"]);
    assert!(!config.auth.dev_login);
}

#[test]
fn auth_dev_login_is_refused_beside_google() {
    let err = from_dev([
        ("TUTORBOOK_DEV_LOGIN", "true"),
        ("TUTORBOOK_GOOGLE_CLIENT_ID", "client"),
    ])
    .unwrap_err();
    assert!(matches!(err, ConfigError::ShortcutRefused { .. }), "{err:?}");
    assert!(from_dev([("TUTORBOOK_DEV_LOGIN", "yes")]).unwrap().auth.dev_login);
    let err = from_dev([("TUTORBOOK_DEV_LOGIN", "maybe")]).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidValue { .. }), "{err:?}");
}

#[test]
fn auth_secrets_must_be_long_and_are_never_printed() {
    let err = Config::from_vars([("TUTORBOOK_JWT_SECRET", "short-secret")]).unwrap_err();
    assert!(matches!(err, ConfigError::WeakSecret { .. }), "{err:?}");
    assert!(!err.to_string().contains("short-secret"));
    let err = from_dev([("TUTORBOOK_HOST_JWT_SECRET", "short")]).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::WeakSecret {
                var: "TUTORBOOK_HOST_JWT_SECRET"
            }
        ),
        "{err:?}"
    );

    let config = Config::from_vars([
        ("TUTORBOOK_JWT_SECRET", SECRET),
        ("TUTORBOOK_HOST_JWT_SECRET", "host-secret-host-secret-host-secret!"),
        ("TUTORBOOK_HOST_JWT_ISSUER", "school"),
        ("TUTORBOOK_TOKEN_TTL_MINUTES", "60"),
    ])
    .unwrap();
    assert_eq!(config.auth.token_ttl, Duration::from_secs(3600));
    assert_eq!(
        config.auth.host.as_ref().and_then(|h| h.issuer.as_deref()),
        Some("school")
    );
    let printed = format!("{config:?}");
    assert!(
        !printed.contains(SECRET) && !printed.contains("host-secret"),
        "{printed}"
    );
    let err = from_dev([("TUTORBOOK_TOKEN_TTL_MINUTES", "0")]).unwrap_err();
    assert!(matches!(err, ConfigError::InvalidValue { .. }), "{err:?}");
}

#[test]
fn auth_host_public_key_comes_from_a_file_and_excludes_the_secret() {
    let pem = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/host-test-public.pem");
    let config = from_dev([("TUTORBOOK_HOST_JWT_PUBLIC_KEY_FILE", pem)]).unwrap();
    let host = config.auth.host.expect("host configured");
    assert!(matches!(host.key, tutorbook_app::config::HostKey::RsaPublicPem(ref k) if k.contains("BEGIN PUBLIC KEY")));
    let err = from_dev([("TUTORBOOK_HOST_JWT_PUBLIC_KEY_FILE", "/no/such/file.pem")]).unwrap_err();
    assert!(err.to_string().contains("a readable file"), "{err}");
    let not_a_key = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let err = from_dev([("TUTORBOOK_HOST_JWT_PUBLIC_KEY_FILE", not_a_key)]).unwrap_err();
    assert!(err.to_string().contains("PEM RSA public key"), "{err}");
    let err = from_dev([
        ("TUTORBOOK_HOST_JWT_PUBLIC_KEY_FILE", pem),
        ("TUTORBOOK_HOST_JWT_SECRET", "host-secret-host-secret-host-secret!"),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("not both"), "{err}");
}

#[test]
fn every_boolean_variable_reads_the_same_words() {
    use tutorbook_app::config::parse_bool;
    for yes in ["true", "TRUE", "1", "yes", " Yes "] {
        assert_eq!(parse_bool(yes), Some(true), "{yes}");
    }
    for no in ["false", "0", "no", "NO"] {
        assert_eq!(parse_bool(no), Some(false), "{no}");
    }
    for neither in ["", "on", "2", "ja", "ч"] {
        assert_eq!(parse_bool(neither), None, "{neither}");
    }
}

/// The README's configuration table is exactly `config::VARIABLES`, and the
/// code reads no variable that the list leaves out.
#[test]
fn the_readme_lists_every_variable_the_code_reads_with_its_default() {
    use tutorbook_app::config::{VARIABLES, readme_row};
    let readme = include_str!("../../README.md");
    let start = readme
        .find("<!-- variables:start")
        .expect("README has the variables table");
    let end = readme.find("<!-- variables:end -->").expect("README's table ends");
    let rows: Vec<&str> = readme[start..end].lines().filter(|l| l.starts_with("| `")).collect();
    let expected: Vec<String> = VARIABLES.iter().map(readme_row).collect();
    assert_eq!(
        rows, expected,
        "README.md's table differs from tutorbook_app::config::VARIABLES"
    );

    let sources = [
        include_str!("../src/config.rs"),
        include_str!("../src/effects.rs"),
        include_str!("../src/telemetry.rs"),
    ];
    for source in sources {
        for (i, _) in source.match_indices('"') {
            let name: String = source[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            let read_here = source[i + 1 + name.len()..].starts_with('"');
            let looks_like_a_variable = ["TUTORBOOK_", "RESEND_", "GOOGLE_"].iter().any(|p| name.starts_with(p))
                || name == "DATABASE_URL"
                || name == "RUST_LOG";
            if read_here && looks_like_a_variable {
                assert!(
                    VARIABLES.iter().any(|v| v.name == name),
                    "{name} is read by the code but missing from config::VARIABLES"
                );
            }
        }
    }
}

#[test]
fn help_lists_every_variable() {
    let help = tutorbook_app::config::help_text();
    for v in tutorbook_app::config::VARIABLES {
        assert!(help.contains(v.name), "{}", v.name);
    }
}

#[test]
fn one_read_of_the_environment_covers_the_effect_loops_too() {
    let config = Config::from_vars([
        ("TUTORBOOK_ALLOW_DEV_SECRET", "true"),
        ("TUTORBOOK_OUTBOX_INTERVAL_SECS", "7"),
        ("GOOGLE_CALENDAR_ENABLED", "yes"),
    ])
    .unwrap();
    assert_eq!(config.effects.outbox_interval, std::time::Duration::from_secs(7));
    assert!(
        config.calendar_half_configured,
        "enabled without key file and organizer"
    );
    let err = Config::from_vars([
        ("TUTORBOOK_ALLOW_DEV_SECRET", "true"),
        ("TUTORBOOK_REMINDER_LEADS", "1ч"),
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("TUTORBOOK_REMINDER_LEADS"), "{err}");
}
