//! Waitlists (docs/waitlists.md): a full group slot keeps a first come, first
//! served line; freed seats go to its head, confirmed at once or offered for a
//! while. Named cases first, then properties over arbitrary command sequences.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, BookingId, BookingStatus, DeclineReason, DomainEvent, DomainResult, Outcome, Slot, SlotDraft, Waitlist,
};

fn offer_mode() -> Waitlist {
    Waitlist::offer(Duration::hours(2)).unwrap()
}

/// A group slot of `capacity` at [`START`] keeping `waitlist`.
fn waitlisted_slot(capacity: u32, waitlist: Waitlist) -> Slot {
    open_draft(
        slot_id(1),
        SlotDraft {
            waitlist: Some(waitlist),
            ..draft(START, capacity)
        },
    )
}

/// Student `n` asks for a seat on a full slot and joins the line (booking id `n`).
fn queue(slot: &mut Slot, n: u128, at: OffsetDateTime) -> BookingId {
    let id = booking_id(n);
    let outcome = slot.request(id, &student(n), &instant_policy(), at).unwrap();
    assert_eq!(status_of(slot, id), BookingStatus::Waitlisted);
    assert!(outcome.events.contains(&DomainEvent::BookingWaitlisted {
        booking: id,
        slot: slot.id(),
        student: student(n).user,
    }));
    id
}

fn cancel(slot: &mut Slot, n: u128, at: OffsetDateTime) -> Outcome {
    slot.cancel_by_student(booking_id(n), &student(n), &instant_policy(), at)
        .unwrap()
}

#[test]
fn without_a_waitlist_a_full_slot_is_refused() {
    let mut slot = slot(2);
    confirm(&mut slot, 1);
    confirm(&mut slot, 2);
    assert_refused(&mut slot, "slot_full", |s| {
        s.request(booking_id(3), &student(3), &instant_policy(), NOW)
    });
}

#[test]
fn a_full_slot_with_a_waitlist_lines_students_up_in_order() {
    let mut slot = waitlisted_slot(2, Waitlist::AutoPromote);
    confirm(&mut slot, 1);
    confirm(&mut slot, 2);
    let third = queue(&mut slot, 3, NOW);
    let fourth = queue(&mut slot, 4, NOW + Duration::MINUTE);
    assert_eq!(slot.waitlist_position(third), Some(1));
    assert_eq!(slot.waitlist_position(fourth), Some(2));
    assert_eq!(slot.waitlist_position(booking_id(1)), None);
    assert_eq!(slot.booked_count(), 2);
    // Still a duplicate for someone already in line.
    assert_refused(&mut slot, "duplicate_booking", |s| {
        s.request(booking_id(9), &student(3), &instant_policy(), NOW)
    });
}

#[test]
fn auto_promote_confirms_the_head_in_the_same_command() {
    let mut slot = waitlisted_slot(2, Waitlist::AutoPromote);
    confirm(&mut slot, 1);
    confirm(&mut slot, 2);
    queue(&mut slot, 3, NOW);
    queue(&mut slot, 4, NOW + Duration::MINUTE);
    let outcome = cancel(&mut slot, 1, NOW + Duration::HOUR);
    assert_eq!(status_of(&slot, booking_id(3)), BookingStatus::Confirmed);
    assert_eq!(status_of(&slot, booking_id(4)), BookingStatus::Waitlisted);
    assert_eq!(slot.waitlist_position(booking_id(4)), Some(1));
    assert_eq!(slot.booked_count(), 2);
    assert!(outcome.events.contains(&DomainEvent::WaitlistPromoted {
        booking: booking_id(3),
        slot: slot.id(),
        student: student(3).user,
        teacher: user(TEACHER),
    }));
    // The promotion is the system's, after the student's cancellation.
    let promoted = outcome.audit.iter().find(|e| e.booking == booking_id(3)).unwrap();
    assert_eq!((promoted.actor, promoted.reason.as_str()), (None, "promoted"));
    // The seat count event reports the count after the promotion.
    assert!(outcome.events.contains(&DomainEvent::SeatReleased {
        slot: slot.id(),
        booked_count: 2
    }));
}

#[test]
fn a_teacher_cancellation_and_a_leaving_student_promote_too() {
    let mut slot = waitlisted_slot(2, Waitlist::AutoPromote);
    confirm(&mut slot, 1);
    confirm(&mut slot, 2);
    queue(&mut slot, 3, NOW);
    queue(&mut slot, 4, NOW);
    // Leaving the line frees no seat and promotes nobody.
    let outcome = cancel(&mut slot, 3, NOW);
    assert_eq!(status_of(&slot, booking_id(3)), BookingStatus::Cancelled);
    assert!(
        !outcome
            .events
            .iter()
            .any(|e| matches!(e, DomainEvent::WaitlistPromoted { .. }))
    );
    slot.cancel_by_teacher(booking_id(2), credit_id(1), &teacher(), &settings(), NOW)
        .unwrap();
    assert_eq!(status_of(&slot, booking_id(4)), BookingStatus::Confirmed);
}

#[test]
fn offer_mode_holds_the_seat_until_the_deadline() {
    let mut slot = waitlisted_slot(2, offer_mode());
    confirm(&mut slot, 1);
    confirm(&mut slot, 2);
    queue(&mut slot, 3, NOW);
    queue(&mut slot, 4, NOW);
    let outcome = cancel(&mut slot, 1, NOW);
    let deadline = NOW + Duration::hours(2);
    assert_eq!(slot.booking(booking_id(3)).unwrap().offer_expires_at(), Some(deadline));
    assert!(outcome.events.contains(&DomainEvent::SeatOffered {
        booking: booking_id(3),
        slot: slot.id(),
        student: student(3).user,
        expires_at: deadline,
    }));
    // The offered seat is held: a newcomer joins the line behind.
    assert_eq!(slot.booked_count(), 1);
    assert!(slot.is_full());
    queue(&mut slot, 5, NOW);
    // Only the student it was offered to may take it, before the deadline.
    assert_refused(&mut slot, "no_offer", |s| {
        s.accept_offer(booking_id(4), &student(4), NOW)
    });
    assert_refused(&mut slot, "not_found", |s| {
        s.accept_offer(booking_id(3), &student(4), NOW)
    });
    assert_refused(&mut slot, "offer_expired", |s| {
        s.accept_offer(booking_id(3), &student(3), deadline)
    });
    let accepted = slot
        .accept_offer(booking_id(3), &student(3), deadline - Duration::SECOND)
        .unwrap();
    assert_eq!(status_of(&slot, booking_id(3)), BookingStatus::Confirmed);
    assert_eq!(slot.booking(booking_id(3)).unwrap().offer_expires_at(), None);
    assert!(
        accepted
            .events
            .iter()
            .any(|e| matches!(e, DomainEvent::BookingConfirmed { booking, .. } if *booking == booking_id(3)))
    );
    assert_eq!(slot.waitlist_position(booking_id(4)), Some(1));
}

#[test]
fn an_expired_or_declined_offer_passes_to_the_next_in_line() {
    let mut slot = waitlisted_slot(2, offer_mode());
    confirm(&mut slot, 1);
    confirm(&mut slot, 2);
    queue(&mut slot, 3, NOW);
    queue(&mut slot, 4, NOW + Duration::SECOND);
    queue(&mut slot, 5, NOW + Duration::SECOND * 2);
    cancel(&mut slot, 1, NOW);
    // Nothing to expire before the deadline: the job is a no-op.
    assert_eq!(slot.expire_offers(NOW + Duration::HOUR), Outcome::default());
    let later = NOW + Duration::hours(2);
    let expired = slot.expire_offers(later);
    assert_eq!(status_of(&slot, booking_id(3)), BookingStatus::Expired);
    assert!(expired.events.contains(&DomainEvent::OfferExpired {
        booking: booking_id(3),
        slot: slot.id(),
        student: student(3).user,
    }));
    assert_eq!(
        slot.booking(booking_id(4)).unwrap().offer_expires_at(),
        Some(later + Duration::hours(2))
    );
    // Running the job again changes nothing.
    assert_eq!(slot.expire_offers(later), Outcome::default());
    slot.decline_offer(booking_id(4), &student(4), later).unwrap();
    assert_eq!(status_of(&slot, booking_id(4)), BookingStatus::Cancelled);
    assert!(slot.booking(booking_id(5)).unwrap().offer_expires_at().is_some());
}

#[test]
fn an_offer_never_outlives_the_start() {
    let mut slot = waitlisted_slot(2, Waitlist::offer(Duration::days(7)).unwrap());
    confirm(&mut slot, 1);
    confirm(&mut slot, 2);
    queue(&mut slot, 3, NOW);
    cancel(&mut slot, 1, NOW);
    assert_eq!(slot.booking(booking_id(3)).unwrap().offer_expires_at(), Some(START));
}

#[test]
fn the_line_ends_when_the_lesson_starts() {
    let mut slot = waitlisted_slot(2, Waitlist::AutoPromote);
    confirm(&mut slot, 1);
    confirm(&mut slot, 2);
    queue(&mut slot, 3, NOW);
    let outcome = slot.expire_unanswered(START);
    assert_eq!(status_of(&slot, booking_id(3)), BookingStatus::Expired);
    assert!(outcome.events.contains(&DomainEvent::BookingExpired {
        booking: booking_id(3),
        slot: slot.id(),
        student: student(3).user,
        waitlisted: true,
    }));
}

#[test]
fn pending_requests_join_the_line_when_the_slot_fills() {
    let mut slot = waitlisted_slot(2, Waitlist::AutoPromote);
    let asked = ask(&mut slot, 1);
    confirm(&mut slot, 2);
    confirm(&mut slot, 3);
    assert_eq!(status_of(&slot, asked), BookingStatus::Waitlisted);
    assert_eq!(slot.waitlist_position(asked), Some(1));
}

#[test]
fn only_open_group_slots_keep_a_waitlist() {
    let mut one = slot(1);
    assert_refused(&mut one, "waitlist_not_available", |s| {
        s.set_waitlist(Some(Waitlist::AutoPromote), &teacher(), NOW)
    });
    let mut package = package_slot(3);
    assert_refused(&mut package, "waitlist_not_available", |s| {
        s.set_waitlist(Some(Waitlist::AutoPromote), &teacher(), NOW)
    });
    let mut group = slot(3);
    assert_refused(&mut group, "forbidden", |s| {
        s.set_waitlist(Some(Waitlist::AutoPromote), &student(1), NOW)
    });
    assert_refused(&mut group, "slot_in_past", |s| {
        s.set_waitlist(Some(Waitlist::AutoPromote), &teacher(), START)
    });
    group
        .set_waitlist(Some(Waitlist::AutoPromote), &teacher(), NOW)
        .unwrap();
    assert_eq!(group.waitlist(), Some(Waitlist::AutoPromote));
}

#[test]
fn turning_the_waitlist_off_declines_the_line_and_frees_held_seats() {
    let mut slot = waitlisted_slot(2, offer_mode());
    confirm(&mut slot, 1);
    confirm(&mut slot, 2);
    queue(&mut slot, 3, NOW);
    queue(&mut slot, 4, NOW);
    cancel(&mut slot, 1, NOW);
    let outcome = slot.set_waitlist(None, &teacher(), NOW).unwrap();
    for n in [3, 4] {
        assert_eq!(status_of(&slot, booking_id(n)), BookingStatus::Declined);
    }
    assert!(outcome.events.contains(&DomainEvent::BookingDeclined {
        booking: booking_id(4),
        slot: slot.id(),
        student: student(4).user,
        reason: DeclineReason::WaitlistClosed,
    }));
    assert!(!slot.is_full());
}

#[test]
fn switching_modes_keeps_outstanding_offers() {
    let mut slot = waitlisted_slot(2, offer_mode());
    confirm(&mut slot, 1);
    confirm(&mut slot, 2);
    queue(&mut slot, 3, NOW);
    queue(&mut slot, 4, NOW + Duration::SECOND);
    cancel(&mut slot, 1, NOW);
    slot.set_waitlist(Some(Waitlist::AutoPromote), &teacher(), NOW).unwrap();
    assert!(slot.booking(booking_id(3)).unwrap().offer_expires_at().is_some());
    assert_eq!(status_of(&slot, booking_id(4)), BookingStatus::Waitlisted);
    assert_eq!(slot.seats_held(), 2);
    // The next freed seat follows the new mode.
    slot.decline_offer(booking_id(3), &student(3), NOW).unwrap();
    assert_eq!(status_of(&slot, booking_id(4)), BookingStatus::Confirmed);
}

#[test]
fn a_rescheduled_seat_goes_to_the_line() {
    let mut from = waitlisted_slot(2, Waitlist::AutoPromote);
    confirm(&mut from, 1);
    confirm(&mut from, 2);
    queue(&mut from, 3, NOW);
    let mut to = slot_at(slot_id(2), START + Duration::days(1), 3);
    from.reschedule_to(
        booking_id(1),
        &mut to,
        booking_id(11),
        &student(1),
        &instant_policy(),
        NOW,
    )
    .unwrap();
    assert_eq!(status_of(&from, booking_id(3)), BookingStatus::Confirmed);
}

// ----- properties -----

const STUDENTS: u128 = 8;

#[derive(Debug, Clone)]
enum Command {
    Request { student: u128, slot: usize },
    Cancel { booking: Index },
    TeacherCancel { booking: Index },
    Accept { booking: Index },
    Decline { booking: Index },
    ExpireOffers,
    Reschedule { booking: Index },
    SetWaitlist { slot: usize, waitlist: Option<Waitlist> },
}

fn waitlist_strategy() -> impl Strategy<Value = Waitlist> {
    prop_oneof![
        Just(Waitlist::AutoPromote),
        (5..=240_i64).prop_map(|m| Waitlist::offer(Duration::minutes(m)).unwrap()),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        10 => (1..=STUDENTS, 0..2_usize).prop_map(|(student, slot)| Command::Request { student, slot }),
        4 => any::<Index>().prop_map(|booking| Command::Cancel { booking }),
        2 => any::<Index>().prop_map(|booking| Command::TeacherCancel { booking }),
        4 => any::<Index>().prop_map(|booking| Command::Accept { booking }),
        2 => any::<Index>().prop_map(|booking| Command::Decline { booking }),
        2 => Just(Command::ExpireOffers),
        2 => any::<Index>().prop_map(|booking| Command::Reschedule { booking }),
        1 => (0..2_usize, prop::option::weighted(0.8, waitlist_strategy()))
            .prop_map(|(slot, waitlist)| Command::SetWaitlist { slot, waitlist }),
    ]
}

/// Two group slots of the teacher, a day apart, and the clock.
struct World {
    slots: [Slot; 2],
    now: OffsetDateTime,
    next: u128,
}

impl World {
    fn new(capacity: u32, waitlists: [Waitlist; 2]) -> Self {
        let open = |n: u128, start: OffsetDateTime, waitlist: Waitlist| {
            open_draft(
                slot_id(n),
                SlotDraft {
                    waitlist: Some(waitlist),
                    ..draft(start, capacity)
                },
            )
        };
        Self {
            slots: [
                open(1, START, waitlists[0]),
                open(2, START + Duration::days(1), waitlists[1]),
            ],
            now: NOW,
            next: 100,
        }
    }

    /// Some booking of either slot (its slot's index), or one that does not exist.
    fn pick(&self, index: Index) -> (usize, BookingId, Actor) {
        let all: Vec<(usize, BookingId, Actor)> = (0..2)
            .flat_map(|s| {
                self.slots[s]
                    .bookings()
                    .iter()
                    .map(move |b| (s, b.id(), Actor::student(b.student())))
            })
            .collect();
        let picked = index.index(all.len() + 1);
        all.get(picked).copied().unwrap_or((0, booking_id(0xDEAD), student(1)))
    }

    fn apply(&mut self, command: &Command) -> DomainResult<Outcome> {
        let now = self.now;
        self.next += 1;
        let fresh = booking_id(self.next);
        let policy = instant_policy();
        match *command {
            Command::Request { student: n, slot } => self.slots[slot].request(fresh, &student(n), &policy, now),
            Command::Cancel { booking } => {
                let (s, id, owner) = self.pick(booking);
                self.slots[s].cancel_by_student(id, &owner, &policy, now)
            }
            Command::TeacherCancel { booking } => {
                let (s, id, _) = self.pick(booking);
                self.slots[s].cancel_by_teacher(id, credit_id(self.next), &teacher(), &settings(), now)
            }
            Command::Accept { booking } => {
                let (s, id, owner) = self.pick(booking);
                self.slots[s].accept_offer(id, &owner, now)
            }
            Command::Decline { booking } => {
                let (s, id, owner) = self.pick(booking);
                self.slots[s].decline_offer(id, &owner, now)
            }
            Command::ExpireOffers => {
                let mut outcome = self.slots[0].expire_offers(now);
                let second = self.slots[1].expire_offers(now);
                outcome.events.extend(second.events);
                outcome.audit.extend(second.audit);
                Ok(outcome)
            }
            Command::Reschedule { booking } => {
                let (s, id, owner) = self.pick(booking);
                let [first, second] = &mut self.slots;
                let (from, to) = if s == 0 { (first, second) } else { (second, first) };
                from.reschedule_to(id, to, fresh, &owner, &policy, now)
            }
            Command::SetWaitlist { slot, waitlist } => self.slots[slot].set_waitlist(waitlist, &teacher(), now),
        }
    }
}

/// Seats are never oversold, nobody waits while a seat sits idle, and every
/// seat the command gave away went to someone ahead of everyone still waiting.
fn check_slot(slot: &Slot, outcome: Option<&Outcome>, now: OffsetDateTime) -> Result<(), TestCaseError> {
    prop_assert!(slot.booked_count() <= slot.capacity().get());
    prop_assert!(slot.seats_held() <= slot.capacity().get());
    prop_assert_eq!(slot.check_invariants(), Ok(()));
    let key = |id: BookingId| {
        let b = slot.booking(id).expect("booking of the slot");
        (b.created_at(), b.id())
    };
    let waiting: Vec<BookingId> = slot
        .bookings()
        .iter()
        .filter(|b| b.status() == BookingStatus::Waitlisted && b.offer_expires_at().is_none())
        .map(|b| b.id())
        .collect();
    if slot.waitlist().is_some() && slot.window().start() > now && !waiting.is_empty() {
        prop_assert!(slot.is_full(), "someone waits while a seat is free");
    }
    let line: Vec<BookingId> = slot.waitlist_line().iter().map(|b| b.id()).collect();
    let mut sorted = line.clone();
    sorted.sort_by_key(|id| key(*id));
    prop_assert_eq!(&line, &sorted, "the line is not in arrival order");
    for event in outcome.map(|o| o.events.as_slice()).unwrap_or_default() {
        let served = match event {
            DomainEvent::WaitlistPromoted { booking, slot: s, .. }
            | DomainEvent::SeatOffered { booking, slot: s, .. }
                if *s == slot.id() =>
            {
                *booking
            }
            _ => continue,
        };
        for later in &waiting {
            prop_assert!(key(served) < key(*later), "a seat skipped someone ahead in line");
        }
    }
    Ok(())
}

fn steps() -> impl Strategy<Value = Vec<(i64, Command)>> {
    prop::collection::vec((prop_oneof![3 => Just(0_i64), 2 => 1..=180_i64], command()), 1..=60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn seats_are_never_oversold_the_line_is_fifo_and_refusals_change_nothing(
        capacity in 2..=4_u32,
        waitlists in [waitlist_strategy(), waitlist_strategy()],
        steps in steps(),
    ) {
        let mut world = World::new(capacity, waitlists);
        for (minutes, command) in &steps {
            world.now += Duration::minutes(*minutes);
            let before = world.slots.clone();
            let result = world.apply(command);
            match &result {
                Err(_) => prop_assert_eq!(&world.slots, &before, "a refused command changed a slot"),
                Ok(outcome) => {
                    for slot in &world.slots {
                        check_slot(slot, Some(outcome), world.now)?;
                    }
                }
            }
        }
    }
}
