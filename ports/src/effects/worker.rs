//! The outbox worker: delivers committed events to their handlers after the
//! transaction, with retries and exponential backoff, never twice at once.
//!
//! Within a pass, the messages about one slot are settled in order and
//! those about different slots at once.
//!
//! Several workers (in one process or many) may run passes concurrently: a
//! claim leases its messages, so no other pass sees them until the lease
//! lapses. A worker that dies mid-pass leaves its messages leased, and they
//! are handed out again once the lease lapses; that redelivery is why every
//! handler must be idempotent (emails carry an idempotency key, calendar
//! syncs reconcile, reminder rows are keyed).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream;

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::effects::EffectError;
use tutorbook_domain::SlotId;

use crate::{Clock, Outbox, OutboxMessage, Result};
use uuid::Uuid;

/// Something done for an outbox message: send the emails it calls for, sync
/// its slot's calendar event. Ignores events it has no business with.
#[async_trait]
pub trait EffectHandler: Send + Sync {
    /// A short name for logs and the kept error (`email`, `calendar`, ...).
    fn name(&self) -> &'static str;

    /// Does this handler's part for `message`. Must be idempotent: the same
    /// message may arrive again after a crash or when another handler failed.
    async fn handle(&self, message: &OutboxMessage) -> Result<(), EffectError>;

    /// Does this handler's part for every message of a pass, answering one
    /// result per message, in order. One slot's messages must be handled in
    /// the order given; up to `concurrency` slots' at once.
    ///
    /// The default hands each message to [`EffectHandler::handle`] in those
    /// lanes. A handler that reads the store for each message overrides it
    /// to read what the whole pass needs at once: under a backlog the worker
    /// is bound by reads, not by the handlers' own work.
    async fn handle_pass(&self, messages: &[&OutboxMessage], concurrency: usize) -> Vec<Result<(), EffectError>> {
        in_lanes(messages, concurrency, |message| self.handle(message)).await
    }
}

/// A message's index in a pass and what a handler answered for it.
type Handled = (usize, Result<(), EffectError>);

/// Runs `handle` on every message: one slot's messages one after the other,
/// in order, and up to `concurrency` slots' at once (their handlers wait on
/// I/O; the bound keeps a large pass from flooding a provider). Answers one
/// result per message, in the order given.
pub(crate) async fn in_lanes<'a, F>(
    messages: &[&'a OutboxMessage],
    concurrency: usize,
    handle: F,
) -> Vec<Result<(), EffectError>>
where
    F: Fn(&'a OutboxMessage) -> BoxFuture<'a, Result<(), EffectError>> + Sync,
{
    let handle = &handle;
    // Boxed, and collected before they are streamed: a stream mapping lanes
    // through a closure is not provably `Send` for every lifetime (a rustc
    // limit), so the spawned worker loop would not compile.
    let lanes: Vec<BoxFuture<'_, Vec<Handled>>> = by_slot(messages)
        .into_iter()
        .map(|lane| -> BoxFuture<'_, _> {
            Box::pin(async move {
                let mut done = Vec::with_capacity(lane.len());
                for i in lane {
                    done.push((i, handle(messages[i]).await));
                }
                done
            })
        })
        .collect();
    let mut results: Vec<Handled> = stream::iter(lanes)
        .buffer_unordered(concurrency.max(1))
        .flat_map(stream::iter)
        .collect()
        .await;
    // Every message is in exactly one lane: the indices are 0..len.
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, result)| result).collect()
}

/// How the worker retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Messages claimed per pass while the worker keeps up; also how many
    /// slots' messages a pass settles at once.
    pub batch: usize,
    /// The most messages a pass claims when the worker is behind: a pass
    /// whose claim came back full doubles the next one's, up to this, so
    /// that a backlog costs fewer claims and marks per message; a claim
    /// that was not full sizes the next to what it found (the next power of
    /// two, at least `batch`), so that a loop that lets messages gather
    /// between passes takes them in one pass, not in 32, 64, 128 and the
    /// rest. Bounds the messages held in memory.
    pub max_batch: usize,
    /// How long a claim hides a message from other workers; must exceed the
    /// time a pass takes, or a slow pass shares its messages.
    pub lease: Duration,
    /// Delay before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// The longest delay between two attempts.
    pub max_delay: Duration,
    /// Attempts before a message is given up (`failed`).
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 8 attempts over about an hour (30 s, 1, 2, 4, 8, 16, 32 min apart):
    /// well inside the 24 hours an email idempotency key is honoured.
    fn default() -> Self {
        Self {
            batch: 32,
            max_batch: 512,
            lease: Duration::minutes(5),
            base_delay: Duration::seconds(30),
            max_delay: Duration::hours(1),
            max_attempts: 8,
        }
    }
}

impl RetryPolicy {
    /// The delay after failed attempt number `attempt` (1-based):
    /// `base_delay × 2^(attempt-1)`, at most `max_delay`.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 2_i32.saturating_pow(attempt.saturating_sub(1).min(30));
        self.base_delay
            .checked_mul(factor)
            .map_or(self.max_delay, |d| d.min(self.max_delay))
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Messages claimed.
    pub claimed: usize,
    /// Messages every handler succeeded on.
    pub delivered: usize,
    /// Messages put back for a later attempt.
    pub retried: usize,
    /// Messages given up on.
    pub failed: usize,
    /// The claim came back with as many messages as the pass asked for:
    /// more are probably waiting, so a loop should go again at once.
    pub full: bool,
}

/// The delivery worker over an outbox `O`, on a clock `C` (the one the
/// commands use: a message is due from its command's instant).
#[derive(Clone)]
pub struct OutboxWorker<O, C> {
    outbox: O,
    clock: C,
    handlers: Vec<Arc<dyn EffectHandler>>,
    policy: RetryPolicy,
    /// How many messages the next pass claims (see `RetryPolicy::max_batch`);
    /// shared by clones (the service's concurrent loops grow and shrink it
    /// together).
    next_batch: Arc<AtomicUsize>,
}

impl<O, C> std::fmt::Debug for OutboxWorker<O, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.handlers.iter().map(|h| h.name()).collect();
        f.debug_struct("OutboxWorker")
            .field("handlers", &names)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<O: Outbox, C: Clock> OutboxWorker<O, C> {
    /// A worker with no handlers yet.
    pub fn new(outbox: O, clock: C, policy: RetryPolicy) -> Self {
        Self {
            outbox,
            clock,
            handlers: Vec::new(),
            policy,
            next_batch: Arc::new(AtomicUsize::new(policy.batch)),
        }
    }

    /// Adds a handler; every message goes to every handler, in this order.
    pub fn with_handler(mut self, handler: Arc<dyn EffectHandler>) -> Self {
        self.handlers.push(handler);
        self
    }

    /// Claims one batch (larger while behind: `RetryPolicy::max_batch`) and
    /// settles each message: delivered when every
    /// handler succeeded; otherwise retried after the backoff, or failed
    /// (last error kept) when an error is permanent or the attempts are used
    /// up. The delivered messages of a pass are marked in one write at its
    /// end (a crash before it only redelivers them, which handlers allow).
    /// Returns the store's error only when claiming itself failed.
    pub async fn run_once(&self) -> Result<PassReport> {
        let now = self.clock.now();
        let limit = self.next_batch.load(Ordering::Relaxed);
        let messages = self.outbox.claim(now, limit, self.policy.lease).await?;
        let full = messages.len() >= limit;
        let next = if full {
            limit.saturating_mul(2)
        } else {
            messages.len().next_power_of_two()
        }
        .min(self.policy.max_batch)
        .max(self.policy.batch);
        self.next_batch.store(next, Ordering::Relaxed);
        let mut report = PassReport {
            claimed: messages.len(),
            full,
            ..PassReport::default()
        };
        // Each handler takes the whole pass at once (one read of what it
        // needs, not one per message); a message's errors are gathered
        // across the handlers.
        let pass: Vec<&OutboxMessage> = messages.iter().collect();
        let mut outcomes: Vec<Outcome> = messages.iter().map(|_| Outcome::default()).collect();
        for handler in &self.handlers {
            let mut results = handler.handle_pass(&pass, self.policy.batch.max(1)).await;
            if results.len() != pass.len() {
                // Which answer belongs to which message is unknowable: none
                // counts, and every message is tried again.
                tracing::error!(
                    handler = handler.name(),
                    answers = results.len(),
                    messages = pass.len(),
                    "an effect handler answered a pass with the wrong number of results"
                );
                let error = format!("answered {} results for {} messages", results.len(), pass.len());
                results = vec![Err(EffectError::Retryable(error)); pass.len()];
            }
            for (outcome, result) in outcomes.iter_mut().zip(results) {
                if let Err(e) = result {
                    outcome.permanent |= !e.is_retryable();
                    outcome.errors.push(format!("{}: {e}", handler.name()));
                }
            }
        }
        let mut delivered = Vec::with_capacity(messages.len());
        let mut unsettled = Vec::new();
        for (message, outcome) in messages.iter().zip(outcomes) {
            if outcome.errors.is_empty() {
                delivered.push(message.id);
            } else {
                unsettled.push(self.settle(message, outcome, now));
            }
        }
        let settled: Vec<_> = stream::iter(unsettled)
            .buffer_unordered(self.policy.batch.max(1))
            .collect()
            .await;
        for (id, settled) in settled {
            match settled {
                Ok(Settled::Retried) => report.retried += 1,
                Ok(Settled::Failed) => report.failed += 1,
                // The lease is still on it: it is retried when the lease lapses.
                Err(e) => tracing::warn!(message = %id, error = %e, "cannot settle an outbox message"),
            }
        }
        if !delivered.is_empty() {
            match self.outbox.mark_delivered(&delivered, self.clock.now()).await {
                Ok(()) => report.delivered = delivered.len(),
                // Still leased: handed out again (and handled again) when the lease lapses.
                Err(e) => {
                    tracing::warn!(messages = delivered.len(), error = %e, "cannot mark outbox messages delivered")
                }
            }
        }
        Ok(report)
    }

    /// Runs passes until one claims nothing (for tests and draining).
    pub async fn drain(&self) -> Result<PassReport> {
        let mut total = PassReport::default();
        loop {
            let pass = self.run_once().await?;
            if pass.claimed == 0 {
                return Ok(total);
            }
            total.claimed += pass.claimed;
            total.delivered += pass.delivered;
            total.retried += pass.retried;
            total.failed += pass.failed;
        }
    }

    /// Puts back a message some handler failed on: retried after the
    /// backoff, or failed (last errors kept) when an error is permanent or
    /// the attempts are used up.
    fn settle<'a>(
        &'a self,
        message: &'a OutboxMessage,
        outcome: Outcome,
        now: OffsetDateTime,
    ) -> BoxFuture<'a, (Uuid, Result<Settled>)> {
        Box::pin(async move {
            let error = outcome.errors.join("; ");
            let settled = if outcome.permanent || message.attempts >= self.policy.max_attempts {
                tracing::error!(message = %message.id, kind = message.event.kind(), attempts = message.attempts, %error,
                    "outbox message failed for good");
                self.outbox
                    .mark_failed(message.id, &error)
                    .await
                    .map(|()| Settled::Failed)
            } else {
                let delay = self.policy.delay_after(message.attempts);
                tracing::warn!(message = %message.id, kind = message.event.kind(), attempts = message.attempts, %error,
                    retry_in_s = delay.whole_seconds(), "outbox message will be retried");
                self.outbox
                    .retry_later(message.id, &error, now + delay)
                    .await
                    .map(|()| Settled::Retried)
            };
            (message.id, settled)
        })
    }
}

/// What the handlers said about one message.
#[derive(Default)]
struct Outcome {
    /// Each failed handler's error, named.
    errors: Vec<String>,
    /// Whether one of them is permanent.
    permanent: bool,
}

/// The messages' indices in lanes: one per slot, and one for the messages
/// about no slot (packages, payments, credits), each in the order given.
pub(crate) fn by_slot(messages: &[&OutboxMessage]) -> Vec<Vec<usize>> {
    let mut lanes: HashMap<Option<SlotId>, Vec<usize>> = HashMap::new();
    let mut order = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let slot = message.event.slot();
        lanes
            .entry(slot)
            .or_insert_with(|| {
                order.push(slot);
                Vec::new()
            })
            .push(i);
    }
    order.into_iter().filter_map(|slot| lanes.remove(&slot)).collect()
}

enum Settled {
    Retried,
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MockClock, MockOutbox};
    use time::OffsetDateTime;
    use tutorbook_domain::{DomainEvent, SlotId};
    use uuid::Uuid;

    /// A handler that always answers `outcome`.
    struct Fixed(Result<(), EffectError>);

    #[async_trait]
    impl EffectHandler for Fixed {
        fn name(&self) -> &'static str {
            "fixed"
        }

        async fn handle(&self, _message: &OutboxMessage) -> Result<(), EffectError> {
            self.0.clone()
        }
    }

    fn message(attempts: u32) -> OutboxMessage {
        OutboxMessage {
            id: Uuid::from_u128(7),
            event: DomainEvent::SlotDeleted {
                slot: SlotId::from_uuid(Uuid::from_u128(1)),
            },
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            attempts,
        }
    }

    fn outbox_claiming(attempts: u32) -> MockOutbox {
        let mut outbox = MockOutbox::new();
        outbox
            .expect_claim()
            .withf(|now, _, _| *now == NOW)
            .times(1)
            .returning(move |_, _, _| Ok(vec![message(attempts)]));
        outbox
    }

    /// The worker's clock.
    const NOW: OffsetDateTime = time::macros::datetime!(2030-01-07 09:00 UTC);

    fn worker(outbox: MockOutbox, outcome: Result<(), EffectError>) -> OutboxWorker<MockOutbox, MockClock> {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        OutboxWorker::new(outbox, clock, RetryPolicy::default()).with_handler(Arc::new(Fixed(outcome)))
    }

    #[tokio::test]
    async fn a_retryable_failure_is_put_back_after_the_backoff_for_its_attempt() {
        let mut outbox = outbox_claiming(3);
        outbox
            .expect_retry_later()
            .withf(|id, error, at| {
                *id == Uuid::from_u128(7) && error == "fixed: timeout" && *at == NOW + Duration::minutes(2)
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let report = worker(outbox, Err(EffectError::Retryable("timeout".into())))
            .run_once()
            .await
            .unwrap();
        assert_eq!((report.claimed, report.retried), (1, 1));
    }

    /// A handler whose `handle_pass` answers no result at all.
    struct Silent;

    #[async_trait]
    impl EffectHandler for Silent {
        fn name(&self) -> &'static str {
            "silent"
        }

        async fn handle(&self, _message: &OutboxMessage) -> Result<(), EffectError> {
            Ok(())
        }

        async fn handle_pass(&self, _messages: &[&OutboxMessage], _concurrency: usize) -> Vec<Result<(), EffectError>> {
            Vec::new()
        }
    }

    #[tokio::test]
    async fn a_pass_answered_with_too_few_results_is_retried_not_delivered() {
        let mut outbox = outbox_claiming(1);
        outbox
            .expect_retry_later()
            .withf(|id, error, _| *id == Uuid::from_u128(7) && error == "silent: answered 0 results for 1 messages")
            .times(1)
            .returning(|_, _, _| Ok(()));
        outbox.expect_mark_delivered().never();
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        let worker = OutboxWorker::new(outbox, clock, RetryPolicy::default()).with_handler(Arc::new(Silent));
        let report = worker.run_once().await.unwrap();
        assert_eq!((report.claimed, report.delivered, report.retried), (1, 0, 1));
    }

    #[tokio::test]
    async fn a_permanent_failure_is_given_up_at_once() {
        let mut outbox = outbox_claiming(1);
        outbox
            .expect_mark_failed()
            .withf(|_, error| error == "fixed: 403 forbidden")
            .times(1)
            .returning(|_, _| Ok(()));
        let report = worker(outbox, Err(EffectError::Permanent("403 forbidden".into())))
            .run_once()
            .await
            .unwrap();
        assert_eq!(report.failed, 1);
    }

    #[tokio::test]
    async fn the_last_attempt_gives_up_and_success_marks_delivered() {
        let mut outbox = outbox_claiming(RetryPolicy::default().max_attempts);
        outbox.expect_mark_failed().times(1).returning(|_, _| Ok(()));
        let report = worker(outbox, Err(EffectError::Retryable("timeout".into())))
            .run_once()
            .await
            .unwrap();
        assert_eq!(report.failed, 1);

        let mut outbox = outbox_claiming(1);
        outbox
            .expect_mark_delivered()
            .withf(|ids, at| ids == [Uuid::from_u128(7)] && *at == NOW)
            .times(1)
            .returning(|_, _| Ok(()));
        assert_eq!(worker(outbox, Ok(())).run_once().await.unwrap().delivered, 1);
    }

    #[tokio::test]
    async fn a_pass_marks_its_delivered_messages_in_one_write() {
        let mut outbox = MockOutbox::new();
        outbox.expect_claim().times(1).returning(|_, _, _| {
            Ok((1..=3)
                .map(|n| OutboxMessage {
                    id: Uuid::from_u128(n),
                    ..message(1)
                })
                .collect())
        });
        outbox
            .expect_mark_delivered()
            .withf(|ids, _| ids == [Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3)])
            .times(1)
            .returning(|_, _| Ok(()));
        let report = worker(outbox, Ok(())).run_once().await.unwrap();
        assert_eq!((report.claimed, report.delivered), (3, 3));
    }

    #[tokio::test]
    async fn a_full_claim_doubles_the_next_up_to_the_most_and_a_short_one_sizes_the_next() {
        let policy = RetryPolicy {
            batch: 2,
            max_batch: 6,
            ..RetryPolicy::default()
        };
        let mut outbox = MockOutbox::new();
        let mut sequence = mockall::Sequence::new();
        // Asked for, found: full, full, full at the most, short (the next
        // sized to what it found), short again, then back to `batch`.
        for (asked, found) in [(2, 2), (4, 4), (6, 6), (6, 3), (4, 1), (2, 0)] {
            outbox
                .expect_claim()
                .withf(move |_, limit, _| *limit == asked)
                .times(1)
                .in_sequence(&mut sequence)
                .returning(move |_, _, _| {
                    Ok((0..found)
                        .map(|n| OutboxMessage {
                            id: Uuid::from_u128(n as u128 + 1),
                            ..message(1)
                        })
                        .collect())
                });
        }
        outbox.expect_mark_delivered().returning(|_, _| Ok(()));
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        let worker = OutboxWorker::new(outbox, clock, policy).with_handler(Arc::new(Fixed(Ok(()))));
        let mut full = Vec::new();
        let mut delivered = 0;
        for _ in 0..6 {
            let pass = worker.run_once().await.unwrap();
            full.push(pass.full);
            delivered += pass.delivered;
        }
        assert_eq!(delivered, 16);
        // A claim that came back full says so: the loop goes again at once.
        assert_eq!(full, [true, true, true, false, false, false]);
    }

    #[test]
    fn one_slots_messages_share_a_lane_in_claim_order() {
        let about = |n: u128, slot: Option<u128>| OutboxMessage {
            id: Uuid::from_u128(n),
            event: match slot {
                Some(s) => DomainEvent::SlotDeleted {
                    slot: SlotId::from_uuid(Uuid::from_u128(s)),
                },
                None => DomainEvent::LessonCompleted {
                    booking: tutorbook_domain::BookingId::from_uuid(Uuid::from_u128(n)),
                },
            },
            ..message(1)
        };
        let messages = [
            about(1, Some(10)),
            about(2, None),
            about(3, Some(20)),
            about(4, Some(10)),
            about(5, None),
        ];
        let pass: Vec<&OutboxMessage> = messages.iter().collect();
        let lanes: Vec<Vec<u128>> = by_slot(&pass)
            .iter()
            .map(|lane| lane.iter().map(|&i| messages[i].id.as_u128()).collect())
            .collect();
        assert_eq!(lanes, [vec![1, 4], vec![2, 5], vec![3]]);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let delays: Vec<i64> = (1..=9).map(|a| policy.delay_after(a).whole_seconds()).collect();
        assert_eq!(delays, vec![30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(policy.delay_after(u32::MAX), Duration::hours(1));
    }
}
