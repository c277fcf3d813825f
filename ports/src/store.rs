//! Store ports: the read side of slots, credits, policies, reviews, reports
//! and the outbox. Commands do not appear here: every command runs as a unit
//! of work ([`crate::UnitOfWork`]), which locks and loads the aggregates,
//! hands them to a pure decision and saves what changed, with the audit and
//! outbox rows, in one transaction. No transaction or connection crosses a port.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    AuditEntry, Availability, Booking, BookingId, BookingPolicy, CreditId, DomainEvent, LessonReport, MakeupCredit,
    Review, Series, SeriesId, Slot, SlotId, SlotSeries, TeacherRating, UserId,
};
use uuid::Uuid;

use crate::Result;

/// Reads of slots, their bookings, make-up credits and booking history.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait BookingStore: Send + Sync {
    /// A slot with its bookings, whatever its status.
    async fn slot(&self, id: SlotId) -> Result<Option<Slot>>;

    /// The slots among `ids` that exist, with their bookings, each once, in
    /// no particular order: one read for a whole batch (the outbox worker
    /// reads a pass's slots at once).
    async fn slots(&self, ids: &[SlotId]) -> Result<Vec<Slot>>;

    /// The slot a booking is on (a booking never moves between slots).
    async fn slot_of_booking(&self, booking: BookingId) -> Result<Option<SlotId>>;

    /// A teacher's open and cancelled slots starting in `[from, to)`, by start.
    async fn teacher_slots(&self, teacher: UserId, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<Slot>>;

    /// Open slots starting in `[from, to)` across teachers, by start, at most `limit`.
    async fn open_slots(&self, from: OffsetDateTime, to: OffsetDateTime, limit: usize) -> Result<Vec<Slot>>;

    /// How many browsable slots ([`Browse`]) start at each instant, by
    /// start, for at most `limit` distinct starts: the supply browse counts
    /// per day, without reading the slots and their bookings.
    async fn browse_starts(&self, browse: Browse, limit: usize) -> Result<Vec<(OffsetDateTime, u32)>>;

    /// Browsable slots ([`Browse`]) after `after` in (start, id) order, at
    /// most `limit`, with their bookings: one page, whatever the supply.
    async fn browse_page(
        &self,
        browse: Browse,
        after: Option<(OffsetDateTime, SlotId)>,
        limit: usize,
    ) -> Result<Vec<Slot>>;

    /// A student's bookings (any status) on slots starting in `[from, to)`, by start.
    async fn student_bookings(
        &self,
        student: UserId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<(Booking, Slot)>>;

    /// One credit.
    async fn credit(&self, id: CreditId) -> Result<Option<MakeupCredit>>;

    /// A student's credits, newest first.
    async fn student_credits(&self, student: UserId) -> Result<Vec<MakeupCredit>>;

    /// The history of one booking, oldest first.
    async fn history(&self, booking: BookingId) -> Result<Vec<AuditEntry>>;

    /// Slots with work for the booking jobs (docs/product.md §5), the
    /// earliest first, at most `limit`.
    async fn overdue_slots(&self, overdue: Overdue, limit: usize) -> Result<Vec<SlotId>>;
}

/// What browse reads (docs/product.md §3): open slots starting in
/// `[from, to)` that are not package sessions, with a seat left or a
/// waitlist to join, except the slots of `exclude` (a teacher browsing does
/// not see their own). Stores answer it with an index, not a scan of every
/// slot with its bookings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Browse {
    /// Start of the range (inclusive).
    pub from: OffsetDateTime,
    /// End of the range (exclusive).
    pub to: OffsetDateTime,
    /// A teacher whose slots are left out.
    pub exclude: Option<UserId>,
}

impl Browse {
    /// Whether `slot` is what this browse reads: the domain's
    /// [`Slot::is_browsable`] for a start in `[from, to)`, not `exclude`'s
    /// (the stores' filter, for stores without a query language).
    pub fn matches(&self, slot: &Slot) -> bool {
        slot.is_browsable(self.from - Duration::NANOSECOND)
            && slot.window().start() < self.to
            && self.exclude != Some(slot.teacher())
    }
}

/// What the booking jobs look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overdue {
    /// Slots starting at or before the instant with a request or a place
    /// on the waitlist still waiting: nobody answered it, no seat came.
    Requests(OffsetDateTime),
    /// Slots with a seat offer whose deadline is at or before the instant.
    Offers(OffsetDateTime),
    /// Slots ending at or before the instant with a booking still confirmed:
    /// nobody marked the attendance.
    Lessons(OffsetDateTime),
}

/// Teachers' booking policies.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// The teacher's policy, or the default when they never set one.
    async fn policy(&self, teacher: UserId) -> Result<BookingPolicy>;
    /// Replaces the teacher's policy.
    async fn set_policy(&self, teacher: UserId, policy: BookingPolicy) -> Result<()>;
}

/// Teachers' weekly rules and date exceptions, read. They are written by
/// units of work ([`crate::Changes::availability`]).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AvailabilityStore: Send + Sync {
    /// A teacher's rules and exceptions (empty when none were set).
    async fn availability(&self, teacher: UserId) -> Result<Availability>;
}

/// Recurring series, read. A series is written once, by the unit of work
/// that books (or opens) it ([`crate::Changes::new_series`],
/// [`crate::Changes::new_slot_series`]), and never changes: its bookings
/// and slots change as any other.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SeriesStore: Send + Sync {
    /// A series with its members; `None` when there is none with this id.
    async fn series(&self, id: SeriesId) -> Result<Option<Series>>;

    /// A teacher's slot series with its slots; `None` when there is none with this id.
    async fn slot_series(&self, id: SeriesId) -> Result<Option<SlotSeries>>;
}

/// Reviews and ratings, read. Reviews are written by units of work
/// ([`crate::Changes::new_reviews`]).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// The latest `limit` reviews of a teacher, newest first.
    async fn teacher_reviews(&self, teacher: UserId, limit: usize) -> Result<Vec<Review>>;
    /// A teacher's average rating and count.
    async fn teacher_rating(&self, teacher: UserId) -> Result<TeacherRating>;
}

/// Lesson reports, read. Reports are written by units of work
/// ([`crate::Changes::reports`]).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// The report on a booking, if written.
    async fn report_of(&self, booking: BookingId) -> Result<Option<LessonReport>>;
    /// All reports about a student.
    async fn student_reports(&self, student: UserId) -> Result<Vec<LessonReport>>;
}

/// An event waiting in the transactional outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Its id (time-ordered).
    pub id: Uuid,
    /// The event.
    pub event: DomainEvent,
    /// When the change that caused it committed.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// How many times it was claimed, this claim included (0 for a message
    /// read with [`Outbox::pending`] that was never claimed). The worker's
    /// backoff and its give-up rule count these.
    #[serde(default)]
    pub attempts: u32,
}

/// The outbox sink: events written by the stores' transactions, read by the
/// delivery worker after commit.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Undelivered messages that were not given up on, oldest first, at most `limit`.
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>>;
    /// Marks messages delivered at `at` (the worker's clock, as for its
    /// claims). Unknown ids are ignored, and a message already delivered
    /// keeps its first time (delivery is idempotent).
    async fn mark_delivered(&self, ids: &[Uuid], at: OffsetDateTime) -> Result<()>;

    /// Deletes up to `limit` messages delivered before `cutoff`, oldest
    /// first, and answers how many went. Pending and given-up messages are
    /// never purged (nor one marked delivered by a late worker after it was
    /// given up on). Without it the outbox keeps a row for every event ever
    /// committed; the service calls it from its hourly housekeeping,
    /// `limit` at a time, so that no one transaction holds the table for
    /// long (docs/operations.md, "Retention").
    async fn purge_delivered_before(&self, cutoff: OffsetDateTime, limit: usize) -> Result<u64>;

    /// Claims up to `limit` undelivered messages that are due at `now`,
    /// oldest first, for `lease`: until `now + lease` (or until the message
    /// is marked delivered) no other claim returns them, so several workers
    /// can share the outbox. Concurrent claims never return the same message
    /// (Postgres: `FOR UPDATE SKIP LOCKED`). A claimer that dies simply lets
    /// its lease lapse and the message is claimed again. `now` comes from the
    /// same clock as the commands' (a message is due from its command's
    /// instant), so tests move time instead of waiting.
    async fn claim(&self, now: OffsetDateTime, limit: usize, lease: Duration) -> Result<Vec<OutboxMessage>>;

    /// Hands a claimed message back for another attempt no sooner than `at`,
    /// keeping `error` as its last error. Unknown or already delivered ids
    /// are ignored.
    async fn retry_later(&self, id: Uuid, error: &str, at: OffsetDateTime) -> Result<()>;

    /// Gives up on a message: it is never claimed or listed as pending again,
    /// and `error` stays on it for an operator. Unknown or delivered ids are ignored.
    async fn mark_failed(&self, id: Uuid, error: &str) -> Result<()>;

    /// Messages given up on, oldest first, at most `limit`, with their last error.
    async fn failed(&self, limit: usize) -> Result<Vec<(OutboxMessage, String)>>;
}
