//! Two instances of the service on one Postgres database, each with its own
//! pool and outbox worker (docs/performance.md, "Scale-out"): their claims
//! never overlap, so every message is delivered once and every email sent
//! once, also while a backlog makes their claims grow.

use std::sync::Arc;

use tutorbook_memory::MemoryMailer;
use tutorbook_ports::effects::{Notifications, OutboxWorker, RetryPolicy};
use tutorbook_sql::SqlStore;

use crate::backends::{self, Store};
use crate::effects::directory;
use crate::world::{TEACHER, World, at, student};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_deliver_every_message_once() {
    let Some((first, second)) = backends::postgres_instances().await else {
        return;
    };
    let w = World::new(first.clone());
    for day in 1..=20 {
        let slot = w.open(TEACHER, at(day, 10), 1).await;
        for n in 1..=3 {
            w.request(student(n), &slot).await;
        }
    }
    let mailer = MemoryMailer::new();
    // Small claims that double while full: the two workers' claims
    // interleave and grow through the backlog.
    let policy = RetryPolicy {
        batch: 2,
        max_batch: 16,
        ..RetryPolicy::default()
    };
    let worker = |store: SqlStore| {
        OutboxWorker::new(store.clone(), w.clock.clone(), policy).with_handler(Arc::new(Notifications::new(
            store,
            directory(),
            mailer.clone(),
        )))
    };
    let (a, b) = (worker(first.clone()), worker(second));
    let (a, b) = tokio::join!(
        tokio::spawn(async move { a.drain().await }),
        tokio::spawn(async move { b.drain().await })
    );
    let (a, b) = (a.unwrap().expect("drain"), b.unwrap().expect("drain"));
    assert_eq!(
        a.delivered + b.delivered,
        20 + 60,
        "every message delivered once (slot_opened and booking_requested): {a:?} {b:?}"
    );
    let mut keys: Vec<String> = mailer.sent().into_iter().map(|e| e.idempotency_key).collect();
    assert_eq!(keys.len(), 60, "one email per request");
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 60, "no email twice");
    assert!(w.pending().await.is_empty());
    first.check_invariants().await;
}
