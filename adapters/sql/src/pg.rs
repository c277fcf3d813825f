//! The Postgres backend: diesel-async over tokio-postgres (no libpq), a
//! deadpool pool, row locks with `FOR UPDATE`, a per-teacher advisory lock
//! for slot creation, and the exclusion constraint as the last guard.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use time::OffsetDateTime;
use tutorbook_domain::{
    AuditEntry, Booking, BookingId, BookingPolicy, CreditId, DomainEvent, LessonReport, MakeupCredit, PackageId,
    PaymentId, Review, Slot, SlotId, TeacherRating, UserId,
};
use tutorbook_ports::{Error, OutboxMessage};
use uuid::Uuid;

use crate::conn::{Locks, impl_queries};
use crate::error::TxError;
use crate::lock_of::ForUpdateOfSlots;
use crate::rows::{AuditRow, BookingRow, CreditRow, OutboxRow, PolicyRow, ReportRow, ReviewRow, SlotChanges, SlotRow};
use crate::schema::{credits, outbox, packages, payments, slots};
use crate::types::{DbId, DbInstant};

/// The Postgres schema, embedded in the binary. An embedding service that
/// manages its own connections can run these with diesel's `MigrationHarness`.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A pool of Postgres connections.
pub type PgPool = Pool<AsyncPgConnection>;

/// Builds a pool of at most `max_size` connections to `url` (nothing is
/// connected until first use). A connection handed back is reused without a
/// test query (`RecyclingMethod::Fast`): a round trip per checkout saved; a
/// connection the server dropped fails its first statement with a storage
/// error, which callers may retry, and the pool discards it.
pub fn pg_pool(url: &str, max_size: usize) -> Result<PgPool, Error> {
    build_pool(url, max_size, ManagerConfig::default())
}

/// A pool like [`pg_pool`] whose sessions commit without waiting for the
/// disk (`synchronous_commit = off`), for the after-commit effects (the
/// outbox worker and the reminder scheduler): their writes are either their
/// own bookkeeping (claims, delivery marks) or derived from committed
/// events (reminders, calendar state), and a crash of the server loses only
/// the last moments of them, in commit order, so never a delivery mark
/// without the handler writes before it; the lost messages are delivered
/// again (docs/decisions/0024-effects-have-their-own-pool-and-do-not-wait-for-the-disk.md).
/// Never for commands: a lost command commit would be a lost booking.
pub fn pg_pool_for_effects(url: &str, max_size: usize) -> Result<PgPool, Error> {
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    config.custom_setup = Box::new(|url| {
        Box::pin(async move {
            let mut conn = <AsyncPgConnection as diesel_async::AsyncConnection>::establish(url).await?;
            conn.batch_execute("SET synchronous_commit = off")
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    build_pool(url, max_size, config)
}

fn build_pool(url: &str, max_size: usize, mut config: ManagerConfig<AsyncPgConnection>) -> Result<PgPool, Error> {
    config.recycling_method = RecyclingMethod::Fast;
    Pool::builder(AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        url, config,
    ))
    .max_size(max_size)
    .build()
    .map_err(|e| Error::Storage(format!("cannot build the Postgres pool: {e}")))
}

/// Runs the pending migrations on a dedicated connection to `url`. Safe on
/// any tokio runtime flavour (the sync migration harness runs on a blocking
/// thread).
pub async fn run_postgres_migrations(url: &str) -> Result<(), Error> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| Error::Storage(format!("cannot connect to Postgres: {e}")))?;
        conn.run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(drop)
            .map_err(|e| Error::Storage(format!("Postgres migrations failed: {e}")))
    })
    .await
    .map_err(|e| Error::Storage(format!("migration task failed: {e}")))?
}

/// A 64-bit advisory-lock key for a teacher (the UUID's two halves folded).
fn advisory_key(teacher: UserId) -> i64 {
    let bits = teacher.as_uuid().as_u128();
    ((bits >> 64) as u64 ^ bits as u64) as i64
}

impl Locks for AsyncPgConnection {
    async fn lock_teacher(&mut self, teacher: UserId) -> Result<(), TxError> {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(advisory_key(teacher))
            .execute(self)
            .await?;
        Ok(())
    }

    async fn lock_packages(&mut self, ids: &[PackageId]) -> Result<(), TxError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<DbId> = ids.iter().copied().map(DbId::from).collect();
        packages::table
            .filter(packages::id.eq_any(ids))
            .order(packages::id.asc())
            .select(packages::id)
            .for_update()
            .load::<DbId>(self)
            .await?;
        Ok(())
    }

    async fn lock_payments(&mut self, ids: &[PaymentId]) -> Result<(), TxError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<DbId> = ids.iter().copied().map(DbId::from).collect();
        payments::table
            .filter(payments::id.eq_any(ids))
            .order(payments::id.asc())
            .select(payments::id)
            .for_update()
            .load::<DbId>(self)
            .await?;
        Ok(())
    }

    async fn lock_credits(&mut self, ids: &[CreditId]) -> Result<(), TxError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<DbId> = ids.iter().copied().map(DbId::from).collect();
        credits::table
            .filter(credits::id.eq_any(ids))
            .order(credits::id.asc())
            .select(credits::id)
            .for_update()
            .load::<DbId>(self)
            .await?;
        Ok(())
    }

    async fn lock_slots(&mut self, ids: &[SlotId]) -> Result<Vec<(UserId, BookingPolicy)>, TxError> {
        use crate::schema::teacher_policies;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<DbId> = ids.iter().copied().map(DbId::from).collect();
        let rows: Vec<(DbId, Option<PolicyRow>)> = ForUpdateOfSlots(
            slots::table
                .left_join(teacher_policies::table.on(teacher_policies::teacher_id.eq(slots::teacher_id)))
                .filter(slots::id.eq_any(ids))
                .order(slots::id.asc())
                .select((slots::id, Option::<PolicyRow>::as_select())),
        )
        .load(self)
        .await?;
        crate::conn::teachers_policies(rows.into_iter().filter_map(|(_, policy)| policy).collect())
    }

    async fn lock_due_outbox(&mut self, limit: i64, now: OffsetDateTime) -> Result<Vec<DbId>, TxError> {
        Ok(outbox::table
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::failed_at.is_null())
            .filter(outbox::available_at.le(DbInstant(now)))
            .order(outbox::id.asc())
            .limit(limit)
            .select(outbox::id)
            .for_update()
            .skip_locked()
            .load(self)
            .await?)
    }

    async fn lock_reminder_plan(&mut self) -> Result<Option<OffsetDateTime>, TxError> {
        use crate::schema::reminder_plan;
        let planned: Option<Option<DbInstant>> = reminder_plan::table
            .select(reminder_plan::planned_through)
            .for_update()
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
            .for_update()
            .skip_locked()
            .load(self)
            .await?)
    }
}

impl_queries!(AsyncPgConnection, multi);
