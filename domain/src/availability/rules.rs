//! Weekly rules: the hours a teacher teaches on a day of the week, in a
//! zone, over a range of dates (docs/availability.md).

use serde::{Deserialize, Serialize};
use time::{Date, Duration, PrimitiveDateTime, Time, Weekday};

use crate::{DomainError, DomainResult, RuleId, Zone};

/// What a teacher sends for one weekly rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDraft {
    /// The day of the week the hours start on.
    pub weekday: Weekday,
    /// Local start, whole minutes.
    pub start: Time,
    /// Local end, whole minutes. At or before `start` means the hours cross
    /// midnight and end the next day.
    pub end: Time,
    /// The zone the local times are read in.
    pub zone: Zone,
    /// The first date the rule applies on (its hours start that day), if any.
    pub valid_from: Option<Date>,
    /// The last date the rule applies on, if any.
    pub valid_until: Option<Date>,
    /// An inactive rule is kept but offers nothing.
    pub active: bool,
}

/// One weekly rule, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyRule {
    id: RuleId,
    #[serde(flatten)]
    draft: RuleDraft,
}

impl WeeklyRule {
    /// Checks a draft: whole-minute times, hours of at least 10 minutes,
    /// validity dates in 2000–2099, `valid_from` not after `valid_until`.
    pub fn new(id: RuleId, draft: RuleDraft) -> DomainResult<Self> {
        for (field, date) in [("valid_from", draft.valid_from), ("valid_until", draft.valid_until)] {
            if let Some(date) = date {
                crate::check_date(field, date)?;
            }
        }
        for (field, t) in [("start", draft.start), ("end", draft.end)] {
            if t.second() != 0 || t.nanosecond() != 0 {
                return Err(DomainError::invalid(field, "must be a whole minute"));
            }
        }
        if draft.start == draft.end {
            return Err(DomainError::invalid("end", "must differ from start"));
        }
        let rule = Self { id, draft };
        if rule.length() < Duration::minutes(10) {
            return Err(DomainError::invalid("end", "the hours must last at least 10 minutes"));
        }
        if let (Some(from), Some(until)) = (draft.valid_from, draft.valid_until)
            && from > until
        {
            return Err(DomainError::invalid("valid_until", "must not be before valid_from"));
        }
        Ok(rule)
    }

    /// Its id.
    pub fn id(&self) -> RuleId {
        self.id
    }

    /// What the teacher set.
    pub fn draft(&self) -> &RuleDraft {
        &self.draft
    }

    /// The zone its local times are read in.
    pub fn zone(&self) -> Zone {
        self.draft.zone
    }

    /// True when the hours end the next day.
    pub fn crosses_midnight(&self) -> bool {
        self.draft.end <= self.draft.start
    }

    /// The wall-clock length of the hours.
    pub fn length(&self) -> Duration {
        let length = self.draft.end - self.draft.start;
        if self.crosses_midnight() {
            length + Duration::DAY
        } else {
            length
        }
    }

    /// Whether the rule offers hours starting on local `date`.
    pub fn applies_on(&self, date: Date) -> bool {
        let d = &self.draft;
        d.active
            && date.weekday() == d.weekday
            && d.valid_from.is_none_or(|from| date >= from)
            && d.valid_until.is_none_or(|until| date <= until)
    }

    /// The local bounds of the hours starting on `date` (the end may fall
    /// on the next day); `None` at the end of the calendar.
    pub fn local_window(&self, date: Date) -> Option<(PrimitiveDateTime, PrimitiveDateTime)> {
        let start = PrimitiveDateTime::new(date, self.draft.start);
        let end_date = if self.crosses_midnight() {
            date.next_day()?
        } else {
            date
        };
        Some((start, PrimitiveDateTime::new(end_date, self.draft.end)))
    }

    /// `Monday 09:00–17:00`.
    fn describe(&self) -> String {
        let hhmm = |t: Time| format!("{:02}:{:02}", t.hour(), t.minute());
        format!(
            "{} {}–{}",
            self.draft.weekday,
            hhmm(self.draft.start),
            hhmm(self.draft.end)
        )
    }

    /// Local minutes of the week `[start, end)` the hours cover, Monday
    /// 00:00 being 0; the end may pass the end of the week.
    fn week_minutes(&self) -> (i64, i64) {
        let day = i64::from(self.draft.weekday.number_days_from_monday());
        let start = day * 24 * 60 + i64::from(self.draft.start.hour()) * 60 + i64::from(self.draft.start.minute());
        (start, start + self.length().whole_minutes())
    }

    /// Whether two rules could offer the same local hours: same zone, both
    /// active, validity ranges that meet, and overlapping hours of the week
    /// (hours crossing the end of Sunday wrap to Monday).
    pub fn overlaps(&self, other: &Self) -> bool {
        let (a, b) = (&self.draft, &other.draft);
        if a.zone != b.zone || !a.active || !b.active {
            return false;
        }
        let disjoint_dates = matches!((a.valid_until, b.valid_from), (Some(until), Some(from)) if until < from)
            || matches!((b.valid_until, a.valid_from), (Some(until), Some(from)) if until < from);
        if disjoint_dates {
            return false;
        }
        const WEEK: i64 = 7 * 24 * 60;
        let (a0, a1) = self.week_minutes();
        let (b0, b1) = other.week_minutes();
        [-WEEK, 0, WEEK].iter().any(|shift| a0 < b1 + shift && b0 + shift < a1)
    }
}

/// Most weekly rules a teacher keeps.
pub const MAX_RULES: usize = 100;

/// Refuses a rule set with more than [`MAX_RULES`] rules or with two
/// overlapping rules (see [`WeeklyRule::overlaps`]).
pub fn check_rule_set(rules: &[WeeklyRule]) -> DomainResult<()> {
    if rules.len() > MAX_RULES {
        return Err(DomainError::invalid("rules", format!("at most {MAX_RULES} rules")));
    }
    for (i, rule) in rules.iter().enumerate() {
        if let Some(other) = rules[i + 1..].iter().find(|other| rule.overlaps(other)) {
            return Err(DomainError::invalid(
                "rules",
                format!("the rules {} and {} overlap", rule.describe(), other.describe()),
            ));
        }
    }
    Ok(())
}
