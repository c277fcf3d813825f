//! Seats on a slot.

use crate::{DomainError, DomainResult, PlatformSettings};
use serde::{Deserialize, Serialize};

/// Seats of a slot: 1 for a one-to-one lesson, `2..=max_group_capacity` for a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Capacity(u32);

impl Capacity {
    /// A one-to-one slot.
    pub const ONE_ON_ONE: Self = Self(1);

    /// Checks `seats` against the platform's maximum group capacity.
    pub fn new(seats: u32, settings: &PlatformSettings) -> DomainResult<Self> {
        let max = settings.max_group_capacity();
        if seats == 0 || seats > max {
            return Err(DomainError::InvalidCapacity { got: seats, max });
        }
        Ok(Self(seats))
    }

    /// Rebuilds a stored capacity (any positive number; settings may have changed since).
    pub fn restore(seats: u32) -> DomainResult<Self> {
        if seats == 0 {
            return Err(DomainError::invalid("capacity", "must be positive"));
        }
        Ok(Self(seats))
    }

    /// Number of seats.
    pub fn get(&self) -> u32 {
        self.0
    }

    /// A single seat: a one-to-one lesson.
    pub fn is_one_on_one(&self) -> bool {
        self.0 == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_bounds_follow_the_platform_setting() {
        let settings = PlatformSettings::default();
        assert!(Capacity::new(1, &settings).unwrap().is_one_on_one());
        assert_eq!(Capacity::new(4, &settings).unwrap().get(), 4);
        assert_eq!(
            Capacity::new(5, &settings).unwrap_err(),
            DomainError::InvalidCapacity { got: 5, max: 4 }
        );
        assert_eq!(Capacity::new(0, &settings).unwrap_err().code(), "invalid_capacity");
    }
}
