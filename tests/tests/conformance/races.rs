//! Concurrent commands: the store, not only the code, keeps the seat count,
//! the one-winner approval, the no-overlap rule and single redemption.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::Duration;
use tutorbook_domain::{Actor, Booking, BookingId, BookingStatus, CreditStatus, DomainEvent};

use crate::backends::Store;
use crate::conformance;
use crate::world::{TEACHER, World, at, race, slot_input, student, tally};

async fn sixty_four_students_racing_for_four_seats<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 4).await;
    let before = w.pending().await.len();
    let results = race(64, |i| {
        let bookings = w.bookings.clone();
        let slot = slot.id();
        async move { bookings.request(&Actor::student(student(i as u128)), slot).await }
    })
    .await;

    assert_eq!(tally(&results), BTreeMap::from([("ok", 4), ("slot_full", 60)]));
    let stored = w.reload(&slot).await;
    assert_eq!(stored.booked_count(), 4);
    assert_eq!(stored.bookings().len(), 4, "refused requests leave no rows");
    let winners: Vec<BookingId> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(Booking::id)
        .collect();
    assert!(winners.iter().all(|id| stored.booking(*id).is_some()));
    assert_eq!(w.kinds_after(before).await, vec!["booking_confirmed"; 4]);
}

async fn thirty_two_approvals_racing_for_one_seat<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let mut requests = Vec::new();
    for n in 0..32 {
        requests.push(w.request(student(n), &slot).await.id());
    }
    let requests = Arc::new(requests);
    let results = race(32, |i| {
        let (bookings, requests) = (w.bookings.clone(), requests.clone());
        async move { bookings.approve(&Actor::teacher(TEACHER), requests[i]).await }
    })
    .await;

    let counts = tally(&results);
    assert_eq!(counts.get("ok"), Some(&1), "{counts:?}");
    assert!(
        counts
            .keys()
            .all(|k| ["ok", "invalid_booking_status", "slot_full"].contains(k)),
        "{counts:?}"
    );
    let stored = w.reload(&slot).await;
    assert_eq!(stored.booked_count(), 1);
    let statuses: Vec<_> = stored.bookings().iter().map(Booking::status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == BookingStatus::Confirmed).count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == BookingStatus::Declined).count(), 31);
    let winner = results.iter().find_map(|r| r.as_ref().ok()).unwrap();
    assert_eq!(
        stored.booking(winner.id()).map(Booking::status),
        Some(BookingStatus::Confirmed)
    );
}

async fn thirty_two_overlapping_slots_racing_for_one_teacher<S: Store>(store: S) {
    let w = World::new(store);
    let results = race(32, |i| {
        let bookings = w.bookings.clone();
        let input = slot_input(TEACHER, at(1, 10) + Duration::minutes(i as i64), 1);
        async move { bookings.open_slot(&Actor::teacher(TEACHER), input).await }
    })
    .await;

    assert_eq!(tally(&results), BTreeMap::from([("ok", 1), ("slot_overlap", 31)]));
    let listed = w.store.teacher_slots(TEACHER, at(0, 0), at(5, 0)).await.unwrap();
    let winner = results.iter().find_map(|r| r.as_ref().ok()).unwrap();
    assert_eq!(listed, vec![winner.clone()]);
    assert_eq!(w.kinds_after(0).await, vec!["slot_opened"]);
}

async fn one_credit_racing_into_two_slots_is_redeemed_once<S: Store>(store: S) {
    let w = World::new(store);
    for round in 0..16_i64 {
        let source = w.open(TEACHER, at(round, 6), 1).await;
        let booking = w.confirmed(student(1), &source).await;
        let (_, credit) = w
            .bookings
            .teacher_cancel(&Actor::teacher(TEACHER), booking.id())
            .await
            .unwrap();
        let targets = Arc::new([
            w.open(TEACHER, at(round, 8), 1).await.id(),
            w.open(TEACHER, at(round, 10), 1).await.id(),
        ]);
        let credit_id = credit.id();
        let results = race(2, |i| {
            let (bookings, targets) = (w.bookings.clone(), targets.clone());
            async move {
                bookings
                    .redeem_credit(&Actor::student(student(1)), credit_id, targets[i])
                    .await
            }
        })
        .await;

        assert_eq!(
            tally(&results),
            BTreeMap::from([("credit_already_used", 1), ("ok", 1)]),
            "round {round}"
        );
        let redeemed = results.iter().find_map(|r| r.as_ref().ok()).unwrap();
        let stored = w.store.credit(credit.id()).await.unwrap().unwrap();
        assert_eq!(stored.status(), CreditStatus::Redeemed);
        assert_eq!(stored.redeemed_booking(), Some(redeemed.id()));
        let mut seats = 0;
        for target in targets.iter() {
            seats += w.store.slot(*target).await.unwrap().unwrap().booked_count();
        }
        assert_eq!(seats, 1, "round {round}");
        let redeemed_events = w
            .pending()
            .await
            .iter()
            .filter(|m| matches!(m.event, DomainEvent::CreditRedeemed { credit: c, .. } if c == credit.id()))
            .count();
        assert_eq!(redeemed_events, 1);
    }
}

conformance!(
    sixty_four_students_racing_for_four_seats,
    thirty_two_approvals_racing_for_one_seat,
    thirty_two_overlapping_slots_racing_for_one_teacher,
    one_credit_racing_into_two_slots_is_redeemed_once,
);
