//! How much of a package payment goes back to a student who leaves (docs/product.md §10).
//!
//! Three methods are computed and the student gets the largest:
//! - `prorata`: paid × remaining / total, with remaining = total − consumed;
//! - `academy_table`: nothing consumed → all; consumed < 1/3 of total → 2/3 of
//!   paid; consumed < 1/2 → 1/2; else nothing;
//! - `ecommerce`: within [`COOLING_OFF`] of the payment with nothing consumed
//!   → all; otherwise the pro-rata amount.
//!
//! A session is *consumed* at `t` when its booking is confirmed, completed or a
//! no-show and it starts before `t` + [`CONSUMPTION_NOTICE`]: lessons taken,
//! missed, or too close to free the teacher's time. Cancelled sessions (by the
//! student or the teacher) were not consumed, so they count as remaining and
//! are paid back pro rata.
//!
//! Each amount is rounded down to the currency's minor unit. With remaining =
//! total − consumed, pro-rata is never below the academy table (consumed <
//! total/3 leaves more than 2/3 remaining, and so on), and the e-commerce rule
//! gives all back only when pro-rata does too. The quote therefore always
//! equals the pro-rata amount; what the other methods add is the *reason*
//! recorded as the basis. Between methods giving the quote, the more specific
//! rule is recorded: `ecommerce` when its cooling-off rule applies, else
//! `academy_table` when it gives the quote, else `prorata` (the e-commerce
//! fallback *is* pro-rata, so it is recorded as such).
//!
//! Worked examples (12 one-to-one sessions at 40,000 KRW = 480,000 KRW, paid
//! 455,000 KRW after a 25,000 KRW promotion; sessions Mon/Wed/Fri at 10:00 UTC
//! from Monday 2026-03-09):
//!
//! | example | paid at | refund asked `t` | consumed | prorata | academy_table | ecommerce | quote (basis) |
//! |---|---|---|---|---|---|---|---|
//! | A | 2026-03-02 09:00 | 2026-03-05 09:00 (3 days later) | 0 | 455,000 | 455,000 | 455,000 | 455,000 (`ecommerce`) |
//! | B | 2026-02-20 09:00 | 2026-03-05 09:00 (13 days later) | 0 | 455,000 | 455,000 | 455,000 | 455,000 (`academy_table`) |
//! | C | 2026-03-02 09:00 | 2026-03-17 12:00 | 4 | 303,333 | 227,500 | 303,333 | 303,333 (`prorata`) |
//!
//! In C, by `t` + 24 h = 2026-03-18 12:00 five sessions have started: 03-09
//! and 03-11 completed, 03-13 cancelled by the teacher (not consumed), 03-16 a
//! no-show, and 03-18 10:00 still confirmed but within 24 h. So 4 consumed, 8
//! remaining: prorata = 455,000 × 8 / 12 = 303,333.33… → 303,333; 4 is not
//! under 12/3 but is under 12/2, so academy_table = 455,000 / 2 = 227,500;
//! something was consumed, so ecommerce falls back to pro-rata.

use crate::{BookingStatus, DomainError, DomainResult, Money};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// A confirmed session starting within this long after the refund is consumed.
pub const CONSUMPTION_NOTICE: Duration = Duration::hours(24);

/// How long after paying a student may withdraw with everything back, if nothing was consumed.
pub const COOLING_OFF: Duration = Duration::days(7);

/// Which method gave the quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundBasis {
    /// Paid × remaining / total.
    Prorata,
    /// The tutoring-academy refund table.
    AcademyTable,
    /// The e-commerce cooling-off period.
    Ecommerce,
}

impl RefundBasis {
    /// Stable text form, as stored on the refund.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Prorata => "prorata",
            Self::AcademyTable => "academy_table",
            Self::Ecommerce => "ecommerce",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Prorata, Self::AcademyTable, Self::Ecommerce]
            .into_iter()
            .find(|basis| basis.as_str() == s)
    }
}

/// One session of an enrollment as the refund sees it: when it starts and
/// the status of the student's booking on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnrolledSession {
    /// The session's start.
    pub start: OffsetDateTime,
    /// The status of the student's booking on the session.
    pub status: BookingStatus,
}

impl EnrolledSession {
    /// Whether the session counts as consumed for a refund asked at `at`.
    pub fn is_consumed_at(&self, at: OffsetDateTime) -> bool {
        matches!(
            self.status,
            BookingStatus::Confirmed | BookingStatus::Completed | BookingStatus::NoShow
        ) && self.start < at + CONSUMPTION_NOTICE
    }
}

/// What a refund asked at one instant would pay back, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundQuote {
    amount: Money,
    basis: RefundBasis,
    consumed: u32,
    total: u32,
    prorata: Money,
    academy_table: Money,
    ecommerce: Money,
}

impl RefundQuote {
    /// The amount to pay back: the largest of the three methods.
    pub fn amount(&self) -> Money {
        self.amount
    }

    /// The method recorded as the reason for the amount.
    pub fn basis(&self) -> RefundBasis {
        self.basis
    }

    /// Sessions consumed at the time of the quote.
    pub fn consumed(&self) -> u32 {
        self.consumed
    }

    /// Sessions not consumed: total − consumed.
    pub fn remaining(&self) -> u32 {
        self.total - self.consumed
    }

    /// Sessions of the package.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// What one method alone would pay back.
    pub fn amount_by(&self, basis: RefundBasis) -> Money {
        match basis {
            RefundBasis::Prorata => self.prorata,
            RefundBasis::AcademyTable => self.academy_table,
            RefundBasis::Ecommerce => self.ecommerce,
        }
    }
}

/// Quotes the refund of `paid` (paid at `paid_at`) for an enrollment in a
/// package of `total_sessions` sessions, asked at `at`. `sessions` are the
/// enrollment's sessions with the student's booking status; a session missing
/// from them counts as not consumed.
///
/// Refuses (`invalid_input`) a package without sessions and more sessions than the package has.
pub fn refund_quote(
    paid: Money,
    paid_at: OffsetDateTime,
    sessions: &[EnrolledSession],
    total_sessions: u32,
    at: OffsetDateTime,
) -> DomainResult<RefundQuote> {
    if total_sessions == 0 {
        return Err(DomainError::invalid(
            "total_sessions",
            "a package has at least one session",
        ));
    }
    if sessions.len() > total_sessions as usize {
        return Err(DomainError::invalid(
            "sessions",
            format!("{} sessions given for a package of {total_sessions}", sessions.len()),
        ));
    }
    // At most total_sessions, checked above.
    let consumed = sessions.iter().filter(|s| s.is_consumed_at(at)).count() as u32;
    let (c, n) = (i64::from(consumed), i64::from(total_sessions));

    let prorata = paid.mul_div_floor(n - c, n)?;
    let academy_table = if c == 0 {
        paid
    } else if 3 * c < n {
        paid.mul_div_floor(2, 3)?
    } else if 2 * c < n {
        paid.mul_div_floor(1, 2)?
    } else {
        Money::zero(paid.currency())
    };
    let cooling_off = c == 0 && at < paid_at + COOLING_OFF;
    let ecommerce = if cooling_off { paid } else { prorata };

    let amount = [prorata, academy_table, ecommerce]
        .into_iter()
        .max_by_key(Money::minor)
        .unwrap_or(prorata);
    let basis = if cooling_off {
        RefundBasis::Ecommerce
    } else if academy_table == amount {
        RefundBasis::AcademyTable
    } else {
        RefundBasis::Prorata
    };
    Ok(RefundQuote {
        amount,
        basis,
        consumed,
        total: total_sessions,
        prorata,
        academy_table,
        ecommerce,
    })
}
