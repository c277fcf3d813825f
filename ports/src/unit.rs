//! The unit of work: one shape for every command.
//!
//! A command declares what it locks and loads (a [`LockSet`]) and hands the
//! loaded aggregates (a [`Unit`]) to a pure decision, a closure that calls the
//! domain. The store then saves what the decision changed ([`Unit::changes`]),
//! with the audit entries and one outbox row per event, in the same
//! transaction, or nothing when the decision refuses.
//!
//! A new command therefore adds a lock set and a decision, never a store
//! method. The store takes the locks in one global order, written down once
//! (see [`LockSet`]), so no two commands can deadlock.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    AuditEntry, Availability, BookingId, BookingPolicy, CoursePackage, CreditId, DomainError, DomainEvent,
    DomainResult, Enrollment, EnrollmentId, LessonReport, LessonWindow, MAX_BUFFER, MakeupCredit, Outcome, PackageId,
    Payment, PaymentId, PaymentTarget, Refund, Review, Series, Slot, SlotId, SlotSeries, UserId,
};

use crate::{Claim, Error, Result};

/// A teacher's schedule to lock and load: every open slot of `teacher`
/// overlapping `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleLock {
    /// Whose schedule.
    pub teacher: UserId,
    /// Start of the range searched for the teacher's open slots.
    pub from: OffsetDateTime,
    /// End of that range.
    pub to: OffsetDateTime,
}

/// What a command locks and loads before it decides.
///
/// **Lock order.** A store takes the locks of a set in this order, and within
/// each kind by ascending id, so that two commands always meet their common
/// locks in the same order and can never deadlock:
///
/// 1. teachers' schedules (`schedules`, and the teacher of each of
///    `package_schedules`);
/// 2. packages;
/// 3. payments (those named, and those of the named enrollments);
/// 4. make-up credits (those named, and every credit of `student_credits`);
/// 5. slots (those named, those of the named bookings, and every session
///    slot of the named packages).
///
/// Everything locked is loaded after the last lock is taken, so the decision
/// sees one consistent state. The booking policy of every teacher whose
/// schedule, slot or package is loaded comes with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockSet {
    /// Teachers' schedules: serialises slot creation per teacher.
    pub schedules: Vec<ScheduleLock>,
    /// The schedule of a package's teacher over a range (the teacher is read from the package).
    pub package_schedules: Vec<(PackageId, OffsetDateTime, OffsetDateTime)>,
    /// Packages, with their session slots and who ever enrolled.
    pub packages: Vec<PackageId>,
    /// Enrollments, with their payment (locked) and their refund, if any.
    pub enrollments: Vec<EnrollmentId>,
    /// Payments.
    pub payments: Vec<PaymentId>,
    /// Every make-up credit of these students.
    pub student_credits: Vec<UserId>,
    /// Make-up credits.
    pub credits: Vec<CreditId>,
    /// Slots with their bookings.
    pub slots: Vec<SlotId>,
    /// The slots of these bookings.
    pub bookings: Vec<BookingId>,
    /// The payments made for these bookings (read under their slot's lock).
    pub booking_payments: Vec<BookingId>,
    /// The review and the lesson report of these bookings (read under their
    /// slot's lock, which serialises everyone who writes them).
    pub feedback: Vec<BookingId>,
    /// These teachers' weekly rules and date exceptions, read under the
    /// teacher's lock (the same lock as their schedule).
    pub availability: Vec<UserId>,
    /// Whether each (teacher, student) pair already used the student's
    /// trial lesson, read under the teacher's lock.
    pub trials: Vec<(UserId, UserId)>,
    /// A package a teacher created with this creation key, if any.
    pub package_key: Option<(UserId, String)>,
    /// The `Idempotency-Key` the command runs under. Taken before any other
    /// lock: when the key already holds an answer, the store returns it
    /// without deciding again; otherwise the answer is stored with the key in
    /// the command's transaction.
    pub claim: Option<Claim>,
}

impl LockSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Locks `teacher`'s schedule and loads their open slots that could
    /// collide with `window` under any policy (see [`widest_search_range`]).
    pub fn schedule_around(mut self, teacher: UserId, window: &LessonWindow) -> Self {
        let (from, to) = widest_search_range(window.start(), window.end());
        self.schedules.push(ScheduleLock { teacher, from, to });
        self
    }

    /// Locks `teacher`'s schedule and loads their open slots overlapping `[from, to)`.
    pub fn schedule(mut self, teacher: UserId, from: OffsetDateTime, to: OffsetDateTime) -> Self {
        self.schedules.push(ScheduleLock { teacher, from, to });
        self
    }

    /// Locks the schedule of `package`'s teacher, loading their open slots overlapping `[from, to)`.
    pub fn package_schedule(mut self, package: PackageId, from: OffsetDateTime, to: OffsetDateTime) -> Self {
        self.package_schedules.push((package, from, to));
        self
    }

    /// Locks a package and its session slots.
    pub fn package(mut self, id: PackageId) -> Self {
        self.packages.push(id);
        self
    }

    /// Locks an enrollment's payment and loads the enrollment.
    pub fn enrollment(mut self, id: EnrollmentId) -> Self {
        self.enrollments.push(id);
        self
    }

    /// Locks a payment.
    pub fn payment(mut self, id: PaymentId) -> Self {
        self.payments.push(id);
        self
    }

    /// Locks every credit of a student.
    pub fn credits_of(mut self, student: UserId) -> Self {
        self.student_credits.push(student);
        self
    }

    /// Locks a credit.
    pub fn credit(mut self, id: CreditId) -> Self {
        self.credits.push(id);
        self
    }

    /// Locks a slot.
    pub fn slot(mut self, id: SlotId) -> Self {
        self.slots.push(id);
        self
    }

    /// Locks the slot a booking is on.
    pub fn booking(mut self, id: BookingId) -> Self {
        self.bookings.push(id);
        self
    }

    /// Loads the payments of a booking (lock the booking too, so two checkouts serialise).
    pub fn payments_of_booking(mut self, id: BookingId) -> Self {
        self.booking_payments.push(id);
        self
    }

    /// Locks the slot a booking is on and loads the booking's review and
    /// lesson report: writers of either serialise on the slot.
    pub fn feedback_of(mut self, id: BookingId) -> Self {
        self.bookings.push(id);
        self.feedback.push(id);
        self
    }

    /// Locks `teacher` and loads their weekly rules and date exceptions.
    pub fn availability_of(mut self, teacher: UserId) -> Self {
        self.availability.push(teacher);
        self
    }

    /// Locks `teacher` and finds out whether `student` used their trial
    /// lesson with them ([`Unit::trial_used`]).
    pub fn trial_of(mut self, teacher: UserId, student: UserId) -> Self {
        self.trials.push((teacher, student));
        self
    }

    /// Looks up the package `teacher` created with `key`.
    pub fn package_key(mut self, teacher: UserId, key: String) -> Self {
        self.package_key = Some((teacher, key));
        self
    }

    /// Runs the command under an `Idempotency-Key`, when there is one.
    pub fn claim(mut self, claim: Option<Claim>) -> Self {
        self.claim = claim;
        self
    }
}

/// The range in which another slot of a teacher could collide with
/// `[start, end)` under any booking policy: widened by twice the largest
/// buffer a policy may set. Loading more slots than a policy needs is
/// harmless: the domain's overlap check applies the real buffers.
pub fn widest_search_range(start: OffsetDateTime, end: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let reach: Duration = MAX_BUFFER + MAX_BUFFER;
    (start - reach, end + reach)
}

/// A package as a unit loads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedPackage {
    /// The package.
    pub package: CoursePackage,
    /// Its session slots' ids, in session order.
    pub sessions: Vec<SlotId>,
    /// Students who ever enrolled (any status), oldest first.
    pub enrolled: Vec<UserId>,
    /// The key it was created with, if any.
    pub creation_key: Option<String>,
}

/// Everything a unit holds, loaded or decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct State {
    slots: BTreeMap<SlotId, Slot>,
    credits: BTreeMap<CreditId, MakeupCredit>,
    packages: BTreeMap<PackageId, LoadedPackage>,
    enrollments: BTreeMap<EnrollmentId, Enrollment>,
    payments: BTreeMap<PaymentId, Payment>,
    refunds: BTreeMap<EnrollmentId, Refund>,
    reviews: BTreeMap<BookingId, Review>,
    reports: BTreeMap<BookingId, LessonReport>,
    availability: BTreeMap<UserId, Availability>,
}

/// The aggregates a command loaded under its locks, and what its decision
/// changed. Decisions read and change them through the methods below; the
/// store compares the result with what it loaded ([`Unit::changes`]).
pub struct Unit {
    loaded: State,
    current: State,
    schedules: BTreeMap<UserId, Vec<Slot>>,
    policies: BTreeMap<UserId, BookingPolicy>,
    booking_slots: BTreeMap<BookingId, SlotId>,
    booking_payments: BTreeMap<BookingId, Vec<Payment>>,
    used_trials: Vec<(UserId, UserId)>,
    keyed_package: Option<PackageId>,
    new_series: Vec<Series>,
    new_slot_series: Vec<SlotSeries>,
    audit: Vec<AuditEntry>,
    events: Vec<DomainEvent>,
    booking: Option<BookingId>,
    claimed: bool,
    replay: Option<String>,
    answer: Option<Box<dyn Any + Send + Sync>>,
    answer_json: Option<String>,
}

impl fmt::Debug for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unit")
            .field("current", &self.current)
            .field("schedules", &self.schedules)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// What a store loaded for a [`LockSet`], to build a [`Unit`] from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Every slot loaded (named, of bookings, and package sessions).
    pub slots: Vec<Slot>,
    /// Each locked schedule's open slots.
    pub schedules: Vec<(UserId, Vec<Slot>)>,
    /// The policies of the teachers involved (a teacher without one gets the default).
    pub policies: Vec<(UserId, BookingPolicy)>,
    /// The credits loaded.
    pub credits: Vec<MakeupCredit>,
    /// The packages loaded.
    pub packages: Vec<LoadedPackage>,
    /// The enrollments loaded.
    pub enrollments: Vec<Enrollment>,
    /// The payments loaded (named, and those of the enrollments).
    pub payments: Vec<Payment>,
    /// The refunds of the enrollments, where done.
    pub refunds: Vec<Refund>,
    /// The slot of each named booking that exists.
    pub booking_slots: Vec<(BookingId, SlotId)>,
    /// The payments of each booking in [`LockSet::booking_payments`].
    pub booking_payments: Vec<(BookingId, Vec<Payment>)>,
    /// The package found by [`LockSet::package_key`].
    pub keyed_package: Option<PackageId>,
    /// The reviews of the bookings in [`LockSet::feedback`] that have one.
    pub reviews: Vec<Review>,
    /// The lesson reports of the bookings in [`LockSet::feedback`] that have one.
    pub reports: Vec<LessonReport>,
    /// The availability of each teacher in [`LockSet::availability`] (empty when none was set).
    pub availability: Vec<(UserId, Availability)>,
    /// The pairs of [`LockSet::trials`] whose trial is used.
    pub used_trials: Vec<(UserId, UserId)>,
    /// The answer the claim's key already holds: the command ran before, the
    /// decision is not run again and nothing is written.
    pub replay: Option<String>,
}

impl Unit {
    /// A unit over what a store loaded for a command without a key.
    pub fn new(loaded: Loaded) -> Self {
        Self::for_claim(loaded, false)
    }

    /// A unit over what a store loaded; `claimed` when the command runs under
    /// an `Idempotency-Key`, whose answer the store must keep.
    pub fn for_claim(loaded: Loaded, claimed: bool) -> Self {
        let state = State {
            slots: loaded.slots.into_iter().map(|s| (s.id(), s)).collect(),
            credits: loaded.credits.into_iter().map(|c| (c.id(), c)).collect(),
            packages: loaded.packages.into_iter().map(|p| (p.package.id(), p)).collect(),
            enrollments: loaded.enrollments.into_iter().map(|e| (e.id(), e)).collect(),
            payments: loaded.payments.into_iter().map(|p| (p.id(), p)).collect(),
            refunds: loaded.refunds.into_iter().map(|r| (r.enrollment, r)).collect(),
            reviews: loaded.reviews.into_iter().map(|r| (r.booking, r)).collect(),
            reports: loaded.reports.into_iter().map(|r| (r.booking(), r)).collect(),
            availability: loaded.availability.into_iter().collect(),
        };
        Self {
            loaded: state.clone(),
            current: state,
            schedules: loaded.schedules.into_iter().collect(),
            policies: loaded.policies.into_iter().collect(),
            booking_slots: loaded.booking_slots.into_iter().collect(),
            booking_payments: loaded.booking_payments.into_iter().collect(),
            used_trials: loaded.used_trials,
            keyed_package: loaded.keyed_package,
            new_series: Vec::new(),
            new_slot_series: Vec::new(),
            audit: Vec::new(),
            events: Vec::new(),
            booking: None,
            claimed,
            replay: loaded.replay,
            answer: None,
            answer_json: None,
        }
    }

    /// The stored answer of a command that already ran under the claim's key:
    /// the store must not run the decision.
    pub fn replayed(&self) -> Option<&str> {
        self.replay.as_deref()
    }

    /// The decision's answer as JSON, for the store to keep with the claim.
    pub fn answer_json(&self) -> Option<&str> {
        self.answer_json.as_deref()
    }

    // ----- reading -----

    /// A loaded slot; `not_found` (entity `slot`) when it was not loaded.
    pub fn slot(&self, id: SlotId) -> DomainResult<&Slot> {
        self.current
            .slots
            .get(&id)
            .ok_or(DomainError::NotFound { entity: "slot" })
    }

    /// A loaded slot, to change.
    pub fn slot_mut(&mut self, id: SlotId) -> DomainResult<&mut Slot> {
        self.current
            .slots
            .get_mut(&id)
            .ok_or(DomainError::NotFound { entity: "slot" })
    }

    /// The id of the slot a loaded booking is on; `not_found` (entity `booking`).
    pub fn slot_id_of(&self, booking: BookingId) -> DomainResult<SlotId> {
        self.booking_slots
            .get(&booking)
            .copied()
            .ok_or(DomainError::NotFound { entity: "booking" })
    }

    /// The slot a loaded booking is on, to change.
    pub fn slot_of_mut(&mut self, booking: BookingId) -> DomainResult<&mut Slot> {
        let id = self.slot_id_of(booking)?;
        self.slot_mut(id)
    }

    /// Copies of loaded slots, in the order asked.
    fn slots_cloned(&self, ids: &[SlotId]) -> DomainResult<Vec<Slot>> {
        ids.iter().map(|id| self.slot(*id).cloned()).collect()
    }

    /// Puts changed copies of slots back (see [`Unit::slots_cloned`]).
    pub fn put_slots(&mut self, slots: Vec<Slot>) {
        for slot in slots {
            self.current.slots.insert(slot.id(), slot);
        }
    }

    /// A teacher's policy: the one loaded, or the default when they never set one.
    pub fn policy(&self, teacher: UserId) -> BookingPolicy {
        self.policies.get(&teacher).copied().unwrap_or_default()
    }

    /// A locked schedule's open slots (empty when not locked).
    pub fn schedule(&self, teacher: UserId) -> &[Slot] {
        self.schedules.get(&teacher).map_or(&[], Vec::as_slice)
    }

    /// A loaded credit and a loaded slot, both to change (a redemption).
    pub fn credit_and_slot_mut(
        &mut self,
        credit: CreditId,
        slot: SlotId,
    ) -> DomainResult<(&mut MakeupCredit, &mut Slot)> {
        let credit = self
            .current
            .credits
            .get_mut(&credit)
            .ok_or(DomainError::NotFound { entity: "credit" })?;
        let slot = self
            .current
            .slots
            .get_mut(&slot)
            .ok_or(DomainError::NotFound { entity: "slot" })?;
        Ok((credit, slot))
    }

    /// The loaded credits of a student.
    pub fn credits_of(&self, student: UserId) -> Vec<MakeupCredit> {
        self.current
            .credits
            .values()
            .filter(|c| c.student() == student)
            .cloned()
            .collect()
    }

    /// A loaded package; `not_found` (entity `package`).
    pub fn package(&self, id: PackageId) -> DomainResult<&LoadedPackage> {
        self.current
            .packages
            .get(&id)
            .ok_or(DomainError::NotFound { entity: "package" })
    }

    /// A loaded package, to change.
    pub fn package_mut(&mut self, id: PackageId) -> DomainResult<&mut CoursePackage> {
        self.current
            .packages
            .get_mut(&id)
            .map(|p| &mut p.package)
            .ok_or(DomainError::NotFound { entity: "package" })
    }

    /// Copies of a loaded package's session slots, in session order.
    pub fn session_slots(&self, id: PackageId) -> DomainResult<Vec<Slot>> {
        let sessions = self.package(id)?.sessions.clone();
        self.slots_cloned(&sessions)
    }

    /// The package found by the lock set's creation key.
    pub fn keyed_package(&self) -> Option<PackageId> {
        self.keyed_package
    }

    /// A loaded enrollment; `not_found` (entity `enrollment`).
    pub fn enrollment(&self, id: EnrollmentId) -> DomainResult<&Enrollment> {
        self.current
            .enrollments
            .get(&id)
            .ok_or(DomainError::NotFound { entity: "enrollment" })
    }

    /// A loaded payment; `not_found` (entity `payment`).
    pub fn payment(&self, id: PaymentId) -> DomainResult<&Payment> {
        self.current
            .payments
            .get(&id)
            .ok_or(DomainError::NotFound { entity: "payment" })
    }

    /// The payment of a loaded enrollment; `not_found` (entity `payment`).
    pub fn payment_of(&self, enrollment: EnrollmentId) -> DomainResult<&Payment> {
        self.current
            .payments
            .values()
            .find(|p| p.target() == PaymentTarget::Enrollment(enrollment))
            .ok_or(DomainError::NotFound { entity: "payment" })
    }

    /// A loaded payment, to change.
    pub fn payment_mut(&mut self, id: PaymentId) -> DomainResult<&mut Payment> {
        self.current
            .payments
            .get_mut(&id)
            .ok_or(DomainError::NotFound { entity: "payment" })
    }

    /// The refund of a loaded enrollment, when done.
    pub fn refund_of(&self, enrollment: EnrollmentId) -> Option<&Refund> {
        self.current.refunds.get(&enrollment)
    }

    /// The loaded payments of a booking, oldest first.
    pub fn booking_payments(&self, booking: BookingId) -> &[Payment] {
        self.booking_payments.get(&booking).map_or(&[], Vec::as_slice)
    }

    // ----- deciding -----

    /// Adds a new slot (its teacher's schedule must be locked).
    pub fn add_slot(&mut self, slot: Slot) {
        self.current.slots.insert(slot.id(), slot);
    }

    /// Adds a new package with its session slots (the teacher's schedule must be locked).
    pub fn add_package(&mut self, package: CoursePackage, slots: Vec<Slot>, creation_key: Option<String>) {
        let sessions = slots.iter().map(Slot::id).collect();
        self.put_slots(slots);
        self.current.packages.insert(
            package.id(),
            LoadedPackage {
                package,
                sessions,
                enrolled: Vec::new(),
                creation_key,
            },
        );
    }

    /// Replaces a loaded package's session slots by new ones (the old ones
    /// are deleted: a package is revised only while nobody ever enrolled).
    pub fn replace_sessions(&mut self, id: PackageId, slots: Vec<Slot>) -> DomainResult<()> {
        let loaded = self
            .current
            .packages
            .get_mut(&id)
            .ok_or(DomainError::NotFound { entity: "package" })?;
        let old = std::mem::replace(&mut loaded.sessions, slots.iter().map(Slot::id).collect());
        for slot in old {
            self.current.slots.remove(&slot);
        }
        self.put_slots(slots);
        Ok(())
    }

    /// Deletes a loaded package with its session slots.
    pub fn delete_package(&mut self, id: PackageId) -> DomainResult<()> {
        let loaded = self
            .current
            .packages
            .remove(&id)
            .ok_or(DomainError::NotFound { entity: "package" })?;
        for slot in loaded.sessions {
            self.current.slots.remove(&slot);
        }
        Ok(())
    }

    /// Adds a new series (its bookings' slots must be added too): a series
    /// is written once and never changes (docs/series.md).
    pub fn add_series(&mut self, series: Series) {
        self.new_series.push(series);
    }

    /// Adds a new slot series (its slots must be added too); written once,
    /// like a series.
    pub fn add_slot_series(&mut self, series: SlotSeries) {
        self.new_slot_series.push(series);
    }

    /// Adds a new enrollment; its student counts as enrolled in the package.
    pub fn add_enrollment(&mut self, enrollment: Enrollment) {
        if let Some(package) = self.current.packages.get_mut(&enrollment.package()) {
            package.enrolled.push(enrollment.student());
        }
        self.current.enrollments.insert(enrollment.id(), enrollment);
    }

    /// Changes a loaded enrollment.
    pub fn enrollment_mut(&mut self, id: EnrollmentId) -> DomainResult<&mut Enrollment> {
        self.current
            .enrollments
            .get_mut(&id)
            .ok_or(DomainError::NotFound { entity: "enrollment" })
    }

    /// Adds a new payment.
    pub fn add_payment(&mut self, payment: Payment) {
        self.current.payments.insert(payment.id(), payment);
    }

    /// Adds an executed refund.
    pub fn add_refund(&mut self, refund: Refund) {
        self.current.refunds.insert(refund.enrollment, refund);
    }

    /// The review of a booking loaded through [`LockSet::feedback_of`], if written.
    pub fn review_of(&self, booking: BookingId) -> Option<&Review> {
        self.current.reviews.get(&booking)
    }

    /// Adds a new review (the domain refused a second one already).
    pub fn add_review(&mut self, review: Review) {
        self.current.reviews.insert(review.booking, review);
    }

    /// The lesson report of a booking loaded through [`LockSet::feedback_of`], if written.
    pub fn report_of(&self, booking: BookingId) -> Option<&LessonReport> {
        self.current.reports.get(&booking)
    }

    /// Puts a new or edited lesson report.
    pub fn put_report(&mut self, report: LessonReport) {
        self.current.reports.insert(report.booking(), report);
    }

    /// Whether `student` used their trial lesson with `teacher` (loaded
    /// through [`LockSet::trial_of`]).
    pub fn trial_used(&self, teacher: UserId, student: UserId) -> bool {
        self.used_trials.contains(&(teacher, student))
    }

    /// A teacher's availability, loaded through [`LockSet::availability_of`].
    pub fn availability(&self, teacher: UserId) -> DomainResult<&Availability> {
        self.current
            .availability
            .get(&teacher)
            .ok_or(DomainError::NotFound { entity: "availability" })
    }

    /// A teacher's availability, to change.
    pub fn availability_mut(&mut self, teacher: UserId) -> DomainResult<&mut Availability> {
        self.current
            .availability
            .get_mut(&teacher)
            .ok_or(DomainError::NotFound { entity: "availability" })
    }

    /// Records what a domain decision caused: its events and audit entries
    /// go to the outbox and the history, the credits it issued or changed
    /// are saved, and its booking becomes [`Unit::booking`].
    pub fn record(&mut self, outcome: Outcome) {
        for credit in outcome.credits {
            self.current.credits.insert(credit.id(), credit);
        }
        self.audit.extend(outcome.audit);
        self.events.extend(outcome.events);
        if outcome.booking.is_some() {
            self.booking = outcome.booking;
        }
    }

    /// Records an event that no aggregate method produced.
    pub fn publish(&mut self, event: DomainEvent) {
        self.events.push(event);
    }

    /// The booking the last recorded outcome created or acted on.
    pub fn booking(&self) -> Option<BookingId> {
        self.booking
    }

    /// The events recorded so far.
    pub fn events(&self) -> &[DomainEvent] {
        &self.events
    }

    /// Keeps the decision's answer for the caller (see [`execute`]).
    fn set_answer(&mut self, answer: Box<dyn Any + Send + Sync>) {
        self.answer = Some(answer);
    }

    // ----- saving -----

    /// What the decision changed, for the store to save: everything it must
    /// insert, update and delete, in an order that respects the schema's
    /// foreign keys when applied top to bottom.
    pub fn changes(&self) -> Changes<'_> {
        let (before, after) = (&self.loaded, &self.current);
        let mut changes = Changes::default();
        for (id, package) in &before.packages {
            match after.packages.get(id) {
                None => changes.deleted_packages.push((*id, package.sessions.clone())),
                Some(now) if now.sessions != package.sessions => {
                    changes.replaced_sessions.push((*id, package.sessions.clone()));
                }
                Some(_) => {}
            }
        }
        for (id, package) in &after.packages {
            match before.packages.get(id) {
                None => changes.new_packages.push(package),
                Some(old) => {
                    if old.package != package.package {
                        changes.changed_packages.push(&package.package);
                    }
                    if old.sessions != package.sessions {
                        changes.new_sessions.push((*id, package.sessions.as_slice()));
                    }
                }
            }
        }
        for package in &changes.new_packages {
            changes
                .new_sessions
                .push((package.package.id(), package.sessions.as_slice()));
        }
        diff(&before.enrollments, &after.enrollments, &mut changes.enrollments);
        for (id, slot) in &after.slots {
            match before.slots.get(id) {
                None => changes.new_slots.push(slot),
                Some(old) if old != slot => changes.changed_slots.push((old, slot)),
                Some(_) => {}
            }
        }
        diff(&before.payments, &after.payments, &mut changes.payments);
        for (id, refund) in &after.refunds {
            if !before.refunds.contains_key(id) {
                changes.new_refunds.push(refund);
            }
        }
        for (id, credit) in &after.credits {
            if before.credits.get(id) != Some(credit) {
                changes.credits.push(credit);
            }
        }
        for (booking, review) in &after.reviews {
            if !before.reviews.contains_key(booking) {
                changes.new_reviews.push(review);
            }
        }
        diff(&before.reports, &after.reports, &mut changes.reports);
        for (teacher, availability) in &after.availability {
            if before.availability.get(teacher) != Some(availability) {
                changes.availability.push((*teacher, availability));
            }
        }
        changes.new_series = self.new_series.iter().collect();
        changes.new_slot_series = self.new_slot_series.iter().collect();
        changes.audit = &self.audit;
        changes.events = &self.events;
        changes
    }
}

/// Rows to insert (`None` before) or update, by comparing two maps.
fn diff<'a, K: Ord, V: PartialEq>(before: &BTreeMap<K, V>, after: &'a BTreeMap<K, V>, out: &mut Vec<(bool, &'a V)>) {
    for (id, value) in after {
        match before.get(id) {
            None => out.push((true, value)),
            Some(old) if old != value => out.push((false, value)),
            Some(_) => {}
        }
    }
}

/// What a decision changed. Apply the lists top to bottom.
#[derive(Debug, Default)]
pub struct Changes<'a> {
    /// Packages deleted, with the session slots to delete with them.
    pub deleted_packages: Vec<(PackageId, Vec<SlotId>)>,
    /// Packages whose sessions were replaced: the old session slots to delete.
    pub replaced_sessions: Vec<(PackageId, Vec<SlotId>)>,
    /// New packages (insert the row; sessions follow in `new_sessions`).
    pub new_packages: Vec<&'a LoadedPackage>,
    /// Changed package rows.
    pub changed_packages: Vec<&'a CoursePackage>,
    /// Enrollments: `(true, e)` to insert, `(false, e)` to update.
    pub enrollments: Vec<(bool, &'a Enrollment)>,
    /// New slots with their bookings.
    pub new_slots: Vec<&'a Slot>,
    /// Changed slots, before and after.
    pub changed_slots: Vec<(&'a Slot, &'a Slot)>,
    /// Session lists to write (after the slots exist), in session order.
    pub new_sessions: Vec<(PackageId, &'a [SlotId])>,
    /// Payments: `(true, p)` to insert, `(false, p)` to update.
    pub payments: Vec<(bool, &'a Payment)>,
    /// Refunds to insert.
    pub new_refunds: Vec<&'a Refund>,
    /// Credits to insert or update.
    pub credits: Vec<&'a MakeupCredit>,
    /// Reviews to insert.
    pub new_reviews: Vec<&'a Review>,
    /// Lesson reports: `(true, r)` to insert, `(false, r)` to update.
    pub reports: Vec<(bool, &'a LessonReport)>,
    /// Teachers whose rules and exceptions to replace with these.
    pub availability: Vec<(UserId, &'a Availability)>,
    /// New series with their members (after the slots and bookings exist).
    pub new_series: Vec<&'a Series>,
    /// New slot series with their slots (after the slots exist).
    pub new_slot_series: Vec<&'a SlotSeries>,
    /// History rows.
    pub audit: &'a [AuditEntry],
    /// Outbox events.
    pub events: &'a [DomainEvent],
}

/// A command's decision: pure, synchronous, no I/O.
pub type Decision = Box<dyn FnOnce(&mut Unit) -> DomainResult<()> + Send>;

/// Runs commands as units of work.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Takes the locks of `locks` in the documented order, loads the unit,
    /// runs `decide` and, when it succeeds, saves [`Unit::changes`] with the
    /// audit and outbox rows in the same transaction, stamping the outbox
    /// rows with `now`. When it refuses, nothing is written and its refusal
    /// comes back as [`Error::Domain`]. A constraint the database guards
    /// (seats, overlaps, one active booking) maps to the domain's refusal.
    /// Named things that do not exist are simply not loaded: the decision
    /// refuses with `not_found`.
    async fn execute(&self, locks: LockSet, now: OffsetDateTime, decide: Decision) -> Result<Unit>;

    /// How many units of work this store (and every clone of it) has
    /// committed: while it stays the same, nothing written through this
    /// store changed, which is how read caches (browse's) know their pages
    /// still hold. Writes through another process are not counted.
    fn commits(&self) -> u64;
}

/// Runs `decide` as a unit of work on `store` and returns its answer. Under
/// a claim (see [`LockSet::claim`]) the answer is kept as JSON with the key,
/// and a retry gets it back from there.
pub async fn execute<S, R, F>(store: &S, locks: LockSet, now: OffsetDateTime, decide: F) -> Result<R>
where
    S: UnitOfWork + ?Sized,
    R: Serialize + DeserializeOwned + Send + Sync + 'static,
    F: FnOnce(&mut Unit) -> DomainResult<R> + Send + 'static,
{
    let mut unit = store
        .execute(
            locks,
            now,
            Box::new(move |unit| {
                let answer = decide(unit)?;
                if unit.claimed {
                    // Domain answers always serialise; a store refuses to
                    // commit a claimed command without its answer.
                    unit.answer_json = serde_json::to_string(&answer).ok();
                }
                unit.set_answer(Box::new(answer));
                Ok(())
            }),
        )
        .await?;
    if let Some(stored) = unit.replayed() {
        return serde_json::from_str(stored)
            .map_err(|e| Error::Storage(format!("an idempotency key holds an unreadable answer: {e}")));
    }
    unit.answer
        .take()
        .and_then(|a| a.downcast::<R>().ok())
        .map(|a| *a)
        .ok_or_else(|| Error::Storage("a unit of work came back without its answer".into()))
}
