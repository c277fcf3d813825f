//! Enrollment in a course package (docs/product.md §8) and its refund (docs/product.md §10).
//!
//! Enrolling is all or nothing: the decision works on copies of the session
//! slots and writes them back only when every seat was taken, so a refusal on
//! the fifth session leaves the first four untouched (and the store writes
//! nothing). A refund cancels the student's seats that are still far enough
//! away (from `t + 24h` on, see [`crate::CONSUMPTION_NOTICE`]) and gives them back.

use crate::{
    Actor, BookingId, BookingSource, BookingStatus, CONSUMPTION_NOTICE, CoursePackage, CreditStatus, Currency,
    DomainError, DomainEvent, DomainResult, EnrolledSession, EnrollmentId, Locale, MakeupCredit, Outcome, PackageId,
    Payment, PaymentId, PaymentTarget, PricingConfig, Promotion, Purchase, Refund, RefundId, RefundQuote, Slot,
    SlotStatus, UserId, best_promotion, refund_quote,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where an enrollment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentStatus {
    /// Seats held, waiting for a live payment.
    Pending,
    /// Paid; the student takes the sessions.
    Active,
    /// Everything paid went back.
    Refunded,
    /// Part of the payment went back; the remaining seats were released.
    PartiallyRefunded,
}

impl EnrollmentStatus {
    /// Every status, for storage round trips.
    pub const ALL: [Self; 4] = [Self::Pending, Self::Active, Self::Refunded, Self::PartiallyRefunded];

    /// Stable text form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Refunded => "refunded",
            Self::PartiallyRefunded => "partially_refunded",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// One student's place in one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    id: EnrollmentId,
    package: PackageId,
    student: UserId,
    status: EnrollmentStatus,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    cancelled_at: Option<OffsetDateTime>,
}

/// Fresh ids for one enrollment: one booking id per session at least.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentIds {
    /// The enrollment.
    pub enrollment: EnrollmentId,
    /// Its payment.
    pub payment: PaymentId,
    /// One per session, in session order.
    pub bookings: Vec<BookingId>,
}

/// What an enrollment is bought with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentTerms {
    /// The student enrolling.
    pub actor: Actor,
    /// The student's locale, which picks the payment provider.
    pub locale: Locale,
    /// The currency charged.
    pub currency: Currency,
    /// The platform's rates.
    pub pricing: PricingConfig,
    /// The promotions on offer (the best one applies).
    pub promotions: Vec<Promotion>,
    /// Whether payments run in stub mode (settled at once).
    pub stub_payments: bool,
}

/// What a successful enrollment created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    /// The enrollment.
    pub enrollment: Enrollment,
    /// Its payment.
    pub payment: Payment,
    /// One confirmed booking per session, with their events and audit.
    pub outcome: Outcome,
}

impl Enrollment {
    /// Enrolls `terms.actor` in `package` (docs/product.md §8). `session_slots` are the
    /// package's session slots in session order, locked by the store;
    /// `already_enrolled` says whether the student holds an enrollment in it.
    ///
    /// Refuses, in this order: `own_package`, `package_not_open`,
    /// `already_enrolled`, `package_session_unavailable` (a session without
    /// its open slot), then whatever a seat refuses (`slot_in_past`,
    /// `slot_full`, `duplicate_booking`). On success every session has a
    /// confirmed booking, the best promotion is applied to the price, and the
    /// payment is created; in stub mode it is settled at once and the
    /// enrollment is active, otherwise it is pending.
    pub fn enroll(
        ids: EnrollmentIds,
        package: &CoursePackage,
        session_slots: &mut [Slot],
        already_enrolled: bool,
        terms: &EnrollmentTerms,
        now: OffsetDateTime,
    ) -> DomainResult<Enrolled> {
        let student = terms.actor.user;
        if student == package.teacher() {
            return Err(DomainError::OwnPackage);
        }
        if !package.status().is_open() {
            return Err(DomainError::PackageNotOpen);
        }
        if already_enrolled {
            return Err(DomainError::AlreadyEnrolled);
        }
        let sessions = package.sessions();
        let complete = session_slots.len() == sessions.len()
            && session_slots.iter().zip(sessions).all(|(slot, window)| {
                slot.window() == *window
                    && slot.teacher() == package.teacher()
                    && slot.package_session().is_some()
                    && slot.status() == SlotStatus::Open
            });
        if !complete {
            return Err(DomainError::PackageSessionUnavailable);
        }
        if ids.bookings.len() < sessions.len() {
            return Err(DomainError::invalid("bookings", "one booking id per session is needed"));
        }
        // A package with its own policy bounds enrolling by its notice and
        // advance, counted to the first session.
        if let (Some(policy), Some(first)) = (package.policy(), sessions.first()) {
            policy.check_lead(first.start() - now)?;
        }
        let price = package.price(&terms.pricing, terms.currency)?;

        let mut staged = session_slots.to_vec();
        let mut outcome = Outcome::default();
        for (slot, booking) in staged.iter_mut().zip(&ids.bookings) {
            let seat = slot.admit_enrolled(*booking, student, ids.enrollment, &terms.actor, now)?;
            outcome.events.extend(seat.events);
            outcome.audit.extend(seat.audit);
        }

        let discounted =
            best_promotion(&terms.promotions, price, Purchase::Package, now).map(|(p, left)| (p.id(), left));
        let mut payment = Payment::new(
            ids.payment,
            PaymentTarget::Enrollment(ids.enrollment),
            student,
            terms.locale,
            price,
            discounted,
            terms.stub_payments,
            now,
        );
        let mut enrollment = Self {
            id: ids.enrollment,
            package: package.id(),
            student,
            status: EnrollmentStatus::Pending,
            created_at: now,
            cancelled_at: None,
        };
        outcome.events.push(DomainEvent::Enrolled {
            enrollment: enrollment.id,
            package: package.id(),
            student,
            payment: payment.id(),
        });
        if terms.stub_payments {
            payment.settle_stub(now)?;
            enrollment.status = EnrollmentStatus::Active;
            outcome.events.push(DomainEvent::PaymentSettled {
                payment: payment.id(),
                payer: student,
            });
        }
        session_slots.clone_from_slice(&staged);
        Ok(Enrolled {
            enrollment,
            payment,
            outcome,
        })
    }

    /// Rebuilds an enrollment read back from storage.
    pub fn restore(
        id: EnrollmentId,
        package: PackageId,
        student: UserId,
        status: EnrollmentStatus,
        created_at: OffsetDateTime,
        cancelled_at: Option<OffsetDateTime>,
    ) -> Self {
        Self {
            id,
            package,
            student,
            status,
            created_at,
            cancelled_at,
        }
    }

    /// The refund the student would get if they left at `at` (docs/product.md §10).
    /// `session_slots` are the package's session slots; `payment` is the
    /// enrollment's payment. Only the student or staff may ask.
    pub fn quote(
        &self,
        payment: &Payment,
        session_slots: &[Slot],
        credits: &[MakeupCredit],
        total_sessions: u32,
        actor: &Actor,
        at: OffsetDateTime,
    ) -> DomainResult<RefundQuote> {
        if !actor.is_or_staff(self.student) {
            return Err(DomainError::Forbidden);
        }
        self.check_refundable(payment)?;
        let paid_at = payment.paid_at().unwrap_or(payment.created_at());
        refund_quote(
            payment.amount(),
            paid_at,
            &self.sessions(session_slots, credits, at),
            total_sessions,
            at,
        )
    }

    /// Executes the refund at `now`: pays back min(quote, still refundable),
    /// voids the unused make-up credits of the enrollment's teacher-cancelled
    /// sessions (`credits` are the student's credits; redeemed ones count
    /// their session as taken),
    /// cancels the student's confirmed seats starting at or after
    /// `now + 24h` (giving the seats back), and marks payment and enrollment
    /// `refunded` or `partially_refunded`. The store makes it idempotent by
    /// the refund's key ([`Refund::key_for`]); this refuses a second run on
    /// the same enrollment (`invalid_payment_status`), and a refund that would
    /// pay nothing back (`nothing_to_refund`: the seats stay the student's).
    #[allow(clippy::too_many_arguments)]
    pub fn refund(
        &mut self,
        refund: RefundId,
        payment: &mut Payment,
        session_slots: &mut [Slot],
        credits: &[MakeupCredit],
        total_sessions: u32,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> DomainResult<(Refund, Outcome)> {
        let quote = self.quote(payment, session_slots, credits, total_sessions, actor, now)?;
        let refundable = payment.refundable();
        let amount = if quote.amount().minor() < refundable.minor() {
            quote.amount()
        } else {
            refundable
        };
        // Nothing would go back: refuse rather than cancel the seats for
        // nothing (and keep the one-shot refund key unused).
        if amount.minor() == 0 {
            return Err(DomainError::NothingToRefund);
        }
        // The student's bookings made by this enrollment, for its credits.
        let own: Vec<BookingId> = session_slots
            .iter()
            .flat_map(|slot| self.own_bookings(slot).map(|b| b.id()).collect::<Vec<_>>())
            .collect();

        let mut staged = session_slots.to_vec();
        let mut staged_payment = payment.clone();
        let mut outcome = Outcome::default();
        let release_from = now + CONSUMPTION_NOTICE;
        for slot in staged.iter_mut().filter(|s| s.window().start() >= release_from) {
            let seats: Vec<BookingId> = self.own_bookings(slot).map(|b| b.id()).collect();
            for booking in seats {
                let held = slot.booking(booking).map(|b| b.status()) == Some(BookingStatus::Confirmed);
                if held {
                    slot.release_refunded(booking, actor, now, &mut outcome)?;
                }
            }
        }
        staged_payment.record_refund(amount)?;
        // Unused credits for this enrollment's cancelled sessions go: those
        // sessions are paid back now.
        for credit in credits.iter().filter(|c| own.contains(&c.source_booking())) {
            let mut voided = credit.clone();
            if voided.void() {
                outcome.credits.push(voided);
            }
        }
        let status = if staged_payment.refunded() == staged_payment.amount() {
            EnrollmentStatus::Refunded
        } else {
            EnrollmentStatus::PartiallyRefunded
        };
        let refund = Refund {
            id: refund,
            payment: payment.id(),
            enrollment: self.id,
            amount,
            basis: quote.basis(),
            key: Refund::key_for(self.id),
            created_at: now,
        };
        outcome.events.push(DomainEvent::EnrollmentRefunded {
            enrollment: self.id,
            refund: refund.id,
            student: self.student,
            amount,
        });
        session_slots.clone_from_slice(&staged);
        *payment = staged_payment;
        self.status = status;
        self.cancelled_at = Some(now);
        Ok((refund, outcome))
    }

    fn check_refundable(&self, payment: &Payment) -> DomainResult<()> {
        if payment.target() != PaymentTarget::Enrollment(self.id) {
            return Err(DomainError::invalid("payment", "not the payment of this enrollment"));
        }
        match self.status {
            EnrollmentStatus::Active => Ok(()),
            other => Err(DomainError::InvalidPaymentStatus { status: other.as_str() }),
        }
    }

    /// The student's bookings made by this enrollment on a slot.
    fn own_bookings<'s>(&self, slot: &'s Slot) -> impl Iterator<Item = &'s crate::Booking> + use<'s> {
        let id = self.id;
        slot.bookings()
            .iter()
            .filter(move |b| b.source() == BookingSource::Package(id))
    }

    /// The enrollment's sessions as the refund quote sees them.
    ///
    /// A session the teacher cancelled was made up for by a credit; once that
    /// credit is redeemed the student had (or holds) that lesson, so it counts
    /// as taken, consumed at `at` whatever its date, rather than paid back a
    /// second time.
    fn sessions(&self, session_slots: &[Slot], credits: &[MakeupCredit], at: OffsetDateTime) -> Vec<EnrolledSession> {
        let made_up = |booking: BookingId| {
            credits
                .iter()
                .any(|c| c.source_booking() == booking && c.status() == CreditStatus::Redeemed)
        };
        session_slots
            .iter()
            .filter_map(|slot| {
                self.own_bookings(slot).last().map(|b| {
                    if made_up(b.id()) {
                        EnrolledSession {
                            start: at.min(slot.window().start()),
                            status: BookingStatus::Completed,
                        }
                    } else {
                        EnrolledSession {
                            start: slot.window().start(),
                            status: b.status(),
                        }
                    }
                })
            })
            .collect()
    }

    /// Its id.
    pub fn id(&self) -> EnrollmentId {
        self.id
    }
    /// The package.
    pub fn package(&self) -> PackageId {
        self.package
    }
    /// The student.
    pub fn student(&self) -> UserId {
        self.student
    }
    /// Where it is.
    pub fn status(&self) -> EnrollmentStatus {
        self.status
    }
    /// When the student enrolled.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }
    /// When it was refunded.
    pub fn cancelled_at(&self) -> Option<OffsetDateTime> {
        self.cancelled_at
    }
}
