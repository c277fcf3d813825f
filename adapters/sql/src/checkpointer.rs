//! The SQLite checkpointer: copies the write-ahead log back into the
//! database file on a thread of its own, so the one writer never does.
//!
//! Why: by default SQLite checkpoints inside the commit that grows the WAL
//! past 1,000 pages, and with `synchronous = NORMAL` a checkpoint syncs the
//! WAL and the database file, milliseconds, while the writer, and every
//! command queued for it, waits. Under booking load that was one commit in
//! 40 and a quarter of the writer's time (`docs/performance.md`). A passive
//! checkpoint runs beside readers and the writer, so here the writer's
//! connection turns automatic checkpoints off and this thread runs one after
//! commits, at most every [`Checkpointer::INTERVAL`]. See
//! `docs/decisions/0027-sqlite-writes-run-in-place.md`.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use tutorbook_ports::Error;

/// A handle on the checkpoint thread of one database file; clones share the
/// thread, which ends when the last clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Checkpointer {
    commits: SyncSender<()>,
}

impl Checkpointer {
    /// The least time between two checkpoints: under load the WAL then holds
    /// about as many pages as SQLite's automatic threshold lets it.
    pub const INTERVAL: Duration = Duration::from_millis(100);

    /// Starts the thread, on its own connection to `path` (set up by
    /// `pragmas`), so that it never waits for the writer's.
    pub fn start(path: &str, pragmas: &str) -> Result<Self, Error> {
        let mut conn = SqliteConnection::establish(path)
            .map_err(|e| Error::Storage(format!("cannot open SQLite database {path} to checkpoint: {e}")))?;
        conn.batch_execute(pragmas)
            .map_err(|e| Error::Storage(format!("cannot configure SQLite: {e}")))?;
        // One pending wake-up is enough: commits while a checkpoint runs
        // are in the WAL the next one copies.
        let (commits, wake_ups) = sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&mut conn, &wake_ups))
            .map_err(|e| Error::Storage(format!("cannot start the SQLite checkpointer: {e}")))?;
        Ok(Self { commits })
    }

    /// Tells the thread that a write transaction ended; never waits.
    pub fn committed(&self) {
        match self.commits.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
        }
    }
}

/// Checkpoints after each wake-up, then rests [`Checkpointer::INTERVAL`] so
/// that one checkpoint covers the commits of that time; ends when every
/// handle is gone. An idle database costs nothing: the thread waits.
fn run(conn: &mut SqliteConnection, wake_ups: &Receiver<()>) {
    while wake_ups.recv().is_ok() {
        // Busy (another process's checkpoint) or failed: the WAL waits for
        // the next one; nothing is lost but time.
        if let Err(e) = diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").execute(conn) {
            tracing::warn!(error = %e, "SQLite checkpoint failed; retried after the next commit");
        }
        std::thread::sleep(Checkpointer::INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use diesel_async::SimpleAsyncConnection;

    use crate::sqlite::SqliteDb;

    async fn fresh_db() -> (SqliteDb, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("tutorbook-wal-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("tutorbook.db");
        let db = SqliteDb::open(path.to_str().expect("utf-8 path"), 2)
            .await
            .expect("sqlite opens");
        (db, path)
    }

    /// 6 MB written by the writer in 60 commits, with pauses: the WAL never
    /// holds more than a few pauses' worth, because the checkpointer copied
    /// it back between them and the writer started it over. Without the
    /// checkpointer the WAL holds all 6 MB; with only SQLite's automatic
    /// checkpoint in the writer's commits, at least its 1,000 pages (4 MB).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_is_copied_back_beside_the_writer() {
        let (db, path) = fresh_db().await;
        let mut writer = db.writer.get().await.expect("the writer");
        writer
            .batch_execute("CREATE TABLE filler (b BLOB)")
            .await
            .expect("table");
        db.checkpointer.committed();
        let wal = path.with_extension("db-wal");
        let mut largest = 0;
        for commit in 1..=60 {
            writer
                .batch_execute("INSERT INTO filler VALUES (randomblob(100000))")
                .await
                .expect("insert");
            db.checkpointer.committed();
            largest = largest.max(std::fs::metadata(&wal).expect("the WAL exists").len());
            if commit % 5 == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        }
        assert!(largest < 2_000_000, "the WAL grew to {largest} bytes");
    }
}
