//! The read models (open slots, a teacher's slots, a student's bookings) and
//! teachers' policies.

use time::Duration;
use tutorbook_domain::{Actor, BookingPolicy, BookingStatus, Slot, SlotStatus};

use crate::backends::Store;
use crate::conformance;
use crate::world::{OTHER_TEACHER, STAFF, TEACHER, World, at, code, slot_input, student};

async fn open_slots_are_filtered_by_start_ordered_and_limited<S: Store>(store: S) {
    let w = World::new(store);
    let a = w.open(TEACHER, at(1, 9), 1).await;
    let b = w.open(OTHER_TEACHER, at(1, 8), 2).await;
    let c = w.open(TEACHER, at(2, 9), 1).await;
    let d = w.open(OTHER_TEACHER, at(3, 9), 1).await;
    let cancelled = w.open(TEACHER, at(1, 12), 1).await;
    let deleted = w.open(OTHER_TEACHER, at(1, 12), 1).await;
    w.bookings
        .cancel_slot(&Actor::teacher(TEACHER), cancelled.id())
        .await
        .unwrap();
    w.bookings
        .delete_slot(&Actor::teacher(OTHER_TEACHER), deleted.id())
        .await
        .unwrap();
    // A full slot is still open (browse filters it with `Slot::is_browsable`).
    w.confirmed(student(1), &a).await;

    let ids = |slots: Vec<Slot>| slots.iter().map(Slot::id).collect::<Vec<_>>();
    let all = w.store.open_slots(at(0, 0), at(10, 0), 100).await.unwrap();
    assert_eq!(ids(all), vec![b.id(), a.id(), c.id(), d.id()]);
    assert_eq!(
        ids(w.store.open_slots(at(0, 0), at(10, 0), 2).await.unwrap()),
        vec![b.id(), a.id()]
    );
    // `[from, to)`: a slot starting at `from` is in, one starting at `to` is out.
    assert_eq!(
        ids(w.store.open_slots(at(1, 9), at(3, 9), 100).await.unwrap()),
        vec![a.id(), c.id()]
    );
    assert!(w.store.open_slots(at(0, 0), at(10, 0), 0).await.unwrap().is_empty());
    assert!(w.store.open_slots(at(5, 0), at(6, 0), 10).await.unwrap().is_empty());
}

async fn teacher_slots_are_the_teachers_own_by_start<S: Store>(store: S) {
    let w = World::new(store);
    let late = w.open(TEACHER, at(2, 9), 1).await;
    let early = w.open(TEACHER, at(1, 9), 1).await;
    let cancelled = w.open(TEACHER, at(1, 14), 1).await;
    let deleted = w.open(TEACHER, at(1, 18), 1).await;
    w.open(OTHER_TEACHER, at(1, 9), 1).await;
    w.bookings
        .cancel_slot(&Actor::teacher(TEACHER), cancelled.id())
        .await
        .unwrap();
    w.bookings
        .delete_slot(&Actor::staff(STAFF), deleted.id())
        .await
        .unwrap();

    let listed: Vec<_> = w
        .store
        .teacher_slots(TEACHER, at(0, 0), at(10, 0))
        .await
        .unwrap()
        .iter()
        .map(|s| (s.id(), s.status()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (early.id(), SlotStatus::Open),
            (cancelled.id(), SlotStatus::Cancelled),
            (late.id(), SlotStatus::Open)
        ]
    );
    let day_one = w.store.teacher_slots(TEACHER, at(1, 0), at(2, 0)).await.unwrap();
    assert_eq!(day_one.len(), 2);
    assert!(
        w.store
            .teacher_slots(STAFF, at(0, 0), at(10, 0))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn student_bookings_cover_every_status_sorted_by_start<S: Store>(store: S) {
    let w = World::new(store);
    let late = w.open(TEACHER, at(3, 9), 2).await;
    let early = w.open(OTHER_TEACHER, at(1, 9), 1).await;
    let middle = w.open(TEACHER, at(2, 9), 2).await;
    let outside = w.open(TEACHER, at(9, 9), 2).await;
    let b_late = w.request(student(1), &late).await;
    let b_early = w.request(student(1), &early).await;
    let b_middle = w.request(student(1), &middle).await;
    w.request(student(1), &outside).await;
    w.request(student(2), &middle).await;
    w.bookings
        .cancel(&Actor::student(student(1)), b_middle.id())
        .await
        .unwrap();

    let found = w.store.student_bookings(student(1), at(0, 0), at(5, 0)).await.unwrap();
    let seen: Vec<_> = found.iter().map(|(b, s)| (b.id(), b.status(), s.id())).collect();
    assert_eq!(
        seen,
        vec![
            (b_early.id(), BookingStatus::Requested, early.id()),
            (b_middle.id(), BookingStatus::Cancelled, middle.id()),
            (b_late.id(), BookingStatus::Confirmed, late.id()),
        ]
    );
    assert!(
        found
            .iter()
            .all(|(b, s)| b.student() == student(1) && b.slot() == s.id())
    );
}

async fn policies_default_until_set_and_buffers_apply_to_new_slots<S: Store>(store: S) {
    let w = World::new(store);
    assert_eq!(w.bookings.policy(TEACHER).await.unwrap(), BookingPolicy::default());
    let buffered = BookingPolicy::default()
        .with_buffers(Duration::minutes(15), Duration::minutes(15))
        .unwrap();
    assert_eq!(
        code(
            w.bookings
                .set_policy(&Actor::teacher(OTHER_TEACHER), TEACHER, buffered)
                .await
        ),
        "forbidden"
    );
    w.bookings
        .set_policy(&Actor::staff(STAFF), TEACHER, buffered)
        .await
        .unwrap();
    assert_eq!(w.store.policy(TEACHER).await.unwrap(), buffered);
    assert_eq!(w.store.policy(OTHER_TEACHER).await.unwrap(), BookingPolicy::default());

    w.open(TEACHER, at(1, 10), 1).await;
    // Back to back (10:50) collides with the buffers; 11:20 is clear.
    let b2b = slot_input(TEACHER, at(1, 10) + Duration::minutes(50), 1);
    assert_eq!(
        code(w.bookings.open_slot(&Actor::teacher(TEACHER), b2b).await),
        "slot_overlap"
    );
    w.open(TEACHER, at(1, 11) + Duration::minutes(20), 1).await;
    // Another teacher's slots never collide.
    w.open(OTHER_TEACHER, at(1, 10), 1).await;
}

/// Many slots in one read: those that exist, each once, with their bookings.
async fn slots_are_read_many_at_once<S: Store>(store: S) {
    let w = World::new(store);
    let a = w.open(TEACHER, at(1, 9), 2).await;
    let b = w.open(OTHER_TEACHER, at(2, 9), 1).await;
    let deleted = w.open(TEACHER, at(3, 9), 1).await;
    w.bookings
        .delete_slot(&Actor::teacher(TEACHER), deleted.id())
        .await
        .unwrap();
    w.confirmed(student(1), &a).await;
    w.confirmed(student(2), &a).await;
    let unknown = tutorbook_domain::SlotId::from_uuid(uuid::Uuid::now_v7());

    let mut slots = w
        .store
        .slots(&[b.id(), unknown, a.id(), b.id(), deleted.id()])
        .await
        .unwrap();
    slots.sort_by_key(Slot::id);
    let mut expected = vec![w.reload(&a).await, w.reload(&b).await, w.reload(&deleted).await];
    expected.sort_by_key(Slot::id);
    assert_eq!(slots, expected, "a slot is read whatever its status, like `slot`");
    assert_eq!(slots.iter().map(|s| s.bookings().len()).sum::<usize>(), 2);
    assert!(w.store.slots(&[]).await.unwrap().is_empty());
}

conformance!(
    open_slots_are_filtered_by_start_ordered_and_limited,
    slots_are_read_many_at_once,
    teacher_slots_are_the_teachers_own_by_start,
    student_bookings_cover_every_status_sorted_by_start,
    policies_default_until_set_and_buffers_apply_to_new_slots,
);
