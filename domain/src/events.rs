//! What happened, as facts for the outside world. Rules return events; the
//! store writes them to its outbox in the same transaction as the change, and
//! notifications, calendar syncs and reminders are derived from them later.

use crate::{Actor, BookingId, CreditId, EnrollmentId, Money, PackageId, PaymentId, RefundId, SlotId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Why a request was declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// The teacher said no.
    ByTeacher,
    /// Another request took the last seat.
    SlotFilled,
    /// The teacher cancelled the whole slot.
    SlotCancelled,
    /// The teacher turned the slot's waitlist off.
    WaitlistClosed,
}

/// A fact caused by a command. Serialised (tagged by `type`) into the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DomainEvent {
    /// A teacher opened a slot.
    SlotOpened {
        /// The slot.
        slot: SlotId,
        /// Its teacher.
        teacher: UserId,
        /// Its start.
        #[serde(with = "time::serde::rfc3339")]
        start: OffsetDateTime,
    },
    /// A teacher deleted an unbooked slot.
    SlotDeleted {
        /// The slot.
        slot: SlotId,
    },
    /// A teacher cancelled a whole slot.
    SlotCancelled {
        /// The slot.
        slot: SlotId,
    },
    /// A student asked for a seat; the teacher must answer.
    BookingRequested {
        /// The booking.
        booking: BookingId,
        /// Its slot.
        slot: SlotId,
        /// The student.
        student: UserId,
        /// The teacher to notify.
        teacher: UserId,
    },
    /// A booking now holds a seat.
    BookingConfirmed {
        /// The booking.
        booking: BookingId,
        /// Its slot.
        slot: SlotId,
        /// The student to notify.
        student: UserId,
        /// The teacher.
        teacher: UserId,
    },
    /// A request nobody answered, or a place on the waitlist no seat freed
    /// up for, expired when its lesson started.
    BookingExpired {
        /// The booking.
        booking: BookingId,
        /// Its slot.
        slot: SlotId,
        /// The student to notify.
        student: UserId,
        /// Whether it was a place on the waitlist (not a request).
        #[serde(default)]
        waitlisted: bool,
    },
    /// A student joined a full slot's waitlist.
    BookingWaitlisted {
        /// The booking.
        booking: BookingId,
        /// Its slot.
        slot: SlotId,
        /// The student.
        student: UserId,
    },
    /// The head of the line took a freed seat (`auto_promote`).
    WaitlistPromoted {
        /// The booking, now confirmed.
        booking: BookingId,
        /// Its slot.
        slot: SlotId,
        /// The student to notify.
        student: UserId,
        /// The teacher.
        teacher: UserId,
    },
    /// The head of the line was offered a freed seat until `expires_at` (`offer`).
    SeatOffered {
        /// The waitlisted booking.
        booking: BookingId,
        /// Its slot.
        slot: SlotId,
        /// The student to notify.
        student: UserId,
        /// The offer's deadline.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// A seat offer nobody accepted in time expired; it passed on.
    OfferExpired {
        /// The booking, now expired.
        booking: BookingId,
        /// Its slot.
        slot: SlotId,
        /// The student to notify.
        student: UserId,
    },
    /// A request was refused.
    BookingDeclined {
        /// The booking.
        booking: BookingId,
        /// Its slot.
        slot: SlotId,
        /// The student to notify.
        student: UserId,
        /// Why.
        reason: DeclineReason,
    },
    /// The student (or staff for them) cancelled.
    BookingCancelled {
        /// The booking.
        booking: BookingId,
        /// Its slot.
        slot: SlotId,
        /// The student.
        student: UserId,
        /// Who cancelled.
        by: Actor,
    },
    /// A booking moved to another slot of the same teacher: the old one is
    /// `cancelled` (reason `rescheduled`), the new one has its status.
    BookingRescheduled {
        /// The old booking.
        booking: BookingId,
        /// Its slot.
        slot: SlotId,
        /// The new booking.
        moved: BookingId,
        /// Its slot.
        to: SlotId,
        /// The student.
        student: UserId,
        /// The teacher.
        teacher: UserId,
        /// Whether the new booking holds a seat (it was confirmed).
        confirmed: bool,
        /// Who moved it.
        by: Actor,
    },
    /// The teacher cancelled a confirmed lesson; a credit was issued.
    BookingTeacherCancelled {
        /// The booking.
        booking: BookingId,
        /// Its slot.
        slot: SlotId,
        /// The student to notify.
        student: UserId,
        /// The make-up credit the student received.
        credit: CreditId,
    },
    /// A seat was given back; the calendar roster changes.
    SeatReleased {
        /// The slot.
        slot: SlotId,
        /// Confirmed seats after the change.
        booked_count: u32,
    },
    /// A make-up credit was issued.
    CreditIssued {
        /// The credit.
        credit: CreditId,
        /// Its owner.
        student: UserId,
        /// The teacher it is valid with.
        teacher: UserId,
        /// Its expiry.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// A make-up credit became a confirmed booking.
    CreditRedeemed {
        /// The credit.
        credit: CreditId,
        /// The booking it became.
        booking: BookingId,
        /// The slot.
        slot: SlotId,
    },
    /// The teacher marked a lesson completed.
    LessonCompleted {
        /// The booking.
        booking: BookingId,
    },
    /// The teacher marked a student absent.
    LessonNoShow {
        /// The booking.
        booking: BookingId,
    },
    /// A teacher created a course package (its slots are opened with it).
    PackageCreated {
        /// The package.
        package: PackageId,
        /// Its teacher.
        teacher: UserId,
    },
    /// A package without students was deleted with its slots.
    PackageDeleted {
        /// The package.
        package: PackageId,
    },
    /// A student enrolled in a package (one `booking_confirmed` per session follows).
    Enrolled {
        /// The enrollment.
        enrollment: EnrollmentId,
        /// The package.
        package: PackageId,
        /// The student.
        student: UserId,
        /// The payment created for it.
        payment: PaymentId,
    },
    /// A payment was settled.
    PaymentSettled {
        /// The payment.
        payment: PaymentId,
        /// Who paid.
        payer: UserId,
    },
    /// Money went back to a student for an enrollment.
    EnrollmentRefunded {
        /// The enrollment.
        enrollment: EnrollmentId,
        /// The refund.
        refund: RefundId,
        /// The student.
        student: UserId,
        /// What went back.
        amount: Money,
    },
}

impl DomainEvent {
    /// The slot the event is about (the first one, for a move), when it is
    /// about one: effects of one slot's events are applied in order.
    pub fn slot(&self) -> Option<SlotId> {
        match self {
            Self::SlotOpened { slot, .. }
            | Self::SlotDeleted { slot }
            | Self::SlotCancelled { slot }
            | Self::BookingRequested { slot, .. }
            | Self::BookingConfirmed { slot, .. }
            | Self::BookingExpired { slot, .. }
            | Self::BookingWaitlisted { slot, .. }
            | Self::WaitlistPromoted { slot, .. }
            | Self::SeatOffered { slot, .. }
            | Self::OfferExpired { slot, .. }
            | Self::BookingDeclined { slot, .. }
            | Self::BookingCancelled { slot, .. }
            | Self::BookingRescheduled { slot, .. }
            | Self::BookingTeacherCancelled { slot, .. }
            | Self::SeatReleased { slot, .. }
            | Self::CreditRedeemed { slot, .. } => Some(*slot),
            Self::CreditIssued { .. }
            | Self::LessonCompleted { .. }
            | Self::LessonNoShow { .. }
            | Self::PackageCreated { .. }
            | Self::PackageDeleted { .. }
            | Self::Enrolled { .. }
            | Self::PaymentSettled { .. }
            | Self::EnrollmentRefunded { .. } => None,
        }
    }

    /// Stable name of the event kind (the outbox `kind` column).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SlotOpened { .. } => "slot_opened",
            Self::SlotDeleted { .. } => "slot_deleted",
            Self::SlotCancelled { .. } => "slot_cancelled",
            Self::BookingRequested { .. } => "booking_requested",
            Self::BookingConfirmed { .. } => "booking_confirmed",
            Self::BookingDeclined { .. } => "booking_declined",
            Self::BookingExpired { .. } => "booking_expired",
            Self::BookingWaitlisted { .. } => "booking_waitlisted",
            Self::WaitlistPromoted { .. } => "waitlist_promoted",
            Self::SeatOffered { .. } => "seat_offered",
            Self::OfferExpired { .. } => "offer_expired",
            Self::BookingCancelled { .. } => "booking_cancelled",
            Self::BookingTeacherCancelled { .. } => "booking_teacher_cancelled",
            Self::BookingRescheduled { .. } => "booking_rescheduled",
            Self::SeatReleased { .. } => "seat_released",
            Self::CreditIssued { .. } => "credit_issued",
            Self::CreditRedeemed { .. } => "credit_redeemed",
            Self::LessonCompleted { .. } => "lesson_completed",
            Self::LessonNoShow { .. } => "lesson_no_show",
            Self::PackageCreated { .. } => "package_created",
            Self::PackageDeleted { .. } => "package_deleted",
            Self::Enrolled { .. } => "enrolled",
            Self::PaymentSettled { .. } => "payment_settled",
            Self::EnrollmentRefunded { .. } => "enrollment_refunded",
        }
    }
}
