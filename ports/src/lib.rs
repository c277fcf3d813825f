//! Driven ports of tutorbook (store, clock, id and outbox traits) and the use
//! cases built on them. Adapters implement the traits; embedders call the use
//! cases. With the `mock` feature every trait has a mockall mock
//! (`MockBookingStore`, `MockClock`, ...).

mod clock;
mod directory;
pub mod effects;
mod error;
mod idempotency;
mod packages;
mod store;
mod unit;
mod usecases;
mod users;

pub use clock::{Clock, IdGen, SystemClock, UuidV7};
pub use directory::{Contact, Directory};
pub use error::{Error, ErrorKind, Result};
pub use idempotency::{Claim, IdempotencyRecord, IdempotencyStore, StoredResponse};
pub use packages::{EnrollmentView, PackageStore, PackageView, PricingStore};
pub use store::{
    AvailabilityStore, BookingStore, Browse, Outbox, OutboxMessage, Overdue, PolicyStore, ReportStore, ReviewStore,
    SeriesStore,
};
pub use unit::{
    Changes, Decision, Loaded, LoadedPackage, LockSet, ScheduleLock, Unit, UnitOfWork, execute, widest_search_range,
};
pub use usecases::{
    BROWSE_HORIZON, BookableTimes, Bookings, BrowsePage, DEFAULT_BROWSE_CACHE, Feedback, LATEST_REVIEWS,
    MAX_BROWSE_STARTS, MAX_CACHED_SLOTS, MAX_DISPLAY_NAME, MAX_USERS_PAGE, OpenSlot, Packages, PaymentSettings,
    Schedules, SeriesAnswer, SeriesCancelled, TeacherFeedback, Users, WaitlistChoice, Week,
};
pub use users::{ProfileUpdate, User, UserStore};

#[cfg(any(test, feature = "mock"))]
pub use clock::{MockClock, MockIdGen};
#[cfg(any(test, feature = "mock"))]
pub use directory::MockDirectory;
#[cfg(any(test, feature = "mock"))]
pub use idempotency::MockIdempotencyStore;
#[cfg(any(test, feature = "mock"))]
pub use packages::{MockPackageStore, MockPricingStore};
#[cfg(any(test, feature = "mock"))]
pub use store::{
    MockAvailabilityStore, MockBookingStore, MockOutbox, MockPolicyStore, MockReportStore, MockReviewStore,
    MockSeriesStore,
};
#[cfg(any(test, feature = "mock"))]
pub use unit::MockUnitOfWork;
#[cfg(any(test, feature = "mock"))]
pub use users::MockUserStore;
