//! The three stores the conformance suite runs on, each fresh per test:
//! memory, SQLite (a new file in a temp dir), Postgres (a new database on the
//! server `scripts/test` started, named in `TUTORBOOK_TEST_DATABASE_URL`).

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tutorbook_memory::MemoryStore;
use tutorbook_ports::effects::{CalendarStore, ReminderStore};
use tutorbook_ports::{
    BookingStore, Outbox, PackageStore, PolicyStore, PricingStore, ReportStore, ReviewStore, UnitOfWork, UserStore,
};
use tutorbook_sql::SqlStore;
use uuid::Uuid;

/// Everything a conformance scenario needs from a store.
pub trait Store:
    BookingStore
    + UnitOfWork
    + PolicyStore
    + ReviewStore
    + ReportStore
    + PackageStore
    + PricingStore
    + UserStore
    + Outbox
    + CalendarStore
    + ReminderStore
    + Clone
    + 'static
{
    /// The store-level invariant check (the SQL stores run their invariant
    /// query: booked_count equals confirmed bookings and fits capacity).
    fn check_invariants(&self) -> impl std::future::Future<Output = ()> + Send;
}

impl Store for MemoryStore {
    async fn check_invariants(&self) {
        self.verify_invariants().expect("memory invariants hold");
    }
}

impl Store for SqlStore {
    async fn check_invariants(&self) {
        let broken = self.slots_breaking_invariants().await.expect("invariant query runs");
        assert!(broken.is_empty(), "slots breaking invariants: {broken:?}");
    }
}

pub fn memory() -> MemoryStore {
    MemoryStore::new()
}

/// A fresh SQLite database file; the temp dir lives as long as the process.
pub async fn sqlite() -> SqlStore {
    let dir = std::env::temp_dir().join(format!("tutorbook-test-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("tutorbook.db");
    SqlStore::sqlite(path.to_str().expect("utf-8 path"), 8)
        .await
        .expect("sqlite store opens")
}

/// A fresh Postgres database, or `None` (with a loud message) when no server
/// is configured outside CI. With `CI=true` a missing server fails the test.
pub async fn postgres() -> Option<SqlStore> {
    let url = postgres_database().await?;
    Some(SqlStore::postgres(&url, 80).await.expect("postgres store opens"))
}

/// Two stores on one fresh Postgres database, each with a pool of its own:
/// what two instances of the service share.
pub async fn postgres_instances() -> Option<(SqlStore, SqlStore)> {
    let url = postgres_database().await?;
    let first = SqlStore::postgres(&url, 8).await.expect("postgres store opens");
    let second = SqlStore::postgres(&url, 8).await.expect("postgres store opens");
    Some((first, second))
}

/// The URL of a fresh Postgres database on the test server.
async fn postgres_database() -> Option<String> {
    let Ok(admin_url) = std::env::var("TUTORBOOK_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but TUTORBOOK_TEST_DATABASE_URL is not set: run the tests through scripts/test"
        );
        eprintln!("SKIPPED: no TUTORBOOK_TEST_DATABASE_URL; run scripts/test to include the Postgres store");
        return None;
    };
    let name = format!("tb_{}", Uuid::now_v7().simple());
    let mut admin = AsyncPgConnection::establish(&admin_url)
        .await
        .expect("connect to the test Postgres server");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a fresh test database");
    let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
    Some(format!("{base}/{name}"))
}

/// Runs a scenario on `store`, then the store's invariant check.
pub async fn run<S: Store, F: std::future::Future<Output = ()>>(store: S, scenario: impl FnOnce(S) -> F) {
    scenario(store.clone()).await;
    store.check_invariants().await;
}

/// Declares one test per backend for an async scenario `fn(S) -> impl Future`;
/// each ends with the store's invariant check.
#[macro_export]
macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                use $crate::backends::run;

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn memory() {
                    run($crate::backends::memory(), super::$scenario).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    run($crate::backends::sqlite().await, super::$scenario).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    if let Some(store) = $crate::backends::postgres().await {
                        run(store, super::$scenario).await;
                    }
                }
            }
        )*
    };
}
