//! A booking: one student's place (or wish for one) on one slot.

use crate::{BookingId, CreditId, EnrollmentId, SlotId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a booking is in its life (docs/product.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Waiting for the teacher's approval; holds no seat.
    Requested,
    /// Holds a seat.
    Confirmed,
    /// In line for a seat on a full group slot.
    Waitlisted,
    /// Refused by the teacher, or by a full slot.
    Declined,
    /// Cancelled by the student.
    Cancelled,
    /// Cancelled by the teacher; the student got a make-up credit.
    TeacherCancelled,
    /// A request nobody answered before the start.
    Expired,
    /// The lesson took place.
    Completed,
    /// The student did not attend.
    NoShow,
}

impl BookingStatus {
    /// Every status, for exhaustive tests and storage round trips.
    pub const ALL: [Self; 9] = [
        Self::Requested,
        Self::Confirmed,
        Self::Waitlisted,
        Self::Declined,
        Self::Cancelled,
        Self::TeacherCancelled,
        Self::Expired,
        Self::Completed,
        Self::NoShow,
    ];

    /// Stable text form, as stored and sent over the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Confirmed => "confirmed",
            Self::Waitlisted => "waitlisted",
            Self::Declined => "declined",
            Self::Cancelled => "cancelled",
            Self::TeacherCancelled => "teacher_cancelled",
            Self::Expired => "expired",
            Self::Completed => "completed",
            Self::NoShow => "no_show",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// Active bookings block a duplicate on the same slot: requested, confirmed, waitlisted.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Requested | Self::Confirmed | Self::Waitlisted)
    }

    /// Whether the booking holds a seat.
    pub fn holds_seat(&self) -> bool {
        *self == Self::Confirmed
    }
}

/// How a booking came to be: a credit redemption remembers its credit, a
/// package seat its enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum BookingSource {
    /// A plain request by the student.
    Direct,
    /// The redemption of a make-up credit.
    Credit(CreditId),
    /// A session seat taken by enrolling in a course package.
    Package(EnrollmentId),
    /// A trial lesson booked from the teacher's bookable times (at most one
    /// per student and teacher; `docs/availability.md`).
    Trial,
}

impl BookingStatus {
    /// The ends of a trial booking that give the student their trial back:
    /// the teacher declined it, it expired, or the teacher cancelled it.
    pub const FREEING_A_TRIAL: [Self; 3] = [Self::Declined, Self::Expired, Self::TeacherCancelled];
}

/// One student's booking on one slot. Changed only through its [`crate::Slot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub(crate) id: BookingId,
    pub(crate) slot: SlotId,
    pub(crate) student: UserId,
    pub(crate) status: BookingStatus,
    pub(crate) source: BookingSource,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
    /// Until when a waitlisted student is offered a freed seat
    /// (docs/waitlists.md); `None` for everyone else.
    #[serde(default)]
    pub(crate) offer_expires_at: Option<OffsetDateTime>,
}

impl Booking {
    /// Rebuilds a booking read back from storage.
    pub fn restore(
        id: BookingId,
        slot: SlotId,
        student: UserId,
        status: BookingStatus,
        source: BookingSource,
        created_at: OffsetDateTime,
        updated_at: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            slot,
            student,
            status,
            source,
            created_at,
            updated_at,
            offer_expires_at: None,
        }
    }

    /// Restores the deadline of an outstanding seat offer read back from
    /// storage (only a waitlisted booking holds one).
    pub fn with_offer(mut self, expires_at: Option<OffsetDateTime>) -> Self {
        self.offer_expires_at = expires_at.filter(|_| self.status == BookingStatus::Waitlisted);
        self
    }

    /// Its id.
    pub fn id(&self) -> BookingId {
        self.id
    }

    /// The slot it is on.
    pub fn slot(&self) -> SlotId {
        self.slot
    }

    /// The student who booked.
    pub fn student(&self) -> UserId {
        self.student
    }

    /// Current status.
    pub fn status(&self) -> BookingStatus {
        self.status
    }

    /// How it was made.
    pub fn source(&self) -> BookingSource {
        self.source
    }

    /// When it was made.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// When its status last changed.
    pub fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }

    /// Until when this waitlisted booking is offered a freed seat, if it is
    /// (docs/waitlists.md).
    pub fn offer_expires_at(&self) -> Option<OffsetDateTime> {
        self.offer_expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_round_trips() {
        for status in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(status.as_str()), Some(status));
            let json = format!("\"{}\"", status.as_str());
            assert_eq!(serde_json::from_str::<BookingStatus>(&json).unwrap(), status);
        }
        assert_eq!(BookingStatus::parse("pending"), None);
    }

    #[test]
    fn only_confirmed_holds_a_seat() {
        let seats: Vec<_> = BookingStatus::ALL
            .into_iter()
            .filter(BookingStatus::holds_seat)
            .collect();
        assert_eq!(seats, vec![BookingStatus::Confirmed]);
        let active: Vec<_> = BookingStatus::ALL
            .into_iter()
            .filter(BookingStatus::is_active)
            .collect();
        assert_eq!(
            active,
            vec![
                BookingStatus::Requested,
                BookingStatus::Confirmed,
                BookingStatus::Waitlisted
            ]
        );
    }
}
