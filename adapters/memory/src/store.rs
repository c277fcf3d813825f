//! The in-memory store: every store port over one mutex-guarded state.
//!
//! A command (a unit of work, `crate::unit`) takes the lock, runs the
//! decision on copies of the aggregates and saves the copies only when the
//! decision succeeded and the invariants a SQL store guards with constraints
//! still hold. That gives the same all-or-nothing, serialised semantics as the
//! SQL stores' row locks and transactions.

use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    AuditEntry, Availability, Booking, BookingId, BookingPolicy, BookingStatus, CreditId, DomainEvent, LessonReport,
    MakeupCredit, Meeting, Review, Series, SeriesId, Slot, SlotId, SlotSeries, SlotStatus, TeacherRating, UserId,
};
use tutorbook_ports::effects::{CalendarState, CalendarStore, DueSeat};
use tutorbook_ports::{
    AvailabilityStore, BookingStore, Browse, Error, Outbox, OutboxMessage, Overdue, PolicyStore, ReportStore, Result,
    ReviewStore, SeriesStore,
};
use uuid::Uuid;

/// A thread-safe in-memory implementation of every store port. Clones share
/// the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    /// The reminder table (`reminders.rs`). A plan reads `state` while it
    /// holds the table; nothing locks them the other way round.
    pub(crate) reminders: Arc<Mutex<crate::reminders::Reminders>>,
    /// Users, consents and idempotency keys (`crate::users`): apart from the
    /// booking state because no command touches both.
    pub(crate) accounts: Arc<Mutex<crate::users::Accounts>>,
    /// Units of work committed (`crate::unit`).
    pub(crate) commits: Arc<std::sync::atomic::AtomicU64>,
}

/// An outbox row: the message, when it may next be claimed, whether it was
/// delivered, and the error it was given up with (or last retried after).
#[derive(Debug)]
struct OutboxEntry {
    message: OutboxMessage,
    available_at: OffsetDateTime,
    /// When it was first marked delivered.
    delivered: Option<OffsetDateTime>,
    failed: bool,
    last_error: Option<String>,
}

impl OutboxEntry {
    /// Still to be delivered: neither delivered nor given up on.
    fn is_open(&self) -> bool {
        self.delivered.is_none() && !self.failed
    }
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) slots: HashMap<SlotId, Slot>,
    pub(crate) booking_slots: HashMap<BookingId, SlotId>,
    pub(crate) credits: HashMap<CreditId, MakeupCredit>,
    audit: HashMap<BookingId, Vec<AuditEntry>>,
    outbox: Vec<OutboxEntry>,
    pub(crate) policies: HashMap<UserId, BookingPolicy>,
    pub(crate) reviews: Vec<Review>,
    pub(crate) reports: HashMap<BookingId, LessonReport>,
    pub(crate) availability: HashMap<UserId, Availability>,
    pub(crate) packages: crate::packages::PackageState,
    pub(crate) series: HashMap<SeriesId, Series>,
    pub(crate) slot_series: HashMap<SeriesId, SlotSeries>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic inside a decision never leaves a half-applied change (decisions
        // run on copies), so a poisoned lock still guards consistent data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Checks every stored slot's invariants: the equivalent of the SQL stores'
    /// invariant query (`booked_count` equals confirmed bookings and fits the
    /// capacity, one active booking per student and slot). Used after scenarios.
    pub fn verify_invariants(&self) -> Result<()> {
        let state = self.lock();
        for slot in state.slots.values() {
            slot.check_invariants()?;
        }
        Ok(())
    }
}

impl State {
    /// Records what a committed change caused: audit entries and outbox rows
    /// stamped with the command's instant.
    pub(crate) fn record(&mut self, audit: &[AuditEntry], events: &[DomainEvent], occurred_at: OffsetDateTime) {
        for entry in audit {
            self.audit.entry(entry.booking).or_default().push(entry.clone());
        }
        for event in events {
            let message = OutboxMessage {
                id: Uuid::now_v7(),
                event: event.clone(),
                occurred_at,
                attempts: 0,
            };
            self.outbox.push(OutboxEntry {
                message,
                available_at: occurred_at,
                delivered: None,
                failed: false,
                last_error: None,
            });
        }
    }

    /// A student's credits, in no particular order.
    pub(crate) fn credits_of(&self, student: UserId) -> Vec<MakeupCredit> {
        self.credits
            .values()
            .filter(|c| c.student() == student)
            .cloned()
            .collect()
    }

    /// Removes a slot that never had bookings (a package's regenerated or deleted sessions).
    pub(crate) fn remove_slot(&mut self, id: SlotId) {
        self.slots.remove(&id);
    }

    pub(crate) fn slot(&self, id: SlotId) -> Result<&Slot> {
        self.slots.get(&id).ok_or_else(|| Error::not_found("slot"))
    }
}

impl MemoryStore {
    /// The confirmed students of the open lessons starting after `after`
    /// and by `until`, by start and slot, each slot's by booking time
    /// (as the SQL stores read them).
    pub(crate) fn due_seats(&self, after: OffsetDateTime, until: OffsetDateTime) -> Vec<DueSeat> {
        let state = self.lock();
        let mut lessons: Vec<&Slot> = state
            .slots
            .values()
            .filter(|s| s.status() == SlotStatus::Open && after < s.window().start() && s.window().start() <= until)
            .collect();
        lessons.sort_by_key(|s| (s.window().start(), s.id()));
        lessons
            .into_iter()
            .flat_map(|slot| {
                let mut seats: Vec<&Booking> = slot
                    .bookings()
                    .iter()
                    .filter(|b| b.status() == BookingStatus::Confirmed)
                    .collect();
                seats.sort_by_key(|b| (b.created_at(), b.id()));
                seats.into_iter().map(|b| DueSeat {
                    slot: slot.id(),
                    teacher: slot.teacher(),
                    start: slot.window().start(),
                    booking: b.id(),
                    student: b.student(),
                })
            })
            .collect()
    }
}

fn starts_in(slot: &Slot, from: OffsetDateTime, to: OffsetDateTime) -> bool {
    let start = slot.window().start();
    from <= start && start < to
}

#[async_trait]
impl BookingStore for MemoryStore {
    async fn slot(&self, id: SlotId) -> Result<Option<Slot>> {
        Ok(self.lock().slots.get(&id).cloned())
    }

    async fn slots(&self, ids: &[SlotId]) -> Result<Vec<Slot>> {
        let state = self.lock();
        let ids: std::collections::BTreeSet<_> = ids.iter().collect();
        Ok(ids.into_iter().filter_map(|id| state.slots.get(id).cloned()).collect())
    }

    async fn slot_of_booking(&self, booking: BookingId) -> Result<Option<SlotId>> {
        Ok(self.lock().booking_slots.get(&booking).copied())
    }

    async fn teacher_slots(&self, teacher: UserId, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<Slot>> {
        let state = self.lock();
        let mut slots: Vec<Slot> = state
            .slots
            .values()
            .filter(|s| s.teacher() == teacher && s.status() != SlotStatus::Deleted && starts_in(s, from, to))
            .cloned()
            .collect();
        slots.sort_by_key(|s| (s.window().start(), s.id()));
        Ok(slots)
    }

    async fn overdue_slots(&self, overdue: Overdue, limit: usize) -> Result<Vec<SlotId>> {
        // Which bookings are due, and the instant of the slot they are due by.
        type Due = fn(&Booking) -> bool;
        type Edge = fn(&Slot) -> OffsetDateTime;
        let (due, by, edge): (Due, OffsetDateTime, Edge) = match overdue {
            Overdue::Requests(by) => (
                |b| matches!(b.status(), BookingStatus::Requested | BookingStatus::Waitlisted),
                by,
                |s| s.window().start(),
            ),
            Overdue::Lessons(by) => (|b| b.status() == BookingStatus::Confirmed, by, |s| s.window().end()),
            Overdue::Offers(by) => (
                |b| b.offer_expires_at().is_some(),
                by,
                |s| {
                    let deadlines = s.bookings().iter().filter_map(Booking::offer_expires_at);
                    deadlines.min().unwrap_or(OffsetDateTime::UNIX_EPOCH)
                },
            ),
        };
        let state = self.lock();
        let mut found: Vec<(OffsetDateTime, SlotId)> = state
            .slots
            .values()
            .filter(|s| edge(s) <= by && s.bookings().iter().any(due))
            .map(|s| (edge(s), s.id()))
            .collect();
        found.sort_by_key(|(at, id)| (*at, id.as_uuid()));
        found.truncate(limit);
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    async fn browse_starts(&self, browse: Browse, limit: usize) -> Result<Vec<(OffsetDateTime, u32)>> {
        let state = self.lock();
        let mut starts: BTreeMap<OffsetDateTime, u32> = BTreeMap::new();
        for slot in state.slots.values().filter(|s| browse.matches(s)) {
            *starts.entry(slot.window().start()).or_default() += 1;
        }
        Ok(starts.into_iter().take(limit).collect())
    }

    async fn browse_page(
        &self,
        browse: Browse,
        after: Option<(OffsetDateTime, SlotId)>,
        limit: usize,
    ) -> Result<Vec<Slot>> {
        let state = self.lock();
        let key = |s: &Slot| (s.window().start(), s.id().as_uuid());
        let after = after.map(|(start, id)| (start, id.as_uuid()));
        let mut page: Vec<Slot> = state
            .slots
            .values()
            .filter(|s| browse.matches(s) && after.is_none_or(|a| key(s) > a))
            .cloned()
            .collect();
        page.sort_by_key(key);
        page.truncate(limit);
        Ok(page)
    }

    async fn open_slots(&self, from: OffsetDateTime, to: OffsetDateTime, limit: usize) -> Result<Vec<Slot>> {
        let state = self.lock();
        let mut slots: Vec<Slot> = state
            .slots
            .values()
            .filter(|s| s.status() == SlotStatus::Open && starts_in(s, from, to))
            .cloned()
            .collect();
        slots.sort_by_key(|s| (s.window().start(), s.id()));
        slots.truncate(limit);
        Ok(slots)
    }

    async fn student_bookings(
        &self,
        student: UserId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<(Booking, Slot)>> {
        let state = self.lock();
        let mut found: Vec<(Booking, Slot)> = state
            .slots
            .values()
            .filter(|s| starts_in(s, from, to))
            .flat_map(|s| {
                s.bookings()
                    .iter()
                    .filter(|b| b.student() == student)
                    .map(move |b| (b.clone(), s.clone()))
            })
            .collect();
        found.sort_by_key(|(b, s)| (s.window().start(), b.created_at(), b.id()));
        Ok(found)
    }

    async fn credit(&self, id: CreditId) -> Result<Option<MakeupCredit>> {
        Ok(self.lock().credits.get(&id).cloned())
    }

    async fn student_credits(&self, student: UserId) -> Result<Vec<MakeupCredit>> {
        let state = self.lock();
        let mut credits: Vec<MakeupCredit> = state
            .credits
            .values()
            .filter(|c| c.student() == student)
            .cloned()
            .collect();
        credits.sort_by_key(|c| std::cmp::Reverse((c.issued_at(), c.id())));
        Ok(credits)
    }

    async fn history(&self, booking: BookingId) -> Result<Vec<AuditEntry>> {
        Ok(self.lock().audit.get(&booking).cloned().unwrap_or_default())
    }
}

#[async_trait]
impl PolicyStore for MemoryStore {
    async fn policy(&self, teacher: UserId) -> Result<BookingPolicy> {
        Ok(self.lock().policies.get(&teacher).copied().unwrap_or_default())
    }

    async fn set_policy(&self, teacher: UserId, policy: BookingPolicy) -> Result<()> {
        self.lock().policies.insert(teacher, policy);
        Ok(())
    }
}

#[async_trait]
impl ReviewStore for MemoryStore {
    async fn teacher_reviews(&self, teacher: UserId, limit: usize) -> Result<Vec<Review>> {
        let state = self.lock();
        let mut reviews: Vec<Review> = state.reviews.iter().filter(|r| r.teacher == teacher).cloned().collect();
        reviews.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
        reviews.truncate(limit);
        Ok(reviews)
    }

    async fn teacher_rating(&self, teacher: UserId) -> Result<TeacherRating> {
        let state = self.lock();
        Ok(TeacherRating::of(
            state.reviews.iter().filter(|r| r.teacher == teacher).map(|r| r.rating),
        ))
    }
}

#[async_trait]
impl AvailabilityStore for MemoryStore {
    async fn availability(&self, teacher: UserId) -> Result<Availability> {
        Ok(self.lock().availability.get(&teacher).cloned().unwrap_or_default())
    }
}

#[async_trait]
impl SeriesStore for MemoryStore {
    async fn series(&self, id: SeriesId) -> Result<Option<Series>> {
        Ok(self.lock().series.get(&id).cloned())
    }

    async fn slot_series(&self, id: SeriesId) -> Result<Option<SlotSeries>> {
        Ok(self.lock().slot_series.get(&id).cloned())
    }
}

#[async_trait]
impl ReportStore for MemoryStore {
    async fn report_of(&self, booking: BookingId) -> Result<Option<LessonReport>> {
        Ok(self.lock().reports.get(&booking).cloned())
    }

    async fn student_reports(&self, student: UserId) -> Result<Vec<LessonReport>> {
        let state = self.lock();
        Ok(state
            .reports
            .values()
            .filter(|r| r.student() == student)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl Outbox for MemoryStore {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>> {
        let state = self.lock();
        Ok(state
            .outbox
            .iter()
            .filter(|entry| entry.is_open())
            .take(limit)
            .map(|entry| entry.message.clone())
            .collect())
    }

    async fn mark_delivered(&self, ids: &[Uuid], at: OffsetDateTime) -> Result<()> {
        let mut state = self.lock();
        for entry in &mut state.outbox {
            if entry.delivered.is_none() && ids.contains(&entry.message.id) {
                entry.delivered = Some(at);
            }
        }
        Ok(())
    }

    async fn purge_delivered_before(&self, cutoff: OffsetDateTime, limit: usize) -> Result<u64> {
        let mut state = self.lock();
        let mut purged = 0;
        state.outbox.retain(|entry| {
            let old = purged < limit && !entry.failed && entry.delivered.is_some_and(|at| at < cutoff);
            purged += usize::from(old);
            !old
        });
        Ok(purged as u64)
    }

    async fn claim(&self, now: OffsetDateTime, limit: usize, lease: Duration) -> Result<Vec<OutboxMessage>> {
        let mut state = self.lock();
        Ok(state
            .outbox
            .iter_mut()
            .filter(|entry| entry.is_open() && entry.available_at <= now)
            .take(limit)
            .map(|entry| {
                entry.available_at = now + lease;
                entry.message.attempts += 1;
                entry.message.clone()
            })
            .collect())
    }

    async fn retry_later(&self, id: Uuid, error: &str, at: OffsetDateTime) -> Result<()> {
        let mut state = self.lock();
        if let Some(entry) = state.outbox.iter_mut().find(|e| e.message.id == id && e.is_open()) {
            entry.available_at = at;
            entry.last_error = Some(error.to_owned());
        }
        Ok(())
    }

    async fn mark_failed(&self, id: Uuid, error: &str) -> Result<()> {
        let mut state = self.lock();
        if let Some(entry) = state.outbox.iter_mut().find(|e| e.message.id == id && e.is_open()) {
            entry.failed = true;
            entry.last_error = Some(error.to_owned());
        }
        Ok(())
    }

    async fn failed(&self, limit: usize) -> Result<Vec<(OutboxMessage, String)>> {
        let state = self.lock();
        Ok(state
            .outbox
            .iter()
            .filter(|entry| entry.failed)
            .take(limit)
            .map(|entry| (entry.message.clone(), entry.last_error.clone().unwrap_or_default()))
            .collect())
    }
}

#[async_trait]
impl CalendarStore for MemoryStore {
    async fn save_calendar(&self, slot: SlotId, calendar: CalendarState) -> Result<()> {
        let mut state = self.lock();
        let current = state.slot(slot)?;
        let meeting = current.meeting();
        let meeting = Meeting::restore(
            meeting.provider(),
            calendar.meeting_url,
            meeting.passcode().map(str::to_owned),
            calendar.event_id,
            calendar.status,
        );
        let updated = Slot::restore(
            current.id(),
            current.teacher(),
            current.window(),
            current.zone(),
            current.capacity(),
            current.package_session(),
            meeting,
            current.status(),
            current.created_at(),
            current.bookings().to_vec(),
        )?;
        state.slots.insert(slot, updated);
        Ok(())
    }
}
