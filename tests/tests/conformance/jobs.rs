//! The booking jobs (docs/product.md §5): requests nobody answered before
//! their lesson expire, lessons nobody marked are completed after a grace
//! period. Each job runs again and again, on several instances at once,
//! and changes each booking once.

use time::Duration;
use tutorbook_domain::{Actor, Attendance, BookingPolicy, BookingStatus};
use tutorbook_ports::Overdue;

use crate::backends::Store;
use crate::conformance;
use crate::world::{TEACHER, World, at, race, student, transitions};

/// A world whose teacher approves every request, group ones included.
async fn approving<S: Store>(store: S) -> World<S> {
    let w = World::new(store);
    let policy = BookingPolicy::default().with_approval(true, true);
    w.bookings
        .set_policy(&Actor::teacher(TEACHER), TEACHER, policy)
        .await
        .unwrap();
    w
}

async fn unanswered_requests_expire_once_the_lesson_starts<S: Store>(store: S) {
    let w = approving(store).await;
    let slot = w.open(TEACHER, at(1, 10), 3).await;
    let confirmed = w.confirmed(student(1), &slot).await;
    let waiting = w.request(student(2), &slot).await;
    let events_before = w.pending().await.len();

    // Before the start nothing is overdue.
    w.clock.set(at(1, 9));
    assert_eq!(w.bookings.expire_unanswered(100).await.unwrap(), 0);
    w.clock.set(at(1, 10));
    assert_eq!(
        w.store.overdue_slots(Overdue::Requests(at(1, 10)), 100).await.unwrap(),
        vec![slot.id()]
    );
    assert_eq!(w.bookings.expire_unanswered(100).await.unwrap(), 1);
    let stored = w.reload(&slot).await;
    assert_eq!(stored.booking(waiting.id()).unwrap().status(), BookingStatus::Expired);
    assert_eq!(
        stored.booking(confirmed.id()).unwrap().status(),
        BookingStatus::Confirmed
    );
    let history = w.store.history(waiting.id()).await.unwrap();
    assert_eq!(
        transitions(&history).last().copied(),
        Some((Some(BookingStatus::Requested), BookingStatus::Expired, None, "expired")),
        "the system expired it"
    );
    assert_eq!(
        w.kinds_after(events_before).await,
        ["booking_expired"],
        "the student is told"
    );

    // Again: nothing left to do.
    assert_eq!(w.bookings.expire_unanswered(100).await.unwrap(), 0);
    assert!(
        w.store
            .overdue_slots(Overdue::Requests(at(1, 12)), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn unmarked_lessons_complete_after_the_grace_period<S: Store>(store: S) {
    let w = World::new(store);
    let grace = Duration::hours(24);
    let slot = w.open(TEACHER, at(1, 10), 2).await;
    let first = w.confirmed(student(1), &slot).await;
    let second = w.confirmed(student(2), &slot).await;
    // The teacher marks one student absent after the lesson.
    w.clock.set(at(1, 11));
    w.bookings
        .mark_attendance(&Actor::teacher(TEACHER), second.id(), Attendance::NoShow)
        .await
        .unwrap();

    // The lesson ended at 10:50; until 10:50 the next day the teacher may still mark it.
    w.clock.set(at(2, 10));
    assert_eq!(w.bookings.complete_unmarked(grace, 100).await.unwrap(), 0);
    w.clock.set(at(2, 11));
    let events_before = w.pending().await.len();
    assert_eq!(w.bookings.complete_unmarked(grace, 100).await.unwrap(), 1);
    let stored = w.reload(&slot).await;
    assert_eq!(stored.booking(first.id()).unwrap().status(), BookingStatus::Completed);
    assert_eq!(
        stored.booking(second.id()).unwrap().status(),
        BookingStatus::NoShow,
        "a mark stands"
    );
    assert_eq!(w.kinds_after(events_before).await, ["lesson_completed"]);
    assert_eq!(w.bookings.complete_unmarked(grace, 100).await.unwrap(), 0);
}

async fn jobs_racing_on_several_instances_change_each_booking_once<S: Store>(store: S) {
    let w = approving(store).await;
    let mut slots = Vec::new();
    for hour in [9, 11, 13] {
        let slot = w.open(TEACHER, at(1, hour), 4).await;
        for n in 1..=3 {
            w.request(student(n), &slot).await;
        }
        slots.push(slot);
    }
    w.clock.set(at(2, 0));
    let bookings = w.bookings.clone();
    let results = race(4, move |_| {
        let bookings = bookings.clone();
        async move { bookings.expire_unanswered(100).await }
    })
    .await;
    let expired: usize = results.into_iter().map(|r| r.expect("a job pass never fails")).sum();
    assert_eq!(expired, 9, "nine requests, each expired by exactly one pass");
    for slot in &slots {
        assert!(
            w.reload(slot)
                .await
                .bookings()
                .iter()
                .all(|b| b.status() == BookingStatus::Expired)
        );
    }
    let expiries = w
        .pending()
        .await
        .iter()
        .filter(|m| m.event.kind() == "booking_expired")
        .count();
    assert_eq!(expiries, 9, "one email each");
}

conformance!(
    unanswered_requests_expire_once_the_lesson_starts,
    unmarked_lessons_complete_after_the_grace_period,
    jobs_racing_on_several_instances_change_each_booking_once,
);
