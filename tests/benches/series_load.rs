//! A load run of recurring series (docs/series.md) through the use case:
//! students book 52 weekly 1:1 lessons in one command each, on a teacher's
//! empty schedule and again on a schedule that already holds 52 lessons an
//! hour earlier. It prints latency per store; `scripts/bench` runs it with a
//! throwaway Postgres (set `TUTORBOOK_TEST_DATABASE_URL` to run it by
//! hand). Figures go to `docs/performance.md`; nothing here is asserted on
//! time.

mod common;

use std::time::{Duration as StdDuration, Instant};

use time::{Duration, Time, Weekday};
use tutorbook_domain::{
    Actor, BookingPolicy, Frequency, Locale, PlatformSettings, Role, RuleDraft, SeriesDraft, SeriesEnd, SeriesMode,
    UserId, Zone,
};
use tutorbook_memory::MemoryStore;
use tutorbook_ports::{
    AvailabilityStore, BookingStore, PolicyStore, Schedules, SeriesStore, SystemClock, UnitOfWork, User, UserStore,
    UuidV7,
};
use uuid::Uuid;

/// Teachers, each booked twice (two students, an hour apart).
const TEACHERS: u128 = 20;

fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

fn ms(d: StdDuration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn run<S>(name: &str, store: S)
where
    S: AvailabilityStore + BookingStore + PolicyStore + UserStore + SeriesStore + UnitOfWork + Clone + 'static,
{
    let schedules = Schedules::new(store.clone(), SystemClock, UuidV7, PlatformSettings::default());
    let new_york = Zone::parse("America/New_York").expect("zone");
    let now = tutorbook_ports::Clock::now(&SystemClock);
    // The Monday after tomorrow, in New York.
    let tomorrow = new_york.to_local(now).date() + Duration::days(1);
    let first = tomorrow + Duration::days(i64::from(7 - tomorrow.weekday().number_days_from_monday()) % 7);
    let policy = BookingPolicy::default()
        .with_default_length(Duration::hours(1))
        .and_then(|p| p.with_max_advance(Duration::days(400)))
        .expect("policy")
        .with_approval(false, false);
    let mut empty = Vec::new();
    let mut busy = Vec::new();
    for t in 0..TEACHERS {
        let teacher = user(t + 1);
        store
            .create_user(User {
                id: teacher,
                subject: format!("bench:teacher:{t}"),
                role: Role::Teacher,
                display_name: "Teacher".into(),
                email: None,
                zone: new_york,
                locale: Locale::En,
                created_at: now,
            })
            .await
            .expect("teacher");
        store.set_policy(teacher, policy).await.expect("policy");
        let rule = RuleDraft {
            weekday: Weekday::Monday,
            start: Time::from_hms(16, 0, 0).expect("time"),
            end: Time::from_hms(19, 0, 0).expect("time"),
            zone: new_york,
            valid_from: None,
            valid_until: None,
            active: true,
        };
        schedules
            .set_rules(&Actor::teacher(teacher), teacher, vec![rule])
            .await
            .expect("rules");
        for (hour, latencies) in [(16, &mut empty), (17, &mut busy)] {
            let draft = SeriesDraft {
                frequency: Frequency::Weekly,
                interval: 1,
                weekdays: Vec::new(),
                first,
                time: Time::from_hms(hour, 0, 0).expect("time"),
                end: SeriesEnd::Count(52),
            };
            let student = Actor::student(user(0x1_0000 + t * 2 + u128::from(hour)));
            let begun = Instant::now();
            let answer = schedules
                .book_series(&student, teacher, draft, SeriesMode::AllOrNothing)
                .await
                .expect("the series books");
            latencies.push(begun.elapsed());
            assert_eq!(answer.occurrences.len(), 52);
        }
    }
    for latencies in [&mut empty, &mut busy] {
        latencies.sort();
    }
    println!(
        "| {name} | {:.1} | {:.1} | {:.1} | {:.1} |",
        ms(empty[empty.len() / 2]),
        ms(*empty.last().expect("runs")),
        ms(busy[busy.len() / 2]),
        ms(*busy.last().expect("runs")),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!(
        "{TEACHERS} teachers; per teacher one series of 52 weekly lessons on an empty schedule, then one beside it\n"
    );
    println!("| store | empty p50 ms | empty max ms | beside 52 p50 ms | beside 52 max ms |");
    println!("|---|---|---|---|---|");
    run("memory", MemoryStore::new()).await;

    let (sqlite, dir) = common::sqlite("series").await;
    run("sqlite", sqlite).await;
    let _ = std::fs::remove_dir_all(&dir);

    match common::postgres("series").await {
        Some(pg) => run("postgres", pg).await,
        None => println!("| postgres | skipped: no TUTORBOOK_TEST_DATABASE_URL | | | |"),
    }
}
