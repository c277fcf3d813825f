//! A load run against the stores through the use cases: many students
//! booking many slots at once, then everyone racing for the same seats. It
//! prints throughput and latency percentiles per store; `scripts/bench` runs
//! it with a throwaway Postgres (set `TUTORBOOK_TEST_DATABASE_URL` to run it
//! by hand). Figures go to `docs/performance.md`.

mod common;

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use time::Duration;
use tutorbook_domain::{Actor, Meeting, PlatformSettings, UserId, Zone};
use tutorbook_memory::MemoryStore;
use tutorbook_ports::{
    BookingStore, Bookings, OpenSlot, PolicyStore, SystemClock, UnitOfWork, UserStore, UuidV7, WaitlistChoice,
};
use uuid::Uuid;

const TEACHERS: u128 = 20;
const SLOTS_PER_TEACHER: i64 = 25;
const CAPACITY: u32 = 4;
const WORKERS: usize = 32;

fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

fn percentile(sorted: &[StdDuration], p: f64) -> StdDuration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn run<S: BookingStore + PolicyStore + UserStore + UnitOfWork + Clone + 'static>(name: &str, store: S) {
    let bookings = Bookings::new(store, SystemClock, UuidV7, PlatformSettings::default());
    let start = tutorbook_ports::Clock::now(&SystemClock) + Duration::days(2);
    let mut slots = Vec::new();
    let opened = Instant::now();
    for t in 0..TEACHERS {
        for s in 0..SLOTS_PER_TEACHER {
            let at = start + Duration::hours(s);
            let input = OpenSlot {
                teacher: user(t),
                start: at,
                end: at + Duration::minutes(50),
                zone: Zone::default_zone(),
                capacity: CAPACITY,
                meeting: Meeting::default(),
                waitlist: WaitlistChoice::TeacherDefault,
            };
            slots.push(
                bookings
                    .open_slot(&Actor::teacher(user(t)), input)
                    .await
                    .expect("slot opens")
                    .id(),
            );
        }
    }
    let open_rate = slots.len() as f64 / opened.elapsed().as_secs_f64();

    // Every seat of every slot requested once, by WORKERS concurrent clients.
    let jobs: Vec<_> = slots
        .iter()
        .flat_map(|slot| (0..CAPACITY as u128).map(move |seat| (*slot, seat)))
        .enumerate()
        .map(|(i, (slot, _))| (slot, user(0x1_0000 + i as u128)))
        .collect();
    let jobs = Arc::new(jobs);
    let bookings = Arc::new(bookings);
    let begun = Instant::now();
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (jobs, bookings) = (jobs.clone(), bookings.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for (slot, student) in jobs.iter().skip(w).step_by(WORKERS) {
                let t = Instant::now();
                bookings
                    .request(&Actor::student(*student), *slot)
                    .await
                    .expect("seat is free");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await.expect("worker"));
    }
    let elapsed = begun.elapsed();
    latencies.sort();

    // Everyone racing for one full slot's seats: 64 requests on a fresh slot of 4.
    let race_slot = {
        let at = start + Duration::days(3);
        let input = OpenSlot {
            teacher: user(0xFFFF),
            start: at,
            end: at + Duration::minutes(50),
            zone: Zone::default_zone(),
            capacity: CAPACITY,
            meeting: Meeting::default(),
            waitlist: WaitlistChoice::TeacherDefault,
        };
        bookings
            .open_slot(&Actor::teacher(user(0xFFFF)), input)
            .await
            .expect("slot")
            .id()
    };
    let raced = Instant::now();
    let racers: Vec<_> = (0..64u128)
        .map(|i| {
            let bookings = bookings.clone();
            tokio::spawn(async move { bookings.request(&Actor::student(user(0x9_0000 + i)), race_slot).await })
        })
        .collect();
    let mut won = 0;
    for r in racers {
        won += usize::from(r.await.expect("racer").is_ok());
    }
    let race_time = raced.elapsed();
    assert_eq!(won, CAPACITY as usize);

    println!(
        "| {name} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} |",
        open_rate,
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        race_time.as_secs_f64() * 1e3,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    println!(
        "{} slots ({} teachers), {} seat requests by {WORKERS} concurrent clients, then 64 racing for 4 seats\n",
        TEACHERS as i64 * SLOTS_PER_TEACHER,
        TEACHERS,
        TEACHERS as i64 * SLOTS_PER_TEACHER * i64::from(CAPACITY)
    );
    println!("| store | slots opened/s | requests/s | p50 ms | p99 ms | max ms | 64-racer run ms |");
    println!("|---|---|---|---|---|---|---|");
    run("memory", MemoryStore::new()).await;

    let (sqlite, dir) = common::sqlite("load").await;
    run("sqlite", sqlite).await;
    let _ = std::fs::remove_dir_all(&dir);

    match common::postgres("load").await {
        Some(pg) => run("postgres", pg).await,
        None => println!("| postgres | skipped: no TUTORBOOK_TEST_DATABASE_URL | | | | | |"),
    }
}
