//! How long bookable times take (docs/performance.md): a student's month
//! view and the booking check both compute them, the latter under the
//! teacher's lock.
//!
//! `cargo bench -p tutorbook-domain --bench bookable_times` measures;
//! add `-- --test` to run each benchmark once as a smoke test.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use time::macros::{datetime, time};
use time::{Duration, OffsetDateTime, Weekday};
use tutorbook_domain::{
    Availability, BookableQuery, BookingPolicy, BusySlot, DateException, ExceptionDraft, ExceptionId, ExceptionKind,
    LessonWindow, RuleDraft, RuleId, WeeklyRule, Zone, bookable_times,
};
use uuid::Uuid;

const FROM: OffsetDateTime = datetime!(2027-03-01 00:00 UTC);
const NOW: OffsetDateTime = datetime!(2027-02-28 00:00 UTC);

fn zone() -> Zone {
    Zone::parse("America/New_York").expect("zone")
}

/// Monday to Friday, 09:00 to 17:00 in New York (the range crosses the
/// March DST change), and 20 one-day exceptions.
fn availability() -> Availability {
    let rules = (0..5)
        .map(|day| {
            WeeklyRule::new(
                RuleId::from_uuid(Uuid::from_u128(day + 1)),
                RuleDraft {
                    weekday: Weekday::Monday.nth_next(day as u8),
                    start: time!(09:00),
                    end: time!(17:00),
                    zone: zone(),
                    valid_from: None,
                    valid_until: None,
                    active: true,
                },
            )
            .expect("rule")
        })
        .collect();
    let exceptions = (0..20)
        .map(|n| {
            let day = (FROM + Duration::days(4 * n)).date();
            DateException::new(
                ExceptionId::from_uuid(Uuid::from_u128(100 + n as u128)),
                ExceptionDraft {
                    kind: ExceptionKind::DayOff,
                    from: day,
                    until: day,
                    hours: (n % 2 == 0).then_some((time!(12:00), time!(14:00))),
                    zone: zone(),
                    note: String::new(),
                },
            )
            .expect("exception")
        })
        .collect();
    Availability::restore(rules, exceptions)
}

/// `n` busy 50-minute slots spread over the 90 days.
fn busy(n: i32) -> Vec<BusySlot> {
    let step = Duration::days(90) / n;
    (0..n)
        .map(|i| {
            let start = FROM + step * i;
            BusySlot {
                window: LessonWindow::new(start, start + Duration::minutes(50)).expect("window"),
                active_bookings: 1,
            }
        })
        .collect()
}

fn policy() -> BookingPolicy {
    BookingPolicy::default()
        .with_buffers(Duration::minutes(10), Duration::minutes(10))
        .and_then(|p| p.with_max_advance(Duration::days(120)))
        .and_then(|p| p.with_daily_limit(Some(6)))
        .expect("policy")
}

fn query(days: i64) -> BookableQuery {
    BookableQuery {
        from: FROM,
        to: FROM + Duration::days(days),
        length: Duration::minutes(50),
        now: NOW,
    }
}

fn bench(c: &mut Criterion) {
    let prepared = availability();
    let policy = policy();
    for n in [200, 20_000] {
        let busy = busy(n);
        c.bench_function(&format!("bookable times, 1 teacher x 90 days, {n} busy"), |b| {
            b.iter(|| bookable_times(black_box(&prepared), black_box(&busy), &policy, zone(), query(90)))
        });
    }
    let teachers: Vec<(Availability, Vec<BusySlot>)> = (0..1_000).map(|_| (availability(), busy(30))).collect();
    c.bench_function("bookable times, 1000 teachers x 14 days", |b| {
        b.iter(|| {
            teachers
                .iter()
                .map(|(a, busy)| bookable_times(black_box(a), black_box(busy), &policy, zone(), query(14)).len())
                .sum::<usize>()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
