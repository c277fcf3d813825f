//! Time and identity sources, as ports so tests and embedders control them.

use time::OffsetDateTime;
use uuid::Uuid;

/// The current instant. The rules never read the system clock themselves.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's clock, truncated to whole microseconds: the
/// precision every store keeps, so an instant reads back exactly as written.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    // The one place that reads the operating system's clock.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_time_has_the_stores_microsecond_precision() {
        for _ in 0..100 {
            assert_eq!(SystemClock.now().nanosecond() % 1_000, 0);
        }
    }

    #[test]
    fn generated_ids_are_time_ordered_v7() {
        let (a, b) = (UuidV7.new_id(), UuidV7.new_id());
        assert_eq!(a.get_version_num(), 7);
        assert!(a < b);
    }
}
