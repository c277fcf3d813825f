//! Course packages on every store (docs/product.md §8–10): creation with its slots
//! (idempotent, overlap-checked), revision and deletion while nobody
//! enrolled, all-or-nothing enrollment with the best promotion, refunds
//! executed once, and the races the store must win.

use std::collections::BTreeMap;

use time::macros::{date, datetime, time};
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, BookingPolicy, BookingSource, BookingStatus, ClassType, Currency, Discount, EnrollmentStatus, Locale, Money,
    PackageDetails, PackageSchedule, PackageStatus, PaymentProvider, PaymentStatus, Percent, PricingConfig, Promotion,
    PromotionScope, Recurrence, RefundBasis, SessionRates, Slot, UserId, Zone,
};
use tutorbook_ports::{EnrollmentView, PackageView, Packages, PaymentSettings, UuidV7};

use crate::backends::Store;
use crate::conformance;
use crate::world::{OTHER_TEACHER, STAFF, TEACHER, World, code, race, student, tally};

/// First session: Monday 2030-01-14 19:00 in Seoul (10:00 UTC); Mon/Wed/Fri.
const FIRST: OffsetDateTime = datetime!(2030-01-14 10:00 UTC);

fn details(capacity: u32, sessions: u32) -> PackageDetails {
    PackageDetails {
        title: "IELTS speaking sprint".into(),
        description: "Mock interviews.".into(),
        class_type: if capacity == 1 {
            ClassType::OneOnOne
        } else {
            ClassType::Group
        },
        capacity,
        schedule: PackageSchedule::new(
            date!(2030 - 01 - 14),
            time!(19:00),
            Zone::parse("Asia/Seoul").unwrap(),
            Recurrence::Mwf,
            sessions,
        )
        .unwrap(),
        policy: None,
    }
}

fn won(minor: i64) -> Money {
    Money::new(minor, Currency::KRW).unwrap()
}

async fn create<S: Store>(w: &World<S>, capacity: u32) -> PackageView {
    w.packages
        .create(&Actor::teacher(TEACHER), TEACHER, details(capacity, 4), None)
        .await
        .expect("package is created")
}

async fn enroll<S: Store>(w: &World<S>, package: &PackageView, n: u128) -> EnrollmentView {
    w.packages
        .enroll(&Actor::student(student(n)), package.package.id(), Locale::Ko)
        .await
        .expect("enrollment succeeds")
}

async fn slots_of<S: Store>(w: &World<S>, package: &PackageView) -> Vec<Slot> {
    w.store
        .package(package.package.id())
        .await
        .unwrap()
        .expect("package exists")
        .slots
}

async fn a_package_opens_one_slot_per_session_once<S: Store>(store: S) {
    let w = World::new(store);
    let teacher = Actor::teacher(TEACHER);
    let first = w
        .packages
        .create(&teacher, TEACHER, details(3, 4), Some("create-1".into()))
        .await
        .unwrap();
    let retry = w
        .packages
        .create(&teacher, TEACHER, details(3, 4), Some("create-1".into()))
        .await
        .unwrap();
    assert_eq!(
        retry.package.id(),
        first.package.id(),
        "a retried creation returns the first package"
    );
    assert_eq!(w.packages.teacher_packages(&teacher, TEACHER).await.unwrap().len(), 1);

    let starts: Vec<_> = first.slots.iter().map(|s| s.window().start()).collect();
    assert_eq!(
        starts,
        vec![
            FIRST,
            FIRST + Duration::days(2),
            FIRST + Duration::days(4),
            FIRST + Duration::days(7)
        ]
    );
    for slot in &first.slots {
        assert!(slot.package_session().is_some());
        assert_eq!(slot.capacity().get(), 3);
        assert_eq!(w.store.slot(slot.id()).await.unwrap().as_ref(), Some(slot));
    }
    let kinds = w.kinds_after(0).await;
    assert_eq!(kinds[0], "package_created");
    assert_eq!(kinds.iter().filter(|k| **k == "slot_opened").count(), 4);

    // Package slots stay out of single booking and browse.
    let slot = first.slots[0].id();
    assert_eq!(
        code(w.bookings.request(&Actor::student(student(1)), slot).await),
        "package_slot"
    );
    let browsable = w
        .store
        .open_slots(FIRST - Duration::days(1), FIRST + Duration::days(30), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.is_browsable(w.clock_now()))
        .count();
    assert_eq!(browsable, 0);

    // Listed for students, not for its own teacher.
    let listed = w.packages.open_packages(Some(student(1)), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(w.packages.open_packages(Some(TEACHER), 10).await.unwrap().is_empty());
    // A teacher's own (earlier) packages never crowd others out of their page.
    let mut evening = details(2, 4);
    evening.schedule = PackageSchedule::new(
        date!(2030 - 01 - 20),
        time!(22:00),
        Zone::parse("Asia/Seoul").unwrap(),
        Recurrence::Mwf,
        4,
    )
    .unwrap();
    w.packages.create(&teacher, TEACHER, evening, None).await.unwrap();
    let mut later = details(2, 4);
    later.schedule = PackageSchedule::new(
        date!(2030 - 01 - 28),
        time!(19:00),
        Zone::parse("Asia/Seoul").unwrap(),
        Recurrence::Mwf,
        4,
    )
    .unwrap();
    w.packages
        .create(&Actor::teacher(OTHER_TEACHER), OTHER_TEACHER, later, None)
        .await
        .unwrap();
    let page = w.packages.open_packages(Some(TEACHER), 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].package.teacher(), OTHER_TEACHER);
}

async fn a_package_colliding_with_the_teachers_slot_is_refused_whole<S: Store>(store: S) {
    let w = World::new(store);
    w.open(TEACHER, FIRST + Duration::days(2) + Duration::minutes(30), 1)
        .await;
    let refused = w
        .packages
        .create(&Actor::teacher(TEACHER), TEACHER, details(3, 4), None)
        .await;
    assert_eq!(code(refused), "slot_overlap");
    assert!(
        w.packages
            .teacher_packages(&Actor::teacher(TEACHER), TEACHER)
            .await
            .unwrap()
            .is_empty()
    );
    let slots = w
        .store
        .teacher_slots(TEACHER, FIRST - Duration::days(1), FIRST + Duration::days(30))
        .await
        .unwrap();
    assert_eq!(slots.len(), 1, "no session slot was left behind");
    // Another teacher's slot at the same time does not collide.
    w.open(OTHER_TEACHER, FIRST, 1).await;
    let refused_again = w
        .packages
        .create(&Actor::teacher(TEACHER), TEACHER, details(3, 4), None)
        .await;
    assert_eq!(code(refused_again), "slot_overlap");
}

async fn revising_and_deleting_a_package_nobody_joined<S: Store>(store: S) {
    let w = World::new(store);
    let teacher = Actor::teacher(TEACHER);
    let created = create(&w, 3).await;
    let id = created.package.id();

    let mut later = details(3, 5);
    later.schedule = PackageSchedule::new(
        date!(2030 - 01 - 15),
        time!(20:00),
        Zone::parse("Asia/Seoul").unwrap(),
        Recurrence::Tts,
        5,
    )
    .unwrap();
    let revised = w.packages.revise(&teacher, id, later).await.unwrap();
    assert_eq!(revised.slots.len(), 5);
    assert_eq!(revised.slots[0].window().start(), datetime!(2030-01-15 11:00 UTC));
    for old in &created.slots {
        assert_eq!(
            w.store.slot(old.id()).await.unwrap(),
            None,
            "old session slots are gone"
        );
    }

    // Same schedule, new title: the slots stay.
    let mut retitled = details(3, 5);
    retitled.schedule = revised.package.schedule().clone();
    retitled.title = "Renamed".into();
    let kept = w.packages.revise(&teacher, id, retitled).await.unwrap();
    assert_eq!(kept.package.title(), "Renamed");
    assert_eq!(kept.slots, revised.slots);

    let closed = w
        .packages
        .set_status(&teacher, id, PackageStatus::Closed)
        .await
        .unwrap();
    assert_eq!(closed.package.status(), PackageStatus::Closed);
    assert!(w.packages.open_packages(None, 10).await.unwrap().is_empty());
    assert_eq!(
        code(w.packages.package(Some(&Actor::student(student(1))), id).await),
        "not_found",
        "a closed package is visible to its teacher only"
    );
    assert_eq!(
        code(w.packages.delete(&Actor::teacher(OTHER_TEACHER), id).await),
        "not_found",
        "a closed package does not exist for another teacher"
    );

    w.packages.delete(&teacher, id).await.unwrap();
    assert_eq!(w.store.package(id).await.unwrap(), None);
    for slot in &revised.slots {
        assert_eq!(w.store.slot(slot.id()).await.unwrap(), None);
    }
    assert_eq!(code(w.packages.delete(&teacher, id).await), "not_found");
}

async fn enrollment_takes_every_session_and_locks_the_package<S: Store>(store: S) {
    let w = World::new(store);
    let package = create(&w, 2).await;
    let id = package.package.id();
    let view = enroll(&w, &package, 1).await;

    assert_eq!(view.enrollment.status(), EnrollmentStatus::Active);
    assert_eq!(view.payment.status(), PaymentStatus::Paid);
    assert_eq!(view.payment.amount(), won(80_000));
    assert_eq!(view.payment.provider(), PaymentProvider::Toss);
    for slot in slots_of(&w, &package).await {
        assert_eq!(slot.booked_count(), 1);
        let booking = &slot.bookings()[0];
        assert_eq!(booking.status(), BookingStatus::Confirmed);
        assert_eq!(booking.source(), BookingSource::Package(view.enrollment.id()));
    }
    assert_eq!(
        w.store.enrollment(view.enrollment.id()).await.unwrap().as_ref(),
        Some(&view)
    );
    assert_eq!(
        w.packages.my_enrollments(&Actor::student(student(1))).await.unwrap(),
        vec![view.clone()]
    );
    let teacher = Actor::teacher(TEACHER);
    assert_eq!(w.packages.package_enrollments(&teacher, id).await.unwrap().len(), 1);
    assert_eq!(
        code(w.packages.package_enrollments(&Actor::student(student(1)), id).await),
        "forbidden"
    );
    assert_eq!(
        code(
            w.packages
                .enrollment(&Actor::student(student(2)), view.enrollment.id())
                .await
        ),
        "not_found"
    );

    let again = w.packages.enroll(&Actor::student(student(1)), id, Locale::Ko).await;
    assert_eq!(code(again), "already_enrolled");
    let seat = slots_of(&w, &package).await[0].bookings()[0].id();
    assert_eq!(
        code(
            w.packages
                .checkout_booking(&Actor::student(student(1)), seat, Locale::Ko)
                .await
        ),
        "package_slot",
        "a package seat is paid by its enrollment"
    );
    let own = w.packages.enroll(&teacher, id, Locale::Ko).await;
    assert_eq!(code(own), "own_package");
    assert_eq!(
        code(w.packages.revise(&teacher, id, details(2, 4)).await),
        "package_has_students"
    );
    assert_eq!(code(w.packages.delete(&teacher, id).await), "package_has_students");

    // A cancelled session makes the package unavailable for new students.
    let slots = slots_of(&w, &package).await;
    w.clock.advance(Duration::hours(1));
    w.bookings
        .cancel_slot(&teacher, slots[3].id())
        .await
        .expect("teacher cancels a session");
    let late = w.packages.enroll(&Actor::student(student(2)), id, Locale::En).await;
    assert_eq!(code(late), "package_session_unavailable");
}

async fn the_best_promotion_and_the_configured_rates_apply<S: Store>(store: S) {
    let w = World::new(store);
    let staff = Actor::staff(STAFF);
    let usd = SessionRates::new(
        Money::new(3_000, Currency::USD).unwrap(),
        Money::new(1_500, Currency::USD).unwrap(),
    );
    let krw = SessionRates::new(won(50_000), won(25_000)).unwrap();
    let config = PricingConfig::new(vec![krw, usd.unwrap()]).unwrap();
    assert_eq!(
        code(w.packages.set_pricing(&Actor::teacher(TEACHER), config.clone()).await),
        "forbidden"
    );
    w.packages.set_pricing(&staff, config.clone()).await.unwrap();
    assert_eq!(w.packages.pricing().await.unwrap(), config);

    let now = w.clock_now();
    let promo = |discount, scope| {
        Promotion::new(
            w.packages.new_promotion_id(),
            discount,
            scope,
            now - Duration::days(1),
            now + Duration::days(30),
            true,
        )
        .unwrap()
    };
    let ten_percent = promo(Discount::Percent(Percent::new(10).unwrap()), PromotionScope::Package);
    let fifteen_k = promo(Discount::Fixed(won(15_000)), PromotionScope::All);
    let single_only = promo(Discount::Percent(Percent::new(90).unwrap()), PromotionScope::Single);
    for p in [ten_percent, fifteen_k, single_only] {
        w.packages.save_promotion(&staff, p).await.unwrap();
    }
    assert_eq!(
        code(w.packages.promotions(&Actor::student(student(1))).await),
        "forbidden"
    );
    assert_eq!(w.packages.promotions(&staff).await.unwrap().len(), 3);

    let package = create(&w, 2).await;
    let view = w
        .packages
        .enroll(&Actor::student(student(1)), package.package.id(), Locale::En)
        .await
        .unwrap();
    assert_eq!(
        view.payment.base_amount(),
        won(100_000),
        "4 group sessions at the configured 25,000 KRW"
    );
    assert_eq!(
        view.payment.amount(),
        won(85_000),
        "15,000 off beats 10% off; single-only doesn't apply"
    );
    assert_eq!(view.payment.promotion(), Some(fifteen_k.id()));
    assert_eq!(view.payment.provider(), PaymentProvider::Stripe);

    w.packages.delete_promotion(&staff, fifteen_k.id()).await.unwrap();
    assert_eq!(
        code(w.packages.delete_promotion(&staff, fifteen_k.id()).await),
        "not_found"
    );
    assert_eq!(w.packages.promotions(&staff).await.unwrap().len(), 2);
}

async fn a_refund_releases_future_seats_and_runs_once<S: Store>(store: S) {
    let w = World::new(store);
    let package = create(&w, 2).await;
    let view = enroll(&w, &package, 1).await;
    let me = Actor::student(student(1));
    let id = view.enrollment.id();

    // Two days before the first session, within the cooling-off period: everything back.
    let quote = w.packages.refund_quote(&me, id).await.unwrap();
    assert_eq!(quote.amount(), won(80_000));
    assert_eq!(quote.basis(), RefundBasis::Ecommerce);
    assert_eq!(
        code(w.packages.refund_quote(&Actor::student(student(2)), id).await),
        "not_found"
    );

    let refund = w.packages.refund(&me, id).await.unwrap();
    assert_eq!(refund.amount, won(80_000));
    assert_eq!(refund.key, format!("enrollment:{id}:refund:v1"));
    let again = w.packages.refund(&me, id).await.unwrap();
    assert_eq!(again, refund, "a second execution returns the first refund");
    // Another student does not see the enrollment; its teacher does, but
    // may not refund it.
    for (other, expected) in [
        (Actor::student(student(2)), "not_found"),
        (Actor::teacher(TEACHER), "forbidden"),
    ] {
        assert_eq!(
            code(w.packages.refund(&other, id).await),
            expected,
            "a retry never shows the refund to someone else"
        );
    }

    let after = w.store.enrollment(id).await.unwrap().unwrap();
    assert_eq!(after.enrollment.status(), EnrollmentStatus::Refunded);
    assert!(after.enrollment.cancelled_at().is_some());
    assert_eq!(after.payment.status(), PaymentStatus::Refunded);
    assert_eq!(after.payment.refunded(), won(80_000));
    for slot in slots_of(&w, &package).await {
        assert_eq!(slot.booked_count(), 0);
        assert_eq!(slot.bookings()[0].status(), BookingStatus::Cancelled);
    }
    assert_eq!(w.store.refund_of(id).await.unwrap(), Some(refund));
    assert!(w.kinds_after(0).await.contains(&"enrollment_refunded"));
    // The freed seats are open again.
    enroll(&w, &package, 2).await;
}

async fn a_late_refund_keeps_consumed_sessions<S: Store>(store: S) {
    let w = World::new(store);
    let package = create(&w, 2).await;
    let view = enroll(&w, &package, 1).await;
    let slots = slots_of(&w, &package).await;
    let teacher = Actor::teacher(TEACHER);
    // After the first session: completed. Ask the refund the evening before session 3.
    w.clock.set(FIRST + Duration::hours(1));
    let first = slots[0].bookings()[0].id();
    w.bookings
        .mark_attendance(&teacher, first, tutorbook_domain::Attendance::Completed)
        .await
        .unwrap();
    w.clock.set(FIRST + Duration::days(3) + Duration::hours(12));
    let refund = w
        .packages
        .refund(&Actor::student(student(1)), view.enrollment.id())
        .await
        .unwrap();
    // Consumed: 1 completed, 2 started, 3 within 24 h → 1 of 4 remaining.
    assert_eq!(refund.amount, won(20_000));
    let statuses: Vec<_> = slots_of(&w, &package)
        .await
        .iter()
        .map(|s| s.bookings()[0].status())
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
    let after = w.store.enrollment(view.enrollment.id()).await.unwrap().unwrap();
    assert_eq!(after.payment.status(), PaymentStatus::PartiallyRefunded);
    assert_eq!(after.enrollment.status(), EnrollmentStatus::PartiallyRefunded);
}

async fn live_payments_stay_pending_and_stub_completion_is_refused<S: Store>(store: S) {
    let w = World::new(store.clone());
    let live = Packages::new(
        store,
        w.clock.clone(),
        UuidV7,
        tutorbook_domain::PlatformSettings::default(),
        PaymentSettings {
            stub: false,
            ..PaymentSettings::default()
        },
    );
    let package = create(&w, 2).await;
    let me = Actor::student(student(1));
    let view = live.enroll(&me, package.package.id(), Locale::Ko).await.unwrap();
    assert_eq!(view.enrollment.status(), EnrollmentStatus::Pending);
    assert_eq!(view.payment.status(), PaymentStatus::Pending);
    assert_eq!(
        code(live.settle_stub(&me, view.payment.id()).await),
        "not_a_stub_payment"
    );
    assert_eq!(
        code(live.refund(&me, view.enrollment.id()).await),
        "invalid_payment_status"
    );
    assert_eq!(
        code(live.settle_stub(&Actor::student(student(2)), view.payment.id()).await),
        "not_found"
    );

    let stub = enroll(&w, &package, 2).await;
    let settled = w
        .packages
        .settle_stub(&Actor::student(student(2)), stub.payment.id())
        .await
        .unwrap();
    assert_eq!(
        settled, stub.payment,
        "settling a paid stub payment again changes nothing"
    );
}

async fn sixteen_students_racing_for_four_package_seats<S: Store>(store: S) {
    let w = World::new(store);
    let package = create(&w, 4).await;
    let id = package.package.id();
    let results = race(16, |i| {
        let packages = w.packages.clone();
        async move {
            packages
                .enroll(&Actor::student(student(i as u128)), id, Locale::Ko)
                .await
        }
    })
    .await;

    assert_eq!(tally(&results), BTreeMap::from([("ok", 4), ("slot_full", 12)]));
    let winners: Vec<UserId> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|v| v.enrollment.student())
        .collect();
    for slot in slots_of(&w, &package).await {
        assert_eq!(slot.booked_count(), 4);
        assert_eq!(
            slot.bookings().len(),
            4,
            "a refused enrollment leaves no booking behind"
        );
        assert!(slot.bookings().iter().all(|b| winners.contains(&b.student())));
    }
    assert_eq!(w.store.package_enrollments(id).await.unwrap().len(), 4);
}

async fn two_refunds_racing_for_one_enrollment<S: Store>(store: S) {
    let w = World::new(store);
    let package = create(&w, 2).await;
    let view = enroll(&w, &package, 1).await;
    let id = view.enrollment.id();
    let results = race(2, |_| {
        let packages = w.packages.clone();
        async move { packages.refund(&Actor::student(student(1)), id).await }
    })
    .await;
    let refunds: Vec<_> = results.into_iter().map(|r| r.expect("both calls answer")).collect();
    assert_eq!(refunds[0], refunds[1], "both callers see the one refund");
    let after = w.store.enrollment(id).await.unwrap().unwrap();
    assert_eq!(after.payment.refunded(), won(80_000), "paid back once");
}

async fn a_packages_own_policy_is_kept_and_followed<S: Store>(store: S) {
    let w = World::new(store);
    let teacher = Actor::teacher(TEACHER);
    // A slot of the teacher 20 minutes after the first session ends.
    w.open(TEACHER, FIRST + Duration::minutes(70), 1).await;
    let own = BookingPolicy::default()
        .with_buffers(Duration::ZERO, Duration::minutes(30))
        .unwrap()
        .with_min_notice(Duration::days(9))
        .unwrap();
    let with = |policy| PackageDetails {
        policy: Some(policy),
        ..details(2, 4)
    };
    assert_eq!(
        code(w.packages.create(&teacher, TEACHER, with(own), None).await),
        "slot_overlap",
        "its own 30-minute buffer reaches the teacher's slot"
    );
    let narrower = own.with_buffers(Duration::ZERO, Duration::minutes(15)).unwrap();
    let package = w
        .packages
        .create(&teacher, TEACHER, with(narrower), None)
        .await
        .unwrap();
    let id = package.package.id();
    let stored = w.store.package(id).await.unwrap().unwrap();
    assert_eq!(stored.package.policy(), Some(narrower), "kept as given");
    // Nine days' notice; the first session is eight days away.
    assert_eq!(
        code(w.packages.enroll(&Actor::student(student(1)), id, Locale::Ko).await),
        "min_notice"
    );
    // Back to the teacher's policy, which does not bound enrolling.
    w.packages.revise(&teacher, id, details(2, 4)).await.unwrap();
    let stored = w.store.package(id).await.unwrap().unwrap();
    assert_eq!(stored.package.policy(), None);
    enroll(&w, &stored, 1).await;
}

conformance!(
    a_packages_own_policy_is_kept_and_followed,
    a_package_opens_one_slot_per_session_once,
    a_package_colliding_with_the_teachers_slot_is_refused_whole,
    revising_and_deleting_a_package_nobody_joined,
    enrollment_takes_every_session_and_locks_the_package,
    the_best_promotion_and_the_configured_rates_apply,
    a_refund_releases_future_seats_and_runs_once,
    a_late_refund_keeps_consumed_sessions,
    live_payments_stay_pending_and_stub_completion_is_refused,
    sixteen_students_racing_for_four_package_seats,
    two_refunds_racing_for_one_enrollment,
);

async fn a_single_lesson_is_checked_out_once_and_settled_once<S: Store>(store: S) {
    let w = World::new(store.clone());
    let slot = w.open(TEACHER, FIRST, 1).await;
    let me = Actor::student(student(1));
    let requested = w.request(student(1), &slot).await;
    assert_eq!(
        code(w.packages.checkout_booking(&me, requested.id(), Locale::Ko).await),
        "invalid_booking_status",
        "a request waiting for approval is not paid yet"
    );
    let booking = w
        .bookings
        .approve(&Actor::teacher(TEACHER), requested.id())
        .await
        .unwrap();
    assert_eq!(
        code(
            w.packages
                .checkout_booking(&Actor::student(student(2)), booking.id(), Locale::Ko)
                .await
        ),
        "not_found"
    );

    let booking_id = booking.id();
    let results = race(4, |_| {
        let packages = w.packages.clone();
        async move {
            packages
                .checkout_booking(&Actor::student(student(1)), booking_id, Locale::En)
                .await
        }
    })
    .await;
    let payments: Vec<_> = results.into_iter().map(|r| r.expect("checkout answers")).collect();
    assert!(
        payments.iter().all(|p| *p == payments[0]),
        "retries and racers share one payment"
    );
    let payment = &payments[0];
    assert_eq!(payment.amount(), won(40_000), "the one-to-one rate");
    assert_eq!(payment.provider(), PaymentProvider::Stripe);
    assert_eq!(payment.status(), PaymentStatus::Pending);
    assert_eq!(w.store.booking_payments(booking.id()).await.unwrap().len(), 1);

    let settled = w.packages.settle_stub(&me, payment.id()).await.unwrap();
    assert_eq!(settled.status(), PaymentStatus::Paid);
    assert_eq!(
        w.packages.settle_stub(&me, payment.id()).await.unwrap(),
        settled,
        "idempotent"
    );
    assert_eq!(
        code(w.packages.checkout_booking(&me, booking.id(), Locale::Ko).await),
        "already_paid"
    );

    let disabled = Packages::new(
        store,
        w.clock.clone(),
        UuidV7,
        tutorbook_domain::PlatformSettings::default(),
        PaymentSettings {
            enabled: false,
            ..PaymentSettings::default()
        },
    );
    assert_eq!(
        code(disabled.checkout_booking(&me, booking.id(), Locale::Ko).await),
        "payments_not_available"
    );
}

conformance!(a_single_lesson_is_checked_out_once_and_settled_once);

async fn a_refund_emails_the_student_in_their_language<S: Store>(store: S) {
    use std::sync::Arc;
    use tutorbook_memory::MemoryMailer;
    use tutorbook_ports::effects::{Notifications, OutboxWorker, RetryPolicy};

    let w = World::new(store);
    let package = create(&w, 2).await;
    let view = enroll(&w, &package, 1).await;
    w.packages
        .refund(&Actor::student(student(1)), view.enrollment.id())
        .await
        .unwrap();
    let mailer = MemoryMailer::new();
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), RetryPolicy::default()).with_handler(Arc::new(
        Notifications::new(w.store.clone(), crate::effects::directory(), mailer.clone()),
    ));
    worker.drain().await.expect("the outbox drains");
    let refunds: Vec<_> = mailer
        .sent()
        .into_iter()
        .filter(|e| e.subject.contains("80,000"))
        .collect();
    assert_eq!(refunds.len(), 1, "one refund email: {:?}", mailer.sent());
    assert_eq!(refunds[0].to, "student1@example.com");
    assert!(
        refunds[0].subject.contains("IELTS speaking sprint"),
        "{}",
        refunds[0].subject
    );
    assert!(w.pending().await.is_empty());
}

conformance!(a_refund_emails_the_student_in_their_language);

/// A teacher-cancelled package session is made up for once: by its credit
/// when the student used it (the session then counts as taken), or by the
/// refund, which voids the unused credit.
async fn a_cancelled_session_is_compensated_once<S: Store>(store: S) {
    let w = World::new(store);
    let package = create(&w, 2).await;
    let first = enroll(&w, &package, 1).await;
    let second = enroll(&w, &package, 2).await;
    let teacher = Actor::teacher(TEACHER);
    let last = &slots_of(&w, &package).await[3];
    let mut credits = Vec::new();
    for booking in last.bookings() {
        let (_, credit) = w.bookings.teacher_cancel(&teacher, booking.id()).await.unwrap();
        credits.push(credit);
    }
    // Student 2 uses the credit on another lesson of the teacher.
    let other = w.open(TEACHER, FIRST + Duration::days(1), 1).await;
    let student2_credit = credits.iter().find(|c| c.student() == student(2)).unwrap();
    w.bookings
        .redeem_credit(&Actor::student(student(2)), student2_credit.id(), other.id())
        .await
        .unwrap();

    let one = w
        .packages
        .refund(&Actor::student(student(1)), first.enrollment.id())
        .await
        .unwrap();
    assert_eq!(one.amount, won(80_000), "the cancelled session is paid back...");
    let student1_credit = credits.iter().find(|c| c.student() == student(1)).unwrap();
    let voided = w.store.credit(student1_credit.id()).await.unwrap().unwrap();
    assert_eq!(
        voided.status(),
        tutorbook_domain::CreditStatus::Expired,
        "...so its credit is void"
    );

    let two = w
        .packages
        .refund(&Actor::student(student(2)), second.enrollment.id())
        .await
        .unwrap();
    assert_eq!(
        two.amount,
        won(60_000),
        "the made-up session counts as taken: 3 of 4 back"
    );
    let used = w.store.credit(student2_credit.id()).await.unwrap().unwrap();
    assert_eq!(used.status(), tutorbook_domain::CreditStatus::Redeemed);
}

conformance!(a_cancelled_session_is_compensated_once);
