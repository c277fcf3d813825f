//! Reminders on every store: planned when they fall due from the lessons'
//! confirmed students at that moment, sent at their instants (across a DST
//! change), once, by several schedulers at once; a booking cancelled or
//! moved before then is never reminded, one cancelled after is not sent.

use std::sync::Arc;

use time::Duration;
use time::macros::datetime;
use tutorbook_domain::{Actor, Zone};
use tutorbook_memory::MemoryMailer;
use tutorbook_ports::effects::{
    NewReminder, NoPush, ReminderChannel, ReminderPlan, ReminderScheduler, ReminderStatus, RetryPolicy,
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

/// Plans the default reminders fallen due by `through`; how many.
async fn plan<S: Store>(w: &World<S>, through: time::OffsetDateTime) -> usize {
    w.store
        .plan_due_reminders(through, &ReminderPlan::default())
        .await
        .expect("planned")
}

/// 10:00 in New York on 10 March 2030, the first morning of daylight time
/// there (the clocks jumped from 02:00 to 03:00).
const START: time::OffsetDateTime = datetime!(2030-03-10 14:00 UTC);

async fn reminders_fire_at_their_instants_across_a_dst_change<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, START, 2).await;
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
    let day_before = datetime!(2030-03-09 14:00 UTC);
    let hour_before = datetime!(2030-03-10 13:00 UTC);
    // 24 elapsed hours before 10:00 EDT is 09:00 EST the day before.
    let new_york = Zone::parse("America/New_York").unwrap();
    assert_eq!(new_york.to_local(day_before).hour(), 9);
    assert_eq!(new_york.to_local(START).hour(), 10);

    w.clock.set(day_before - Duration::seconds(1));
    let early = scheduler.run_once().await.unwrap();
    assert_eq!((early.planned, early.claimed), (0, 0), "nothing due yet");
    assert!(w.store.slot_reminders(slot.id()).await.unwrap().is_empty());
    w.clock.set(day_before);
    let due = scheduler.run_once().await.unwrap();
    assert_eq!(
        (due.planned, due.sent),
        (3, 3),
        "the two students and the teacher (once)"
    );
    let again = scheduler.run_once().await.unwrap();
    assert_eq!((again.planned, again.claimed), (0, 0), "planned and sent once");
    let planned = w.store.slot_reminders(slot.id()).await.unwrap();
    assert!(planned.iter().all(|r| r.planned.due_at == day_before), "{planned:?}");
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

    // Student 2's lesson is cancelled: their last reminder is never planned.
    w.bookings
        .teacher_cancel(&Actor::teacher(TEACHER), second.id())
        .await
        .unwrap();
    w.clock.set(hour_before - Duration::seconds(1));
    assert_eq!(scheduler.run_once().await.unwrap().planned, 0);
    w.clock.set(hour_before);
    let last = scheduler.run_once().await.unwrap();
    assert_eq!((last.planned, last.sent), (2, 2));
    let emails = mailer.sent();
    assert_eq!(emails.len(), 5);
    assert!(
        emails[3..]
            .iter()
            .all(|e| e.subject.contains("1 hour") || e.subject.contains("1시간"))
    );
    assert!(emails[3..].iter().all(|e| e.to != "student2@example.com"));

    let statuses: Vec<_> = w
        .store
        .slot_reminders(slot.id())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.planned.recipient, r.planned.lead.whole_hours(), r.status))
        .collect();
    assert_eq!(statuses.len(), 5, "{statuses:?}");
    assert!(statuses.iter().all(|s| s.2 == ReminderStatus::Sent));
    assert!(!statuses.contains(&(student(2), 1, ReminderStatus::Sent)));
}

/// A lesson cancelled after its reminder was planned, before it was sent:
/// the scheduler checks the booking when it sends, and sends nothing.
async fn a_reminder_planned_before_a_cancellation_is_not_sent<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, START, 1).await;
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
    let due = START - Duration::hours(24);
    let planned = plan(&w, due).await;
    assert_eq!(planned, 2, "the student's and the teacher's");
    w.bookings
        .teacher_cancel(&Actor::teacher(TEACHER), booking.id())
        .await
        .unwrap();

    w.clock.set(due);
    let report = scheduler.run_once().await.unwrap();
    assert_eq!((report.claimed, report.cancelled, report.sent), (2, 2, 0));
    assert!(mailer.sent().is_empty());
    let statuses: Vec<_> = w
        .store
        .slot_reminders(slot.id())
        .await
        .unwrap()
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [ReminderStatus::Cancelled; 2]);
}

/// Eight schedulers at once over three lessons' due reminders: each planned
/// and sent exactly once.
async fn concurrent_schedulers_send_each_reminder_once<S: Store>(store: S) {
    let w = World::new(store);
    for n in 1..=3 {
        let slot = w.open(TEACHER, START + Duration::hours(2 * n as i64), 1).await;
        w.confirmed(student(n), &slot).await;
    }
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
    let reports: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
    // The day-before reminders of 3 lessons for 2 people are due; the hour-before ones are not.
    assert_eq!(reports.iter().map(|r| r.planned).sum::<usize>(), 6, "{reports:?}");
    assert_eq!(reports.iter().map(|r| r.sent).sum::<usize>(), 6, "{reports:?}");
    let mut keys: Vec<String> = mailer.sent().into_iter().map(|e| e.idempotency_key).collect();
    assert_eq!(keys.len(), 6);
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 6, "no reminder went out twice");
}

/// A plan takes the due times since the last one: a lesson booked after
/// one of its reminders fell due (and was planned) never gets that one,
/// and gets the next.
async fn a_lesson_booked_after_a_reminder_fell_due_gets_only_the_later_ones<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, START, 1).await;
    let plan = |through| plan(&w, through);
    assert_eq!(plan(START - Duration::hours(30)).await, 0);
    assert_eq!(plan(START - Duration::hours(24)).await, 0, "nobody booked yet");
    let booking = w.confirmed(student(1), &slot).await;
    assert_eq!(plan(START - Duration::hours(2)).await, 0, "the day-before one is past");
    assert_eq!(plan(START - Duration::hours(1)).await, 2);
    assert_eq!(plan(START - Duration::hours(3)).await, 0, "a plan never goes back");
    assert_eq!(plan(START - Duration::minutes(30)).await, 0);
    let planned = w.store.slot_reminders(slot.id()).await.unwrap();
    let who: Vec<_> = planned
        .iter()
        .map(|r| (r.planned.recipient, r.planned.booking, r.planned.lead, r.planned.due_at))
        .collect();
    let hour_before = START - Duration::hours(1);
    assert!(who.contains(&(student(1), Some(booking.id()), Duration::hours(1), hour_before)));
    assert!(who.contains(&(TEACHER, None, Duration::hours(1), hour_before)));
    assert_eq!(who.len(), 2);
}

/// The student cancels and books the same slot again before its reminders
/// fall due: the new booking is reminded, the old one never was.
async fn booking_again_after_a_cancellation_is_reminded_once<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, START, 1).await;
    let first = w.confirmed(student(1), &slot).await;
    w.bookings
        .cancel(&Actor::student(student(1)), first.id())
        .await
        .unwrap();
    let again = w.confirmed(student(1), &slot).await;
    let planned = plan(&w, START - Duration::hours(24)).await;
    assert_eq!(planned, 2);
    let reminders = w.store.slot_reminders(slot.id()).await.unwrap();
    let bookings: Vec<_> = reminders.iter().map(|r| r.planned.booking).collect();
    assert_eq!(bookings.iter().filter(|b| **b == Some(again.id())).count(), 1);
    assert_eq!(bookings.iter().filter(|b| b.is_none()).count(), 1, "the teacher's");
    assert!(reminders.iter().all(|r| r.status == ReminderStatus::Pending));
}

async fn reminders_follow_a_rescheduled_lesson<S: Store>(store: S) {
    let w = World::new(store);
    let from = w.open(TEACHER, START, 2).await;
    let to = w.open(TEACHER, START + Duration::days(1), 2).await;
    let booking = w.confirmed(student(1), &from).await;
    let moved = w
        .bookings
        .reschedule(&Actor::student(student(1)), booking.id(), to.id())
        .await
        .unwrap();
    for through in [START - Duration::hours(24), START] {
        plan(&w, through).await;
    }
    assert!(
        w.store.slot_reminders(from.id()).await.unwrap().is_empty(),
        "the old time has none"
    );
    let new: Vec<_> = w
        .store
        .slot_reminders(to.id())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.planned.booking == Some(moved.id()))
        .map(|r| (r.planned.lead, r.status))
        .collect();
    assert_eq!(new, [(Duration::hours(24), ReminderStatus::Pending)], "the new time's");
}

/// One plan over several lessons: every confirmed student's reminder, the
/// teacher's once per lesson, none for a cancelled booking.
async fn one_plan_reminds_every_lesson_due_and_only_the_confirmed<S: Store>(store: S) {
    let w = World::new(store);
    let group = w.open(TEACHER, START, 3).await;
    let single = w.open(TEACHER, START + Duration::hours(2), 1).await;
    let swapped = w.open(TEACHER, START + Duration::hours(4), 2).await;
    let later = w.open(TEACHER, START + Duration::hours(8), 1).await;
    plan(&w, START - Duration::hours(30)).await;
    let gone = w.confirmed(student(5), &swapped).await;
    for n in 1..=3 {
        w.confirmed(student(n), &group).await;
    }
    w.confirmed(student(4), &single).await;
    w.bookings.cancel(&Actor::student(student(5)), gone.id()).await.unwrap();
    let stays = w.confirmed(student(6), &swapped).await;
    w.confirmed(student(7), &later).await;

    assert_eq!(
        plan(&w, START - Duration::hours(20)).await,
        4 + 2 + 2,
        "the day-before reminders of the first three lessons"
    );
    let pending = |reminders: &[tutorbook_ports::effects::Reminder], booking| {
        reminders
            .iter()
            .filter(|r| r.status == ReminderStatus::Pending && r.planned.booking == booking)
            .count()
    };
    let group = w.store.slot_reminders(group.id()).await.unwrap();
    assert_eq!(group.len(), 4, "3 students and the teacher: {group:?}");
    assert_eq!(pending(&group, None), 1, "the teacher's, once");
    assert_eq!(w.store.slot_reminders(single.id()).await.unwrap().len(), 2);
    let swapped = w.store.slot_reminders(swapped.id()).await.unwrap();
    assert_eq!(pending(&swapped, Some(gone.id())), 0, "the cancelled booking's none");
    assert_eq!(pending(&swapped, Some(stays.id())), 1);
    assert_eq!(pending(&swapped, None), 1, "the teacher still teaches");
    assert!(
        w.store.slot_reminders(later.id()).await.unwrap().is_empty(),
        "not due yet"
    );
}

/// Four planners at once, each up to a different instant, over eight
/// lessons of three students: every reminder is planned by exactly one of
/// them (the windows never overlap), the teacher's once per lesson.
async fn concurrent_planners_plan_every_reminder_once<S: Store>(store: S) {
    let w = World::new(store);
    let mut slots = Vec::new();
    for n in 0..8 {
        slots.push(w.open(TEACHER, START + Duration::hours(n), 3).await);
    }
    for n in 1..=3 {
        for slot in &slots {
            w.confirmed(student(n), slot).await;
        }
    }
    plan(&w, START - Duration::hours(30)).await;
    let store = w.store.clone();
    let results = race(4, move |i| {
        let store = store.clone();
        // Up to 4, 5, 6 and 7 hours past the first lesson's day-before
        // instant: the last takes the last lesson's.
        let through = START - Duration::hours(24) + Duration::hours(4 + i as i64);
        async move { store.plan_due_reminders(through, &ReminderPlan::default()).await }
    })
    .await;
    let planned: usize = results.into_iter().map(|r| r.expect("planned")).sum();
    assert_eq!(planned, 8 * 4, "3 students and the teacher per lesson, once");
    for slot in &slots {
        let reminders = w.store.slot_reminders(slot.id()).await.unwrap();
        assert_eq!(reminders.len(), 4, "{reminders:?}");
        assert!(reminders.iter().all(|r| r.status == ReminderStatus::Pending));
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
    for reminder in w.store.slot_reminders(slot).await.unwrap() {
        w.store
            .finish_reminder(reminder.planned.id, ReminderStatus::Cancelled, None)
            .await
            .unwrap();
    }
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
    one_plan_reminds_every_lesson_due_and_only_the_confirmed,
    concurrent_planners_plan_every_reminder_once,
    opposite_reminder_writes_at_once_never_deadlock,
    booking_again_after_a_cancellation_is_reminded_once,
    a_lesson_booked_after_a_reminder_fell_due_gets_only_the_later_ones,
    reminders_fire_at_their_instants_across_a_dst_change,
    a_reminder_planned_before_a_cancellation_is_not_sent,
    concurrent_schedulers_send_each_reminder_once,
);
