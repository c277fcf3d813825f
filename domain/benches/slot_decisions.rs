//! How long the booking decisions take: they run under the slot's row lock,
//! so they must stay far below a store round trip.
//!
//! `cargo bench -p tutorbook-domain` measures; `cargo bench -p tutorbook-domain -- --test`
//! runs each benchmark once as a smoke test.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, BookingId, BookingPolicy, LessonWindow, Meeting, PlatformSettings, Slot, SlotDraft, SlotId, UserId, Zone,
};
use uuid::Uuid;

const NOW: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);
const START: OffsetDateTime = datetime!(2026-12-04 10:00 UTC);
const LESSON: Duration = Duration::minutes(50);

fn teacher() -> Actor {
    Actor::teacher(UserId::from_uuid(Uuid::from_u128(0x7EAC)))
}

fn student(n: u128) -> Actor {
    Actor::student(UserId::from_uuid(Uuid::from_u128(0x5700_0000 + n)))
}

fn booking(n: u128) -> BookingId {
    BookingId::from_uuid(Uuid::from_u128(0xB000_0000 + n))
}

fn draft(start: OffsetDateTime, capacity: u32) -> SlotDraft {
    SlotDraft {
        teacher: teacher().user,
        window: LessonWindow::new(start, start + LESSON).expect("valid window"),
        zone: Zone::default_zone(),
        capacity,
        meeting: Meeting::default(),
        package_session: None,
        waitlist: None,
    }
}

fn open(n: u128, start: OffsetDateTime, capacity: u32) -> Slot {
    let id = SlotId::from_uuid(Uuid::from_u128(0x5100_0000 + n));
    let policy = BookingPolicy::default();
    Slot::open(
        id,
        draft(start, capacity),
        &teacher(),
        &[],
        &policy,
        &PlatformSettings::default(),
        NOW,
    )
    .expect("slot opens")
    .0
}

/// A student joins a group slot that already has two of its four seats taken.
fn request_on_group(c: &mut Criterion) {
    let policy = BookingPolicy::default();
    let mut slot = open(1, START, 4);
    for n in 1..=2 {
        slot.request(booking(n), &student(n), &policy, NOW).expect("seat");
    }
    let confirmed = slot.clone().request(booking(3), &student(3), &policy, NOW);
    assert!(confirmed.is_ok(), "the benchmarked request must succeed: {confirmed:?}");
    c.bench_function("slot/request_group", |b| {
        b.iter_batched(
            || slot.clone(),
            |mut slot| {
                let outcome = slot.request(black_box(booking(3)), &student(3), &policy, black_box(NOW));
                black_box((outcome, slot))
            },
            BatchSize::SmallInput,
        )
    });
}

/// The teacher approves one of 20 competing requests on a 1:1 slot; the other 19 are declined.
fn approve_with_competition(c: &mut Criterion) {
    let policy = BookingPolicy::default();
    let mut slot = open(1, START, 1);
    for n in 1..=20 {
        slot.request(booking(n), &student(n), &policy, NOW).expect("request");
    }
    let approved = slot.clone().approve(booking(1), &teacher(), NOW);
    assert_eq!(
        approved.map(|o| o.audit.len()).ok(),
        Some(20),
        "one approval, 19 declines"
    );
    c.bench_function("slot/approve_1on1_20_requests", |b| {
        b.iter_batched(
            || slot.clone(),
            |mut slot| {
                let outcome = slot.approve(black_box(booking(1)), &teacher(), black_box(NOW));
                black_box((outcome, slot))
            },
            BatchSize::SmallInput,
        )
    });
}

/// Opening a slot checks the teacher's existing slots for collisions: 200 of them,
/// none colliding, so every one is looked at.
fn open_against_200(c: &mut Criterion) {
    let policy = BookingPolicy::default()
        .with_buffers(Duration::minutes(10), Duration::minutes(10))
        .expect("valid buffers");
    let settings = PlatformSettings::default();
    let existing: Vec<Slot> = (0..200_u32)
        .map(|n| open(u128::from(n), START + Duration::hours(i64::from(n)), 2))
        .collect();
    // Two hours after the last one, clear of its buffers.
    let free = draft(START + Duration::hours(201), 2);
    let id = SlotId::from_uuid(Uuid::from_u128(0x5100_FFFF));
    let opened = Slot::open(id, free.clone(), &teacher(), &existing, &policy, &settings, NOW);
    assert!(opened.is_ok(), "the benchmarked slot must open: {opened:?}");
    c.bench_function("slot/open_vs_200_slots", |b| {
        b.iter(|| {
            Slot::open(
                id,
                free.clone(),
                &teacher(),
                black_box(&existing),
                &policy,
                &settings,
                black_box(NOW),
            )
        })
    });
}

/// Local wall-clock time to an instant: a plain time, a DST gap and a DST overlap.
fn zone_resolve_strict(c: &mut Criterion) {
    let seoul = Zone::parse("Asia/Seoul").expect("zone");
    let new_york = Zone::parse("America/New_York").expect("zone");
    let plain = datetime!(2026-12-04 19:00);
    let gap = datetime!(2026-03-08 02:30);
    let overlap = datetime!(2026-11-01 01:30);
    assert!(new_york.resolve_strict(plain).is_ok());
    assert_eq!(new_york.resolve_strict(gap).map_err(|e| e.code()), Err("dst_gap"));
    assert_eq!(
        new_york.resolve_strict(overlap).map_err(|e| e.code()),
        Err("dst_ambiguous")
    );
    let mut group = c.benchmark_group("zone/resolve_strict");
    group.bench_function("seoul", |b| b.iter(|| seoul.resolve_strict(black_box(plain))));
    group.bench_function("new_york", |b| b.iter(|| new_york.resolve_strict(black_box(plain))));
    group.bench_function("new_york_gap", |b| b.iter(|| new_york.resolve_strict(black_box(gap))));
    group.bench_function("new_york_overlap", |b| {
        b.iter(|| new_york.resolve_strict(black_box(overlap)))
    });
    group.finish();
}

criterion_group!(
    benches,
    request_on_group,
    approve_with_competition,
    open_against_200,
    zone_resolve_strict
);
criterion_main!(benches);
