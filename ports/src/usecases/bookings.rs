//! Booking use cases: slots, requests, approvals, cancellations, credits,
//! attendance and history. Each method reads the policy it needs, builds a
//! decision from the domain rules and lets the store run it atomically.

use time::OffsetDateTime;
use tutorbook_domain::{
    Actor, Attendance, AuditEntry, Booking, BookingId, BookingPolicy, CreditId, DomainError, LessonWindow,
    MakeupCredit, Meeting, PlatformSettings, Role, Slot, SlotDraft, SlotId, UserId, Zone,
};

use crate::{BookingStore, Clock, Committed, Error, IdGen, PolicyStore, Result};

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
}

/// The booking use cases over a store `S`, a clock `C` and an id source `I`.
#[derive(Debug, Clone)]
pub struct Bookings<S, C, I> {
    store: S,
    clock: C,
    ids: I,
    settings: PlatformSettings,
}

impl<S, C, I> Bookings<S, C, I>
where
    S: BookingStore + PolicyStore,
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
        }
    }

    /// The store, for read models the use cases don't wrap.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Opens a slot; refused when it overlaps another of the teacher's slots
    /// (buffers included), is in the past, or has a bad capacity.
    pub async fn open_slot(&self, actor: &Actor, input: OpenSlot) -> Result<Slot> {
        let window = LessonWindow::new(input.start, input.end)?;
        let policy = self.store.policy(input.teacher).await?;
        let search = Slot::overlap_search_range(&window, &policy);
        let draft = SlotDraft {
            teacher: input.teacher,
            window,
            zone: input.zone,
            capacity: input.capacity,
            meeting: input.meeting,
            package_session: None,
        };
        let (id, actor, settings, now) = (
            SlotId::from_uuid(self.ids.new_id()),
            *actor,
            self.settings,
            self.clock.now(),
        );
        let committed = self
            .store
            .open_slot(
                input.teacher,
                search,
                Box::new(move |existing| Slot::open(id, draft, &actor, existing, &policy, &settings, now)),
            )
            .await?;
        Ok(committed.slot)
    }

    /// A student requests a seat: `requested` when the teacher must approve, else `confirmed`.
    pub async fn request(&self, actor: &Actor, slot: SlotId) -> Result<Booking> {
        let teacher = self.slot_teacher(slot).await?;
        let policy = self.store.policy(teacher).await?;
        let (id, actor, now) = (BookingId::from_uuid(self.ids.new_id()), *actor, self.clock.now());
        let committed = self
            .store
            .change_slot(slot, Box::new(move |s| s.request(id, &actor, &policy, now)))
            .await?;
        booking_of(&committed)
    }

    /// The slot's teacher (or staff) approves a request.
    pub async fn approve(&self, actor: &Actor, booking: BookingId) -> Result<Booking> {
        let (actor, now) = (*actor, self.clock.now());
        self.change_booking(booking, Box::new(move |s| s.approve(booking, &actor, now)))
            .await
    }

    /// The slot's teacher (or staff) declines a request.
    pub async fn decline(&self, actor: &Actor, booking: BookingId) -> Result<Booking> {
        let (actor, now) = (*actor, self.clock.now());
        self.change_booking(booking, Box::new(move |s| s.decline(booking, &actor, now)))
            .await
    }

    /// The booking's student (or staff) cancels it.
    pub async fn cancel(&self, actor: &Actor, booking: BookingId) -> Result<Booking> {
        let slot = self.slot_id_of(booking).await?;
        let policy = self.store.policy(self.slot_teacher(slot).await?).await?;
        let (actor, now) = (*actor, self.clock.now());
        let committed = self
            .store
            .change_slot(
                slot,
                Box::new(move |s| s.cancel_by_student(booking, &actor, &policy, now)),
            )
            .await?;
        booking_of(&committed)
    }

    /// The slot's teacher (or staff) cancels a confirmed lesson; returns the
    /// booking and the make-up credit the student received.
    pub async fn teacher_cancel(&self, actor: &Actor, booking: BookingId) -> Result<(Booking, MakeupCredit)> {
        let (actor, now, settings) = (*actor, self.clock.now(), self.settings);
        let credit = CreditId::from_uuid(self.ids.new_id());
        let slot = self.slot_id_of(booking).await?;
        let committed = self
            .store
            .change_slot(
                slot,
                Box::new(move |s| s.cancel_by_teacher(booking, credit, &actor, &settings, now)),
            )
            .await?;
        let credit = committed
            .outcome
            .credits
            .first()
            .cloned()
            .ok_or_else(|| Error::Storage("teacher cancellation saved without its credit".into()))?;
        Ok((booking_of(&committed)?, credit))
    }

    /// The slot's teacher (or staff) cancels the whole slot; returns the credits issued.
    pub async fn cancel_slot(&self, actor: &Actor, slot: SlotId) -> Result<(Slot, Vec<MakeupCredit>)> {
        let (actor, now, settings) = (*actor, self.clock.now(), self.settings);
        // Enough fresh ids for every seat, drawn before the store's lock is taken.
        let seats = self.slot_capacity(slot).await?;
        let credit_ids: Vec<CreditId> = (0..seats).map(|_| CreditId::from_uuid(self.ids.new_id())).collect();
        let committed = self
            .store
            .change_slot(
                slot,
                Box::new(move |s| s.cancel_all(&actor, &credit_ids, &settings, now)),
            )
            .await?;
        Ok((committed.slot, committed.outcome.credits))
    }

    /// The slot's teacher (or staff) deletes an unbooked future slot.
    pub async fn delete_slot(&self, actor: &Actor, slot: SlotId) -> Result<()> {
        let (actor, now) = (*actor, self.clock.now());
        self.store
            .change_slot(slot, Box::new(move |s| s.delete(&actor, now)))
            .await?;
        Ok(())
    }

    /// The slot's teacher (or staff) records attendance after the start.
    pub async fn mark_attendance(&self, actor: &Actor, booking: BookingId, attendance: Attendance) -> Result<Booking> {
        let (actor, now) = (*actor, self.clock.now());
        self.change_booking(
            booking,
            Box::new(move |s| s.mark_attendance(booking, attendance, &actor, now)),
        )
        .await
    }

    /// The credit's student redeems it into a slot of the same teacher.
    pub async fn redeem_credit(&self, actor: &Actor, credit: CreditId, slot: SlotId) -> Result<Booking> {
        let (id, actor, now) = (BookingId::from_uuid(self.ids.new_id()), *actor, self.clock.now());
        let committed = self
            .store
            .redeem_credit(credit, slot, Box::new(move |c, s| c.redeem_into(s, id, &actor, now)))
            .await?;
        booking_of(&committed)
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
        let slot = self.slot_id_of(booking).await?;
        let slot = self.store.slot(slot).await?.ok_or_else(|| Error::not_found("slot"))?;
        let student = slot
            .booking(booking)
            .map(Booking::student)
            .ok_or_else(|| Error::not_found("booking"))?;
        if !(actor.is_or_staff(student) || actor.user == slot.teacher()) {
            return Err(DomainError::Forbidden.into());
        }
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

    async fn change_booking(&self, booking: BookingId, decide: crate::SlotDecision) -> Result<Booking> {
        let slot = self.slot_id_of(booking).await?;
        let committed = self.store.change_slot(slot, decide).await?;
        booking_of(&committed)
    }

    async fn slot_id_of(&self, booking: BookingId) -> Result<SlotId> {
        self.store
            .slot_of_booking(booking)
            .await?
            .ok_or_else(|| Error::not_found("booking"))
    }

    async fn slot_teacher(&self, slot: SlotId) -> Result<UserId> {
        Ok(self.existing_slot(slot).await?.teacher())
    }

    async fn slot_capacity(&self, slot: SlotId) -> Result<u32> {
        Ok(self.existing_slot(slot).await?.capacity().get())
    }

    async fn existing_slot(&self, slot: SlotId) -> Result<Slot> {
        self.store.slot(slot).await?.ok_or_else(|| Error::not_found("slot"))
    }
}

/// The booking a committed command created or acted on.
fn booking_of(committed: &Committed) -> Result<Booking> {
    committed
        .outcome
        .booking
        .and_then(|id| committed.slot.booking(id))
        .cloned()
        .ok_or_else(|| Error::Storage("committed change lost its booking".into()))
}
