//! The platform's pricing config (docs/product.md §9): per-session rates by class type,
//! one set per currency. Package prices are computed from it, never typed in.
//!
//! There is exactly one config for the platform; keeping it a single row that
//! cannot be deleted is the store's job. Here it is a value: the rates it
//! holds are consistent and it always knows at least one currency.

use crate::{ClassType, Currency, DomainError, DomainResult, Money};

/// Per-session rates in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionRates {
    one_on_one: Money,
    group: Money,
}

impl SessionRates {
    /// Builds the rates of one currency: both positive, both in the same currency.
    pub fn new(one_on_one: Money, group: Money) -> DomainResult<Self> {
        if one_on_one.currency() != group.currency() {
            return Err(DomainError::invalid(
                "rates",
                format!("cannot mix {} and {}", one_on_one.currency(), group.currency()),
            ));
        }
        if one_on_one.minor() == 0 || group.minor() == 0 {
            return Err(DomainError::invalid("rates", "a session rate must be positive"));
        }
        Ok(Self { one_on_one, group })
    }

    /// The currency of both rates.
    pub fn currency(&self) -> Currency {
        self.one_on_one.currency()
    }

    /// The rate of a session of `class_type`.
    pub fn for_class(&self, class_type: ClassType) -> Money {
        match class_type {
            ClassType::OneOnOne => self.one_on_one,
            ClassType::Group => self.group,
        }
    }
}

/// The platform's per-session rates, at most one set per currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingConfig {
    rates: Vec<SessionRates>,
}

impl Default for PricingConfig {
    /// 40,000 KRW per one-to-one session, 20,000 KRW per group session (docs/product.md §8).
    fn default() -> Self {
        let won = |minor| Money::new(minor, Currency::KRW).expect("a positive amount");
        Self {
            rates: vec![SessionRates {
                one_on_one: won(40_000),
                group: won(20_000),
            }],
        }
    }
}

impl PricingConfig {
    /// Builds a config from one set of rates per currency (at least one set,
    /// no currency twice).
    pub fn new(rates: Vec<SessionRates>) -> DomainResult<Self> {
        if rates.is_empty() {
            return Err(DomainError::invalid("rates", "at least one currency needs rates"));
        }
        for (i, r) in rates.iter().enumerate() {
            if rates[..i].iter().any(|earlier| earlier.currency() == r.currency()) {
                return Err(DomainError::invalid(
                    "rates",
                    format!("{} is configured twice", r.currency()),
                ));
            }
        }
        Ok(Self { rates })
    }

    /// Every currency's rates, as configured.
    pub fn rates(&self) -> &[SessionRates] {
        &self.rates
    }

    /// The per-session rate of `class_type` in `currency` (`unpriced_currency` when none is configured).
    pub fn rate(&self, class_type: ClassType, currency: Currency) -> DomainResult<Money> {
        self.rates
            .iter()
            .find(|r| r.currency() == currency)
            .map(|r| r.for_class(class_type))
            .ok_or(DomainError::UnpricedCurrency { currency })
    }

    /// The price of `sessions` sessions of `class_type`: sessions × rate.
    pub fn price(&self, class_type: ClassType, sessions: u32, currency: Currency) -> DomainResult<Money> {
        let rate = self.rate(class_type, currency)?;
        let minor = rate
            .minor()
            .checked_mul(i64::from(sessions))
            .ok_or_else(|| DomainError::invalid("amount", "overflow"))?;
        Money::new(minor, currency)
    }
}
