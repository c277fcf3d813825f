//! Waitlists (docs/waitlists.md): a full group slot keeps a first come,
//! first served line; a freed seat goes to its head (confirmed at once, or
//! offered until a deadline), the same on every store and under concurrency.

use std::sync::Arc;

use time::Duration;
use tutorbook_domain::Zone;
use tutorbook_domain::{
    Actor, Booking, BookingId, BookingPolicy, BookingStatus, DomainEvent, PlatformSettings, Slot, Waitlist,
};
use tutorbook_memory::{ManualClock, MemoryMailer};
use tutorbook_ports::effects::{Notifications, OutboxWorker, ReminderPlan, RetryPolicy};
use tutorbook_ports::{Bookings, UuidV7, WaitlistChoice};

use crate::backends::Store;
use crate::conformance;
use crate::effects::directory;
use crate::world::{TEACHER, World, at, code, race, slot_input, student, transitions};

fn teacher() -> Actor {
    Actor::teacher(TEACHER)
}

fn offers(minutes: i64) -> Waitlist {
    Waitlist::offer(Duration::minutes(minutes)).unwrap()
}

/// Opens a group slot of `capacity` at day 1, 10:00 keeping `waitlist`.
async fn slot_with<S: Store>(w: &World<S>, capacity: u32, waitlist: WaitlistChoice) -> Slot {
    let input = tutorbook_ports::OpenSlot {
        waitlist,
        ..slot_input(TEACHER, at(1, 10), capacity)
    };
    w.bookings.open_slot(&teacher(), input).await.expect("slot opens")
}

/// `n` students (numbered from `first`) request seats one second apart.
async fn requests<S: Store>(w: &World<S>, slot: &Slot, first: u128, n: u128) -> Vec<Booking> {
    let mut made = Vec::new();
    for s in first..first + n {
        made.push(w.request(student(s), slot).await);
        w.clock.advance(Duration::SECOND);
    }
    made
}

async fn a_full_slot_lines_students_up_and_promotes_the_head<S: Store>(store: S) {
    let w = World::new(store);
    let policy = BookingPolicy::default().with_waitlist(Some(Waitlist::AutoPromote));
    w.bookings.set_policy(&teacher(), TEACHER, policy).await.unwrap();
    assert_eq!(
        w.bookings.policy(TEACHER).await.unwrap(),
        policy,
        "the default round-trips"
    );
    // The policy's default applies to group slots, not to one-to-one ones.
    let one = w.open(TEACHER, at(2, 10), 1).await;
    assert_eq!(one.waitlist(), None);
    let slot = w.open(TEACHER, at(1, 10), 2).await;
    assert_eq!(w.reload(&slot).await.waitlist(), Some(Waitlist::AutoPromote));

    let seated = requests(&w, &slot, 1, 2).await;
    let line = requests(&w, &slot, 3, 3).await;
    assert!(line.iter().all(|b| b.status() == BookingStatus::Waitlisted));
    for (i, booking) in line.iter().enumerate() {
        let (_, position, length) = w
            .bookings
            .place_in_line(&Actor::student(booking.student()), booking.id())
            .await
            .unwrap();
        assert_eq!((position, length), (Some(i + 1), 3));
    }
    // Nobody else sees someone's place; only the teacher sees the line.
    assert_eq!(
        code(
            w.bookings
                .place_in_line(&Actor::student(student(9)), line[0].id())
                .await
        ),
        "not_found"
    );
    assert_eq!(
        code(w.bookings.waitlist(&Actor::student(student(3)), slot.id()).await),
        "forbidden"
    );
    let seen = w.bookings.waitlist(&teacher(), slot.id()).await.unwrap();
    let ids: Vec<BookingId> = seen.waitlist_line().iter().map(|b| b.id()).collect();
    assert_eq!(ids, line.iter().map(Booking::id).collect::<Vec<_>>());

    let before = w.pending().await.len();
    w.bookings
        .cancel(&Actor::student(student(1)), seated[0].id())
        .await
        .unwrap();
    let stored = w.reload(&slot).await;
    assert_eq!(stored.booking(line[0].id()).unwrap().status(), BookingStatus::Confirmed);
    assert_eq!(stored.booked_count(), 2);
    assert_eq!(stored.waitlist_position(line[1].id()), Some(1));
    assert_eq!(
        w.kinds_after(before).await,
        ["booking_cancelled", "waitlist_promoted", "seat_released"]
    );
    let history = w.store.history(line[0].id()).await.unwrap();
    assert_eq!(
        transitions(&history),
        [
            (None, BookingStatus::Waitlisted, Some(student(3)), "waitlisted"),
            (
                Some(BookingStatus::Waitlisted),
                BookingStatus::Confirmed,
                None,
                "promoted"
            ),
        ]
    );
    // Leaving the line is a cancellation; it frees no seat.
    w.bookings
        .cancel(&Actor::student(student(4)), line[1].id())
        .await
        .unwrap();
    assert_eq!(w.reload(&slot).await.waitlist_position(line[2].id()), Some(1));
}

async fn without_a_waitlist_a_full_slot_is_refused<S: Store>(store: S) {
    let w = World::new(store);
    let policy = BookingPolicy::default().with_waitlist(Some(Waitlist::AutoPromote));
    w.bookings.set_policy(&teacher(), TEACHER, policy).await.unwrap();
    let slot = slot_with(&w, 2, WaitlistChoice::Off).await;
    requests(&w, &slot, 1, 2).await;
    assert_eq!(
        code(w.bookings.request(&Actor::student(student(3)), slot.id()).await),
        "slot_full"
    );
    assert_eq!(w.reload(&slot).await.bookings().len(), 2, "nothing was written");
    // A one-to-one slot keeps no line.
    let input = tutorbook_ports::OpenSlot {
        waitlist: WaitlistChoice::On(Waitlist::AutoPromote),
        ..slot_input(TEACHER, at(3, 10), 1)
    };
    assert_eq!(
        code(w.bookings.open_slot(&teacher(), input).await),
        "waitlist_not_available"
    );
}

async fn an_unanswered_offer_expires_and_passes_on<S: Store>(store: S) {
    let w = World::new(store);
    let slot = slot_with(&w, 2, WaitlistChoice::On(offers(60))).await;
    let seated = requests(&w, &slot, 1, 2).await;
    let line = requests(&w, &slot, 3, 2).await;
    w.bookings
        .cancel(&Actor::student(student(1)), seated[0].id())
        .await
        .unwrap();
    let offered_at = w.clock_now();
    let deadline = offered_at + Duration::minutes(60);
    let stored = w.reload(&slot).await;
    assert_eq!(stored.booking(line[0].id()).unwrap().offer_expires_at(), Some(deadline));
    assert_eq!(stored.seats_held(), 2, "the offered seat is held");
    // A newcomer joins the line behind; the seat is not theirs to take.
    let late = w.request(student(7), &slot).await;
    assert_eq!(late.status(), BookingStatus::Waitlisted);
    assert_eq!(
        code(w.bookings.accept_offer(&Actor::student(student(4)), line[1].id()).await),
        "no_offer"
    );

    // Nothing due before the deadline; at it, the job expires and passes on.
    w.clock.set(deadline - Duration::SECOND);
    assert_eq!(w.bookings.expire_offers(100).await.unwrap(), 0);
    w.clock.set(deadline);
    assert_eq!(
        code(w.bookings.accept_offer(&Actor::student(student(3)), line[0].id()).await),
        "offer_expired"
    );
    let before = w.pending().await.len();
    assert_eq!(
        w.bookings.expire_offers(100).await.unwrap(),
        2,
        "one expiry, one new offer"
    );
    assert_eq!(w.kinds_after(before).await, ["offer_expired", "seat_offered"]);
    assert_eq!(w.bookings.expire_offers(100).await.unwrap(), 0, "idempotent");
    let stored = w.reload(&slot).await;
    assert_eq!(stored.booking(line[0].id()).unwrap().status(), BookingStatus::Expired);
    assert_eq!(
        stored.booking(line[1].id()).unwrap().offer_expires_at(),
        Some(deadline + Duration::minutes(60))
    );
    let accepted = w
        .bookings
        .accept_offer(&Actor::student(student(4)), line[1].id())
        .await
        .unwrap();
    assert_eq!(accepted.status(), BookingStatus::Confirmed);
    assert_eq!(accepted.offer_expires_at(), None);
    let stored = w.reload(&slot).await;
    assert_eq!(stored.booked_count(), 2);
    assert_eq!(stored.waitlist_position(late.id()), Some(1));
}

async fn a_declined_offer_goes_to_the_next_and_closing_the_line_declines_it<S: Store>(store: S) {
    let w = World::new(store);
    let slot = slot_with(&w, 2, WaitlistChoice::On(offers(30))).await;
    let seated = requests(&w, &slot, 1, 2).await;
    let line = requests(&w, &slot, 3, 3).await;
    w.bookings.teacher_cancel(&teacher(), seated[1].id()).await.unwrap();
    let declined = w
        .bookings
        .decline_offer(&Actor::student(student(3)), line[0].id())
        .await
        .unwrap();
    assert_eq!(declined.status(), BookingStatus::Cancelled);
    assert!(
        w.reload(&slot)
            .await
            .booking(line[1].id())
            .unwrap()
            .offer_expires_at()
            .is_some()
    );

    // The teacher switches to auto-promote, then closes the line.
    let switched = w
        .bookings
        .set_waitlist(&teacher(), slot.id(), Some(Waitlist::AutoPromote))
        .await
        .unwrap();
    assert_eq!(switched.waitlist(), Some(Waitlist::AutoPromote));
    assert_eq!(
        code(
            w.bookings
                .set_waitlist(&Actor::student(student(3)), slot.id(), None)
                .await
        ),
        "forbidden"
    );
    let before = w.pending().await.len();
    let closed = w.bookings.set_waitlist(&teacher(), slot.id(), None).await.unwrap();
    assert_eq!(closed.waitlist(), None);
    assert_eq!(w.kinds_after(before).await, ["booking_declined", "booking_declined"]);
    let stored = w.reload(&slot).await;
    for booking in &line[1..] {
        assert_eq!(stored.booking(booking.id()).unwrap().status(), BookingStatus::Declined);
    }
    assert_eq!(stored.seats_held(), 1, "the held seat is free again");
}

async fn the_line_ends_when_the_lesson_starts<S: Store>(store: S) {
    let w = World::new(store);
    let slot = slot_with(&w, 2, WaitlistChoice::On(Waitlist::AutoPromote)).await;
    requests(&w, &slot, 1, 2).await;
    let line = requests(&w, &slot, 3, 1).await;
    w.clock.set(at(1, 10));
    let before = w.pending().await.len();
    assert_eq!(w.bookings.expire_unanswered(100).await.unwrap(), 1);
    assert_eq!(w.kinds_after(before).await, ["booking_expired"]);
    let event = w.pending().await.pop().unwrap().event;
    assert!(matches!(event, DomainEvent::BookingExpired { waitlisted: true, .. }));
    let stored = w.reload(&slot).await;
    assert_eq!(stored.booking(line[0].id()).unwrap().status(), BookingStatus::Expired);
}

/// A slot of 16 with 16 confirmed and 16 in line: the 16 confirmed cancel at
/// once. Exactly 16 promotions follow, in the line's order, and the slot
/// never holds more than 16.
async fn sixteen_cancellations_promote_sixteen_in_line_order<S: Store>(store: S) {
    let w = World::new(store);
    let settings = PlatformSettings::new(16, Duration::days(30)).unwrap();
    let bookings = Bookings::new(w.store.clone(), w.clock.clone(), UuidV7, settings);
    let input = tutorbook_ports::OpenSlot {
        waitlist: WaitlistChoice::On(Waitlist::AutoPromote),
        ..slot_input(TEACHER, at(1, 10), 16)
    };
    let slot = bookings.open_slot(&teacher(), input).await.unwrap();
    let seated = requests(&w, &slot, 1, 16).await;
    let line = requests(&w, &slot, 101, 16).await;
    assert!(line.iter().all(|b| b.status() == BookingStatus::Waitlisted));
    let before = w.pending().await.len();
    let seated = Arc::new(seated);
    let results = race(16, |i| {
        let (bookings, seated) = (bookings.clone(), seated.clone());
        async move {
            bookings
                .cancel(&Actor::student(seated[i].student()), seated[i].id())
                .await
        }
    })
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let stored = w.reload(&slot).await;
    assert_eq!(stored.booked_count(), 16);
    assert!(
        line.iter()
            .all(|b| stored.booking(b.id()).unwrap().status() == BookingStatus::Confirmed)
    );
    let promoted: Vec<BookingId> = w
        .pending()
        .await
        .into_iter()
        .skip(before)
        .filter_map(|m| match m.event {
            DomainEvent::WaitlistPromoted { booking, .. } => Some(booking),
            _ => None,
        })
        .collect();
    assert_eq!(
        promoted,
        line.iter().map(Booking::id).collect::<Vec<_>>(),
        "in line order"
    );
}

/// Offers accepted at the moment they expire: each counts as accepted or as
/// expired, never both.
async fn an_offer_accepted_as_it_expires_counts_once<S: Store>(store: S) {
    let w = World::new(store);
    let mut offered = Vec::new();
    for day in 1..=6 {
        let input = tutorbook_ports::OpenSlot {
            waitlist: WaitlistChoice::On(offers(10)),
            ..slot_input(TEACHER, at(day, 10), 2)
        };
        let slot = w.bookings.open_slot(&teacher(), input).await.unwrap();
        let seated = requests(&w, &slot, 1, 2).await;
        let line = requests(&w, &slot, 3, 2).await;
        w.bookings
            .cancel(&Actor::student(student(1)), seated[0].id())
            .await
            .unwrap();
        offered.push((slot, line[0].clone()));
    }
    // The offers were made over a few seconds; all are due at `due`.
    let due = w.clock_now() + Duration::minutes(10);
    let acceptors = Bookings::new(
        w.store.clone(),
        ManualClock::at(due - Duration::minutes(1)),
        UuidV7,
        PlatformSettings::default(),
    );
    let job = Bookings::new(
        w.store.clone(),
        ManualClock::at(due),
        UuidV7,
        PlatformSettings::default(),
    );
    let offered = Arc::new(offered);
    let results = race(offered.len() + 2, |i| {
        let (acceptors, job, offered) = (acceptors.clone(), job.clone(), offered.clone());
        async move {
            match offered.get(i) {
                Some((_, booking)) => acceptors
                    .accept_offer(&Actor::student(booking.student()), booking.id())
                    .await
                    .map(|_| 0),
                None => job.expire_offers(100).await,
            }
        }
    })
    .await;
    for (i, (slot, booking)) in offered.iter().enumerate() {
        let stored = w.reload(slot).await;
        let status = stored.booking(booking.id()).unwrap().status();
        let history = w.store.history(booking.id()).await.unwrap();
        let ends: Vec<&str> = history
            .iter()
            .filter(|e| e.reason == "offer_accepted" || e.reason == "offer_expired")
            .map(|e| e.reason.as_str())
            .collect();
        match &results[i] {
            Ok(_) => {
                assert_eq!(status, BookingStatus::Confirmed);
                assert_eq!(ends, ["offer_accepted"]);
            }
            Err(e) => {
                assert_eq!(e.code(), "no_offer", "the job expired it first");
                assert_eq!(status, BookingStatus::Expired);
                assert_eq!(ends, ["offer_expired"]);
            }
        }
        assert!(stored.booked_count() <= 2);
    }
}

/// A promoted student is emailed and reminded like any confirmed one; an
/// offer's email names its deadline.
async fn promotions_and_offers_reach_the_student<S: Store>(store: S) {
    let w = World::new(store);
    let slot = slot_with(&w, 2, WaitlistChoice::On(Waitlist::AutoPromote)).await;
    let seated = requests(&w, &slot, 1, 2).await;
    let line = requests(&w, &slot, 3, 1).await;
    w.bookings
        .cancel(&Actor::student(student(1)), seated[0].id())
        .await
        .unwrap();
    let mailer = MemoryMailer::new();
    let retry = RetryPolicy {
        base_delay: Duration::ZERO,
        ..RetryPolicy::default()
    };
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), retry).with_handler(Arc::new(Notifications::new(
        w.store.clone(),
        directory(),
        mailer.clone(),
    )));
    worker.drain().await.unwrap();
    let promoted = mailer
        .sent()
        .into_iter()
        .find(|e| e.to == "student3@example.com")
        .expect("the promoted student is emailed");
    assert_eq!(
        promoted.subject,
        "자리가 났습니다: Teacher 선생님 수업이 확정되었습니다"
    );
    let day_before = slot.window().start() - Duration::hours(24);
    w.store
        .plan_due_reminders(day_before, &ReminderPlan::default())
        .await
        .unwrap();
    let reminders = w.store.slot_reminders(slot.id()).await.unwrap();
    assert!(
        reminders
            .iter()
            .any(|r| r.planned.booking == Some(line[0].id()) && r.planned.recipient == student(3)),
        "the promoted lesson is reminded: {reminders:?}"
    );

    // In offer mode the email gives the deadline on the student's clock.
    w.bookings
        .set_waitlist(&teacher(), slot.id(), Some(offers(60)))
        .await
        .unwrap();
    let late = w.request(student(1), &slot).await;
    assert_eq!(late.status(), BookingStatus::Waitlisted);
    w.bookings
        .cancel(&Actor::student(student(2)), seated[1].id())
        .await
        .unwrap();
    worker.drain().await.unwrap();
    let offer = mailer
        .sent()
        .into_iter()
        .find(|e| e.to == "student1@example.com" && e.subject.contains("수락하세요"))
        .expect("the offer is emailed");
    let deadline = w
        .reload(&slot)
        .await
        .booking(late.id())
        .unwrap()
        .offer_expires_at()
        .unwrap();
    let local = Zone::parse("Asia/Seoul").unwrap().to_local(deadline);
    assert!(
        offer
            .text
            .contains(&format!("{:02}:{:02} (Asia/Seoul", local.hour(), local.minute())),
        "{}",
        offer.text
    );
}

conformance!(
    promotions_and_offers_reach_the_student,
    a_full_slot_lines_students_up_and_promotes_the_head,
    without_a_waitlist_a_full_slot_is_refused,
    an_unanswered_offer_expires_and_passes_on,
    a_declined_offer_goes_to_the_next_and_closing_the_line_declines_it,
    the_line_ends_when_the_lesson_starts,
    sixteen_cancellations_promote_sixteen_in_line_order,
    an_offer_accepted_as_it_expires_counts_once,
);
