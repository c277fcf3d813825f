//! Properties of bookable times over random rules, exceptions, busy slots,
//! policies and ranges in zones with DST changes (docs/availability.md).

use proptest::prelude::*;
use time::macros::datetime;
use time::{Date, Duration, OffsetDateTime, Time, Weekday};
use tutorbook_domain::{
    Availability, Bookable, BookableQuery, BookingPolicy, BusySlot, DateException, ExceptionDraft, ExceptionId,
    ExceptionKind, LessonWindow, RuleDraft, RuleId, WeeklyRule, Zone,
};
use uuid::Uuid;

const ZONES: [&str; 6] = [
    "UTC",
    "America/New_York",
    "Europe/Paris",
    "Australia/Lord_Howe",
    "Asia/Seoul",
    "America/Santiago",
];

/// Around the 2027 DST changes of the zones above.
const EPOCH: OffsetDateTime = datetime!(2027-03-01 00:00 UTC);

fn zone() -> impl Strategy<Value = Zone> {
    prop::sample::select(ZONES.to_vec()).prop_map(|z| Zone::parse(z).unwrap())
}

fn quarter_time() -> impl Strategy<Value = Time> {
    (0u8..24, prop::sample::select(vec![0u8, 15, 30, 45])).prop_map(|(h, m)| Time::from_hms(h, m, 0).unwrap())
}

fn date() -> impl Strategy<Value = Date> {
    (0i64..280).prop_map(|d| (EPOCH + Duration::days(d)).date())
}

fn rule() -> impl Strategy<Value = WeeklyRule> {
    (
        0u8..7,
        quarter_time(),
        30i64..=720,
        zone(),
        prop::option::of(date()),
        prop::option::of(0i64..120),
    )
        .prop_map(|(day, start, minutes, zone, valid_from, span)| {
            let end = start + Duration::minutes(minutes);
            let weekday = Weekday::Monday.nth_next(day);
            let valid_until = valid_from.zip(span).map(|(from, span)| from + Duration::days(span));
            WeeklyRule::new(
                RuleId::from_uuid(Uuid::new_v4()),
                RuleDraft {
                    weekday,
                    start,
                    end,
                    zone,
                    valid_from,
                    valid_until,
                    active: true,
                },
            )
            .unwrap()
        })
}

fn exception() -> impl Strategy<Value = DateException> {
    (
        prop::sample::select(ExceptionKind::ALL.to_vec()),
        date(),
        0i64..4,
        prop::option::of((quarter_time(), 15i64..300)),
        zone(),
    )
        .prop_filter_map("hours within the day", |(kind, from, days, hours, zone)| {
            let hours = match hours {
                Some((start, minutes)) => {
                    let end = start + Duration::minutes(minutes);
                    if end <= start {
                        return None;
                    }
                    Some((start, end))
                }
                None if kind == ExceptionKind::ExtraHours => return None,
                None => None,
            };
            DateException::new(
                ExceptionId::from_uuid(Uuid::new_v4()),
                ExceptionDraft {
                    kind,
                    from,
                    until: from + Duration::days(days),
                    hours,
                    zone,
                    note: String::new(),
                },
            )
            .ok()
        })
}

fn busy() -> impl Strategy<Value = BusySlot> {
    (0i64..280 * 96, 1i64..16, 0u32..3).prop_map(|(quarter, quarters, bookings)| {
        let start = EPOCH + Duration::minutes(15 * quarter);
        BusySlot {
            window: LessonWindow::new(start, start + Duration::minutes(15 * quarters)).unwrap(),
            active_bookings: bookings,
        }
    })
}

fn policy() -> impl Strategy<Value = BookingPolicy> {
    (
        prop::sample::select(vec![30i64, 45, 50, 60, 90]),
        0i64..=60,
        0i64..=60,
        prop::option::of(1u32..4),
        0i64..=48,
    )
        .prop_map(|(length, before, after, limit, notice)| {
            BookingPolicy::default()
                .with_default_length(Duration::minutes(length))
                .unwrap()
                .with_buffers(Duration::minutes(before), Duration::minutes(after))
                .unwrap()
                .with_daily_limit(limit)
                .unwrap()
                .with_min_notice(Duration::hours(notice))
                .unwrap()
                .with_max_advance(Duration::days(200))
                .unwrap()
        })
}

#[derive(Debug, Clone)]
struct Case {
    availability: Availability,
    busy: Vec<BusySlot>,
    policy: BookingPolicy,
    day_zone: Zone,
    query: BookableQuery,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(rule(), 0..6),
        prop::collection::vec(exception(), 0..6),
        prop::collection::vec(busy(), 0..30),
        policy(),
        zone(),
        0i64..250 * 24,
        1i64..=14 * 24,
        0i64..60 * 24,
    )
        .prop_map(
            |(rules, exceptions, busy, policy, day_zone, from_hour, hours, now_hour)| {
                let from = EPOCH + Duration::hours(from_hour);
                Case {
                    availability: Availability::restore(rules, exceptions),
                    busy,
                    day_zone,
                    query: BookableQuery {
                        from,
                        to: from + Duration::hours(hours),
                        length: policy.default_length(),
                        now: EPOCH + Duration::hours(now_hour),
                    },
                    policy,
                }
            },
        )
}

fn times(case: &Case, from: OffsetDateTime, to: OffsetDateTime) -> Vec<OffsetDateTime> {
    let query = BookableQuery { from, to, ..case.query };
    Bookable::prepare(&case.availability, &case.busy, &case.policy, case.day_zone, query).times()
}

/// The resolved `[start, end)` of every rule window and extra-hours span
/// that could hold a lesson of the case.
fn offered(case: &Case) -> Vec<(OffsetDateTime, OffsetDateTime)> {
    let mut out = Vec::new();
    let first = (case.query.from - Duration::days(2)).date();
    let last = (case.query.to + Duration::days(2)).date();
    for rule in case.availability.rules() {
        let mut date = first;
        while date <= last {
            if rule.applies_on(date) {
                let (start, end) = rule.local_window(date).unwrap();
                out.push((rule.zone().resolve_bound(start), rule.zone().resolve_bound(end)));
            }
            date = date.next_day().unwrap();
        }
    }
    for exception in case.availability.exceptions() {
        if exception.draft().kind.adds_hours() {
            let zone = exception.draft().zone;
            for (start, end) in exception.local_spans(first, last) {
                out.push((zone.resolve_bound(start), zone.resolve_bound(end)));
            }
        }
    }
    out
}

fn blocked(case: &Case) -> Vec<(OffsetDateTime, OffsetDateTime)> {
    let first = (case.query.from - Duration::days(2)).date();
    let last = (case.query.to + Duration::days(2)).date();
    case.availability
        .exceptions()
        .iter()
        .filter(|e| !e.draft().kind.adds_hours())
        .flat_map(|e| {
            let zone = e.draft().zone;
            e.local_spans(first, last)
                .map(move |(start, end)| (zone.resolve_bound(start), zone.resolve_bound(end)))
                .collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn results_are_sorted_unique_and_in_range(case in case()) {
        let got = times(&case, case.query.from, case.query.to);
        prop_assert!(got.windows(2).all(|w| w[0] < w[1]), "sorted and unique: {got:?}");
        prop_assert!(got.iter().all(|t| *t >= case.query.from && *t < case.query.to));
        prop_assert!(got.iter().all(|t| *t > case.query.now && *t >= case.query.now + case.policy.min_notice()));
    }

    #[test]
    fn no_result_meets_a_busy_slot_buffers_included(case in case()) {
        let b = case.policy.buffers();
        let length = case.query.length;
        for t in times(&case, case.query.from, case.query.to) {
            let lesson = LessonWindow::new(t, t + length).unwrap();
            for busy in &case.busy {
                prop_assert!(!lesson.collides_with(&busy.window, b), "{t} meets {busy:?}");
            }
        }
    }

    #[test]
    fn every_result_lies_inside_an_offered_window(case in case()) {
        let windows = offered(&case);
        let length = case.query.length;
        for t in times(&case, case.query.from, case.query.to) {
            prop_assert!(
                windows.iter().any(|(start, end)| *start <= t && t + length <= *end),
                "{t} lies in no window"
            );
        }
    }

    #[test]
    fn nothing_falls_on_an_exception(case in case()) {
        let blocks = blocked(&case);
        let length = case.query.length;
        for t in times(&case, case.query.from, case.query.to) {
            prop_assert!(blocks.iter().all(|(start, end)| !(t < *end && *start < t + length)), "{t} is on an exception");
        }
    }

    #[test]
    fn a_range_equals_its_split_parts(case in case(), cut in 0.0f64..1.0) {
        let (from, to) = (case.query.from, case.query.to);
        let mid = from + (to - from) * cut;
        let mut parts = times(&case, from, mid);
        parts.extend(times(&case, mid, to));
        prop_assert_eq!(times(&case, from, to), parts);
    }

    #[test]
    fn check_agrees_with_times(case in case(), probe in 0i64..14 * 24 * 4) {
        let offered = times(&case, case.query.from, case.query.to);
        let prepared = Bookable::prepare(&case.availability, &case.busy, &case.policy, case.day_zone, case.query);
        for t in &offered {
            prop_assert_eq!(prepared.check(*t), Ok(()), "{} is offered", t);
        }
        let t = case.query.from + Duration::minutes(15 * probe);
        if t < case.query.to {
            prop_assert_eq!(prepared.check(t).is_ok(), offered.contains(&t), "{}", t);
        }
    }
}
