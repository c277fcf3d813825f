//! [`SqlStore`]: every store port over Postgres or SQLite. Reads run on
//! read connections (`read!`), every write in a transaction on a write
//! connection (`write!`); commands are units of work (`crate::unit`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use diesel_async::AsyncConnection;
use diesel_async::TransactionManager;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    AuditEntry, Booking, BookingId, BookingPolicy, CreditId, LessonReport, MakeupCredit, Review, Slot, SlotId,
    TeacherRating, UserId,
};
use tutorbook_ports::{
    BookingStore, Browse, Decision, Error, LockSet, Outbox, OutboxMessage, Overdue, PolicyStore, ReportStore, Result,
    ReviewStore, Unit, UnitOfWork, UuidV7,
};
use uuid::Uuid;

use tutorbook_ports::effects::{
    CalendarState, CalendarStore, NewReminder, Reminder, ReminderPlan, ReminderStatus, ReminderStore, due_starts,
    reminders_of,
};

use crate::conn::{Locks, OPEN, Queries, VISIBLE};
use crate::error::map_db_error;

/// The SQL store. Cheap to clone: clones share the pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) backend: Arc<Backend>,
    /// Units of work committed through this store and its clones.
    commits: Arc<AtomicU64>,
    /// Told after each of those commits ([`SqlStore::commit_signal`]).
    committed: Arc<tokio::sync::Notify>,
}

pub(crate) enum Backend {
    #[cfg(feature = "postgres")]
    Postgres(crate::pg::PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(crate::sqlite::SqliteDb),
}

/// Runs `$body` with `$c` bound to a pooled read connection, outside any
/// transaction. On SQLite read connections refuse to write
/// (`PRAGMA query_only`), so a write sent down this path fails loudly instead
/// of slipping past the writer; the body's statements run on this thread
/// when awaited (`crate::sqlite::Inline`): in WAL mode a read neither waits
/// for the writer nor syncs the disk, so moving it off the worker would cost
/// more than it runs.
macro_rules! read {
    ($self:ident, |$c:ident| $body:expr) => {
        match &*$self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => {
                let mut conn = pool.get().await.map_err(pool_error)?;
                let $c = &mut *conn;
                $body
            }
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => {
                let mut conn = db.readers.get().await.map_err(pool_error)?;
                let $c = &mut *conn;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to a write connection inside one
/// transaction: committed when the body answers `Ok`, rolled back when it
/// answers `Err`. On SQLite there is one write connection, so write
/// transactions run one at a time and every decision sees the latest
/// committed state (what `BEGIN IMMEDIATE` gives a single process); the
/// transaction, from `BEGIN` to `COMMIT`, runs in one go
/// (`crate::sqlite::in_one_go`), so the writer is held for the statements'
/// time only, and the checkpointer hears of it afterwards
/// (`crate::checkpointer`). No `.await` may come between `COMMIT` and the
/// macro's answer: the user writes forget their caller right after it
/// (`SqlStore::forget_caller`), and a request dropped in between would
/// leave a stale caller kept (decision 0033).
macro_rules! write {
    ($self:ident, |$c:ident| $body:expr) => {
        match &*$self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => {
                let mut conn = pool.get().await.map_err(pool_error)?;
                let $c = &mut *conn;
                $crate::store::in_transaction!($c, $body)
            }
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(db) => {
                // A transaction runs in one poll on this worker: let the
                // tasks queued here go first. A task that only ever writes
                // (an outbox pass with a backlog) would otherwise hold its
                // worker for as long as it finds work, and a task its last
                // write woke cannot be stolen from the worker's LIFO slot.
                // Before the write, not after: a future dropped at a yield
                // after the commit would lose what the write returned (a
                // claim) and the bookkeeping after it (the commit count).
                tokio::task::yield_now().await;
                let mut conn = db.writer.get().await.map_err(pool_error)?;
                let done = $crate::sqlite::in_one_go(async {
                    let $c = &mut *conn;
                    $crate::store::in_transaction!($c, $body)
                })
                .await;
                drop(conn);
                if done.is_ok() {
                    db.checkpointer.committed();
                }
                done
            }
        }
    };
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => f.debug_tuple("Postgres").field(&pool.status()).finish(),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(db) => f.debug_tuple("Sqlite").field(db).finish(),
        }
    }
}

pub(crate) fn pool_error(e: impl std::fmt::Display) -> Error {
    Error::Storage(format!("no database connection: {e}"))
}

impl SqlStore {
    /// Connects to Postgres at `url`, runs the migrations and pools up to `max_connections`.
    #[cfg(feature = "postgres")]
    pub async fn postgres(url: &str, max_connections: usize) -> Result<Self> {
        crate::pg::run_postgres_migrations(url).await?;
        Ok(Self::from_pg_pool(crate::pg::pg_pool(url, max_connections)?))
    }

    /// Uses an existing pool whose database the embedder migrated itself
    /// (see [`crate::POSTGRES_MIGRATIONS`]).
    #[cfg(feature = "postgres")]
    pub fn from_pg_pool(pool: crate::pg::PgPool) -> Self {
        Self {
            backend: Arc::new(Backend::Postgres(pool)),
            commits: Arc::default(),
            committed: Arc::default(),
        }
    }

    /// Opens (creating if needed) the SQLite database file at `path`, runs the
    /// migrations and pools up to `max_connections` readers.
    #[cfg(feature = "sqlite")]
    pub async fn sqlite(path: &str, max_connections: usize) -> Result<Self> {
        Ok(Self {
            backend: Arc::new(Backend::Sqlite(
                crate::sqlite::SqliteDb::open(path, max_connections).await?,
            )),
            commits: Arc::default(),
            committed: Arc::default(),
        })
    }

    /// Notified after each unit of work that commits through this store or
    /// one of its clones (one permit: a commit while nobody waits wakes the
    /// next waiter at once). The service's outbox loop waits on it between
    /// passes, so a command's messages go out as soon as it commits instead
    /// of after the loop's idle pause (docs/operations.md). To miss no
    /// commit, `enable` the `notified()` future, then compare
    /// [`UnitOfWork::commits`] with the count taken before the last look,
    /// then wait. Commits of other processes are not told.
    pub fn commit_signal(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.committed)
    }

    /// `postgres` or `sqlite`.
    pub fn backend_name(&self) -> &'static str {
        match &*self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => "postgres",
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => "sqlite",
        }
    }

    /// The invariant check query: every slot's `booked_count` equals its
    /// confirmed bookings and fits its capacity. Returns the offending slot ids.
    pub async fn slots_breaking_invariants(&self) -> Result<Vec<String>> {
        read!(self, |c| c.broken_slots().await.map_err(Error::from))
    }

    /// Answers when the database does (for readiness checks).
    pub async fn ping(&self) -> Result<()> {
        read!(self, |c| c.ping().await.map_err(Error::from))
    }
}

/// Runs `$body` inside a transaction on `$conn`: commit when it answers
/// `Ok`, roll back when it answers `Err`. (diesel-async's closure-based
/// `transaction` trips the compiler's higher-ranked `Send` inference in
/// generic code, rust-lang/rust#100013, so the steps are spelled out; the
/// transaction manager still tracks depth, so a connection dropped mid-way
/// is discarded by the pool, not reused.)
macro_rules! in_transaction {
    ($conn:ident, $body:expr) => {{
        $crate::store::begin($conn).await?;
        let result: std::result::Result<_, $crate::error::TxError> = async { $body }.await;
        match result {
            Ok(value) => {
                $crate::store::commit($conn).await?;
                Ok(value)
            }
            Err(error) => {
                // The refusal or failure is what the caller needs to hear; a
                // failed rollback leaves the connection broken, and the pool
                // drops broken connections.
                let _ = $crate::store::rollback($conn).await;
                Err(Error::from(error))
            }
        }
    }};
}

pub(crate) use {in_transaction, read, write};

pub(crate) async fn begin<C: AsyncConnection>(c: &mut C) -> Result<()> {
    C::TransactionManager::begin_transaction(c).await.map_err(map_db_error)
}

pub(crate) async fn commit<C: AsyncConnection>(c: &mut C) -> Result<()> {
    C::TransactionManager::commit_transaction(c).await.map_err(map_db_error)
}

pub(crate) async fn rollback<C: AsyncConnection>(c: &mut C) -> Result<()> {
    C::TransactionManager::rollback_transaction(c)
        .await
        .map_err(map_db_error)
}

/// The most ids one `IN` list carries: SQLite binds each id as a parameter
/// (Postgres sends one array), and a batch read, or a purge's delete, must
/// stay well below its 32,766 parameters whatever the caller asks for.
const IDS_PER_LIST: usize = 1_000;

#[async_trait]
impl BookingStore for SqlStore {
    async fn slot(&self, id: SlotId) -> Result<Option<Slot>> {
        read!(self, |c| c.load_slot(id).await.map_err(Error::from))
    }

    async fn slots(&self, ids: &[SlotId]) -> Result<Vec<Slot>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        read!(self, |c| {
            let mut slots = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(IDS_PER_LIST) {
                slots.extend(c.load_slots(chunk).await.map_err(Error::from)?);
            }
            Ok(slots)
        })
    }

    async fn slot_of_booking(&self, booking: BookingId) -> Result<Option<SlotId>> {
        read!(self, |c| c.slot_id_of_booking(booking).await.map_err(Error::from))
    }

    async fn teacher_slots(&self, teacher: UserId, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<Slot>> {
        read!(self, |c| c
            .load_slots_between(Some(teacher), from, to, VISIBLE, false, i64::MAX)
            .await
            .map_err(Error::from))
    }

    async fn open_slots(&self, from: OffsetDateTime, to: OffsetDateTime, limit: usize) -> Result<Vec<Slot>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read!(self, |c| c
            .load_slots_between(None, from, to, OPEN, false, limit)
            .await
            .map_err(Error::from))
    }

    async fn browse_starts(&self, browse: Browse, limit: usize) -> Result<Vec<(OffsetDateTime, u32)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read!(self, |c| c.browse_starts(browse, limit).await.map_err(Error::from))
    }

    async fn browse_page(
        &self,
        browse: Browse,
        after: Option<(OffsetDateTime, SlotId)>,
        limit: usize,
    ) -> Result<Vec<Slot>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read!(self, |c| c.browse_page(browse, after, limit).await.map_err(Error::from))
    }

    async fn student_bookings(
        &self,
        student: UserId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<(Booking, Slot)>> {
        read!(self, |c| c
            .bookings_of_student(student, from, to)
            .await
            .map_err(Error::from))
    }

    async fn credit(&self, id: CreditId) -> Result<Option<MakeupCredit>> {
        read!(self, |c| c.load_credit(id).await.map_err(Error::from))
    }

    async fn student_credits(&self, student: UserId) -> Result<Vec<MakeupCredit>> {
        read!(self, |c| c.credits_of_student(student).await.map_err(Error::from))
    }

    async fn history(&self, booking: BookingId) -> Result<Vec<AuditEntry>> {
        read!(self, |c| c.booking_history(booking).await.map_err(Error::from))
    }

    async fn overdue_slots(&self, overdue: Overdue, limit: usize) -> Result<Vec<SlotId>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read!(self, |c| c.overdue_slot_ids(overdue, limit).await.map_err(Error::from))
    }
}

#[async_trait]
impl PolicyStore for SqlStore {
    async fn policy(&self, teacher: UserId) -> Result<BookingPolicy> {
        read!(self, |c| c.load_policy(teacher).await.map_err(Error::from))
    }

    async fn set_policy(&self, teacher: UserId, policy: BookingPolicy) -> Result<()> {
        write!(self, |c| c.store_policy(teacher, &policy).await)
    }
}

#[async_trait]
impl ReviewStore for SqlStore {
    async fn teacher_reviews(&self, teacher: UserId, limit: usize) -> Result<Vec<Review>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read!(self, |c| c
            .reviews_of_teacher(teacher, limit)
            .await
            .map_err(Error::from))
    }

    async fn teacher_rating(&self, teacher: UserId) -> Result<TeacherRating> {
        read!(self, |c| c.rating_of_teacher(teacher).await.map_err(Error::from))
    }
}

#[async_trait]
impl ReportStore for SqlStore {
    async fn report_of(&self, booking: BookingId) -> Result<Option<LessonReport>> {
        read!(self, |c| c.report_of_booking(booking).await.map_err(Error::from))
    }

    async fn student_reports(&self, student: UserId) -> Result<Vec<LessonReport>> {
        read!(self, |c| c.reports_of_student(student).await.map_err(Error::from))
    }
}

#[async_trait]
impl Outbox for SqlStore {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read!(self, |c| c.outbox_pending(limit).await.map_err(Error::from))
    }

    async fn mark_delivered(&self, ids: &[Uuid], at: OffsetDateTime) -> Result<()> {
        let at = crate::micros(at);
        write!(self, |c| c.outbox_delivered(ids, at).await)
    }

    async fn purge_delivered_before(&self, cutoff: OffsetDateTime, limit: usize) -> Result<u64> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let cutoff = crate::micros(cutoff);
        // Found by a read, which on SQLite does not hold the one writer
        // while it walks the outbox (the last batch walks all that is kept);
        // deleted by id in short writes, each under SQLite's limit of
        // bound values.
        let ids = read!(self, |c| c
            .outbox_delivered_before(cutoff, limit)
            .await
            .map_err(Error::from))?;
        let mut purged = 0;
        for chunk in ids.chunks(IDS_PER_LIST) {
            let deleted = write!(self, |c| c.outbox_delete_delivered(chunk, cutoff).await)?;
            purged += u64::try_from(deleted).unwrap_or(u64::MAX);
        }
        Ok(purged)
    }

    async fn claim(&self, now: OffsetDateTime, limit: usize, lease: Duration) -> Result<Vec<OutboxMessage>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let now = crate::micros(now);
        write!(self, |c| c.outbox_claim(limit, now, now + lease).await)
    }

    async fn retry_later(&self, id: Uuid, error: &str, at: OffsetDateTime) -> Result<()> {
        let at = crate::micros(at);
        write!(self, |c| c.outbox_retry(id, error, at).await)
    }

    async fn mark_failed(&self, id: Uuid, error: &str) -> Result<()> {
        let at = crate::now_micros();
        write!(self, |c| c.outbox_fail(id, error, at).await)
    }

    async fn failed(&self, limit: usize) -> Result<Vec<(OutboxMessage, String)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read!(self, |c| c.outbox_failed(limit).await.map_err(Error::from))
    }
}

#[async_trait]
impl CalendarStore for SqlStore {
    async fn save_calendar(&self, slot: SlotId, state: CalendarState) -> Result<()> {
        let updated = write!(self, |c| c.save_calendar(slot, &state).await)?;
        if updated == 0 {
            return Err(Error::not_found("slot"));
        }
        Ok(())
    }
}

#[async_trait]
impl ReminderStore for SqlStore {
    async fn schedule_reminders(&self, reminders: Vec<NewReminder>) -> Result<()> {
        let reminders = in_key_order(reminders);
        // On SQLite a transaction per 256 rows: a pass plans up to
        // thousands, and every booking waits for the one writer while they
        // are written (a pass's reminders held it up to 28 ms at a time;
        // the booking p99 fell from 55 to 31 ms). Each chunk is idempotent,
        // so a pass that fails half-way is planned again whole. Postgres
        // writes beside the bookings, and there each transaction is a
        // round trip more: the outbox fell behind with chunks.
        let per_transaction = match &*self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => reminders.len().max(1),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => 256,
        };
        for chunk in reminders.chunks(per_transaction) {
            write!(self, |c| c.reminders_schedule(chunk).await)?;
        }
        Ok(())
    }

    async fn plan_due_reminders(&self, through: OffsetDateTime, plan: &ReminderPlan) -> Result<usize> {
        let through = crate::micros(through);
        // One transaction: the window, its reminders and its end are
        // planned together or not at all. A plan's window is the due times
        // since the last plan (a pass's interval), so it is small: the
        // lessons starting in those seconds, a lead ahead.
        write!(self, |c| {
            let planned = c.lock_reminder_plan().await?;
            let mut reminders = Vec::new();
            for &(channel, lead) in &plan.leads {
                if let Some((after, until)) = due_starts(planned, through, lead) {
                    let seats = c.reminders_due_seats(after, until).await?;
                    reminders.extend(reminders_of(&seats, channel, lead, &UuidV7));
                }
            }
            let reminders = in_key_order(reminders);
            if !reminders.is_empty() {
                c.reminders_schedule(&reminders).await?;
            }
            if planned.is_none_or(|last| last < through) {
                c.reminders_planned(through).await?;
            }
            Ok(reminders.len())
        })
    }

    async fn claim_due_reminders(&self, now: OffsetDateTime, limit: usize, lease: Duration) -> Result<Vec<Reminder>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        write!(self, |c| c.reminders_claim(now, limit, now + lease).await)
    }

    async fn retry_reminder(&self, id: Uuid, error: &str, at: OffsetDateTime) -> Result<()> {
        write!(self, |c| c.reminders_retry(id, error, at).await)
    }

    async fn finish_reminder(&self, id: Uuid, status: ReminderStatus, error: Option<String>) -> Result<()> {
        write!(self, |c| c.reminders_finish(id, status.as_str(), error).await)
    }

    async fn slot_reminders(&self, slot: SlotId) -> Result<Vec<Reminder>> {
        read!(self, |c| c.reminders_of_slot(slot).await.map_err(Error::from))
    }
}

// Users, consents, the directory and idempotency keys (`crate::users`).

use crate::users::{KeyRow, UserQueries, Who};
use tutorbook_domain::{Consent, Role};
use tutorbook_ports::{
    Claim, Contact, Directory, IdempotencyRecord, IdempotencyStore, ProfileUpdate, StoredResponse, User, UserStore,
};

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, user: User) -> Result<User> {
        let created = write!(self, |c| {
            // A concurrent sign-up of the same subject inserts nothing here and
            // both read the one stored row.
            c.insert_user_if_new(&user).await?;
            Ok(c.load_user_by_subject(&user.subject)
                .await?
                .ok_or_else(|| Error::Storage("user vanished right after its insert".into()))?)
        });
        self.forget_caller(user.id);
        created
    }

    async fn user_by_subject(&self, subject: &str) -> Result<Option<User>> {
        read!(self, |c| c.load_user_by_subject(subject).await.map_err(Error::from))
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        read!(self, |c| c.load_user(id).await.map_err(Error::from))
    }

    async fn users(&self, after: Option<UserId>, limit: usize) -> Result<Vec<User>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        read!(self, |c| c.load_users(after, limit).await.map_err(Error::from))
    }

    async fn set_role(&self, id: UserId, role: Role) -> Result<User> {
        let changed = write!(self, |c| {
            if c.store_role(id, role).await? == 0 {
                return Err(Error::not_found("user").into());
            }
            Ok(c.load_user(id).await?.ok_or_else(|| Error::not_found("user"))?)
        });
        self.forget_caller(id);
        changed
    }

    async fn update_profile(&self, id: UserId, update: ProfileUpdate) -> Result<User> {
        let changed = write!(self, |c| {
            if c.store_profile(id, &update).await? == 0 {
                return Err(Error::not_found("user").into());
            }
            Ok(c.load_user(id).await?.ok_or_else(|| Error::not_found("user"))?)
        });
        self.forget_caller(id);
        changed
    }

    async fn consents(&self, id: UserId) -> Result<Vec<Consent>> {
        read!(self, |c| c.load_consents(id).await.map_err(Error::from))
    }

    async fn user_with_consents(&self, id: UserId) -> Result<Option<(User, Vec<Consent>)>> {
        self.caller(Who::Id(id)).await
    }

    async fn user_by_subject_with_consents(&self, subject: &str) -> Result<Option<(User, Vec<Consent>)>> {
        self.caller(Who::Subject(subject)).await
    }

    async fn record_consent(&self, id: UserId, consent: Consent) -> Result<()> {
        let recorded = write!(self, |c| {
            if c.load_user(id).await?.is_none() {
                return Err(Error::not_found("user").into());
            }
            c.upsert_consent(id, &consent).await
        });
        self.forget_caller(id);
        recorded
    }
}

impl SqlStore {
    /// The user with their consents: on SQLite from the callers kept in
    /// memory when there (`crate::callers`), otherwise from the database.
    async fn caller(&self, who: Who<'_>) -> Result<Option<(User, Vec<Consent>)>> {
        #[cfg(feature = "sqlite")]
        if let Backend::Sqlite(db) = &*self.backend {
            let seen = match db.callers.find(who) {
                Ok(kept) => return Ok(Some(kept)),
                Err(generation) => generation,
            };
            // One autocommit statement on a read connection, so its snapshot
            // starts after `find` above; the generation guard rests on that.
            let found = read!(self, |c| c.load_caller(who).await.map_err(Error::from))?;
            if let Some(caller) = &found {
                db.callers.keep(seen, caller);
            }
            return Ok(found);
        }
        read!(self, |c| c.load_caller(who).await.map_err(Error::from))
    }

    /// Called when a write to the user `id` or their consents has ended.
    fn forget_caller(&self, id: UserId) {
        #[cfg(feature = "sqlite")]
        if let Backend::Sqlite(db) = &*self.backend {
            db.callers.forget(id);
        }
        #[cfg(not(feature = "sqlite"))]
        let _ = id;
    }
}

#[async_trait]
impl Directory for SqlStore {
    async fn contact(&self, user: UserId) -> Result<Option<Contact>> {
        Ok(self.user(user).await?.as_ref().map(User::contact))
    }

    async fn contacts(&self, users: &[UserId]) -> Result<Vec<Contact>> {
        let mut users = users.to_vec();
        users.sort_unstable();
        users.dedup();
        read!(self, |c| {
            let mut contacts = Vec::with_capacity(users.len());
            for chunk in users.chunks(IDS_PER_LIST) {
                let found = c.load_users_by_id(chunk).await.map_err(Error::from)?;
                contacts.extend(found.iter().map(User::contact));
            }
            Ok(contacts)
        })
    }
}

#[async_trait]
impl IdempotencyStore for SqlStore {
    async fn record(&self, user: UserId, key: &str) -> Result<Option<IdempotencyRecord>> {
        read!(self, |c| c.load_key(user, key).await.map_err(Error::from))
    }

    async fn complete(&self, claim: &Claim, now: OffsetDateTime, response: StoredResponse) -> Result<()> {
        let row = KeyRow::new(claim, now, None, Some(&response));
        write!(self, |c| {
            // A command's transaction may have created the key with its
            // answer; otherwise (a refusal) the response alone is the record.
            if c.insert_key_if_new(&row).await? == 0 {
                c.store_key_response(claim, &response).await?;
            }
            Ok(())
        })
    }

    async fn purge_before(&self, cutoff: OffsetDateTime) -> Result<u64> {
        let removed = write!(self, |c| c.delete_keys_before(cutoff).await)?;
        Ok(u64::try_from(removed).unwrap_or(u64::MAX))
    }
}

#[async_trait]
impl UnitOfWork for SqlStore {
    async fn execute(&self, locks: LockSet, now: OffsetDateTime, decide: Decision) -> Result<Unit> {
        let unit = write!(self, |c| crate::unit::execute_in(c, locks, now, decide).await)?;
        self.commits.fetch_add(1, Ordering::Release);
        self.committed.notify_one();
        Ok(unit)
    }

    fn commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }
}

/// `reminders` with each key once (the first kept: one upsert cannot touch
/// a key twice, and Postgres refuses the whole statement) and in key
/// order: two writes of the same teacher's reminders then lock the rows in
/// the same order and one waits for the other, where in any order they
/// could deadlock (and Postgres would abort one). The table keys a lead by
/// whole minutes.
fn in_key_order(mut reminders: Vec<NewReminder>) -> Vec<NewReminder> {
    let mut keys = std::collections::HashSet::new();
    reminders.retain(|r| keys.insert((r.slot, r.recipient, r.channel, r.lead.whole_minutes())));
    reminders.sort_by(|a, b| {
        (a.slot, a.recipient, a.channel.as_str(), a.lead.whole_minutes()).cmp(&(
            b.slot,
            b.recipient,
            b.channel.as_str(),
            b.lead.whole_minutes(),
        ))
    });
    reminders
}
