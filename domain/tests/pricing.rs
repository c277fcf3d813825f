//! The pricing config and promotions (docs/product.md §9): default rates, per-currency
//! lookups, discount rounding in KRW and USD, and how the best promotion is picked.

use time::OffsetDateTime;
use time::macros::datetime;
use tutorbook_domain::{
    ClassType, Currency, Discount, DomainError, Money, Percent, PricingConfig, Promotion, PromotionId, PromotionScope,
    Purchase, SessionRates, best_promotion,
};
use uuid::Uuid;

const NOW: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);
const FROM: OffsetDateTime = datetime!(2026-03-01 00:00 UTC);
const UNTIL: OffsetDateTime = datetime!(2026-04-01 00:00 UTC);

fn won(minor: i64) -> Money {
    Money::new(minor, Currency::KRW).unwrap()
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD).unwrap()
}

fn percent(p: u8) -> Discount {
    Discount::Percent(Percent::new(p).unwrap())
}

fn promo(n: u128, discount: Discount, scope: PromotionScope) -> Promotion {
    Promotion::new(
        PromotionId::from_uuid(Uuid::from_u128(n)),
        discount,
        scope,
        FROM,
        UNTIL,
        true,
    )
    .unwrap()
}

#[test]
fn default_rates_are_40000_and_20000_krw() {
    let config = PricingConfig::default();
    assert_eq!(config.rate(ClassType::OneOnOne, Currency::KRW).unwrap(), won(40_000));
    assert_eq!(config.rate(ClassType::Group, Currency::KRW).unwrap(), won(20_000));
    assert_eq!(config.rates().len(), 1);
    assert_eq!(config.rates()[0].currency(), Currency::KRW);
    assert_eq!(
        config.price(ClassType::OneOnOne, 29, Currency::KRW).unwrap(),
        won(1_160_000)
    );
    assert_eq!(
        config.rate(ClassType::Group, Currency::USD).unwrap_err(),
        DomainError::UnpricedCurrency {
            currency: Currency::USD
        }
    );
}

#[test]
fn bad_rates_are_refused() {
    assert_eq!(
        SessionRates::new(won(40_000), usd(2_000)).unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(
        SessionRates::new(won(0), won(20_000)).unwrap_err().code(),
        "invalid_input"
    );
    let krw = SessionRates::new(won(40_000), won(20_000)).unwrap();
    assert_eq!(PricingConfig::new(vec![]).unwrap_err().code(), "invalid_input");
    assert_eq!(PricingConfig::new(vec![krw, krw]).unwrap_err().code(), "invalid_input");
    let huge = SessionRates::new(won(i64::MAX), won(1)).unwrap();
    let config = PricingConfig::new(vec![huge]).unwrap();
    assert_eq!(
        config.price(ClassType::OneOnOne, 2, Currency::KRW).unwrap_err().code(),
        "invalid_input"
    );
}

#[test]
fn percent_is_one_to_a_hundred() {
    assert!(Percent::new(0).is_err());
    assert!(Percent::new(101).is_err());
    assert_eq!(Percent::new(100).unwrap().get(), 100);
}

#[test]
fn a_percent_discount_is_rounded_down_in_krw_and_usd() {
    // 10% of 12,345 KRW is 1,234.5: 1,234 off, 11,111 to pay.
    assert_eq!(percent(10).apply(won(12_345)).unwrap(), won(11_111));
    // 10% of 0.15 USD is 1.5 cents: 1 cent off, 0.14 to pay.
    assert_eq!(percent(10).apply(usd(15)).unwrap(), usd(14));
    // 33% of 99.99 USD is 32.9967: 32.99 off, 67.00 to pay.
    assert_eq!(percent(33).apply(usd(9_999)).unwrap().to_string(), "67.00 USD");
    assert_eq!(percent(100).apply(won(480_000)).unwrap(), won(0));
}

#[test]
fn a_fixed_discount_stops_at_zero_and_keeps_to_its_currency() {
    assert_eq!(Discount::Fixed(won(25_000)).apply(won(480_000)).unwrap(), won(455_000));
    assert_eq!(Discount::Fixed(won(25_000)).apply(won(20_000)).unwrap(), won(0));
    assert_eq!(
        Discount::Fixed(usd(500)).apply(won(20_000)).unwrap_err().code(),
        "invalid_input"
    );
}

#[test]
fn a_promotion_window_ends_after_it_starts() {
    let id = PromotionId::from_uuid(Uuid::from_u128(1));
    let error = Promotion::new(id, percent(10), PromotionScope::All, UNTIL, FROM, true).unwrap_err();
    assert_eq!(error, DomainError::InvalidTimeRange);
    assert!(Promotion::new(id, percent(10), PromotionScope::All, FROM, FROM, true).is_err());
}

#[test]
fn a_promotion_applies_in_its_half_open_window_while_active_and_in_scope() {
    let p = promo(1, percent(10), PromotionScope::Package);
    assert!(p.applies_to(Purchase::Package, FROM));
    assert!(p.applies_to(Purchase::Package, UNTIL - time::Duration::seconds(1)));
    assert!(!p.applies_to(Purchase::Package, UNTIL));
    assert!(!p.applies_to(Purchase::Package, FROM - time::Duration::seconds(1)));
    assert!(!p.applies_to(Purchase::Single, NOW));
    let paused = Promotion::new(p.id(), p.discount(), p.scope(), p.starts_at(), p.ends_at(), false).unwrap();
    assert!(!paused.is_active());
    assert!(!paused.applies_to(Purchase::Package, NOW));
    assert!(PromotionScope::All.covers(Purchase::Single) && PromotionScope::All.covers(Purchase::Package));
    for scope in [PromotionScope::All, PromotionScope::Single, PromotionScope::Package] {
        assert_eq!(PromotionScope::parse(scope.as_str()), Some(scope));
    }
}

#[test]
fn the_best_promotion_leaves_the_lowest_amount() {
    let promotions = [
        promo(1, percent(5), PromotionScope::All),
        promo(2, Discount::Fixed(won(25_000)), PromotionScope::Package),
        promo(3, percent(50), PromotionScope::Single),
        promo(4, Discount::Fixed(usd(10_000)), PromotionScope::All),
    ];
    // 5% of 480,000 is 24,000; 25,000 off is better; 50% is for single lessons; USD doesn't apply.
    let (best, left) = best_promotion(&promotions, won(480_000), Purchase::Package, NOW).unwrap();
    assert_eq!((best.id(), left), (promotions[1].id(), won(455_000)));
    let (best, left) = best_promotion(&promotions, won(40_000), Purchase::Single, NOW).unwrap();
    assert_eq!((best.id(), left), (promotions[2].id(), won(20_000)));
    assert!(best_promotion(&promotions, won(480_000), Purchase::Package, UNTIL).is_none());
}

#[test]
fn ties_go_to_the_lowest_id_and_nothing_is_picked_when_nothing_comes_off() {
    let a = promo(7, Discount::Fixed(won(40_000)), PromotionScope::All);
    let b = promo(3, percent(100), PromotionScope::All);
    for promotions in [[a, b], [b, a]] {
        let (best, left) = best_promotion(&promotions, won(40_000), Purchase::Single, NOW).unwrap();
        assert_eq!((best.id(), left), (b.id(), won(0)));
    }
    // 1% of 50 KRW rounds to nothing, and nothing comes off a free lesson.
    let tiny = [promo(1, percent(1), PromotionScope::All)];
    assert!(best_promotion(&tiny, won(50), Purchase::Single, NOW).is_none());
    assert!(best_promotion(&[a, b], won(0), Purchase::Single, NOW).is_none());
}
