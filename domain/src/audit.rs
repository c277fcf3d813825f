//! The history of a booking: every status change with who, when and why.

use crate::{BookingId, BookingStatus, SlotId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One status change of one booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The booking that changed.
    pub booking: BookingId,
    /// Its slot.
    pub slot: SlotId,
    /// Who caused it: the acting user, also for the declines their action
    /// caused (a filled or cancelled slot); `None` for the system (expiry).
    pub actor: Option<UserId>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Status before; `None` when the booking was created.
    pub from: Option<BookingStatus>,
    /// Status after.
    pub to: BookingStatus,
    /// Why, in a stable word (`requested`, `approved`, `slot_filled`, ...).
    pub reason: String,
}
