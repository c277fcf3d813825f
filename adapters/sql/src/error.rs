//! Errors inside a transaction, and their mapping to the ports' error: a
//! constraint the database enforces is reported as the domain refusal it
//! stands for, never as a storage failure.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use tutorbook_domain::DomainError;
use tutorbook_ports::Error;

/// What can go wrong inside a store transaction.
#[derive(Debug)]
pub(crate) enum TxError {
    /// A refusal or corrupt row: roll back and report as is.
    Port(Error),
    /// The database said no.
    Db(DieselError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        Self::Db(e)
    }
}

impl From<Error> for TxError {
    fn from(e: Error) -> Self {
        Self::Port(e)
    }
}

impl From<DomainError> for TxError {
    fn from(e: DomainError) -> Self {
        Self::Port(e.into())
    }
}

impl From<TxError> for Error {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Port(e) => e,
            TxError::Db(e) => map_db_error(e),
        }
    }
}

/// Maps constraint violations to the domain refusals they guard.
pub(crate) fn map_db_error(e: DieselError) -> Error {
    if let DieselError::DatabaseError(kind, info) = &e {
        // Postgres names the constraint; SQLite only says it in the message.
        let name = info.constraint_name().unwrap_or_default();
        let message = info.message();
        let about = |needle: &str| name.contains(needle) || message.contains(needle);
        let refusal = match kind {
            DatabaseErrorKind::ExclusionViolation if about("slots_no_overlap") => Some(DomainError::SlotOverlap),
            DatabaseErrorKind::CheckViolation if about("slots_seats") => Some(DomainError::SlotFull),
            DatabaseErrorKind::UniqueViolation if about("bookings_one_active") || about("bookings.slot_id") => {
                Some(DomainError::DuplicateBooking)
            }
            DatabaseErrorKind::UniqueViolation if about("reviews_booking_id") || about("reviews.booking_id") => {
                Some(DomainError::AlreadyReviewed)
            }
            DatabaseErrorKind::UniqueViolation
                if about("enrollments_package_id_student_id") || about("enrollments.package_id") =>
            {
                Some(DomainError::AlreadyEnrolled)
            }
            DatabaseErrorKind::UniqueViolation if about("credits_redeemed_booking_id") => {
                Some(DomainError::CreditAlreadyUsed)
            }
            _ => None,
        };
        if let Some(refusal) = refusal {
            return refusal.into();
        }
    }
    Error::Storage(e.to_string())
}
