//! SQL stores for tutorbook with diesel and diesel-async: Postgres for
//! production (feature `postgres`) and SQLite as the embedded default
//! (feature `sqlite`, bundled libsqlite3). One schema module and one set of
//! queries serve both; the database guards the booking invariants with
//! constraints as well. See `docs/persistence.md`.

#[cfg(not(any(feature = "postgres", feature = "sqlite")))]
compile_error!("enable at least one of the features `postgres` and `sqlite`");

mod availability;
mod batch;
mod cache;
#[cfg(feature = "sqlite")]
mod callers;
#[cfg(feature = "sqlite")]
mod checkpointer;
mod conn;
mod error;
mod package_rows;
mod packages;
mod rows;
mod schema;
mod series;
mod store;
mod types;
mod unit;
mod users;

#[cfg(feature = "postgres")]
mod lock_of;
#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use pg::{POSTGRES_MIGRATIONS, PgPool, pg_pool, pg_pool_for_effects, run_postgres_migrations};
#[cfg(feature = "sqlite")]
pub use sqlite::{SQLITE_MIGRATIONS, run_sqlite_migrations};
pub use store::SqlStore;

/// The current instant at the stores' precision (microseconds), for the
/// outbox timestamps the store stamps itself.
#[allow(clippy::disallowed_methods)] // the store's own clock: outbox leases compare against it
fn now_micros() -> time::OffsetDateTime {
    micros(time::OffsetDateTime::now_utc())
}

/// An instant at the stores' precision (microseconds).
fn micros(at: time::OffsetDateTime) -> time::OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000).unwrap_or(at)
}
