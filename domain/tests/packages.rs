//! Course packages (docs/product.md §8): every cap refused with its own code, DST gaps and
//! overlaps named by date, and what a package with students may no longer do.

mod common;

use common::{TEACHER, staff, student, teacher, user};
use time::macros::{date, datetime, time};
use time::{Date, OffsetDateTime, Time};
use tutorbook_domain::{
    ClassType, CoursePackage, Currency, DomainError, MAX_SESSIONS, Money, PackageDetails, PackageId, PackageSchedule,
    PackageStatus, PlatformSettings, PricingConfig, Recurrence, SESSION_LENGTH, SessionRates, Zone,
};
use uuid::Uuid;

/// Before every schedule below.
const NOW: OffsetDateTime = datetime!(2026-01-15 09:00 UTC);

fn seoul() -> Zone {
    Zone::parse("Asia/Seoul").unwrap()
}

fn new_york() -> Zone {
    Zone::parse("America/New_York").unwrap()
}

fn schedule(start: Date, recurrence: Recurrence, count: u32) -> PackageSchedule {
    PackageSchedule::new(start, time!(19:00), seoul(), recurrence, count).unwrap()
}

/// Mon/Wed/Fri at 19:00 in Seoul from Monday 2026-03-02, `count` sessions.
fn mwf(count: u32) -> PackageSchedule {
    schedule(date!(2026 - 03 - 02), Recurrence::Mwf, count)
}

fn details(class_type: ClassType, capacity: u32, schedule: PackageSchedule) -> PackageDetails {
    PackageDetails {
        title: "  IELTS Speaking sprint  ".into(),
        description: "Twelve mock interviews.".into(),
        class_type,
        capacity,
        schedule,
        policy: None,
    }
}

fn package_id() -> PackageId {
    PackageId::from_uuid(Uuid::from_u128(0xFAC_0001))
}

fn create(details: PackageDetails) -> Result<CoursePackage, DomainError> {
    CoursePackage::create(
        package_id(),
        user(TEACHER),
        details,
        &teacher(),
        &PlatformSettings::default(),
        NOW,
    )
}

fn package() -> CoursePackage {
    create(details(ClassType::Group, 4, mwf(12))).unwrap()
}

#[track_caller]
fn assert_code<T: std::fmt::Debug>(result: Result<T, DomainError>, code: &str) -> DomainError {
    let error = result.expect_err("should be refused");
    assert_eq!(error.code(), code, "refused with the wrong error: {error}");
    error
}

#[test]
fn a_new_package_is_open_with_its_sessions_generated() {
    let p = package();
    assert_eq!(p.status(), PackageStatus::Open);
    assert!(p.status().is_open());
    assert_eq!(p.title(), "IELTS Speaking sprint");
    assert_eq!(p.teacher(), user(TEACHER));
    assert_eq!(p.capacity().get(), 4);
    assert_eq!(p.sessions().len(), 12);
    assert_eq!(p.sessions()[0].start(), datetime!(2026-03-02 10:00 UTC));
    assert_eq!(p.sessions()[11].start(), datetime!(2026-03-27 10:00 UTC));
    assert!(p.sessions().iter().all(|s| s.duration() == SESSION_LENGTH));
}

#[test]
fn one_on_one_capacity_is_forced_to_one() {
    let p = create(details(ClassType::OneOnOne, 3, mwf(4))).unwrap();
    assert!(p.capacity().is_one_on_one());
}

#[test]
fn group_capacity_is_two_to_the_platform_maximum() {
    let too_big = assert_code(create(details(ClassType::Group, 5, mwf(4))), "invalid_capacity");
    assert_eq!(too_big, DomainError::InvalidCapacity { got: 5, max: 4 });
    assert_code(create(details(ClassType::Group, 1, mwf(4))), "invalid_capacity");
    assert_code(create(details(ClassType::Group, 0, mwf(4))), "invalid_capacity");
    assert_eq!(
        create(details(ClassType::Group, 2, mwf(4))).unwrap().capacity().get(),
        2
    );
}

#[test]
fn at_most_29_sessions() {
    let start = date!(2026 - 03 - 02);
    let error = PackageSchedule::new(start, time!(19:00), seoul(), Recurrence::Weekdays, 30).unwrap_err();
    assert_eq!(error, DomainError::TooManySessions { got: 30, max: 29 });
    assert_eq!(error.code(), "too_many_sessions");
    assert_code(
        PackageSchedule::new(start, time!(19:00), seoul(), Recurrence::Weekdays, 0),
        "invalid_input",
    );
    assert_eq!(MAX_SESSIONS, 29);
}

#[test]
fn sessions_fit_within_thirty_days() {
    // Weekends from Saturday 2026-03-07: the 10th session is Sunday 04-05, 29 days later.
    let fits = schedule(date!(2026 - 03 - 07), Recurrence::Weekends, 10);
    let last = fits.sessions().last().unwrap().start();
    assert_eq!(seoul().to_local(last).date(), date!(2026 - 04 - 05));
    // The 11th would be Saturday 04-11, 35 days after the first.
    let start = date!(2026 - 03 - 07);
    let error = assert_code(
        PackageSchedule::new(start, time!(19:00), seoul(), Recurrence::Weekends, 11),
        "package_span_too_long",
    );
    assert_eq!(
        error,
        DomainError::PackageSpanTooLong {
            first: date!(2026 - 03 - 07),
            last: date!(2026 - 04 - 11),
            max_days: 30,
        }
    );
    assert!(error.to_string().contains("2026-04-11"), "{error}");
    // 29 weekday sessions take six weeks: refused by the span, not the count.
    assert_code(
        PackageSchedule::new(start, time!(19:00), seoul(), Recurrence::Weekdays, 29),
        "package_span_too_long",
    );
}

#[test]
fn the_span_counts_from_the_first_session_not_the_start_date() {
    // Start on Monday 2026-03-02 with a weekends recurrence: the first session is Saturday 03-07.
    let s = schedule(date!(2026 - 03 - 02), Recurrence::Weekends, 10);
    assert_eq!(seoul().to_local(s.sessions()[0].start()).date(), date!(2026 - 03 - 07));
    assert_eq!(s.start_date(), date!(2026 - 03 - 02));
}

#[test]
fn a_start_time_skipped_by_dst_is_refused_naming_the_date() {
    // 02:30 does not exist in New York on Sunday 2026-03-08; Saturday 03-07 is fine.
    let error = assert_code(
        PackageSchedule::new(date!(2026 - 03 - 07), time!(02:30), new_york(), Recurrence::Weekends, 4),
        "dst_gap",
    );
    let DomainError::DstGap { local, zone } = &error else {
        panic!("{error:?}")
    };
    assert!(local.starts_with("2026-03-08"), "{local}");
    assert_eq!(zone, "America/New_York");
}

#[test]
fn a_start_time_repeated_by_dst_is_refused_naming_the_date() {
    // 01:30 happens twice in New York on Sunday 2026-11-01.
    let error = assert_code(
        PackageSchedule::new(date!(2026 - 10 - 31), time!(01:30), new_york(), Recurrence::Weekends, 2),
        "dst_ambiguous",
    );
    assert!(error.to_string().contains("2026-11-01"), "{error}");
    // The same time on other days keeps its wall-clock time across the change.
    let s = PackageSchedule::new(date!(2026 - 10 - 28), time!(01:30), new_york(), Recurrence::Mwf, 3).unwrap();
    let starts: Vec<_> = s.sessions().iter().map(|w| w.start()).collect();
    assert_eq!(
        starts,
        [
            datetime!(2026-10-28 05:30 UTC),
            datetime!(2026-10-30 05:30 UTC),
            datetime!(2026-11-02 06:30 UTC),
        ]
    );
}

#[test]
fn a_start_date_at_the_end_of_the_calendar_is_refused() {
    assert_code(
        PackageSchedule::new(Date::MAX, Time::MIDNIGHT, seoul(), Recurrence::Weekdays, 2),
        "invalid_input",
    );
}

#[test]
fn a_package_must_start_in_the_future() {
    let past = schedule(date!(2026 - 01 - 12), Recurrence::Mwf, 3);
    assert_code(create(details(ClassType::Group, 3, past)), "slot_in_past");
}

#[test]
fn title_and_description_are_checked() {
    let mut d = details(ClassType::Group, 3, mwf(3));
    d.title = "   ".into();
    assert_code(create(d.clone()), "invalid_input");
    d.title = "x".repeat(121);
    assert_code(create(d.clone()), "invalid_input");
    d.title = "ok".into();
    d.description = "x".repeat(4001);
    assert_code(create(d), "invalid_input");
}

#[test]
fn only_the_teacher_or_staff_creates_and_manages() {
    let settings = PlatformSettings::default();
    let as_student = CoursePackage::create(
        package_id(),
        user(TEACHER),
        details(ClassType::Group, 3, mwf(3)),
        &student(1),
        &settings,
        NOW,
    );
    assert_code(as_student, "forbidden");
    let by_staff = CoursePackage::create(
        package_id(),
        user(TEACHER),
        details(ClassType::Group, 3, mwf(3)),
        &staff(),
        &settings,
        NOW,
    );
    assert_eq!(by_staff.unwrap().teacher(), user(TEACHER));

    let mut p = package();
    assert_code(p.set_status(PackageStatus::Closed, &student(1)), "forbidden");
    assert_code(p.ensure_deletable(&student(1), 0), "forbidden");
    p.set_status(PackageStatus::Closed, &staff()).unwrap();
    assert!(!p.status().is_open());
}

#[test]
fn closing_and_reopening() {
    let mut p = package();
    for status in [PackageStatus::Closed, PackageStatus::Draft, PackageStatus::Open] {
        p.set_status(status, &teacher()).unwrap();
        assert_eq!(p.status(), status);
        assert_eq!(PackageStatus::parse(status.as_str()), Some(status));
    }
}

#[test]
fn a_package_with_students_can_be_neither_edited_nor_deleted() {
    let mut p = package();
    let before = p.clone();
    let settings = PlatformSettings::default();
    let new_details = details(ClassType::Group, 3, mwf(6));
    assert_code(
        p.revise(new_details.clone(), &teacher(), 1, &settings, NOW),
        "package_has_students",
    );
    assert_eq!(p, before, "a refused revision changed the package");
    assert_code(p.ensure_deletable(&teacher(), 2), "package_has_students");
    p.ensure_deletable(&teacher(), 0).unwrap();
}

#[test]
fn a_revision_says_when_the_slots_must_be_regenerated() {
    let settings = PlatformSettings::default();
    let mut p = package();
    let mut d = details(ClassType::Group, 4, mwf(12));
    d.title = "Renamed".into();
    assert!(!p.revise(d.clone(), &teacher(), 0, &settings, NOW).unwrap());
    assert_eq!(p.title(), "Renamed");
    d.capacity = 3;
    assert!(p.revise(d.clone(), &teacher(), 0, &settings, NOW).unwrap());
    assert_eq!(p.capacity().get(), 3);
    d.schedule = mwf(6);
    assert!(p.revise(d.clone(), &teacher(), 0, &settings, NOW).unwrap());
    assert_eq!(p.sessions().len(), 6);
    // A new schedule must be in the future; an unchanged one may have started.
    let later = datetime!(2026-03-03 00:00 UTC);
    d.title = "Title only".into();
    assert!(!p.revise(d.clone(), &teacher(), 0, &settings, later).unwrap());
    d.schedule = mwf(5);
    let before = p.clone();
    assert_code(p.revise(d, &teacher(), 0, &settings, later), "slot_in_past");
    assert_eq!(p, before);
}

#[test]
fn the_price_is_sessions_times_the_rate() {
    let pricing = PricingConfig::default();
    let group = create(details(ClassType::Group, 4, mwf(12))).unwrap();
    assert_eq!(group.price(&pricing, Currency::KRW).unwrap().minor(), 12 * 20_000);
    let one = create(details(ClassType::OneOnOne, 1, mwf(12))).unwrap();
    assert_eq!(one.price(&pricing, Currency::KRW).unwrap().minor(), 480_000);
    assert_code(one.price(&pricing, Currency::USD), "unpriced_currency");

    let usd = |minor| Money::new(minor, Currency::USD).unwrap();
    let won = |minor| Money::new(minor, Currency::KRW).unwrap();
    let both = PricingConfig::new(vec![
        SessionRates::new(won(40_000), won(20_000)).unwrap(),
        SessionRates::new(usd(3_250), usd(1_625)).unwrap(),
    ])
    .unwrap();
    assert_eq!(one.price(&both, Currency::USD).unwrap(), usd(12 * 3_250));
    assert_eq!(group.price(&both, Currency::USD).unwrap().to_string(), "195.00 USD");
}

#[test]
fn class_types_round_trip_their_text_form() {
    for c in [ClassType::OneOnOne, ClassType::Group] {
        assert_eq!(ClassType::parse(c.as_str()), Some(c));
    }
    assert_eq!(ClassType::parse("1:1"), None);
}
