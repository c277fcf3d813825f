//! Make-up credits: issued on a teacher cancellation, listed newest first,
//! redeemed once into a slot of the same teacher, refused when expired.

use time::Duration;
use tutorbook_domain::{Actor, BookingId, BookingSource, BookingStatus, CreditStatus, MakeupCredit, SlotId, UserId};
use uuid::Uuid;

use crate::backends::Store;
use crate::conformance;
use crate::world::{OTHER_TEACHER, STAFF, T0, TEACHER, World, at, code, student, transitions};

async fn a_teacher_cancel_issues_a_credit_the_student_can_list<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let booking = w.confirmed(student(1), &slot).await;
    let (cancelled, credit) = w
        .bookings
        .teacher_cancel(&Actor::teacher(TEACHER), booking.id())
        .await
        .unwrap();
    assert_eq!(cancelled.status(), BookingStatus::TeacherCancelled);
    assert_eq!(credit.student(), student(1));
    assert_eq!(credit.teacher(), TEACHER);
    assert_eq!(credit.source_booking(), booking.id());
    assert_eq!(credit.status(), CreditStatus::Active);
    assert_eq!(credit.expires_at(), T0 + Duration::days(30));
    assert_eq!(w.reload(&slot).await.booked_count(), 0);

    assert_eq!(
        w.bookings
            .credits(&Actor::student(student(1)), student(1))
            .await
            .unwrap(),
        vec![credit.clone()]
    );
    assert_eq!(
        w.bookings.credits(&Actor::staff(STAFF), student(1)).await.unwrap(),
        vec![credit.clone()]
    );
    assert_eq!(
        code(w.bookings.credits(&Actor::student(student(2)), student(1)).await),
        "forbidden"
    );
    assert_eq!(w.store.credit(credit.id()).await.unwrap(), Some(credit));
    let history = w.store.history(booking.id()).await.unwrap();
    assert_eq!(
        transitions(&history).last().copied(),
        Some((
            Some(BookingStatus::Confirmed),
            BookingStatus::TeacherCancelled,
            Some(TEACHER),
            "cancelled_by_teacher"
        ))
    );
}

async fn credits_are_listed_newest_first<S: Store>(store: S) {
    let w = World::new(store);
    let mut issued = Vec::new();
    for day in 1..=3 {
        let slot = w.open(TEACHER, at(day, 10), 2).await;
        let booking = w.confirmed(student(1), &slot).await;
        w.clock.advance(Duration::minutes(1));
        let (_, credit) = w
            .bookings
            .teacher_cancel(&Actor::teacher(TEACHER), booking.id())
            .await
            .unwrap();
        issued.push(credit.id());
    }
    let listed: Vec<_> = w
        .bookings
        .credits(&Actor::student(student(1)), student(1))
        .await
        .unwrap()
        .iter()
        .map(MakeupCredit::id)
        .collect();
    issued.reverse();
    assert_eq!(listed, issued);
}
async fn a_credit_is_redeemed_once_into_a_slot_of_the_same_teacher<S: Store>(store: S) {
    let w = World::new(store);
    let first = w.open(TEACHER, at(1, 10), 1).await;
    let booking = w.confirmed(student(1), &first).await;
    let (_, credit) = w
        .bookings
        .teacher_cancel(&Actor::teacher(TEACHER), booking.id())
        .await
        .unwrap();
    let makeup = w.open(TEACHER, at(2, 10), 1).await;
    let elsewhere = w.open(OTHER_TEACHER, at(2, 10), 1).await;

    let redeem =
        async |slot: SlotId, by: UserId| (w.bookings).redeem_credit(&Actor::student(by), credit.id(), slot).await;
    assert_eq!(code(redeem(elsewhere.id(), student(1)).await), "credit_wrong_teacher");
    assert_eq!(
        code(redeem(makeup.id(), student(2)).await),
        "not_found",
        "another's credit"
    );

    let redeemed = redeem(makeup.id(), student(1)).await.unwrap();
    assert_eq!(redeemed.status(), BookingStatus::Confirmed, "no approval for a credit");
    assert_eq!(redeemed.source(), BookingSource::Credit(credit.id()));
    assert_eq!(redeemed.slot(), makeup.id());
    assert_eq!(w.reload(&makeup).await.booked_count(), 1);

    let stored = w.store.credit(credit.id()).await.unwrap().unwrap();
    assert_eq!(stored.status(), CreditStatus::Redeemed);
    assert_eq!(stored.redeemed_booking(), Some(redeemed.id()));
    assert_eq!(
        w.bookings
            .credits(&Actor::student(student(1)), student(1))
            .await
            .unwrap(),
        vec![stored]
    );
    assert_eq!(code(redeem(makeup.id(), student(1)).await), "credit_already_used");
    let history = w.store.history(redeemed.id()).await.unwrap();
    assert_eq!(
        transitions(&history),
        vec![(None, BookingStatus::Confirmed, Some(student(1)), "credit_redeemed")]
    );
    assert_eq!(
        w.kinds_after(w.pending().await.len() - 2).await,
        vec!["booking_confirmed", "credit_redeemed"]
    );
}

async fn an_expired_credit_or_missing_ids_are_refused<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let booking = w.confirmed(student(1), &slot).await;
    let (_, credit) = w
        .bookings
        .teacher_cancel(&Actor::teacher(TEACHER), booking.id())
        .await
        .unwrap();
    let late = w.open(TEACHER, at(40, 10), 1).await;
    w.clock.set(T0 + Duration::days(31));
    let actor = Actor::student(student(1));
    assert_eq!(
        code(w.bookings.redeem_credit(&actor, credit.id(), late.id()).await),
        "credit_expired"
    );

    let unknown_credit = tutorbook_domain::CreditId::from_uuid(Uuid::from_u128(1));
    let result = w.bookings.redeem_credit(&actor, unknown_credit, late.id()).await;
    assert_eq!(code(result), "not_found");
    let unknown_slot = SlotId::from_uuid(Uuid::from_u128(2));
    let result = w.bookings.redeem_credit(&actor, credit.id(), unknown_slot).await;
    assert_eq!(code(result), "not_found");
    assert_eq!(code(w.bookings.request(&actor, unknown_slot).await), "not_found");
    let unknown_booking = BookingId::from_uuid(Uuid::from_u128(3));
    assert_eq!(
        code(w.bookings.approve(&Actor::teacher(TEACHER), unknown_booking).await),
        "not_found"
    );
    assert_eq!(
        w.store.credit(credit.id()).await.unwrap().unwrap().status(),
        CreditStatus::Active,
        "stored status changes only through a command"
    );
}

conformance!(
    a_teacher_cancel_issues_a_credit_the_student_can_list,
    credits_are_listed_newest_first,
    a_credit_is_redeemed_once_into_a_slot_of_the_same_teacher,
    an_expired_credit_or_missing_ids_are_refused,
);
