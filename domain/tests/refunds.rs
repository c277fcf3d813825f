//! Refund quotes (docs/product.md §10): the three worked examples of `refund.rs` (one per
//! recorded basis), what counts as consumed, and rounding in KRW and USD.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{BookingStatus, Currency, EnrolledSession, Money, RefundBasis, RefundQuote, refund_quote};

/// 12 one-to-one sessions at 40,000 KRW, less a 25,000 KRW promotion.
const PAID: i64 = 455_000;
const TOTAL: u32 = 12;

fn won(minor: i64) -> Money {
    Money::new(minor, Currency::KRW).unwrap()
}

/// Mon/Wed/Fri at 10:00 UTC from Monday 2026-03-09, all confirmed.
fn sessions() -> Vec<EnrolledSession> {
    let days = [9, 11, 13, 16, 18, 20, 23, 25, 27, 30, 32, 34];
    days.iter()
        .map(|&d| EnrolledSession {
            start: datetime!(2026-03-01 10:00 UTC) + Duration::days(d - 1),
            status: BookingStatus::Confirmed,
        })
        .collect()
}

#[track_caller]
fn assert_methods(q: &RefundQuote, prorata: i64, academy: i64, ecommerce: i64) {
    assert_eq!(q.amount_by(RefundBasis::Prorata).minor(), prorata, "prorata");
    assert_eq!(q.amount_by(RefundBasis::AcademyTable).minor(), academy, "academy_table");
    assert_eq!(q.amount_by(RefundBasis::Ecommerce).minor(), ecommerce, "ecommerce");
}

#[test]
fn the_sessions_are_those_of_the_examples() {
    let s = sessions();
    assert_eq!(s[0].start, datetime!(2026-03-09 10:00 UTC));
    assert_eq!(s[4].start, datetime!(2026-03-18 10:00 UTC));
    assert_eq!(s[11].start, datetime!(2026-04-03 10:00 UTC));
}

/// Example A: asked 3 days after paying, nothing consumed: everything back, cooling-off.
#[test]
fn example_a_ecommerce() {
    let q = refund_quote(
        won(PAID),
        datetime!(2026-03-02 09:00 UTC),
        &sessions(),
        TOTAL,
        datetime!(2026-03-05 09:00 UTC),
    )
    .unwrap();
    assert_eq!(q.amount(), won(455_000));
    assert_eq!(q.basis(), RefundBasis::Ecommerce);
    assert_eq!((q.consumed(), q.remaining(), q.total()), (0, 12, 12));
    assert_methods(&q, 455_000, 455_000, 455_000);
}

/// Example B: asked 13 days after paying, nothing consumed: everything back by the academy table.
#[test]
fn example_b_academy_table() {
    let q = refund_quote(
        won(PAID),
        datetime!(2026-02-20 09:00 UTC),
        &sessions(),
        TOTAL,
        datetime!(2026-03-05 09:00 UTC),
    )
    .unwrap();
    assert_eq!(q.amount(), won(455_000));
    assert_eq!(q.basis(), RefundBasis::AcademyTable);
    assert_eq!((q.consumed(), q.remaining()), (0, 12));
    assert_methods(&q, 455_000, 455_000, 455_000);
}

/// Example C: two completed, one teacher-cancelled, one no-show, one within
/// 24 h: 4 consumed of 12, pro rata.
#[test]
fn example_c_prorata() {
    let mut s = sessions();
    s[0].status = BookingStatus::Completed;
    s[1].status = BookingStatus::Completed;
    s[2].status = BookingStatus::TeacherCancelled;
    s[3].status = BookingStatus::NoShow;
    let q = refund_quote(
        won(PAID),
        datetime!(2026-03-02 09:00 UTC),
        &s,
        TOTAL,
        datetime!(2026-03-17 12:00 UTC),
    )
    .unwrap();
    assert_eq!(q.amount(), won(303_333));
    assert_eq!(q.basis(), RefundBasis::Prorata);
    assert_eq!((q.consumed(), q.remaining()), (4, 8));
    assert_methods(&q, 303_333, 227_500, 303_333);
}

#[test]
fn consumed_means_taken_missed_or_starting_within_24_hours() {
    let first = datetime!(2026-03-09 10:00 UTC);
    let consumed_at = |status, at: OffsetDateTime| EnrolledSession { start: first, status }.is_consumed_at(at);
    let just_before = first - Duration::hours(24) - Duration::seconds(1);
    let just_inside = first - Duration::hours(24) + Duration::seconds(1);
    assert!(!consumed_at(BookingStatus::Confirmed, just_before));
    assert!(!consumed_at(BookingStatus::Confirmed, first - Duration::hours(24)));
    assert!(consumed_at(BookingStatus::Confirmed, just_inside));
    for status in BookingStatus::ALL {
        let expected = matches!(
            status,
            BookingStatus::Confirmed | BookingStatus::Completed | BookingStatus::NoShow
        );
        assert_eq!(consumed_at(status, first + Duration::days(1)), expected, "{status:?}");
    }
}

#[test]
fn cancelled_sessions_are_paid_back() {
    // Every session cancelled by the student long ago: nothing consumed, all back.
    let mut s = sessions();
    for session in &mut s {
        session.status = BookingStatus::Cancelled;
    }
    let q = refund_quote(
        won(PAID),
        datetime!(2026-02-01 09:00 UTC),
        &s,
        TOTAL,
        datetime!(2026-05-01 00:00 UTC),
    )
    .unwrap();
    assert_eq!((q.consumed(), q.remaining()), (0, 12));
    assert_eq!(q.amount(), won(PAID));
}

#[test]
fn everything_consumed_pays_nothing_back() {
    let q = refund_quote(
        won(PAID),
        datetime!(2026-03-02 09:00 UTC),
        &sessions(),
        TOTAL,
        datetime!(2026-04-10 00:00 UTC),
    )
    .unwrap();
    assert_eq!((q.consumed(), q.remaining()), (12, 0));
    assert_eq!(q.amount().minor(), 0);
    assert_methods(&q, 0, 0, 0);
}

#[test]
fn the_cooling_off_period_is_seven_days_half_open() {
    // Paid early enough that the first session (03-09 10:00) is not yet within 24 h at the boundary.
    let paid_at = datetime!(2026-02-27 09:00 UTC);
    let quote_at = |at| {
        refund_quote(won(PAID), paid_at, &sessions(), TOTAL, at)
            .unwrap()
            .basis()
    };
    assert_eq!(
        quote_at(paid_at + Duration::days(7) - Duration::seconds(1)),
        RefundBasis::Ecommerce
    );
    assert_eq!(quote_at(paid_at + Duration::days(7)), RefundBasis::AcademyTable);
}

#[test]
fn krw_rounds_down_to_the_won() {
    // 100,000 KRW for 3 sessions, 1 consumed: 66,666.67 → 66,666; half → 50,000.
    let s = [EnrolledSession {
        start: datetime!(2026-03-09 10:00 UTC),
        status: BookingStatus::Completed,
    }];
    let q = refund_quote(
        won(100_000),
        datetime!(2026-03-01 00:00 UTC),
        &s,
        3,
        datetime!(2026-03-10 00:00 UTC),
    )
    .unwrap();
    assert_methods(&q, 66_666, 50_000, 66_666);
    assert_eq!((q.amount(), q.basis()), (won(66_666), RefundBasis::Prorata));
}

#[test]
fn usd_rounds_down_to_the_cent() {
    // 99.99 USD for 7 sessions, 2 consumed: 71.4214… → 71.42; 2 < 7/3 so 2/3 → 66.66.
    let usd = |minor| Money::new(minor, Currency::USD).unwrap();
    let done = EnrolledSession {
        start: datetime!(2026-03-09 10:00 UTC),
        status: BookingStatus::Completed,
    };
    let q = refund_quote(
        usd(9_999),
        datetime!(2026-03-01 00:00 UTC),
        &[done, done],
        7,
        datetime!(2026-03-10 00:00 UTC),
    )
    .unwrap();
    assert_methods(&q, 7_142, 6_666, 7_142);
    assert_eq!(q.amount().to_string(), "71.42 USD");
    assert_eq!(q.basis(), RefundBasis::Prorata);
}

#[test]
fn inconsistent_input_is_refused() {
    let at = datetime!(2026-03-10 00:00 UTC);
    let error = refund_quote(won(PAID), at, &[], 0, at).unwrap_err();
    assert_eq!(error.code(), "invalid_input");
    let error = refund_quote(won(PAID), at, &sessions(), 11, at).unwrap_err();
    assert_eq!(error.code(), "invalid_input");
}

#[test]
fn bases_round_trip_their_text_form() {
    for basis in [RefundBasis::Prorata, RefundBasis::AcademyTable, RefundBasis::Ecommerce] {
        assert_eq!(RefundBasis::parse(basis.as_str()), Some(basis));
    }
    assert_eq!(RefundBasis::parse("academy"), None);
}
