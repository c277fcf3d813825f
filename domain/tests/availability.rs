//! Weekly rules, date exceptions and bookable times: the named cases of
//! docs/availability.md, DST days included.

use time::macros::{date, datetime, time};
use time::{Date, Duration, OffsetDateTime, Time, Weekday};
use tutorbook_domain::{
    Actor, Availability, Bookable, BookableQuery, BookingPolicy, BookingStatus, BusySlot, DateException, DomainError,
    ExceptionDraft, ExceptionId, ExceptionKind, LessonKind, LessonWindow, Meeting, PlatformSettings, RuleDraft, RuleId,
    SlotId, TimeBooking, UserId, WeeklyRule, Zone, book_time, bookable_times, check_range, check_rule_set,
};
use uuid::Uuid;

fn zone(name: &str) -> Zone {
    Zone::parse(name).unwrap()
}

fn rule(n: u128, weekday: Weekday, start: Time, end: Time, zone_name: &str) -> WeeklyRule {
    WeeklyRule::new(
        RuleId::from_uuid(Uuid::from_u128(n)),
        RuleDraft {
            weekday,
            start,
            end,
            zone: zone(zone_name),
            valid_from: None,
            valid_until: None,
            active: true,
        },
    )
    .unwrap()
}

fn exception(
    n: u128,
    kind: ExceptionKind,
    from: Date,
    until: Date,
    hours: Option<(Time, Time)>,
    z: &str,
) -> DateException {
    DateException::new(
        ExceptionId::from_uuid(Uuid::from_u128(n)),
        ExceptionDraft {
            kind,
            from,
            until,
            hours,
            zone: zone(z),
            note: String::new(),
        },
    )
    .unwrap()
}

fn policy(minutes: i64) -> BookingPolicy {
    BookingPolicy::default()
        .with_default_length(Duration::minutes(minutes))
        .unwrap()
        .with_max_advance(Duration::days(400))
        .unwrap()
}

const LONG_AGO: OffsetDateTime = datetime!(2026-12-01 00:00 UTC);

/// Bookable starts of one local day of `z`, as local wall-clock `HH:MM` with offsets.
fn local_day(availability: &Availability, policy: &BookingPolicy, z: &str, day: Date) -> Vec<String> {
    let z = zone(z);
    let from = z.resolve_bound(day.midnight());
    let to = z.resolve_bound(day.next_day().unwrap().midnight());
    let query = BookableQuery {
        from,
        to,
        length: policy.default_length(),
        now: LONG_AGO,
    };
    bookable_times(availability, &[], policy, z, query)
        .into_iter()
        .map(|t| {
            let local = z.to_local(t);
            format!("{:02}:{:02}{}", local.hour(), local.minute(), local.offset())
        })
        .collect()
}

fn only(rules: Vec<WeeklyRule>) -> Availability {
    Availability::restore(rules, Vec::new())
}

#[test]
fn new_york_spring_forward_skips_the_missing_hour() {
    // 2027-03-14: 02:00 EST becomes 03:00 EDT.
    let a = only(vec![rule(
        1,
        Weekday::Sunday,
        time!(00:00),
        time!(06:00),
        "America/New_York",
    )]);
    assert_eq!(
        local_day(&a, &policy(60), "America/New_York", date!(2027 - 03 - 14)),
        [
            "00:00-05:00:00",
            "01:00-05:00:00",
            "03:00-04:00:00",
            "04:00-04:00:00",
            "05:00-04:00:00"
        ]
    );
    // A window across the change keeps its wall-clock bounds: 09:00 to 17:00 local.
    let day = only(vec![rule(
        2,
        Weekday::Sunday,
        time!(09:00),
        time!(17:00),
        "America/New_York",
    )]);
    let times = local_day(&day, &policy(60), "America/New_York", date!(2027 - 03 - 14));
    assert_eq!(times.len(), 8);
    assert_eq!(times.first().unwrap(), "09:00-04:00:00");
    assert_eq!(times.last().unwrap(), "16:00-04:00:00");
}

#[test]
fn new_york_fall_back_takes_the_earlier_of_a_repeated_hour() {
    // 2027-11-07: 02:00 EDT becomes 01:00 EST; 01:00 happens twice.
    let a = only(vec![rule(
        1,
        Weekday::Sunday,
        time!(00:00),
        time!(04:00),
        "America/New_York",
    )]);
    assert_eq!(
        local_day(&a, &policy(60), "America/New_York", date!(2027 - 11 - 07)),
        ["00:00-04:00:00", "01:00-04:00:00", "02:00-05:00:00", "03:00-05:00:00"]
    );
}

#[test]
fn paris_spring_forward_with_half_hour_lessons() {
    // 2027-03-28: 02:00 CET becomes 03:00 CEST.
    let a = only(vec![rule(
        1,
        Weekday::Sunday,
        time!(01:00),
        time!(05:00),
        "Europe/Paris",
    )]);
    assert_eq!(
        local_day(&a, &policy(30), "Europe/Paris", date!(2027 - 03 - 28)),
        [
            "01:00+01:00:00",
            "01:30+01:00:00",
            "03:00+02:00:00",
            "03:30+02:00:00",
            "04:00+02:00:00",
            "04:30+02:00:00"
        ]
    );
}

#[test]
fn lord_howe_shifts_by_thirty_minutes() {
    // 2027-10-03: 02:00 (+10:30) becomes 02:30 (+11:00).
    let a = only(vec![rule(
        1,
        Weekday::Sunday,
        time!(01:00),
        time!(04:00),
        "Australia/Lord_Howe",
    )]);
    assert_eq!(
        local_day(&a, &policy(30), "Australia/Lord_Howe", date!(2027 - 10 - 03)),
        [
            "01:00+10:30:00",
            "01:30+10:30:00",
            "02:30+11:00:00",
            "03:00+11:00:00",
            "03:30+11:00:00"
        ]
    );
    // 2027-04-04: 02:00 (+11:00) becomes 01:30 (+10:30); 01:30 to 02:00 happens twice.
    assert_eq!(
        local_day(&a, &policy(30), "Australia/Lord_Howe", date!(2027 - 04 - 04)),
        [
            "01:00+11:00:00",
            "01:30+11:00:00",
            "02:00+10:30:00",
            "02:30+10:30:00",
            "03:00+10:30:00",
            "03:30+10:30:00"
        ]
    );
}

#[test]
fn seoul_teacher_on_a_utc_server_counts_notice_and_days_in_seoul() {
    let seoul = zone("Asia/Seoul");
    let a = only(vec![rule(1, Weekday::Monday, time!(09:00), time!(12:00), "Asia/Seoul")]);
    let p = policy(60).with_min_notice(Duration::hours(2)).unwrap();
    // Sunday 23:00 UTC is Monday 08:00 in Seoul: two hours' notice leaves 10:00 and 11:00.
    let now = datetime!(2027-01-03 23:00 UTC);
    let query = BookableQuery {
        from: datetime!(2027-01-03 00:00 UTC),
        to: datetime!(2027-01-05 00:00 UTC),
        length: Duration::hours(1),
        now,
    };
    assert_eq!(
        bookable_times(&a, &[], &p, seoul, query),
        [datetime!(2027-01-04 01:00 UTC), datetime!(2027-01-04 02:00 UTC)]
    );
    // A booking at 23:30 UTC on Sunday is 08:30 on Monday in Seoul: with a
    // daily limit of one, Monday is full, although it is Sunday in UTC.
    let p = p.with_daily_limit(Some(1)).unwrap();
    let busy = [BusySlot {
        window: LessonWindow::new(datetime!(2027-01-03 23:30 UTC), datetime!(2027-01-03 23:45 UTC)).unwrap(),
        active_bookings: 1,
    }];
    let earlier = BookableQuery {
        now: datetime!(2027-01-01 00:00 UTC),
        ..query
    };
    assert!(bookable_times(&a, &busy, &p, seoul, earlier).is_empty());
    let prepared = Bookable::prepare(&a, &busy, &p, seoul, earlier);
    assert_eq!(
        prepared.check(datetime!(2027-01-04 01:00 UTC)),
        Err(DomainError::DailyLimitReached { limit: 1 })
    );
    // Counted in UTC days, Monday would still be open: the zone matters.
    assert_eq!(bookable_times(&a, &busy, &p, zone("UTC"), earlier).len(), 3);
}

#[test]
fn a_rule_valid_until_mid_range_stops_there() {
    let mut draft = *rule(1, Weekday::Monday, time!(10:00), time!(11:00), "UTC").draft();
    draft.valid_until = Some(date!(2027 - 01 - 11));
    let a = only(vec![
        WeeklyRule::new(RuleId::from_uuid(Uuid::from_u128(1)), draft).unwrap(),
    ]);
    let query = BookableQuery {
        from: datetime!(2027-01-01 00:00 UTC),
        to: datetime!(2027-02-01 00:00 UTC),
        length: Duration::hours(1),
        now: LONG_AGO,
    };
    assert_eq!(
        bookable_times(&a, &[], &policy(60), zone("UTC"), query),
        [datetime!(2027-01-04 10:00 UTC), datetime!(2027-01-11 10:00 UTC)]
    );
}

#[test]
fn a_rule_across_midnight_ends_the_next_day() {
    let a = only(vec![rule(1, Weekday::Friday, time!(22:00), time!(02:00), "UTC")]);
    let query = BookableQuery {
        from: datetime!(2027-01-08 00:00 UTC),
        to: datetime!(2027-01-10 00:00 UTC),
        length: Duration::hours(1),
        now: LONG_AGO,
    };
    assert_eq!(
        bookable_times(&a, &[], &policy(60), zone("UTC"), query),
        [
            datetime!(2027-01-08 22:00 UTC),
            datetime!(2027-01-08 23:00 UTC),
            datetime!(2027-01-09 00:00 UTC),
            datetime!(2027-01-09 01:00 UTC)
        ]
    );
}

#[test]
fn exceptions_take_days_and_hours_away_and_extra_hours_add_them() {
    let rules = vec![rule(1, Weekday::Monday, time!(09:00), time!(12:00), "UTC")];
    let week = |exceptions: Vec<DateException>| {
        let query = BookableQuery {
            from: datetime!(2027-01-04 00:00 UTC),
            to: datetime!(2027-01-11 00:00 UTC),
            length: Duration::hours(1),
            now: LONG_AGO,
        };
        bookable_times(
            &Availability::restore(rules.clone(), exceptions),
            &[],
            &policy(60),
            zone("UTC"),
            query,
        )
    };
    assert_eq!(week(vec![]).len(), 3);
    let monday = date!(2027 - 01 - 04);
    assert!(week(vec![exception(1, ExceptionKind::Holiday, monday, monday, None, "UTC")]).is_empty());
    assert_eq!(
        week(vec![exception(
            2,
            ExceptionKind::DayOff,
            monday,
            monday,
            Some((time!(10:30), time!(11:00))),
            "UTC"
        )]),
        [datetime!(2027-01-04 09:00 UTC), datetime!(2027-01-04 11:00 UTC)]
    );
    let tuesday = date!(2027 - 01 - 05);
    assert_eq!(
        week(vec![exception(
            3,
            ExceptionKind::ExtraHours,
            tuesday,
            tuesday,
            Some((time!(14:00), time!(16:00))),
            "UTC"
        )])
        .len(),
        5
    );
    // Monday in Seoul runs from Sunday 15:00 to Monday 15:00 UTC: a
    // vacation day there covers the UTC morning too.
    let vacation = exception(4, ExceptionKind::Vacation, monday, monday, None, "Asia/Seoul");
    assert!(week(vec![vacation]).is_empty());
}

#[test]
fn busy_slots_block_with_buffers_on_both_sides() {
    let a = only(vec![rule(1, Weekday::Monday, time!(09:00), time!(13:00), "UTC")]);
    let p = policy(60)
        .with_buffers(Duration::minutes(15), Duration::minutes(15))
        .unwrap();
    let busy = [BusySlot {
        window: LessonWindow::new(datetime!(2027-01-04 11:00 UTC), datetime!(2027-01-04 11:30 UTC)).unwrap(),
        active_bookings: 0,
    }];
    let query = BookableQuery {
        from: datetime!(2027-01-04 00:00 UTC),
        to: datetime!(2027-01-05 00:00 UTC),
        length: Duration::hours(1),
        now: LONG_AGO,
    };
    // 10:00-11:00 ends at 11:15 with its buffer, past the busy slot's 10:45:
    // blocked; 12:00 starts at 11:45 with its buffer, as the busy one ends.
    assert_eq!(
        bookable_times(&a, &busy, &p, zone("UTC"), query),
        [datetime!(2027-01-04 09:00 UTC), datetime!(2027-01-04 12:00 UTC)]
    );
    let prepared = Bookable::prepare(&a, &busy, &p, zone("UTC"), query);
    assert_eq!(
        prepared.check(datetime!(2027-01-04 10:00 UTC)),
        Err(DomainError::SlotOverlap)
    );
    assert_eq!(
        prepared.check(datetime!(2027-01-04 09:30 UTC)),
        Err(DomainError::OutsideAvailability),
        "off the grid"
    );
    assert_eq!(
        prepared.check(datetime!(2027-01-04 14:00 UTC)),
        Err(DomainError::OutsideAvailability)
    );
    assert_eq!(prepared.check(datetime!(2027-01-04 09:00 UTC)), Ok(()));
}

#[test]
fn booking_a_time_opens_a_one_to_one_slot_with_its_booking() {
    let teacher = UserId::from_uuid(Uuid::from_u128(7));
    let student = Actor::student(UserId::from_uuid(Uuid::from_u128(5)));
    let a = only(vec![rule(1, Weekday::Monday, time!(09:00), time!(12:00), "UTC")]);
    let p = policy(60).with_approval(false, false);
    let now = datetime!(2027-01-01 00:00 UTC);
    let query = BookableQuery {
        from: datetime!(2027-01-04 10:00 UTC),
        to: datetime!(2027-01-04 10:01 UTC),
        length: p.default_length(),
        now,
    };
    let prepared = Bookable::prepare(&a, &[], &p, zone("UTC"), query);
    let pick = |start| TimeBooking {
        slot: SlotId::from_uuid(Uuid::from_u128(100)),
        booking: tutorbook_domain::BookingId::from_uuid(Uuid::from_u128(101)),
        teacher,
        start,
        zone: zone("UTC"),
        meeting: Meeting::default(),
        kind: LessonKind::Regular,
    };
    let settings = PlatformSettings::default();
    let (slot, outcome) = book_time(
        &prepared,
        pick(datetime!(2027-01-04 10:00 UTC)),
        &student,
        &[],
        &p,
        &settings,
        now,
    )
    .unwrap();
    assert_eq!(slot.window().start(), datetime!(2027-01-04 10:00 UTC));
    assert_eq!(slot.window().duration(), Duration::hours(1));
    assert!(slot.capacity().is_one_on_one());
    assert_eq!(slot.bookings().len(), 1);
    assert_eq!(slot.bookings()[0].status(), BookingStatus::Confirmed);
    assert_eq!(outcome.booking, Some(slot.bookings()[0].id()));
    // The teacher cannot book their own time; a time off the grid is refused.
    assert_eq!(
        book_time(
            &prepared,
            pick(datetime!(2027-01-04 10:00 UTC)),
            &Actor::teacher(teacher),
            &[],
            &p,
            &settings,
            now
        )
        .unwrap_err(),
        DomainError::OwnSlot
    );
    assert_eq!(
        book_time(
            &prepared,
            pick(datetime!(2027-01-04 10:10 UTC)),
            &student,
            &[],
            &p,
            &settings,
            now
        )
        .unwrap_err(),
        DomainError::OutsideAvailability
    );
    // Another lesson booked meanwhile (read under the lock) wins the time.
    assert_eq!(
        book_time(
            &prepared,
            pick(datetime!(2027-01-04 10:00 UTC)),
            &student,
            &[slot],
            &p,
            &settings,
            now
        )
        .unwrap_err(),
        DomainError::SlotOverlap
    );
}

#[test]
fn rule_sets_and_ranges_are_checked() {
    let a = rule(1, Weekday::Monday, time!(09:00), time!(12:00), "UTC");
    let b = rule(2, Weekday::Monday, time!(11:00), time!(13:00), "UTC");
    let c = rule(3, Weekday::Sunday, time!(22:00), time!(10:00), "UTC");
    assert!(check_rule_set(&[a, b]).is_err());
    assert!(check_rule_set(&[a, c]).is_err(), "Sunday's hours run into Monday");
    assert!(check_rule_set(&[b, rule(4, Weekday::Tuesday, time!(11:00), time!(13:00), "UTC")]).is_ok());
    let same = RuleDraft {
        end: time!(09:00),
        ..*a.draft()
    };
    assert!(WeeklyRule::new(RuleId::from_uuid(Uuid::from_u128(5)), same).is_err());
    let from = datetime!(2027-01-01 00:00 UTC);
    assert_eq!(check_range(from, from), Err(DomainError::InvalidTimeRange));
    assert!(check_range(from, from + Duration::days(93)).is_ok());
    assert_eq!(
        check_range(from, from + Duration::days(94)).unwrap_err().code(),
        "invalid_input"
    );
}

#[test]
fn rules_change_one_at_a_time_and_the_set_stays_free_of_overlaps() {
    let teacher = Actor::teacher(tutorbook_domain::UserId::from_uuid(Uuid::from_u128(0x7e)));
    let stranger = Actor::teacher(tutorbook_domain::UserId::from_uuid(Uuid::from_u128(0x7f)));
    let morning = rule(1, Weekday::Tuesday, time!(09:00), time!(12:00), "Asia/Seoul");
    let mut availability = only(vec![morning]);
    let overlapping = rule(2, Weekday::Tuesday, time!(11:00), time!(13:00), "Asia/Seoul");
    assert_eq!(
        availability
            .add_rule(&teacher, teacher.user, overlapping)
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    assert_eq!(
        availability
            .add_rule(&stranger, teacher.user, overlapping)
            .unwrap_err()
            .code(),
        "forbidden"
    );
    let afternoon = rule(2, Weekday::Tuesday, time!(14:00), time!(17:00), "Asia/Seoul");
    availability.add_rule(&teacher, teacher.user, afternoon).unwrap();
    assert_eq!(availability.rules().len(), 2);

    let later = rule(1, Weekday::Tuesday, time!(10:00), time!(13:00), "Asia/Seoul");
    availability.replace_rule(&teacher, teacher.user, later).unwrap();
    assert_eq!(availability.rules()[0], later, "same id, new hours");
    let clash = rule(1, Weekday::Tuesday, time!(15:00), time!(16:00), "Asia/Seoul");
    assert_eq!(
        availability
            .replace_rule(&teacher, teacher.user, clash)
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    assert_eq!(availability.rules()[0], later, "a refused change changes nothing");
    let unknown = rule(9, Weekday::Monday, time!(09:00), time!(10:00), "Asia/Seoul");
    assert_eq!(
        availability
            .replace_rule(&teacher, teacher.user, unknown)
            .unwrap_err()
            .code(),
        "not_found"
    );

    availability.remove_rule(&teacher, teacher.user, later.id()).unwrap();
    assert_eq!(availability.rules(), &[afternoon]);
    assert_eq!(
        availability
            .remove_rule(&teacher, teacher.user, later.id())
            .unwrap_err()
            .code(),
        "not_found"
    );
}

/// What a booked time locks and loads (`day_reach`) holds every slot that
/// could collide with it: the longest lesson starting at the day's last
/// minute, with the longest buffers on both lessons, meets a slot starting
/// up to `MAX_LESSON_LENGTH + 2 × MAX_BUFFER` later, on the next day.
#[test]
fn the_reach_of_a_booked_time_covers_a_lesson_running_into_the_next_day() {
    use tutorbook_domain::{MAX_BUFFER, MAX_LESSON_LENGTH, day_reach};
    for name in ["Asia/Seoul", "America/New_York", "Australia/Lord_Howe"] {
        let z = zone(name);
        for day in [date!(2030 - 01 - 10), date!(2030 - 03 - 09), date!(2030 - 11 - 02)] {
            let last_minute = z.resolve_lenient(day.with_time(time!(23:59))).unwrap();
            let (from, to) = day_reach(z, last_minute);
            let farthest_meeting = last_minute + MAX_LESSON_LENGTH + MAX_BUFFER + MAX_BUFFER;
            assert!(
                farthest_meeting < to,
                "{name} {day}: {farthest_meeting} not before {to}"
            );
            let first_minute = z.resolve_lenient(day.midnight()).unwrap();
            let earliest_meeting = first_minute - MAX_BUFFER - MAX_BUFFER;
            assert!(
                from <= earliest_meeting,
                "{name} {day}: {from} after {earliest_meeting}"
            );
        }
    }
}
