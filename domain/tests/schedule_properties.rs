//! Properties of package schedules over many zones, dates, times and
//! recurrences: an accepted schedule has exactly the sessions asked for, each
//! at the requested wall-clock time on a day of the recurrence, none skipped,
//! strictly increasing; a refused one is refused for the right reason, and a
//! DST refusal names the first session date whose local time does not exist
//! or is ambiguous.

use proptest::prelude::*;
use std::sync::OnceLock;
use time::macros::{date, time};
use time::{Date, Duration, PrimitiveDateTime, Time};
use tutorbook_domain::{MAX_SPAN_DAYS, PackageSchedule, Recurrence, SESSION_LENGTH, Zone};

/// Zones with and without DST, with gaps at midnight (Havana), half-hour
/// shifts (Lord Howe), southern-hemisphere rules, and 2026 rule changes (Vancouver).
const ZONES: &[&str] = &[
    "Asia/Seoul",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "America/Havana",
    "America/Vancouver",
    "Africa/Cairo",
    "Asia/Kolkata",
];

/// The session dates, computed day by day: the first `count` days from `start` in the recurrence.
fn expected_dates(start: Date, recurrence: Recurrence, count: u32) -> Vec<Date> {
    let mut dates = Vec::new();
    let mut day = start;
    while dates.len() < count as usize {
        if recurrence.includes(day.weekday()) {
            dates.push(day);
        }
        day = day.next_day().unwrap();
    }
    dates
}

/// First day of the dates the properties look at.
const FIRST_DAY: Date = date!(2025 - 01 - 01);
const DAYS: i64 = 6 * 365;

fn inputs() -> impl Strategy<Value = (Date, Time, Zone, Recurrence, u32)> {
    (
        0i64..DAYS,
        // DST changes happen at night: favour those hours.
        prop_oneof![0u8..24, 0u8..4],
        prop_oneof![Just(0u8), Just(30), 0u8..60],
        prop::sample::select(ZONES),
        prop::sample::select(Recurrence::ALL.to_vec()),
        // Up to 13 sessions always fit in 30 days; beyond, some recurrences do not.
        prop_oneof![1u32..=13, 1u32..=29],
    )
        .prop_map(|(day, hour, minute, zone, recurrence, count)| {
            (
                FIRST_DAY + Duration::days(day),
                Time::from_hms(hour, minute, 0).unwrap(),
                Zone::parse(zone).unwrap(),
                recurrence,
                count,
            )
        })
}

/// Every local time at a quarter hour that a DST change skips or repeats in
/// one of [`ZONES`] during the period, found by scanning the zone data (not
/// remembered by hand): the days whose noon offset differs from the day before.
fn dst_problems() -> &'static [(Zone, Date, Time)] {
    static PROBLEMS: OnceLock<Vec<(Zone, Date, Time)>> = OnceLock::new();
    PROBLEMS.get_or_init(|| {
        let noon_offset = |zone: Zone, day: Date| {
            let at = zone.resolve_lenient(PrimitiveDateTime::new(day, time!(12:00))).unwrap();
            zone.to_local(at).offset()
        };
        let mut found = Vec::new();
        for zone in ZONES.iter().map(|z| Zone::parse(z).unwrap()) {
            for day in (1..DAYS).map(|d| FIRST_DAY + Duration::days(d)) {
                if noon_offset(zone, day) == noon_offset(zone, day - Duration::days(1)) {
                    continue;
                }
                // The change happens the night before noon, or the evening before (at midnight).
                for d in [day - Duration::days(1), day] {
                    for minutes in (0..24 * 60).step_by(15) {
                        let t = Time::MIDNIGHT + Duration::minutes(minutes);
                        if zone.resolve_strict(PrimitiveDateTime::new(d, t)).is_err() {
                            found.push((zone, d, t));
                        }
                    }
                }
            }
        }
        found
    })
}

/// A schedule starting up to two weeks before a skipped or repeated local time, at that time.
fn inputs_near_dst() -> impl Strategy<Value = (Date, Time, Zone, Recurrence, u32)> {
    (
        prop::sample::select(dst_problems()),
        0i64..14,
        prop::sample::select(Recurrence::ALL.to_vec()),
        1u32..=13,
    )
        .prop_map(|((zone, day, at), before, recurrence, count)| {
            (day - Duration::days(before), at, zone, recurrence, count)
        })
}

/// The properties of one schedule request; see the module documentation.
fn check(start: Date, at: Time, zone: Zone, recurrence: Recurrence, count: u32) -> Result<(), TestCaseError> {
    let dates = expected_dates(start, recurrence, count);
    let (first, last) = (dates[0], dates[dates.len() - 1]);
    match PackageSchedule::new(start, at, zone, recurrence, count) {
        Ok(schedule) => {
            let sessions = schedule.sessions();
            prop_assert_eq!(sessions.len(), count as usize);
            prop_assert_eq!(schedule.session_count(), count);
            prop_assert!((last - first).whole_days() < MAX_SPAN_DAYS);
            for (window, expected) in sessions.iter().zip(&dates) {
                let local = zone.to_local(window.start());
                prop_assert_eq!(local.time(), at);
                prop_assert_eq!(local.date(), *expected);
                prop_assert!(recurrence.includes(local.weekday()));
                prop_assert_eq!(window.duration(), SESSION_LENGTH);
            }
            for pair in sessions.windows(2) {
                prop_assert!(pair[0].end() <= pair[1].start(), "{:?} then {:?}", pair[0], pair[1]);
            }
        }
        Err(error) => match error.code() {
            "package_span_too_long" => prop_assert!((last - first).whole_days() >= MAX_SPAN_DAYS),
            code @ ("dst_gap" | "dst_ambiguous") => {
                prop_assert!((last - first).whole_days() < MAX_SPAN_DAYS);
                // The first date whose local time cannot be resolved is the one named.
                let offending = dates.iter().find_map(|d| {
                    zone.resolve_strict(PrimitiveDateTime::new(*d, at))
                        .err()
                        .map(|e| (*d, e))
                });
                let Some((date, first_error)) = offending else {
                    return Err(TestCaseError::fail(format!("refused without a DST problem: {error}")));
                };
                prop_assert_eq!(first_error.code(), code);
                prop_assert!(
                    error.to_string().contains(&date.to_string()),
                    "{} does not name {}",
                    error,
                    date
                );
            }
            other => prop_assert!(false, "unexpected refusal {}: {}", other, error),
        },
    }
    Ok(())
}

#[test]
fn the_zone_data_has_gaps_and_overlaps_to_test() {
    let problems = dst_problems();
    let new_york = Zone::parse("America/New_York").unwrap();
    assert!(problems.contains(&(new_york, date!(2026 - 03 - 08), time!(02:30))));
    assert!(problems.contains(&(new_york, date!(2026 - 11 - 01), time!(01:30))));
    assert!(!problems.iter().any(|(zone, ..)| zone.name() == "Asia/Seoul"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn schedules_keep_the_wall_clock_time_asked_for((start, at, zone, recurrence, count) in inputs()) {
        check(start, at, zone, recurrence, count)?;
    }

    #[test]
    fn dst_refusals_name_the_first_offending_date((start, at, zone, recurrence, count) in inputs_near_dst()) {
        check(start, at, zone, recurrence, count)?;
    }
}
