//! Time and identity sources, as ports so tests and embedders control them.

use time::OffsetDateTime;
use uuid::Uuid;

/// The current instant. The rules never read the system clock themselves.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// New ids for slots, bookings, credits, ...
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait IdGen: Send + Sync {
    /// A fresh, unique id.
    fn new_id(&self) -> Uuid;
}

/// UUID v7: time-ordered, so new rows land at the end of indexes.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7;

impl IdGen for UuidV7 {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

impl<T: Clock + ?Sized> Clock for std::sync::Arc<T> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

impl<T: IdGen + ?Sized> IdGen for std::sync::Arc<T> {
    fn new_id(&self) -> Uuid {
        (**self).new_id()
    }
}
