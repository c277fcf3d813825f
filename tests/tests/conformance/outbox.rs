//! The transactional outbox: committed events in order until delivered.

use time::Duration;
use tutorbook_domain::{Actor, DeclineReason, DomainEvent};
use tutorbook_ports::{Clock, SystemClock};
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
    w.store.mark_delivered(&delivered).await.unwrap();
    assert_eq!(w.pending().await, pending[3..].to_vec());
    w.store.mark_delivered(&delivered).await.unwrap();
    assert_eq!(w.pending().await, pending[3..].to_vec(), "delivery is idempotent");

    // New events queue behind the undelivered ones.
    w.open(TEACHER, at(2, 10), 1).await;
    assert_eq!(w.pending().await.len(), pending.len() - 3 + 1);
    let rest: Vec<Uuid> = w.pending().await.iter().map(|m| m.id).collect();
    w.store.mark_delivered(&rest).await.unwrap();
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
    w.store.mark_delivered(&[again[0].id]).await.unwrap();
    w.store.mark_delivered(&all).await.unwrap();
    assert!(
        w.store
            .claim(w.clock_now(), 10, Duration::ZERO)
            .await
            .unwrap()
            .is_empty(),
        "delivered stays delivered"
    );
}

/// Delivered messages go once delivered before the cutoff, `limit` at a
/// time; pending and given-up messages stay whatever the cutoff. Delivery
/// is stamped by the wall clock, so the cutoffs here are read from it.
async fn delivered_messages_are_purged_after_the_cutoff_and_only_they<S: Store>(store: S) {
    let w = World::new(store);
    for day in 1..=5 {
        w.open(TEACHER, at(day, 10), 1).await;
    }
    let all: Vec<Uuid> = w.pending().await.iter().map(|m| m.id).collect();
    let (delivered, rest) = all.split_at(3);
    w.store.mark_delivered(delivered).await.unwrap();
    w.store.mark_failed(rest[0], "the mailer refused it").await.unwrap();
    // Marked again later (by a second worker), a message keeps its first time.
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let between = SystemClock.now();
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    w.store.mark_delivered(&delivered[2..]).await.unwrap();

    let earlier = SystemClock.now() - Duration::hours(1);
    assert_eq!(
        w.store.purge_delivered_before(earlier, 10).await.unwrap(),
        0,
        "delivered after the cutoff: kept"
    );
    assert_eq!(
        w.store.purge_delivered_before(between, 2).await.unwrap(),
        2,
        "at most `limit`"
    );
    assert_eq!(
        w.store.purge_delivered_before(between, 10).await.unwrap(),
        1,
        "delivered before `between`, though marked again after it"
    );
    let later = SystemClock.now() + Duration::minutes(1);
    assert_eq!(w.store.purge_delivered_before(later, 10).await.unwrap(), 0, "all gone");

    let pending: Vec<Uuid> = w.pending().await.iter().map(|m| m.id).collect();
    assert_eq!(pending, vec![rest[1]], "the pending message stays");
    let failed: Vec<Uuid> = w.store.failed(10).await.unwrap().iter().map(|(m, _)| m.id).collect();
    assert_eq!(failed, vec![rest[0]], "the given-up message stays for an operator");
    // A purged message delivered again (a late worker) is unknown: ignored.
    w.store.mark_delivered(delivered).await.unwrap();
    assert_eq!(w.pending().await.len(), 1);
}

conformance!(
    the_outbox_holds_committed_events_in_order_until_delivered,
    concurrent_claims_share_the_outbox_without_overlap,
    delivered_messages_are_purged_after_the_cutoff_and_only_they,
);
