//! A lesson's time window in UTC.

use crate::{DomainError, DomainResult};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, UtcOffset};

/// Half-open `[start, end)` in UTC with `end > start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LessonWindow {
    start: OffsetDateTime,
    end: OffsetDateTime,
}

impl LessonWindow {
    /// Builds a window; the end must be after the start. Both are normalised to UTC.
    pub fn new(start: OffsetDateTime, end: OffsetDateTime) -> DomainResult<Self> {
        if end <= start {
            return Err(DomainError::InvalidTimeRange);
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
