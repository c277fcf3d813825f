//! Make-up credits (docs/product.md §6): issued when a teacher cancels a confirmed lesson,
//! redeemable once into another future slot of the same teacher.

use crate::{
    Actor, BookingId, CreditId, DomainError, DomainEvent, DomainResult, Outcome, PlatformSettings, Slot, UserId,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Stored state of a credit. An `active` credit past its expiry reads as
/// expired (see [`MakeupCredit::status_at`]) even before a job marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditStatus {
    /// Can be redeemed until it expires.
    Active,
    /// Turned into a booking.
    Redeemed,
    /// Ran out unused.
    Expired,
}

impl CreditStatus {
    /// Stable text form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Redeemed => "redeemed",
            Self::Expired => "expired",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Redeemed, Self::Expired]
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// A make-up credit of one student with one teacher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MakeupCredit {
    id: CreditId,
    student: UserId,
    teacher: UserId,
    source_booking: BookingId,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    status: CreditStatus,
    redeemed_booking: Option<BookingId>,
}

impl MakeupCredit {
    /// Issues a credit valid for the platform's credit validity from `now`.
    pub(crate) fn issue(
        id: CreditId,
        student: UserId,
        teacher: UserId,
        source_booking: BookingId,
        settings: &PlatformSettings,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            student,
            teacher,
            source_booking,
            issued_at: now,
            expires_at: now + settings.credit_validity(),
            status: CreditStatus::Active,
            redeemed_booking: None,
        }
    }

    /// Rebuilds a stored credit.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        id: CreditId,
        student: UserId,
        teacher: UserId,
        source_booking: BookingId,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
        status: CreditStatus,
        redeemed_booking: Option<BookingId>,
    ) -> DomainResult<Self> {
        if (status == CreditStatus::Redeemed) != redeemed_booking.is_some() {
            return Err(DomainError::invalid(
                "credit",
                format!("credit {id}: a redeemed credit names its booking, no other does"),
            ));
        }
        Ok(Self {
            id,
            student,
            teacher,
            source_booking,
            issued_at,
            expires_at,
            status,
            redeemed_booking,
        })
    }

    /// Its id.
    pub fn id(&self) -> CreditId {
        self.id
    }

    /// Its owner.
    pub fn student(&self) -> UserId {
        self.student
    }

    /// The teacher it can be used with.
    pub fn teacher(&self) -> UserId {
        self.teacher
    }

    /// The teacher-cancelled booking it replaces.
    pub fn source_booking(&self) -> BookingId {
        self.source_booking
    }

    /// When it was issued.
    pub fn issued_at(&self) -> OffsetDateTime {
        self.issued_at
    }

    /// When it stops being usable.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// Stored status.
    pub fn status(&self) -> CreditStatus {
        self.status
    }

    /// Status as seen at `now`: an active credit past its expiry is expired.
    pub fn status_at(&self, now: OffsetDateTime) -> CreditStatus {
        if self.status == CreditStatus::Active && now >= self.expires_at {
            CreditStatus::Expired
        } else {
            self.status
        }
    }

    /// The booking it became, once redeemed.
    pub fn redeemed_booking(&self) -> Option<BookingId> {
        self.redeemed_booking
    }

    /// Redeems the credit into `slot`: a confirmed booking without approval,
    /// the seat taken and the credit used, all or nothing.
    pub fn redeem_into(
        &mut self,
        slot: &mut Slot,
        booking: BookingId,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> DomainResult<Outcome> {
        // A credit is its student's (and staff's): to anyone else it does
        // not exist.
        if !actor.is_or_staff(self.student) {
            return Err(DomainError::NotFound { entity: "credit" });
        }
        match self.status_at(now) {
            CreditStatus::Active => {}
            CreditStatus::Redeemed => return Err(DomainError::CreditAlreadyUsed),
            CreditStatus::Expired => return Err(DomainError::CreditExpired),
        }
        if slot.teacher() != self.teacher {
            return Err(DomainError::CreditWrongTeacher);
        }
        // The slot checks everything else before it changes anything; only then the credit changes.
        let mut outcome = slot.admit_with_credit(booking, self.student, self.id, actor, now)?;
        self.status = CreditStatus::Redeemed;
        self.redeemed_booking = Some(booking);
        outcome.events.push(DomainEvent::CreditRedeemed {
            credit: self.id,
            booking,
            slot: slot.id(),
        });
        outcome.credits.push(self.clone());
        Ok(outcome)
    }

    /// Voids an unused credit because what it made up for was refunded
    /// (docs/product.md §10: the cancelled session is paid back instead); returns whether
    /// it changed. A voided credit reads as expired.
    pub(crate) fn void(&mut self) -> bool {
        let active = self.status == CreditStatus::Active;
        if active {
            self.status = CreditStatus::Expired;
        }
        active
    }

    /// Marks an active credit past its expiry as expired (the background
    /// job's decision); returns whether it changed.
    pub fn expire_if_due(&mut self, now: OffsetDateTime) -> bool {
        let due = self.status == CreditStatus::Active && now >= self.expires_at;
        if due {
            self.status = CreditStatus::Expired;
        }
        due
    }
}
