//! A refused command changes nothing: no rows, no history, no credits, no
//! outbox messages.

use time::Duration;
use tutorbook_domain::{Actor, Attendance, AuditEntry, BookingId, MakeupCredit, Slot, SlotId, UserId};
use tutorbook_ports::OutboxMessage;

use crate::backends::Store;
use crate::conformance;
use crate::world::{OTHER_TEACHER, T0, TEACHER, World, at, code, slot_input, student};

/// Everything a refused command could have touched.
#[derive(Debug, PartialEq)]
struct Snapshot {
    slots: Vec<Option<Slot>>,
    histories: Vec<Vec<AuditEntry>>,
    credits: Vec<MakeupCredit>,
    outbox: Vec<OutboxMessage>,
}

async fn snapshot<S: Store>(w: &World<S>, slots: &[SlotId], bookings: &[BookingId], students: &[UserId]) -> Snapshot {
    let mut snap = Snapshot {
        slots: Vec::new(),
        histories: Vec::new(),
        credits: Vec::new(),
        outbox: w.pending().await,
    };
    for slot in slots {
        snap.slots.push(w.store.slot(*slot).await.unwrap());
    }
    for booking in bookings {
        snap.histories.push(w.store.history(*booking).await.unwrap());
    }
    for student in students {
        snap.credits.extend(w.store.student_credits(*student).await.unwrap());
    }
    snap
}

async fn refused_commands_leave_the_store_unchanged<S: Store>(store: S) {
    let w = World::new(store);
    let one = w.open(TEACHER, at(1, 10), 1).await;
    let group = w.open(TEACHER, at(2, 10), 2).await;
    let other = w.open(OTHER_TEACHER, at(2, 10), 1).await;
    let requested = w.request(student(1), &one).await;
    let confirmed = w.request(student(1), &group).await;
    let source = w.open(TEACHER, at(3, 10), 1).await;
    let to_cancel = w.confirmed(student(2), &source).await;
    let (_, credit) = w
        .bookings
        .teacher_cancel(&Actor::teacher(TEACHER), to_cancel.id())
        .await
        .unwrap();

    let slots = [one.id(), group.id(), other.id(), source.id()];
    let bookings = [requested.id(), confirmed.id(), to_cancel.id()];
    let students = [student(1), student(2)];
    let before = snapshot(&w, &slots, &bookings, &students).await;

    let b = &w.bookings;
    let (teacher, intruder) = (Actor::teacher(TEACHER), Actor::teacher(OTHER_TEACHER));
    let refusals: Vec<(&str, &str)> = vec![
        ("own slot", code(b.request(&Actor::student(TEACHER), one.id()).await)),
        (
            "duplicate",
            code(b.request(&Actor::student(student(1)), one.id()).await),
        ),
        ("approve by intruder", code(b.approve(&intruder, requested.id()).await)),
        ("approve confirmed", code(b.approve(&teacher, confirmed.id()).await)),
        (
            "decline by student",
            code(b.decline(&Actor::student(student(1)), requested.id()).await),
        ),
        (
            "cancel by other",
            code(b.cancel(&Actor::student(student(2)), confirmed.id()).await),
        ),
        (
            "teacher cancel request",
            code(b.teacher_cancel(&teacher, requested.id()).await),
        ),
        (
            "cancel slot by intruder",
            code(b.cancel_slot(&intruder, group.id()).await),
        ),
        ("delete booked", code(b.delete_slot(&teacher, group.id()).await)),
        (
            "attendance early",
            code(b.mark_attendance(&teacher, confirmed.id(), Attendance::Completed).await),
        ),
        (
            "credit elsewhere",
            code(
                b.redeem_credit(&Actor::student(student(2)), credit.id(), other.id())
                    .await,
            ),
        ),
        (
            "credit by other",
            code(
                b.redeem_credit(&Actor::student(student(1)), credit.id(), one.id())
                    .await,
            ),
        ),
        (
            "overlap",
            code(
                b.open_slot(&teacher, slot_input(TEACHER, at(1, 10) + Duration::minutes(20), 1))
                    .await,
            ),
        ),
        (
            "past",
            code(
                b.open_slot(&teacher, slot_input(TEACHER, T0 - Duration::hours(1), 1))
                    .await,
            ),
        ),
        (
            "capacity",
            code(b.open_slot(&teacher, slot_input(TEACHER, at(9, 10), 9)).await),
        ),
        (
            "review early",
            code(
                w.feedback
                    .review(&Actor::student(student(1)), confirmed.id(), 5, String::new())
                    .await,
            ),
        ),
    ];
    assert_eq!(
        refusals,
        vec![
            ("own slot", "own_slot"),
            ("duplicate", "duplicate_booking"),
            ("approve by intruder", "not_found"),
            ("approve confirmed", "invalid_booking_status"),
            ("decline by student", "forbidden"),
            ("cancel by other", "not_found"),
            ("teacher cancel request", "invalid_booking_status"),
            ("cancel slot by intruder", "forbidden"),
            ("delete booked", "slot_has_bookings"),
            ("attendance early", "lesson_not_started"),
            ("credit elsewhere", "credit_wrong_teacher"),
            ("credit by other", "not_found"),
            ("overlap", "slot_overlap"),
            ("past", "slot_in_past"),
            ("capacity", "invalid_capacity"),
            ("review early", "review_too_early"),
        ]
    );

    let after = snapshot(&w, &slots, &bookings, &students).await;
    assert_eq!(after, before);
    assert_eq!(
        w.store.teacher_slots(TEACHER, at(0, 0), at(20, 0)).await.unwrap().len(),
        3
    );
    assert_eq!(w.feedback.teacher_feedback(TEACHER).await.unwrap().rating.count, 0);
}

conformance!(refused_commands_leave_the_store_unchanged,);
