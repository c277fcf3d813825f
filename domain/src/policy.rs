//! A teacher's booking policy (docs/product.md §4) and the platform settings the rules need.

use crate::{Buffers, DomainError, DomainResult, Waitlist};
use serde::{Deserialize, Serialize};
use time::Duration;

/// The longest buffer a policy may keep before or after a lesson. Stores
/// use it to find, without the policy, every slot that could collide.
pub const MAX_BUFFER: Duration = Duration::hours(4);

/// Named cancellation tiers; each is a window before the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancellationTier {
    /// 2 hours.
    Flexible,
    /// 24 hours.
    Moderate,
    /// 48 hours.
    Strict,
}

impl CancellationTier {
    /// Every tier, shortest window first.
    pub const ALL: [Self; 3] = [Self::Flexible, Self::Moderate, Self::Strict];

    /// The tier whose window is exactly `window`, if any.
    pub fn of_window(window: Duration) -> Option<Self> {
        Self::ALL.into_iter().find(|tier| tier.window() == window)
    }

    /// The window of the tier.
    pub fn window(&self) -> Duration {
        match self {
            Self::Flexible => Duration::hours(2),
            Self::Moderate => Duration::hours(24),
            Self::Strict => Duration::hours(48),
        }
    }
}

/// How a teacher's slots may be booked. Built with [`BookingPolicy::default`]
/// and adjusted through the checked setters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingPolicy {
    requires_approval_one_on_one: bool,
    requires_approval_group: bool,
    min_notice: Duration,
    max_advance: Duration,
    cancel_window: Duration,
    buffers: Buffers,
    #[serde(default = "default_length")]
    default_length: Duration,
    #[serde(default)]
    daily_limit: Option<u32>,
    #[serde(default)]
    trial_length: Option<Duration>,
    #[serde(default)]
    waitlist: Option<Waitlist>,
}

fn default_length() -> Duration {
    DEFAULT_LESSON_LENGTH
}

/// The lesson length of a policy nobody changed.
pub const DEFAULT_LESSON_LENGTH: Duration = Duration::minutes(50);

/// The shortest lesson length a policy may set.
pub const MIN_LESSON_LENGTH: Duration = Duration::minutes(10);

/// The longest lesson (and lesson length a policy may set).
pub const MAX_LESSON_LENGTH: Duration = Duration::hours(8);

/// The largest daily limit a policy may set.
pub const MAX_DAILY_LIMIT: u32 = 100;

/// The longest minimum notice and cancel window a policy may set: a year.
pub const MAX_NOTICE: Duration = Duration::days(366);

/// The longest maximum advance a policy may set: three years.
pub const MAX_ADVANCE: Duration = Duration::days(3 * 366);

impl Default for BookingPolicy {
    fn default() -> Self {
        Self {
            requires_approval_one_on_one: true,
            requires_approval_group: false,
            min_notice: Duration::ZERO,
            max_advance: Duration::days(90),
            cancel_window: CancellationTier::Moderate.window(),
            buffers: Buffers::default(),
            default_length: DEFAULT_LESSON_LENGTH,
            daily_limit: None,
            trial_length: None,
            waitlist: None,
        }
    }
}

fn lesson_length(field: &'static str, d: Duration) -> DomainResult<Duration> {
    let whole_minutes = d.subsec_nanoseconds() == 0 && d.whole_seconds() % 60 == 0;
    if d < MIN_LESSON_LENGTH || d > MAX_LESSON_LENGTH || !whole_minutes {
        return Err(DomainError::invalid(
            field,
            "must be whole minutes from 10 minutes to 8 hours",
        ));
    }
    Ok(d)
}

fn non_negative(field: &'static str, d: Duration) -> DomainResult<Duration> {
    if d.is_negative() {
        Err(DomainError::invalid(field, "must not be negative"))
    } else {
        Ok(d)
    }
}

/// A notice or cancel window: from zero to [`MAX_NOTICE`].
fn notice(field: &'static str, d: Duration) -> DomainResult<Duration> {
    if non_negative(field, d)? > MAX_NOTICE {
        return Err(DomainError::invalid(field, "must be at most 366 days"));
    }
    Ok(d)
}

impl BookingPolicy {
    /// Whether a request on a slot of this capacity waits for the teacher.
    pub fn requires_approval(&self, one_on_one: bool) -> bool {
        if one_on_one {
            self.requires_approval_one_on_one
        } else {
            self.requires_approval_group
        }
    }

    /// Sets the approval switches for 1:1 and group slots.
    pub fn with_approval(mut self, one_on_one: bool, group: bool) -> Self {
        self.requires_approval_one_on_one = one_on_one;
        self.requires_approval_group = group;
        self
    }

    /// Minimum time between booking and start.
    pub fn min_notice(&self) -> Duration {
        self.min_notice
    }

    /// Sets the minimum notice (zero to [`MAX_NOTICE`]).
    pub fn with_min_notice(mut self, d: Duration) -> DomainResult<Self> {
        self.min_notice = notice("min_notice", d)?;
        Ok(self)
    }

    /// Checks the time from a booking to the lesson's start against the
    /// minimum notice (`min_notice`) and the maximum advance (`max_advance`).
    pub fn check_lead(&self, until_start: Duration) -> DomainResult<()> {
        if until_start < self.min_notice {
            return Err(DomainError::MinNotice {
                minutes: self.min_notice.whole_minutes(),
            });
        }
        if until_start > self.max_advance {
            return Err(DomainError::MaxAdvance {
                days: self.max_advance.whole_days(),
            });
        }
        Ok(())
    }

    /// Maximum time between booking and start.
    pub fn max_advance(&self) -> Duration {
        self.max_advance
    }

    /// Sets the maximum advance (positive, at most [`MAX_ADVANCE`]).
    pub fn with_max_advance(mut self, d: Duration) -> DomainResult<Self> {
        if !d.is_positive() || d > MAX_ADVANCE {
            return Err(DomainError::invalid(
                "max_advance",
                "must be positive and at most 1098 days",
            ));
        }
        self.max_advance = d;
        Ok(self)
    }

    /// How long before the start a student may still cancel a confirmed booking.
    pub fn cancel_window(&self) -> Duration {
        self.cancel_window
    }

    /// Sets the cancellation window (zero to [`MAX_NOTICE`]).
    pub fn with_cancel_window(mut self, d: Duration) -> DomainResult<Self> {
        self.cancel_window = notice("cancel_window", d)?;
        Ok(self)
    }

    /// Sets the cancellation window to a named tier.
    pub fn with_cancellation_tier(mut self, tier: CancellationTier) -> Self {
        self.cancel_window = tier.window();
        self
    }

    /// Free time kept around each lesson.
    pub fn buffers(&self) -> Buffers {
        self.buffers
    }

    /// Sets the buffers (not negative, at most 4 hours each).
    pub fn with_buffers(mut self, before: Duration, after: Duration) -> DomainResult<Self> {
        for (field, d) in [("buffer_before", before), ("buffer_after", after)] {
            non_negative(field, d)?;
            if d > MAX_BUFFER {
                return Err(DomainError::invalid(field, "must be at most 4 hours"));
            }
        }
        self.buffers = Buffers { before, after };
        Ok(self)
    }

    /// The length of a lesson booked from the teacher's bookable times:
    /// the grid their weekly hours are stepped by.
    pub fn default_length(&self) -> Duration {
        self.default_length
    }

    /// Sets the lesson length: whole minutes from 10 minutes to 8 hours.
    pub fn with_default_length(mut self, d: Duration) -> DomainResult<Self> {
        self.default_length = lesson_length("default_length", d)?;
        Ok(self)
    }

    /// The length of a trial lesson, when the teacher offers them (at most
    /// one per student and teacher).
    pub fn trial_length(&self) -> Option<Duration> {
        self.trial_length
    }

    /// Offers trial lessons of this length (whole minutes from 10 minutes
    /// to 8 hours), or stops offering them.
    pub fn with_trial(mut self, length: Option<Duration>) -> DomainResult<Self> {
        self.trial_length = length.map(|d| lesson_length("trial_length", d)).transpose()?;
        Ok(self)
    }

    /// At most this many bookings on one of the teacher's local days, if limited.
    pub fn daily_limit(&self) -> Option<u32> {
        self.daily_limit
    }

    /// Sets the daily limit (1 to [`MAX_DAILY_LIMIT`]), or lifts it.
    pub fn with_daily_limit(mut self, limit: Option<u32>) -> DomainResult<Self> {
        if limit.is_some_and(|n| !(1..=MAX_DAILY_LIMIT).contains(&n)) {
            return Err(DomainError::invalid("daily_limit", "must be 1 to 100"));
        }
        self.daily_limit = limit;
        Ok(self)
    }
}

impl BookingPolicy {
    /// The waitlist a new group slot of the teacher keeps unless its teacher
    /// says otherwise when opening it (docs/waitlists.md).
    pub fn waitlist(&self) -> Option<Waitlist> {
        self.waitlist
    }

    /// The waitlist a new slot of `capacity` seats keeps when its teacher
    /// does not choose: the default line for a group slot, none for a 1:1
    /// lesson (which keeps no line). Opening one slot and opening a slot
    /// series both ask this, so they cannot disagree.
    pub fn default_waitlist_for(&self, capacity: u32) -> Option<Waitlist> {
        self.waitlist.filter(|_| capacity > 1)
    }

    /// Sets (or clears) the default waitlist of new group slots.
    pub fn with_waitlist(mut self, waitlist: Option<Waitlist>) -> Self {
        self.waitlist = waitlist;
        self
    }
}

/// Platform-wide settings the rules depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformSettings {
    max_group_capacity: u32,
    credit_validity: Duration,
}

impl Default for PlatformSettings {
    fn default() -> Self {
        Self {
            max_group_capacity: 4,
            credit_validity: Duration::days(30),
        }
    }
}

impl PlatformSettings {
    /// Builds settings: group capacity at least 2, credits valid at least a day.
    pub fn new(max_group_capacity: u32, credit_validity: Duration) -> DomainResult<Self> {
        if max_group_capacity < 2 {
            return Err(DomainError::invalid("max_group_capacity", "must be at least 2"));
        }
        if credit_validity < Duration::days(1) {
            return Err(DomainError::invalid("credit_validity", "must be at least one day"));
        }
        Ok(Self {
            max_group_capacity,
            credit_validity,
        })
    }

    /// Largest group slot capacity (default 4).
    pub fn max_group_capacity(&self) -> u32 {
        self.max_group_capacity
    }

    /// How long a make-up credit stays valid (default 30 days).
    pub fn credit_validity(&self) -> Duration {
        self.credit_validity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec() {
        let p = BookingPolicy::default();
        assert!(p.requires_approval(true));
        assert!(!p.requires_approval(false));
        assert_eq!(p.min_notice(), Duration::ZERO);
        assert_eq!(p.max_advance(), Duration::days(90));
        assert_eq!(p.cancel_window(), Duration::hours(24));
        let s = PlatformSettings::default();
        assert_eq!(s.max_group_capacity(), 4);
        assert_eq!(s.credit_validity(), Duration::days(30));
    }

    /// Opening a slot and opening a slot series both take their default
    /// line from here (docs/waitlists.md): a group slot keeps it, a 1:1
    /// lesson never does.
    #[test]
    fn only_a_group_slot_keeps_the_default_waitlist() {
        let with = BookingPolicy::default().with_waitlist(Some(Waitlist::AutoPromote));
        assert_eq!(with.default_waitlist_for(1), None);
        assert_eq!(with.default_waitlist_for(2), Some(Waitlist::AutoPromote));
        assert_eq!(BookingPolicy::default().default_waitlist_for(2), None);
    }

    #[test]
    fn bad_settings_are_refused() {
        let p = BookingPolicy::default();
        assert!(p.with_min_notice(Duration::minutes(-1)).is_err());
        assert!(p.with_max_advance(Duration::ZERO).is_err());
        assert!(p.with_buffers(Duration::hours(5), Duration::ZERO).is_err());
        assert!(p.with_min_notice(MAX_NOTICE).is_ok());
        assert!(p.with_min_notice(MAX_NOTICE + Duration::minutes(1)).is_err());
        assert!(p.with_cancel_window(MAX_NOTICE + Duration::minutes(1)).is_err());
        assert!(p.with_max_advance(MAX_ADVANCE).is_ok());
        assert!(p.with_max_advance(Duration::minutes(100_000_000_000)).is_err());
        for tier in CancellationTier::ALL {
            assert_eq!(CancellationTier::of_window(tier.window()), Some(tier));
        }
        assert_eq!(CancellationTier::of_window(Duration::hours(3)), None);
        assert!(PlatformSettings::new(1, Duration::days(30)).is_err());
        assert_eq!(
            p.with_cancellation_tier(CancellationTier::Strict).cancel_window(),
            Duration::hours(48)
        );
    }
}
