//! Every refusal the rules can give, each with a stable machine code.
//!
//! The code is part of the public contract (front ends and embedders switch on
//! it, the HTTP layer puts it in problem documents), so a variant's code never
//! changes once released; new refusals get new variants.

use crate::Currency;
use thiserror::Error;
use time::Date;

/// A refusal from the booking rules. A command that returns one changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DomainError {
    /// An input value is malformed (empty name, unknown currency, ...).
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// Which input was wrong.
        field: &'static str,
        /// Why, in words a person can act on.
        reason: String,
    },
    /// A time range whose end is not after its start.
    #[error("the end must be after the start")]
    InvalidTimeRange,
    /// A capacity outside 1 (one-to-one) or 2..=max (group).
    #[error("capacity must be 1 for one-to-one or 2..={max} for a group, got {got}")]
    InvalidCapacity {
        /// The requested capacity.
        got: u32,
        /// The platform's maximum group capacity.
        max: u32,
    },
    /// The new slot overlaps (buffers included) another slot of the same teacher.
    #[error("the slot overlaps another slot of this teacher (buffers included)")]
    SlotOverlap,
    /// Every seat of the slot is taken.
    #[error("the slot is full")]
    SlotFull,
    /// A student tried to book a slot they teach.
    #[error("you cannot book your own slot")]
    OwnSlot,
    /// The slot (or lesson) has already started.
    #[error("the slot has already started")]
    SlotInPast,
    /// The slot was cancelled or deleted and takes no bookings.
    #[error("the slot is closed for booking")]
    SlotClosed,
    /// The slot is a course-package session: only enrollment books it.
    #[error("package sessions can only be booked by enrolling in the package")]
    PackageSlot,
    /// The student already has an active booking on this slot.
    #[error("you already have an active booking on this slot")]
    DuplicateBooking,
    /// The slot starts sooner than the teacher's minimum notice allows.
    #[error("this slot starts too soon to be booked (minimum notice {minutes} min)")]
    MinNotice {
        /// The teacher's minimum notice in minutes.
        minutes: i64,
    },
    /// The time is not one the teacher's availability offers: outside their
    /// weekly hours, on an exception, or off the lesson grid.
    #[error("the teacher does not offer this time")]
    OutsideAvailability,
    /// The teacher's local day already has as many bookings as their policy allows.
    #[error("the teacher takes at most {limit} bookings that day")]
    DailyLimitReached {
        /// The teacher's daily limit.
        limit: u32,
    },
    /// The teacher offers no trial lessons.
    #[error("this teacher does not offer trial lessons")]
    TrialNotOffered,
    /// The student already had (or has) a trial lesson with this teacher.
    #[error("you already had a trial lesson with this teacher")]
    TrialAlreadyUsed,
    /// The slot starts later than the teacher's maximum advance allows.
    #[error("this slot is too far ahead to be booked (maximum advance {days} days)")]
    MaxAdvance {
        /// The teacher's maximum advance in days.
        days: i64,
    },
    /// A confirmed booking may no longer be cancelled by the student.
    #[error("the cancellation window has closed ({hours} h before the start)")]
    CancellationWindowClosed {
        /// The window in hours.
        hours: i64,
    },
    /// The booking is not in a status that allows this command.
    #[error("the booking is {status}, which does not allow this")]
    InvalidBookingStatus {
        /// The booking's current status code.
        status: &'static str,
    },
    /// Attendance can only be marked once the lesson has started.
    #[error("the lesson has not started yet")]
    LessonNotStarted,
    /// Only a future slot without active bookings that is not a package session can be deleted.
    #[error("the slot has active bookings and cannot be deleted")]
    SlotHasBookings,
    /// The make-up credit has expired.
    #[error("the make-up credit has expired")]
    CreditExpired,
    /// The make-up credit was already redeemed.
    #[error("the make-up credit was already used")]
    CreditAlreadyUsed,
    /// The make-up credit belongs to another teacher than the slot.
    #[error("the make-up credit is for another teacher")]
    CreditWrongTeacher,
    /// The booking was already reviewed.
    #[error("this booking was already reviewed")]
    AlreadyReviewed,
    /// A review was attempted before the lesson started.
    #[error("a lesson can be reviewed only after it starts")]
    ReviewTooEarly,
    /// Rating outside 1..=5.
    #[error("rating must be between 1 and 5")]
    InvalidRating,
    /// A name or text with characters no person types: control characters,
    /// bidirectional overrides, or nothing but invisible characters.
    #[error("{field} must be readable text: no control or direction-changing characters, not only invisible ones")]
    InvalidText {
        /// Which input was wrong.
        field: &'static str,
    },
    /// A student moving a confirmed lesson onto a slot whose requests wait
    /// for the teacher: the teacher (or staff) moves it instead.
    #[error("the teacher approves lessons there: ask them to move it")]
    ApprovalRequired,
    /// Accepting or declining a seat offer the booking does not hold.
    #[error("this booking holds no seat offer")]
    NoOffer,
    /// Accepting a seat offer after its deadline: it passes to the next in line.
    #[error("the seat offer has expired")]
    OfferExpired,
    /// Turning a waitlist on for a one-to-one slot or a package session.
    #[error("only open group slots keep a waitlist")]
    WaitlistNotAvailable,
    /// IELTS band outside 0..=9 or not a multiple of 0.5.
    #[error("band must be between 0 and 9 in steps of 0.5")]
    InvalidBand,
    /// A local wall-clock time that does not exist in the zone (skipped by a DST change).
    #[error("{local} does not exist in {zone} (daylight saving gap)")]
    DstGap {
        /// The offending local date and time.
        local: String,
        /// The IANA zone.
        zone: String,
    },
    /// A local wall-clock time that happens twice in the zone (repeated by a DST change).
    #[error("{local} is ambiguous in {zone} (daylight saving overlap)")]
    DstAmbiguous {
        /// The offending local date and time.
        local: String,
        /// The IANA zone.
        zone: String,
    },
    /// A course package asks for more sessions than a package may have.
    #[error("a package has at most {max} sessions, got {got}")]
    TooManySessions {
        /// The requested number of sessions.
        got: u32,
        /// The cap ([`crate::MAX_SESSIONS`]).
        max: u32,
    },
    /// A course package's sessions do not fit in the allowed number of days.
    #[error("the sessions run from {first} to {last}; a package must fit within {max_days} days")]
    PackageSpanTooLong {
        /// Local date of the first session.
        first: Date,
        /// Local date of the last session.
        last: Date,
        /// The cap ([`crate::MAX_SPAN_DAYS`]).
        max_days: i64,
    },
    /// Students are enrolled, so the package can no longer be edited or deleted.
    #[error("the package has students and can no longer be edited or deleted")]
    PackageHasStudents,
    /// The pricing config has no per-session rate in this currency, so no price can be computed.
    #[error("no session rate is configured in {currency}")]
    UnpricedCurrency {
        /// The currency asked for.
        currency: Currency,
    },
    /// A teacher tried to enroll in their own package.
    #[error("you cannot enroll in your own package")]
    OwnPackage,
    /// The package is not open for enrollment (draft or closed).
    #[error("the package is not open for enrollment")]
    PackageNotOpen,
    /// The student is already enrolled in this package.
    #[error("you are already enrolled in this package")]
    AlreadyEnrolled,
    /// A session of the package has no bookable slot (it was cancelled or is missing).
    #[error("a session of the package is no longer available")]
    PackageSessionUnavailable,
    /// The payment is already settled.
    #[error("the payment is already paid")]
    AlreadyPaid,
    /// Only stub payments can be settled without a provider.
    #[error("only stub payments can be completed without the payment provider")]
    NotAStubPayment,
    /// The payment (or enrollment) is in a state that does not allow this.
    #[error("the payment is {status}; this is not possible now")]
    InvalidPaymentStatus {
        /// The current status.
        status: &'static str,
    },
    /// Payments are switched off on this platform.
    #[error("payments are not available yet")]
    PaymentsNotAvailable,
    /// Nothing is left to refund.
    #[error("nothing is left to refund")]
    NothingToRefund,
    /// One occurrence of a series was refused, which refused the whole
    /// series (docs/series.md). It carries the occurrence's own refusal,
    /// whose code and kind it takes: a client switches on the same codes
    /// as for one booking, and the words name the occurrence.
    #[error("occurrence {number} ({local}): {reason}")]
    OccurrenceRefused {
        /// The occurrence's number in the series, from 1.
        number: u32,
        /// Its local date and start time in the teacher's zone.
        local: String,
        /// Why it was refused.
        reason: Box<DomainError>,
    },
    /// The referenced thing does not exist (or is not visible to the actor).
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for: `slot`, `booking`, `credit`, ...
        entity: &'static str,
    },
    /// The actor may not do this.
    #[error("you are not allowed to do this")]
    Forbidden,
}

impl DomainError {
    /// What kind of refusal this is, for callers that translate refusals
    /// (an HTTP status, a gRPC code). Decided per variant with no catch-all
    /// arm: a new refusal does not compile until it has a kind.
    pub fn kind(&self) -> RefusalKind {
        match self {
            Self::InvalidInput { .. }
            | Self::InvalidTimeRange
            | Self::InvalidCapacity { .. }
            | Self::InvalidRating
            | Self::InvalidText { .. }
            | Self::InvalidBand
            | Self::DstGap { .. }
            | Self::DstAmbiguous { .. }
            | Self::TooManySessions { .. }
            | Self::PackageSpanTooLong { .. }
            | Self::UnpricedCurrency { .. } => RefusalKind::Invalid,
            Self::OccurrenceRefused { reason, .. } => reason.kind(),
            Self::Forbidden => RefusalKind::Forbidden,
            Self::NotFound { .. } => RefusalKind::NotFound,
            Self::SlotOverlap
            | Self::SlotFull
            | Self::OwnSlot
            | Self::SlotInPast
            | Self::SlotClosed
            | Self::PackageSlot
            | Self::DuplicateBooking
            | Self::MinNotice { .. }
            | Self::MaxAdvance { .. }
            | Self::OutsideAvailability
            | Self::DailyLimitReached { .. }
            | Self::TrialNotOffered
            | Self::TrialAlreadyUsed
            | Self::CancellationWindowClosed { .. }
            | Self::InvalidBookingStatus { .. }
            | Self::LessonNotStarted
            | Self::SlotHasBookings
            | Self::CreditExpired
            | Self::CreditAlreadyUsed
            | Self::CreditWrongTeacher
            | Self::AlreadyReviewed
            | Self::ReviewTooEarly
            | Self::PackageHasStudents
            | Self::OwnPackage
            | Self::PackageNotOpen
            | Self::AlreadyEnrolled
            | Self::PackageSessionUnavailable
            | Self::AlreadyPaid
            | Self::ApprovalRequired
            | Self::NoOffer
            | Self::OfferExpired
            | Self::WaitlistNotAvailable
            | Self::NotAStubPayment
            | Self::InvalidPaymentStatus { .. }
            | Self::NothingToRefund
            | Self::PaymentsNotAvailable => RefusalKind::Conflict,
        }
    }

    /// The stable machine code of this refusal (`slot_full`, `own_slot`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "invalid_input",
            Self::InvalidTimeRange => "invalid_time_range",
            Self::InvalidCapacity { .. } => "invalid_capacity",
            Self::SlotOverlap => "slot_overlap",
            Self::SlotFull => "slot_full",
            Self::OwnSlot => "own_slot",
            Self::SlotInPast => "slot_in_past",
            Self::SlotClosed => "slot_closed",
            Self::PackageSlot => "package_slot",
            Self::DuplicateBooking => "duplicate_booking",
            Self::MinNotice { .. } => "min_notice",
            Self::MaxAdvance { .. } => "max_advance",
            Self::OutsideAvailability => "outside_availability",
            Self::DailyLimitReached { .. } => "daily_limit_reached",
            Self::TrialNotOffered => "trial_not_offered",
            Self::TrialAlreadyUsed => "trial_already_used",
            Self::CancellationWindowClosed { .. } => "cancellation_window_closed",
            Self::InvalidBookingStatus { .. } => "invalid_booking_status",
            Self::LessonNotStarted => "lesson_not_started",
            Self::SlotHasBookings => "slot_has_bookings",
            Self::CreditExpired => "credit_expired",
            Self::CreditAlreadyUsed => "credit_already_used",
            Self::CreditWrongTeacher => "credit_wrong_teacher",
            Self::AlreadyReviewed => "already_reviewed",
            Self::ReviewTooEarly => "review_too_early",
            Self::InvalidRating => "invalid_rating",
            Self::InvalidText { .. } => "invalid_text",
            Self::InvalidBand => "invalid_band",
            Self::DstGap { .. } => "dst_gap",
            Self::DstAmbiguous { .. } => "dst_ambiguous",
            Self::TooManySessions { .. } => "too_many_sessions",
            Self::PackageSpanTooLong { .. } => "package_span_too_long",
            Self::PackageHasStudents => "package_has_students",
            Self::UnpricedCurrency { .. } => "unpriced_currency",
            Self::OwnPackage => "own_package",
            Self::PackageNotOpen => "package_not_open",
            Self::AlreadyEnrolled => "already_enrolled",
            Self::PackageSessionUnavailable => "package_session_unavailable",
            Self::AlreadyPaid => "already_paid",
            Self::ApprovalRequired => "approval_required",
            Self::NoOffer => "no_offer",
            Self::OfferExpired => "offer_expired",
            Self::WaitlistNotAvailable => "waitlist_not_available",
            Self::NotAStubPayment => "not_a_stub_payment",
            Self::InvalidPaymentStatus { .. } => "invalid_payment_status",
            Self::NothingToRefund => "nothing_to_refund",
            Self::PaymentsNotAvailable => "payments_not_available",
            Self::OccurrenceRefused { reason, .. } => reason.code(),
            Self::NotFound { .. } => "not_found",
            Self::Forbidden => "forbidden",
        }
    }

    /// Shorthand for [`DomainError::InvalidInput`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

/// The kinds of refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// The input is malformed or out of range; sending it again cannot succeed.
    Invalid,
    /// The actor may not do this.
    Forbidden,
    /// The thing does not exist, or is not the actor's to see.
    NotFound,
    /// The current state of things refuses it (full, too late, already done).
    Conflict,
}

/// Result of a domain decision.
pub type DomainResult<T> = Result<T, DomainError>;
