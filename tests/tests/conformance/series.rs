//! Recurring series of 1:1 lessons (docs/series.md): every occurrence is
//! checked as one booked time, all or nothing changes nothing when one is
//! refused, local times follow New York across DST, and a series is
//! cancelled from an occurrence on, on every store.

use time::macros::{date, datetime, time};
use time::{Date, Duration, OffsetDateTime, Time, Weekday};
use tutorbook_domain::{
    Actor, BookingPolicy, BookingStatus, ExceptionDraft, ExceptionKind, Frequency, OccurrenceAnswer, RuleDraft,
    SeriesDraft, SeriesEnd, SeriesMode, Zone,
};
use tutorbook_memory::MemoryStore;
use tutorbook_ports::{SeriesAnswer, SeriesStore};
use tutorbook_sql::SqlStore;

use crate::availability::{ScheduleStore, Setup, teacher_setup};
use crate::conformance;
use crate::world::{TEACHER, code, student};

/// The ports the series scenarios need.
pub trait SeriesStores: ScheduleStore + SeriesStore {}
impl SeriesStores for MemoryStore {}
impl SeriesStores for SqlStore {}

fn new_york() -> Zone {
    Zone::parse("America/New_York").unwrap()
}

/// A teacher in New York with hours on `weekday` from `start` to `end`,
/// hour-long lessons confirmed without approval, bookable a year ahead;
/// the clock at `now`.
async fn setup<S: SeriesStores>(store: S, now: OffsetDateTime, weekday: Weekday, start: Time, end: Time) -> Setup<S> {
    let policy = BookingPolicy::default()
        .with_default_length(Duration::hours(1))
        .unwrap()
        .with_max_advance(Duration::days(400))
        .unwrap()
        .with_approval(false, false);
    let rule = RuleDraft {
        weekday,
        start,
        end,
        zone: new_york(),
        valid_from: None,
        valid_until: None,
        active: true,
    };
    let s = teacher_setup(store, new_york(), policy, vec![rule]).await;
    s.world.clock.set(now);
    s
}

/// The teacher with Monday hours 16:00–19:00 in New York; the clock at `now`.
async fn mondays<S: SeriesStores>(store: S, now: OffsetDateTime) -> Setup<S> {
    setup(store, now, Weekday::Monday, time!(16:00), time!(19:00)).await
}

/// Booking weekly series in the scenarios.
trait Book {
    async fn book(
        &self,
        student: &Actor,
        first: Date,
        at: Time,
        count: u32,
        mode: SeriesMode,
    ) -> tutorbook_ports::Result<SeriesAnswer>;
}

impl<S: SeriesStores> Book for Setup<S> {
    /// `student` books `count` weekly lessons at `at` from `first`.
    async fn book(
        &self,
        student: &Actor,
        first: Date,
        at: Time,
        count: u32,
        mode: SeriesMode,
    ) -> tutorbook_ports::Result<SeriesAnswer> {
        self.schedules
            .book_series(student, TEACHER, weekly(first, at, count), mode)
            .await
    }
}

fn weekly(first: Date, at: Time, count: u32) -> SeriesDraft {
    SeriesDraft {
        frequency: Frequency::Weekly,
        interval: 1,
        weekdays: Vec::new(),
        first,
        time: at,
        end: SeriesEnd::Count(count),
    }
}

/// Each occurrence as (number, refusal code or "booked").
fn outcomes(answers: &[OccurrenceAnswer]) -> Vec<(u32, &str)> {
    answers
        .iter()
        .map(|a| (a.occurrence.number, a.code.as_deref().unwrap_or("booked")))
        .collect()
}

fn starts(answer: &SeriesAnswer) -> Vec<OffsetDateTime> {
    answer.occurrences.iter().filter_map(|a| a.start).collect()
}

/// docs/series.md's worked example: 17:00 on Mondays in New York, before
/// and after the first Sunday of November 2030. The local time stays; the
/// instant moves by the hour the clocks went back.
async fn a_weekly_series_keeps_local_time_across_the_november_change<S: SeriesStores>(store: S) {
    let s = mondays(store, datetime!(2030-10-01 12:00 UTC)).await;
    let student = Actor::student(student(1));
    let answer = s
        .book(
            &student,
            date!(2030 - 10 - 21),
            time!(17:00),
            4,
            SeriesMode::AllOrNothing,
        )
        .await
        .unwrap();
    assert_eq!(answer.zone, new_york());
    assert_eq!(
        outcomes(&answer.occurrences),
        [(1, "booked"), (2, "booked"), (3, "booked"), (4, "booked")]
    );
    assert_eq!(
        starts(&answer),
        [
            datetime!(2030-10-21 21:00 UTC),
            datetime!(2030-10-28 21:00 UTC),
            datetime!(2030-11-04 22:00 UTC),
            datetime!(2030-11-11 22:00 UTC),
        ]
    );
    assert!(
        answer
            .occurrences
            .iter()
            .all(|a| a.booking.as_ref().map(|b| b.status()) == Some(BookingStatus::Confirmed))
    );
    // The lessons exist on the teacher's schedule, and the series with them.
    let slots = s
        .world
        .store
        .teacher_slots(
            TEACHER,
            datetime!(2030-10-01 00:00 UTC),
            datetime!(2030-12-01 00:00 UTC),
        )
        .await
        .unwrap();
    assert_eq!(
        slots.iter().map(|s| s.window().start()).collect::<Vec<_>>(),
        starts(&answer)
    );
    let series = s.world.store.series(answer.series).await.unwrap().unwrap();
    assert_eq!(series.student(), student.user);
    assert_eq!(series.teacher(), TEACHER);
    assert_eq!(series.zone(), new_york());
    assert_eq!(series.rule().occurrences().len(), 4);
    let members: Vec<_> = series.members().iter().map(|m| m.booking).collect();
    let booked: Vec<_> = answer
        .occurrences
        .iter()
        .filter_map(|a| a.booking.as_ref().map(|b| b.id()))
        .collect();
    assert_eq!(members, booked);
    s.world.store.check_invariants().await;
}

/// Every occurrence is checked, not only the first: a day off in week 5 and
/// a lesson already in week 3. All or nothing refuses the series with the
/// first refusal's code and changes nothing; best effort books the rest
/// and names each refusal.
async fn every_occurrence_is_checked_all_or_nothing_or_best_effort<S: SeriesStores>(store: S) {
    let s = mondays(store, datetime!(2030-01-06 12:00 UTC)).await;
    let teacher = Actor::teacher(TEACHER);
    // Week 5 (Monday 2030-02-11) off; week 3 (2030-01-28) already holds a lesson at 17:00.
    s.schedules
        .add_exception(
            &teacher,
            TEACHER,
            ExceptionDraft {
                kind: ExceptionKind::DayOff,
                from: date!(2030 - 02 - 11),
                until: date!(2030 - 02 - 11),
                hours: None,
                zone: new_york(),
                note: String::new(),
            },
        )
        .await
        .unwrap();
    let taken = s.world.open(TEACHER, datetime!(2030-01-28 22:00 UTC), 1).await;
    let student = Actor::student(student(1));
    let before = s.world.pending().await.len();
    let draft = weekly(date!(2030 - 01 - 14), time!(17:00), 8);

    let refused = s
        .schedules
        .book_series(&student, TEACHER, draft.clone(), SeriesMode::AllOrNothing)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "slot_overlap");
    assert!(refused.to_string().contains("occurrence 3"), "{refused}");
    let range = (datetime!(2030-01-01 00:00 UTC), datetime!(2030-04-01 00:00 UTC));
    let slots = s.world.store.teacher_slots(TEACHER, range.0, range.1).await.unwrap();
    assert_eq!(slots.iter().map(|s| s.id()).collect::<Vec<_>>(), [taken.id()]);
    assert_eq!(
        s.world.pending().await.len(),
        before,
        "a refused series publishes nothing"
    );

    let answer = s
        .schedules
        .book_series(&student, TEACHER, draft, SeriesMode::BestEffort)
        .await
        .unwrap();
    assert_eq!(
        outcomes(&answer.occurrences),
        [
            (1, "booked"),
            (2, "booked"),
            (3, "slot_overlap"),
            (4, "booked"),
            (5, "outside_availability"),
            (6, "booked"),
            (7, "booked"),
            (8, "booked"),
        ]
    );
    // A refused occurrence still tells when it would have been.
    assert_eq!(answer.occurrences[4].start, Some(datetime!(2030-02-11 22:00 UTC)));
    let slots = s.world.store.teacher_slots(TEACHER, range.0, range.1).await.unwrap();
    assert_eq!(slots.len(), 1 + 6);
    let series = s.world.store.series(answer.series).await.unwrap().unwrap();
    assert_eq!(
        series.members().iter().map(|m| m.number).collect::<Vec<_>>(),
        [1, 2, 4, 6, 7, 8]
    );
    // Booking the same series again: every time is taken now.
    let again = s
        .book(
            &Actor::student(crate::world::student(2)),
            date!(2030 - 01 - 14),
            time!(17:00),
            2,
            SeriesMode::BestEffort,
        )
        .await;
    assert_eq!(code(again), "slot_overlap");
    s.world.store.check_invariants().await;
}

/// 02:30 does not exist in New York on Sunday 2030-03-10: that occurrence
/// is refused with `dst_gap`, not moved, and the others keep 02:30.
async fn an_occurrence_in_the_march_gap_is_refused_with_dst_gap<S: SeriesStores>(store: S) {
    let s = setup(
        store,
        datetime!(2030-01-06 12:00 UTC),
        Weekday::Sunday,
        time!(02:30),
        time!(04:30),
    )
    .await;
    let student = Actor::student(student(1));
    let draft = weekly(date!(2030 - 03 - 03), time!(02:30), 3);
    let refused = s
        .schedules
        .book_series(&student, TEACHER, draft.clone(), SeriesMode::AllOrNothing)
        .await;
    assert_eq!(code(refused), "dst_gap");
    let answer = s
        .schedules
        .book_series(&student, TEACHER, draft, SeriesMode::BestEffort)
        .await
        .unwrap();
    assert_eq!(
        outcomes(&answer.occurrences),
        [(1, "booked"), (2, "dst_gap"), (3, "booked")]
    );
    assert_eq!(answer.occurrences[1].start, None);
    assert_eq!(
        starts(&answer),
        [datetime!(2030-03-03 07:30 UTC), datetime!(2030-03-17 06:30 UTC)]
    );
    s.world.store.check_invariants().await;
}

/// Cancelling from an occurrence cancels it and every later one; the
/// cancel window applies to each occurrence, and one inside it is answered
/// refused and stays booked. Only the student (or staff) cancels; a
/// stranger does not see the series.
async fn a_series_is_cancelled_from_an_occurrence_on<S: SeriesStores>(store: S) {
    let s = mondays(store, datetime!(2030-01-06 12:00 UTC)).await;
    let student = Actor::student(student(1));
    let answer = s
        .book(
            &student,
            date!(2030 - 01 - 14),
            time!(17:00),
            4,
            SeriesMode::AllOrNothing,
        )
        .await
        .unwrap();
    let id = answer.series;
    assert_eq!(
        code(
            s.schedules
                .cancel_series(&Actor::student(crate::world::student(9)), id, None)
                .await
        ),
        "not_found"
    );
    assert_eq!(
        code(s.schedules.cancel_series(&Actor::teacher(TEACHER), id, None).await),
        "forbidden"
    );

    let cancelled = s
        .schedules
        .cancel_series(&student, id, Some(date!(2030 - 01 - 28)))
        .await
        .unwrap();
    assert_eq!(outcomes(&cancelled.occurrences), [(3, "booked"), (4, "booked")]);
    assert!(
        cancelled
            .occurrences
            .iter()
            .all(|a| a.booking.as_ref().map(|b| b.status()) == Some(BookingStatus::Cancelled))
    );

    // An hour before the first lesson: inside its 24-hour cancel window.
    s.world.clock.set(datetime!(2030-01-14 21:00 UTC) - Duration::hours(1));
    let rest = s.schedules.cancel_series(&student, id, None).await.unwrap();
    assert_eq!(
        outcomes(&rest.occurrences),
        [
            (1, "cancellation_window_closed"),
            (2, "booked"),
            (3, "invalid_booking_status"),
            (4, "invalid_booking_status"),
        ]
    );
    // The series as it is now: each booked occurrence with its booking.
    let read = s.schedules.series(&student, id).await.unwrap();
    let statuses: Vec<_> = read
        .occurrences
        .iter()
        .map(|a| a.booking.as_ref().unwrap().status())
        .collect();
    use BookingStatus::{Cancelled, Confirmed};
    assert_eq!(statuses, [Confirmed, Cancelled, Cancelled, Cancelled]);
    assert_eq!(
        read.occurrences.iter().map(|a| a.start).collect::<Vec<_>>(),
        answer.occurrences.iter().map(|a| a.start).collect::<Vec<_>>()
    );
    assert!(s.schedules.series(&Actor::teacher(TEACHER), id).await.is_ok());
    assert_eq!(
        code(s.schedules.series(&Actor::student(crate::world::student(9)), id).await),
        "not_found"
    );
    let booking_of = |n: usize| answer.occurrences[n].booking.as_ref().unwrap().id();
    let first = s.world.store.slot_of_booking(booking_of(0)).await.unwrap().unwrap();
    let first = s.world.reload_id(first).await;
    assert_eq!(first.booking(booking_of(0)).unwrap().status(), BookingStatus::Confirmed);
    let second = s.world.store.slot_of_booking(booking_of(1)).await.unwrap().unwrap();
    let second = s.world.reload_id(second).await;
    assert_eq!(
        second.booking(booking_of(1)).unwrap().status(),
        BookingStatus::Cancelled
    );
    s.world.store.check_invariants().await;
}

/// 52 weekly occurrences, the most a series holds, in one command.
async fn fifty_two_weekly_occurrences_book_in_one_command<S: SeriesStores>(store: S) {
    let s = mondays(store, datetime!(2030-01-06 12:00 UTC)).await;
    let answer = s
        .book(
            &Actor::student(student(1)),
            date!(2030 - 01 - 14),
            time!(17:00),
            52,
            SeriesMode::AllOrNothing,
        )
        .await
        .unwrap();
    assert_eq!(answer.occurrences.len(), 52);
    assert!(answer.occurrences.iter().all(|a| a.booking.is_some()));
    let slots = s
        .world
        .store
        .teacher_slots(
            TEACHER,
            datetime!(2030-01-01 00:00 UTC),
            datetime!(2031-02-01 00:00 UTC),
        )
        .await
        .unwrap();
    assert_eq!(slots.len(), 52);
    assert_eq!(
        code(
            s.book(
                &Actor::student(student(2)),
                date!(2030 - 01 - 14),
                time!(17:00),
                53,
                SeriesMode::BestEffort
            )
            .await
        ),
        "invalid_input"
    );
    s.world.store.check_invariants().await;
}

/// A teacher opens a weekly group series in one step, refused as a whole
/// when one occurrence meets another slot; a student books a seat in each
/// slot, all or nothing or what can be booked, and cancels from an
/// occurrence on.
async fn a_group_series_opens_as_a_whole_and_takes_a_seat_in_each<S: SeriesStores>(store: S) {
    let s = mondays(store, datetime!(2030-01-06 12:00 UTC)).await;
    let teacher = Actor::teacher(TEACHER);
    let taken = s.world.open(TEACHER, datetime!(2030-01-28 22:00 UTC), 1).await;
    let range = (datetime!(2030-01-01 00:00 UTC), datetime!(2030-04-01 00:00 UTC));

    let refused = s
        .schedules
        .open_slot_series(
            &teacher,
            TEACHER,
            weekly(date!(2030 - 01 - 14), time!(17:00), 4),
            2,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "slot_overlap");
    assert!(
        refused.to_string().starts_with("occurrence 3 (2030-01-28 17:00): "),
        "{refused}"
    );
    let slots = s.world.store.teacher_slots(TEACHER, range.0, range.1).await.unwrap();
    assert_eq!(slots.iter().map(|s| s.id()).collect::<Vec<_>>(), [taken.id()]);
    assert_eq!(
        code(
            s.schedules
                .open_slot_series(
                    &Actor::student(student(1)),
                    TEACHER,
                    weekly(date!(2030 - 01 - 14), time!(18:00), 4),
                    2,
                    None
                )
                .await
        ),
        "forbidden"
    );

    let (series, opened) = s
        .schedules
        .open_slot_series(
            &teacher,
            TEACHER,
            weekly(date!(2030 - 01 - 14), time!(18:00), 4),
            2,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        opened.iter().map(|s| s.window().start()).collect::<Vec<_>>(),
        [
            datetime!(2030-01-14 23:00 UTC),
            datetime!(2030-01-21 23:00 UTC),
            datetime!(2030-01-28 23:00 UTC),
            datetime!(2030-02-04 23:00 UTC),
        ]
    );
    assert!(
        opened
            .iter()
            .all(|s| s.capacity().get() == 2 && s.window().duration() == Duration::hours(1))
    );
    let stored = s.world.store.slot_series(series.id()).await.unwrap().unwrap();
    assert_eq!(stored.slots(), series.slots());
    assert_eq!(
        stored.slots().iter().map(|m| m.slot).collect::<Vec<_>>(),
        opened.iter().map(|s| s.id()).collect::<Vec<_>>()
    );

    let first = s
        .schedules
        .book_slot_series(&Actor::student(student(1)), series.id(), SeriesMode::AllOrNothing)
        .await
        .unwrap();
    assert_eq!(
        outcomes(&first.occurrences),
        [(1, "booked"), (2, "booked"), (3, "booked"), (4, "booked")]
    );
    // Occurrence 2 fills up.
    s.world.request(student(2), &opened[1]).await;
    let late = Actor::student(student(3));
    let refused = s
        .schedules
        .book_slot_series(&late, series.id(), SeriesMode::AllOrNothing)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "slot_full");
    assert!(refused.to_string().starts_with("occurrence 2 "), "{refused}");
    assert_eq!(s.world.reload(&opened[0]).await.booked_count(), 1, "nothing changed");
    let rest = s
        .schedules
        .book_slot_series(&late, series.id(), SeriesMode::BestEffort)
        .await
        .unwrap();
    assert_eq!(
        outcomes(&rest.occurrences),
        [(1, "booked"), (2, "slot_full"), (3, "booked"), (4, "booked")]
    );
    assert_eq!(s.world.reload(&opened[0]).await.booked_count(), 2);

    let cancelled = s
        .schedules
        .cancel_series(&late, rest.series, Some(date!(2030 - 01 - 28)))
        .await
        .unwrap();
    assert_eq!(outcomes(&cancelled.occurrences), [(3, "booked"), (4, "booked")]);
    assert_eq!(s.world.reload(&opened[2]).await.booked_count(), 1);
    assert_eq!(
        code(
            s.schedules
                .book_slot_series(
                    &late,
                    tutorbook_domain::SeriesId::from_uuid(uuid::Uuid::from_u128(0x5e)),
                    SeriesMode::BestEffort
                )
                .await
        ),
        "not_found"
    );
    s.world.store.check_invariants().await;
}

conformance!(
    a_weekly_series_keeps_local_time_across_the_november_change,
    every_occurrence_is_checked_all_or_nothing_or_best_effort,
    an_occurrence_in_the_march_gap_is_refused_with_dst_gap,
    a_series_is_cancelled_from_an_occurrence_on,
    fifty_two_weekly_occurrences_book_in_one_command,
    a_group_series_opens_as_a_whole_and_takes_a_seat_in_each,
);
