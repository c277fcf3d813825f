//! A lesson's time window in UTC, and the plausible range every instant and
//! date the product accepts lies in (docs/product.md §14).

use crate::{DomainError, DomainResult, MAX_LESSON_LENGTH};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// The earliest instant the product accepts: lessons, ranges, bookable times.
pub const EARLIEST_INSTANT: OffsetDateTime = time::macros::datetime!(2000-01-01 00:00 UTC);

/// The end of the instants the product accepts (exclusive).
pub const LATEST_INSTANT: OffsetDateTime = time::macros::datetime!(2100-01-01 00:00 UTC);

/// Refuses an instant outside [`EARLIEST_INSTANT`]..[`LATEST_INSTANT`]
/// (`invalid_input` naming `field`). Far-off instants mean nothing to a
/// tutoring school and would only overflow the date arithmetic around them,
/// so every instant a client sends is checked before anything adds to it.
pub fn check_instant(field: &'static str, at: OffsetDateTime) -> DomainResult<()> {
    if (EARLIEST_INSTANT..LATEST_INSTANT).contains(&at) {
        Ok(())
    } else {
        Err(DomainError::invalid(field, "must be between 2000 and 2100"))
    }
}

/// Refuses a calendar date outside the years 2000 to 2099, as
/// [`check_instant`] does for instants.
pub fn check_date(field: &'static str, date: Date) -> DomainResult<()> {
    if (2000..2100).contains(&date.year()) {
        Ok(())
    } else {
        Err(DomainError::invalid(field, "must be between 2000 and 2100"))
    }
}

/// Half-open `[start, end)` in UTC with `end > start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LessonWindow {
    start: OffsetDateTime,
    end: OffsetDateTime,
}

impl LessonWindow {
    /// Builds a window; the end must be after the start (`invalid_time_range`),
    /// both between 2000 and 2100, and the lesson at most
    /// [`MAX_LESSON_LENGTH`] long (`invalid_input`). Both are normalised to UTC.
    pub fn new(start: OffsetDateTime, end: OffsetDateTime) -> DomainResult<Self> {
        check_instant("start", start)?;
        check_instant("end", end)?;
        if end <= start {
            return Err(DomainError::InvalidTimeRange);
        }
        if end - start > MAX_LESSON_LENGTH {
            return Err(DomainError::invalid("end", "a lesson lasts at most 8 hours"));
        }
        Ok(Self {
            start: start.to_offset(UtcOffset::UTC),
            end: end.to_offset(UtcOffset::UTC),
        })
    }

    /// Start instant (UTC).
    pub fn start(&self) -> OffsetDateTime {
        self.start
    }

    /// End instant (UTC).
    pub fn end(&self) -> OffsetDateTime {
        self.end
    }

    /// Length of the lesson.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// The window widened by the teacher's buffers: the time the lesson blocks.
    pub fn padded(&self, buffers: Buffers) -> (OffsetDateTime, OffsetDateTime) {
        (self.start - buffers.before, self.end + buffers.after)
    }

    /// True when the two lessons, each with its buffers, would overlap.
    pub fn collides_with(&self, other: &Self, buffers: Buffers) -> bool {
        let (a_start, a_end) = self.padded(buffers);
        let (b_start, b_end) = other.padded(buffers);
        a_start < b_end && b_start < a_end
    }
}

/// Free time a teacher keeps before and after each lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Buffers {
    /// Time kept free before a lesson.
    pub before: Duration,
    /// Time kept free after a lesson.
    pub after: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn w(start: OffsetDateTime, minutes: i64) -> LessonWindow {
        LessonWindow::new(start, start + Duration::minutes(minutes)).unwrap()
    }

    #[test]
    fn end_must_follow_start() {
        let t = datetime!(2026-12-01 10:00 UTC);
        assert_eq!(LessonWindow::new(t, t), Err(DomainError::InvalidTimeRange));
    }

    #[test]
    fn windows_are_plausible_lessons() {
        let t = datetime!(2026-12-01 10:00 UTC);
        assert!(LessonWindow::new(t, t + MAX_LESSON_LENGTH).is_ok());
        let long = LessonWindow::new(t, t + MAX_LESSON_LENGTH + Duration::minutes(1));
        assert_eq!(long.unwrap_err().code(), "invalid_input");
        let far = datetime!(9999-12-31 22:00 UTC);
        assert_eq!(
            LessonWindow::new(far, far + Duration::hours(1)).unwrap_err().code(),
            "invalid_input"
        );
        let early = datetime!(1999-12-31 23:00 UTC);
        assert_eq!(LessonWindow::new(early, t).unwrap_err().code(), "invalid_input");
        assert!(check_instant("at", LATEST_INSTANT).is_err());
        assert!(check_instant("at", EARLIEST_INSTANT).is_ok());
        assert!(check_date("on", time::macros::date!(2099 - 12 - 31)).is_ok());
        assert!(check_date("on", time::macros::date!(2100 - 01 - 01)).is_err());
    }

    #[test]
    fn back_to_back_lessons_collide_only_with_buffers() {
        let a = w(datetime!(2026-12-01 10:00 UTC), 50);
        let b = w(datetime!(2026-12-01 10:50 UTC), 50);
        assert!(!a.collides_with(&b, Buffers::default()));
        let ten = Buffers {
            before: Duration::ZERO,
            after: Duration::minutes(10),
        };
        assert!(a.collides_with(&b, ten));
        let c = w(datetime!(2026-12-01 11:00 UTC), 50);
        assert!(!a.collides_with(&c, ten));
    }
}
