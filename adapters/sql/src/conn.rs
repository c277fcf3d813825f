//! The queries, written once and compiled for each backend's connection type
//! by `impl_queries!` (the same DSL text is valid for both because both use
//! the shared column types). What really differs between the dialects, row
//! locking, is the small [`Locks`] trait implemented per backend.

use std::future::Future;

use time::OffsetDateTime;
use tutorbook_domain::{
    AuditEntry, Booking, BookingId, BookingPolicy, Buffers, CreditId, DomainEvent, LessonReport, MakeupCredit,
    PackageId, PaymentId, Review, Slot, SlotId, TeacherRating, UserId,
};
use tutorbook_ports::OutboxMessage;
use uuid::Uuid;

use crate::error::TxError;
use crate::types::DbId;

/// What really differs between the dialects: row locks. A unit of work
/// takes them in the order `crate::unit` documents; within one call, rows are
/// locked in ascending id order. Postgres locks rows (`FOR UPDATE`) and
/// teachers (advisory locks); SQLite serialises every write transaction on
/// its one writer connection, so there is nothing left to lock.
pub(crate) trait Locks: Send {
    /// Serialises slot creation per teacher.
    fn lock_teacher(&mut self, teacher: UserId) -> impl Future<Output = Result<(), TxError>> + Send;
    /// Locks package rows.
    fn lock_packages(&mut self, ids: &[PackageId]) -> impl Future<Output = Result<(), TxError>> + Send;
    /// Locks payment rows.
    fn lock_payments(&mut self, ids: &[PaymentId]) -> impl Future<Output = Result<(), TxError>> + Send;
    /// Locks credit rows.
    fn lock_credits(&mut self, ids: &[CreditId]) -> impl Future<Output = Result<(), TxError>> + Send;
    /// Locks slot rows and reads the policies of their teachers (those who
    /// set one) in the same statement.
    fn lock_slots(
        &mut self,
        ids: &[SlotId],
    ) -> impl Future<Output = Result<Vec<(UserId, BookingPolicy)>, TxError>> + Send;
    /// Locks up to `limit` due, undelivered outbox rows that no other
    /// transaction holds, oldest first, and returns their ids.
    fn lock_due_outbox(
        &mut self,
        limit: i64,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<crate::types::DbId>, TxError>> + Send;
    /// Locks the reminder plan's row and returns the end of the last plan's
    /// window, if any (`ReminderStore::plan_due_reminders`).
    fn lock_reminder_plan(&mut self) -> impl Future<Output = Result<Option<OffsetDateTime>, TxError>> + Send;
    /// Locks up to `limit` pending reminders due at `now` whose lease lapsed
    /// and that no other transaction holds, most overdue first; returns their ids.
    fn lock_due_reminders(
        &mut self,
        limit: i64,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<crate::types::DbId>, TxError>> + Send;
}

/// Everything the stores read and write, per connection type.
#[allow(clippy::type_complexity)]
pub(crate) trait Queries: Locks {
    fn load_slot(&mut self, id: SlotId) -> impl Future<Output = Result<Option<Slot>, TxError>> + Send;
    /// The slots with these ids (missing ones left out), by start, in one statement.
    fn load_slots(&mut self, ids: &[SlotId]) -> impl Future<Output = Result<Vec<Slot>, TxError>> + Send;
    fn load_slots_between(
        &mut self,
        teacher: Option<UserId>,
        from: OffsetDateTime,
        to: OffsetDateTime,
        statuses: &'static [&'static str],
        overlap: bool,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Slot>, TxError>> + Send;
    /// [`tutorbook_ports::BookingStore::browse_starts`].
    fn browse_starts(
        &mut self,
        browse: tutorbook_ports::Browse,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<(OffsetDateTime, u32)>, TxError>> + Send;
    /// [`tutorbook_ports::BookingStore::browse_page`].
    fn browse_page(
        &mut self,
        browse: tutorbook_ports::Browse,
        after: Option<(OffsetDateTime, SlotId)>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Slot>, TxError>> + Send;
    /// Inserts new slots with their bookings, each slot's row carrying the
    /// buffers of its policy (the overlap guard): one statement for the
    /// slots and one for their bookings, so a series of 52 lessons costs two
    /// round trips, not 104.
    fn insert_slots(&mut self, slots: &[(&Slot, Buffers)]) -> impl Future<Output = Result<(), TxError>> + Send;
    /// Saves each changed slot's row and its new or changed bookings
    /// (`(as loaded, as decided)`), then the audit and outbox rows, as one
    /// batch ([`crate::batch`]): a booking's four writes are one round trip
    /// on Postgres.
    fn save_slots_and_history(
        &mut self,
        slots: &[(&Slot, &Slot)],
        audit: &[AuditEntry],
        events: &[DomainEvent],
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn load_credits(&mut self, ids: &[CreditId]) -> impl Future<Output = Result<Vec<MakeupCredit>, TxError>> + Send;
    fn load_policies(
        &mut self,
        teachers: &[UserId],
    ) -> impl Future<Output = Result<Vec<(UserId, BookingPolicy)>, TxError>> + Send;
    fn load_credit(&mut self, id: CreditId) -> impl Future<Output = Result<Option<MakeupCredit>, TxError>> + Send;
    fn save_credit(&mut self, credit: &MakeupCredit) -> impl Future<Output = Result<(), TxError>> + Send;
    fn load_policy(&mut self, teacher: UserId) -> impl Future<Output = Result<BookingPolicy, TxError>> + Send;
    fn store_policy(
        &mut self,
        teacher: UserId,
        policy: &BookingPolicy,
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn slot_id_of_booking(
        &mut self,
        booking: BookingId,
    ) -> impl Future<Output = Result<Option<SlotId>, TxError>> + Send;
    fn bookings_of_student(
        &mut self,
        student: UserId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<(Booking, Slot)>, TxError>> + Send;
    fn credits_of_student(
        &mut self,
        student: UserId,
    ) -> impl Future<Output = Result<Vec<MakeupCredit>, TxError>> + Send;
    fn booking_history(&mut self, booking: BookingId) -> impl Future<Output = Result<Vec<AuditEntry>, TxError>> + Send;
    /// The slots the booking jobs have work on, earliest first.
    fn overdue_slot_ids(
        &mut self,
        overdue: tutorbook_ports::Overdue,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<SlotId>, TxError>> + Send;
    fn insert_review(&mut self, review: &Review) -> impl Future<Output = Result<(), TxError>> + Send;
    /// Whether `student` has a trial booking with `teacher` that still counts.
    fn trial_used(&mut self, teacher: UserId, student: UserId) -> impl Future<Output = Result<bool, TxError>> + Send;
    fn review_of_booking(&mut self, booking: BookingId)
    -> impl Future<Output = Result<Option<Review>, TxError>> + Send;
    fn reviews_of_teacher(
        &mut self,
        teacher: UserId,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Review>, TxError>> + Send;
    fn rating_of_teacher(&mut self, teacher: UserId) -> impl Future<Output = Result<TeacherRating, TxError>> + Send;
    fn report_of_booking(
        &mut self,
        booking: BookingId,
    ) -> impl Future<Output = Result<Option<LessonReport>, TxError>> + Send;
    fn upsert_report(&mut self, report: &LessonReport) -> impl Future<Output = Result<(), TxError>> + Send;
    fn reports_of_student(
        &mut self,
        student: UserId,
    ) -> impl Future<Output = Result<Vec<LessonReport>, TxError>> + Send;
    fn outbox_pending(&mut self, limit: i64) -> impl Future<Output = Result<Vec<OutboxMessage>, TxError>> + Send;
    fn outbox_delivered(
        &mut self,
        ids: &[Uuid],
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn outbox_delivered_before(
        &mut self,
        cutoff: OffsetDateTime,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<DbId>, TxError>> + Send;
    fn outbox_delete_delivered(
        &mut self,
        ids: &[DbId],
        cutoff: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, TxError>> + Send;
    fn outbox_claim(
        &mut self,
        limit: i64,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, TxError>> + Send;
    fn outbox_retry(
        &mut self,
        id: Uuid,
        error: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn outbox_fail(
        &mut self,
        id: Uuid,
        error: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn outbox_failed(
        &mut self,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<(OutboxMessage, String)>, TxError>> + Send;
    fn save_calendar(
        &mut self,
        slot: SlotId,
        state: &tutorbook_ports::effects::CalendarState,
    ) -> impl Future<Output = Result<usize, TxError>> + Send;
    fn reminders_schedule(
        &mut self,
        reminders: &[tutorbook_ports::effects::NewReminder],
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    /// The confirmed students of the open lessons starting after `after`
    /// and by `until`, by start and slot, each slot's by booking time.
    fn reminders_due_seats(
        &mut self,
        after: OffsetDateTime,
        until: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<tutorbook_ports::effects::DueSeat>, TxError>> + Send;
    /// Keeps `through` as the end of the last plan's window.
    fn reminders_planned(&mut self, through: OffsetDateTime) -> impl Future<Output = Result<(), TxError>> + Send;
    fn reminders_claim(
        &mut self,
        now: OffsetDateTime,
        limit: i64,
        until: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<tutorbook_ports::effects::Reminder>, TxError>> + Send;
    fn reminders_retry(
        &mut self,
        id: Uuid,
        error: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn reminders_finish(
        &mut self,
        id: Uuid,
        status: &'static str,
        error: Option<String>,
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn reminders_of_slot(
        &mut self,
        slot: SlotId,
    ) -> impl Future<Output = Result<Vec<tutorbook_ports::effects::Reminder>, TxError>> + Send;
    fn broken_slots(&mut self) -> impl Future<Output = Result<Vec<String>, TxError>> + Send;
    fn ping(&mut self) -> impl Future<Output = Result<(), TxError>> + Send;
}

/// A slot id as text, from the invariant check query.
#[derive(Debug, diesel::QueryableByName)]
pub(crate) struct BrokenSlot {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
}

/// Slots whose seat count disagrees with their confirmed bookings or capacity.
pub(crate) const INVARIANT_QUERY: &str = "SELECT CAST(s.id AS TEXT) AS id FROM slots s \
     LEFT JOIN bookings b ON b.slot_id = s.id AND b.status = 'confirmed' \
     GROUP BY s.id, s.booked_count, s.capacity \
     HAVING COUNT(b.id) <> s.booked_count OR s.booked_count > s.capacity";

/// Rebuilds slots from `slots LEFT JOIN bookings` rows ordered by slot: the
/// slot row repeats once per booking (with `None` when it has none).
pub(crate) fn slots_with_bookings(
    rows: Vec<(crate::rows::SlotRow, Option<crate::rows::BookingRow>)>,
) -> Result<Vec<Slot>, tutorbook_ports::Error> {
    let mut grouped: Vec<(crate::rows::SlotRow, Vec<crate::rows::BookingRow>)> = Vec::new();
    for (slot, booking) in rows {
        match grouped.last_mut() {
            Some((last, bookings)) if last.id == slot.id => bookings.extend(booking),
            _ => grouped.push((slot, booking.into_iter().collect())),
        }
    }
    grouped
        .into_iter()
        .map(|(slot, bookings)| slot.into_slot(bookings))
        .collect()
}

/// Policy rows as (teacher, policy) pairs.
pub(crate) fn teachers_policies(rows: Vec<crate::rows::PolicyRow>) -> Result<Vec<(UserId, BookingPolicy)>, TxError> {
    rows.into_iter()
        .map(|row| {
            let teacher = UserId::from_uuid(row.teacher_id.0);
            Ok((teacher, row.into_policy()?))
        })
        .collect()
}

/// Slot statuses that read models show.
pub(crate) const VISIBLE: &[&str] = &["open", "cancelled"];
/// Only open slots.
pub(crate) const OPEN: &[&str] = &["open"];

/// The slots a [`tutorbook_ports::Browse`] reads, as a query on `slots`
/// (the filter `Browse::matches` states in the domain's words; the partial
/// index `slots_browse` serves it). Not boxed, so that it can group and its
/// prepared statement is kept: no excluded teacher is the nil id, which no
/// teacher has.
macro_rules! browsable {
    ($browse:expr) => {{
        use $crate::schema::slots;
        let browse: tutorbook_ports::Browse = $browse;
        let exclude = browse.exclude.map_or(DbId(uuid::Uuid::nil()), DbId::from);
        slots::table
            .filter(slots::status.eq("open"))
            .filter(slots::package_session_id.is_null())
            .filter(slots::starts_at.ge(DbInstant(browse.from)))
            .filter(slots::starts_at.lt(DbInstant(browse.to)))
            .filter(
                slots::booked_count
                    .lt(slots::capacity)
                    .or(slots::waitlist_mode.is_not_null()),
            )
            .filter(slots::teacher_id.ne(exclude))
    }};
}

/// Inserts `rows` (a `Vec` of insertable rows) into `table`, one statement
/// per chunk of rows; a lone row goes as a plain insert, whose prepared
/// statement is kept (diesel never keeps a multi-row insert's). Methods
/// after the rows (`.on_conflict(..)...`) are applied to every statement.
///
/// - `multi` (Postgres): through the async driver, 1,000 rows a statement,
///   far below its 65,535 bind parameters for the widest table.
/// - `single` (SQLite): diesel-async has no multi-row insert for SQLite, so
///   several rows go through the wrapped synchronous connection
///   (`spawn_blocking`, which runs in place, `crate::sqlite::Inline`): the
///   macro cuts them into chunks of 500 rows, and diesel writes a chunk as
///   one statement only because every row type here binds all its columns,
///   none as `DEFAULT` (`treat_none_as_default_value = false`, or no
///   `Option` field); otherwise it would quietly insert row by row. 500 rows
///   of the widest table stay below SQLite's 32,766 bind parameters. Every statement holds the
///   one writer, and every other command waits for it: a series' bookings
///   or a batch of published slots go in one statement instead of one each.
///   Reminders, an upsert, have their own path ([`upsert_reminders!`]).
macro_rules! insert_rows {
    (multi, $conn:expr, $table:expr, $rows:expr $(, $(.$then:ident($($arg:tt)*))*)?) => {
        for chunk in $rows.chunks(1_000) {
            match chunk {
                [row] => diesel::insert_into($table).values(row)$($(.$then($($arg)*))*)?.execute($conn).await?,
                rows => diesel::insert_into($table).values(rows)$($(.$then($($arg)*))*)?.execute($conn).await?,
            };
        }
    };
    (single, $conn:expr, $table:expr, $rows:expr $(, $(.$then:ident($($arg:tt)*))*)?) => {
        match &$rows[..] {
            [] => {}
            [row] => {
                diesel::insert_into($table).values(row)$($(.$then($($arg)*))*)?.execute($conn).await?;
            }
            rows => {
                let rows = rows.to_vec();
                $conn
                    .spawn_blocking(move |conn| {
                        for chunk in rows.chunks(500) {
                            diesel::RunQueryDsl::execute(
                                diesel::insert_into($table).values(chunk)$($(.$then($($arg)*))*)?,
                                conn,
                            )?;
                        }
                        Ok(())
                    })
                    .await?;
            }
        }
    };
}

pub(crate) use insert_rows;

/// Adds the inserts of `$rows` to a [`crate::batch`] batch, as
/// [`insert_rows!`] writes them: on Postgres up to 1,000 rows a statement,
/// pipelined with the rest of the batch; on SQLite a lone row as a
/// statement of the batch, several through the synchronous batch insert.
macro_rules! batch_rows {
    (multi, $batch:ident, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(1_000) {
            match chunk {
                [row] => $batch.add(diesel::insert_into($table).values(row)).await?,
                rows => $batch.add(diesel::insert_into($table).values(rows)).await?,
            }
        }
    };
    (single, $batch:ident, $table:expr, $rows:expr) => {
        $crate::conn::insert_rows!(single, $batch.conn(), $table, $rows)
    };
}

pub(crate) use batch_rows;

/// The upsert of planned reminders, for `values` (one row or a slice): a new
/// reminder is inserted; one the student cancelled and booked again is
/// planned anew (its key is taken); any other already planned is left alone
/// (redelivery).
macro_rules! reminder_upsert {
    ($values:expr) => {{
        use $crate::schema::reminders;
        // `filter` of an upsert: its `DO UPDATE ... WHERE`.
        use diesel::query_dsl::methods::FilterDsl as _;
        use diesel::upsert::excluded;
        diesel::insert_into(reminders::table)
            .values($values)
            .on_conflict((
                reminders::slot_id,
                reminders::recipient_id,
                reminders::channel,
                reminders::lead_minutes,
            ))
            .do_update()
            .set((
                reminders::booking_id.eq(excluded(reminders::booking_id)),
                reminders::due_at.eq(excluded(reminders::due_at)),
                reminders::available_at.eq(excluded(reminders::available_at)),
                reminders::status.eq(excluded(reminders::status)),
                reminders::attempts.eq(excluded(reminders::attempts)),
                reminders::last_error.eq(excluded(reminders::last_error)),
            ))
            .filter(reminders::status.eq("cancelled"))
    }};
}

/// Writes planned reminder rows ([`reminder_upsert!`]), many rows a
/// statement (`multi`, `single` as in [`insert_rows!`]).
///
/// diesel has no multi-row upsert with a `WHERE` for SQLite, so there each
/// chunk is inserted in one statement that skips taken keys. A taken key
/// needs more only when its reminder was cancelled (the student booked
/// again): those few rows, found in one read, are then upserted one by one.
/// The others (a group slot's teacher, planned by the first booking; a
/// redelivery) are left alone, as the upsert would leave them.
macro_rules! upsert_reminders {
    (multi, $conn:expr, $rows:expr) => {
        for chunk in $rows.chunks(1_000) {
            // A lone row's prepared statement is kept (see `insert_rows!`).
            match chunk {
                [row] => $crate::conn::reminder_upsert!(row).execute($conn).await?,
                rows => $crate::conn::reminder_upsert!(rows).execute($conn).await?,
            };
        }
    };
    (single, $conn:expr, $rows:expr) => {
        let rows: Vec<$crate::rows::ReminderRow> = $rows;
        $conn
            .spawn_blocking(move |conn| {
                use $crate::schema::reminders;
                for chunk in rows.chunks(500) {
                    if let [row] = chunk {
                        diesel::RunQueryDsl::execute($crate::conn::reminder_upsert!(row), conn)?;
                        continue;
                    }
                    let inserted = diesel::RunQueryDsl::execute(
                        diesel::insert_into(reminders::table)
                            .values(chunk)
                            // The key only: any other conflict (an id) is
                            // an error, as in the Postgres upsert.
                            .on_conflict((
                                reminders::slot_id,
                                reminders::recipient_id,
                                reminders::channel,
                                reminders::lead_minutes,
                            ))
                            .do_nothing(),
                        conn,
                    )?;
                    if inserted == chunk.len() {
                        continue;
                    }
                    let slots: std::collections::HashSet<DbId> = chunk.iter().map(|r| r.slot_id).collect();
                    let cancelled: std::collections::HashSet<(DbId, DbId, String, i32)> = diesel::RunQueryDsl::load(
                        reminders::table
                            .filter(reminders::status.eq("cancelled"))
                            .filter(reminders::slot_id.eq_any(slots))
                            .select((
                                reminders::slot_id,
                                reminders::recipient_id,
                                reminders::channel,
                                reminders::lead_minutes,
                            )),
                        conn,
                    )?
                    .into_iter()
                    .collect();
                    for row in chunk
                        .iter()
                        .filter(|r| cancelled.contains(&(r.slot_id, r.recipient_id, r.channel.clone(), r.lead_minutes)))
                    {
                        diesel::RunQueryDsl::execute($crate::conn::reminder_upsert!(row), conn)?;
                    }
                }
                Ok(())
            })
            .await?;
    };
}

pub(crate) use {reminder_upsert, upsert_reminders};

/// Implements [`Queries`] for one connection type; `$rows` is `multi` or
/// `single` (see `insert_rows!`).
macro_rules! impl_queries {
    ($conn:ty, $rows:ident) => {
        impl $crate::conn::Queries for $conn {
            async fn load_slot(&mut self, id: SlotId) -> Result<Option<Slot>, TxError> {
                use $crate::schema::{bookings, slots};
                // One statement, so the slot row and its bookings come from one
                // snapshot even when no lock is held (see `slots_with_bookings`).
                let rows: Vec<(SlotRow, Option<BookingRow>)> = slots::table
                    .left_join(bookings::table)
                    .filter(slots::id.eq(DbId::from(id)))
                    .order((bookings::created_at.asc(), bookings::id.asc()))
                    .select((SlotRow::as_select(), Option::<BookingRow>::as_select()))
                    .load(self)
                    .await?;
                Ok($crate::conn::slots_with_bookings(rows)?.pop())
            }

            async fn load_slots(&mut self, ids: &[SlotId]) -> Result<Vec<Slot>, TxError> {
                // One slot (most commands) by equality: Postgres keeps a
                // generic plan for a prepared statement, and the one for
                // `= ANY($1)` guesses ten slots; planned while `bookings`
                // was small, it scanned the whole table on every booking
                // (docs/performance.md). One id always plans as an index
                // lookup.
                match ids {
                    [] => return Ok(Vec::new()),
                    [id] => return Ok(self.load_slot(*id).await?.into_iter().collect()),
                    _ => {}
                }
                use $crate::schema::{bookings, slots};
                let ids: Vec<DbId> = ids.iter().copied().map(DbId::from).collect();
                let rows: Vec<(SlotRow, Option<BookingRow>)> = slots::table
                    .left_join(bookings::table)
                    .filter(slots::id.eq_any(ids))
                    .order((
                        slots::starts_at.asc(),
                        slots::id.asc(),
                        bookings::created_at.asc(),
                        bookings::id.asc(),
                    ))
                    .select((SlotRow::as_select(), Option::<BookingRow>::as_select()))
                    .load(self)
                    .await?;
                Ok($crate::conn::slots_with_bookings(rows)?)
            }

            async fn load_slots_between(
                &mut self,
                teacher: Option<UserId>,
                from: OffsetDateTime,
                to: OffsetDateTime,
                statuses: &'static [&'static str],
                overlap: bool,
                limit: i64,
            ) -> Result<Vec<Slot>, TxError> {
                use $crate::schema::{bookings, slots};
                // The matching slots' ids (a subquery, for the limit) and their
                // rows with bookings in one statement: one snapshot, so a seat
                // count always agrees with the bookings read beside it.
                let mut matching = slots::table
                    .filter(slots::status.eq_any(statuses))
                    .order((slots::starts_at.asc(), slots::id.asc()))
                    .limit(limit)
                    .select(slots::id)
                    .into_boxed();
                if let Some(teacher) = teacher {
                    matching = matching.filter(slots::teacher_id.eq(DbId::from(teacher)));
                }
                matching = if overlap {
                    matching
                        .filter(slots::starts_at.lt(DbInstant(to)))
                        .filter(slots::ends_at.gt(DbInstant(from)))
                } else {
                    matching
                        .filter(slots::starts_at.ge(DbInstant(from)))
                        .filter(slots::starts_at.lt(DbInstant(to)))
                };
                let rows: Vec<(SlotRow, Option<BookingRow>)> = slots::table
                    .left_join(bookings::table)
                    .filter(slots::id.eq_any(matching))
                    .order((
                        slots::starts_at.asc(),
                        slots::id.asc(),
                        bookings::created_at.asc(),
                        bookings::id.asc(),
                    ))
                    .select((SlotRow::as_select(), Option::<BookingRow>::as_select()))
                    .load(self)
                    .await?;
                Ok($crate::conn::slots_with_bookings(rows)?)
            }

            async fn browse_starts(
                &mut self,
                browse: tutorbook_ports::Browse,
                limit: i64,
            ) -> Result<Vec<(OffsetDateTime, u32)>, TxError> {
                use $crate::schema::slots;
                // Counted by the database per start instant: lessons share
                // their starts, so this is a few hundred rows for thousands
                // of slots.
                let rows: Vec<(DbInstant, i64)> = $crate::conn::browsable!(browse)
                    .group_by(slots::starts_at)
                    .select((slots::starts_at, diesel::dsl::count_star()))
                    .order(slots::starts_at.asc())
                    .limit(limit)
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(DbInstant(at), n)| (at, u32::try_from(n).unwrap_or(u32::MAX)))
                    .collect())
            }

            async fn browse_page(
                &mut self,
                browse: tutorbook_ports::Browse,
                after: Option<(OffsetDateTime, SlotId)>,
                limit: i64,
            ) -> Result<Vec<Slot>, TxError> {
                use $crate::schema::{bookings, slots};
                // The page's ids by the browse index (keyset: after the
                // cursor's (start, id)), then those slots with their bookings
                // in one statement, one snapshot.
                // No cursor: just before the range, so every slot comes after.
                let (start, id) = after.map_or(
                    (
                        DbInstant(browse.from - time::Duration::MICROSECOND),
                        DbId(uuid::Uuid::nil()),
                    ),
                    |(start, id)| (DbInstant(start), DbId::from(id)),
                );
                let matching = $crate::conn::browsable!(browse)
                    .filter(
                        slots::starts_at
                            .gt(start)
                            .or(slots::starts_at.eq(start).and(slots::id.gt(id))),
                    )
                    .order((slots::starts_at.asc(), slots::id.asc()))
                    .limit(limit)
                    .select(slots::id)
                    // Boxed as a subquery of `slots` itself (diesel would see
                    // the table twice); its statement is kept by its text.
                    .into_boxed();
                let rows: Vec<(SlotRow, Option<BookingRow>)> = slots::table
                    .left_join(bookings::table)
                    .filter(slots::id.eq_any(matching))
                    .order((
                        slots::starts_at.asc(),
                        slots::id.asc(),
                        bookings::created_at.asc(),
                        bookings::id.asc(),
                    ))
                    .select((SlotRow::as_select(), Option::<BookingRow>::as_select()))
                    .load(self)
                    .await?;
                Ok($crate::conn::slots_with_bookings(rows)?)
            }

            async fn insert_slots(&mut self, slots: &[(&Slot, tutorbook_domain::Buffers)]) -> Result<(), TxError> {
                use $crate::schema::{bookings, slots};
                if slots.is_empty() {
                    return Ok(());
                }
                let rows: Vec<SlotRow> = slots
                    .iter()
                    .map(|(slot, buffers)| SlotRow::new(slot, *buffers))
                    .collect();
                $crate::conn::insert_rows!($rows, &mut *self, slots::table, rows);
                let rows: Vec<BookingRow> = slots
                    .iter()
                    .flat_map(|(slot, _)| slot.bookings().iter().map(BookingRow::of))
                    .collect();
                if !rows.is_empty() {
                    $crate::conn::insert_rows!($rows, &mut *self, bookings::table, rows);
                }
                Ok(())
            }

            async fn save_slots_and_history(
                &mut self,
                slots: &[(&Slot, &Slot)],
                audit: &[AuditEntry],
                events: &[DomainEvent],
                at: OffsetDateTime,
            ) -> Result<(), TxError> {
                use $crate::schema::{booking_audit, bookings, outbox, slots};
                let audit: Vec<AuditRow> = audit.iter().map(AuditRow::of).collect();
                let (occurred_at, available_at) = ($crate::micros(at), $crate::micros(at));
                let messages = events
                    .iter()
                    .map(|event| {
                        OutboxRow::of(
                            &OutboxMessage {
                                id: Uuid::now_v7(),
                                event: event.clone(),
                                occurred_at,
                                attempts: 0,
                            },
                            available_at,
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let mut batch = $crate::batch::Batched::batch(self);
                for (before, after) in slots {
                    batch
                        .add($crate::cache::Cacheable(
                            diesel::update(slots::table.find(DbId::from(after.id()))).set(SlotChanges::of(after)),
                        ))
                        .await?;
                    // Seat-freeing changes go first so that the one-active-booking
                    // index and the seat check never see a transient excess.
                    let mut changed: Vec<&Booking> = after
                        .bookings()
                        .iter()
                        .filter(|b| before.booking(b.id()) != Some(*b))
                        .collect();
                    changed.sort_by_key(|b| b.status().is_active());
                    for booking in changed {
                        let row = BookingRow::of(booking);
                        if before.booking(booking.id()).is_some() {
                            batch
                                .add($crate::cache::Cacheable(
                                    diesel::update(bookings::table.find(row.id)).set((
                                        bookings::status.eq(row.status),
                                        bookings::updated_at.eq(row.updated_at),
                                        bookings::offer_expires_at.eq(row.offer_expires_at),
                                    )),
                                ))
                                .await?;
                        } else {
                            batch
                                .add(diesel::insert_into(bookings::table).values(row))
                                .await?;
                        }
                    }
                }
                // One statement per table: a command that books a series
                // writes a hundred rows or more.
                $crate::conn::batch_rows!($rows, batch, booking_audit::table, audit);
                $crate::conn::batch_rows!($rows, batch, outbox::table, messages);
                batch.finish().await
            }

            async fn load_credits(&mut self, ids: &[CreditId]) -> Result<Vec<MakeupCredit>, TxError> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                use $crate::schema::credits;
                let ids: Vec<DbId> = ids.iter().copied().map(DbId::from).collect();
                let rows: Vec<CreditRow> = credits::table
                    .filter(credits::id.eq_any(ids))
                    .order(credits::id.asc())
                    .select(CreditRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(CreditRow::into_credit)
                    .collect::<Result<_, _>>()?)
            }

            async fn load_policies(&mut self, teachers: &[UserId]) -> Result<Vec<(UserId, BookingPolicy)>, TxError> {
                if teachers.is_empty() {
                    return Ok(Vec::new());
                }
                use $crate::schema::teacher_policies;
                let ids: Vec<DbId> = teachers.iter().copied().map(DbId::from).collect();
                let rows: Vec<PolicyRow> = teacher_policies::table
                    .filter(teacher_policies::teacher_id.eq_any(ids))
                    .select(PolicyRow::as_select())
                    .load(self)
                    .await?;
                $crate::conn::teachers_policies(rows)
            }

            async fn load_credit(&mut self, id: CreditId) -> Result<Option<MakeupCredit>, TxError> {
                use $crate::schema::credits;
                let row: Option<CreditRow> = credits::table
                    .find(DbId::from(id))
                    .select(CreditRow::as_select())
                    .first(self)
                    .await
                    .optional()?;
                Ok(row.map(CreditRow::into_credit).transpose()?)
            }

            async fn save_credit(&mut self, credit: &MakeupCredit) -> Result<(), TxError> {
                use $crate::schema::credits;
                let row = CreditRow::of(credit);
                diesel::insert_into(credits::table)
                    .values(row.clone())
                    .on_conflict(credits::id)
                    .do_update()
                    .set(row)
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn load_policy(&mut self, teacher: UserId) -> Result<BookingPolicy, TxError> {
                use $crate::schema::teacher_policies;
                let row: Option<PolicyRow> = teacher_policies::table
                    .find(DbId::from(teacher))
                    .select(PolicyRow::as_select())
                    .first(self)
                    .await
                    .optional()?;
                Ok(row.map(PolicyRow::into_policy).transpose()?.unwrap_or_default())
            }

            async fn store_policy(&mut self, teacher: UserId, policy: &BookingPolicy) -> Result<(), TxError> {
                use $crate::schema::teacher_policies;
                let row = PolicyRow::of(teacher.into(), policy);
                diesel::insert_into(teacher_policies::table)
                    .values(row.clone())
                    .on_conflict(teacher_policies::teacher_id)
                    .do_update()
                    .set(row)
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn slot_id_of_booking(&mut self, booking: BookingId) -> Result<Option<SlotId>, TxError> {
                use $crate::schema::bookings;
                let slot: Option<DbId> = bookings::table
                    .find(DbId::from(booking))
                    .select(bookings::slot_id)
                    .first(self)
                    .await
                    .optional()?;
                Ok(slot.map(|s| s.0.into()))
            }

            async fn bookings_of_student(
                &mut self,
                student: UserId,
                from: OffsetDateTime,
                to: OffsetDateTime,
            ) -> Result<Vec<(Booking, Slot)>, TxError> {
                use $crate::schema::{bookings, slots};
                let slot_ids: Vec<DbId> = bookings::table
                    .inner_join(slots::table)
                    .filter(bookings::student_id.eq(DbId::from(student)))
                    .filter(slots::starts_at.ge(DbInstant(from)))
                    .filter(slots::starts_at.lt(DbInstant(to)))
                    .select(slots::id)
                    .distinct()
                    .load(self)
                    .await?;
                let slot_ids: Vec<SlotId> = slot_ids.into_iter().map(|id| id.0.into()).collect();
                let mut found = Vec::new();
                for slot in self.load_slots(&slot_ids).await? {
                    for booking in slot.bookings().iter().filter(|b| b.student() == student) {
                        found.push((booking.clone(), slot.clone()));
                    }
                }
                found.sort_by_key(|(b, s)| (s.window().start(), b.created_at(), b.id()));
                Ok(found)
            }

            async fn overdue_slot_ids(
                &mut self,
                overdue: tutorbook_ports::Overdue,
                limit: i64,
            ) -> Result<Vec<SlotId>, TxError> {
                use tutorbook_domain::BookingStatus;
                use tutorbook_ports::Overdue;
                use $crate::schema::{bookings, slots};
                let found: Vec<(DbInstant, DbId)> = match overdue {
                    Overdue::Requests(by) => {
                        bookings::table
                            .inner_join(slots::table)
                            .filter(bookings::status.eq_any([
                                BookingStatus::Requested.as_str(),
                                BookingStatus::Waitlisted.as_str(),
                            ]))
                            .filter(slots::starts_at.le(DbInstant(by)))
                            .select((slots::starts_at, slots::id))
                            .distinct()
                            .order((slots::starts_at.asc(), slots::id.asc()))
                            .limit(limit)
                            .load(self)
                            .await?
                    }
                    Overdue::Offers(by) => {
                        bookings::table
                            .inner_join(slots::table)
                            .filter(bookings::offer_expires_at.le(DbInstant(by)))
                            .select((bookings::offer_expires_at.assume_not_null(), slots::id))
                            .order((bookings::offer_expires_at.asc(), slots::id.asc()))
                            .limit(limit)
                            .load(self)
                            .await?
                    }
                    Overdue::Lessons(by) => {
                        bookings::table
                            .inner_join(slots::table)
                            .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
                            .filter(slots::ends_at.le(DbInstant(by)))
                            .select((slots::ends_at, slots::id))
                            .distinct()
                            .order((slots::ends_at.asc(), slots::id.asc()))
                            .limit(limit)
                            .load(self)
                            .await?
                    }
                };
                // A slot with several due offers comes once, at its earliest.
                let mut seen = std::collections::HashSet::new();
                Ok(found
                    .into_iter()
                    .filter(|(_, id)| seen.insert(*id))
                    .map(|(_, id)| id.0.into())
                    .collect())
            }

            async fn credits_of_student(&mut self, student: UserId) -> Result<Vec<MakeupCredit>, TxError> {
                use $crate::schema::credits;
                let rows: Vec<CreditRow> = credits::table
                    .filter(credits::student_id.eq(DbId::from(student)))
                    .order((credits::issued_at.desc(), credits::id.desc()))
                    .select(CreditRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(CreditRow::into_credit)
                    .collect::<Result<_, _>>()?)
            }

            async fn booking_history(&mut self, booking: BookingId) -> Result<Vec<AuditEntry>, TxError> {
                use $crate::schema::booking_audit;
                let rows: Vec<AuditRow> = booking_audit::table
                    .filter(booking_audit::booking_id.eq(DbId::from(booking)))
                    .order(booking_audit::id.asc())
                    .select(AuditRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(AuditRow::into_entry)
                    .collect::<Result<_, _>>()?)
            }

            async fn insert_review(&mut self, review: &Review) -> Result<(), TxError> {
                use $crate::schema::reviews;
                diesel::insert_into(reviews::table)
                    .values(ReviewRow::of(review))
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn trial_used(&mut self, teacher: UserId, student: UserId) -> Result<bool, TxError> {
                use $crate::schema::{bookings, slots};
                let found: Option<DbId> = bookings::table
                    .inner_join(slots::table)
                    .filter(slots::teacher_id.eq(DbId::from(teacher)))
                    .filter(bookings::student_id.eq(DbId::from(student)))
                    .filter(bookings::trial.eq(true))
                    .filter(
                        bookings::status.ne_all(tutorbook_domain::BookingStatus::FREEING_A_TRIAL.map(|s| s.as_str())),
                    )
                    .select(bookings::id)
                    .first(self)
                    .await
                    .optional()?;
                Ok(found.is_some())
            }

            async fn review_of_booking(&mut self, booking: BookingId) -> Result<Option<Review>, TxError> {
                use $crate::schema::reviews;
                let row: Option<ReviewRow> = reviews::table
                    .filter(reviews::booking_id.eq(DbId::from(booking)))
                    .select(ReviewRow::as_select())
                    .first(self)
                    .await
                    .optional()?;
                Ok(row.map(ReviewRow::into_review).transpose()?)
            }

            async fn reviews_of_teacher(&mut self, teacher: UserId, limit: i64) -> Result<Vec<Review>, TxError> {
                use $crate::schema::reviews;
                let rows: Vec<ReviewRow> = reviews::table
                    .filter(reviews::teacher_id.eq(DbId::from(teacher)))
                    .order((reviews::created_at.desc(), reviews::id.desc()))
                    .limit(limit)
                    .select(ReviewRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(ReviewRow::into_review)
                    .collect::<Result<_, _>>()?)
            }

            async fn rating_of_teacher(&mut self, teacher: UserId) -> Result<TeacherRating, TxError> {
                use $crate::schema::reviews;
                let ratings: Vec<i16> = reviews::table
                    .filter(reviews::teacher_id.eq(DbId::from(teacher)))
                    .select(reviews::rating)
                    .load(self)
                    .await?;
                let sum = ratings.iter().map(|r| u64::try_from(*r).unwrap_or(0)).sum();
                let count = u32::try_from(ratings.len()).unwrap_or(u32::MAX);
                Ok(TeacherRating::from_totals(sum, count))
            }

            async fn report_of_booking(&mut self, booking: BookingId) -> Result<Option<LessonReport>, TxError> {
                use $crate::schema::lesson_reports;
                let row: Option<ReportRow> = lesson_reports::table
                    .filter(lesson_reports::booking_id.eq(DbId::from(booking)))
                    .select(ReportRow::as_select())
                    .first(self)
                    .await
                    .optional()?;
                Ok(row.map(ReportRow::into_report).transpose()?)
            }

            async fn upsert_report(&mut self, report: &LessonReport) -> Result<(), TxError> {
                use $crate::schema::lesson_reports;
                let row = ReportRow::of(report);
                diesel::insert_into(lesson_reports::table)
                    .values(row.clone())
                    .on_conflict(lesson_reports::booking_id)
                    .do_update()
                    .set(row)
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn reports_of_student(&mut self, student: UserId) -> Result<Vec<LessonReport>, TxError> {
                use $crate::schema::lesson_reports;
                let rows: Vec<ReportRow> = lesson_reports::table
                    .filter(lesson_reports::student_id.eq(DbId::from(student)))
                    .order((lesson_reports::created_at.asc(), lesson_reports::id.asc()))
                    .select(ReportRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(ReportRow::into_report)
                    .collect::<Result<_, _>>()?)
            }

            async fn outbox_pending(&mut self, limit: i64) -> Result<Vec<OutboxMessage>, TxError> {
                use $crate::schema::outbox;
                let rows: Vec<OutboxRow> = outbox::table
                    .filter(outbox::delivered_at.is_null())
                    .filter(outbox::failed_at.is_null())
                    .order(outbox::id.asc())
                    .limit(limit)
                    .select(OutboxRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(OutboxRow::into_message)
                    .collect::<Result<_, _>>()?)
            }

            async fn outbox_delivered(&mut self, ids: &[Uuid], at: OffsetDateTime) -> Result<(), TxError> {
                use $crate::schema::outbox;
                let ids: Vec<DbId> = ids.iter().copied().map(DbId).collect();
                $crate::cache::Cacheable(
                    // A message delivered twice keeps its first time.
                    diesel::update(
                        outbox::table
                            .filter(outbox::id.eq_any(ids))
                            .filter(outbox::delivered_at.is_null()),
                    )
                    .set(outbox::delivered_at.eq(Some(DbInstant(at)))),
                )
                .execute(self)
                .await?;
                Ok(())
            }

            async fn outbox_delivered_before(
                &mut self,
                cutoff: OffsetDateTime,
                limit: i64,
            ) -> Result<Vec<DbId>, TxError> {
                use $crate::schema::outbox;
                // Oldest first along the primary key (ids grow with time),
                // where delivered messages are: there is no index on
                // delivered_at, which would cost every delivery a write.
                Ok(outbox::table
                    .filter(outbox::delivered_at.lt(DbInstant(cutoff)))
                    .filter(outbox::failed_at.is_null())
                    .order(outbox::id.asc())
                    .limit(limit)
                    .select(outbox::id)
                    .load(self)
                    .await?)
            }

            async fn outbox_delete_delivered(
                &mut self,
                ids: &[DbId],
                cutoff: OffsetDateTime,
            ) -> Result<usize, TxError> {
                use $crate::schema::outbox;
                // The condition again: the ids were read outside this
                // transaction.
                Ok(diesel::delete(
                    outbox::table
                        .filter(outbox::id.eq_any(ids))
                        .filter(outbox::delivered_at.lt(DbInstant(cutoff)))
                        .filter(outbox::failed_at.is_null()),
                )
                .execute(self)
                .await?)
            }

            async fn outbox_claim(
                &mut self,
                limit: i64,
                now: OffsetDateTime,
                until: OffsetDateTime,
            ) -> Result<Vec<OutboxMessage>, TxError> {
                use $crate::schema::outbox;
                let ids = self.lock_due_outbox(limit, now).await?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                // The lease and the rows in one statement: reading them
                // again after the update was a third statement per pass.
                let mut rows: Vec<OutboxRow> = $crate::cache::Cacheable(
                    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
                        .set((
                            outbox::available_at.eq(DbInstant(until)),
                            outbox::attempts.eq(outbox::attempts + 1),
                        ))
                        .returning(OutboxRow::as_returning()),
                )
                .get_results(self)
                .await?;
                rows.sort_unstable_by_key(|row| row.id.0);
                Ok(rows
                    .into_iter()
                    .map(OutboxRow::into_message)
                    .collect::<Result<_, _>>()?)
            }

            async fn outbox_retry(&mut self, id: Uuid, error: &str, at: OffsetDateTime) -> Result<(), TxError> {
                use $crate::schema::outbox;
                diesel::update(
                    outbox::table
                        .find(DbId(id))
                        .filter(outbox::delivered_at.is_null())
                        .filter(outbox::failed_at.is_null()),
                )
                .set((
                    outbox::available_at.eq(DbInstant(at)),
                    outbox::last_error.eq(Some(error)),
                ))
                .execute(self)
                .await?;
                Ok(())
            }

            async fn outbox_fail(&mut self, id: Uuid, error: &str, at: OffsetDateTime) -> Result<(), TxError> {
                use $crate::schema::outbox;
                diesel::update(
                    outbox::table
                        .find(DbId(id))
                        .filter(outbox::delivered_at.is_null())
                        .filter(outbox::failed_at.is_null()),
                )
                .set((
                    outbox::failed_at.eq(Some(DbInstant(at))),
                    outbox::last_error.eq(Some(error)),
                ))
                .execute(self)
                .await?;
                Ok(())
            }

            async fn outbox_failed(&mut self, limit: i64) -> Result<Vec<(OutboxMessage, String)>, TxError> {
                use $crate::schema::outbox;
                let rows: Vec<OutboxRow> = outbox::table
                    .filter(outbox::failed_at.is_not_null())
                    .order(outbox::id.asc())
                    .limit(limit)
                    .select(OutboxRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|row| {
                        let error = row.last_error.clone().unwrap_or_default();
                        row.into_message().map(|m| (m, error))
                    })
                    .collect::<Result<_, _>>()?)
            }

            async fn save_calendar(
                &mut self,
                slot: SlotId,
                state: &tutorbook_ports::effects::CalendarState,
            ) -> Result<usize, TxError> {
                use $crate::schema::slots;
                Ok(diesel::update(slots::table.find(DbId::from(slot)))
                    .set((
                        slots::calendar_event_id.eq(state.event_id.clone()),
                        slots::meeting_url.eq(state.meeting_url.clone()),
                        slots::calendar_status.eq($crate::rows::calendar_text(state.status)),
                    ))
                    .execute(self)
                    .await?)
            }

            async fn reminders_schedule(
                &mut self,
                reminders: &[tutorbook_ports::effects::NewReminder],
            ) -> Result<(), TxError> {
                let rows: Vec<$crate::rows::ReminderRow> =
                    reminders.iter().map($crate::rows::ReminderRow::of).collect();
                $crate::conn::upsert_reminders!($rows, &mut *self, rows);
                Ok(())
            }

            async fn reminders_due_seats(
                &mut self,
                after: OffsetDateTime,
                until: OffsetDateTime,
            ) -> Result<Vec<tutorbook_ports::effects::DueSeat>, TxError> {
                use $crate::schema::{bookings, slots};
                // `slots_open_start` finds the lessons; `bookings_slot` their students.
                let rows: Vec<(DbId, DbId, DbInstant, DbId, DbId)> = slots::table
                    .inner_join(bookings::table)
                    .filter(slots::status.eq("open"))
                    .filter(slots::starts_at.gt(DbInstant(after)))
                    .filter(slots::starts_at.le(DbInstant(until)))
                    .filter(bookings::status.eq("confirmed"))
                    .order((
                        slots::starts_at.asc(),
                        slots::id.asc(),
                        bookings::created_at.asc(),
                        bookings::id.asc(),
                    ))
                    .select((
                        slots::id,
                        slots::teacher_id,
                        slots::starts_at,
                        bookings::id,
                        bookings::student_id,
                    ))
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(
                        |(slot, teacher, start, booking, student)| tutorbook_ports::effects::DueSeat {
                            slot: slot.0.into(),
                            teacher: teacher.0.into(),
                            start: start.0,
                            booking: booking.0.into(),
                            student: student.0.into(),
                        },
                    )
                    .collect())
            }

            async fn reminders_planned(&mut self, through: OffsetDateTime) -> Result<(), TxError> {
                use $crate::schema::reminder_plan;
                diesel::insert_into(reminder_plan::table)
                    .values((
                        reminder_plan::id.eq(1i16),
                        reminder_plan::planned_through.eq(Some(DbInstant(through))),
                    ))
                    .on_conflict(reminder_plan::id)
                    .do_update()
                    .set(reminder_plan::planned_through.eq(Some(DbInstant(through))))
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn reminders_claim(
                &mut self,
                now: OffsetDateTime,
                limit: i64,
                until: OffsetDateTime,
            ) -> Result<Vec<tutorbook_ports::effects::Reminder>, TxError> {
                use $crate::schema::reminders;
                let ids = self.lock_due_reminders(limit, now).await?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                // The lease and the rows in one statement, as for the outbox.
                let mut rows: Vec<$crate::rows::ReminderRow> = $crate::cache::Cacheable(
                    diesel::update(reminders::table.filter(reminders::id.eq_any(ids)))
                        .set((
                            reminders::available_at.eq(DbInstant(until)),
                            reminders::attempts.eq(reminders::attempts + 1),
                        ))
                        .returning($crate::rows::ReminderRow::as_returning()),
                )
                .get_results(self)
                .await?;
                rows.sort_unstable_by_key(|row| (row.due_at, row.id.0));
                Ok(rows
                    .into_iter()
                    .map($crate::rows::ReminderRow::into_reminder)
                    .collect::<Result<_, _>>()?)
            }

            async fn reminders_retry(&mut self, id: Uuid, error: &str, at: OffsetDateTime) -> Result<(), TxError> {
                use $crate::schema::reminders;
                diesel::update(
                    reminders::table
                        .find(DbId(id))
                        .filter(reminders::status.eq("pending")),
                )
                .set((
                    reminders::available_at.eq(DbInstant(at)),
                    reminders::last_error.eq(Some(error)),
                ))
                .execute(self)
                .await?;
                Ok(())
            }

            async fn reminders_finish(
                &mut self,
                id: Uuid,
                status: &'static str,
                error: Option<String>,
            ) -> Result<(), TxError> {
                use $crate::schema::reminders;
                let target = reminders::table
                    .find(DbId(id))
                    .filter(reminders::status.eq("pending"));
                match error {
                    Some(error) => {
                        diesel::update(target)
                            .set((
                                reminders::status.eq(status),
                                reminders::last_error.eq(Some(error)),
                            ))
                            .execute(self)
                            .await?
                    }
                    None => {
                        diesel::update(target)
                            .set(reminders::status.eq(status))
                            .execute(self)
                            .await?
                    }
                };
                Ok(())
            }

            async fn reminders_of_slot(
                &mut self,
                slot: SlotId,
            ) -> Result<Vec<tutorbook_ports::effects::Reminder>, TxError> {
                use $crate::schema::reminders;
                let rows: Vec<$crate::rows::ReminderRow> = reminders::table
                    .filter(reminders::slot_id.eq(DbId::from(slot)))
                    .order((
                        reminders::due_at.asc(),
                        reminders::recipient_id.asc(),
                        reminders::id.asc(),
                    ))
                    .select($crate::rows::ReminderRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map($crate::rows::ReminderRow::into_reminder)
                    .collect::<Result<_, _>>()?)
            }

            async fn broken_slots(&mut self) -> Result<Vec<String>, TxError> {
                let rows: Vec<$crate::conn::BrokenSlot> = diesel::sql_query($crate::conn::INVARIANT_QUERY)
                    .load(self)
                    .await?;
                Ok(rows.into_iter().map(|r| r.id).collect())
            }

            async fn ping(&mut self) -> Result<(), TxError> {
                diesel::sql_query("SELECT 1").execute(self).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use {browsable, impl_queries};
