//! Enrollment (docs/product.md §8) and refund execution (docs/product.md §10): all or nothing,
//! every refusal with its code and nothing changed, the best promotion
//! applied, and a refund that releases exactly the seats from `t + 24h` on.

mod common;

use common::{NOW, TEACHER, policy, settings, slot_at, slot_id, staff, student, teacher, user};
use time::macros::{date, datetime, time};
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, Attendance, BookingPolicy, BookingSource, BookingStatus, ClassType, CoursePackage, Currency, Discount,
    DomainError, DomainEvent, Enrolled, Enrollment, EnrollmentId, EnrollmentIds, EnrollmentStatus, EnrollmentTerms,
    Locale, Money, PackageDetails, PackageId, PackageSchedule, PackageSessionId, PaymentId, PaymentProvider,
    PaymentStatus, PaymentTarget, Percent, PricingConfig, Promotion, PromotionId, PromotionScope, Recurrence, Refund,
    RefundBasis, RefundId, Slot, SlotId, Zone,
};
use uuid::Uuid;

/// Mon 2026-12-07, Wed 12-09, Fri 12-11, Mon 12-14, all 19:00 Seoul (10:00 UTC).
fn package(capacity: u32) -> CoursePackage {
    package_with(capacity, None)
}

/// [`package`] with its own booking policy.
fn package_with(capacity: u32, own: Option<BookingPolicy>) -> CoursePackage {
    let schedule = PackageSchedule::new(
        date!(2026 - 12 - 07),
        time!(19:00),
        Zone::parse("Asia/Seoul").unwrap(),
        Recurrence::Mwf,
        4,
    )
    .unwrap();
    let details = PackageDetails {
        title: "Exam sprint".into(),
        description: String::new(),
        class_type: ClassType::Group,
        capacity,
        schedule,
        policy: own,
    };
    CoursePackage::create(
        PackageId::from_uuid(Uuid::from_u128(0xFAC)),
        user(TEACHER),
        details,
        &teacher(),
        &settings(),
        NOW,
    )
    .unwrap()
}

fn session_ids(n: usize) -> Vec<(SlotId, PackageSessionId)> {
    (0..n as u128)
        .map(|i| {
            (
                slot_id(0x100 + i),
                PackageSessionId::from_uuid(Uuid::from_u128(0x5E55_0000 + i)),
            )
        })
        .collect()
}

fn opened(package: &CoursePackage) -> Vec<Slot> {
    package
        .open_session_slots(&session_ids(4), &teacher(), &[], &policy(), &settings(), NOW)
        .unwrap()
        .0
}

fn ids(n: u128) -> EnrollmentIds {
    EnrollmentIds {
        enrollment: EnrollmentId::from_uuid(Uuid::from_u128(0xE000 + n)),
        payment: PaymentId::from_uuid(Uuid::from_u128(0xAA00 + n)),
        bookings: (0..4).map(|i| common::booking_id(n * 100 + i)).collect(),
    }
}

fn terms(actor: Actor) -> EnrollmentTerms {
    EnrollmentTerms {
        actor,
        locale: Locale::Ko,
        currency: Currency::parse("KRW").unwrap(),
        pricing: PricingConfig::default(),
        promotions: Vec::new(),
        stub_payments: true,
    }
}

fn won(minor: i64) -> Money {
    Money::new(minor, Currency::parse("KRW").unwrap()).unwrap()
}

fn enroll(p: &CoursePackage, slots: &mut [Slot], n: u128) -> Result<Enrolled, DomainError> {
    Enrollment::enroll(ids(n), p, slots, false, &terms(student(n)), NOW)
}

#[track_caller]
fn assert_refused(
    p: &CoursePackage,
    slots: &mut [Slot],
    code: &str,
    run: impl FnOnce(&CoursePackage, &mut [Slot]) -> Result<Enrolled, DomainError>,
) {
    let before = slots.to_vec();
    let error = run(p, slots).expect_err("should be refused");
    assert_eq!(error.code(), code, "refused with the wrong error: {error}");
    assert_eq!(slots, &before[..], "a refused enrollment changed the slots");
}

#[test]
fn package_slots_are_marked_sessions_at_the_package_times() {
    let p = package(2);
    let slots = opened(&p);
    assert_eq!(slots.len(), 4);
    for (slot, window) in slots.iter().zip(p.sessions()) {
        assert_eq!(slot.window(), *window);
        assert!(slot.package_session().is_some());
        assert_eq!(slot.capacity().get(), 2);
        assert!(!slot.is_browsable(NOW), "package slots never appear in browse");
    }
    assert_eq!(slots[0].window().start(), datetime!(2026-12-07 10:00 UTC));
    assert_eq!(slots[3].window().start(), datetime!(2026-12-14 10:00 UTC));
}

#[test]
fn a_package_colliding_with_another_slot_of_the_teacher_is_refused() {
    let p = package(2);
    let other = slot_at(slot_id(1), datetime!(2026-12-09 10:30 UTC), 1);
    let error = p
        .open_session_slots(&session_ids(4), &teacher(), &[other], &policy(), &settings(), NOW)
        .unwrap_err();
    assert_eq!(error.code(), "slot_overlap");
    let stranger = Actor::teacher(user(0xBAD));
    let error = p
        .open_session_slots(&session_ids(4), &stranger, &[], &policy(), &settings(), NOW)
        .unwrap_err();
    assert_eq!(error.code(), "forbidden");
}

#[test]
fn enrolling_confirms_every_session_and_settles_the_stub_payment() {
    let p = package(2);
    let mut slots = opened(&p);
    let enrolled = enroll(&p, &mut slots, 1).unwrap();

    assert_eq!(enrolled.enrollment.status(), EnrollmentStatus::Active);
    assert_eq!(enrolled.enrollment.student(), student(1).user);
    for (slot, booking) in slots.iter().zip(&ids(1).bookings) {
        let b = slot.booking(*booking).unwrap();
        assert_eq!(b.status(), BookingStatus::Confirmed);
        assert_eq!(b.source(), BookingSource::Package(ids(1).enrollment));
        assert_eq!(slot.booked_count(), 1);
    }
    let payment = &enrolled.payment;
    assert_eq!(payment.target(), PaymentTarget::Enrollment(ids(1).enrollment));
    assert_eq!(payment.base_amount(), won(80_000), "4 group sessions at 20,000 KRW");
    assert_eq!(payment.amount(), won(80_000));
    assert_eq!(payment.status(), PaymentStatus::Paid);
    assert_eq!(payment.provider(), PaymentProvider::Toss);
    assert!(payment.is_stub());
    assert_eq!(payment.paid_at(), Some(NOW));
    let confirmed = enrolled
        .outcome
        .events
        .iter()
        .filter(|e| matches!(e, DomainEvent::BookingConfirmed { .. }))
        .count();
    assert_eq!(confirmed, 4);
    assert!(
        enrolled
            .outcome
            .events
            .iter()
            .any(|e| matches!(e, DomainEvent::Enrolled { .. }))
    );
    assert!(
        enrolled
            .outcome
            .events
            .iter()
            .any(|e| matches!(e, DomainEvent::PaymentSettled { .. }))
    );
    assert_eq!(enrolled.outcome.audit.len(), 4);
}

#[test]
fn the_best_promotion_applies_and_english_speakers_pay_with_stripe() {
    let p = package(2);
    let mut slots = opened(&p);
    let window = (NOW - Duration::days(1), NOW + Duration::days(1));
    let promo = |n: u128, discount: Discount, scope: PromotionScope| {
        Promotion::new(
            PromotionId::from_uuid(Uuid::from_u128(n)),
            discount,
            scope,
            window.0,
            window.1,
            true,
        )
        .unwrap()
    };
    let mut t = terms(student(1));
    t.locale = Locale::En;
    t.promotions = vec![
        promo(1, Discount::Percent(Percent::new(10).unwrap()), PromotionScope::Package),
        promo(2, Discount::Fixed(won(15_000)), PromotionScope::All),
        promo(3, Discount::Percent(Percent::new(50).unwrap()), PromotionScope::Single),
    ];
    let enrolled = Enrollment::enroll(ids(1), &p, &mut slots, false, &t, NOW).unwrap();
    assert_eq!(enrolled.payment.base_amount(), won(80_000));
    assert_eq!(
        enrolled.payment.amount(),
        won(65_000),
        "15,000 off beats 10% (8,000); single-only promotions don't apply"
    );
    assert_eq!(
        enrolled.payment.promotion(),
        Some(PromotionId::from_uuid(Uuid::from_u128(2)))
    );
    assert_eq!(enrolled.payment.provider(), PaymentProvider::Stripe);
}

#[test]
fn live_payments_leave_the_enrollment_pending_with_its_seats_held() {
    let p = package(2);
    let mut slots = opened(&p);
    let mut t = terms(student(1));
    t.stub_payments = false;
    let enrolled = Enrollment::enroll(ids(1), &p, &mut slots, false, &t, NOW).unwrap();
    assert_eq!(enrolled.enrollment.status(), EnrollmentStatus::Pending);
    assert_eq!(enrolled.payment.status(), PaymentStatus::Pending);
    assert_eq!(enrolled.payment.checkout_url(), None);
    assert!(slots.iter().all(|s| s.booked_count() == 1));
}

#[test]
fn every_enrollment_refusal_has_its_code_and_changes_nothing() {
    let p = package(2);
    let mut slots = opened(&p);

    assert_refused(&p, &mut slots, "own_package", |p, s| {
        Enrollment::enroll(ids(9), p, s, false, &terms(teacher()), NOW)
    });
    assert_refused(&p, &mut slots, "already_enrolled", |p, s| {
        Enrollment::enroll(ids(1), p, s, true, &terms(student(1)), NOW)
    });
    assert_refused(&p, &mut slots, "package_session_unavailable", |p, s| {
        enroll(p, &mut s[..3], 1)
    });
    assert_refused(&p, &mut slots, "slot_in_past", |p, s| {
        Enrollment::enroll(ids(1), p, s, false, &terms(student(1)), datetime!(2026-12-10 00:00 UTC))
    });

    let mut closed = p.clone();
    closed
        .set_status(tutorbook_domain::PackageStatus::Closed, &teacher())
        .unwrap();
    assert_refused(&closed, &mut slots, "package_not_open", |p, s| enroll(p, s, 1));

    let mut cancelled = slots.clone();
    cancelled[2].cancel_all(&teacher(), &[], &settings(), NOW).unwrap();
    assert_refused(&p, &mut cancelled, "package_session_unavailable", |p, s| {
        enroll(p, s, 1)
    });

    // Two students fill the seats; a third is refused on the first session and
    // nothing of the other sessions is taken.
    enroll(&p, &mut slots, 1).unwrap();
    enroll(&p, &mut slots, 2).unwrap();
    assert_refused(&p, &mut slots, "slot_full", |p, s| enroll(p, s, 3));
    assert!(slots.iter().all(|s| s.booked_count() == 2));
}

#[test]
fn a_student_holding_a_seat_on_one_session_cannot_enroll_again() {
    let p = package(2);
    let mut slots = opened(&p);
    enroll(&p, &mut slots, 1).unwrap();
    assert_refused(&p, &mut slots, "duplicate_booking", |p, s| {
        Enrollment::enroll(ids(5), p, s, false, &terms(student(1)), NOW)
    });
}

fn enrolled(p: &CoursePackage, slots: &mut [Slot]) -> (Enrollment, tutorbook_domain::Payment) {
    let e = enroll(p, slots, 1).unwrap();
    (e.enrollment, e.payment)
}

#[test]
fn a_refund_before_anything_is_consumed_pays_everything_back_and_frees_every_seat() {
    let p = package(2);
    let mut slots = opened(&p);
    let (mut enrollment, mut payment) = enrolled(&p, &mut slots);
    let refund_id = RefundId::from_uuid(Uuid::from_u128(0xF00));

    let (refund, outcome) = enrollment
        .refund(
            refund_id,
            &mut payment,
            &mut slots,
            &[],
            4,
            &student(1),
            NOW + Duration::days(2),
        )
        .unwrap();
    assert_eq!(refund.amount, won(80_000));
    assert_eq!(refund.basis, RefundBasis::Ecommerce);
    assert_eq!(refund.key, format!("enrollment:{}:refund:v1", enrollment.id()));
    assert_eq!(refund.key, Refund::key_for(enrollment.id()));
    assert_eq!(payment.status(), PaymentStatus::Refunded);
    assert_eq!(payment.refunded(), won(80_000));
    assert_eq!(enrollment.status(), EnrollmentStatus::Refunded);
    assert_eq!(enrollment.cancelled_at(), Some(NOW + Duration::days(2)));
    assert!(slots.iter().all(|s| s.booked_count() == 0));
    assert!(
        outcome
            .events
            .iter()
            .any(|e| matches!(e, DomainEvent::EnrollmentRefunded { .. }))
    );
    let released = outcome
        .events
        .iter()
        .filter(|e| matches!(e, DomainEvent::SeatReleased { .. }))
        .count();
    assert_eq!(released, 4);
}

#[test]
fn a_late_refund_keeps_what_was_consumed_and_what_starts_within_a_day() {
    let p = package(2);
    let mut slots = opened(&p);
    let (mut enrollment, mut payment) = enrolled(&p, &mut slots);
    // Session 1 (12-07) taken; asked 12-10 12:00 UTC, so session 3 (12-11 10:00) is within 24 h.
    let first = ids(1).bookings[0];
    slots[0]
        .mark_attendance(
            first,
            Attendance::Completed,
            &teacher(),
            datetime!(2026-12-07 11:00 UTC),
        )
        .unwrap();
    let at: OffsetDateTime = datetime!(2026-12-10 12:00 UTC);
    let quote = enrollment.quote(&payment, &slots, &[], 4, &student(1), at).unwrap();
    // Consumed: session 1 (completed), 2 (12-09, confirmed, started), 3 (within 24 h) → 3 of 4.
    assert_eq!(quote.consumed(), 3);
    assert_eq!(quote.amount(), won(20_000));

    let (refund, _) = enrollment
        .refund(
            RefundId::from_uuid(Uuid::from_u128(1)),
            &mut payment,
            &mut slots,
            &[],
            4,
            &staff(),
            at,
        )
        .unwrap();
    assert_eq!(refund.amount, won(20_000));
    assert_eq!(refund.basis, RefundBasis::Prorata);
    assert_eq!(payment.status(), PaymentStatus::PartiallyRefunded);
    assert_eq!(enrollment.status(), EnrollmentStatus::PartiallyRefunded);
    let statuses: Vec<_> = slots
        .iter()
        .zip(&ids(1).bookings)
        .map(|(s, b)| s.booking(*b).unwrap().status())
        .collect();
    assert_eq!(
        statuses,
        vec![
            BookingStatus::Completed,
            BookingStatus::Confirmed,
            BookingStatus::Confirmed,
            BookingStatus::Cancelled
        ]
    );
    assert_eq!(slots[3].booked_count(), 0);
}

#[test]
fn a_refund_runs_once_and_only_for_the_student_or_staff() {
    let p = package(2);
    let mut slots = opened(&p);
    let (mut enrollment, mut payment) = enrolled(&p, &mut slots);
    let id = RefundId::from_uuid(Uuid::from_u128(1));

    let before = (enrollment.clone(), payment.clone(), slots.clone());
    let error = enrollment
        .refund(id, &mut payment, &mut slots, &[], 4, &student(2), NOW)
        .unwrap_err();
    assert_eq!(error.code(), "forbidden");
    let error = enrollment
        .refund(id, &mut payment, &mut slots, &[], 4, &teacher(), NOW)
        .unwrap_err();
    assert_eq!(error.code(), "forbidden");
    assert_eq!((enrollment.clone(), payment.clone(), slots.clone()), before);

    enrollment
        .refund(id, &mut payment, &mut slots, &[], 4, &student(1), NOW)
        .unwrap();
    let after = (enrollment.clone(), payment.clone(), slots.clone());
    let error = enrollment
        .refund(id, &mut payment, &mut slots, &[], 4, &student(1), NOW)
        .unwrap_err();
    assert_eq!(error.code(), "invalid_payment_status");
    assert_eq!((enrollment, payment, slots), after);
}

#[test]
fn a_pending_enrollment_cannot_be_refunded() {
    let p = package(2);
    let mut slots = opened(&p);
    let mut t = terms(student(1));
    t.stub_payments = false;
    let Enrolled {
        mut enrollment,
        mut payment,
        ..
    } = Enrollment::enroll(ids(1), &p, &mut slots, false, &t, NOW).unwrap();
    let error = enrollment
        .refund(
            RefundId::from_uuid(Uuid::from_u128(1)),
            &mut payment,
            &mut slots,
            &[],
            4,
            &student(1),
            NOW,
        )
        .unwrap_err();
    assert_eq!(error.code(), "invalid_payment_status");
}

#[test]
fn stub_settlement_is_idempotent_and_only_for_stub_payments() {
    let p = package(2);
    let mut slots = opened(&p);
    let mut t = terms(student(1));
    t.stub_payments = false;
    let mut live = Enrollment::enroll(ids(1), &p, &mut slots, false, &t, NOW)
        .unwrap()
        .payment;
    assert_eq!(live.settle_stub(NOW).unwrap_err().code(), "not_a_stub_payment");

    let mut stub = enroll(&p, &mut slots, 2).unwrap().payment;
    assert_eq!(stub.status(), PaymentStatus::Paid);
    let before = stub.clone();
    assert!(
        stub.settle_stub(NOW + Duration::hours(1)).unwrap().is_none(),
        "a second completion changes nothing"
    );
    assert_eq!(stub, before);
    assert_eq!(
        stub.checkout_url(),
        Some(format!("stub://checkout/{}", stub.id()).as_str())
    );
}

#[test]
fn a_single_lesson_checkout_uses_the_class_rate_and_single_promotions() {
    let mut group = slot_at(slot_id(1), datetime!(2026-12-04 10:00 UTC), 3);
    let booking = common::confirm(&mut group, 1);
    let window = (NOW - Duration::days(1), NOW + Duration::days(1));
    let promotions = [
        Promotion::new(
            PromotionId::from_uuid(Uuid::from_u128(1)),
            Discount::Percent(Percent::new(25).unwrap()),
            PromotionScope::Single,
            window.0,
            window.1,
            true,
        )
        .unwrap(),
        Promotion::new(
            PromotionId::from_uuid(Uuid::from_u128(2)),
            Discount::Percent(Percent::new(90).unwrap()),
            PromotionScope::Package,
            window.0,
            window.1,
            true,
        )
        .unwrap(),
    ];
    let checkout = |existing: &[tutorbook_domain::Payment], actor: &Actor| {
        tutorbook_domain::Payment::checkout_booking(
            PaymentId::from_uuid(Uuid::from_u128(7)),
            &group,
            booking,
            existing,
            actor,
            Locale::Ko,
            &PricingConfig::default(),
            Currency::KRW,
            &promotions,
            true,
            NOW,
        )
    };
    let payment = checkout(&[], &student(1)).unwrap().expect("a new payment");
    assert_eq!(payment.base_amount(), won(20_000), "the group rate");
    assert_eq!(
        payment.amount(),
        won(15_000),
        "25% single-lesson promotion; the package one does not apply"
    );
    assert_eq!(payment.target(), PaymentTarget::Booking(booking));
    assert_eq!(
        checkout(std::slice::from_ref(&payment), &student(1)).unwrap(),
        None,
        "the pending one stands"
    );
    assert_eq!(checkout(&[], &student(2)).unwrap_err().code(), "not_found");
    let mut paid = payment.clone();
    paid.settle_stub(NOW).unwrap();
    assert_eq!(checkout(&[paid], &student(1)).unwrap_err().code(), "already_paid");
}

#[test]
fn a_refund_that_would_pay_nothing_is_refused_and_keeps_the_seats() {
    let p = package(2);
    let mut slots = opened(&p);
    let (mut enrollment, mut payment) = enrolled(&p, &mut slots);
    // Every session has started by then: all consumed, nothing goes back.
    let late = datetime!(2026-12-14 11:00 UTC);
    let before = (enrollment.clone(), payment.clone(), slots.clone());
    let error = enrollment
        .refund(
            RefundId::from_uuid(Uuid::from_u128(1)),
            &mut payment,
            &mut slots,
            &[],
            4,
            &student(1),
            late,
        )
        .unwrap_err();
    assert_eq!(error.code(), "nothing_to_refund");
    assert_eq!((enrollment, payment, slots), before);
}

// ----- a package's own policy -----

#[test]
fn a_packages_own_notice_and_advance_bound_enrolling_counted_to_the_first_session() {
    // The first session is Mon 2026-12-07 10:00 UTC: 6 days and an hour after NOW.
    let notice = |days| BookingPolicy::default().with_min_notice(Duration::days(days)).unwrap();
    let advance = |days| BookingPolicy::default().with_max_advance(Duration::days(days)).unwrap();
    for (own, code) in [(notice(7), "min_notice"), (advance(5), "max_advance")] {
        let p = package_with(2, Some(own));
        let mut slots = opened(&p);
        assert_refused(&p, &mut slots, code, |p, s| enroll(p, s, 1));
    }
    let p = package_with(2, Some(notice(6)));
    let mut slots = opened(&p);
    assert!(enroll(&p, &mut slots, 1).is_ok());
    // Without its own policy, the teacher's does not bound enrolling: buying is the request.
    let p = package(2);
    let mut slots = opened(&p);
    assert!(enroll(&p, &mut slots, 1).is_ok());
}

#[test]
fn a_packages_own_buffers_keep_its_sessions_apart() {
    // A teacher slot at 11:00 UTC on the first session's day, ten minutes after it ends.
    let other = slot_at(slot_id(0x77), datetime!(2026-12-07 11:00 UTC), 1);
    let wide = BookingPolicy::default()
        .with_buffers(Duration::ZERO, Duration::minutes(30))
        .unwrap();
    let own = package_with(2, Some(wide));
    let teachers = policy();
    let refused = own
        .open_session_slots(
            &session_ids(4),
            &teacher(),
            std::slice::from_ref(&other),
            &own.session_policy(&teachers),
            &settings(),
            NOW,
        )
        .unwrap_err();
    assert_eq!(refused.code(), "slot_overlap");
    let plain = package(2);
    assert_eq!(
        plain.session_policy(&teachers),
        teachers,
        "no own policy: the teacher's"
    );
    assert!(
        plain
            .open_session_slots(
                &session_ids(4),
                &teacher(),
                &[other],
                &plain.session_policy(&teachers),
                &settings(),
                NOW
            )
            .is_ok()
    );
}
