//! When a course package's sessions take place (docs/product.md §8): a start date, a local
//! start time in an IANA zone, a weekly recurrence and a number of sessions,
//! turned into UTC lesson windows by a pure function of those inputs.
//!
//! The teacher thinks in wall-clock time ("Mondays at 19:00 in Seoul"), so
//! every session starts at the same local time, whatever the UTC offset of its
//! day. A local time that a DST change skips or repeats on one of the session
//! dates has no single instant; the schedule is refused (`dst_gap`,
//! `dst_ambiguous`) naming that date rather than moving a lesson silently.

use crate::{DomainError, DomainResult, LessonWindow, Zone};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, PrimitiveDateTime, Time, Weekday};

/// Every package session lasts exactly this long (docs/product.md §8); it is not an input.
pub const SESSION_LENGTH: Duration = Duration::minutes(50);

/// Most sessions a package may have (docs/product.md §8).
pub const MAX_SESSIONS: u32 = 29;

/// The last session's local date is less than this many days after the first
/// one's: every session falls within 30 consecutive calendar days (docs/product.md §8).
pub const MAX_SPAN_DAYS: i64 = 30;

/// A package's total teaching time stays under this many hours (docs/product.md §8).
pub const MAX_TEACHING_HOURS: i64 = 30;

// The 30-hour cap needs no runtime check: sessions have a fixed length and a
// capped number, and 29 × 50 min = 24 h 10 min. Should either constant change
// so that the cap could be exceeded, the build fails here.
const _: () = assert!(SESSION_LENGTH.whole_minutes() * (MAX_SESSIONS as i64) < MAX_TEACHING_HOURS * 60);

/// The weekdays a package meets on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    /// Monday to Friday.
    Weekdays,
    /// Saturday and Sunday.
    Weekends,
    /// Monday, Wednesday, Friday.
    Mwf,
    /// Tuesday, Thursday, Saturday.
    Tts,
}

impl Recurrence {
    /// Every recurrence, for exhaustive tests and forms.
    pub const ALL: [Self; 4] = [Self::Weekdays, Self::Weekends, Self::Mwf, Self::Tts];

    /// Stable text form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Weekdays => "weekdays",
            Self::Weekends => "weekends",
            Self::Mwf => "mwf",
            Self::Tts => "tts",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The weekdays it meets on, Monday first.
    pub fn weekdays(&self) -> &'static [Weekday] {
        use Weekday::*;
        match self {
            Self::Weekdays => &[Monday, Tuesday, Wednesday, Thursday, Friday],
            Self::Weekends => &[Saturday, Sunday],
            Self::Mwf => &[Monday, Wednesday, Friday],
            Self::Tts => &[Tuesday, Thursday, Saturday],
        }
    }

    /// Whether it meets on `day`.
    pub fn includes(&self, day: Weekday) -> bool {
        self.weekdays().contains(&day)
    }
}

/// A package's validated schedule and the sessions it generates.
///
/// Holding one means: 1..=[`MAX_SESSIONS`] sessions of [`SESSION_LENGTH`],
/// strictly increasing, each at the requested local time on a day of the
/// recurrence, all within [`MAX_SPAN_DAYS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSchedule {
    start_date: Date,
    start_time: Time,
    zone: Zone,
    recurrence: Recurrence,
    sessions: Vec<LessonWindow>,
}

impl PackageSchedule {
    /// Generates the sessions: the first `session_count` dates on or after
    /// `start_date` (which counts when it matches) that fall on a day of the
    /// `recurrence`, each at `start_time` local time in `zone`, converted to UTC.
    ///
    /// Refuses a start date outside 2000–2099 and no sessions (`invalid_input`), more than [`MAX_SESSIONS`]
    /// (`too_many_sessions`), dates spread over [`MAX_SPAN_DAYS`] days or more
    /// (`package_span_too_long`), and a start time skipped (`dst_gap`) or
    /// repeated (`dst_ambiguous`) on a session date, naming the first such date.
    pub fn new(
        start_date: Date,
        start_time: Time,
        zone: Zone,
        recurrence: Recurrence,
        session_count: u32,
    ) -> DomainResult<Self> {
        crate::check_date("start_date", start_date)?;
        if session_count == 0 {
            return Err(DomainError::invalid(
                "session_count",
                "a package needs at least one session",
            ));
        }
        if session_count > MAX_SESSIONS {
            return Err(DomainError::TooManySessions {
                got: session_count,
                max: MAX_SESSIONS,
            });
        }
        let dates: Vec<Date> = std::iter::successors(Some(start_date), |d| d.next_day())
            .filter(|d| recurrence.includes(d.weekday()))
            .take(session_count as usize)
            .collect();
        let too_late = || DomainError::invalid("start_date", "too late in the calendar for all the sessions");
        if dates.len() < session_count as usize {
            return Err(too_late());
        }
        let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
            return Err(too_late());
        };
        if (last - first).whole_days() >= MAX_SPAN_DAYS {
            return Err(DomainError::PackageSpanTooLong {
                first,
                last,
                max_days: MAX_SPAN_DAYS,
            });
        }
        let sessions = dates
            .into_iter()
            .map(|date| {
                let start = zone.resolve_strict(PrimitiveDateTime::new(date, start_time))?;
                LessonWindow::new(start, start + SESSION_LENGTH)
            })
            .collect::<DomainResult<Vec<_>>>()?;
        Ok(Self {
            start_date,
            start_time,
            zone,
            recurrence,
            sessions,
        })
    }

    /// The date asked for as the start (the first session is on it when it matches the recurrence).
    pub fn start_date(&self) -> Date {
        self.start_date
    }

    /// The local wall-clock start time of every session.
    pub fn start_time(&self) -> Time {
        self.start_time
    }

    /// The zone the local times are in.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// The weekdays the package meets on.
    pub fn recurrence(&self) -> Recurrence {
        self.recurrence
    }

    /// The sessions in UTC, in order.
    pub fn sessions(&self) -> &[LessonWindow] {
        &self.sessions
    }

    /// Number of sessions.
    pub fn session_count(&self) -> u32 {
        // At most MAX_SESSIONS by construction.
        self.sessions.len() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, time};

    #[test]
    fn recurrences_round_trip_their_text_form() {
        for r in Recurrence::ALL {
            assert_eq!(Recurrence::parse(r.as_str()), Some(r));
        }
        assert_eq!(Recurrence::parse("daily"), None);
        assert!(Recurrence::Tts.includes(Weekday::Saturday));
        assert!(!Recurrence::Mwf.includes(Weekday::Tuesday));
    }

    #[test]
    fn the_start_date_counts_when_it_matches() {
        let seoul = Zone::parse("Asia/Seoul").unwrap();
        // 2026-03-02 is a Monday.
        let s = PackageSchedule::new(date!(2026 - 03 - 02), time!(19:00), seoul, Recurrence::Mwf, 4).unwrap();
        let starts: Vec<_> = s.sessions().iter().map(|w| w.start()).collect();
        assert_eq!(
            starts,
            [
                datetime!(2026-03-02 10:00 UTC),
                datetime!(2026-03-04 10:00 UTC),
                datetime!(2026-03-06 10:00 UTC),
                datetime!(2026-03-09 10:00 UTC),
            ]
        );
        assert!(s.sessions().iter().all(|w| w.duration() == SESSION_LENGTH));
        // Starting on the Tuesday skips to Wednesday.
        let s = PackageSchedule::new(date!(2026 - 03 - 03), time!(19:00), seoul, Recurrence::Mwf, 1).unwrap();
        assert_eq!(s.sessions()[0].start(), datetime!(2026-03-04 10:00 UTC));
    }
}
