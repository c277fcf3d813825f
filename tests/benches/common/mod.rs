//! The stores a load run measures, each fresh: SQLite in a new file in a
//! temp dir, Postgres in a new database on the server named by
//! `TUTORBOOK_TEST_DATABASE_URL` (which `scripts/bench` starts).

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tutorbook_sql::SqlStore;
use uuid::Uuid;

/// A SQLite store in a new temp dir named after `run`, and that dir (for
/// the caller to remove when done).
pub async fn sqlite(run: &str) -> (SqlStore, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("tutorbook-{run}-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{run}.db"));
    let store = SqlStore::sqlite(path.to_str().expect("utf-8"), 8)
        .await
        .expect("sqlite");
    (store, dir)
}

/// A Postgres store on a new database named after `run`; `None` without
/// `TUTORBOOK_TEST_DATABASE_URL`.
pub async fn postgres(run: &str) -> Option<SqlStore> {
    let admin = std::env::var("TUTORBOOK_TEST_DATABASE_URL").ok()?;
    let (base, _) = admin.rsplit_once('/').expect("database URL has a path");
    let name = format!("tb_{run}_{}", Uuid::now_v7().simple());
    let mut conn = AsyncPgConnection::establish(&admin).await.expect("connect to Postgres");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create the load database");
    Some(
        SqlStore::postgres(&format!("{base}/{name}"), 16)
            .await
            .expect("postgres"),
    )
}
