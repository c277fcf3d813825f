//! Payments and refunds (docs/product.md §9, 10).
//!
//! A payment targets exactly one booking or one enrollment (an enum, so "both"
//! or "neither" cannot be written down). Its provider follows the payer's
//! locale: Toss for Korean, Stripe otherwise. Without live provider
//! credentials the payment is a *stub*: it carries a stub checkout URL and can
//! be settled by the stub completion, which real payments never can.

use crate::{
    Actor, BookingId, BookingSource, BookingStatus, ClassType, Currency, DomainError, DomainEvent, DomainResult,
    EnrollmentId, Locale, Money, PaymentId, PricingConfig, Promotion, PromotionId, Purchase, RefundBasis, RefundId,
    Slot, UserId, best_promotion,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Who collects the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentProvider {
    /// Toss Payments, for Korean-speaking payers.
    Toss,
    /// Stripe Checkout, for everyone else.
    Stripe,
}

impl PaymentProvider {
    /// `ko` → Toss, anything else → Stripe (docs/product.md §9).
    pub fn for_locale(locale: Locale) -> Self {
        match locale {
            Locale::Ko => Self::Toss,
            Locale::En => Self::Stripe,
        }
    }

    /// Stable text form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Toss => "toss",
            Self::Stripe => "stripe",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Toss, Self::Stripe].into_iter().find(|p| p.as_str() == s)
    }
}

/// Where a payment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created, not settled.
    Pending,
    /// Settled in full.
    Paid,
    /// The provider refused it.
    Failed,
    /// Everything paid went back.
    Refunded,
    /// Part of it went back.
    PartiallyRefunded,
}

impl PaymentStatus {
    /// Every status, for storage round trips.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Paid,
        Self::Failed,
        Self::Refunded,
        Self::PartiallyRefunded,
    ];

    /// Stable text form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::Refunded => "refunded",
            Self::PartiallyRefunded => "partially_refunded",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// What a payment pays for: exactly one of a booking or an enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum PaymentTarget {
    /// A single lesson.
    Booking(BookingId),
    /// A course-package enrollment.
    Enrollment(EnrollmentId),
}

/// A payment, with what has been refunded of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    id: PaymentId,
    target: PaymentTarget,
    payer: UserId,
    provider: PaymentProvider,
    base_amount: Money,
    amount: Money,
    refunded: Money,
    status: PaymentStatus,
    stub: bool,
    promotion: Option<PromotionId>,
    provider_reference: Option<String>,
    checkout_url: Option<String>,
    created_at: OffsetDateTime,
    paid_at: Option<OffsetDateTime>,
}

/// The stored fields of a payment, to rebuild one read back from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// Its id.
    pub id: PaymentId,
    /// What it pays for.
    pub target: PaymentTarget,
    /// Who pays.
    pub payer: UserId,
    /// Who collects.
    pub provider: PaymentProvider,
    /// The price before the promotion.
    pub base_amount: Money,
    /// What is charged.
    pub amount: Money,
    /// What went back so far.
    pub refunded: Money,
    /// Where it is.
    pub status: PaymentStatus,
    /// Whether it is a stub payment.
    pub stub: bool,
    /// The promotion applied, if any.
    pub promotion: Option<PromotionId>,
    /// The provider's id for it.
    pub provider_reference: Option<String>,
    /// Where the payer completes it.
    pub checkout_url: Option<String>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was settled.
    pub paid_at: Option<OffsetDateTime>,
}

/// Refuses to move a booking that a payment is tied to (any payment but a
/// failed one): the payment names the booking, so the lesson does not move
/// yet (`already_paid`, docs/product.md §5).
pub fn check_movable(payments: &[Payment]) -> DomainResult<()> {
    if payments.iter().any(|p| p.status != PaymentStatus::Failed) {
        Err(DomainError::AlreadyPaid)
    } else {
        Ok(())
    }
}

impl Payment {
    /// A new pending payment of `amount` (after the promotion `promotion`, from
    /// `base_amount`). A stub payment gets a stub checkout URL at once.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: PaymentId,
        target: PaymentTarget,
        payer: UserId,
        locale: Locale,
        base_amount: Money,
        discounted: Option<(PromotionId, Money)>,
        stub: bool,
        now: OffsetDateTime,
    ) -> Self {
        let (promotion, amount) = match discounted {
            Some((promotion, amount)) => (Some(promotion), amount),
            None => (None, base_amount),
        };
        Self {
            id,
            target,
            payer,
            provider: PaymentProvider::for_locale(locale),
            base_amount,
            amount,
            refunded: Money::zero(amount.currency()),
            status: PaymentStatus::Pending,
            stub,
            promotion,
            provider_reference: None,
            checkout_url: stub.then(|| format!("stub://checkout/{id}")),
            created_at: now,
            paid_at: None,
        }
    }

    /// Checks out one lesson (docs/product.md §9): only the booking's own student, only a
    /// confirmed booking made directly (a package seat is paid by its
    /// enrollment, `package_slot`; a credit redemption was paid by the
    /// cancelled lesson, `already_paid`), priced at the platform's per-session rate for the
    /// slot's class type with the best single-lesson promotion. `existing` are
    /// the booking's payments so far: a settled one refuses with
    /// `already_paid`; a pending one is returned again (`None` means "use
    /// it") so a retried checkout never creates a second charge.
    #[allow(clippy::too_many_arguments)]
    pub fn checkout_booking(
        id: PaymentId,
        slot: &Slot,
        booking: BookingId,
        existing: &[Payment],
        actor: &Actor,
        locale: Locale,
        pricing: &PricingConfig,
        currency: Currency,
        promotions: &[Promotion],
        stub: bool,
        now: OffsetDateTime,
    ) -> DomainResult<Option<Self>> {
        let found = slot
            .booking(booking)
            .ok_or(DomainError::NotFound { entity: "booking" })?;
        if found.student() != actor.user {
            // Only the student pays. The teacher and staff see the booking
            // (refused); to anyone else it does not exist.
            return Err(if slot.shows_booking_to(booking, actor) {
                DomainError::Forbidden
            } else {
                DomainError::NotFound { entity: "booking" }
            });
        }
        if found.status() != BookingStatus::Confirmed {
            return Err(DomainError::InvalidBookingStatus {
                status: found.status().as_str(),
            });
        }
        match found.source() {
            BookingSource::Direct | BookingSource::Trial => {}
            // Paid by the enrollment's payment.
            BookingSource::Package(_) => return Err(DomainError::PackageSlot),
            // Paid by the lesson the teacher cancelled.
            BookingSource::Credit(_) => return Err(DomainError::AlreadyPaid),
        }
        let settled = existing
            .iter()
            .any(|p| !matches!(p.status, PaymentStatus::Pending | PaymentStatus::Failed));
        if settled {
            return Err(DomainError::AlreadyPaid);
        }
        if existing.iter().any(|p| p.status == PaymentStatus::Pending) {
            return Ok(None);
        }
        let class_type = if slot.capacity().is_one_on_one() {
            ClassType::OneOnOne
        } else {
            ClassType::Group
        };
        let price = pricing.rate(class_type, currency)?;
        let discounted = best_promotion(promotions, price, Purchase::Single, now).map(|(p, left)| (p.id(), left));
        Ok(Some(Self::new(
            id,
            PaymentTarget::Booking(booking),
            actor.user,
            locale,
            price,
            discounted,
            stub,
            now,
        )))
    }

    /// Rebuilds a payment read back from storage; refuses amounts that disagree.
    pub fn restore(record: PaymentRecord) -> DomainResult<Self> {
        let currency = record.amount.currency();
        if record.base_amount.currency() != currency || record.refunded.currency() != currency {
            return Err(DomainError::invalid("payment", "amounts in different currencies"));
        }
        if record.refunded.minor() > record.amount.minor() {
            return Err(DomainError::invalid("payment", "refunded more than paid"));
        }
        Ok(Self {
            id: record.id,
            target: record.target,
            payer: record.payer,
            provider: record.provider,
            base_amount: record.base_amount,
            amount: record.amount,
            refunded: record.refunded,
            status: record.status,
            stub: record.stub,
            promotion: record.promotion,
            provider_reference: record.provider_reference,
            checkout_url: record.checkout_url,
            created_at: record.created_at,
            paid_at: record.paid_at,
        })
    }

    /// Settles a stub payment (the stub checkout's completion) and answers the
    /// `payment_settled` event. Idempotent: settling a paid stub payment again
    /// changes nothing and answers no event. Real payments are settled only by
    /// their provider (`not_a_stub_payment`).
    pub fn settle_stub(&mut self, now: OffsetDateTime) -> DomainResult<Option<DomainEvent>> {
        if !self.stub {
            return Err(DomainError::NotAStubPayment);
        }
        match self.status {
            PaymentStatus::Pending => {
                self.status = PaymentStatus::Paid;
                self.paid_at = Some(now);
                self.provider_reference = Some(format!("stub_{}", self.id));
                Ok(Some(DomainEvent::PaymentSettled {
                    payment: self.id,
                    payer: self.payer,
                }))
            }
            PaymentStatus::Paid => Ok(None),
            other => Err(DomainError::InvalidPaymentStatus { status: other.as_str() }),
        }
    }

    /// What can still go back: paid minus refunded, zero unless settled.
    pub fn refundable(&self) -> Money {
        match self.status {
            PaymentStatus::Paid | PaymentStatus::PartiallyRefunded => {
                Money::new(self.amount.minor() - self.refunded.minor(), self.amount.currency())
                    .unwrap_or(Money::zero(self.amount.currency()))
            }
            _ => Money::zero(self.amount.currency()),
        }
    }

    /// Records `amount` going back (at most [`Payment::refundable`]).
    pub(crate) fn record_refund(&mut self, amount: Money) -> DomainResult<()> {
        if amount.minor() > self.refundable().minor() {
            return Err(DomainError::NothingToRefund);
        }
        self.refunded = self.refunded.checked_add(amount)?;
        self.status = if self.refunded == self.amount {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        };
        Ok(())
    }

    /// Its id.
    pub fn id(&self) -> PaymentId {
        self.id
    }
    /// What it pays for.
    pub fn target(&self) -> PaymentTarget {
        self.target
    }
    /// Who pays.
    pub fn payer(&self) -> UserId {
        self.payer
    }
    /// Who collects.
    pub fn provider(&self) -> PaymentProvider {
        self.provider
    }
    /// The price before the promotion.
    pub fn base_amount(&self) -> Money {
        self.base_amount
    }
    /// What is charged.
    pub fn amount(&self) -> Money {
        self.amount
    }
    /// What went back so far.
    pub fn refunded(&self) -> Money {
        self.refunded
    }
    /// Where it is.
    pub fn status(&self) -> PaymentStatus {
        self.status
    }
    /// Whether it is a stub payment.
    pub fn is_stub(&self) -> bool {
        self.stub
    }
    /// The promotion applied, if any.
    pub fn promotion(&self) -> Option<PromotionId> {
        self.promotion
    }
    /// The provider's id for it.
    pub fn provider_reference(&self) -> Option<&str> {
        self.provider_reference.as_deref()
    }
    /// Where the payer completes it.
    pub fn checkout_url(&self) -> Option<&str> {
        self.checkout_url.as_deref()
    }
    /// Whether `viewer` sees the checkout link and the promotion applied:
    /// the payer and staff only (a teacher sees their students' payments
    /// without them).
    pub fn shows_checkout_to(&self, viewer: &Actor) -> bool {
        viewer.is_or_staff(self.payer)
    }
    /// When it was created.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }
    /// When it was settled.
    pub fn paid_at(&self) -> Option<OffsetDateTime> {
        self.paid_at
    }
}

/// Money paid back for an enrollment, recorded once per idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// Its id.
    pub id: RefundId,
    /// The payment it comes out of.
    pub payment: PaymentId,
    /// The enrollment refunded.
    pub enrollment: EnrollmentId,
    /// What went back.
    pub amount: Money,
    /// The method that gave the quote.
    pub basis: RefundBasis,
    /// `enrollment:{id}:refund:v1`: a second execution finds this refund and returns it.
    pub key: String,
    /// When it was executed.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Refund {
    /// The idempotency key of an enrollment's refund (docs/product.md §10).
    pub fn key_for(enrollment: EnrollmentId) -> String {
        format!("enrollment:{enrollment}:refund:v1")
    }
}
