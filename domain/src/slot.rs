//! The slot aggregate: a bookable time of one teacher together with its
//! bookings. Every seat decision goes through it, so its invariants
//! (`0 <= booked_count <= capacity`, one active booking per student) hold by
//! construction. Each command checks everything first and only then mutates,
//! so a refused command leaves the slot exactly as it was.

use crate::{
    Actor, AuditEntry, Booking, BookingId, BookingPolicy, BookingSource, BookingStatus, Capacity, CreditId,
    DeclineReason, DomainError, DomainEvent, DomainResult, EnrollmentId, LessonWindow, MakeupCredit, Meeting,
    PackageSessionId, PlatformSettings, Role, SlotId, UserId, Waitlist, Zone,
};

mod waitlist;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// Whether a slot still takes bookings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotStatus {
    /// Bookable (subject to the rules).
    Open,
    /// Cancelled by the teacher as a whole.
    Cancelled,
    /// Deleted by the teacher before anyone booked; kept for history.
    Deleted,
}

impl SlotStatus {
    /// Stable text form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Cancelled => "cancelled",
            Self::Deleted => "deleted",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Cancelled, Self::Deleted]
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// What a teacher asks for when opening a slot.
#[derive(Debug, Clone)]
pub struct SlotDraft {
    /// The teacher who will teach.
    pub teacher: UserId,
    /// Start and end.
    pub window: LessonWindow,
    /// The teacher's zone at creation (for local-day views and emails).
    pub zone: Zone,
    /// Seats: 1 for one-to-one, 2.. for a group.
    pub capacity: u32,
    /// Meeting details.
    pub meeting: Meeting,
    /// Set when the slot is a course-package session.
    pub package_session: Option<PackageSessionId>,
    /// The line a full group slot keeps, if any (docs/waitlists.md).
    pub waitlist: Option<Waitlist>,
}

/// Everything a command caused, for the store to persist atomically with the slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Facts for the outbox.
    pub events: Vec<DomainEvent>,
    /// Booking history rows.
    pub audit: Vec<AuditEntry>,
    /// Make-up credits issued or changed by the command.
    pub credits: Vec<MakeupCredit>,
    /// The booking the command created or acted on, when there is one.
    pub booking: Option<BookingId>,
}

/// Attendance a teacher records after the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    /// The lesson took place.
    Completed,
    /// The student did not come.
    NoShow,
}

/// A bookable time of one teacher with its bookings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    id: SlotId,
    teacher: UserId,
    window: LessonWindow,
    zone: Zone,
    capacity: Capacity,
    package_session: Option<PackageSessionId>,
    meeting: Meeting,
    status: SlotStatus,
    created_at: OffsetDateTime,
    bookings: Vec<Booking>,
    #[serde(default)]
    waitlist: Option<Waitlist>,
}

impl Slot {
    /// The time range in which another slot of the teacher could collide with
    /// `window`: the store loads the teacher's slots in it for [`Slot::open`].
    pub fn overlap_search_range(window: &LessonWindow, policy: &BookingPolicy) -> (OffsetDateTime, OffsetDateTime) {
        let b = policy.buffers();
        let reach = b.before + b.after;
        (window.start() - reach, window.end() + reach)
    }

    /// Opens a new slot. `teacher_slots` are the teacher's slots the store found
    /// in [`Slot::overlap_search_range`] (under the teacher's lock); any open one
    /// colliding with the new window, buffers included, refuses the command.
    pub fn open(
        id: SlotId,
        draft: SlotDraft,
        actor: &Actor,
        teacher_slots: &[Slot],
        policy: &BookingPolicy,
        settings: &PlatformSettings,
        now: OffsetDateTime,
    ) -> DomainResult<(Self, Outcome)> {
        let acting_as_teacher = actor.role == Role::Teacher && actor.user == draft.teacher;
        if !(acting_as_teacher || actor.is_staff()) {
            return Err(DomainError::Forbidden);
        }
        Self::open_for(id, draft, teacher_slots, policy, settings, now)
    }

    /// Opens a slot for whoever the caller checked may open it: the
    /// teacher, staff, or a student booking a bookable time.
    pub(crate) fn open_for(
        id: SlotId,
        draft: SlotDraft,
        teacher_slots: &[Slot],
        policy: &BookingPolicy,
        settings: &PlatformSettings,
        now: OffsetDateTime,
    ) -> DomainResult<(Self, Outcome)> {
        if draft.window.start() <= now {
            return Err(DomainError::SlotInPast);
        }
        let capacity = Capacity::new(draft.capacity, settings)?;
        if draft.waitlist.is_some() && !waitlist::may_keep_one(capacity, draft.package_session) {
            return Err(DomainError::WaitlistNotAvailable);
        }
        let collides = teacher_slots.iter().any(|other| {
            other.status == SlotStatus::Open
                && other.teacher == draft.teacher
                && other.window.collides_with(&draft.window, policy.buffers())
        });
        if collides {
            return Err(DomainError::SlotOverlap);
        }
        let slot = Self {
            id,
            teacher: draft.teacher,
            window: draft.window,
            zone: draft.zone,
            capacity,
            package_session: draft.package_session,
            meeting: draft.meeting,
            status: SlotStatus::Open,
            created_at: now,
            bookings: Vec::new(),
            waitlist: draft.waitlist,
        };
        let outcome = Outcome {
            events: vec![DomainEvent::SlotOpened {
                slot: id,
                teacher: slot.teacher,
                start: slot.window.start(),
            }],
            ..Outcome::default()
        };
        Ok((slot, outcome))
    }

    /// Rebuilds a slot read back from storage, checking its invariants so that
    /// corrupt rows are reported instead of silently trusted.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        id: SlotId,
        teacher: UserId,
        window: LessonWindow,
        zone: Zone,
        capacity: Capacity,
        package_session: Option<PackageSessionId>,
        meeting: Meeting,
        status: SlotStatus,
        created_at: OffsetDateTime,
        bookings: Vec<Booking>,
    ) -> DomainResult<Self> {
        let slot = Self {
            id,
            teacher,
            window,
            zone,
            capacity,
            package_session,
            meeting,
            status,
            created_at,
            bookings,
            waitlist: None,
        };
        slot.check_invariants()?;
        Ok(slot)
    }

    /// Restores the waitlist setting of a slot read back from storage.
    pub fn with_waitlist(mut self, waitlist: Option<Waitlist>) -> Self {
        self.waitlist = waitlist;
        self
    }

    /// Checks what must always hold: bookings belong to this slot, confirmed
    /// seats within capacity, at most one active booking per student.
    pub fn check_invariants(&self) -> DomainResult<()> {
        let corrupt = |reason: &str| Err(DomainError::invalid("slot", format!("slot {}: {reason}", self.id)));
        if self.bookings.iter().any(|b| b.slot != self.id) {
            return corrupt("holds a booking of another slot");
        }
        if self.seats_held() > self.capacity.get() {
            return corrupt("more confirmed bookings and seat offers than seats");
        }
        let mut active: Vec<UserId> = self.active_bookings().map(|b| b.student).collect();
        active.sort();
        if active.windows(2).any(|pair| pair[0] == pair[1]) {
            return corrupt("a student holds two active bookings");
        }
        Ok(())
    }

    // ----- reading -----

    /// Its id.
    pub fn id(&self) -> SlotId {
        self.id
    }

    /// The teacher.
    pub fn teacher(&self) -> UserId {
        self.teacher
    }

    /// Start and end.
    pub fn window(&self) -> LessonWindow {
        self.window
    }

    /// The teacher's zone at creation.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// Seats.
    pub fn capacity(&self) -> Capacity {
        self.capacity
    }

    /// The course-package session this slot belongs to, if any.
    pub fn package_session(&self) -> Option<PackageSessionId> {
        self.package_session
    }

    /// Meeting details.
    pub fn meeting(&self) -> &Meeting {
        &self.meeting
    }

    /// Whether `viewer` sees the slot's roster (every booking): its teacher
    /// and staff. Everyone else sees only the seat count.
    pub fn shows_roster_to(&self, viewer: Option<&Actor>) -> bool {
        viewer.is_some_and(|a| a.is_or_staff(self.teacher))
    }

    /// Whether `viewer` may see booking `booking` of this slot: its student,
    /// the slot's teacher, or staff. To anyone else it does not exist
    /// (`not_found`, docs/product.md §15): an id they guessed or saw tells
    /// them nothing.
    pub fn shows_booking_to(&self, booking: BookingId, viewer: &Actor) -> bool {
        self.booking(booking)
            .is_some_and(|b| viewer.is_or_staff(b.student) || viewer.user == self.teacher)
    }

    /// Whether `viewer` sees the meeting link: the people in the lesson (its
    /// teacher, staff, and students holding a seat), nobody else.
    pub fn shows_meeting_to(&self, viewer: Option<&Actor>) -> bool {
        self.shows_roster_to(viewer)
            || viewer.is_some_and(|a| {
                self.bookings
                    .iter()
                    .any(|b| b.student == a.user && b.status.holds_seat())
            })
    }

    /// Open, cancelled or deleted.
    pub fn status(&self) -> SlotStatus {
        self.status
    }

    /// When it was opened.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// All bookings, in the order they were made.
    pub fn bookings(&self) -> &[Booking] {
        &self.bookings
    }

    /// One booking of this slot.
    pub fn booking(&self, id: BookingId) -> Option<&Booking> {
        self.bookings.iter().find(|b| b.id == id)
    }

    /// Confirmed seats: always the number of confirmed bookings.
    pub fn booked_count(&self) -> u32 {
        let confirmed = self.bookings.iter().filter(|b| b.status.holds_seat()).count();
        u32::try_from(confirmed).unwrap_or(u32::MAX)
    }

    /// Seats taken: confirmed bookings and seats offered to someone on the
    /// waitlist (kept for them until the offer is answered or expires).
    pub fn seats_held(&self) -> u32 {
        let offers = self.bookings.iter().filter(|b| b.offer_expires_at.is_some()).count();
        self.booked_count()
            .saturating_add(u32::try_from(offers).unwrap_or(u32::MAX))
    }

    /// True when no seat is left for a newcomer.
    pub fn is_full(&self) -> bool {
        self.seats_held() >= self.capacity.get()
    }

    /// The slot's waitlist, if it keeps one (docs/waitlists.md).
    pub fn waitlist(&self) -> Option<Waitlist> {
        self.waitlist
    }

    /// Whether a student could see it in browse: open, in the future, not a
    /// package session, with a seat left or a waitlist to join.
    pub fn is_browsable(&self, now: OffsetDateTime) -> bool {
        self.status == SlotStatus::Open
            && self.window.start() > now
            && (!self.is_full() || self.waitlist.is_some())
            && self.package_session.is_none()
    }

    fn active_bookings(&self) -> impl Iterator<Item = &Booking> {
        self.bookings.iter().filter(|b| b.status.is_active())
    }

    // ----- commands -----

    /// A student asks for a seat (docs/product.md §5 "Request"). With approval required the
    /// booking is `requested` and takes no seat; otherwise it is `confirmed`.
    pub fn request(
        &mut self,
        booking: BookingId,
        actor: &Actor,
        policy: &BookingPolicy,
        now: OffsetDateTime,
    ) -> DomainResult<Outcome> {
        self.request_as(booking, actor, policy, now, BookingSource::Direct)
    }

    /// [`Slot::request`] recording how the seat was asked for (a trial).
    pub(crate) fn request_as(
        &mut self,
        booking: BookingId,
        actor: &Actor,
        policy: &BookingPolicy,
        now: OffsetDateTime,
        source: BookingSource,
    ) -> DomainResult<Outcome> {
        match self.check_bookable_by(actor.user, now) {
            Err(DomainError::SlotFull) if self.waitlist.is_some() && source == BookingSource::Direct => {
                policy.check_lead(self.window.start() - now)?;
                return Ok(self.join_line(booking, actor, now));
            }
            checked => checked?,
        }
        policy.check_lead(self.window.start() - now)?;
        if policy.requires_approval(self.capacity.is_one_on_one()) {
            let mut outcome = self.admit(booking, actor.user, BookingStatus::Requested, source, actor, now);
            outcome.events.push(DomainEvent::BookingRequested {
                booking,
                slot: self.id,
                student: actor.user,
                teacher: self.teacher,
            });
            Ok(outcome)
        } else {
            Ok(self.admit_confirmed(booking, actor.user, source, actor, now))
        }
    }

    /// The teacher approves a request: it takes a seat, and when that fills the
    /// slot every competing request is declined.
    pub fn approve(&mut self, booking: BookingId, actor: &Actor, now: OffsetDateTime) -> DomainResult<Outcome> {
        self.seen_booking_index(booking, actor)?;
        self.check_teacher(actor)?;
        let index = self.requested_index(booking)?;
        if self.window.start() <= now {
            return Err(DomainError::SlotInPast);
        }
        if self.is_full() {
            return Err(DomainError::SlotFull);
        }
        let mut outcome = Outcome {
            booking: Some(booking),
            ..Outcome::default()
        };
        self.transition(index, BookingStatus::Confirmed, actor, "approved", now, &mut outcome);
        let student = self.bookings[index].student;
        outcome.events.push(DomainEvent::BookingConfirmed {
            booking,
            slot: self.id,
            student,
            teacher: self.teacher,
        });
        if self.is_full() {
            self.decline_waiting(DeclineReason::SlotFilled, actor, now, &mut outcome);
        }
        Ok(outcome)
    }

    /// The teacher declines a request.
    pub fn decline(&mut self, booking: BookingId, actor: &Actor, now: OffsetDateTime) -> DomainResult<Outcome> {
        self.seen_booking_index(booking, actor)?;
        self.check_teacher(actor)?;
        let index = self.requested_index(booking)?;
        let mut outcome = Outcome {
            booking: Some(booking),
            ..Outcome::default()
        };
        self.transition(
            index,
            BookingStatus::Declined,
            actor,
            "declined_by_teacher",
            now,
            &mut outcome,
        );
        outcome.events.push(DomainEvent::BookingDeclined {
            booking,
            slot: self.id,
            student: self.bookings[index].student,
            reason: DeclineReason::ByTeacher,
        });
        Ok(outcome)
    }

    /// The student (or staff) cancels an active booking. A confirmed one gives
    /// its seat back but only until the teacher's cancellation window closes.
    pub fn cancel_by_student(
        &mut self,
        booking: BookingId,
        actor: &Actor,
        policy: &BookingPolicy,
        now: OffsetDateTime,
    ) -> DomainResult<Outcome> {
        let index = self.seen_booking_index(booking, actor)?;
        let current = &self.bookings[index];
        if !actor.is_or_staff(current.student) {
            return Err(DomainError::Forbidden);
        }
        if !current.status.is_active() {
            return Err(DomainError::InvalidBookingStatus {
                status: current.status.as_str(),
            });
        }
        let held_seat = current.status.holds_seat();
        let held_offer = current.offer_expires_at.is_some();
        if held_seat && now > self.window.start() - policy.cancel_window() {
            return Err(DomainError::CancellationWindowClosed {
                hours: policy.cancel_window().whole_hours(),
            });
        }
        let student = current.student;
        let mut outcome = Outcome {
            booking: Some(booking),
            ..Outcome::default()
        };
        self.transition(
            index,
            BookingStatus::Cancelled,
            actor,
            "cancelled_by_student",
            now,
            &mut outcome,
        );
        outcome.events.push(DomainEvent::BookingCancelled {
            booking,
            slot: self.id,
            student,
            by: *actor,
        });
        if held_seat {
            self.seat_released(now, &mut outcome);
        } else if held_offer {
            self.refill(now, &mut outcome);
        }
        Ok(outcome)
    }

    /// The teacher cancels one confirmed lesson before it starts; the student
    /// gets a make-up credit with this teacher.
    pub fn cancel_by_teacher(
        &mut self,
        booking: BookingId,
        credit: CreditId,
        actor: &Actor,
        settings: &PlatformSettings,
        now: OffsetDateTime,
    ) -> DomainResult<Outcome> {
        let index = self.seen_booking_index(booking, actor)?;
        self.check_teacher(actor)?;
        let status = self.bookings[index].status;
        if status != BookingStatus::Confirmed {
            return Err(DomainError::InvalidBookingStatus {
                status: status.as_str(),
            });
        }
        if self.window.start() <= now {
            return Err(DomainError::SlotInPast);
        }
        let mut outcome = Outcome {
            booking: Some(booking),
            ..Outcome::default()
        };
        self.teacher_cancel_at(index, credit, actor, settings, now, &mut outcome);
        self.seat_released(now, &mut outcome);
        Ok(outcome)
    }

    /// The teacher cancels the whole slot before it starts: every confirmed
    /// student gets a credit, every waiting request is declined. `credit_ids`
    /// must hold a fresh id per seat (the capacity is a safe count).
    pub fn cancel_all(
        &mut self,
        actor: &Actor,
        credit_ids: &[CreditId],
        settings: &PlatformSettings,
        now: OffsetDateTime,
    ) -> DomainResult<Outcome> {
        self.check_teacher(actor)?;
        if self.status != SlotStatus::Open {
            return Err(DomainError::SlotClosed);
        }
        if self.window.start() <= now {
            return Err(DomainError::SlotInPast);
        }
        let confirmed: Vec<usize> = (0..self.bookings.len())
            .filter(|&i| self.bookings[i].status == BookingStatus::Confirmed)
            .collect();
        if credit_ids.len() < confirmed.len() {
            return Err(DomainError::invalid(
                "credit_ids",
                "one fresh id per confirmed seat is needed",
            ));
        }
        let mut outcome = Outcome::default();
        let had_seats = !confirmed.is_empty();
        for (index, credit) in confirmed.into_iter().zip(credit_ids) {
            self.teacher_cancel_at(index, *credit, actor, settings, now, &mut outcome);
        }
        self.decline_waiting(DeclineReason::SlotCancelled, actor, now, &mut outcome);
        self.status = SlotStatus::Cancelled;
        outcome.events.push(DomainEvent::SlotCancelled { slot: self.id });
        if had_seats {
            self.seat_released(now, &mut outcome);
        }
        Ok(outcome)
    }

    /// The teacher deletes a future slot nobody is booked or waiting on that is
    /// not a package session.
    pub fn delete(&mut self, actor: &Actor, now: OffsetDateTime) -> DomainResult<Outcome> {
        self.check_teacher(actor)?;
        if self.status != SlotStatus::Open {
            return Err(DomainError::SlotClosed);
        }
        if self.package_session.is_some() {
            return Err(DomainError::PackageSlot);
        }
        if self.window.start() <= now {
            return Err(DomainError::SlotInPast);
        }
        if self.active_bookings().next().is_some() {
            return Err(DomainError::SlotHasBookings);
        }
        self.status = SlotStatus::Deleted;
        Ok(Outcome {
            events: vec![DomainEvent::SlotDeleted { slot: self.id }],
            ..Outcome::default()
        })
    }

    /// Expires every request on this slot that nobody answered before the
    /// lesson started (docs/product.md §5), and every place on its waitlist
    /// (docs/waitlists.md): each becomes `expired` (by the system, no actor)
    /// and its student is told. Nothing to do before the
    /// start, or when no request waits: an empty outcome, so the job that
    /// calls it may run any number of times, anywhere.
    pub fn expire_unanswered(&mut self, now: OffsetDateTime) -> Outcome {
        let mut outcome = Outcome::default();
        if now < self.window.start() {
            return outcome;
        }
        for index in 0..self.bookings.len() {
            let (reason, waitlisted) = match self.bookings[index].status {
                BookingStatus::Requested => ("expired", false),
                BookingStatus::Waitlisted => ("waitlist_ended", true),
                _ => continue,
            };
            self.transition_by(index, BookingStatus::Expired, None, reason, now, &mut outcome);
            let booking = &self.bookings[index];
            outcome.events.push(DomainEvent::BookingExpired {
                booking: booking.id,
                slot: self.id,
                student: booking.student,
                waitlisted,
            });
        }
        outcome
    }

    /// Completes every confirmed booking of a lesson that ended at least
    /// `grace` before `now` without an attendance mark (docs/product.md §5):
    /// the teacher had that long to say otherwise. Idempotent like
    /// [`Slot::expire_unanswered`].
    pub fn complete_unmarked(&mut self, now: OffsetDateTime, grace: Duration) -> Outcome {
        let mut outcome = Outcome::default();
        if now < self.window.end() + grace {
            return outcome;
        }
        for index in 0..self.bookings.len() {
            if self.bookings[index].status != BookingStatus::Confirmed {
                continue;
            }
            self.transition_by(
                index,
                BookingStatus::Completed,
                None,
                "completed_unmarked",
                now,
                &mut outcome,
            );
            outcome.events.push(DomainEvent::LessonCompleted {
                booking: self.bookings[index].id,
            });
        }
        outcome
    }

    /// Moves `booking` to `to`, another slot of the same teacher, as the new
    /// booking `moved` (docs/product.md §5). Its student, the teacher or
    /// staff may; strangers are told it does not exist. A lesson that
    /// started does not move. The new booking keeps the old one's source and
    /// passes every rule of a new request on `to` under `policy` (the
    /// teacher's). Its status: the teacher or staff moving it keep it (their
    /// move is their approval); a student's request follows the target's
    /// approval rule like a new one, and a student's confirmed lesson moves
    /// only onto a slot that needs no approval (`approval_required`) and
    /// within the old lesson's cancel window. The new seat is taken before
    /// the old one is given back (filling the target declines its waiting
    /// requests), and any refusal leaves both slots as they were.
    pub fn reschedule_to(
        &mut self,
        booking: BookingId,
        to: &mut Slot,
        moved: BookingId,
        actor: &Actor,
        policy: &BookingPolicy,
        now: OffsetDateTime,
    ) -> DomainResult<Outcome> {
        let index = self.seen_booking_index(booking, actor)?;
        let current = self.bookings[index].clone();
        if !current.status.is_active() {
            return Err(DomainError::InvalidBookingStatus {
                status: current.status.as_str(),
            });
        }
        if let BookingSource::Package(_) = current.source {
            // A package's sessions move with the package (a revision), not one by one.
            return Err(DomainError::PackageSlot);
        }
        if to.id == self.id {
            return Err(DomainError::invalid("slot", "is the booking's own slot"));
        }
        if to.teacher != self.teacher {
            return Err(DomainError::invalid("slot", "must be a slot of the same teacher"));
        }
        if self.window.start() <= now {
            return Err(DomainError::SlotInPast);
        }
        let held_seat = current.status.holds_seat();
        let held_offer = current.offer_expires_at.is_some();
        let by_student = actor.user == current.student && !actor.is_staff();
        let needs_approval = policy.requires_approval(to.capacity.is_one_on_one());
        let status = match (by_student, held_seat) {
            (false, _) => current.status,
            (true, true) if needs_approval => return Err(DomainError::ApprovalRequired),
            (true, true) => BookingStatus::Confirmed,
            (true, false) if needs_approval => BookingStatus::Requested,
            (true, false) => BookingStatus::Confirmed,
        };
        if by_student && held_seat && now > self.window.start() - policy.cancel_window() {
            return Err(DomainError::CancellationWindowClosed {
                hours: policy.cancel_window().whole_hours(),
            });
        }
        to.check_bookable_by(current.student, now)?;
        policy.check_lead(to.window.start() - now)?;

        let mut outcome = to.admit(moved, current.student, status, current.source, actor, now);
        if let Some(entry) = outcome.audit.last_mut() {
            entry.reason = "rescheduled".to_owned();
        }
        if status.holds_seat() && to.is_full() {
            to.decline_waiting(DeclineReason::SlotFilled, actor, now, &mut outcome);
        }
        self.transition(index, BookingStatus::Cancelled, actor, "rescheduled", now, &mut outcome);
        if held_seat {
            self.seat_released(now, &mut outcome);
        } else if held_offer {
            self.refill(now, &mut outcome);
        }
        outcome.booking = Some(moved);
        outcome.events.push(DomainEvent::BookingRescheduled {
            booking,
            slot: self.id,
            moved,
            to: to.id,
            student: current.student,
            teacher: self.teacher,
            confirmed: status.holds_seat(),
            by: *actor,
        });
        Ok(outcome)
    }

    /// The teacher records attendance of a confirmed booking once the lesson has started.
    pub fn mark_attendance(
        &mut self,
        booking: BookingId,
        attendance: Attendance,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> DomainResult<Outcome> {
        let index = self.seen_booking_index(booking, actor)?;
        self.check_teacher(actor)?;
        let status = self.bookings[index].status;
        if status != BookingStatus::Confirmed {
            return Err(DomainError::InvalidBookingStatus {
                status: status.as_str(),
            });
        }
        if now < self.window.start() {
            return Err(DomainError::LessonNotStarted);
        }
        // The time was used, so no seat is released (no `SeatReleased`). The
        // booking stops being `confirmed`, so `booked_count` (confirmed bookings,
        // docs/product.md §5) drops, but a started slot takes no new bookings anyway.
        let (to, reason, event) = match attendance {
            Attendance::Completed => (
                BookingStatus::Completed,
                "completed",
                DomainEvent::LessonCompleted { booking },
            ),
            Attendance::NoShow => (BookingStatus::NoShow, "no_show", DomainEvent::LessonNoShow { booking }),
        };
        let mut outcome = Outcome {
            booking: Some(booking),
            ..Outcome::default()
        };
        self.transition(index, to, actor, reason, now, &mut outcome);
        outcome.events.push(event);
        Ok(outcome)
    }

    /// Books `student` into a seat paid by a make-up credit (called by
    /// [`MakeupCredit::redeem_into`] once the credit's own checks passed).
    pub(crate) fn admit_with_credit(
        &mut self,
        booking: BookingId,
        student: UserId,
        credit: CreditId,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> DomainResult<Outcome> {
        self.check_bookable_by(student, now)?;
        Ok(self.admit_confirmed(booking, student, BookingSource::Credit(credit), actor, now))
    }

    /// Seats `student` on this package session for their enrollment (called
    /// by [`crate::Enrollment::enroll`] for every session of the package, so
    /// one refusal refuses the whole enrollment). Package sessions skip the
    /// teacher's notice and approval rules: buying the package is the request.
    pub(crate) fn admit_enrolled(
        &mut self,
        booking: BookingId,
        student: UserId,
        enrollment: EnrollmentId,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> DomainResult<Outcome> {
        if self.package_session.is_none() {
            return Err(DomainError::invalid("slot", "not a session of a package"));
        }
        if self.status != SlotStatus::Open {
            return Err(DomainError::SlotClosed);
        }
        if student == self.teacher {
            return Err(DomainError::OwnSlot);
        }
        if self.window.start() <= now {
            return Err(DomainError::SlotInPast);
        }
        if self.active_bookings().any(|b| b.student == student) {
            return Err(DomainError::DuplicateBooking);
        }
        if self.is_full() {
            return Err(DomainError::SlotFull);
        }
        Ok(self.admit_confirmed(booking, student, BookingSource::Package(enrollment), actor, now))
    }

    /// Cancels an enrolled student's confirmed seat because the enrollment was
    /// refunded (called by [`crate::Enrollment::refund`]): the seat goes back.
    pub(crate) fn release_refunded(
        &mut self,
        booking: BookingId,
        actor: &Actor,
        now: OffsetDateTime,
        outcome: &mut Outcome,
    ) -> DomainResult<()> {
        let index = self.booking_index(booking)?;
        let current = &self.bookings[index];
        if current.status != BookingStatus::Confirmed {
            return Err(DomainError::InvalidBookingStatus {
                status: current.status.as_str(),
            });
        }
        let student = current.student;
        self.transition(index, BookingStatus::Cancelled, actor, "refunded", now, outcome);
        outcome.events.push(DomainEvent::BookingCancelled {
            booking,
            slot: self.id,
            student,
            by: *actor,
        });
        self.seat_released(now, outcome);
        Ok(())
    }

    // ----- internals -----

    /// The checks every new booking passes, in the order a person would want to hear them.
    fn check_bookable_by(&self, student: UserId, now: OffsetDateTime) -> DomainResult<()> {
        if self.status != SlotStatus::Open {
            return Err(DomainError::SlotClosed);
        }
        if self.package_session.is_some() {
            return Err(DomainError::PackageSlot);
        }
        if student == self.teacher {
            return Err(DomainError::OwnSlot);
        }
        if self.window.start() <= now {
            return Err(DomainError::SlotInPast);
        }
        if self.active_bookings().any(|b| b.student == student) {
            return Err(DomainError::DuplicateBooking);
        }
        if self.is_full() {
            return Err(DomainError::SlotFull);
        }
        Ok(())
    }

    fn check_teacher(&self, actor: &Actor) -> DomainResult<()> {
        if actor.is_or_staff(self.teacher) {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }

    fn booking_index(&self, booking: BookingId) -> DomainResult<usize> {
        self.bookings
            .iter()
            .position(|b| b.id == booking)
            .ok_or(DomainError::NotFound { entity: "booking" })
    }

    /// The booking's index when `actor` may see it ([`Slot::shows_booking_to`]);
    /// `not_found` otherwise, before any other rule speaks.
    fn seen_booking_index(&self, booking: BookingId, actor: &Actor) -> DomainResult<usize> {
        let index = self.booking_index(booking)?;
        if self.shows_booking_to(booking, actor) {
            Ok(index)
        } else {
            Err(DomainError::NotFound { entity: "booking" })
        }
    }

    fn requested_index(&self, booking: BookingId) -> DomainResult<usize> {
        let index = self.booking_index(booking)?;
        match self.bookings[index].status {
            BookingStatus::Requested => Ok(index),
            other => Err(DomainError::InvalidBookingStatus { status: other.as_str() }),
        }
    }

    fn admit_confirmed(
        &mut self,
        booking: BookingId,
        student: UserId,
        source: BookingSource,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> Outcome {
        let mut outcome = self.admit(booking, student, BookingStatus::Confirmed, source, actor, now);
        outcome.events.push(DomainEvent::BookingConfirmed {
            booking,
            slot: self.id,
            student,
            teacher: self.teacher,
        });
        // Whatever filled the last seat, nobody should keep waiting on it.
        if self.is_full() {
            self.decline_waiting(DeclineReason::SlotFilled, actor, now, &mut outcome);
        }
        outcome
    }

    fn admit(
        &mut self,
        id: BookingId,
        student: UserId,
        status: BookingStatus,
        source: BookingSource,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> Outcome {
        self.bookings.push(Booking {
            id,
            slot: self.id,
            student,
            status,
            source,
            created_at: now,
            updated_at: now,
            offer_expires_at: None,
        });
        let reason = match source {
            BookingSource::Direct | BookingSource::Trial => status.as_str(),
            BookingSource::Credit(_) => "credit_redeemed",
            BookingSource::Package(_) => "enrolled",
        };
        Outcome {
            audit: vec![AuditEntry {
                booking: id,
                slot: self.id,
                actor: Some(actor.user),
                at: now,
                from: None,
                to: status,
                reason: reason.to_owned(),
            }],
            booking: Some(id),
            ..Outcome::default()
        }
    }

    fn transition(
        &mut self,
        index: usize,
        to: BookingStatus,
        actor: &Actor,
        reason: &str,
        now: OffsetDateTime,
        outcome: &mut Outcome,
    ) {
        self.transition_by(index, to, Some(actor.user), reason, now, outcome);
    }

    /// A status change by `actor`, or by the system when `None`.
    fn transition_by(
        &mut self,
        index: usize,
        to: BookingStatus,
        actor: Option<UserId>,
        reason: &str,
        now: OffsetDateTime,
        outcome: &mut Outcome,
    ) {
        let booking = &mut self.bookings[index];
        outcome.audit.push(AuditEntry {
            booking: booking.id,
            slot: self.id,
            actor,
            at: now,
            from: Some(booking.status),
            to,
            reason: reason.to_owned(),
        });
        booking.status = to;
        booking.updated_at = now;
        if to != BookingStatus::Waitlisted {
            booking.offer_expires_at = None;
        }
    }

    fn teacher_cancel_at(
        &mut self,
        index: usize,
        credit_id: CreditId,
        actor: &Actor,
        settings: &PlatformSettings,
        now: OffsetDateTime,
        outcome: &mut Outcome,
    ) {
        self.transition(
            index,
            BookingStatus::TeacherCancelled,
            actor,
            "cancelled_by_teacher",
            now,
            outcome,
        );
        let booking = &self.bookings[index];
        let credit = MakeupCredit::issue(credit_id, booking.student, self.teacher, booking.id, settings, now);
        outcome.events.push(DomainEvent::BookingTeacherCancelled {
            booking: booking.id,
            slot: self.id,
            student: booking.student,
            credit: credit_id,
        });
        outcome.events.push(DomainEvent::CreditIssued {
            credit: credit_id,
            student: booking.student,
            teacher: self.teacher,
            expires_at: credit.expires_at(),
        });
        outcome.credits.push(credit);
    }

    /// Tells everyone waiting on this slot that they will not get a seat:
    /// pending requests and the waitlist. When the slot just filled and keeps
    /// a waitlist, its pending requests join the line instead and the line
    /// stays (docs/waitlists.md).
    fn decline_waiting(&mut self, reason: DeclineReason, actor: &Actor, now: OffsetDateTime, outcome: &mut Outcome) {
        if reason == DeclineReason::SlotFilled && self.waitlist.is_some() {
            self.requests_join_line(Some(actor.user), now, outcome);
            return;
        }
        let word = match reason {
            DeclineReason::ByTeacher => "declined_by_teacher",
            DeclineReason::SlotFilled => "slot_filled",
            DeclineReason::SlotCancelled => "slot_cancelled",
            DeclineReason::WaitlistClosed => "waitlist_closed",
        };
        for index in 0..self.bookings.len() {
            let waiting = matches!(
                self.bookings[index].status,
                BookingStatus::Requested | BookingStatus::Waitlisted
            );
            if waiting {
                self.transition(index, BookingStatus::Declined, actor, word, now, outcome);
                let booking = &self.bookings[index];
                outcome.events.push(DomainEvent::BookingDeclined {
                    booking: booking.id,
                    slot: self.id,
                    student: booking.student,
                    reason,
                });
            }
        }
    }

    /// A confirmed seat went back: the waitlist gets first go at it, then
    /// whoever watches the seat count hears the new figure.
    fn seat_released(&mut self, now: OffsetDateTime, outcome: &mut Outcome) {
        self.refill(now, outcome);
        outcome.events.push(DomainEvent::SeatReleased {
            slot: self.id,
            booked_count: self.booked_count(),
        });
    }
}
