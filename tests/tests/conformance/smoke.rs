//! The foundation walkthrough on every store: a teacher's 1:1 and group
//! slots, competing requests, a full group, a teacher cancellation and the
//! make-up credit redeemed into another slot, with the history and the outbox
//! telling the whole story.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{Actor, BookingStatus, CreditStatus, Meeting, PlatformSettings, UserId, Zone};
use tutorbook_memory::ManualClock;
use tutorbook_ports::{Bookings, OpenSlot, UuidV7, WaitlistChoice};
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
        waitlist: WaitlistChoice::TeacherDefault,
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
    assert_eq!(first.status(), BookingStatus::Requested);
    assert_eq!(second.status(), BookingStatus::Requested);
    assert_eq!(
        bookings.request(&s[0], one.id()).await.expect_err("dup").code(),
        "duplicate_booking"
    );
    let approved = bookings.approve(&teacher, first.id()).await.expect("approve");
    assert_eq!(approved.status(), BookingStatus::Confirmed);
    let reloaded = store.slot(one.id()).await.expect("read").expect("slot");
    assert_eq!(reloaded.booked_count(), 1);
    assert_eq!(
        reloaded.booking(second.id()).map(|b| b.status()),
        Some(BookingStatus::Declined)
    );

    let mut confirmed = Vec::new();
    for student in &s[2..5] {
        let booking = bookings.request(student, group.id()).await.expect("seat");
        assert_eq!(booking.status(), BookingStatus::Confirmed);
        confirmed.push(booking);
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
    assert_eq!(credit.status(), CreditStatus::Active);
    assert_eq!(credit.teacher(), teacher.user);
    assert_eq!(credit.expires_at(), NOW + Duration::days(30));
    let later = bookings
        .open_slot(&teacher, slot_at(teacher.user, datetime!(2026-12-05 10:00 UTC), 1))
        .await
        .expect("later");
    clock.advance(Duration::days(1));
    let redeemed = bookings
        .redeem_credit(&s[2], credit.id(), later.id())
        .await
        .expect("redeem");
    assert_eq!(
        redeemed.status(),
        BookingStatus::Confirmed,
        "a credit needs no approval"
    );
    let later = store.slot(later.id()).await.expect("read").expect("slot");
    assert_eq!(later.booked_count(), 1);
    let credits = bookings.credits(&s[2], s[2].user).await.expect("credits");
    assert_eq!(credits[0].status(), CreditStatus::Redeemed);
    assert_eq!(credits[0].redeemed_booking(), Some(redeemed.id()));
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
}

conformance!(walkthrough);
