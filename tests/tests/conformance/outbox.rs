//! The transactional outbox: committed events in order until delivered.

use time::Duration;
use tutorbook_domain::{Actor, DeclineReason, DomainEvent};
use uuid::Uuid;

use crate::backends::Store;
use crate::conformance;
use crate::world::{OTHER_TEACHER, TEACHER, World, at, race, student};

async fn the_outbox_holds_committed_events_in_order_until_delivered<S: Store>(store: S) {
    let w = World::new(store);
    assert!(w.pending().await.is_empty());
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let first = w.request(student(1), &slot).await;
    let second = w.request(student(2), &slot).await;
    // Refused commands add nothing.
    let _ = w
        .bookings
        .request(&Actor::student(student(1)), slot.id())
        .await
        .unwrap_err();
    let _ = w
        .bookings
        .approve(&Actor::teacher(OTHER_TEACHER), first.id())
        .await
        .unwrap_err();
    w.bookings.approve(&Actor::teacher(TEACHER), first.id()).await.unwrap();
    w.bookings
        .teacher_cancel(&Actor::teacher(TEACHER), first.id())
        .await
        .unwrap();

    let pending = w.pending().await;
    let kinds: Vec<_> = pending.iter().map(|m| m.event.kind()).collect();
    assert_eq!(
        kinds,
        vec![
            "slot_opened",
            "booking_requested",
            "booking_requested",
            "booking_confirmed",
            "booking_declined",
            "booking_teacher_cancelled",
            "credit_issued",
            "seat_released",
        ]
    );
    assert_eq!(
        pending[0].event,
        DomainEvent::SlotOpened {
            slot: slot.id(),
            teacher: TEACHER,
            start: at(1, 10)
        }
    );
    assert_eq!(
        pending[4].event,
        DomainEvent::BookingDeclined {
            booking: second.id(),
            slot: slot.id(),
            student: student(2),
            reason: DeclineReason::SlotFilled
        }
    );
    assert_eq!(
        pending[7].event,
        DomainEvent::SeatReleased {
            slot: slot.id(),
            booked_count: 0
        }
    );
    let mut ids: Vec<Uuid> = pending.iter().map(|m| m.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), pending.len(), "message ids are unique");

    // `limit` takes the oldest; delivered messages disappear; unknown ids are ignored.
    assert_eq!(w.store.pending(3).await.unwrap(), pending[..3].to_vec());
    let delivered: Vec<Uuid> = pending[..3].iter().map(|m| m.id).chain([Uuid::from_u128(9)]).collect();
    w.store.mark_delivered(&delivered, w.clock_now()).await.unwrap();
    assert_eq!(w.pending().await, pending[3..].to_vec());
    w.store.mark_delivered(&delivered, w.clock_now()).await.unwrap();
    assert_eq!(w.pending().await, pending[3..].to_vec(), "delivery is idempotent");

    // New events queue behind the undelivered ones.
    w.open(TEACHER, at(2, 10), 1).await;
    assert_eq!(w.pending().await.len(), pending.len() - 3 + 1);
    let rest: Vec<Uuid> = w.pending().await.iter().map(|m| m.id).collect();
    w.store.mark_delivered(&rest, w.clock_now()).await.unwrap();
    assert!(w.pending().await.is_empty());
}

/// Several workers claiming at once never get the same message; a claimed
/// message is hidden until its lease lapses, then handed out again; a
/// delivered one never again.
async fn concurrent_claims_share_the_outbox_without_overlap<S: Store>(store: S) {
    let w = World::new(store);
    for day in 1..=6 {
        let slot = w.open(TEACHER, at(day, 10), 2).await;
        w.request(student(1), &slot).await;
    }
    let all: Vec<Uuid> = w.pending().await.iter().map(|m| m.id).collect();
    assert_eq!(all.len(), 12);

    let (store, now) = (w.store.clone(), w.clock_now());
    let claims = race(8, move |_| {
        let store = store.clone();
        async move { store.claim(now, 2, Duration::minutes(5)).await }
    })
    .await;
    let mut claimed: Vec<Uuid> = claims
        .into_iter()
        .flat_map(|c| c.expect("claim").into_iter().map(|m| m.id))
        .collect();
    let total = claimed.len();
    claimed.sort();
    claimed.dedup();
    assert_eq!(claimed.len(), total, "a message was claimed twice");
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(claimed, expected, "eight workers of two cover all twelve messages");
    assert!(
        w.store
            .claim(w.clock_now(), 100, Duration::minutes(5))
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );

    // A lapsed lease (a worker that died) hands the message out again.
    w.open(TEACHER, at(9, 10), 2).await;
    let first = w.store.claim(w.clock_now(), 10, Duration::ZERO).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].event.kind(), "slot_opened");
    let again = w.store.claim(w.clock_now(), 10, Duration::minutes(5)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, first[0].id, "reclaimed after the lease lapsed");
    assert_eq!(
        (first[0].attempts, again[0].attempts),
        (1, 2),
        "each claim counts an attempt"
    );
    w.store.mark_delivered(&[again[0].id], w.clock_now()).await.unwrap();
    w.store.mark_delivered(&all, w.clock_now()).await.unwrap();
    assert!(
        w.store
            .claim(w.clock_now(), 10, Duration::ZERO)
            .await
            .unwrap()
            .is_empty(),
        "delivered stays delivered"
    );
}

/// A claim hands messages out oldest first: a slot's messages reach the
/// handlers in the order they were committed (the worker's lanes rely on it).
async fn a_claim_hands_out_the_oldest_messages_first<S: Store>(store: S) {
    let w = World::new(store);
    for day in 1..=5 {
        let slot = w.open(TEACHER, at(day, 10), 2).await;
        w.request(student(1), &slot).await;
    }
    let pending: Vec<Uuid> = w.pending().await.iter().map(|m| m.id).collect();
    assert_eq!(pending.len(), 10);
    let claim = |limit| {
        let (store, now) = (w.store.clone(), w.clock_now());
        async move {
            let claimed = store.claim(now, limit, Duration::minutes(5)).await.unwrap();
            claimed.iter().map(|m| m.id).collect::<Vec<Uuid>>()
        }
    };
    assert_eq!(claim(4).await, pending[..4]);
    assert_eq!(claim(100).await, pending[4..]);
}

/// Delivered messages go once delivered before the cutoff, `limit` at a
/// time; pending and given-up messages stay whatever the cutoff.
async fn delivered_messages_are_purged_after_the_cutoff_and_only_they<S: Store>(store: S) {
    let w = World::new(store);
    for day in 1..=6 {
        w.open(TEACHER, at(day, 10), 1).await;
    }
    let all: Vec<Uuid> = w.pending().await.iter().map(|m| m.id).collect();
    let t = w.clock_now();
    w.store.mark_delivered(&all[..3], t).await.unwrap();
    // Given up on, then marked delivered by a worker whose lease had
    // lapsed: still kept for an operator.
    w.store.mark_failed(all[3], "the mailer refused it").await.unwrap();
    w.store.mark_delivered(&all[3..4], t).await.unwrap();
    // Marked again later (by a second worker): the first time counts.
    w.store
        .mark_delivered(&all[2..3], t + Duration::hours(2))
        .await
        .unwrap();

    let purge = |cutoff, limit| {
        let store = w.store.clone();
        async move { store.purge_delivered_before(cutoff, limit).await.unwrap() }
    };
    assert_eq!(purge(t, 10).await, 0, "delivered at the cutoff: kept");
    let after = t + Duration::hours(1);
    assert_eq!(purge(after, 2).await, 2, "at most `limit`");
    assert_eq!(purge(after, 10).await, 1, "the first delivery counts");
    assert_eq!(purge(t + Duration::days(365), 10).await, 0, "all gone");

    let pending: Vec<Uuid> = w.pending().await.iter().map(|m| m.id).collect();
    assert_eq!(pending, all[4..], "pending messages stay");
    let failed: Vec<Uuid> = w.store.failed(10).await.unwrap().iter().map(|(m, _)| m.id).collect();
    assert_eq!(failed, vec![all[3]], "the given-up message stays");
    // A purged message delivered again (a late worker) is unknown: ignored.
    w.store.mark_delivered(&all[..3], after).await.unwrap();
    assert_eq!(w.pending().await.len(), 2);
}

conformance!(
    a_claim_hands_out_the_oldest_messages_first,
    the_outbox_holds_committed_events_in_order_until_delivered,
    concurrent_claims_share_the_outbox_without_overlap,
    delivered_messages_are_purged_after_the_cutoff_and_only_they,
);
