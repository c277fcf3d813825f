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

use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Once};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sql_types::Integer;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use tutorbook_ports::Error;

/// A handle on the checkpoint thread of one database file; clones share the
/// thread, which ends when the last clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Checkpointer {
    commits: SyncSender<()>,
    /// Said once if the thread is gone.
    gone: Arc<Once>,
}

impl Checkpointer {
    /// The least time between two checkpoints: under load the WAL then holds
    /// about as many pages as SQLite's automatic threshold lets it.
    pub const INTERVAL: Duration = Duration::from_millis(100);

    /// How many times, [`Checkpointer::INTERVAL`] apart, an unfinished
    /// checkpoint is tried again without a new commit: a reader's snapshot
    /// can hold back the end of the WAL for a while after the last write.
    const RETRIES: u32 = 50;

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
        Ok(Self {
            commits,
            gone: Arc::new(Once::new()),
        })
    }

    /// Tells the thread that a write transaction committed; never waits.
    pub fn committed(&self) {
        if let Err(TrySendError::Disconnected(())) = self.commits.try_send(()) {
            self.gone.call_once(|| {
                tracing::error!("the SQLite checkpointer is gone; the writer's own checkpoints bound the WAL");
            });
        }
    }
}

/// What `PRAGMA wal_checkpoint` answers.
#[derive(QueryableByName)]
struct Checkpoint {
    /// 1 when another connection's checkpoint or a lock stopped this one.
    #[diesel(sql_type = Integer)]
    busy: i32,
    /// Frames in the WAL.
    #[diesel(sql_type = Integer)]
    log: i32,
    /// Frames copied back into the database file.
    #[diesel(sql_type = Integer)]
    checkpointed: i32,
}

/// Checkpoints after each wake-up, then rests [`Checkpointer::INTERVAL`] so
/// that one checkpoint covers the commits of that time; ends when every
/// handle is gone. A checkpoint that could not copy the whole WAL (a
/// reader's snapshot, a lock) is tried again without waiting for a commit,
/// up to [`Checkpointer::RETRIES`] times; after that, or once it finished,
/// the thread waits for the next commit.
fn run(conn: &mut SqliteConnection, wake_ups: &Receiver<()>) {
    let mut unfinished = 0;
    loop {
        let woken = if unfinished == 0 {
            wake_ups.recv().is_ok()
        } else {
            wake_ups.try_recv() != Err(TryRecvError::Disconnected)
        };
        if !woken {
            return;
        }
        match diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<Checkpoint>(conn) {
            Ok(done) if done.busy == 0 && done.checkpointed >= done.log => unfinished = 0,
            Ok(_) => unfinished += 1,
            Err(e) => {
                tracing::warn!(error = %e, "SQLite checkpoint failed; tried again");
                unfinished += 1;
            }
        }
        if unfinished > Checkpointer::RETRIES {
            unfinished = 0;
        }
        std::thread::sleep(Checkpointer::INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use diesel_async::SimpleAsyncConnection;

    use crate::sqlite::SqliteDb;

    /// A new database file with a table to fill.
    async fn fresh_db() -> (SqliteDb, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("tutorbook-wal-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("tutorbook.db");
        let db = SqliteDb::open(path.to_str().expect("utf-8 path"), 2)
            .await
            .expect("sqlite opens");
        db.writer
            .get()
            .await
            .expect("the writer")
            .batch_execute("CREATE TABLE filler (b BLOB)")
            .await
            .expect("table");
        (db, path)
    }

    /// A reader's snapshot holds the checkpoints back while 2 MB are
    /// written; the reader then ends and no commit follows. The checkpointer
    /// tries again on its own, so the 2 MB reach the database file; without
    /// the retries they would wait in the WAL for the next write.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unfinished_checkpoint_is_finished_without_another_commit() {
        let (db, path) = fresh_db().await;
        let mut writer = db.writer.get().await.expect("the writer");
        let mut reader = db.readers.get().await.expect("a reader");
        reader
            .batch_execute("BEGIN; SELECT count(*) FROM filler;")
            .await
            .expect("a snapshot");
        for _ in 0..20 {
            writer
                .batch_execute("INSERT INTO filler VALUES (randomblob(100000))")
                .await
                .expect("insert");
            db.checkpointer.committed();
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        reader.batch_execute("COMMIT").await.expect("the snapshot ends");
        let size = file_reaches(&path, 2_000_000).await;
        drop((reader, writer, db));
        if let Some(dir) = path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
        assert!(size >= 2_000_000, "the database file holds {size} bytes");
    }

    /// 6 MB written by the writer in 60 commits, waiting after every fifth
    /// until the database file holds what was written: the WAL never holds
    /// more than about five commits, because the checkpointer copied it
    /// back and the writer started it over. Without the checkpointer the
    /// first wait runs out (10 s); with only SQLite's automatic checkpoint
    /// in the writer's commits, the WAL holds at least its 1,000 pages
    /// (4 MB). Waiting for the file, not for a fixed time, keeps the
    /// test from failing on a machine busy enough to hold the thread back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_is_copied_back_beside_the_writer() {
        let (db, path) = fresh_db().await;
        let mut writer = db.writer.get().await.expect("the writer");
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
                let size = file_reaches(&path, commit * 100_000).await;
                assert!(
                    size >= commit * 100_000,
                    "after {commit} commits the database file holds {size} bytes"
                );
            }
        }
        drop((writer, db));
        if let Some(dir) = path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
        assert!(largest < 2_000_000, "the WAL grew to {largest} bytes");
    }

    /// Waits, at most 10 s, until the database file at `path` holds `bytes`;
    /// answers its size then.
    async fn file_reaches(path: &std::path::Path, bytes: u64) -> u64 {
        let mut size = 0;
        for _ in 0..200 {
            size = std::fs::metadata(path).expect("the database file").len();
            if size >= bytes {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        size
    }
}
