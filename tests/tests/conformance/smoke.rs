//! The foundation walkthrough on every store.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{Actor, BookingStatus, CreditStatus, Meeting, PlatformSettings, UserId, Zone};
use tutorbook_memory::ManualClock;
use tutorbook_ports::{Bookings, OpenSlot, UuidV7};
use uuid::Uuid;

use crate::backends::Store;
use crate::conformance;

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

async fn walkthrough<S: Store>(store: S) {
    let clock = ManualClock::at(NOW);
    let bookings = Bookings::new(store.clone(), clock.clone(), UuidV7, PlatformSettings::default());
    let teacher = Actor::teacher(user(1));
    let s: Vec<Actor> = (10..16).map(|n| Actor::student(user(n))).collect();

    let one = bookings
        .open_slot(&teacher, slot_at(teacher.user, datetime!(2026-12-03 10:00 UTC), 1))
        .await
        .expect("1:1 opens");
    let group = bookings
        .open_slot(&teacher, slot_at(teacher.user, datetime!(2026-12-03 12:00 UTC), 3))
        .await
        .expect("group opens");
    let overlap = bookings
        .open_slot(&teacher, slot_at(teacher.user, datetime!(2026-12-03 10:30 UTC), 1))
        .await
        .expect_err("overlap refused");
    assert_eq!(overlap.code(), "slot_overlap");

    let first = bookings.request(&s[0], one.id()).await.expect("request");
    let second = bookings.request(&s[1], one.id()).await.expect("request");
    assert_eq!(
        bookings.request(&s[0], one.id()).await.expect_err("dup").code(),
        "duplicate_booking"
    );
    bookings.approve(&teacher, first.id()).await.expect("approve");
    let reloaded = store.slot(one.id()).await.expect("read").expect("slot");
    assert_eq!(reloaded.booked_count(), 1);
    assert_eq!(
        reloaded.booking(second.id()).map(|b| b.status()),
        Some(BookingStatus::Declined)
    );

    let mut confirmed = Vec::new();
    for student in &s[2..5] {
        confirmed.push(bookings.request(student, group.id()).await.expect("seat"));
    }
    assert_eq!(
        bookings.request(&s[5], group.id()).await.expect_err("full").code(),
        "slot_full"
    );
    let (cancelled, credit) = bookings
        .teacher_cancel(&teacher, confirmed[0].id())
        .await
        .expect("cancel");
    assert_eq!(cancelled.status(), BookingStatus::TeacherCancelled);
    let later = bookings
        .open_slot(&teacher, slot_at(teacher.user, datetime!(2026-12-05 10:00 UTC), 1))
        .await
        .expect("later");
    let redeemed = bookings
        .redeem_credit(&s[2], credit.id(), later.id())
        .await
        .expect("redeem");
    assert_eq!(redeemed.status(), BookingStatus::Confirmed);
    let credits = bookings.credits(&s[2], s[2].user).await.expect("credits");
    assert_eq!(credits[0].status(), CreditStatus::Redeemed);
    assert_eq!(
        store
            .slot(group.id())
            .await
            .expect("read")
            .expect("slot")
            .booked_count(),
        2
    );

    let history = bookings.history(&teacher, first.id()).await.expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].from, Some(BookingStatus::Requested));
    assert_eq!(history[1].to, BookingStatus::Confirmed);
    store.check_invariants().await;
}

conformance!(walkthrough);
