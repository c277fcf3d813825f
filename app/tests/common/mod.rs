//! A fresh service state per test: the real SQL store on a new SQLite file.
#![allow(dead_code)]

use tutorbook_app::AppState;
use tutorbook_app::config::{Database, SQLITE_FILE};

/// A state on a new SQLite database in its own temp directory.
pub async fn state() -> AppState {
    let dir = std::env::temp_dir().join(format!("tutorbook-app-test-{}", uuid::Uuid::now_v7().simple()));
    AppState::open(
        &Database::Sqlite {
            path: dir.join(SQLITE_FILE),
        },
        4,
    )
    .await
    .expect("the test database opens")
}
