//! The pure rules of tutorbook: slots, bookings, make-up credits, reviews and
//! lesson reports. No I/O, no async, no clock: time comes in as `now`, ids come
//! in from the caller, and every command returns what it caused (events and
//! audit entries) for a store to persist atomically.

mod actor;
mod audit;
mod booking;
mod capacity;
mod credit;
mod error;
mod events;
mod ids;
mod meeting;
mod money;
mod policy;
mod report;
mod review;
mod slot;
mod window;
mod zone;

pub use actor::{Actor, Role};
pub use audit::AuditEntry;
pub use booking::{Booking, BookingSource, BookingStatus};
pub use capacity::Capacity;
pub use credit::{CreditStatus, MakeupCredit};
pub use error::{DomainError, DomainResult};
pub use events::{DeclineReason, DomainEvent};
pub use ids::{BookingId, CreditId, PackageSessionId, ReportId, ReviewId, SlotId, UserId};
pub use meeting::{CalendarStatus, Meeting, MeetingProvider};
pub use money::{Currency, Money};
pub use policy::{BookingPolicy, CancellationTier, PlatformSettings};
pub use report::{Band, Bands, LessonReport, MAX_COMMENT_CHARS, Progress, ReportContent};
pub use review::{MAX_REVIEW_CHARS, Rating, Review, TeacherRating};
pub use slot::{Attendance, Outcome, Slot, SlotDraft, SlotStatus};
pub use window::{Buffers, LessonWindow};
pub use zone::{DEFAULT_ZONE, Zone};
