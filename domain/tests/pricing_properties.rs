//! Properties of the money rules over arbitrary inputs: the best promotion
//! never leaves a negative amount nor more than the base, and no other
//! applicable promotion leaves less; a refund quote never exceeds what was
//! paid nor falls below any one method, and its basis is the method it equals.

use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    BookingStatus, COOLING_OFF, Currency, Discount, EnrolledSession, Money, Percent, Promotion, PromotionId,
    PromotionScope, Purchase, RefundBasis, best_promotion, refund_quote,
};
use uuid::Uuid;

const NOW: OffsetDateTime = datetime!(2026-03-10 12:00 UTC);

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![Just(Currency::KRW), Just(Currency::USD)]
}

fn money(max: i64) -> impl Strategy<Value = Money> {
    (0..=max, currency()).prop_map(|(minor, c)| Money::new(minor, c).unwrap())
}

fn promotion() -> impl Strategy<Value = Promotion> {
    let discount = prop_oneof![
        (1u8..=100).prop_map(|p| Discount::Percent(Percent::new(p).unwrap())),
        money(200_000).prop_map(Discount::Fixed),
    ];
    let scope = prop_oneof![
        Just(PromotionScope::All),
        Just(PromotionScope::Single),
        Just(PromotionScope::Package)
    ];
    // Few ids so that ties and duplicates happen.
    (0u128..6, discount, scope, -10i64..10, 1i64..20, any::<bool>()).prop_map(
        |(id, discount, scope, start_day, days, active)| {
            let starts_at = NOW + Duration::days(start_day);
            let id = PromotionId::from_uuid(Uuid::from_u128(id));
            Promotion::new(id, discount, scope, starts_at, starts_at + Duration::days(days), active).unwrap()
        },
    )
}

fn purchase() -> impl Strategy<Value = Purchase> {
    prop_oneof![Just(Purchase::Single), Just(Purchase::Package)]
}

/// What a promotion leaves to pay when it applies, by an independent formula.
fn left_by(p: &Promotion, amount: Money, purchase: Purchase) -> Option<i64> {
    if !p.applies_to(purchase, NOW) {
        return None;
    }
    let a = amount.minor();
    match p.discount() {
        Discount::Percent(pct) => Some(a - (i128::from(a) * i128::from(pct.get()) / 100) as i64),
        Discount::Fixed(off) if off.currency() == amount.currency() => Some((a - off.minor()).max(0)),
        Discount::Fixed(_) => None,
    }
}

fn session() -> impl Strategy<Value = EnrolledSession> {
    (-2_000i64..2_000, prop::sample::select(BookingStatus::ALL.to_vec())).prop_map(|(hours, status)| EnrolledSession {
        start: NOW + Duration::hours(hours),
        status,
    })
}

fn enrollment() -> impl Strategy<Value = (u32, Vec<EnrolledSession>)> {
    (1u32..=29).prop_flat_map(|total| (Just(total), prop::collection::vec(session(), 0..=total as usize)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_best_promotion_is_never_beaten(
        promotions in prop::collection::vec(promotion(), 0..8),
        amount in money(1_000_000),
        purchase in purchase(),
    ) {
        let best = best_promotion(&promotions, amount, purchase, NOW);
        let lowest = promotions.iter().filter_map(|p| left_by(p, amount, purchase)).min();
        match best {
            Some((chosen, left)) => {
                prop_assert!(left.minor() >= 0);
                prop_assert!(left.minor() < amount.minor());
                prop_assert_eq!(left.currency(), amount.currency());
                prop_assert_eq!(left_by(chosen, amount, purchase), Some(left.minor()));
                prop_assert_eq!(lowest, Some(left.minor()));
                for other in &promotions {
                    if left_by(other, amount, purchase) == Some(left.minor()) {
                        prop_assert!(chosen.id() <= other.id());
                    }
                }
            }
            None => prop_assert!(lowest.is_none_or(|l| l == amount.minor())),
        }
    }

    #[test]
    fn a_refund_is_the_largest_method_and_never_above_the_payment(
        paid in money(10_000_000_000),
        paid_days_ago in -3i64..30,
        (total, sessions) in enrollment(),
    ) {
        let paid_at = NOW - Duration::days(paid_days_ago);
        let q = refund_quote(paid, paid_at, &sessions, total, NOW).unwrap();
        let methods = [RefundBasis::Prorata, RefundBasis::AcademyTable, RefundBasis::Ecommerce];
        prop_assert!(q.amount().minor() <= paid.minor());
        prop_assert_eq!(q.amount().currency(), paid.currency());
        for m in methods {
            prop_assert!(q.amount_by(m).minor() <= q.amount().minor(), "{:?} above the quote", m);
        }
        prop_assert_eq!(q.amount_by(q.basis()), q.amount());

        let consumed = sessions
            .iter()
            .filter(|s| {
                matches!(s.status, BookingStatus::Confirmed | BookingStatus::Completed | BookingStatus::NoShow)
                    && s.start < NOW + Duration::hours(24)
            })
            .count() as u32;
        prop_assert_eq!(q.consumed(), consumed);
        prop_assert_eq!(q.consumed() + q.remaining(), total);
        let cooling_off = consumed == 0 && NOW < paid_at + COOLING_OFF;
        prop_assert_eq!(q.basis() == RefundBasis::Ecommerce, cooling_off);

        // With remaining = total − consumed, pro rata is never below the academy
        // table and the e-commerce rule adds nothing to it (see refund.rs).
        prop_assert!(q.amount_by(RefundBasis::Prorata) == q.amount());
        let exact = i128::from(paid.minor()) * i128::from(total - consumed) / i128::from(total);
        prop_assert_eq!(i128::from(q.amount().minor()), exact);
    }
}
