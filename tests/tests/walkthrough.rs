//! The foundation walkthrough: a teacher's 1:1 and group slots, competing
//! requests, a full group, a teacher cancellation and the make-up credit
//! redeemed into another slot, all through the public use cases on the
//! in-memory adapters an embedder would use.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{Actor, BookingStatus, CreditStatus, Meeting, PlatformSettings, Slot, UserId, Zone};
use tutorbook_memory::{ManualClock, MemoryStore};
use tutorbook_ports::{BookingStore, Bookings, OpenSlot, Outbox, UuidV7};
use uuid::Uuid;

const NOW: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);

fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

fn slot_at(teacher: UserId, start: OffsetDateTime, capacity: u32) -> OpenSlot {
    OpenSlot {
        teacher,
        start,
        end: start + Duration::minutes(50),
        zone: Zone::parse("Asia/Manila").expect("zone"),
        capacity,
        meeting: Meeting::default(),
    }
}

#[tokio::test]
async fn teacher_student_walkthrough() {
    let store = MemoryStore::new();
    let clock = ManualClock::at(NOW);
    let bookings = Bookings::new(store.clone(), clock.clone(), UuidV7, PlatformSettings::default());
    let teacher = Actor::teacher(user(1));
    let students: Vec<Actor> = (10..16).map(|n| Actor::student(user(n))).collect();

    // The teacher opens a 1:1 slot and a group slot of 3.
    let one_on_one = bookings
        .open_slot(&teacher, slot_at(teacher.user, datetime!(2026-12-03 10:00 UTC), 1))
        .await
        .expect("1:1 slot opens");
    let group = bookings
        .open_slot(&teacher, slot_at(teacher.user, datetime!(2026-12-03 12:00 UTC), 3))
        .await
        .expect("group slot opens");

    // Two students request the 1:1; both wait for approval.
    let first = bookings
        .request(&students[0], one_on_one.id())
        .await
        .expect("first request");
    let second = bookings
        .request(&students[1], one_on_one.id())
        .await
        .expect("second request");
    assert_eq!(first.status(), BookingStatus::Requested);
    assert_eq!(second.status(), BookingStatus::Requested);

    // The teacher approves one; the other is declined because the slot filled.
    let approved = bookings.approve(&teacher, first.id()).await.expect("approve");
    assert_eq!(approved.status(), BookingStatus::Confirmed);
    let one_on_one = reload(&store, &one_on_one).await;
    assert_eq!(one_on_one.booked_count(), 1);
    assert_eq!(
        one_on_one.booking(second.id()).map(|b| b.status()),
        Some(BookingStatus::Declined)
    );

    // Four students try the group slot: three confirmed, the fourth refused.
    for student in &students[2..5] {
        let booking = bookings.request(student, group.id()).await.expect("group seat");
        assert_eq!(booking.status(), BookingStatus::Confirmed);
    }
    let refused = bookings
        .request(&students[5], group.id())
        .await
        .expect_err("group is full");
    assert_eq!(refused.code(), "slot_full");
    assert_eq!(reload(&store, &group).await.booked_count(), 3);

    // The teacher cancels one confirmed group student, who gets a credit...
    let cancelled_student = students[2];
    let (group_booking, _) = store
        .student_bookings(cancelled_student.user, NOW, NOW + Duration::days(30))
        .await
        .expect("read")
        .into_iter()
        .next()
        .expect("the student holds a group booking");
    let (cancelled, credit) = bookings
        .teacher_cancel(&teacher, group_booking.id())
        .await
        .expect("teacher cancels");
    assert_eq!(cancelled.status(), BookingStatus::TeacherCancelled);
    assert_eq!(credit.status(), CreditStatus::Active);
    assert_eq!(credit.teacher(), teacher.user);
    assert_eq!(credit.expires_at(), NOW + Duration::days(30));
    assert_eq!(reload(&store, &group).await.booked_count(), 2);

    // ...and redeems it into another slot of the same teacher.
    let later = bookings
        .open_slot(&teacher, slot_at(teacher.user, datetime!(2026-12-05 10:00 UTC), 1))
        .await
        .expect("another slot");
    clock.advance(Duration::days(1));
    let redeemed = bookings
        .redeem_credit(&cancelled_student, credit.id(), later.id())
        .await
        .expect("redeem");
    assert_eq!(
        redeemed.status(),
        BookingStatus::Confirmed,
        "a credit needs no approval"
    );
    assert_eq!(reload(&store, &later).await.booked_count(), 1);
    let credits = bookings
        .credits(&cancelled_student, cancelled_student.user)
        .await
        .expect("credits");
    assert_eq!(credits[0].status(), CreditStatus::Redeemed);
    assert_eq!(credits[0].redeemed_booking(), Some(redeemed.id()));

    // The whole story is in the history and the outbox, and the store is consistent.
    let history = bookings.history(&teacher, first.id()).await.expect("history");
    let steps: Vec<_> = history.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(
        steps,
        vec![
            (None, BookingStatus::Requested),
            (Some(BookingStatus::Requested), BookingStatus::Confirmed)
        ]
    );
    let kinds: Vec<&str> = store
        .pending(1000)
        .await
        .expect("outbox")
        .iter()
        .map(|m| m.event.kind())
        .collect();
    for expected in [
        "slot_opened",
        "booking_requested",
        "booking_confirmed",
        "booking_declined",
        "booking_teacher_cancelled",
        "credit_issued",
        "seat_released",
        "credit_redeemed",
    ] {
        assert!(kinds.contains(&expected), "outbox lacks {expected}: {kinds:?}");
    }
    store.verify_invariants().expect("invariants hold");
}

async fn reload(store: &MemoryStore, slot: &Slot) -> Slot {
    store.slot(slot.id()).await.expect("read").expect("slot exists")
}
