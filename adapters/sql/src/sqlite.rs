//! The SQLite backend, the embedded default: bundled libsqlite3, WAL mode,
//! foreign keys on, read-only reader connections, and every write
//! transaction serialised on the one writer connection, so a decision always
//! sees the latest committed state. SQLite has no exclusion constraint: the
//! overlap rule is decided inside that serialised transaction.
//!
//! A command's statements run on one thread in one go ([`Inline`],
//! [`in_one_go`]; decisions 0025 and 0027, `docs/decisions/`).

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::sync_connection_wrapper::{SpawnBlocking, SyncConnectionWrapper};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use time::OffsetDateTime;
use tutorbook_domain::{
    AuditEntry, Booking, BookingId, BookingPolicy, CreditId, DomainEvent, LessonReport, MakeupCredit, PackageId,
    PaymentId, Review, Slot, SlotId, TeacherRating, UserId,
};
use tutorbook_ports::{Error, OutboxMessage};
use uuid::Uuid;

use crate::callers::Callers;
use crate::checkpointer::Checkpointer;
use crate::conn::{Locks, impl_queries};
use crate::error::TxError;
use crate::rows::{AuditRow, BookingRow, CreditRow, OutboxRow, PolicyRow, ReportRow, ReviewRow, SlotChanges, SlotRow};
use crate::types::{DbId, DbInstant};

/// The SQLite schema, embedded in the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// An async SQLite connection: a sync connection whose statements run on
/// the thread that awaits them ([`Inline`]); the store runs each write
/// transaction in one go ([`in_one_go`]).
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection, Inline>;

/// diesel-async's runtime for [`SyncConnectionWrapper`] that runs each
/// statement where its future is polled instead of on a blocking thread.
///
/// Why: the default hands every statement to tokio's blocking pool and wakes
/// the task again when it is done, two thread switches per statement; a
/// booking is about ten statements, and the profile of the booking path
/// (`docs/performance.md`) found the service spending 23 % of its time in
/// the scheduler for it, with the one writer held through every switch.
/// With this runtime every statement's future is ready when first polled, so
/// a whole read or unit of work runs in one poll: a read where it is awaited
/// (it neither waits for the writer nor syncs the disk in WAL mode), a write
/// transaction in one go ([`in_one_go`]).
#[derive(Debug, Clone, Copy)]
pub struct Inline;

impl SpawnBlocking for Inline {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> std::pin::Pin<
        Box<dyn Future<Output = Result<R, Box<dyn std::error::Error + Send + Sync + 'static>>> + Send + 'a>,
    >
    where
        R: Send + 'static,
    {
        // Run when awaited, not when built, like a spawned task's result.
        Box::pin(async move { Ok(task()) })
    }

    fn get_runtime() -> Self {
        Self
    }
}

/// Runs `work`, a whole write transaction on a [`SqliteConn`], in one go:
/// its statement futures are ready when polled ([`Inline`]), so it runs from
/// `BEGIN` to `COMMIT` in one poll, on the worker that awaits it, when the
/// runtime has another worker to carry on with every other task; otherwise
/// (one worker) through [`in_one_blocking_call`].
///
/// Why in place: there is one writer, so writes can occupy at most one
/// worker at a time, and what they occupy it with is CPU work of a fraction
/// of a millisecond (in WAL mode with `synchronous = NORMAL` a commit
/// appends to the WAL without `fsync`). Handing the worker to another thread
/// for every write, as `block_in_place` does, cost about 0.1 ms of CPU per
/// booking and let tokio's thread count grow from 7 to 15–19 under load,
/// each thread with its own allocator arena at its own peak: the memory of a
/// SQLite booking run went from about 70 to 101–129 MiB. Checkpoints, the
/// slow part of a commit, run on their own thread ([`Checkpointer`]); the
/// slow exception left is a busy wait (`busy_timeout`, only when another
/// process holds the file), during which the other workers go on and steal
/// this worker's queued tasks (all but its LIFO slot's). The store yields
/// before each write for the same reason (`write!`). See
/// `docs/decisions/0027-sqlite-writes-run-in-place.md`.
pub(crate) async fn in_one_go<F: Future>(work: F) -> F::Output {
    use tokio::runtime::Handle;
    match Handle::try_current() {
        Ok(handle) if handle.metrics().num_workers() < 2 => in_one_blocking_call(work).await,
        _ => work.await,
    }
}

/// Runs `work` (a new connection's setup, or a write on a runtime with one
/// worker, [`in_one_go`]) as one blocking call: on a multi-threaded tokio
/// runtime inside [`tokio::task::block_in_place`], which hands this worker's
/// other tasks to another thread first (`Handle::block_on` then only drives
/// `work`, whose statement futures are ready when polled, [`Inline`]);
/// elsewhere (a current-thread runtime, where `block_in_place` is refused)
/// it is awaited where it is, and its statements run on the one thread.
///
/// Opening a file and switching it to WAL may wait for another process's
/// lock (`busy_timeout`, up to seconds), so the worker's other tasks go on
/// elsewhere, for the price of moving the worker to another thread. A
/// transaction run this way, like one run in place, can no longer be
/// cancelled half-way by a dropped request: it finishes, commits or rolls
/// back before the future returns. See
/// `docs/decisions/0025-sqlite-commands-in-one-blocking-call.md`.
pub(crate) async fn in_one_blocking_call<F: Future>(work: F) -> F::Output {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(work))
        }
        _ => work.await,
    }
}

/// Settings every connection gets: a busy timeout instead of immediate
/// `SQLITE_BUSY` (first, so that switching to WAL waits for a writer instead
/// of failing a new pooled connection), WAL for concurrent readers, enforced
/// foreign keys.
const PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                       PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// Settings of read connections: any write through them is refused, so a
/// write that took the read path by mistake fails loudly.
const READ_ONLY: &str = "PRAGMA query_only = ON;";

/// Settings of the write connection: it leaves checkpoints to the
/// [`Checkpointer`] (its commits would wait for the syncs). Only if the
/// WAL reached 10,000 pages (about 40 MB), because the checkpointer could
/// not keep up or is gone, does a commit checkpoint itself, as a backstop.
const WRITER: &str = "PRAGMA wal_autocheckpoint = 10000;";

/// A SQLite database: a pool of read connections and one write connection.
/// Every write transaction waits for the one writer, which serialises them
/// (the equivalent of `BEGIN IMMEDIATE` for the one process that owns the
/// file); readers run beside it thanks to WAL.
#[derive(Clone)]
pub(crate) struct SqliteDb {
    pub readers: Pool<SqliteConn>,
    pub writer: Pool<SqliteConn>,
    /// Told of every write transaction's end ([`Checkpointer::committed`]).
    pub checkpointer: Checkpointer,
    /// The callers read lately ([`crate::callers`]).
    pub callers: std::sync::Arc<Callers>,
}

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDb")
            .field("readers", &self.readers.status())
            .field("writer", &self.writer.status())
            .finish()
    }
}

impl SqliteDb {
    /// Opens (creating if needed) the database file at `path`, runs the
    /// migrations, and pools up to `max_readers` read connections.
    pub async fn open(path: &str, max_readers: usize) -> Result<Self, Error> {
        run_sqlite_migrations(path).await?;
        Ok(Self {
            readers: pool(path, max_readers, READ_ONLY)?,
            writer: pool(path, 1, WRITER)?,
            // Opening the file may wait for a lock: off the worker, like
            // the pools' connections.
            checkpointer: in_one_blocking_call(async { Checkpointer::start(path, PRAGMAS) }).await?,
            callers: std::sync::Arc::default(),
        })
    }
}

/// A pool of up to `size` connections to `path`, each set up with
/// [`PRAGMAS`] and then `settings`.
fn pool(path: &str, size: usize, settings: &'static str) -> Result<Pool<SqliteConn>, Error> {
    let mut config = ManagerConfig::<SqliteConn>::default();
    // A local file cannot go away under an open connection: no test query per checkout.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| {
        let url = url.to_owned();
        // Opening the file and switching to WAL may wait for a lock
        // (`busy_timeout`): off the worker, like a write.
        Box::pin(in_one_blocking_call(async move {
            let mut conn = SqliteConn::establish(&url).await?;
            conn.batch_execute(PRAGMAS)
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            conn.batch_execute(settings)
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        }))
    });
    let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(path, config);
    Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(|e| Error::Storage(format!("cannot build the SQLite pool: {e}")))
}

/// Runs the pending migrations on the database file at `path`.
pub async fn run_sqlite_migrations(path: &str) -> Result<(), Error> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = SqliteConnection::establish(&path)
            .map_err(|e| Error::Storage(format!("cannot open SQLite database {path}: {e}")))?;
        diesel::connection::SimpleConnection::batch_execute(&mut conn, PRAGMAS)
            .map_err(|e| Error::Storage(format!("cannot configure SQLite: {e}")))?;
        conn.run_pending_migrations(SQLITE_MIGRATIONS)
            .map(drop)
            .map_err(|e| Error::Storage(format!("SQLite migrations failed: {e}")))
    })
    .await
    .map_err(|e| Error::Storage(format!("migration task failed: {e}")))?
}

/// Writes are serialised by the one write connection ([`SqliteDb::writer`]),
/// so there is nothing left to lock.
impl Locks for SqliteConn {
    async fn lock_teacher(&mut self, _teacher: UserId) -> Result<(), TxError> {
        Ok(())
    }

    async fn lock_packages(&mut self, _ids: &[PackageId]) -> Result<(), TxError> {
        Ok(())
    }

    async fn lock_payments(&mut self, _ids: &[PaymentId]) -> Result<(), TxError> {
        Ok(())
    }

    async fn lock_credits(&mut self, _ids: &[CreditId]) -> Result<(), TxError> {
        Ok(())
    }

    async fn lock_slots(&mut self, ids: &[SlotId]) -> Result<Vec<(UserId, BookingPolicy)>, TxError> {
        use crate::schema::{slots, teacher_policies};
        let policies = teacher_policies::table.select(PolicyRow::as_select());
        let rows: Vec<PolicyRow> = match ids {
            [] => return Ok(Vec::new()),
            // One slot (most commands) by equality: SQLite keeps that
            // statement prepared, where an `IN` list of ids is parsed and
            // planned again on every call, about a sixteenth of a booking's
            // service time (docs/performance.md).
            [id] => {
                let teacher = slots::table
                    .filter(slots::id.eq(DbId::from(*id)))
                    .select(slots::teacher_id);
                policies
                    .filter(teacher_policies::teacher_id.eq_any(teacher))
                    .load(self)
                    .await?
            }
            _ => {
                let ids: Vec<DbId> = ids.iter().copied().map(DbId::from).collect();
                let teachers = slots::table.filter(slots::id.eq_any(ids)).select(slots::teacher_id);
                policies
                    .filter(teacher_policies::teacher_id.eq_any(teachers))
                    .load(self)
                    .await?
            }
        };
        crate::conn::teachers_policies(rows)
    }

    async fn lock_due_outbox(&mut self, limit: i64, now: OffsetDateTime) -> Result<Vec<DbId>, TxError> {
        use crate::schema::outbox;
        Ok(outbox::table
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::failed_at.is_null())
            .filter(outbox::available_at.le(DbInstant(now)))
            .order(outbox::id.asc())
            .limit(limit)
            .select(outbox::id)
            .load(self)
            .await?)
    }

    async fn lock_reminder_plan(&mut self) -> Result<Option<OffsetDateTime>, TxError> {
        use crate::schema::reminder_plan;
        let planned: Option<Option<DbInstant>> = reminder_plan::table
            .select(reminder_plan::planned_through)
            .first(self)
            .await
            .optional()?;
        Ok(planned.flatten().map(|p| p.0))
    }

    async fn lock_due_reminders(&mut self, limit: i64, now: OffsetDateTime) -> Result<Vec<DbId>, TxError> {
        use crate::schema::reminders;
        Ok(reminders::table
            .filter(reminders::status.eq("pending"))
            .filter(reminders::due_at.le(DbInstant(now)))
            .filter(reminders::available_at.le(DbInstant(now)))
            .order((reminders::due_at.asc(), reminders::id.asc()))
            .limit(limit)
            .select(reminders::id)
            .load(self)
            .await?)
    }
}

impl_queries!(SqliteConn, single);

#[cfg(test)]
mod tests {
    /// On a runtime with one worker a write runs as a blocking call, so
    /// another task goes on while it runs: here the write waits (up to 10 s)
    /// for that task, and would wait in vain if it held the only worker.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_write_on_a_one_worker_runtime_lets_other_tasks_go_on() {
        let (went_on, seen) = std::sync::mpsc::channel();
        // On the worker (the test's own future runs on the test thread).
        let write = tokio::spawn(super::in_one_go(async move {
            tokio::spawn(async move { went_on.send(()).expect("the write listens") });
            seen.recv_timeout(std::time::Duration::from_secs(10)).is_ok()
        }));
        assert!(
            write.await.expect("the write ends"),
            "the other task ran during the write"
        );
    }
}
