//! Weekly rules, date exceptions, bookable times and booking one
//! (docs/availability.md): the same answers from every store, and exactly
//! one winner when students race for colliding times.

use time::macros::{date, datetime, time};
use time::{Duration, OffsetDateTime, Weekday};
use tutorbook_domain::{
    Actor, BookingPolicy, BookingStatus, ExceptionDraft, ExceptionKind, Locale, Role, RuleDraft, Zone,
};
use tutorbook_memory::{ManualClock, MemoryStore};
use tutorbook_ports::{AvailabilityStore, Schedules, User, UserStore, UuidV7};
use tutorbook_sql::SqlStore;

use crate::backends::Store;
use crate::conformance;
use crate::world::{STAFF, TEACHER, World, code, race, student};

/// The ports the schedule scenarios need besides the booking ones.
pub trait ScheduleStore: Store + AvailabilityStore + UserStore {}
impl ScheduleStore for MemoryStore {}
impl ScheduleStore for SqlStore {}

/// Monday 2030-01-14, a week after the scenarios' clock starts (2030-01-06).
const MONDAY: time::Date = date!(2030 - 01 - 14);

fn seoul() -> Zone {
    Zone::parse("Asia/Seoul").unwrap()
}

/// `hh:mm` on [`MONDAY`] in Seoul, as an instant.
fn seoul_monday(hour: u8, minute: u8) -> OffsetDateTime {
    seoul().resolve_bound(MONDAY.with_hms(hour, minute, 0).unwrap())
}

fn rule(weekday: Weekday, start: time::Time, end: time::Time) -> RuleDraft {
    RuleDraft {
        weekday,
        start,
        end,
        zone: seoul(),
        valid_from: None,
        valid_until: None,
        active: true,
    }
}

pub struct Setup<S: ScheduleStore> {
    pub world: World<S>,
    pub schedules: Schedules<S, ManualClock, UuidV7>,
}

/// The teacher (in Seoul) with Monday hours 09:00–12:00 and `policy`.
async fn setup<S: ScheduleStore>(store: S, policy: BookingPolicy) -> Setup<S> {
    let rules = vec![rule(Weekday::Monday, time!(09:00), time!(12:00))];
    teacher_setup(store, seoul(), policy, rules).await
}

/// The teacher living in `zone`, with `policy` and weekly `rules`.
pub async fn teacher_setup<S: ScheduleStore>(
    store: S,
    zone: Zone,
    policy: BookingPolicy,
    rules: Vec<RuleDraft>,
) -> Setup<S> {
    let world = World::new(store);
    world
        .store
        .create_user(User {
            id: TEACHER,
            subject: "test:teacher".into(),
            role: Role::Teacher,
            display_name: "Teacher".into(),
            email: None,
            zone,
            locale: Locale::Ko,
            created_at: world.clock_now(),
        })
        .await
        .unwrap();
    world.store.set_policy(TEACHER, policy).await.unwrap();
    let schedules = Schedules::new(
        world.store.clone(),
        world.clock.clone(),
        UuidV7,
        tutorbook_domain::PlatformSettings::default(),
    );
    schedules
        .set_rules(&Actor::teacher(TEACHER), TEACHER, rules)
        .await
        .unwrap();
    Setup { world, schedules }
}

fn hourly() -> BookingPolicy {
    BookingPolicy::default()
        .with_default_length(Duration::hours(1))
        .unwrap()
        .with_approval(false, false)
}

async fn monday_times<S: ScheduleStore>(s: &Setup<S>) -> Vec<OffsetDateTime> {
    s.schedules
        .bookable_times(TEACHER, seoul_monday(0, 0), seoul_monday(23, 0), false)
        .await
        .unwrap()
        .starts
}

async fn rules_and_exceptions_are_kept_and_checked<S: ScheduleStore>(store: S) {
    let s = setup(store, hourly()).await;
    let teacher = Actor::teacher(TEACHER);
    let stored = s.schedules.availability(&teacher, TEACHER).await.unwrap();
    assert_eq!(stored.rules().len(), 1);
    assert_eq!(
        stored.rules()[0].draft(),
        &rule(Weekday::Monday, time!(09:00), time!(12:00))
    );

    // Overlapping rules are refused as a whole and change nothing.
    let overlapping = vec![
        rule(Weekday::Tuesday, time!(09:00), time!(12:00)),
        rule(Weekday::Tuesday, time!(11:00), time!(13:00)),
    ];
    assert_eq!(
        code(s.schedules.set_rules(&teacher, TEACHER, overlapping).await),
        "invalid_input"
    );
    assert_eq!(s.schedules.availability(&teacher, TEACHER).await.unwrap(), stored);
    // Only the teacher and staff manage them; a student learns nothing.
    let student = Actor::student(student(1));
    assert_eq!(
        code(s.schedules.set_rules(&student, TEACHER, vec![]).await),
        "forbidden"
    );
    assert_eq!(code(s.schedules.availability(&student, TEACHER).await), "forbidden");
    assert_eq!(
        code(s.schedules.availability(&Actor::staff(STAFF), student.user).await),
        "not_found"
    );

    let holiday = s
        .schedules
        .add_exception(
            &Actor::staff(STAFF),
            TEACHER,
            ExceptionDraft {
                kind: ExceptionKind::Holiday,
                from: MONDAY,
                until: MONDAY,
                hours: Some((time!(10:00), time!(11:00))),
                zone: seoul(),
                note: " Seollal ".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(holiday.draft().note, "Seollal");
    let with_holiday = s.schedules.availability(&teacher, TEACHER).await.unwrap();
    assert_eq!(with_holiday.exceptions(), std::slice::from_ref(&holiday));
    assert_eq!(monday_times(&s).await, [seoul_monday(9, 0), seoul_monday(11, 0)]);

    s.schedules
        .remove_exception(&teacher, TEACHER, holiday.id())
        .await
        .unwrap();
    assert_eq!(
        code(s.schedules.remove_exception(&teacher, TEACHER, holiday.id()).await),
        "not_found"
    );
    assert_eq!(monday_times(&s).await.len(), 3);
    assert_eq!(
        s.world.store.policy(TEACHER).await.unwrap(),
        hourly(),
        "lesson length kept"
    );
}

async fn a_booked_time_becomes_a_lesson_and_leaves_the_offer<S: ScheduleStore>(store: S) {
    let s = setup(store, hourly()).await;
    // A group slot the teacher opened by hand at 11:00 counts as busy.
    s.world
        .bookings
        .open_slot(
            &Actor::teacher(TEACHER),
            tutorbook_ports::OpenSlot {
                teacher: TEACHER,
                start: seoul_monday(11, 0),
                end: seoul_monday(11, 50),
                zone: seoul(),
                capacity: 3,
                meeting: tutorbook_domain::Meeting::default(),
                waitlist: tutorbook_ports::WaitlistChoice::TeacherDefault,
            },
        )
        .await
        .unwrap();
    assert_eq!(monday_times(&s).await, [seoul_monday(9, 0), seoul_monday(10, 0)]);

    let me = Actor::student(student(1));
    let booking = s
        .schedules
        .book_time(&me, TEACHER, seoul_monday(9, 0), false)
        .await
        .unwrap();
    assert_eq!(booking.status(), BookingStatus::Confirmed);
    assert_eq!(booking.student(), me.user);
    let slot = s.world.reload_id(booking.slot()).await;
    assert_eq!(
        (slot.window().start(), slot.window().duration()),
        (seoul_monday(9, 0), Duration::hours(1))
    );
    assert!(slot.capacity().is_one_on_one());
    assert_eq!(monday_times(&s).await, [seoul_monday(10, 0)]);

    // Taken, crafted by hand, the teacher's own, too soon: each with its reason.
    let other = Actor::student(student(2));
    assert_eq!(
        code(s.schedules.book_time(&other, TEACHER, seoul_monday(9, 0), false).await),
        "slot_overlap"
    );
    assert_eq!(
        code(
            s.schedules
                .book_time(&other, TEACHER, seoul_monday(10, 30), false)
                .await
        ),
        "outside_availability"
    );
    assert_eq!(
        code(s.schedules.book_time(&other, TEACHER, seoul_monday(13, 0), false).await),
        "outside_availability"
    );
    assert_eq!(
        code(
            s.schedules
                .book_time(&Actor::teacher(TEACHER), TEACHER, seoul_monday(10, 0), false)
                .await
        ),
        "own_slot"
    );
    s.world.clock.set(seoul_monday(10, 0) - Duration::minutes(5));
    assert_eq!(
        code(s.schedules.book_time(&other, TEACHER, seoul_monday(9, 0), false).await),
        "slot_in_past"
    );
    s.world.store.check_invariants().await;
}

async fn the_daily_limit_counts_the_teachers_local_day<S: ScheduleStore>(store: S) {
    let s = setup(store, hourly().with_daily_limit(Some(1)).unwrap()).await;
    // 07:00 on Monday in Seoul is still Sunday in UTC: it counts towards Monday.
    let early = s
        .world
        .bookings
        .open_slot(
            &Actor::teacher(TEACHER),
            tutorbook_ports::OpenSlot {
                teacher: TEACHER,
                start: seoul_monday(7, 0),
                end: seoul_monday(7, 30),
                zone: seoul(),
                capacity: 1,
                meeting: tutorbook_domain::Meeting::default(),
                waitlist: tutorbook_ports::WaitlistChoice::TeacherDefault,
            },
        )
        .await
        .unwrap();
    assert!(seoul_monday(7, 0) < datetime!(2030-01-14 00:00 UTC));
    assert_eq!(monday_times(&s).await.len(), 3, "an empty slot does not count");
    s.world.confirmed(student(1), &early).await;
    assert!(monday_times(&s).await.is_empty());
    assert_eq!(
        code(
            s.schedules
                .book_time(&Actor::student(student(2)), TEACHER, seoul_monday(9, 0), false)
                .await
        ),
        "daily_limit_reached"
    );
}

async fn racing_students_for_colliding_times_leave_one_lesson<S: ScheduleStore>(store: S) {
    // With 15-minute buffers, lessons at 09:00 and 10:00 collide.
    let policy = hourly()
        .with_buffers(Duration::minutes(15), Duration::minutes(15))
        .unwrap();
    let s = setup(store, policy).await;
    assert_eq!(
        monday_times(&s).await,
        [seoul_monday(9, 0), seoul_monday(10, 0), seoul_monday(11, 0)]
    );
    let results = race(8, |n| {
        let schedules = s.schedules.clone();
        let start = if n % 2 == 0 {
            seoul_monday(9, 0)
        } else {
            seoul_monday(10, 0)
        };
        async move {
            schedules
                .book_time(&Actor::student(student(n as u128 + 1)), TEACHER, start, false)
                .await
        }
    })
    .await;
    let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let lost: Vec<&str> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.code())
        .collect();
    assert_eq!(won.len(), 1, "exactly one lesson: {lost:?}");
    assert!(
        lost.iter()
            .all(|c| matches!(*c, "slot_overlap" | "outside_availability")),
        "{lost:?}"
    );
    let week = s
        .schedules
        .week(&Actor::teacher(TEACHER), TEACHER, MONDAY)
        .await
        .unwrap();
    assert_eq!(week.slots.len(), 1);
    assert_eq!(week.zone, seoul());
    s.world.store.check_invariants().await;
}

async fn a_trial_lesson_is_once_per_student_and_teacher<S: ScheduleStore>(store: S) {
    let s = setup(store, hourly()).await;
    let me = Actor::student(student(1));
    let trial_times = |trial| {
        s.schedules
            .bookable_times(TEACHER, seoul_monday(0, 0), seoul_monday(23, 0), trial)
    };
    assert_eq!(code(trial_times(true).await), "trial_not_offered");
    assert_eq!(
        code(s.schedules.book_time(&me, TEACHER, seoul_monday(9, 0), true).await),
        "trial_not_offered"
    );

    let with_trials = hourly().with_trial(Some(Duration::minutes(30))).unwrap();
    s.world.store.set_policy(TEACHER, with_trials).await.unwrap();
    let offered = trial_times(true).await.unwrap();
    assert_eq!(offered.length, Duration::minutes(30));
    assert_eq!(offered.starts.len(), 6, "09:00 to 12:00 in half hours");
    let trial = s
        .schedules
        .book_time(&me, TEACHER, seoul_monday(9, 30), true)
        .await
        .unwrap();
    assert_eq!(trial.source(), tutorbook_domain::BookingSource::Trial);
    let slot = s.world.reload_id(trial.slot()).await;
    assert_eq!(slot.window().duration(), Duration::minutes(30));
    assert_eq!(
        slot.bookings()[0].source(),
        tutorbook_domain::BookingSource::Trial,
        "kept as a trial"
    );
    assert_eq!(
        code(s.schedules.book_time(&me, TEACHER, seoul_monday(11, 0), true).await),
        "trial_already_used"
    );
    // A student's own cancellation does not give the trial back...
    s.world.bookings.cancel(&me, trial.id()).await.unwrap();
    assert_eq!(
        code(s.schedules.book_time(&me, TEACHER, seoul_monday(11, 0), true).await),
        "trial_already_used"
    );
    // ...a teacher's cancellation does.
    let other = Actor::student(student(2));
    let theirs = s
        .schedules
        .book_time(&other, TEACHER, seoul_monday(9, 0), true)
        .await
        .unwrap();
    s.world
        .bookings
        .teacher_cancel(&Actor::teacher(TEACHER), theirs.id())
        .await
        .unwrap();
    s.schedules
        .book_time(&other, TEACHER, seoul_monday(11, 0), true)
        .await
        .unwrap();
    // Regular lessons are not limited.
    s.schedules
        .book_time(&me, TEACHER, seoul_monday(10, 0), false)
        .await
        .unwrap();
    s.world.store.check_invariants().await;
}

/// A one-to-one lesson moves to another bookable time in one transaction;
/// a start not offered, a group seat or a stranger's call changes nothing.
async fn a_lesson_moves_to_another_bookable_time<S: ScheduleStore>(store: S) {
    let s = setup(store, hourly()).await;
    let me = Actor::student(student(1));
    let booked = s
        .schedules
        .book_time(&me, TEACHER, seoul_monday(9, 0), false)
        .await
        .unwrap();
    assert_eq!(monday_times(&s).await, [seoul_monday(10, 0), seoul_monday(11, 0)]);

    // Refusals first: each changes nothing.
    let refusals = [
        (me, seoul_monday(12, 0), "outside_availability"),
        (me, seoul_monday(9, 30), "outside_availability"),
        (me, seoul_monday(9, 0), "slot_overlap"),
        (Actor::student(student(2)), seoul_monday(10, 0), "not_found"),
    ];
    for (actor, start, expected) in refusals {
        assert_eq!(
            code(s.schedules.reschedule_to_time(&actor, booked.id(), start).await),
            expected,
            "{start}"
        );
    }
    assert_eq!(monday_times(&s).await.len(), 2, "nothing was booked");

    let moved = s
        .schedules
        .reschedule_to_time(&me, booked.id(), seoul_monday(11, 0))
        .await
        .unwrap();
    assert_eq!(moved.status(), BookingStatus::Confirmed);
    assert_ne!(moved.slot(), booked.slot());
    let new_slot = s.world.reload_id(moved.slot()).await;
    assert_eq!(new_slot.window().start(), seoul_monday(11, 0));
    assert_eq!(new_slot.window().end(), seoul_monday(12, 0));
    let old_slot = s.world.reload_id(booked.slot()).await;
    assert_eq!(
        old_slot.booking(booked.id()).unwrap().status(),
        BookingStatus::Cancelled
    );
    let history = s.world.store.history(booked.id()).await.unwrap();
    assert_eq!(history.last().unwrap().reason, "rescheduled");
    let history = s.world.store.history(moved.id()).await.unwrap();
    assert_eq!(history.last().unwrap().reason, "rescheduled");

    // A group seat does not become a private lesson.
    let group = s.world.open(TEACHER, seoul_monday(15, 0), 3).await;
    let seat = s.world.request(student(2), &group).await;
    assert_eq!(
        code(
            s.schedules
                .reschedule_to_time(&Actor::student(student(2)), seat.id(), seoul_monday(10, 0))
                .await
        ),
        "invalid_input"
    );
}

conformance!(
    a_lesson_moves_to_another_bookable_time,
    a_trial_lesson_is_once_per_student_and_teacher,
    rules_and_exceptions_are_kept_and_checked,
    a_booked_time_becomes_a_lesson_and_leaves_the_offer,
    the_daily_limit_counts_the_teachers_local_day,
    racing_students_for_colliding_times_leave_one_lesson,
);
