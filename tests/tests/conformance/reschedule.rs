//! Moving a booking to another slot of the same teacher (docs/product.md
//! §5): one transaction, the old seat given back only when the new one is
//! taken, both sides in the history, and the last free seat won once.

use tutorbook_domain::{Actor, BookingPolicy, BookingStatus};

use crate::backends::Store;
use crate::conformance;
use crate::world::{OTHER_TEACHER, TEACHER, World, at, code, race, student, transitions};

async fn a_lesson_moves_with_its_seat_and_both_sides_in_the_history<S: Store>(store: S) {
    let w = World::new(store);
    let from = w.open(TEACHER, at(2, 10), 2).await;
    let to = w.open(TEACHER, at(3, 10), 2).await;
    let booking = w.confirmed(student(1), &from).await;
    let events_before = w.pending().await.len();

    let moved = w
        .bookings
        .reschedule(&Actor::student(student(1)), booking.id(), to.id())
        .await
        .unwrap();
    assert_eq!(
        (moved.status(), moved.student()),
        (BookingStatus::Confirmed, student(1))
    );
    let (from_now, to_now) = (w.reload(&from).await, w.reload(&to).await);
    assert_eq!((from_now.booked_count(), to_now.booked_count()), (0, 1));
    assert_eq!(
        from_now.booking(booking.id()).unwrap().status(),
        BookingStatus::Cancelled
    );
    let old = w.store.history(booking.id()).await.unwrap();
    assert_eq!(
        transitions(&old).last().copied(),
        Some((
            Some(BookingStatus::Confirmed),
            BookingStatus::Cancelled,
            Some(student(1)),
            "rescheduled"
        ))
    );
    let new = w.store.history(moved.id()).await.unwrap();
    assert_eq!(
        transitions(&new),
        vec![(None, BookingStatus::Confirmed, Some(student(1)), "rescheduled")]
    );
    assert_eq!(
        w.kinds_after(events_before).await,
        ["seat_released", "booking_rescheduled"]
    );

    // Another teacher's slot, a stranger, and the same slot are refused; nothing changes.
    let elsewhere = w.open(OTHER_TEACHER, at(4, 10), 2).await;
    let moved_id = moved.id();
    let again = |actor: Actor, target| {
        let bookings = w.bookings.clone();
        async move { bookings.reschedule(&actor, moved_id, target).await }
    };
    assert_eq!(
        code(again(Actor::student(student(1)), elsewhere.id()).await),
        "invalid_input"
    );
    assert_eq!(code(again(Actor::student(student(2)), from.id()).await), "not_found");
    assert_eq!(code(again(Actor::student(student(1)), to.id()).await), "invalid_input");
    assert_eq!(w.reload(&to).await, to_now);
}

async fn a_refused_move_keeps_the_old_seat<S: Store>(store: S) {
    let w = World::new(store);
    let policy = BookingPolicy::default().with_cancellation_tier(tutorbook_domain::CancellationTier::Strict);
    w.bookings
        .set_policy(&Actor::teacher(TEACHER), TEACHER, policy)
        .await
        .unwrap();
    let from = w.open(TEACHER, at(5, 10), 2).await;
    let full = w.open(TEACHER, at(6, 10), 2).await;
    let soon = w.open(TEACHER, at(1, 10), 2).await;
    let booking = w.confirmed(student(1), &from).await;
    w.confirmed(student(2), &full).await;
    w.confirmed(student(4), &full).await;
    assert_eq!(
        code(
            w.bookings
                .reschedule(&Actor::student(student(1)), booking.id(), full.id())
                .await
        ),
        "slot_full"
    );
    let near = w.confirmed(student(3), &soon).await;
    let later = w.open(TEACHER, at(7, 10), 2).await;
    w.clock.set(at(1, 0));
    // Inside the strict 48-hour window the student may not move it; the teacher may.
    assert_eq!(
        code(
            w.bookings
                .reschedule(&Actor::student(student(3)), near.id(), later.id())
                .await
        ),
        "cancellation_window_closed"
    );
    assert_eq!(w.reload(&from).await.booked_count(), 1, "the old seat is still taken");
    // A 1:1 slot waits for the teacher's approval: the student may not move a lesson there.
    let one_on_one = w.open(TEACHER, at(8, 10), 1).await;
    assert_eq!(
        code(
            w.bookings
                .reschedule(&Actor::student(student(1)), booking.id(), one_on_one.id())
                .await
        ),
        "approval_required"
    );
    let moved = w
        .bookings
        .reschedule(&Actor::teacher(TEACHER), near.id(), later.id())
        .await
        .unwrap();
    assert_eq!(moved.status(), BookingStatus::Confirmed);
}

async fn two_students_moving_into_the_last_seat_one_wins<S: Store>(store: S) {
    let w = World::new(store);
    let target = w.open(TEACHER, at(3, 10), 2).await;
    w.confirmed(student(9), &target).await;
    let mut bookings = Vec::new();
    for n in 1..=2 {
        let from = w.open(TEACHER, at(2, 8 + 2 * n as i64), 1).await;
        bookings.push((student(n), w.confirmed(student(n), &from).await.id()));
    }
    let service = w.bookings.clone();
    let target_id = target.id();
    let results = race(2, move |i| {
        let (service, (who, booking)) = (service.clone(), bookings[i]);
        async move { service.reschedule(&Actor::student(who), booking, target_id).await }
    })
    .await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(
        results
            .iter()
            .any(|r| r.as_ref().is_err_and(|e| e.code() == "slot_full"))
    );
    assert_eq!(w.reload(&target).await.booked_count(), 2);
    w.store.check_invariants().await;
}

conformance!(
    a_lesson_moves_with_its_seat_and_both_sides_in_the_history,
    a_refused_move_keeps_the_old_seat,
    two_students_moving_into_the_last_seat_one_wins,
);
