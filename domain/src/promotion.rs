//! Promotions (docs/product.md §9): a percent or fixed discount on single-lesson payments,
//! package enrollments or both, live during a window while switched on.
//!
//! Rounding: a percent discount is rounded *down* to the currency's minor unit,
//! so the final amount is `amount − floor(amount × percent / 100)`. The school
//! never gives away more than the advertised percent, and the student never
//! pays more than one minor unit above the exact figure (10% off 12,345 KRW is
//! 11,111 KRW, not 11,110.5; 10% off 0.15 USD is 0.14 USD).

use crate::{DomainError, DomainResult, Money, PromotionId};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

/// A percentage in 1..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Percent(u8);

impl Percent {
    /// Checks `value` is in 1..=100.
    pub fn new(value: u8) -> DomainResult<Self> {
        if !(1..=100).contains(&value) {
            return Err(DomainError::invalid("percent", "must be between 1 and 100"));
        }
        Ok(Self(value))
    }

    /// The percentage.
    pub fn get(&self) -> u8 {
        self.0
    }
}

/// How much a promotion takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Discount {
    /// A share of the amount, rounded down to the minor unit.
    Percent(Percent),
    /// A fixed amount; applies only to amounts in its currency.
    Fixed(Money),
}

impl Discount {
    /// The amount left to pay, never below zero. A fixed discount in another
    /// currency than `amount` does not apply and is refused (`invalid_input`).
    pub fn apply(&self, amount: Money) -> DomainResult<Money> {
        match self {
            Self::Percent(p) => amount.saturating_sub(amount.mul_div_floor(i64::from(p.get()), 100)?),
            Self::Fixed(off) => amount.saturating_sub(*off),
        }
    }
}

/// What a promotion may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionScope {
    /// Every purchase.
    All,
    /// Single-lesson payments only.
    Single,
    /// Package enrollments only.
    Package,
}

impl PromotionScope {
    /// Stable text form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Single => "single",
            Self::Package => "package",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::All, Self::Single, Self::Package]
            .into_iter()
            .find(|scope| scope.as_str() == s)
    }

    /// Whether a promotion of this scope may be used for `purchase`.
    pub fn covers(&self, purchase: Purchase) -> bool {
        matches!(
            (self, purchase),
            (Self::All, _) | (Self::Single, Purchase::Single) | (Self::Package, Purchase::Package)
        )
    }
}

/// What is being paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purchase {
    /// One lesson (a single booking).
    Single,
    /// A course-package enrollment.
    Package,
}

/// A discount offered during `[starts_at, ends_at)` while active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Promotion {
    id: PromotionId,
    discount: Discount,
    scope: PromotionScope,
    starts_at: OffsetDateTime,
    ends_at: OffsetDateTime,
    active: bool,
}

impl Promotion {
    /// Builds a promotion; the window lies in 2000–2100 and must end after it starts.
    pub fn new(
        id: PromotionId,
        discount: Discount,
        scope: PromotionScope,
        starts_at: OffsetDateTime,
        ends_at: OffsetDateTime,
        active: bool,
    ) -> DomainResult<Self> {
        crate::check_instant("starts_at", starts_at)?;
        crate::check_instant("ends_at", ends_at)?;
        if ends_at <= starts_at {
            return Err(DomainError::InvalidTimeRange);
        }
        Ok(Self {
            id,
            discount,
            scope,
            starts_at: starts_at.to_offset(UtcOffset::UTC),
            ends_at: ends_at.to_offset(UtcOffset::UTC),
            active,
        })
    }

    /// Its id.
    pub fn id(&self) -> PromotionId {
        self.id
    }

    /// What it takes off.
    pub fn discount(&self) -> Discount {
        self.discount
    }

    /// What it may be used for.
    pub fn scope(&self) -> PromotionScope {
        self.scope
    }

    /// First instant it is live.
    pub fn starts_at(&self) -> OffsetDateTime {
        self.starts_at
    }

    /// First instant it is no longer live.
    pub fn ends_at(&self) -> OffsetDateTime {
        self.ends_at
    }

    /// The switch staff use to pause it.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Whether it may be used for `purchase` at `now`: switched on, within its
    /// window, and of a scope covering the purchase.
    pub fn applies_to(&self, purchase: Purchase, now: OffsetDateTime) -> bool {
        self.active && self.starts_at <= now && now < self.ends_at && self.scope.covers(purchase)
    }
}

/// The promotion leaving the lowest amount to pay for `purchase` at `now`,
/// with that amount (docs/product.md §9 `best_for`).
///
/// Only promotions that apply (see [`Promotion::applies_to`]; a fixed discount
/// only in the amount's currency) and actually take something off are
/// considered, so `None` means "pay `amount`". Between promotions leaving the
/// same amount, the lowest id wins, whatever the order of `promotions`.
pub fn best_promotion(
    promotions: &[Promotion],
    amount: Money,
    purchase: Purchase,
    now: OffsetDateTime,
) -> Option<(&Promotion, Money)> {
    promotions
        .iter()
        .filter(|p| p.applies_to(purchase, now))
        .filter_map(|p| p.discount.apply(amount).ok().map(|left| (p, left)))
        .filter(|(_, left)| left.minor() < amount.minor())
        .min_by_key(|(p, left)| (left.minor(), p.id))
}
