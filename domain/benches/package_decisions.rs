//! How long the package decisions take: schedule generation (zone
//! conversions per session), the refund quote, and an all-or-nothing
//! enrollment into 22 sessions, which runs while the store holds the package
//! and every session slot locked.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use time::OffsetDateTime;
use time::macros::{date, datetime, time};
use tutorbook_domain::{
    Actor, BookingId, BookingPolicy, BookingStatus, ClassType, CoursePackage, Currency, EnrolledSession, Enrollment,
    EnrollmentId, EnrollmentIds, EnrollmentTerms, Locale, Money, PackageDetails, PackageId, PackageSchedule,
    PackageSessionId, PaymentId, PlatformSettings, PricingConfig, Recurrence, SlotId, UserId, Zone, refund_quote,
};
use uuid::Uuid;

const NOW: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);

fn schedule(zone: &str, count: u32) -> PackageSchedule {
    PackageSchedule::new(
        date!(2027 - 03 - 01),
        time!(19:00),
        Zone::parse(zone).unwrap(),
        Recurrence::Weekdays,
        count,
    )
    .expect("valid schedule")
}

fn schedules(c: &mut Criterion) {
    let seoul = Zone::parse("Asia/Seoul").unwrap();
    let new_york = Zone::parse("America/New_York").unwrap();
    c.bench_function("package/schedule_22_sessions_seoul", |b| {
        b.iter(|| {
            PackageSchedule::new(
                date!(2027 - 03 - 01),
                time!(19:00),
                seoul,
                Recurrence::Weekdays,
                black_box(22),
            )
        })
    });
    c.bench_function("package/schedule_22_sessions_new_york_across_dst", |b| {
        b.iter(|| {
            PackageSchedule::new(
                date!(2027 - 03 - 01),
                time!(19:00),
                new_york,
                Recurrence::Weekdays,
                black_box(22),
            )
        })
    });
}

fn quotes(c: &mut Criterion) {
    let sessions: Vec<EnrolledSession> = schedule("Asia/Seoul", 22)
        .sessions()
        .iter()
        .map(|w| EnrolledSession {
            start: w.start(),
            status: BookingStatus::Confirmed,
        })
        .collect();
    let paid = Money::new(880_000, Currency::KRW).unwrap();
    let at = sessions[10].start;
    c.bench_function("package/refund_quote_22_sessions", |b| {
        b.iter(|| refund_quote(paid, NOW, black_box(&sessions), 22, at))
    });
}

fn enrollment(c: &mut Criterion) {
    let teacher = Actor::teacher(UserId::from_uuid(Uuid::from_u128(0x7EAC)));
    let settings = PlatformSettings::default();
    let details = PackageDetails {
        title: "Sprint".into(),
        description: String::new(),
        class_type: ClassType::Group,
        capacity: 4,
        schedule: schedule("Asia/Seoul", 22),
        policy: None,
    };
    let package = CoursePackage::create(
        PackageId::from_uuid(Uuid::from_u128(1)),
        teacher.user,
        details,
        &teacher,
        &settings,
        NOW,
    )
    .unwrap();
    let ids: Vec<(SlotId, PackageSessionId)> = (0..22u128)
        .map(|i| (Uuid::from_u128(0x100 + i).into(), Uuid::from_u128(0x200 + i).into()))
        .collect();
    let (slots, _) = package
        .open_session_slots(&ids, &teacher, &[], &BookingPolicy::default(), &settings, NOW)
        .unwrap();
    let student = Actor::student(UserId::from_uuid(Uuid::from_u128(0x5700)));
    let terms = EnrollmentTerms {
        actor: student,
        locale: Locale::Ko,
        currency: Currency::KRW,
        pricing: PricingConfig::default(),
        promotions: Vec::new(),
        stub_payments: true,
    };
    let enrollment_ids = EnrollmentIds {
        enrollment: EnrollmentId::from_uuid(Uuid::from_u128(0xE)),
        payment: PaymentId::from_uuid(Uuid::from_u128(0xA)),
        bookings: (0..22u128)
            .map(|i| BookingId::from_uuid(Uuid::from_u128(0xB00 + i)))
            .collect(),
    };
    c.bench_function("package/enroll_22_sessions", |b| {
        b.iter_batched(
            || slots.clone(),
            |mut slots| Enrollment::enroll(enrollment_ids.clone(), &package, &mut slots, false, &terms, NOW),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, schedules, quotes, enrollment);
criterion_main!(benches);
