//! Date exceptions: days or hours a teacher takes off their weekly rules,
//! or adds to them (docs/availability.md).

use serde::{Deserialize, Serialize};
use time::{Date, Duration, PrimitiveDateTime, Time};

use crate::{DomainError, DomainResult, ExceptionId, Zone};

/// Why the exception exists. Every kind but [`ExceptionKind::ExtraHours`]
/// takes time away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// A day (or hours) off.
    DayOff,
    /// A public holiday.
    Holiday,
    /// Vacation.
    Vacation,
    /// Sick leave.
    SickLeave,
    /// Anything else that takes time away.
    Other,
    /// Hours added on top of the weekly rules (for example on a day
    /// without a rule).
    ExtraHours,
}

impl ExceptionKind {
    /// Every kind, for parsers and documents.
    pub const ALL: [Self; 6] = [
        Self::DayOff,
        Self::Holiday,
        Self::Vacation,
        Self::SickLeave,
        Self::Other,
        Self::ExtraHours,
    ];

    /// The stable code.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::DayOff => "day_off",
            Self::Holiday => "holiday",
            Self::Vacation => "vacation",
            Self::SickLeave => "sick_leave",
            Self::Other => "other",
            Self::ExtraHours => "extra_hours",
        }
    }

    /// Parses [`ExceptionKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// True when the exception adds hours instead of taking them away.
    pub fn adds_hours(&self) -> bool {
        *self == Self::ExtraHours
    }
}

/// The longest run of days one exception covers.
pub const MAX_EXCEPTION_DAYS: i64 = 366;

/// The longest note on an exception, in characters.
pub const MAX_NOTE_CHARS: usize = 200;

/// What a teacher sends for one exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionDraft {
    /// Why.
    pub kind: ExceptionKind,
    /// The first local date it covers.
    pub from: Date,
    /// The last local date it covers (the same as `from` for one day).
    pub until: Date,
    /// Local hours on each of those dates, or `None` for whole days.
    pub hours: Option<(Time, Time)>,
    /// The zone the dates and hours are read in.
    pub zone: Zone,
    /// A note for the teacher (trimmed; may be empty).
    pub note: String,
}

/// One date exception, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateException {
    id: ExceptionId,
    #[serde(flatten)]
    draft: ExceptionDraft,
}

impl DateException {
    /// Checks a draft: dates in 2000–2099, `until` not before `from` and at most
    /// [`MAX_EXCEPTION_DAYS`] days; hours in whole minutes with the end
    /// after the start; extra hours need hours; a note of at most
    /// [`MAX_NOTE_CHARS`] characters.
    pub fn new(id: ExceptionId, mut draft: ExceptionDraft) -> DomainResult<Self> {
        crate::check_date("from", draft.from)?;
        crate::check_date("until", draft.until)?;
        if draft.until < draft.from {
            return Err(DomainError::invalid("until", "must not be before from"));
        }
        if (draft.until - draft.from).whole_days() >= MAX_EXCEPTION_DAYS {
            return Err(DomainError::invalid(
                "until",
                format!("an exception covers at most {MAX_EXCEPTION_DAYS} days"),
            ));
        }
        match draft.hours {
            Some((start, end)) => {
                for (field, t) in [("start", start), ("end", end)] {
                    if t.second() != 0 || t.nanosecond() != 0 {
                        return Err(DomainError::invalid(field, "must be a whole minute"));
                    }
                }
                if end <= start {
                    return Err(DomainError::invalid(
                        "end",
                        "must be after start (use two exceptions across midnight)",
                    ));
                }
            }
            None if draft.kind.adds_hours() => {
                return Err(DomainError::invalid("hours", "extra hours need a start and an end"));
            }
            None => {}
        }
        draft.note = draft.note.trim().to_owned();
        if draft.note.chars().count() > MAX_NOTE_CHARS {
            return Err(DomainError::invalid(
                "note",
                format!("at most {MAX_NOTE_CHARS} characters"),
            ));
        }
        Ok(Self { id, draft })
    }

    /// Its id.
    pub fn id(&self) -> ExceptionId {
        self.id
    }

    /// What the teacher set.
    pub fn draft(&self) -> &ExceptionDraft {
        &self.draft
    }

    /// The local spans it covers on the dates from `first` to `last`, one
    /// per date, whole days as `[date 00:00, next date 00:00)`.
    pub fn local_spans(
        &self,
        first: Date,
        last: Date,
    ) -> impl Iterator<Item = (PrimitiveDateTime, PrimitiveDateTime)> + '_ {
        let from = self.draft.from.max(first);
        let until = self.draft.until.min(last);
        let days = if until < from { -1 } else { (until - from).whole_days() };
        (0..=days).filter_map(move |n| {
            let date = from.checked_add(Duration::days(n))?;
            match self.draft.hours {
                Some((start, end)) => Some((PrimitiveDateTime::new(date, start), PrimitiveDateTime::new(date, end))),
                None => Some((date.midnight(), date.next_day()?.midnight())),
            }
        })
    }
}
