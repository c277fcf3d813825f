//! Commands under an `Idempotency-Key`: the answer is kept with the key in
//! the command's own transaction (docs/decisions/0015), so a crash between
//! the commit and the response cannot make a retry run the command again,
//! and a refusal leaves nothing behind.

use tutorbook_domain::{Actor, BookingStatus, UserId};
use tutorbook_ports::Claim;

use crate::conformance;
use crate::users::AccountStore;
use crate::world::{TEACHER, World, at, code, race, student};

fn claim(user: UserId, key: &str, fingerprint: &str) -> Claim {
    Claim {
        user,
        key: key.to_owned(),
        fingerprint: fingerprint.to_owned(),
    }
}

async fn a_retry_after_a_crash_between_commit_and_answer_gets_the_first_answer<S: AccountStore>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 4).await;
    let me = student(1);
    let key = claim(me, "retry-me", "fp");
    let keyed = w.bookings.keyed(Some(key.clone()));
    let first = keyed.request(&Actor::student(me), slot.id()).await.unwrap();
    // The service stops here: the command committed, no response was kept.
    let record = w
        .store
        .record(me, "retry-me")
        .await
        .unwrap()
        .expect("the key holds the answer");
    assert!(record.answer.is_some());
    assert_eq!(record.response, None);
    let events = w.pending().await.len();

    let retried = keyed.request(&Actor::student(me), slot.id()).await.unwrap();

    assert_eq!(retried, first, "the retry answers the first booking");
    let reloaded = w.reload(&slot).await;
    assert_eq!(reloaded.bookings().len(), 1, "booked once");
    assert_eq!(reloaded.booked_count(), 1);
    assert_eq!(w.pending().await.len(), events, "no second set of events");
    w.store.check_invariants().await;
}

async fn a_refused_command_under_a_key_keeps_nothing_and_a_retry_runs_again<S: AccountStore>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    w.confirmed(student(2), &slot).await;
    let me = student(1);
    let keyed = w.bookings.keyed(Some(claim(me, "full", "fp")));
    assert_eq!(code(keyed.request(&Actor::student(me), slot.id()).await), "slot_full");
    assert_eq!(w.store.record(me, "full").await.unwrap(), None, "nothing kept");

    let seat = w.bookings.store().slot(slot.id()).await.unwrap().unwrap().bookings()[0].id();
    w.bookings.cancel(&Actor::student(student(2)), seat).await.unwrap();
    let booked = keyed.request(&Actor::student(me), slot.id()).await.unwrap();
    assert_eq!(booked.status(), BookingStatus::Requested);
}

async fn a_key_used_for_another_request_is_refused_and_changes_nothing<S: AccountStore>(store: S) {
    let w = World::new(store);
    let (first, second) = (w.open(TEACHER, at(1, 10), 4).await, w.open(TEACHER, at(2, 10), 4).await);
    let me = student(1);
    w.bookings
        .keyed(Some(claim(me, "k", "fp-first")))
        .request(&Actor::student(me), first.id())
        .await
        .unwrap();
    let reused = w
        .bookings
        .keyed(Some(claim(me, "k", "fp-second")))
        .request(&Actor::student(me), second.id())
        .await;
    assert_eq!(code(reused), "idempotency_key_reused");
    assert!(w.reload(&second).await.bookings().is_empty());
    // Another user's key of the same name is another key.
    w.bookings
        .keyed(Some(claim(student(2), "k", "fp-second")))
        .request(&Actor::student(student(2)), second.id())
        .await
        .unwrap();
}

async fn concurrent_commands_under_one_key_run_once_and_answer_alike<S: AccountStore>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 4).await;
    let me = student(1);
    let keyed = w.bookings.keyed(Some(claim(me, "same", "fp")));
    let results = race(8, |_| {
        let (keyed, slot) = (keyed.clone(), slot.id());
        async move { keyed.request(&Actor::student(me), slot).await }
    })
    .await;
    let answers: Vec<_> = results
        .into_iter()
        .map(|r| r.expect("every copy answers").id())
        .collect();
    assert!(answers.windows(2).all(|pair| pair[0] == pair[1]), "{answers:?}");
    assert_eq!(w.reload(&slot).await.bookings().len(), 1, "booked exactly once");
    w.store.check_invariants().await;
}

conformance!(
    a_retry_after_a_crash_between_commit_and_answer_gets_the_first_answer,
    a_refused_command_under_a_key_keeps_nothing_and_a_retry_runs_again,
    a_key_used_for_another_request_is_refused_and_changes_nothing,
    concurrent_commands_under_one_key_run_once_and_answer_alike,
);
