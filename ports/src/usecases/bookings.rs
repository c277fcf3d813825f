//! Booking use cases: slots, requests, approvals, cancellations, credits,
//! attendance and history. Each command draws its ids and `now`, names what
//! it locks (a [`LockSet`]) and hands one decision over the loaded unit to
//! the store, which runs it atomically (see [`crate::UnitOfWork`]).

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::browse::{BrowseCache, DEFAULT_BROWSE_CACHE};
use tutorbook_domain::{
    Actor, Attendance, AuditEntry, Booking, BookingId, BookingPolicy, CreditId, DomainError, DomainResult,
    LessonWindow, MakeupCredit, Meeting, Outcome, PlatformSettings, Role, Slot, SlotDraft, SlotId, SlotStatus, UserId,
    Waitlist, Zone,
};

use crate::{
    BookingStore, Claim, Clock, Error, IdGen, LockSet, Overdue, PolicyStore, Result, Unit, UnitOfWork, UserStore,
    execute,
};

/// What a teacher (or staff for them) sends to open a slot.
#[derive(Debug, Clone)]
pub struct OpenSlot {
    /// The teacher; must be the actor unless the actor is staff.
    pub teacher: UserId,
    /// Start instant.
    pub start: OffsetDateTime,
    /// End instant.
    pub end: OffsetDateTime,
    /// The teacher's zone.
    pub zone: Zone,
    /// 1 for one-to-one, 2.. for a group.
    pub capacity: u32,
    /// Meeting details.
    pub meeting: Meeting,
    /// Whether it keeps a waitlist once full.
    pub waitlist: WaitlistChoice,
}

/// Whether a new slot keeps a waitlist (docs/waitlists.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WaitlistChoice {
    /// The teacher's policy decides: its default waitlist for a group slot
    /// that is not a package session, none otherwise.
    #[default]
    TeacherDefault,
    /// No waitlist: a full slot refuses requests (`slot_full`).
    Off,
    /// This waitlist (group slots only: `waitlist_not_available`).
    On(Waitlist),
}

/// The booking use cases over a store `S`, a clock `C` and an id source `I`.
#[derive(Debug, Clone)]
pub struct Bookings<S, C, I> {
    pub(super) store: S,
    pub(super) clock: C,
    ids: I,
    settings: PlatformSettings,
    claim: Option<Claim>,
    pub(super) browse_cache: Arc<BrowseCache>,
}

impl<S, C, I> Bookings<S, C, I>
where
    S: BookingStore + PolicyStore + UserStore + UnitOfWork,
    C: Clock,
    I: IdGen,
{
    /// Wires the use cases to their ports.
    pub fn new(store: S, clock: C, ids: I, settings: PlatformSettings) -> Self {
        Self {
            store,
            clock,
            ids,
            settings,
            claim: None,
            browse_cache: Arc::new(BrowseCache::new(DEFAULT_BROWSE_CACHE)),
        }
    }

    /// The same use cases with browse pages kept for `ttl` (zero keeps none):
    /// a page is served again only while nothing was committed in this
    /// process and for at most `ttl`, so `ttl` bounds how long browse can
    /// lag a change made by another process on the same database
    /// (docs/decisions/0023-browse-served-from-a-short-cache.md).
    pub fn with_browse_cache(self, ttl: Duration) -> Self {
        Self {
            browse_cache: Arc::new(BrowseCache::new(ttl)),
            ..self
        }
    }

    /// The store, for read models the use cases don't wrap.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The same use cases, running their commands under `claim` (an
    /// `Idempotency-Key`): a command's answer is kept with the key in its
    /// own transaction, and a retry with the key gets that answer back
    /// without running again. `None` runs commands without a key.
    pub fn keyed(&self, claim: Option<Claim>) -> Self
    where
        Self: Clone,
    {
        Self { claim, ..self.clone() }
    }

    /// A lock set carrying this command's claim.
    fn locks(&self) -> LockSet {
        LockSet::new().claim(self.claim.clone())
    }

    /// Opens a slot; refused when it overlaps another of the teacher's slots
    /// (buffers included), is in the past, or has a bad capacity; staff must
    /// name a teacher. Locks the teacher's schedule.
    pub async fn open_slot(&self, actor: &Actor, input: OpenSlot) -> Result<Slot> {
        let window = LessonWindow::new(input.start, input.end)?;
        let teacher = input.teacher;
        super::check_named_teacher(&self.store, actor, teacher).await?;
        let draft = SlotDraft {
            teacher,
            window,
            zone: input.zone,
            capacity: input.capacity,
            meeting: input.meeting,
            package_session: None,
            waitlist: None,
        };
        let choice = input.waitlist;
        let (id, actor, settings, now) = (
            SlotId::from_uuid(self.ids.new_id()),
            *actor,
            self.settings,
            self.clock.now(),
        );
        let locks = self.locks().schedule_around(teacher, &window);
        execute(&self.store, locks, now, move |unit| {
            let policy = unit.policy(teacher);
            let waitlist = match choice {
                WaitlistChoice::TeacherDefault => policy.default_waitlist_for(draft.capacity),
                WaitlistChoice::Off => None,
                WaitlistChoice::On(waitlist) => Some(waitlist),
            };
            let draft = SlotDraft { waitlist, ..draft };
            let (slot, outcome) = Slot::open(id, draft, &actor, unit.schedule(teacher), &policy, &settings, now)?;
            unit.add_slot(slot.clone());
            unit.record(outcome);
            Ok(slot)
        })
        .await
    }

    /// A student requests a seat: `requested` when the teacher must approve,
    /// else `confirmed`. The teacher's policy is read under the slot's lock.
    pub async fn request(&self, actor: &Actor, slot: SlotId) -> Result<Booking> {
        let (id, actor, now) = (BookingId::from_uuid(self.ids.new_id()), *actor, self.clock.now());
        self.on_slot(self.locks().slot(slot), now, move |unit| {
            let policy = unit.policy(unit.slot(slot)?.teacher());
            let outcome = unit.slot_mut(slot)?.request(id, &actor, &policy, now)?;
            Ok((slot, outcome))
        })
        .await
    }

    /// The slot's teacher (or staff) turns its waitlist on or off, or
    /// changes its mode (docs/waitlists.md); answers the slot.
    pub async fn set_waitlist(&self, actor: &Actor, slot: SlotId, waitlist: Option<Waitlist>) -> Result<Slot> {
        let (actor, now) = (*actor, self.clock.now());
        execute(&self.store, self.locks().slot(slot), now, move |unit| {
            let target = unit.slot_mut(slot)?;
            let outcome = target.set_waitlist(waitlist, &actor, now)?;
            let answer = target.clone();
            unit.record(outcome);
            Ok(answer)
        })
        .await
    }

    /// A slot and its line, for its teacher or staff (`forbidden` for
    /// anyone else: they see only the seat count).
    pub async fn waitlist(&self, actor: &Actor, slot: SlotId) -> Result<Slot> {
        let slot = self.slot(slot).await?;
        if !slot.shows_roster_to(Some(actor)) {
            return Err(DomainError::Forbidden.into());
        }
        Ok(slot)
    }

    /// Where a booking stands in its slot's line, for its student, the
    /// teacher or staff: the booking, its position from 1 (none when not
    /// waitlisted), and the line's length.
    pub async fn place_in_line(&self, actor: &Actor, booking: BookingId) -> Result<(Booking, Option<usize>, usize)> {
        let slot = super::seen_slot_of(&self.store, actor, booking).await?;
        let found = slot.booking(booking).ok_or_else(|| Error::not_found("booking"))?;
        Ok((
            found.clone(),
            slot.waitlist_position(booking),
            slot.waitlist_line().len(),
        ))
    }

    /// The student (or staff) takes the seat offered to them from the line.
    pub async fn accept_offer(&self, actor: &Actor, booking: BookingId) -> Result<Booking> {
        let (actor, now) = (*actor, self.clock.now());
        self.on_booking(booking, now, move |slot, _| slot.accept_offer(booking, &actor, now))
            .await
    }

    /// The student (or staff) turns an offered seat down; it passes on.
    pub async fn decline_offer(&self, actor: &Actor, booking: BookingId) -> Result<Booking> {
        let (actor, now) = (*actor, self.clock.now());
        self.on_booking(booking, now, move |slot, _| slot.decline_offer(booking, &actor, now))
            .await
    }

    /// The slot's teacher (or staff) approves a request.
    pub async fn approve(&self, actor: &Actor, booking: BookingId) -> Result<Booking> {
        let (actor, now) = (*actor, self.clock.now());
        self.on_booking(booking, now, move |slot, _| slot.approve(booking, &actor, now))
            .await
    }

    /// The slot's teacher (or staff) declines a request.
    pub async fn decline(&self, actor: &Actor, booking: BookingId) -> Result<Booking> {
        let (actor, now) = (*actor, self.clock.now());
        self.on_booking(booking, now, move |slot, _| slot.decline(booking, &actor, now))
            .await
    }

    /// The booking's student (or staff) cancels it, inside the teacher's cancel window.
    pub async fn cancel(&self, actor: &Actor, booking: BookingId) -> Result<Booking> {
        let (actor, now) = (*actor, self.clock.now());
        self.on_booking(booking, now, move |slot, policy| {
            slot.cancel_by_student(booking, &actor, policy, now)
        })
        .await
    }

    /// The slot's teacher (or staff) cancels a confirmed lesson; returns the
    /// booking and the make-up credit the student received.
    pub async fn teacher_cancel(&self, actor: &Actor, booking: BookingId) -> Result<(Booking, MakeupCredit)> {
        let (actor, now, settings) = (*actor, self.clock.now(), self.settings);
        let credit = CreditId::from_uuid(self.ids.new_id());
        execute(&self.store, self.locks().booking(booking), now, move |unit| {
            let slot = unit.slot_of_mut(booking)?;
            let outcome = slot.cancel_by_teacher(booking, credit, &actor, &settings, now)?;
            let issued = outcome
                .credits
                .first()
                .cloned()
                .ok_or(DomainError::NotFound { entity: "credit" })?;
            let cancelled = booked(slot, booking)?;
            unit.record(outcome);
            Ok((cancelled, issued))
        })
        .await
    }

    /// The slot's teacher (or staff) cancels the whole slot; returns the credits issued.
    pub async fn cancel_slot(&self, actor: &Actor, slot: SlotId) -> Result<(Slot, Vec<MakeupCredit>)> {
        let (actor, now, settings) = (*actor, self.clock.now(), self.settings);
        // Enough fresh ids for any slot, drawn before the store's lock is taken.
        let credit_ids: Vec<CreditId> = (0..self.settings.max_group_capacity())
            .map(|_| CreditId::from_uuid(self.ids.new_id()))
            .collect();
        execute(&self.store, self.locks().slot(slot), now, move |unit| {
            let target = unit.slot_mut(slot)?;
            let outcome = target.cancel_all(&actor, &credit_ids, &settings, now)?;
            let cancelled = target.clone();
            let credits = outcome.credits.clone();
            unit.record(outcome);
            Ok((cancelled, credits))
        })
        .await
    }

    /// The slot's teacher (or staff) deletes an unbooked future slot.
    pub async fn delete_slot(&self, actor: &Actor, slot: SlotId) -> Result<()> {
        let (actor, now) = (*actor, self.clock.now());
        execute(&self.store, self.locks().slot(slot), now, move |unit| {
            let outcome = unit.slot_mut(slot)?.delete(&actor, now)?;
            unit.record(outcome);
            Ok(())
        })
        .await
    }

    /// The slot's teacher (or staff) records attendance after the start.
    pub async fn mark_attendance(&self, actor: &Actor, booking: BookingId, attendance: Attendance) -> Result<Booking> {
        let (actor, now) = (*actor, self.clock.now());
        self.on_booking(booking, now, move |slot, _| {
            slot.mark_attendance(booking, attendance, &actor, now)
        })
        .await
    }

    /// Moves a booking to another slot of the same teacher (docs/product.md
    /// §5): the booking's student, the teacher or staff; answers the new
    /// booking. Both slots are locked (in the store's order), so the new
    /// seat is taken and the old one given back in one transaction, or
    /// nothing changes.
    pub async fn reschedule(&self, actor: &Actor, booking: BookingId, to: SlotId) -> Result<Booking> {
        let (moved, actor, now) = (BookingId::from_uuid(self.ids.new_id()), *actor, self.clock.now());
        let locks = self.locks().booking(booking).payments_of_booking(booking).slot(to);
        self.on_slot(locks, now, move |unit| {
            let from = unit.slot_id_of(booking)?;
            // Whether the caller may see the booking comes before anything
            // about the target, so a stranger learns nothing from it.
            if !unit.slot(from)?.shows_booking_to(booking, &actor) {
                return Err(DomainError::NotFound { entity: "booking" });
            }
            tutorbook_domain::check_movable(unit.booking_payments(booking))?;
            let policy = unit.policy(unit.slot(from)?.teacher());
            // Two slots change: the target is decided on a copy and put back.
            let mut target = unit.slot(to)?.clone();
            let outcome = unit
                .slot_mut(from)?
                .reschedule_to(booking, &mut target, moved, &actor, &policy, now)?;
            *unit.slot_mut(to)? = target;
            Ok((to, outcome))
        })
        .await
    }

    /// The credit's student redeems it into a slot of the same teacher.
    /// Locks the credit, then the slot.
    pub async fn redeem_credit(&self, actor: &Actor, credit: CreditId, slot: SlotId) -> Result<Booking> {
        let (id, actor, now) = (BookingId::from_uuid(self.ids.new_id()), *actor, self.clock.now());
        self.on_slot(self.locks().credit(credit).slot(slot), now, move |unit| {
            let (credit, target) = unit.credit_and_slot_mut(credit, slot)?;
            let outcome = credit.redeem_into(target, id, &actor, now)?;
            Ok((slot, outcome))
        })
        .await
    }

    /// One slot, for anyone (what each viewer sees of it is the slot's
    /// `shows_*` rules); `not_found` when unknown or deleted.
    pub async fn slot(&self, id: SlotId) -> Result<Slot> {
        self.store
            .slot(id)
            .await?
            .filter(|s| s.status() != SlotStatus::Deleted)
            .ok_or_else(|| Error::not_found("slot"))
    }

    /// A teacher's slots starting in `[from, to)`, for the teacher or staff.
    pub async fn teacher_slots(
        &self,
        actor: &Actor,
        teacher: UserId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<Slot>> {
        let own = actor.role == Role::Teacher && actor.user == teacher;
        if !(own || actor.is_staff()) {
            return Err(DomainError::Forbidden.into());
        }
        self.store.teacher_slots(teacher, from, to).await
    }

    /// A student's bookings on slots starting in `[from, to)`, for the
    /// student or staff.
    pub async fn student_bookings(
        &self,
        actor: &Actor,
        student: UserId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<(Booking, Slot)>> {
        if !actor.is_or_staff(student) {
            return Err(DomainError::Forbidden.into());
        }
        self.store.student_bookings(student, from, to).await
    }

    /// The actor's own make-up credits (staff: anyone's), newest first.
    pub async fn credits(&self, actor: &Actor, student: UserId) -> Result<Vec<MakeupCredit>> {
        if !actor.is_or_staff(student) {
            return Err(DomainError::Forbidden.into());
        }
        self.store.student_credits(student).await
    }

    /// A booking's history, for its student, the slot's teacher, or staff.
    pub async fn history(&self, actor: &Actor, booking: BookingId) -> Result<Vec<AuditEntry>> {
        super::seen_slot_of(&self.store, actor, booking).await?;
        self.store.history(booking).await
    }

    /// A teacher's policy (readable by anyone: students need it to know the rules).
    pub async fn policy(&self, teacher: UserId) -> Result<BookingPolicy> {
        self.store.policy(teacher).await
    }

    /// A teacher (or staff) sets the teacher's booking policy.
    pub async fn set_policy(&self, actor: &Actor, teacher: UserId, policy: BookingPolicy) -> Result<()> {
        let own = actor.role == Role::Teacher && actor.user == teacher;
        if !(own || actor.is_staff()) {
            return Err(DomainError::Forbidden.into());
        }
        self.store.set_policy(teacher, policy).await
    }

    /// The job that expires requests nobody answered before their lesson
    /// started (docs/product.md §5): each becomes `expired` and its student
    /// is told. Looks at up to `limit` slots; answers how many requests
    /// expired. Each slot is decided again under its lock, so the job is
    /// idempotent and safe to run on several instances at once (an answer
    /// racing the expiry wins or loses as a whole).
    pub async fn expire_unanswered(&self, limit: usize) -> Result<usize> {
        let now = self.clock.now();
        let slots = self.store.overdue_slots(Overdue::Requests(now), limit).await?;
        self.on_overdue(slots, now, move |slot| slot.expire_unanswered(now))
            .await
    }

    /// The job that expires seat offers nobody answered by their deadline
    /// and passes each seat to the next in line (docs/waitlists.md). Looks
    /// at up to `limit` slots; answers how many bookings changed (expired
    /// offers and the offers or promotions that followed). Idempotent like
    /// [`Bookings::expire_unanswered`]; an acceptance racing the expiry
    /// wins or loses as a whole under the slot's lock.
    pub async fn expire_offers(&self, limit: usize) -> Result<usize> {
        let now = self.clock.now();
        let slots = self.store.overdue_slots(Overdue::Offers(now), limit).await?;
        self.on_overdue(slots, now, move |slot| slot.expire_offers(now)).await
    }

    /// The job that completes lessons that ended at least `grace` ago with
    /// no attendance mark (docs/product.md §5): their confirmed bookings
    /// become `completed`. Looks at up to `limit` slots; answers how many
    /// bookings it completed. Idempotent like [`Bookings::expire_unanswered`].
    pub async fn complete_unmarked(&self, grace: Duration, limit: usize) -> Result<usize> {
        let now = self.clock.now();
        let slots = self.store.overdue_slots(Overdue::Lessons(now - grace), limit).await?;
        self.on_overdue(slots, now, move |slot| slot.complete_unmarked(now, grace))
            .await
    }

    /// Runs a job's decision on each of `slots` under its lock; counts the
    /// bookings it changed.
    async fn on_overdue<F>(&self, slots: Vec<SlotId>, now: OffsetDateTime, decide: F) -> Result<usize>
    where
        F: Fn(&mut Slot) -> Outcome + Clone + Send + 'static,
    {
        let mut changed = 0;
        let mut failed = None;
        for slot in slots {
            let decide = decide.clone();
            let done = execute(&self.store, LockSet::new().slot(slot), now, move |unit| {
                let outcome = decide(unit.slot_mut(slot)?);
                let count = outcome.audit.len();
                unit.record(outcome);
                Ok(count)
            })
            .await;
            // One slot that cannot be decided now does not hold back the
            // others; the pass reports the failure after doing the rest.
            match done {
                Ok(count) => changed += count,
                Err(e) => {
                    tracing::warn!(slot = %slot.as_uuid(), error = %e, "a booking job could not decide a slot");
                    failed = Some(e);
                }
            }
        }
        match failed {
            Some(e) if changed == 0 => Err(e),
            _ => Ok(changed),
        }
    }

    /// Runs a decision on the slot of `booking` (locked), with its teacher's
    /// policy, and answers the booking as saved.
    async fn on_booking<F>(&self, booking: BookingId, now: OffsetDateTime, decide: F) -> Result<Booking>
    where
        F: FnOnce(&mut Slot, &BookingPolicy) -> DomainResult<Outcome> + Send + 'static,
    {
        execute(&self.store, self.locks().booking(booking), now, move |unit| {
            let slot = unit.slot_id_of(booking)?;
            let policy = unit.policy(unit.slot(slot)?.teacher());
            let outcome = decide(unit.slot_mut(slot)?, &policy)?;
            let answer = booked(unit.slot(slot)?, booking)?;
            unit.record(outcome);
            Ok(answer)
        })
        .await
    }

    /// Runs a decision that acts on one slot and answers the booking its
    /// outcome names.
    async fn on_slot<F>(&self, locks: LockSet, now: OffsetDateTime, decide: F) -> Result<Booking>
    where
        F: FnOnce(&mut Unit) -> DomainResult<(SlotId, Outcome)> + Send + 'static,
    {
        execute(&self.store, locks, now, move |unit| {
            let (slot, outcome) = decide(unit)?;
            let booking = outcome.booking.ok_or(DomainError::NotFound { entity: "booking" })?;
            let answer = booked(unit.slot(slot)?, booking)?;
            unit.record(outcome);
            Ok(answer)
        })
        .await
    }
}

/// A booking of a slot, as the slot now holds it.
fn booked(slot: &Slot, booking: BookingId) -> DomainResult<Booking> {
    slot.booking(booking)
        .cloned()
        .ok_or(DomainError::NotFound { entity: "booking" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::testing::*;
    use crate::{MockClock, MockIdGen};
    use time::Duration;
    use tutorbook_domain::{BookingSource, BookingStatus, CancellationTier, CreditStatus, SlotStatus};

    type Service = Bookings<MockStore, MockClock, MockIdGen>;

    fn service(store: MockStore, ids: MockIdGen) -> Service {
        Bookings::new(store, clock(), ids, PlatformSettings::default())
    }

    fn service_at(now: OffsetDateTime, store: MockStore, ids: MockIdGen) -> Service {
        Bookings::new(store, clock_at(now), ids, PlatformSettings::default())
    }

    fn input(teacher: UserId, start: OffsetDateTime, minutes: i64, capacity: u32) -> OpenSlot {
        OpenSlot {
            teacher,
            start,
            end: start + Duration::minutes(minutes),
            zone: Zone::default(),
            capacity,
            meeting: Meeting::default(),
            waitlist: WaitlistChoice::TeacherDefault,
        }
    }

    /// A store whose unit of work finds the teacher's `existing` slots and `policy`.
    fn store_opening_against(existing: Vec<Slot>, policy: BookingPolicy) -> MockStore {
        let mut store = MockStore::new();
        let world = existing.iter().fold(World::default(), World::slot);
        expect_unit(&mut store, world.policy(TEACHER, policy));
        store
    }

    // ----- open_slot -----

    #[tokio::test]
    async fn open_slot_locks_the_teachers_schedule_around_the_window_under_any_buffers() {
        let policy = BookingPolicy::default()
            .with_buffers(Duration::minutes(10), Duration::minutes(5))
            .unwrap();
        let reach = Duration::hours(8);
        let expected = LockSet::new().schedule(TEACHER, START - reach, START + Duration::minutes(50) + reach);
        let world = World::default().policy(TEACHER, policy);
        let mut store = MockStore::new();
        store
            .expect_execute()
            .withf(move |locks, now, _| *locks == expected && *now == NOW)
            .times(1)
            .returning(move |locks, _, decide| {
                let mut unit = Unit::new(world.load(&locks));
                decide(&mut unit)?;
                Ok(unit)
            });

        let slot = service(store, ids([uuid(1)]))
            .open_slot(&Actor::teacher(TEACHER), input(TEACHER, START, 50, 3))
            .await
            .unwrap();

        assert_eq!(slot.id(), SlotId::from_uuid(uuid(1)));
        assert_eq!(slot.teacher(), TEACHER);
        assert_eq!(slot.window().start(), START);
        assert_eq!(slot.capacity().get(), 3);
        assert_eq!(slot.created_at(), NOW);
        assert_eq!(slot.status(), SlotStatus::Open);
    }

    #[tokio::test]
    async fn open_slot_applies_the_teachers_buffers_loaded_under_the_lock() {
        // The existing lesson ends at 09:50; a 15-minute buffer after it
        // refuses a lesson at 10:00, and no buffer allows it.
        let existing = open_slot(9, TEACHER, 1);
        let buffered = BookingPolicy::default()
            .with_buffers(Duration::ZERO, Duration::minutes(15))
            .unwrap();
        let later = START + Duration::minutes(60);
        let err = service(store_opening_against(vec![existing.clone()], buffered), ids([uuid(1)]))
            .open_slot(&Actor::teacher(TEACHER), input(TEACHER, later, 50, 1))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "slot_overlap");
        service(
            store_opening_against(vec![existing], BookingPolicy::default()),
            ids([uuid(1)]),
        )
        .open_slot(&Actor::teacher(TEACHER), input(TEACHER, later, 50, 1))
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn staff_may_open_a_slot_for_a_teacher() {
        let mut store = store_opening_against(vec![], BookingPolicy::default());
        expect_user(&mut store, TEACHER, Role::Teacher);
        let slot = service(store, ids([uuid(1)]))
            .open_slot(&Actor::staff(STAFF), input(TEACHER, START, 50, 1))
            .await
            .unwrap();
        assert_eq!(slot.teacher(), TEACHER);
    }

    #[tokio::test]
    async fn staff_may_not_give_a_student_or_nobody_a_slot() {
        for named in [STUDENT, OTHER_TEACHER] {
            let mut store = MockStore::new();
            expect_user(&mut store, STUDENT, Role::Student);
            store.expect_user().returning(|_| Ok(None));
            // No id is drawn: nothing is created.
            let err = service(store, MockIdGen::new())
                .open_slot(&Actor::staff(STAFF), input(named, START, 50, 1))
                .await
                .unwrap_err();
            assert_eq!(err.code(), "invalid_input", "{named:?}");
        }
    }

    #[tokio::test]
    async fn open_slot_refused_by_the_decision_is_a_domain_error() {
        let existing = open_slot(9, TEACHER, 1);
        let store = store_opening_against(vec![existing], BookingPolicy::default());
        let err = service(store, ids([uuid(1)]))
            .open_slot(
                &Actor::teacher(TEACHER),
                input(TEACHER, START + Duration::minutes(30), 50, 1),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Domain(DomainError::SlotOverlap)), "{err:?}");
        assert_eq!(err.code(), "slot_overlap");
    }

    #[tokio::test]
    async fn open_slot_for_another_teacher_is_forbidden() {
        let store = store_opening_against(vec![], BookingPolicy::default());
        let err = service(store, ids([uuid(1)]))
            .open_slot(&Actor::teacher(OTHER_TEACHER), input(TEACHER, START, 50, 1))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "forbidden");
    }

    #[tokio::test]
    async fn open_slot_with_a_bad_window_touches_no_port() {
        let mut store = MockStore::new();
        store.expect_execute().never();
        let err = service(store, no_ids())
            .open_slot(&Actor::teacher(TEACHER), input(TEACHER, START, 0, 1))
            .await
            .unwrap_err();
        assert_eq!(err.domain(), Some(&DomainError::InvalidTimeRange));
        assert_eq!(err.code(), "invalid_time_range");
    }

    // ----- request -----

    /// Runs `request` by `actor` on a 1:1 slot of [`TEACHER`] whose policy is `policy`.
    async fn request_with(policy: BookingPolicy, actor: Actor) -> Result<Booking> {
        let slot = open_slot(1, TEACHER, 1);
        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot).policy(TEACHER, policy));
        service(store, ids([uuid(2)])).request(&actor, slot.id()).await
    }

    #[tokio::test]
    async fn request_confirms_with_the_drawn_id_and_now_when_no_approval_is_needed() {
        let booking = request_with(instant_policy(), Actor::student(STUDENT)).await.unwrap();
        assert_eq!(booking.id(), BookingId::from_uuid(uuid(2)));
        assert_eq!(booking.slot(), SlotId::from_uuid(uuid(1)));
        assert_eq!(booking.student(), STUDENT);
        assert_eq!(booking.status(), BookingStatus::Confirmed);
        assert_eq!(booking.source(), BookingSource::Direct);
        assert_eq!(booking.created_at(), NOW);
    }

    #[tokio::test]
    async fn request_waits_for_approval_under_the_default_policy() {
        let booking = request_with(BookingPolicy::default(), Actor::student(STUDENT))
            .await
            .unwrap();
        assert_eq!(booking.status(), BookingStatus::Requested);
    }

    #[tokio::test]
    async fn request_refused_by_the_rules_keeps_the_domain_error_and_code() {
        let far = BookingPolicy::default().with_min_notice(Duration::days(4)).unwrap();
        let err = request_with(far, Actor::student(STUDENT)).await.unwrap_err();
        assert!(
            matches!(err, Error::Domain(DomainError::MinNotice { minutes: 5760 })),
            "{err:?}"
        );
        assert_eq!(err.code(), "min_notice");

        let near = BookingPolicy::default().with_max_advance(Duration::days(1)).unwrap();
        let err = request_with(near, Actor::student(STUDENT)).await.unwrap_err();
        assert_eq!(err.domain(), Some(&DomainError::MaxAdvance { days: 1 }));

        let err = request_with(BookingPolicy::default(), Actor::student(TEACHER))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "own_slot");
    }

    #[tokio::test]
    async fn request_on_a_missing_slot_is_not_found_and_changes_nothing() {
        let mut store = MockStore::new();
        expect_unit(&mut store, World::default());
        let err = service(store, ids([uuid(2)]))
            .request(&Actor::student(STUDENT), SlotId::from_uuid(uuid(1)))
            .await
            .unwrap_err();
        assert_eq!(err.domain(), Some(&DomainError::NotFound { entity: "slot" }));
    }

    // ----- storage failures -----

    #[tokio::test]
    async fn storage_failures_map_to_storage_unavailable() {
        // A failing command.
        let mut store = MockStore::new();
        store.expect_execute().times(1).returning(|_, _, _| Err(storage_down()));
        let err = service(store, ids([uuid(2)]))
            .request(&Actor::student(STUDENT), SlotId::from_uuid(uuid(1)))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Storage(_)));
        assert_eq!(err.code(), "storage_unavailable");
        assert_eq!(err.domain(), None);

        // A failing policy read.
        let mut store = MockStore::new();
        store.expect_policy().times(1).returning(|_| Err(storage_down()));
        let err = service(store, no_ids()).policy(TEACHER).await.unwrap_err();
        assert_eq!(err.code(), "storage_unavailable");

        // A failing query behind a permission check.
        let mut store = MockStore::new();
        store
            .expect_student_credits()
            .times(1)
            .returning(|_| Err(storage_down()));
        let err = service(store, no_ids())
            .credits(&Actor::student(STUDENT), STUDENT)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "storage_unavailable");
        assert!(err.to_string().contains("connection reset"));
    }

    #[tokio::test]
    async fn a_store_that_loses_the_decisions_answer_is_a_storage_error() {
        let mut store = MockStore::new();
        store
            .expect_execute()
            .times(1)
            .returning(|_, _, _| Ok(Unit::new(crate::Loaded::default())));
        let err = service(store, no_ids())
            .approve(&Actor::teacher(TEACHER), BookingId::from_uuid(uuid(2)))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Storage(_)), "{err:?}");
        assert_eq!(err.code(), "storage_unavailable");
    }

    // ----- approve / decline -----

    #[tokio::test]
    async fn approve_confirms_on_the_slot_the_booking_is_on() {
        let mut slot = open_slot(1, TEACHER, 1);
        let booking = book(&mut slot, 2, STUDENT, &BookingPolicy::default());
        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot));
        let approved = service(store, no_ids())
            .approve(&Actor::teacher(TEACHER), booking)
            .await
            .unwrap();
        assert_eq!(approved.id(), booking);
        assert_eq!(approved.status(), BookingStatus::Confirmed);
        assert_eq!(approved.updated_at(), NOW);
    }

    #[tokio::test]
    async fn approve_by_another_teacher_finds_no_such_booking() {
        let mut slot = open_slot(1, TEACHER, 1);
        let booking = book(&mut slot, 2, STUDENT, &BookingPolicy::default());
        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot));
        let err = service(store, no_ids())
            .approve(&Actor::teacher(OTHER_TEACHER), booking)
            .await
            .unwrap_err();
        assert_eq!(err.domain(), Some(&DomainError::NotFound { entity: "booking" }));
    }

    #[tokio::test]
    async fn decline_declines_the_request() {
        let mut slot = open_slot(1, TEACHER, 1);
        let booking = book(&mut slot, 2, STUDENT, &BookingPolicy::default());
        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot));
        let declined = service(store, no_ids())
            .decline(&Actor::staff(STAFF), booking)
            .await
            .unwrap();
        assert_eq!(declined.status(), BookingStatus::Declined);
    }

    #[tokio::test]
    async fn a_command_on_an_unknown_booking_is_not_found_and_changes_nothing() {
        let mut store = MockStore::new();
        expect_unit(&mut store, World::default());
        let err = service(store, no_ids())
            .approve(&Actor::teacher(TEACHER), BookingId::from_uuid(uuid(2)))
            .await
            .unwrap_err();
        assert_eq!(err.domain(), Some(&DomainError::NotFound { entity: "booking" }));
    }

    // ----- cancellations -----

    async fn cancel_with(policy: BookingPolicy) -> Result<Booking> {
        let mut slot = open_slot(1, TEACHER, 1);
        let booking = book(&mut slot, 2, STUDENT, &instant_policy());
        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot).policy(TEACHER, policy));
        service(store, no_ids()).cancel(&Actor::student(STUDENT), booking).await
    }

    #[tokio::test]
    async fn cancel_applies_the_slot_teachers_cancellation_window() {
        // The lesson is 72 h away: strict (48 h) still allows it, a 96 h window does not.
        let strict = BookingPolicy::default().with_cancellation_tier(CancellationTier::Strict);
        let cancelled = cancel_with(strict).await.unwrap();
        assert_eq!(cancelled.status(), BookingStatus::Cancelled);

        let long = BookingPolicy::default()
            .with_cancel_window(Duration::hours(96))
            .unwrap();
        let err = cancel_with(long).await.unwrap_err();
        assert_eq!(err.domain(), Some(&DomainError::CancellationWindowClosed { hours: 96 }));
        assert_eq!(err.code(), "cancellation_window_closed");
    }

    #[tokio::test]
    async fn teacher_cancel_returns_the_booking_and_the_credit_with_the_drawn_id() {
        let mut slot = open_slot(1, TEACHER, 1);
        let booking = book(&mut slot, 2, STUDENT, &instant_policy());
        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot));
        let (cancelled, credit) = service(store, ids([uuid(3)]))
            .teacher_cancel(&Actor::teacher(TEACHER), booking)
            .await
            .unwrap();
        assert_eq!(cancelled.status(), BookingStatus::TeacherCancelled);
        assert_eq!(credit.id(), CreditId::from_uuid(uuid(3)));
        assert_eq!(credit.student(), STUDENT);
        assert_eq!(credit.teacher(), TEACHER);
        assert_eq!(credit.source_booking(), booking);
        assert_eq!(credit.issued_at(), NOW);
        assert_eq!(credit.expires_at(), NOW + Duration::days(30));
        assert_eq!(credit.status(), CreditStatus::Active);
    }

    #[tokio::test]
    async fn teacher_cancel_of_a_request_is_refused() {
        let mut slot = open_slot(1, TEACHER, 1);
        let booking = book(&mut slot, 2, STUDENT, &BookingPolicy::default());
        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot));
        let err = service(store, ids([uuid(3)]))
            .teacher_cancel(&Actor::teacher(TEACHER), booking)
            .await
            .unwrap_err();
        assert_eq!(
            err.domain(),
            Some(&DomainError::InvalidBookingStatus { status: "requested" })
        );
    }

    #[tokio::test]
    async fn cancel_slot_draws_a_credit_id_per_possible_seat_and_returns_the_issued_credits() {
        let mut slot = open_slot(1, TEACHER, 3);
        book(&mut slot, 2, STUDENT, &instant_policy());
        book(&mut slot, 3, OTHER_STUDENT, &instant_policy());
        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot));
        let (cancelled, credits) = service(store, ids([uuid(10), uuid(11), uuid(12), uuid(13)]))
            .cancel_slot(&Actor::teacher(TEACHER), slot.id())
            .await
            .unwrap();
        assert_eq!(cancelled.status(), SlotStatus::Cancelled);
        assert_eq!(cancelled.booked_count(), 0);
        let issued: Vec<_> = credits.iter().map(|c| (c.id(), c.student())).collect();
        assert_eq!(
            issued,
            vec![
                (CreditId::from_uuid(uuid(10)), STUDENT),
                (CreditId::from_uuid(uuid(11)), OTHER_STUDENT)
            ]
        );
    }

    #[tokio::test]
    async fn delete_slot_runs_on_the_given_slot_and_checks_the_teacher() {
        let slot = open_slot(1, TEACHER, 1);
        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot));
        service(store, no_ids())
            .delete_slot(&Actor::teacher(TEACHER), slot.id())
            .await
            .unwrap();

        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot));
        let err = service(store, no_ids())
            .delete_slot(&Actor::teacher(OTHER_TEACHER), slot.id())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "forbidden");
    }

    // ----- attendance and credits -----

    #[tokio::test]
    async fn mark_attendance_uses_the_clock() {
        let mut slot = open_slot(1, TEACHER, 1);
        let booking = book(&mut slot, 2, STUDENT, &instant_policy());
        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot));
        let err = service(store, no_ids())
            .mark_attendance(&Actor::teacher(TEACHER), booking, Attendance::Completed)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "lesson_not_started");

        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot));
        let marked = service_at(LESSON_OVER, store, no_ids())
            .mark_attendance(&Actor::teacher(TEACHER), booking, Attendance::NoShow)
            .await
            .unwrap();
        assert_eq!(marked.status(), BookingStatus::NoShow);
        assert_eq!(marked.updated_at(), LESSON_OVER);
    }

    fn active_credit(teacher: UserId) -> MakeupCredit {
        MakeupCredit::restore(
            CreditId::from_uuid(uuid(5)),
            STUDENT,
            teacher,
            BookingId::from_uuid(uuid(6)),
            NOW - Duration::days(1),
            NOW + Duration::days(29),
            tutorbook_domain::CreditStatus::Active,
            None,
        )
        .unwrap()
    }

    fn store_redeeming(credit: MakeupCredit, slot: Slot) -> MockStore {
        let mut store = MockStore::new();
        expect_unit(&mut store, World::of(&slot).credit(&credit));
        store
    }

    #[tokio::test]
    async fn redeem_credit_books_the_slot_with_the_drawn_id() {
        let (credit, slot) = (active_credit(TEACHER), open_slot(1, TEACHER, 1));
        let (credit_id, slot_id) = (credit.id(), slot.id());
        let booking = service(store_redeeming(credit, slot), ids([uuid(7)]))
            .redeem_credit(&Actor::student(STUDENT), credit_id, slot_id)
            .await
            .unwrap();
        assert_eq!(booking.id(), BookingId::from_uuid(uuid(7)));
        assert_eq!(booking.slot(), slot_id);
        assert_eq!(booking.status(), BookingStatus::Confirmed);
        assert_eq!(booking.source(), BookingSource::Credit(credit_id));
        assert_eq!(booking.created_at(), NOW);
    }

    #[tokio::test]
    async fn redeem_credit_refusals_keep_their_codes() {
        let (credit, slot) = (active_credit(OTHER_TEACHER), open_slot(1, TEACHER, 1));
        let (credit_id, slot_id) = (credit.id(), slot.id());
        let err = service(store_redeeming(credit, slot.clone()), ids([uuid(7)]))
            .redeem_credit(&Actor::student(STUDENT), credit_id, slot_id)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "credit_wrong_teacher");

        let credit = active_credit(TEACHER);
        let err = service(store_redeeming(credit, slot), ids([uuid(7)]))
            .redeem_credit(&Actor::student(OTHER_STUDENT), credit_id, slot_id)
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            "not_found",
            "another student's credit does not exist for them"
        );
    }

    // ----- permission checks of the reads and set_policy -----

    #[tokio::test]
    async fn credits_are_for_their_student_and_staff_only() {
        let cases = [
            (Actor::student(STUDENT), true),
            (Actor::staff(STAFF), true),
            (Actor::student(OTHER_STUDENT), false),
            (Actor::teacher(TEACHER), false),
        ];
        for (actor, allowed) in cases {
            let mut store = MockStore::new();
            if allowed {
                store
                    .expect_student_credits()
                    .withf(|student| *student == STUDENT)
                    .times(1)
                    .returning(|_| Ok(vec![active_credit(TEACHER)]));
            } else {
                store.expect_student_credits().times(0);
            }
            let got = service(store, no_ids()).credits(&actor, STUDENT).await;
            if allowed {
                assert_eq!(got.unwrap(), vec![active_credit(TEACHER)], "{actor:?}");
            } else {
                assert_eq!(got.unwrap_err().code(), "forbidden", "{actor:?}");
            }
        }
    }

    #[tokio::test]
    async fn history_is_for_the_student_the_slots_teacher_and_staff_only() {
        let mut slot = open_slot(1, TEACHER, 1);
        let booking = book(&mut slot, 2, STUDENT, &BookingPolicy::default());
        let entries = {
            let mut copy = slot.clone();
            copy.approve(booking, &Actor::teacher(TEACHER), NOW).unwrap().audit
        };
        let cases = [
            (Actor::student(STUDENT), true),
            (Actor::teacher(TEACHER), true),
            (Actor::staff(STAFF), true),
            (Actor::student(OTHER_STUDENT), false),
            (Actor::teacher(OTHER_TEACHER), false),
        ];
        for (actor, allowed) in cases {
            let mut store = MockStore::new();
            expect_booking_lookup(&mut store, booking, slot.id());
            expect_slot_read(&mut store, &slot);
            if allowed {
                let answer = entries.clone();
                store
                    .expect_history()
                    .withf(move |asked| *asked == booking)
                    .times(1)
                    .returning(move |_| Ok(answer.clone()));
            } else {
                store.expect_history().times(0);
            }
            let got = service(store, no_ids()).history(&actor, booking).await;
            if allowed {
                assert_eq!(got.unwrap(), entries, "{actor:?}");
            } else {
                assert_eq!(got.unwrap_err().code(), "not_found", "{actor:?}");
            }
        }
    }

    #[tokio::test]
    async fn history_of_a_booking_missing_from_its_slot_is_not_found() {
        let slot = open_slot(1, TEACHER, 1);
        let booking = BookingId::from_uuid(uuid(2));
        let mut store = MockStore::new();
        expect_booking_lookup(&mut store, booking, slot.id());
        expect_slot_read(&mut store, &slot);
        store.expect_history().times(0);
        let err = service(store, no_ids())
            .history(&Actor::staff(STAFF), booking)
            .await
            .unwrap_err();
        assert_eq!(err.domain(), Some(&DomainError::NotFound { entity: "booking" }));
    }

    #[tokio::test]
    async fn set_policy_is_for_the_teacher_themself_and_staff_only() {
        let policy = BookingPolicy::default().with_approval(false, true);
        let cases = [
            (Actor::teacher(TEACHER), true),
            (Actor::staff(STAFF), true),
            (Actor::teacher(OTHER_TEACHER), false),
            (Actor::student(STUDENT), false),
            // The teacher's user acting as a student may not.
            (Actor::student(TEACHER), false),
        ];
        for (actor, allowed) in cases {
            let mut store = MockStore::new();
            if allowed {
                store
                    .expect_set_policy()
                    .withf(move |teacher, saved| *teacher == TEACHER && *saved == policy)
                    .times(1)
                    .returning(|_, _| Ok(()));
            } else {
                store.expect_set_policy().times(0);
            }
            let got = service(store, no_ids()).set_policy(&actor, TEACHER, policy).await;
            if allowed {
                got.unwrap();
            } else {
                assert_eq!(got.unwrap_err().code(), "forbidden", "{actor:?}");
            }
        }
    }

    #[tokio::test]
    async fn policy_is_readable_without_an_actor() {
        let policy = BookingPolicy::default().with_approval(false, true);
        let mut store = MockStore::new();
        expect_policy(&mut store, TEACHER, policy);
        assert_eq!(service(store, no_ids()).policy(TEACHER).await.unwrap(), policy);
    }
}
