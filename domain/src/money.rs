//! Money as integer minor units of an ISO-4217 currency. Never floats:
//! KRW has no minor unit, USD has cents, and every rounding is explicit.

use crate::{DomainError, DomainResult};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO-4217 currency the engine knows the minor unit of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Currencies whose minor unit is not the common 2 decimals, plus the common ones we accept.
const KNOWN: &[(&str, u8)] = &[
    ("KRW", 0),
    ("JPY", 0),
    ("VND", 0),
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("PHP", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("SGD", 2),
    ("CNY", 2),
    ("UAH", 2),
];

impl Currency {
    /// South Korean won (no minor unit).
    pub const KRW: Self = Self {
        code: *b"KRW",
        exponent: 0,
    };
    /// US dollar (cents).
    pub const USD: Self = Self {
        code: *b"USD",
        exponent: 2,
    };

    /// Parses an ISO-4217 code (case-insensitive) the engine supports.
    pub fn parse(code: &str) -> DomainResult<Self> {
        let upper = code.trim().to_ascii_uppercase();
        KNOWN
            .iter()
            .find(|(known, _)| *known == upper)
            .map(|(known, exponent)| {
                let b = known.as_bytes();
                Self {
                    code: [b[0], b[1], b[2]],
                    exponent: *exponent,
                }
            })
            .ok_or_else(|| DomainError::invalid("currency", format!("unsupported currency {code:?}")))
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // Constructed only from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Number of decimal places of the minor unit (0 for KRW, 2 for USD).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_owned()
    }
}

/// A non-negative amount in minor units of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// Builds an amount; negative amounts are refused.
    pub fn new(minor: i64, currency: Currency) -> DomainResult<Self> {
        if minor < 0 {
            return Err(DomainError::invalid("amount", "must not be negative"));
        }
        Ok(Self { minor, currency })
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    /// Amount in minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Sum of two amounts of the same currency.
    pub fn checked_add(self, other: Self) -> DomainResult<Self> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or_else(|| DomainError::invalid("amount", "overflow"))?;
        Ok(Self { minor, ..self })
    }

    /// Difference, floored at zero (a discount never makes a price negative).
    pub fn saturating_sub(self, other: Self) -> DomainResult<Self> {
        self.same_currency(other)?;
        Ok(Self {
            minor: (self.minor - other.minor).max(0),
            ..self
        })
    }

    /// `self × numerator / denominator`, rounded down to the minor unit.
    pub fn mul_div_floor(self, numerator: i64, denominator: i64) -> DomainResult<Self> {
        if denominator <= 0 || numerator < 0 {
            return Err(DomainError::invalid("ratio", "must be a non-negative fraction"));
        }
        let minor = i128::from(self.minor) * i128::from(numerator) / i128::from(denominator);
        let minor = i64::try_from(minor).map_err(|_| DomainError::invalid("amount", "overflow"))?;
        Ok(Self { minor, ..self })
    }

    fn same_currency(&self, other: Self) -> DomainResult<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(DomainError::invalid(
                "currency",
                format!("cannot mix {} and {}", self.currency, other.currency),
            ))
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = u32::from(self.currency.exponent());
        if exp == 0 {
            write!(f, "{} {}", self.minor, self.currency)
        } else {
            let unit = 10_i64.pow(exp);
            write!(
                f,
                "{}.{:0width$} {}",
                self.minor / unit,
                self.minor % unit,
                self.currency,
                width = exp as usize
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_know_their_minor_unit() {
        assert_eq!(Currency::parse("krw").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("USD").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("XXX").unwrap_err().code(), "invalid_input");
    }

    #[test]
    fn money_refuses_negative_and_mixing() {
        assert!(Money::new(-1, Currency::KRW).is_err());
        let won = Money::new(40_000, Currency::KRW).unwrap();
        let usd = Money::new(100, Currency::USD).unwrap();
        assert!(won.checked_add(usd).is_err());
        assert_eq!(
            won.saturating_sub(Money::new(50_000, Currency::KRW).unwrap())
                .unwrap()
                .minor(),
            0
        );
    }

    #[test]
    fn mul_div_rounds_down_and_formats() {
        let paid = Money::new(100_001, Currency::KRW).unwrap();
        assert_eq!(paid.mul_div_floor(2, 3).unwrap().minor(), 66_667);
        assert_eq!(Money::new(1234, Currency::USD).unwrap().to_string(), "12.34 USD");
        assert_eq!(Money::new(40_000, Currency::KRW).unwrap().to_string(), "40000 KRW");
        let json = serde_json::to_string(&paid).unwrap();
        assert_eq!(json, r#"{"minor":100001,"currency":"KRW"}"#);
    }
}
