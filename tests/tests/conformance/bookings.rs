//! Booking round trips through the use cases: request, approve, decline,
//! cancel (student, teacher, whole slot), delete, attendance, and the history
//! each change leaves.

use time::Duration;
use tutorbook_domain::{Actor, Attendance, Booking, BookingPolicy, BookingStatus, Slot, SlotStatus};

use crate::backends::Store;
use crate::conformance;
use crate::world::{OTHER_TEACHER, STAFF, T0, TEACHER, World, at, code, student, transitions};

async fn request_then_approve_is_recorded_in_the_history_with_its_actors<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let requested = w.request(student(1), &slot).await;
    assert_eq!(requested.status(), BookingStatus::Requested);
    assert_eq!(w.reload(&slot).await.booked_count(), 0);

    w.clock.advance(Duration::minutes(5));
    let approved = w
        .bookings
        .approve(&Actor::teacher(TEACHER), requested.id())
        .await
        .unwrap();
    assert_eq!(approved.status(), BookingStatus::Confirmed);
    assert_eq!(approved.updated_at(), T0 + Duration::minutes(5));
    assert_eq!(w.reload(&slot).await.booked_count(), 1);
    assert_eq!(w.store.slot_of_booking(requested.id()).await.unwrap(), Some(slot.id()));

    let history = w
        .bookings
        .history(&Actor::student(student(1)), requested.id())
        .await
        .unwrap();
    assert_eq!(
        transitions(&history),
        vec![
            (None, BookingStatus::Requested, Some(student(1)), "requested"),
            (
                Some(BookingStatus::Requested),
                BookingStatus::Confirmed,
                Some(TEACHER),
                "approved"
            ),
        ]
    );
    assert_eq!(history[0].at, T0);
    assert_eq!(history[1].at, T0 + Duration::minutes(5));
    assert!(
        history
            .iter()
            .all(|e| e.booking == requested.id() && e.slot == slot.id())
    );

    // The teacher and staff read the same history; to another student it does not exist.
    for actor in [Actor::teacher(TEACHER), Actor::staff(STAFF)] {
        assert_eq!(w.bookings.history(&actor, requested.id()).await.unwrap(), history);
    }
    let other = w.bookings.history(&Actor::student(student(2)), requested.id()).await;
    assert_eq!(code(other), "not_found");
}

async fn a_declined_request_frees_the_student_to_ask_again<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let first = w.request(student(1), &slot).await;
    let declined = w.bookings.decline(&Actor::teacher(TEACHER), first.id()).await.unwrap();
    assert_eq!(declined.status(), BookingStatus::Declined);
    let history = w.store.history(first.id()).await.unwrap();
    assert_eq!(
        transitions(&history)[1],
        (
            Some(BookingStatus::Requested),
            BookingStatus::Declined,
            Some(TEACHER),
            "declined_by_teacher"
        )
    );
    // Declining twice is refused; asking again is allowed.
    assert_eq!(
        code(w.bookings.decline(&Actor::teacher(TEACHER), first.id()).await),
        "invalid_booking_status"
    );
    let second = w.request(student(1), &slot).await;
    assert_ne!(second.id(), first.id());
    assert_eq!(second.status(), BookingStatus::Requested);
}

async fn a_student_cancel_gives_the_seat_back<S: Store>(store: S) {
    let w = World::new(store);
    let group = w.open(TEACHER, at(1, 10), 2).await;
    let booking = w.request(student(1), &group).await;
    assert_eq!(
        booking.status(),
        BookingStatus::Confirmed,
        "group slots need no approval by default"
    );
    assert_eq!(w.reload(&group).await.booked_count(), 1);

    let cancelled = w
        .bookings
        .cancel(&Actor::student(student(1)), booking.id())
        .await
        .unwrap();
    assert_eq!(cancelled.status(), BookingStatus::Cancelled);
    assert_eq!(w.reload(&group).await.booked_count(), 0);
    assert_eq!(
        w.kinds_after(2).await,
        vec!["booking_cancelled", "seat_released"],
        "after slot_opened and booking_confirmed"
    );
    // Cancelling twice is refused.
    assert_eq!(
        code(w.bookings.cancel(&Actor::student(student(1)), booking.id()).await),
        "invalid_booking_status"
    );
}

async fn a_cancellation_inside_the_window_is_refused<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 2).await;
    let booking = w.request(student(1), &slot).await;
    w.clock.set(at(1, 10) - Duration::hours(23));
    assert_eq!(
        code(w.bookings.cancel(&Actor::student(student(1)), booking.id()).await),
        "cancellation_window_closed"
    );
    // A flexible teacher (2 h) still lets the student go.
    let flexible = BookingPolicy::default().with_cancellation_tier(tutorbook_domain::CancellationTier::Flexible);
    w.bookings
        .set_policy(&Actor::teacher(TEACHER), TEACHER, flexible)
        .await
        .unwrap();
    assert_eq!(w.bookings.policy(TEACHER).await.unwrap(), flexible);
    let cancelled = w
        .bookings
        .cancel(&Actor::student(student(1)), booking.id())
        .await
        .unwrap();
    assert_eq!(cancelled.status(), BookingStatus::Cancelled);
}
async fn cancelling_a_slot_credits_the_confirmed_and_declines_the_waiting<S: Store>(store: S) {
    let w = World::new(store);
    let approving = BookingPolicy::default().with_approval(true, true);
    w.bookings
        .set_policy(&Actor::teacher(TEACHER), TEACHER, approving)
        .await
        .unwrap();
    let slot = w.open(TEACHER, at(1, 10), 3).await;
    let first = w.confirmed(student(1), &slot).await;
    let second = w.confirmed(student(2), &slot).await;
    let waiting = w.request(student(3), &slot).await;
    assert_eq!(waiting.status(), BookingStatus::Requested);

    let (cancelled, credits) = w
        .bookings
        .cancel_slot(&Actor::teacher(TEACHER), slot.id())
        .await
        .unwrap();
    assert_eq!(cancelled.status(), SlotStatus::Cancelled);
    assert_eq!(cancelled.booked_count(), 0);
    let credited: Vec<_> = credits.iter().map(|c| (c.student(), c.source_booking())).collect();
    assert_eq!(credited, vec![(student(1), first.id()), (student(2), second.id())]);
    for c in &credits {
        assert_eq!(w.store.credit(c.id()).await.unwrap().as_ref(), Some(c));
    }
    let statuses: Vec<_> = w.reload(&slot).await.bookings().iter().map(Booking::status).collect();
    assert_eq!(
        statuses,
        vec![
            BookingStatus::TeacherCancelled,
            BookingStatus::TeacherCancelled,
            BookingStatus::Declined
        ]
    );

    // Cancelled slots stay in the teacher's list but leave browse and take no bookings.
    let listed = w.store.teacher_slots(TEACHER, at(0, 0), at(5, 0)).await.unwrap();
    assert_eq!(
        listed.iter().map(Slot::status).collect::<Vec<_>>(),
        vec![SlotStatus::Cancelled]
    );
    assert!(w.store.open_slots(at(0, 0), at(5, 0), 10).await.unwrap().is_empty());
    assert_eq!(
        code(w.bookings.request(&Actor::student(student(4)), slot.id()).await),
        "slot_closed"
    );
    assert_eq!(
        code(w.bookings.cancel_slot(&Actor::teacher(TEACHER), slot.id()).await),
        "slot_closed"
    );
}

async fn a_deleted_slot_disappears_from_the_lists_but_stays_readable<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    assert_eq!(
        code(w.bookings.delete_slot(&Actor::teacher(OTHER_TEACHER), slot.id()).await),
        "forbidden"
    );
    w.bookings
        .delete_slot(&Actor::teacher(TEACHER), slot.id())
        .await
        .unwrap();

    assert!(
        w.store
            .teacher_slots(TEACHER, at(0, 0), at(5, 0))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(w.store.open_slots(at(0, 0), at(5, 0), 10).await.unwrap().is_empty());
    assert_eq!(w.reload(&slot).await.status(), SlotStatus::Deleted);
    assert_eq!(
        code(w.bookings.request(&Actor::student(student(1)), slot.id()).await),
        "slot_closed"
    );
    assert_eq!(
        code(w.bookings.delete_slot(&Actor::teacher(TEACHER), slot.id()).await),
        "slot_closed"
    );
    // Its time is free again.
    let again = w.open(TEACHER, at(1, 10), 1).await;
    assert_ne!(again.id(), slot.id());
    assert_eq!(
        w.kinds_after(0).await,
        vec!["slot_opened", "slot_deleted", "slot_opened"]
    );
}

async fn a_slot_with_bookings_cannot_be_deleted<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    w.request(student(1), &slot).await;
    assert_eq!(
        code(w.bookings.delete_slot(&Actor::teacher(TEACHER), slot.id()).await),
        "slot_has_bookings"
    );
    assert_eq!(w.reload(&slot).await.status(), SlotStatus::Open);
}

async fn attendance_is_marked_once_the_clock_passes_the_start<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 2).await;
    let booking = w.request(student(1), &slot).await;
    let mark = async |attendance| {
        (w.bookings)
            .mark_attendance(&Actor::teacher(TEACHER), booking.id(), attendance)
            .await
    };
    assert_eq!(code(mark(Attendance::Completed).await), "lesson_not_started");

    w.clock.set(at(1, 10) + Duration::minutes(55));
    let done = mark(Attendance::Completed).await.unwrap();
    assert_eq!(done.status(), BookingStatus::Completed);
    assert_eq!(done.updated_at(), at(1, 10) + Duration::minutes(55));
    assert_eq!(code(mark(Attendance::NoShow).await), "invalid_booking_status");
    // `booked_count` counts confirmed bookings only, so a completed lesson no
    // longer counts, yet no seat is released (no `seat_released` event).
    assert_eq!(w.reload(&slot).await.booked_count(), 0);
    let history = w.store.history(booking.id()).await.unwrap();
    assert_eq!(history.last().map(|e| e.reason.as_str()), Some("completed"));
    assert_eq!(w.kinds_after(2).await, vec!["lesson_completed"]);
}

conformance!(
    request_then_approve_is_recorded_in_the_history_with_its_actors,
    a_declined_request_frees_the_student_to_ask_again,
    a_student_cancel_gives_the_seat_back,
    a_cancellation_inside_the_window_is_refused,
    cancelling_a_slot_credits_the_confirmed_and_declines_the_waiting,
    a_deleted_slot_disappears_from_the_lists_but_stays_readable,
    a_slot_with_bookings_cannot_be_deleted,
    attendance_is_marked_once_the_clock_passes_the_start,
);
