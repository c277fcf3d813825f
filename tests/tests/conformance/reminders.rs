//! Reminders on every store: planned from events, sent at their instants
//! (across a DST change), once, by several schedulers at once, and cancelled
//! with the booking.

use std::sync::Arc;

use time::Duration;
use time::macros::datetime;
use tutorbook_domain::{Actor, Zone};
use tutorbook_memory::MemoryMailer;
use tutorbook_ports::UuidV7;
use tutorbook_ports::effects::{
    EffectHandler, NewReminder, NoPush, OutboxWorker, ReminderChannel, ReminderPlan, ReminderPlanner,
    ReminderScheduler, ReminderStatus, RetryPolicy,
};

use crate::backends::Store;
use crate::conformance;
use crate::effects::directory;
use crate::world::{TEACHER, World, race, student};

fn policy() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::ZERO,
        max_attempts: 3,
        ..RetryPolicy::default()
    }
}

/// 10:00 in New York on 10 March 2030, the first morning of daylight time
/// there (the clocks jumped from 02:00 to 03:00).
const START: time::OffsetDateTime = datetime!(2030-03-10 14:00 UTC);

async fn reminders_fire_at_their_instants_across_a_dst_change<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, START, 2).await;
    let planner = ReminderPlanner::new(w.store.clone(), w.clock.clone(), UuidV7, ReminderPlan::default());
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), policy()).with_handler(Arc::new(planner.clone()));
    let mailer = MemoryMailer::new();
    let scheduler = ReminderScheduler::new(
        w.store.clone(),
        directory(),
        mailer.clone(),
        NoPush,
        w.clock.clone(),
        policy(),
    );

    w.confirmed(student(1), &slot).await;
    let second = w.confirmed(student(2), &slot).await;
    let messages = w.pending().await;
    worker.drain().await.unwrap();
    for message in &messages {
        planner.handle(message).await.unwrap(); // a redelivery plans nothing new
    }
    let planned = w.store.slot_reminders(slot.id()).await.unwrap();
    assert_eq!(
        planned.len(),
        6,
        "two leads for two students and the teacher (once): {planned:?}"
    );
    let day_before = datetime!(2030-03-09 14:00 UTC);
    let hour_before = datetime!(2030-03-10 13:00 UTC);
    let dues: Vec<_> = planned.iter().map(|r| r.planned.due_at).collect();
    assert_eq!(dues, [[day_before; 3], [hour_before; 3]].concat());
    // 24 elapsed hours before 10:00 EDT is 09:00 EST the day before.
    let new_york = Zone::parse("America/New_York").unwrap();
    assert_eq!(new_york.to_local(day_before).hour(), 9);
    assert_eq!(new_york.to_local(START).hour(), 10);

    w.clock.set(day_before - Duration::seconds(1));
    assert_eq!(scheduler.run_once().await.unwrap().claimed, 0, "not due yet");
    w.clock.set(day_before);
    assert_eq!(scheduler.run_once().await.unwrap().sent, 3);
    assert_eq!(scheduler.run_once().await.unwrap().claimed, 0, "sent once");
    let sent = mailer.sent();
    let teacher = sent.iter().find(|e| e.to == "teacher@example.com").unwrap();
    assert_eq!(teacher.subject, "Reminder: lesson in 24 hours");
    assert!(
        teacher.text.contains(
            "(Teacher with Student1, Student2) starts in 24 hours: \
             Sunday, 10 March 2030, 10:00–10:50 (America/New_York, UTC-04:00)."
        ),
        "{}",
        teacher.text
    );
    let korean = sent.iter().find(|e| e.to == "student1@example.com").unwrap();
    assert_eq!(korean.subject, "알림: 24시간 후 수업이 시작됩니다");
    assert!(
        korean
            .text
            .contains("2030년 3월 10일 (일) 23:00–23:50 (Asia/Seoul, UTC+09:00)")
    );

    // Student 2's lesson is cancelled: their last reminder goes, the others stay.
    w.bookings
        .teacher_cancel(&Actor::teacher(TEACHER), second.id())
        .await
        .unwrap();
    worker.drain().await.unwrap();
    w.clock.set(hour_before);
    assert_eq!(scheduler.run_once().await.unwrap().sent, 2);
    let last = mailer.sent();
    assert_eq!(last.len(), 5);
    assert!(
        last[3..]
            .iter()
            .all(|e| e.subject.contains("1 hour") || e.subject.contains("1시간"))
    );
    assert!(last[3..].iter().all(|e| e.to != "student2@example.com"));

    let statuses: Vec<_> = w
        .store
        .slot_reminders(slot.id())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.planned.recipient, r.planned.lead.whole_hours(), r.status))
        .collect();
    assert!(statuses.contains(&(student(2), 1, ReminderStatus::Cancelled)));
    assert_eq!(statuses.iter().filter(|s| s.2 == ReminderStatus::Sent).count(), 5);
}

/// A cancellation the planner has not seen yet still stops the reminder:
/// the scheduler checks the booking when it is due.
async fn a_reminder_due_after_an_unprocessed_cancellation_is_not_sent<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, START, 1).await;
    let planner = ReminderPlanner::new(w.store.clone(), w.clock.clone(), UuidV7, ReminderPlan::default());
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), policy()).with_handler(Arc::new(planner));
    let mailer = MemoryMailer::new();
    let scheduler = ReminderScheduler::new(
        w.store.clone(),
        directory(),
        mailer.clone(),
        NoPush,
        w.clock.clone(),
        policy(),
    );
    let booking = w.confirmed(student(1), &slot).await;
    worker.drain().await.unwrap();
    w.bookings
        .teacher_cancel(&Actor::teacher(TEACHER), booking.id())
        .await
        .unwrap();

    w.clock.set(START - Duration::hours(24));
    let report = scheduler.run_once().await.unwrap();
    assert_eq!((report.claimed, report.cancelled, report.sent), (2, 2, 0));
    assert!(mailer.sent().is_empty());
    // The late planner pass cancels the rest.
    worker.drain().await.unwrap();
    let statuses: Vec<_> = w
        .store
        .slot_reminders(slot.id())
        .await
        .unwrap()
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [ReminderStatus::Cancelled; 4]);
}

/// Eight schedulers at once over three lessons' due reminders: each sent exactly once.
async fn concurrent_schedulers_send_each_reminder_once<S: Store>(store: S) {
    let w = World::new(store);
    let planner = ReminderPlanner::new(w.store.clone(), w.clock.clone(), UuidV7, ReminderPlan::default());
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), policy()).with_handler(Arc::new(planner));
    for n in 1..=3 {
        let slot = w.open(TEACHER, START + Duration::hours(2 * n as i64), 1).await;
        w.confirmed(student(n), &slot).await;
    }
    worker.drain().await.unwrap();
    let mailer = MemoryMailer::new();
    let scheduler = ReminderScheduler::new(
        w.store.clone(),
        directory(),
        mailer.clone(),
        NoPush,
        w.clock.clone(),
        RetryPolicy { batch: 2, ..policy() },
    );
    w.clock.set(START);
    let results = race(8, move |_| {
        let scheduler = scheduler.clone();
        async move { scheduler.run_once().await }
    })
    .await;
    let sent: usize = results.into_iter().map(|r| r.unwrap().sent).sum();
    // The day-before reminders of 3 lessons for 2 people are due; the hour-before ones are not.
    assert_eq!(sent, 6);
    let mut keys: Vec<String> = mailer.sent().into_iter().map(|e| e.idempotency_key).collect();
    assert_eq!(keys.len(), 6);
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 6, "no reminder went out twice");
}

/// The student books the same slot again after the teacher cancelled: the
/// cancelled reminders come back, pending, for the new booking.
async fn booking_again_after_a_cancellation_revives_the_reminders<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, START, 1).await;
    let planner = ReminderPlanner::new(w.store.clone(), w.clock.clone(), UuidV7, ReminderPlan::default());
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), policy()).with_handler(Arc::new(planner));
    let first = w.confirmed(student(1), &slot).await;
    worker.drain().await.unwrap();
    w.bookings
        .teacher_cancel(&Actor::teacher(TEACHER), first.id())
        .await
        .unwrap();
    worker.drain().await.unwrap();
    let cancelled = w.store.slot_reminders(slot.id()).await.unwrap();
    assert_eq!(cancelled.len(), 4);
    assert!(cancelled.iter().all(|r| r.status == ReminderStatus::Cancelled));

    let again = w.confirmed(student(1), &slot).await;
    worker.drain().await.unwrap();
    let revived = w.store.slot_reminders(slot.id()).await.unwrap();
    assert_eq!(revived.len(), 4, "the same rows, not new ones");
    assert!(
        revived
            .iter()
            .all(|r| r.status == ReminderStatus::Pending && r.attempts == 0)
    );
    let bookings: Vec<_> = revived.iter().map(|r| r.planned.booking).collect();
    assert_eq!(bookings.iter().filter(|b| **b == Some(again.id())).count(), 2);
    assert_eq!(bookings.iter().filter(|b| b.is_none()).count(), 2, "the teacher's");
}

async fn reminders_follow_a_rescheduled_lesson<S: Store>(store: S) {
    let w = World::new(store);
    let from = w.open(TEACHER, START, 2).await;
    let to = w.open(TEACHER, START + Duration::days(1), 2).await;
    let planner = ReminderPlanner::new(w.store.clone(), w.clock.clone(), UuidV7, ReminderPlan::default());
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), policy()).with_handler(Arc::new(planner));
    let booking = w.confirmed(student(1), &from).await;
    worker.drain().await.unwrap();
    let moved = w
        .bookings
        .reschedule(&Actor::student(student(1)), booking.id(), to.id())
        .await
        .unwrap();
    worker.drain().await.unwrap();
    let of = |reminders: Vec<tutorbook_ports::effects::Reminder>, booking| {
        reminders
            .into_iter()
            .filter(|r| r.planned.booking == Some(booking))
            .map(|r| r.status)
            .collect::<Vec<_>>()
    };
    let old = of(w.store.slot_reminders(from.id()).await.unwrap(), booking.id());
    assert_eq!(old, [ReminderStatus::Cancelled; 2], "the old time's reminders are off");
    let new = of(w.store.slot_reminders(to.id()).await.unwrap(), moved.id());
    assert_eq!(new, [ReminderStatus::Pending; 2], "the new time's are planned");
}

/// One pass over several slots' confirmations (planned together) and a
/// slot where one student cancelled and another booked (kept in order):
/// every confirmed lesson has its reminders, the teacher's once per slot,
/// and the cancelled booking's are off.
async fn one_pass_plans_many_slots_and_keeps_a_cancellation_in_order<S: Store>(store: S) {
    let w = World::new(store);
    let group = w.open(TEACHER, START, 3).await;
    let single = w.open(TEACHER, START + Duration::hours(2), 1).await;
    let swapped = w.open(TEACHER, START + Duration::hours(4), 2).await;
    let planner = ReminderPlanner::new(w.store.clone(), w.clock.clone(), UuidV7, ReminderPlan::default());
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), policy()).with_handler(Arc::new(planner));
    let gone = w.confirmed(student(5), &swapped).await;
    worker.drain().await.unwrap();

    for n in 1..=3 {
        w.confirmed(student(n), &group).await;
    }
    w.confirmed(student(4), &single).await;
    w.bookings.cancel(&Actor::student(student(5)), gone.id()).await.unwrap();
    let stays = w.confirmed(student(6), &swapped).await;
    let pass = worker.run_once().await.unwrap();
    assert_eq!(pass.delivered, pass.claimed, "{pass:?}");
    assert_eq!(worker.run_once().await.unwrap().claimed, 0, "all in one pass");

    let pending = |reminders: &[tutorbook_ports::effects::Reminder], booking| {
        reminders
            .iter()
            .filter(|r| r.status == ReminderStatus::Pending && r.planned.booking == booking)
            .count()
    };
    let group = w.store.slot_reminders(group.id()).await.unwrap();
    assert_eq!(group.len(), 8, "3 students and the teacher, 2 leads each: {group:?}");
    assert_eq!(pending(&group, None), 2, "the teacher's, once");
    let single = w.store.slot_reminders(single.id()).await.unwrap();
    assert_eq!(single.len(), 4);
    let swapped = w.store.slot_reminders(swapped.id()).await.unwrap();
    assert_eq!(pending(&swapped, Some(gone.id())), 0, "the cancelled booking's are off");
    assert_eq!(pending(&swapped, Some(stays.id())), 2);
    assert_eq!(pending(&swapped, None), 2, "the teacher still teaches");
}

/// Four passes at once plan the reminders of one teacher's slots, each
/// pass holding several slots in a different order: every message is
/// delivered at the first attempt and every lesson has its reminders, the
/// teacher's once per slot.
async fn concurrent_passes_plan_every_lesson_once<S: Store>(store: S) {
    let w = World::new(store);
    let mut slots = Vec::new();
    for n in 0..8 {
        slots.push(w.open(TEACHER, START + Duration::hours(2 * n), 3).await);
    }
    let planner = ReminderPlanner::new(w.store.clone(), w.clock.clone(), UuidV7, ReminderPlan::default());
    let policy = RetryPolicy {
        batch: 4,
        max_batch: 4,
        ..policy()
    };
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), policy).with_handler(Arc::new(planner));
    worker.drain().await.unwrap(); // the openings
    for n in 1..=3 {
        // Every other student books the slots backwards.
        let order: Vec<_> = if n % 2 == 0 {
            slots.iter().rev().collect()
        } else {
            slots.iter().collect()
        };
        for slot in order {
            w.confirmed(student(n), slot).await;
        }
    }
    let messages = w.pending().await.len();
    let results = race(4, move |_| {
        let worker = worker.clone();
        async move { worker.drain().await }
    })
    .await;
    let passes: Vec<_> = results.into_iter().map(|r| r.expect("drain")).collect();
    let delivered: usize = passes.iter().map(|p| p.delivered).sum();
    let retried: usize = passes.iter().map(|p| p.retried + p.failed).sum();
    assert_eq!((delivered, retried), (messages, 0), "{passes:?}");
    for slot in &slots {
        let planned = w.store.slot_reminders(slot.id()).await.unwrap();
        assert_eq!(planned.len(), 8, "3 students and the teacher, 2 leads: {planned:?}");
        assert!(planned.iter().all(|r| r.status == ReminderStatus::Pending));
    }
}

/// Two passes write the teacher's reminders of the same 200 slots at once,
/// one in the slots' order and one backwards: both succeed, every round
/// (the store writes rows in key order; in the order given, Postgres
/// found a deadlock and aborted one, whose messages were then handled a
/// second time).
async fn opposite_reminder_writes_at_once_never_deadlock<S: Store>(store: S) {
    let w = World::new(store);
    let mut slots = Vec::new();
    for n in 0..200 {
        slots.push(w.open(TEACHER, START + Duration::hours(2 * n), 1).await.id());
    }
    let slots = Arc::new(slots);
    for round in 1..=5 {
        let lead = Duration::minutes(round);
        let results = race(2, {
            let (store, slots) = (w.store.clone(), slots.clone());
            move |i| {
                let store = store.clone();
                let mut reminders: Vec<NewReminder> = slots
                    .iter()
                    .map(|&slot| NewReminder {
                        id: uuid::Uuid::now_v7(),
                        slot,
                        booking: None,
                        recipient: TEACHER,
                        channel: ReminderChannel::Email,
                        lead,
                        due_at: START - lead,
                    })
                    .collect();
                if i == 1 {
                    reminders.reverse();
                }
                async move { store.schedule_reminders(reminders).await }
            }
        })
        .await;
        for result in results {
            result.expect("no deadlock");
        }
    }
    let planned = w.store.slot_reminders(slots[0]).await.unwrap();
    assert_eq!(planned.len(), 5, "one per lead, written once: {planned:?}");
}

/// One plan of 700 reminders (more than one statement's and one
/// transaction's worth on the SQL stores) over keys in every state: the 100
/// cancelled ones come back pending with the new plan, the 50 pending ones
/// keep theirs, and the 550 new ones are added.
/// The teacher's email reminder of `slot`, `lead` minutes ahead, due at `due_at`.
fn teachers_email(slot: tutorbook_domain::SlotId, lead: i64, due_at: time::OffsetDateTime) -> NewReminder {
    NewReminder {
        id: uuid::Uuid::now_v7(),
        slot,
        booking: None,
        recipient: TEACHER,
        channel: ReminderChannel::Email,
        lead: Duration::minutes(lead),
        due_at,
    }
}

async fn a_large_plan_revives_cancelled_keys_and_leaves_pending_ones<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, START, 1).await.id();
    let plan = |leads: std::ops::RangeInclusive<i64>, due: time::OffsetDateTime| -> Vec<NewReminder> {
        leads.map(|lead| teachers_email(slot, lead, due)).collect()
    };
    let (old, new) = (START - Duration::days(2), START - Duration::days(1));
    w.store.schedule_reminders(plan(1..=100, old)).await.unwrap();
    w.store.cancel_reminders(slot, None).await.unwrap();
    w.store.schedule_reminders(plan(101..=150, old)).await.unwrap();
    w.store.schedule_reminders(plan(1..=700, new)).await.unwrap();

    let planned = w.store.slot_reminders(slot).await.unwrap();
    assert_eq!(planned.len(), 700);
    for reminder in &planned {
        let lead = reminder.planned.lead.whole_minutes();
        let kept = (101..=150).contains(&lead);
        assert_eq!(reminder.status, ReminderStatus::Pending, "lead {lead}");
        assert_eq!(reminder.planned.due_at, if kept { old } else { new }, "lead {lead}");
    }
}

/// A claim hands due reminders out soonest due first, whatever order they
/// were planned in.
async fn due_reminders_are_claimed_soonest_first<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, START, 1).await.id();
    let planned: Vec<NewReminder> = [30, 90, 60]
        .into_iter()
        .map(|lead| teachers_email(slot, lead, START - Duration::minutes(lead)))
        .collect();
    w.store.schedule_reminders(planned).await.unwrap();
    let claimed = w
        .store
        .claim_due_reminders(START, 10, Duration::minutes(5))
        .await
        .unwrap();
    let due: Vec<time::OffsetDateTime> = claimed.iter().map(|r| r.planned.due_at).collect();
    assert_eq!(
        due,
        [90, 60, 30].map(|lead| START - Duration::minutes(lead)),
        "soonest due first"
    );
}

conformance!(
    a_large_plan_revives_cancelled_keys_and_leaves_pending_ones,
    due_reminders_are_claimed_soonest_first,
    reminders_follow_a_rescheduled_lesson,
    one_pass_plans_many_slots_and_keeps_a_cancellation_in_order,
    concurrent_passes_plan_every_lesson_once,
    opposite_reminder_writes_at_once_never_deadlock,
    booking_again_after_a_cancellation_revives_the_reminders,
    reminders_fire_at_their_instants_across_a_dst_change,
    a_reminder_due_after_an_unprocessed_cancellation_is_not_sent,
    concurrent_schedulers_send_each_reminder_once,
);
