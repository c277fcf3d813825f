//! The in-memory store driven through the `Bookings` and `Feedback` use cases:
//! round trips, all-or-nothing refusals, the outbox, the read models and
//! concurrent commands.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Barrier};

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, Attendance, AuditEntry, Band, Bands, Booking, BookingId, BookingPolicy, BookingSource, BookingStatus,
    CreditStatus, DeclineReason, DomainEvent, MakeupCredit, Meeting, PlatformSettings, ReportContent, Slot, SlotId,
    SlotStatus, UserId, Zone,
};
use tutorbook_memory::{ManualClock, MemoryStore};
use tutorbook_ports::{
    BookingStore, Bookings, Clock, Feedback, OpenSlot, Outbox, OutboxMessage, PolicyStore, Result, UuidV7,
};
use uuid::Uuid;

/// Where every test's clock starts.
const T0: OffsetDateTime = datetime!(2030-01-06 08:00 UTC);
/// Midnight two days after [`T0`]: test slots start from here.
const DAY0: OffsetDateTime = datetime!(2030-01-08 00:00 UTC);

const TEACHER: UserId = UserId::from_uuid(Uuid::from_u128(0x7e));
const OTHER_TEACHER: UserId = UserId::from_uuid(Uuid::from_u128(0x7f));
const STAFF: UserId = UserId::from_uuid(Uuid::from_u128(0x5f));

/// Student number `n`.
fn student(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(0x1000 + n))
}

/// `hour` o'clock on day `day` after [`DAY0`].
fn at(day: i64, hour: i64) -> OffsetDateTime {
    DAY0 + Duration::days(day) + Duration::hours(hour)
}

/// The refusal code of a failed call.
fn code<T: Debug>(result: Result<T>) -> &'static str {
    result.expect_err("the command should have been refused").code()
}

type Service = Bookings<MemoryStore, ManualClock, UuidV7>;

struct World {
    store: MemoryStore,
    clock: ManualClock,
    bookings: Service,
    feedback: Feedback<MemoryStore, ManualClock, UuidV7>,
}

fn world() -> World {
    let store = MemoryStore::new();
    let clock = ManualClock::at(T0);
    World {
        bookings: Bookings::new(store.clone(), clock.clone(), UuidV7, PlatformSettings::default()),
        feedback: Feedback::new(store.clone(), clock.clone(), UuidV7),
        store,
        clock,
    }
}

fn slot_input(teacher: UserId, start: OffsetDateTime, capacity: u32) -> OpenSlot {
    OpenSlot {
        teacher,
        start,
        end: start + Duration::minutes(50),
        zone: Zone::default(),
        capacity,
        meeting: Meeting::default(),
    }
}

impl World {
    /// Opens a 50-minute slot for `teacher`.
    async fn open(&self, teacher: UserId, start: OffsetDateTime, capacity: u32) -> Slot {
        self.bookings
            .open_slot(&Actor::teacher(teacher), slot_input(teacher, start, capacity))
            .await
            .expect("slot opens")
    }

    /// `student` requests a seat.
    async fn request(&self, student: UserId, slot: &Slot) -> Booking {
        self.bookings
            .request(&Actor::student(student), slot.id())
            .await
            .expect("request is accepted")
    }

    /// `student` holds a confirmed seat on `slot` (approved when needed).
    async fn confirmed(&self, student: UserId, slot: &Slot) -> Booking {
        let booking = self.request(student, slot).await;
        if booking.status() == BookingStatus::Confirmed {
            return booking;
        }
        self.bookings
            .approve(&Actor::teacher(slot.teacher()), booking.id())
            .await
            .expect("approval")
    }

    async fn reload(&self, slot: &Slot) -> Slot {
        self.store.slot(slot.id()).await.unwrap().expect("slot exists")
    }

    async fn pending(&self) -> Vec<OutboxMessage> {
        self.store.pending(usize::MAX).await.unwrap()
    }

    /// The kinds of the pending events after the first `skip`.
    async fn kinds_after(&self, skip: usize) -> Vec<&'static str> {
        self.pending().await.iter().skip(skip).map(|m| m.event.kind()).collect()
    }

    fn assert_invariants(&self) {
        self.store.verify_invariants().expect("store invariants hold");
    }
}

fn transitions(history: &[AuditEntry]) -> Vec<(Option<BookingStatus>, BookingStatus, Option<UserId>, &str)> {
    history
        .iter()
        .map(|e| (e.from, e.to, e.actor, e.reason.as_str()))
        .collect()
}

// ===== round trips =====

#[tokio::test]
async fn request_then_approve_is_recorded_in_the_history_with_its_actors() {
    let w = world();
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let requested = w.request(student(1), &slot).await;
    assert_eq!(requested.status(), BookingStatus::Requested);
    assert_eq!(w.reload(&slot).await.booked_count(), 0);

    w.clock.advance(Duration::minutes(5));
    let approved = w
        .bookings
        .approve(&Actor::teacher(TEACHER), requested.id())
        .await
        .unwrap();
    assert_eq!(approved.status(), BookingStatus::Confirmed);
    assert_eq!(approved.updated_at(), T0 + Duration::minutes(5));
    assert_eq!(w.reload(&slot).await.booked_count(), 1);
    assert_eq!(w.store.slot_of_booking(requested.id()).await.unwrap(), Some(slot.id()));

    let history = w
        .bookings
        .history(&Actor::student(student(1)), requested.id())
        .await
        .unwrap();
    assert_eq!(
        transitions(&history),
        vec![
            (None, BookingStatus::Requested, Some(student(1)), "requested"),
            (
                Some(BookingStatus::Requested),
                BookingStatus::Confirmed,
                Some(TEACHER),
                "approved"
            ),
        ]
    );
    assert_eq!(history[0].at, T0);
    assert_eq!(history[1].at, T0 + Duration::minutes(5));
    assert!(
        history
            .iter()
            .all(|e| e.booking == requested.id() && e.slot == slot.id())
    );

    // The teacher and staff read the same history; another student may not.
    for actor in [Actor::teacher(TEACHER), Actor::staff(STAFF)] {
        assert_eq!(w.bookings.history(&actor, requested.id()).await.unwrap(), history);
    }
    let other = w.bookings.history(&Actor::student(student(2)), requested.id()).await;
    assert_eq!(code(other), "forbidden");
    w.assert_invariants();
}

#[tokio::test]
async fn a_declined_request_frees_the_student_to_ask_again() {
    let w = world();
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let first = w.request(student(1), &slot).await;
    let declined = w.bookings.decline(&Actor::teacher(TEACHER), first.id()).await.unwrap();
    assert_eq!(declined.status(), BookingStatus::Declined);
    let history = w.store.history(first.id()).await.unwrap();
    assert_eq!(
        transitions(&history)[1],
        (
            Some(BookingStatus::Requested),
            BookingStatus::Declined,
            Some(TEACHER),
            "declined_by_teacher"
        )
    );
    // Declining twice is refused; asking again is allowed.
    assert_eq!(
        code(w.bookings.decline(&Actor::teacher(TEACHER), first.id()).await),
        "invalid_booking_status"
    );
    let second = w.request(student(1), &slot).await;
    assert_ne!(second.id(), first.id());
    assert_eq!(second.status(), BookingStatus::Requested);
    w.assert_invariants();
}

#[tokio::test]
async fn a_student_cancel_gives_the_seat_back() {
    let w = world();
    let group = w.open(TEACHER, at(1, 10), 2).await;
    let booking = w.request(student(1), &group).await;
    assert_eq!(
        booking.status(),
        BookingStatus::Confirmed,
        "group slots need no approval by default"
    );
    assert_eq!(w.reload(&group).await.booked_count(), 1);

    let cancelled = w
        .bookings
        .cancel(&Actor::student(student(1)), booking.id())
        .await
        .unwrap();
    assert_eq!(cancelled.status(), BookingStatus::Cancelled);
    assert_eq!(w.reload(&group).await.booked_count(), 0);
    assert_eq!(
        w.kinds_after(2).await,
        vec!["booking_cancelled", "seat_released"],
        "after slot_opened and booking_confirmed"
    );
    // Cancelling twice is refused.
    assert_eq!(
        code(w.bookings.cancel(&Actor::student(student(1)), booking.id()).await),
        "invalid_booking_status"
    );
    w.assert_invariants();
}

#[tokio::test]
async fn a_cancellation_inside_the_window_is_refused() {
    let w = world();
    let slot = w.open(TEACHER, at(1, 10), 2).await;
    let booking = w.request(student(1), &slot).await;
    w.clock.set(at(1, 10) - Duration::hours(23));
    assert_eq!(
        code(w.bookings.cancel(&Actor::student(student(1)), booking.id()).await),
        "cancellation_window_closed"
    );
    // A flexible teacher (2 h) still lets the student go.
    let flexible = BookingPolicy::default().with_cancellation_tier(tutorbook_domain::CancellationTier::Flexible);
    w.bookings
        .set_policy(&Actor::teacher(TEACHER), TEACHER, flexible)
        .await
        .unwrap();
    assert_eq!(w.bookings.policy(TEACHER).await.unwrap(), flexible);
    let cancelled = w
        .bookings
        .cancel(&Actor::student(student(1)), booking.id())
        .await
        .unwrap();
    assert_eq!(cancelled.status(), BookingStatus::Cancelled);
}

#[tokio::test]
async fn a_teacher_cancel_issues_a_credit_the_student_can_list() {
    let w = world();
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
    w.assert_invariants();
}

#[tokio::test]
async fn credits_are_listed_newest_first() {
    let w = world();
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

#[tokio::test]
async fn cancelling_a_slot_credits_the_confirmed_and_declines_the_waiting() {
    let w = world();
    let approving = BookingPolicy::default().with_approval(true, true);
    w.bookings
        .set_policy(&Actor::teacher(TEACHER), TEACHER, approving)
        .await
        .unwrap();
    let slot = w.open(TEACHER, at(1, 10), 3).await;
    let first = w.confirmed(student(1), &slot).await;
    let second = w.confirmed(student(2), &slot).await;
    let waiting = w.request(student(3), &slot).await;
    assert_eq!(waiting.status(), BookingStatus::Requested);

    let (cancelled, credits) = w
        .bookings
        .cancel_slot(&Actor::teacher(TEACHER), slot.id())
        .await
        .unwrap();
    assert_eq!(cancelled.status(), SlotStatus::Cancelled);
    assert_eq!(cancelled.booked_count(), 0);
    let credited: Vec<_> = credits.iter().map(|c| (c.student(), c.source_booking())).collect();
    assert_eq!(credited, vec![(student(1), first.id()), (student(2), second.id())]);
    for c in &credits {
        assert_eq!(w.store.credit(c.id()).await.unwrap().as_ref(), Some(c));
    }
    let statuses: Vec<_> = w.reload(&slot).await.bookings().iter().map(Booking::status).collect();
    assert_eq!(
        statuses,
        vec![
            BookingStatus::TeacherCancelled,
            BookingStatus::TeacherCancelled,
            BookingStatus::Declined
        ]
    );

    // Cancelled slots stay in the teacher's list but leave browse and take no bookings.
    let listed = w.store.teacher_slots(TEACHER, at(0, 0), at(5, 0)).await.unwrap();
    assert_eq!(
        listed.iter().map(Slot::status).collect::<Vec<_>>(),
        vec![SlotStatus::Cancelled]
    );
    assert!(w.store.open_slots(at(0, 0), at(5, 0), 10).await.unwrap().is_empty());
    assert_eq!(
        code(w.bookings.request(&Actor::student(student(4)), slot.id()).await),
        "slot_closed"
    );
    assert_eq!(
        code(w.bookings.cancel_slot(&Actor::teacher(TEACHER), slot.id()).await),
        "slot_closed"
    );
    w.assert_invariants();
}

#[tokio::test]
async fn a_deleted_slot_disappears_from_the_lists_but_stays_readable() {
    let w = world();
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    assert_eq!(
        code(w.bookings.delete_slot(&Actor::teacher(OTHER_TEACHER), slot.id()).await),
        "forbidden"
    );
    w.bookings
        .delete_slot(&Actor::teacher(TEACHER), slot.id())
        .await
        .unwrap();

    assert!(
        w.store
            .teacher_slots(TEACHER, at(0, 0), at(5, 0))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(w.store.open_slots(at(0, 0), at(5, 0), 10).await.unwrap().is_empty());
    assert_eq!(w.reload(&slot).await.status(), SlotStatus::Deleted);
    assert_eq!(
        code(w.bookings.request(&Actor::student(student(1)), slot.id()).await),
        "slot_closed"
    );
    assert_eq!(
        code(w.bookings.delete_slot(&Actor::teacher(TEACHER), slot.id()).await),
        "slot_closed"
    );
    // Its time is free again.
    let again = w.open(TEACHER, at(1, 10), 1).await;
    assert_ne!(again.id(), slot.id());
    assert_eq!(
        w.kinds_after(0).await,
        vec!["slot_opened", "slot_deleted", "slot_opened"]
    );
}

#[tokio::test]
async fn a_slot_with_bookings_cannot_be_deleted() {
    let w = world();
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    w.request(student(1), &slot).await;
    assert_eq!(
        code(w.bookings.delete_slot(&Actor::teacher(TEACHER), slot.id()).await),
        "slot_has_bookings"
    );
    assert_eq!(w.reload(&slot).await.status(), SlotStatus::Open);
}

#[tokio::test]
async fn attendance_is_marked_once_the_clock_passes_the_start() {
    let w = world();
    let slot = w.open(TEACHER, at(1, 10), 2).await;
    let booking = w.request(student(1), &slot).await;
    let mark = async |attendance| {
        (w.bookings)
            .mark_attendance(&Actor::teacher(TEACHER), booking.id(), attendance)
            .await
    };
    assert_eq!(code(mark(Attendance::Completed).await), "lesson_not_started");

    w.clock.set(at(1, 10) + Duration::minutes(55));
    let done = mark(Attendance::Completed).await.unwrap();
    assert_eq!(done.status(), BookingStatus::Completed);
    assert_eq!(done.updated_at(), at(1, 10) + Duration::minutes(55));
    assert_eq!(code(mark(Attendance::NoShow).await), "invalid_booking_status");
    // `booked_count` counts confirmed bookings only, so a completed lesson no
    // longer counts, yet no seat is released (no `seat_released` event).
    assert_eq!(w.reload(&slot).await.booked_count(), 0);
    let history = w.store.history(booking.id()).await.unwrap();
    assert_eq!(history.last().map(|e| e.reason.as_str()), Some("completed"));
    assert_eq!(w.kinds_after(2).await, vec!["lesson_completed"]);
    w.assert_invariants();
}

#[tokio::test]
async fn a_credit_is_redeemed_once_into_a_slot_of_the_same_teacher() {
    let w = world();
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
    assert_eq!(code(redeem(makeup.id(), student(2)).await), "forbidden");

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
    w.assert_invariants();
}

#[tokio::test]
async fn an_expired_credit_or_missing_ids_are_refused() {
    let w = world();
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

#[tokio::test]
async fn a_lesson_is_reviewed_once_and_counts_in_the_rating() {
    let w = world();
    let slot = w.open(TEACHER, at(1, 10), 2).await;
    let booking = w.request(student(1), &slot).await;
    let other = w.request(student(2), &slot).await;
    let review = async |by: u128, booking: BookingId, stars: u8| {
        (w.feedback)
            .review(&Actor::student(student(by)), booking, stars, format!("{stars} stars"))
            .await
    };
    assert_eq!(code(review(1, booking.id(), 5).await), "review_too_early");

    w.clock.set(at(1, 11));
    let written = review(1, booking.id(), 5).await.unwrap();
    assert_eq!(written.teacher, TEACHER);
    assert_eq!(written.created_at, at(1, 11));
    assert_eq!(code(review(1, booking.id(), 1).await), "already_reviewed");
    assert_eq!(code(review(2, booking.id(), 1).await), "forbidden");
    review(2, other.id(), 4).await.unwrap();

    let page = w.feedback.teacher_feedback(TEACHER).await.unwrap();
    assert_eq!(page.rating.count, 2);
    assert_eq!(page.rating.average, Some(4.5));
    assert_eq!(page.latest.len(), 2);
    assert!(page.latest.contains(&written));
    let nobody = w.feedback.teacher_feedback(OTHER_TEACHER).await.unwrap();
    assert_eq!((nobody.rating.count, nobody.rating.average), (0, None));
}

#[tokio::test]
async fn latest_reviews_are_capped_and_newest_first() {
    let w = world();
    let mut ids = Vec::new();
    for n in 0..7 {
        let slot = w.open(TEACHER, at(1, 2 * n), 1).await;
        w.clock.set(T0);
        let booking = w.confirmed(student(1), &slot).await;
        w.clock.set(at(1, 2 * n) + Duration::minutes(10));
        let written = w
            .feedback
            .review(&Actor::student(student(1)), booking.id(), 3, String::new())
            .await
            .unwrap();
        ids.push(written.id);
        w.clock.set(T0);
    }
    let page = w.feedback.teacher_feedback(TEACHER).await.unwrap();
    assert_eq!(page.rating.count, 7);
    let latest: Vec<_> = page.latest.iter().map(|r| r.id).collect();
    let expected: Vec<_> = ids
        .iter()
        .rev()
        .take(tutorbook_ports::LATEST_REVIEWS)
        .copied()
        .collect();
    assert_eq!(latest, expected);
}

#[tokio::test]
async fn a_report_is_written_edited_and_shown_in_progress() {
    let w = world();
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let booking = w.confirmed(student(1), &slot).await;
    let content = |overall: f64, comments: &str| ReportContent {
        bands: Bands {
            speaking: Some(Band::new(6.0).unwrap()),
            overall: Some(Band::new(overall).unwrap()),
            ..Bands::default()
        },
        comments: comments.into(),
    };
    let write = async |by: UserId, content: ReportContent| {
        (w.feedback)
            .write_report(&Actor::teacher(by), booking.id(), content)
            .await
    };

    assert_eq!(code(write(OTHER_TEACHER, content(5.0, "no")).await), "forbidden");
    let first = write(TEACHER, content(6.0, "Solid")).await.unwrap();
    w.clock.advance(Duration::hours(1));
    let edited = write(TEACHER, content(6.5, "Better")).await.unwrap();
    assert_eq!(edited.id(), first.id());
    assert_eq!(edited.created_at(), first.created_at());
    assert_eq!(edited.updated_at(), T0 + Duration::hours(1));

    for actor in [Actor::student(student(1)), Actor::teacher(TEACHER), Actor::staff(STAFF)] {
        assert_eq!(w.feedback.report(&actor, booking.id()).await.unwrap(), edited);
    }
    assert_eq!(
        code(w.feedback.report(&Actor::student(student(2)), booking.id()).await),
        "forbidden"
    );

    let progress = w
        .feedback
        .progress(&Actor::student(student(1)), student(1))
        .await
        .unwrap();
    assert_eq!(progress.reports, vec![edited.clone()], "one report per booking");
    assert_eq!(progress.latest_overall, Some(Band::new(6.5).unwrap()));
    let theirs = w.feedback.progress(&Actor::teacher(TEACHER), student(1)).await.unwrap();
    assert_eq!(theirs.reports.len(), 1);
    let others = w
        .feedback
        .progress(&Actor::teacher(OTHER_TEACHER), student(1))
        .await
        .unwrap();
    assert!(others.reports.is_empty());
    assert_eq!(
        code(w.feedback.progress(&Actor::student(student(2)), student(1)).await),
        "forbidden"
    );
}

// ===== refusals change nothing =====

/// Everything a refused command could have touched.
#[derive(Debug, PartialEq)]
struct Snapshot {
    slots: Vec<Option<Slot>>,
    histories: Vec<Vec<AuditEntry>>,
    credits: Vec<MakeupCredit>,
    outbox: Vec<OutboxMessage>,
}

async fn snapshot(w: &World, slots: &[SlotId], bookings: &[BookingId], students: &[UserId]) -> Snapshot {
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

#[tokio::test]
async fn refused_commands_leave_the_store_unchanged() {
    let w = world();
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
            ("approve by intruder", "forbidden"),
            ("approve confirmed", "invalid_booking_status"),
            ("decline by student", "forbidden"),
            ("cancel by other", "forbidden"),
            ("teacher cancel request", "invalid_booking_status"),
            ("cancel slot by intruder", "forbidden"),
            ("delete booked", "slot_has_bookings"),
            ("attendance early", "lesson_not_started"),
            ("credit elsewhere", "credit_wrong_teacher"),
            ("credit by other", "forbidden"),
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
    w.assert_invariants();
}

// ===== outbox =====

#[tokio::test]
async fn the_outbox_holds_committed_events_in_order_until_delivered() {
    let w = world();
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

// ===== read models =====

#[tokio::test]
async fn open_slots_are_filtered_by_start_ordered_and_limited() {
    let w = world();
    let a = w.open(TEACHER, at(1, 9), 1).await;
    let b = w.open(OTHER_TEACHER, at(1, 8), 2).await;
    let c = w.open(TEACHER, at(2, 9), 1).await;
    let d = w.open(OTHER_TEACHER, at(3, 9), 1).await;
    let cancelled = w.open(TEACHER, at(1, 12), 1).await;
    let deleted = w.open(OTHER_TEACHER, at(1, 12), 1).await;
    w.bookings
        .cancel_slot(&Actor::teacher(TEACHER), cancelled.id())
        .await
        .unwrap();
    w.bookings
        .delete_slot(&Actor::teacher(OTHER_TEACHER), deleted.id())
        .await
        .unwrap();
    // A full slot is still open (browse filters it with `Slot::is_browsable`).
    w.confirmed(student(1), &a).await;

    let ids = |slots: Vec<Slot>| slots.iter().map(Slot::id).collect::<Vec<_>>();
    let all = w.store.open_slots(at(0, 0), at(10, 0), 100).await.unwrap();
    assert_eq!(ids(all), vec![b.id(), a.id(), c.id(), d.id()]);
    assert_eq!(
        ids(w.store.open_slots(at(0, 0), at(10, 0), 2).await.unwrap()),
        vec![b.id(), a.id()]
    );
    // `[from, to)`: a slot starting at `from` is in, one starting at `to` is out.
    assert_eq!(
        ids(w.store.open_slots(at(1, 9), at(3, 9), 100).await.unwrap()),
        vec![a.id(), c.id()]
    );
    assert!(w.store.open_slots(at(0, 0), at(10, 0), 0).await.unwrap().is_empty());
    assert!(w.store.open_slots(at(5, 0), at(6, 0), 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn teacher_slots_are_the_teachers_own_by_start() {
    let w = world();
    let late = w.open(TEACHER, at(2, 9), 1).await;
    let early = w.open(TEACHER, at(1, 9), 1).await;
    let cancelled = w.open(TEACHER, at(1, 14), 1).await;
    let deleted = w.open(TEACHER, at(1, 18), 1).await;
    w.open(OTHER_TEACHER, at(1, 9), 1).await;
    w.bookings
        .cancel_slot(&Actor::teacher(TEACHER), cancelled.id())
        .await
        .unwrap();
    w.bookings
        .delete_slot(&Actor::staff(STAFF), deleted.id())
        .await
        .unwrap();

    let listed: Vec<_> = w
        .store
        .teacher_slots(TEACHER, at(0, 0), at(10, 0))
        .await
        .unwrap()
        .iter()
        .map(|s| (s.id(), s.status()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (early.id(), SlotStatus::Open),
            (cancelled.id(), SlotStatus::Cancelled),
            (late.id(), SlotStatus::Open)
        ]
    );
    let day_one = w.store.teacher_slots(TEACHER, at(1, 0), at(2, 0)).await.unwrap();
    assert_eq!(day_one.len(), 2);
    assert!(
        w.store
            .teacher_slots(STAFF, at(0, 0), at(10, 0))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn student_bookings_cover_every_status_sorted_by_start() {
    let w = world();
    let late = w.open(TEACHER, at(3, 9), 2).await;
    let early = w.open(OTHER_TEACHER, at(1, 9), 1).await;
    let middle = w.open(TEACHER, at(2, 9), 2).await;
    let outside = w.open(TEACHER, at(9, 9), 2).await;
    let b_late = w.request(student(1), &late).await;
    let b_early = w.request(student(1), &early).await;
    let b_middle = w.request(student(1), &middle).await;
    w.request(student(1), &outside).await;
    w.request(student(2), &middle).await;
    w.bookings
        .cancel(&Actor::student(student(1)), b_middle.id())
        .await
        .unwrap();

    let found = w.store.student_bookings(student(1), at(0, 0), at(5, 0)).await.unwrap();
    let seen: Vec<_> = found.iter().map(|(b, s)| (b.id(), b.status(), s.id())).collect();
    assert_eq!(
        seen,
        vec![
            (b_early.id(), BookingStatus::Requested, early.id()),
            (b_middle.id(), BookingStatus::Cancelled, middle.id()),
            (b_late.id(), BookingStatus::Confirmed, late.id()),
        ]
    );
    assert!(
        found
            .iter()
            .all(|(b, s)| b.student() == student(1) && b.slot() == s.id())
    );
}

#[tokio::test]
async fn policies_default_until_set_and_buffers_apply_to_new_slots() {
    let w = world();
    assert_eq!(w.bookings.policy(TEACHER).await.unwrap(), BookingPolicy::default());
    let buffered = BookingPolicy::default()
        .with_buffers(Duration::minutes(15), Duration::minutes(15))
        .unwrap();
    assert_eq!(
        code(
            w.bookings
                .set_policy(&Actor::teacher(OTHER_TEACHER), TEACHER, buffered)
                .await
        ),
        "forbidden"
    );
    w.bookings
        .set_policy(&Actor::staff(STAFF), TEACHER, buffered)
        .await
        .unwrap();
    assert_eq!(w.store.policy(TEACHER).await.unwrap(), buffered);
    assert_eq!(w.store.policy(OTHER_TEACHER).await.unwrap(), BookingPolicy::default());

    w.open(TEACHER, at(1, 10), 1).await;
    // Back to back (10:50) collides with the buffers; 11:20 is clear.
    let b2b = slot_input(TEACHER, at(1, 10) + Duration::minutes(50), 1);
    assert_eq!(
        code(w.bookings.open_slot(&Actor::teacher(TEACHER), b2b).await),
        "slot_overlap"
    );
    w.open(TEACHER, at(1, 11) + Duration::minutes(20), 1).await;
    // Another teacher's slots never collide.
    w.open(OTHER_TEACHER, at(1, 10), 1).await;
}

#[tokio::test]
async fn manual_clock_clones_share_one_time() {
    let clock = ManualClock::at(T0);
    let copy = clock.clone();
    clock.advance(Duration::hours(2));
    assert_eq!(copy.now(), T0 + Duration::hours(2));
    copy.set(at(5, 0));
    assert_eq!(clock.now(), at(5, 0));
    clock.advance(-Duration::days(1));
    assert_eq!(copy.now(), at(4, 0));
}

// ===== concurrency =====

/// Runs `n` copies of a command at once and returns their results in task order.
///
/// Each copy runs on its own blocking thread and a barrier releases them
/// together. (Plain tokio tasks woken by a barrier tend to run one after the
/// other on the waking worker, since the store's commands never yield.)
async fn race<T, F, Fut>(n: usize, command: F) -> Vec<Result<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let runtime = tokio::runtime::Handle::current();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, runtime, run) = (barrier.clone(), runtime.clone(), command(i));
            tokio::task::spawn_blocking(move || {
                barrier.wait();
                runtime.block_on(run)
            })
        })
        .collect();
    let mut results = Vec::with_capacity(n);
    for task in tasks {
        results.push(task.await.expect("racer did not panic"));
    }
    results
}

/// Counts results by outcome: `"ok"` or the refusal code.
fn tally<T>(results: &[Result<T>]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for r in results {
        *counts
            .entry(r.as_ref().map_or_else(|e| e.code(), |_| "ok"))
            .or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_students_racing_for_four_seats() {
    let w = world();
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
    w.assert_invariants();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_approvals_racing_for_one_seat() {
    let w = world();
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
    w.assert_invariants();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_overlapping_slots_racing_for_one_teacher() {
    let w = world();
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
    w.assert_invariants();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_credit_racing_into_two_slots_is_redeemed_once() {
    let w = world();
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
    w.assert_invariants();
}
