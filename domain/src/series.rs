//! Recurring series (docs/series.md): a rule that repeats a lesson weekly,
//! every other week or monthly, expanded into occurrences in the teacher's
//! wall-clock time, and a student's series of 1:1 lessons booked from the
//! teacher's bookable times, each occurrence under the same rules as one
//! booked time.
//!
//! Occurrences are local dates and a local start time, not instants: a
//! 17:00 lesson in New York stays at 17:00 on both sides of a DST change,
//! so its instant in UTC moves by the change. An occurrence whose local
//! start a DST change skips is refused (`dst_gap`), never moved; one the
//! change repeats takes its earlier instant, as bookable times do.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, Weekday};

use crate::{
    Actor, Availability, Booking, BookingId, BookingPolicy, DomainError, DomainResult, LessonKind, MAX_ADVANCE,
    MAX_BUFFER, Meeting, Outcome, PlatformSettings, SeriesId, Slot, SlotDraft, SlotId, TimeBooking, UserId, Zone,
    book_time, bookable_at, check_date, day_reach,
};

/// Most occurrences a series may have.
pub const MAX_OCCURRENCES: u32 = 52;

/// The largest interval of a rule (every 12th week, every 12th month...).
pub const MAX_INTERVAL: u32 = 12;

/// The last occurrence's date is at most this many days after the first
/// date of the rule: as far ahead as any booking policy lets a lesson be
/// booked ([`crate::MAX_ADVANCE`]). It also bounds what expanding a rule
/// costs, whatever the input.
pub const MAX_SERIES_DAYS: i64 = MAX_ADVANCE.whole_days();

/// How often a series repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Every `interval` weeks, on the rule's weekdays.
    Weekly,
    /// Every `2 × interval` weeks, on the rule's weekdays.
    Biweekly,
    /// Every `interval` months, on the first date's day of the month.
    Monthly,
}

/// How a series ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesEnd {
    /// After this many occurrences (1..=[`MAX_OCCURRENCES`]).
    Count(u32),
    /// With the last occurrence on or before this date (inclusive).
    Until(Date),
}

/// What a recurrence rule is asked for, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeriesDraft {
    /// Weekly, biweekly or monthly.
    pub frequency: Frequency,
    /// Every how many weeks (or fortnights, or months): 1..=[`MAX_INTERVAL`].
    pub interval: u32,
    /// The weekdays of a weekly or biweekly rule; empty means the first
    /// date's weekday. A monthly rule takes none.
    pub weekdays: Vec<Weekday>,
    /// The first date the series may fall on, in the teacher's zone.
    pub first: Date,
    /// The local start time of every occurrence, in the teacher's zone.
    pub time: Time,
    /// After a count, or on a date.
    pub end: SeriesEnd,
}

/// A checked recurrence rule; [`SeriesRule::occurrences`] expands it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "SeriesDraft", into = "SeriesDraft")]
pub struct SeriesRule {
    draft: SeriesDraft,
    occurrences: Vec<Occurrence>,
}

/// One occurrence of a rule: its number in the series (from 1) and its local
/// start in the teacher's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Occurrence {
    /// 1 for the first occurrence, and so on.
    pub number: u32,
    /// The local date and start time.
    pub local: PrimitiveDateTime,
}

impl Occurrence {
    /// The instant this occurrence starts at in `zone`: an ambiguous local
    /// time takes its earlier instant; a time skipped by a DST change is
    /// refused with `dst_gap` (the occurrence is not moved).
    pub fn start(&self, zone: Zone) -> DomainResult<OffsetDateTime> {
        zone.resolve_lenient(self.local).ok_or_else(|| DomainError::DstGap {
            local: self.local.to_string(),
            zone: zone.name().to_owned(),
        })
    }

    /// `reason` as the refusal of this occurrence.
    pub fn refused(&self, reason: DomainError) -> DomainError {
        let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
        DomainError::OccurrenceRefused {
            number: self.number,
            local: self.local.format(format).unwrap_or_else(|_| self.local.to_string()),
            reason: Box::new(reason),
        }
    }
}

impl SeriesRule {
    /// Checks `draft` and expands it: an interval of 1..=[`MAX_INTERVAL`],
    /// weekdays only for weekly and biweekly rules, a first date in
    /// 2000–2099, and 1..=[`MAX_OCCURRENCES`] occurrences within
    /// [`MAX_SERIES_DAYS`] of the first date; an `until` past those days is
    /// refused even when the last occurrence would fall sooner
    /// (`invalid_input` otherwise, naming the field).
    ///
    /// A monthly rule falls on the first date's day of the month; a month
    /// without that day (the 31st in April) has no occurrence and does not
    /// count towards the count (docs/decisions/0022-recurring-series.md).
    pub fn new(mut draft: SeriesDraft) -> DomainResult<Self> {
        check_date("first", draft.first)?;
        if !(1..=MAX_INTERVAL).contains(&draft.interval) {
            return Err(DomainError::invalid(
                "interval",
                format!("must be from 1 to {MAX_INTERVAL}"),
            ));
        }
        let last_allowed = draft
            .first
            .checked_add(Duration::days(MAX_SERIES_DAYS))
            .ok_or_else(|| DomainError::invalid("first", "too late in the calendar"))?;
        let limit = match draft.end {
            SeriesEnd::Count(count) => {
                if !(1..=MAX_OCCURRENCES).contains(&count) {
                    return Err(DomainError::invalid(
                        "count",
                        format!("a series has from 1 to {MAX_OCCURRENCES} occurrences"),
                    ));
                }
                last_allowed
            }
            SeriesEnd::Until(until) => {
                if until < draft.first {
                    return Err(DomainError::invalid("until", "must not be before the first date"));
                }
                if until > last_allowed {
                    return Err(DomainError::invalid(
                        "until",
                        format!("a series spans at most {MAX_SERIES_DAYS} days"),
                    ));
                }
                until
            }
        };
        let dates = match draft.frequency {
            Frequency::Monthly => {
                if !draft.weekdays.is_empty() {
                    return Err(DomainError::invalid(
                        "weekdays",
                        "a monthly series falls on the first date's day of the month",
                    ));
                }
                monthly(draft.first, draft.interval, limit)
            }
            Frequency::Weekly | Frequency::Biweekly => {
                if draft.weekdays.is_empty() {
                    draft.weekdays.push(draft.first.weekday());
                }
                draft.weekdays.sort_by_key(|d| d.number_days_from_monday());
                draft.weekdays.dedup();
                let weeks = if draft.frequency == Frequency::Biweekly {
                    2 * draft.interval
                } else {
                    draft.interval
                };
                weekly(draft.first, &draft.weekdays, weeks, limit)
            }
        };
        let wanted = match draft.end {
            SeriesEnd::Count(count) => count as usize,
            SeriesEnd::Until(_) => MAX_OCCURRENCES as usize,
        };
        if let SeriesEnd::Until(_) = draft.end
            && dates.len() > wanted
        {
            return Err(DomainError::invalid(
                "until",
                format!("a series has at most {MAX_OCCURRENCES} occurrences"),
            ));
        }
        if dates.len() < wanted && matches!(draft.end, SeriesEnd::Count(_)) {
            return Err(DomainError::invalid(
                "count",
                format!("the occurrences would run past {MAX_SERIES_DAYS} days after the first date"),
            ));
        }
        if dates.is_empty() {
            return Err(DomainError::invalid("until", "the series has no occurrence"));
        }
        let occurrences = dates
            .into_iter()
            .take(wanted)
            .zip(1..)
            .map(|(date, number)| Occurrence {
                number,
                local: PrimitiveDateTime::new(date, draft.time),
            })
            .collect();
        Ok(Self { draft, occurrences })
    }

    /// The rule as asked for (weekdays filled in and sorted).
    pub fn draft(&self) -> &SeriesDraft {
        &self.draft
    }

    /// The occurrences, in order.
    pub fn occurrences(&self) -> &[Occurrence] {
        &self.occurrences
    }
}

impl TryFrom<SeriesDraft> for SeriesRule {
    type Error = DomainError;
    fn try_from(draft: SeriesDraft) -> DomainResult<Self> {
        Self::new(draft)
    }
}

impl From<SeriesRule> for SeriesDraft {
    fn from(rule: SeriesRule) -> Self {
        rule.draft
    }
}

/// The dates on `weekdays` of every `weeks`-th week (weeks start on Monday,
/// counted from the first date's week), from `first` to `limit`, at most one
/// more than a series may hold (so that too many can be told).
fn weekly(first: Date, weekdays: &[Weekday], weeks: u32, limit: Date) -> Vec<Date> {
    let monday = first - Duration::days(i64::from(first.weekday().number_days_from_monday()));
    let cap = MAX_OCCURRENCES as usize + 1;
    let mut out = Vec::new();
    let mut week = monday;
    while week <= limit && out.len() < cap {
        for day in weekdays {
            let date = week + Duration::days(i64::from(day.number_days_from_monday()));
            if date >= first && date <= limit && out.len() < cap {
                out.push(date);
            }
        }
        match week.checked_add(Duration::weeks(i64::from(weeks))) {
            Some(next) => week = next,
            None => break,
        }
    }
    out
}

/// The dates on `first`'s day of the month, every `months`-th month, from
/// `first` to `limit`; months without that day are skipped.
fn monthly(first: Date, months: u32, limit: Date) -> Vec<Date> {
    let cap = MAX_OCCURRENCES as usize + 1;
    let start = first.year() * 12 + i32::from(u8::from(first.month())) - 1;
    let mut out = Vec::new();
    for k in 0.. {
        let index = start + k * i32::try_from(months).unwrap_or(1);
        let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
        let Some(month) = u8::try_from(month).ok().and_then(|m| Month::try_from(m).ok()) else {
            break;
        };
        let Some(on_first) = Date::from_calendar_date(year, month, 1).ok() else {
            break;
        };
        if on_first > limit || out.len() >= cap {
            break;
        }
        if let Ok(date) = Date::from_calendar_date(year, month, first.day())
            && date <= limit
        {
            out.push(date);
        }
    }
    out
}

/// Book what the series can, or nothing at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesMode {
    /// Any refused occurrence refuses the whole series; nothing is booked.
    AllOrNothing,
    /// The occurrences that pass are booked; the others are listed refused.
    BestEffort,
}

/// A series a student booked: who, on which rule, and the bookings it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    id: SeriesId,
    teacher: UserId,
    student: UserId,
    zone: Zone,
    rule: SeriesRule,
    created_at: OffsetDateTime,
    members: Vec<SeriesMember>,
}

/// One booked occurrence of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeriesMember {
    /// Its occurrence's number.
    pub number: u32,
    /// The booking made for it.
    pub booking: BookingId,
}

impl Series {
    /// Rebuilds a series read back from storage.
    pub fn restore(
        id: SeriesId,
        teacher: UserId,
        student: UserId,
        zone: Zone,
        rule: SeriesRule,
        created_at: OffsetDateTime,
        members: Vec<SeriesMember>,
    ) -> Self {
        Self {
            id,
            teacher,
            student,
            zone,
            rule,
            created_at,
            members,
        }
    }

    /// Its id.
    pub fn id(&self) -> SeriesId {
        self.id
    }

    /// The teacher.
    pub fn teacher(&self) -> UserId {
        self.teacher
    }

    /// The student who booked it.
    pub fn student(&self) -> UserId {
        self.student
    }

    /// The zone its local times are in (the teacher's when booked).
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// The rule.
    pub fn rule(&self) -> &SeriesRule {
        &self.rule
    }

    /// When it was booked.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// The booked occurrences, in order.
    pub fn members(&self) -> &[SeriesMember] {
        &self.members
    }

    /// Who may see the series: its student, its teacher, staff. To anyone
    /// else it does not exist (`not_found`).
    pub fn check_seen_by(&self, actor: &Actor) -> DomainResult<()> {
        if actor.is_or_staff(self.student) || actor.user == self.teacher {
            Ok(())
        } else {
            Err(DomainError::NotFound { entity: "series" })
        }
    }

    /// Each booked occurrence with its booking, in order. A member whose
    /// number its rule does not have is a series stored at odds with
    /// itself: an error, never skipped (docs/series.md: nothing is skipped
    /// silently).
    pub fn booked(&self) -> Result<Vec<(Occurrence, BookingId)>, StrayMember> {
        let occurrences = self.rule.occurrences();
        self.members
            .iter()
            .map(|m| {
                occurrences
                    .iter()
                    .find(|o| o.number == m.number)
                    .map(|o| (*o, m.booking))
                    .ok_or(StrayMember {
                        series: self.id,
                        number: m.number,
                    })
            })
            .collect()
    }

    /// The booked occurrences a cancellation from `from` covers: those on
    /// or after that local date (every one without it), with their
    /// occurrence. The student or staff may cancel (`forbidden` for the
    /// teacher, who cancels lessons one at a time and gives credits). The
    /// outer error is a refusal; the inner one a stored series at odds with
    /// its rule ([`Series::booked`]), which no caller can mend.
    pub fn to_cancel(
        &self,
        actor: &Actor,
        from: Option<Date>,
    ) -> DomainResult<Result<Vec<(Occurrence, BookingId)>, StrayMember>> {
        self.check_seen_by(actor)?;
        if !actor.is_or_staff(self.student) {
            return Err(DomainError::Forbidden);
        }
        Ok(self.booked().map(|booked| {
            booked
                .into_iter()
                .filter(|(occurrence, _)| from.is_none_or(|from| occurrence.local.date() >= from))
                .collect()
        }))
    }
}

/// A member of a stored series whose occurrence number its rule does not
/// have. Series are written whole by the command that books them, so this
/// is corrupt storage, not a refusal: the ports answer it as a storage
/// failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("series {series} holds occurrence {number}, which its rule does not have")]
pub struct StrayMember {
    /// The series.
    pub series: SeriesId,
    /// The member's occurrence number.
    pub number: u32,
}

/// A student's request for a series of 1:1 lessons from a teacher's
/// bookable times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRequest {
    /// The new series' id.
    pub id: SeriesId,
    /// Whose times.
    pub teacher: UserId,
    /// The teacher's zone: the rule's local times are in it.
    pub zone: Zone,
    /// The rule.
    pub rule: SeriesRule,
    /// All or nothing, or what can be booked.
    pub mode: SeriesMode,
    /// A fresh slot and booking id per occurrence, in order.
    pub ids: Vec<(SlotId, BookingId)>,
}

/// What happened to one occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OccurrenceAnswer {
    /// The occurrence.
    pub occurrence: Occurrence,
    /// Its start, when its local time exists in the zone.
    pub start: Option<OffsetDateTime>,
    /// Booked: its booking (requested or confirmed as the policy says).
    pub booking: Option<Booking>,
    /// Refused: the refusal's code...
    pub code: Option<String>,
    /// ...and its words.
    pub detail: Option<String>,
}

impl OccurrenceAnswer {
    /// A booked occurrence.
    pub fn booked(occurrence: Occurrence, start: OffsetDateTime, booking: Booking) -> Self {
        Self {
            occurrence,
            start: Some(start),
            booking: Some(booking),
            code: None,
            detail: None,
        }
    }

    /// A refused occurrence.
    pub fn refused(occurrence: Occurrence, start: Option<OffsetDateTime>, reason: &DomainError) -> Self {
        Self {
            occurrence,
            start,
            booking: None,
            code: Some(reason.code().to_owned()),
            detail: Some(reason.to_string()),
        }
    }
}

/// A booked series: the series to keep, its new slots with their bookings,
/// what booking them caused, and the answer for each occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesBooked {
    /// The series (its members are the booked occurrences).
    pub series: Series,
    /// One new 1:1 slot per booked occurrence.
    pub slots: Vec<Slot>,
    /// Their events and history.
    pub outcome: Outcome,
    /// Every occurrence, booked or refused.
    pub answers: Vec<OccurrenceAnswer>,
}

/// The range of a teacher's slots a series must see: every slot that could
/// collide with an occurrence (buffers) or count towards its local day's
/// limit. It runs from two days and twice [`MAX_BUFFER`] before the first
/// occurrence's start to as long after the last one's, so it holds every
/// slot an occurrence is checked against: its local day widened by the
/// buffers, and a lesson of up to [`crate::MAX_LESSON_LENGTH`] running past
/// midnight.
pub fn series_search_range(rule: &SeriesRule, zone: Zone) -> (OffsetDateTime, OffsetDateTime) {
    let reach = MAX_BUFFER + MAX_BUFFER + Duration::DAY + Duration::DAY;
    let local = |o: Option<&Occurrence>| o.map(|o| o.local).unwrap_or(rule.draft.first.midnight());
    let first = zone.resolve_bound(local(rule.occurrences.first()));
    let last = zone.resolve_bound(local(rule.occurrences.last()));
    (first - reach, last + reach)
}

/// A student books a series of 1:1 lessons from `teacher_slots`' teacher's
/// bookable times. Every occurrence is checked exactly as one booked time
/// ([`book_time`]): availability, exceptions, overlap with buffers (the
/// series' own earlier lessons included), daily limit, notice, advance; and
/// it is requested or confirmed as the policy says. Under
/// [`SeriesMode::AllOrNothing`] the first refusal refuses the series
/// (`OccurrenceRefused`, with the occurrence's own code); under
/// [`SeriesMode::BestEffort`] refused occurrences are listed, and the series
/// is refused only when not one occurrence can be booked.
pub fn book_series(
    request: SeriesRequest,
    actor: &Actor,
    availability: &Availability,
    teacher_slots: &[Slot],
    policy: &BookingPolicy,
    settings: &PlatformSettings,
    now: OffsetDateTime,
) -> DomainResult<SeriesBooked> {
    let occurrences = request.rule.occurrences();
    if request.ids.len() != occurrences.len() {
        return Err(DomainError::invalid("series", "one slot and booking id per occurrence"));
    }
    let length = policy.default_length();
    let mut tally = Tally::new(request.mode);
    let mut slots: Vec<Slot> = Vec::new();
    for (occurrence, (slot_id, booking_id)) in occurrences.iter().zip(&request.ids) {
        let start = occurrence.start(request.zone);
        let result = start.and_then(|start| {
            let near = near_occurrence(teacher_slots, &slots, request.zone, start);
            let bookable = bookable_at(availability, &near, policy, request.zone, start, length, now);
            let pick = TimeBooking {
                slot: *slot_id,
                booking: *booking_id,
                teacher: request.teacher,
                start,
                zone: request.zone,
                meeting: Meeting::default(),
                kind: LessonKind::Regular,
            };
            book_time(&bookable, pick, actor, &near, policy, settings, now)
        });
        match result {
            Ok((slot, outcome)) => {
                let booking = slot
                    .booking(*booking_id)
                    .cloned()
                    .ok_or(DomainError::NotFound { entity: "booking" })?;
                tally.booked(*occurrence, slot.window().start(), booking, outcome);
                slots.push(slot);
            }
            Err(reason) => tally.refused(*occurrence, start_of(occurrence, request.zone), reason)?,
        }
    }
    let (members, outcome, answers) = tally.finish()?;
    Ok(SeriesBooked {
        series: Series {
            id: request.id,
            teacher: request.teacher,
            student: actor.user,
            zone: request.zone,
            rule: request.rule,
            created_at: now,
            members,
        },
        slots,
        outcome,
        answers,
    })
}

/// The occurrences of a series as they are decided one by one, under its
/// mode: the members booked, what they caused, every occurrence's answer,
/// and (best effort) the first refusal, which refuses the series when not
/// one occurrence was booked. What [`book_series`] and [`book_slot_series`]
/// share.
struct Tally {
    mode: SeriesMode,
    members: Vec<SeriesMember>,
    outcome: Outcome,
    answers: Vec<OccurrenceAnswer>,
    first_refusal: Option<DomainError>,
}

impl Tally {
    fn new(mode: SeriesMode) -> Self {
        Self {
            mode,
            members: Vec::new(),
            outcome: Outcome::default(),
            answers: Vec::new(),
            first_refusal: None,
        }
    }

    /// `occurrence` booked as `booking` (starting at `start`), which caused `caused`.
    fn booked(&mut self, occurrence: Occurrence, start: OffsetDateTime, booking: Booking, caused: Outcome) {
        self.members.push(SeriesMember {
            number: occurrence.number,
            booking: booking.id(),
        });
        self.answers.push(OccurrenceAnswer::booked(occurrence, start, booking));
        self.outcome.events.extend(caused.events);
        self.outcome.audit.extend(caused.audit);
    }

    /// `occurrence` refused for `reason`: the series' refusal under all or
    /// nothing, an answer listed under best effort.
    fn refused(
        &mut self,
        occurrence: Occurrence,
        start: Option<OffsetDateTime>,
        reason: DomainError,
    ) -> DomainResult<()> {
        if self.mode == SeriesMode::AllOrNothing {
            return Err(occurrence.refused(reason));
        }
        self.answers.push(OccurrenceAnswer::refused(occurrence, start, &reason));
        self.first_refusal.get_or_insert_with(|| occurrence.refused(reason));
        Ok(())
    }

    /// The members, what they caused and the answers; the first refusal
    /// when nothing was booked.
    fn finish(self) -> DomainResult<(Vec<SeriesMember>, Outcome, Vec<OccurrenceAnswer>)> {
        match self.first_refusal {
            Some(refusal) if self.members.is_empty() => Err(refusal),
            _ => Ok((self.members, self.outcome, self.answers)),
        }
    }
}

/// The slots an occurrence at `start` is checked against, copied: the
/// teacher's and the series' own booked so far that overlap the span one
/// booked time at `start` sees ([`day_reach`], which covers a lesson
/// running past midnight under any buffers). Slots farther away can
/// neither collide with it nor count towards its day, so leaving them out
/// changes no decision; it spares copying and walking the whole multi-year
/// schedule once per occurrence.
fn near_occurrence(teacher_slots: &[Slot], own: &[Slot], zone: Zone, start: OffsetDateTime) -> Vec<Slot> {
    let (from, to) = day_reach(zone, start);
    teacher_slots
        .iter()
        .chain(own)
        .filter(|s| s.window().start() < to && s.window().end() > from)
        .cloned()
        .collect()
}

fn start_of(occurrence: &Occurrence, zone: Zone) -> Option<OffsetDateTime> {
    occurrence.start(zone).ok()
}

/// A teacher's recurring slots: one slot per occurrence, opened together
/// (docs/series.md). Written once; its slots change as any slot does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotSeries {
    id: SeriesId,
    teacher: UserId,
    zone: Zone,
    rule: SeriesRule,
    created_at: OffsetDateTime,
    slots: Vec<SlotSeriesMember>,
}

/// One slot of a slot series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlotSeriesMember {
    /// Its occurrence's number.
    pub number: u32,
    /// The slot opened for it.
    pub slot: SlotId,
}

/// What a teacher asks for when opening a slot series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSeriesDraft {
    /// The new series' id.
    pub id: SeriesId,
    /// Whose slots.
    pub teacher: UserId,
    /// The teacher's zone: the rule's local times are in it.
    pub zone: Zone,
    /// The rule.
    pub rule: SeriesRule,
    /// Each slot's length.
    pub length: Duration,
    /// Seats per slot: 1 for one-to-one, 2.. for a group.
    pub capacity: u32,
    /// A fresh slot id per occurrence, in order.
    pub ids: Vec<SlotId>,
}

impl SlotSeries {
    /// Rebuilds a slot series read back from storage.
    pub fn restore(
        id: SeriesId,
        teacher: UserId,
        zone: Zone,
        rule: SeriesRule,
        created_at: OffsetDateTime,
        slots: Vec<SlotSeriesMember>,
    ) -> Self {
        Self {
            id,
            teacher,
            zone,
            rule,
            created_at,
            slots,
        }
    }

    /// The teacher (or staff) opens one slot per occurrence of the rule, as
    /// [`Slot::open`] opens one: the whole series is refused when one
    /// occurrence is (`OccurrenceRefused` with its code: `slot_overlap` when
    /// it meets another slot of the teacher, the series' own earlier ones
    /// included; `dst_gap`; `slot_in_past`...).
    pub fn open(
        draft: SlotSeriesDraft,
        actor: &Actor,
        teacher_slots: &[Slot],
        policy: &BookingPolicy,
        settings: &PlatformSettings,
        now: OffsetDateTime,
    ) -> DomainResult<(Self, Vec<Slot>, Outcome)> {
        crate::check_manager(actor, draft.teacher)?;
        let occurrences = draft.rule.occurrences();
        if draft.ids.len() != occurrences.len() {
            return Err(DomainError::invalid("series", "one slot id per occurrence"));
        }
        let mut schedule: Vec<Slot> = teacher_slots.to_vec();
        let mut opened = Vec::with_capacity(occurrences.len());
        let mut outcome = Outcome::default();
        for (occurrence, id) in occurrences.iter().zip(&draft.ids) {
            let slot = occurrence
                .start(draft.zone)
                .and_then(|start| crate::LessonWindow::new(start, start + draft.length))
                .and_then(|window| {
                    let slot = SlotDraft {
                        teacher: draft.teacher,
                        window,
                        zone: draft.zone,
                        capacity: draft.capacity,
                        meeting: Meeting::default(),
                        package_session: None,
                        waitlist: policy.default_waitlist_for(draft.capacity),
                    };
                    Slot::open(*id, slot, actor, &schedule, policy, settings, now)
                });
            let (slot, caused) = slot.map_err(|reason| occurrence.refused(reason))?;
            outcome.events.extend(caused.events);
            outcome.audit.extend(caused.audit);
            schedule.push(slot.clone());
            opened.push(slot);
        }
        let slots = opened
            .iter()
            .zip(occurrences)
            .map(|(slot, o)| SlotSeriesMember {
                number: o.number,
                slot: slot.id(),
            })
            .collect();
        let series = Self {
            id: draft.id,
            teacher: draft.teacher,
            zone: draft.zone,
            rule: draft.rule,
            created_at: now,
            slots,
        };
        Ok((series, opened, outcome))
    }

    /// Its id.
    pub fn id(&self) -> SeriesId {
        self.id
    }

    /// The teacher.
    pub fn teacher(&self) -> UserId {
        self.teacher
    }

    /// The zone its local times are in.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// The rule.
    pub fn rule(&self) -> &SeriesRule {
        &self.rule
    }

    /// When it was opened.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// Its slots, in order.
    pub fn slots(&self) -> &[SlotSeriesMember] {
        &self.slots
    }
}

/// A student's request for a seat in every slot of a slot series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatsRequest {
    /// The student's own new series, listing the seats booked.
    pub id: SeriesId,
    /// A fresh booking id per slot, in order.
    pub ids: Vec<BookingId>,
    /// All or nothing, or what can be booked.
    pub mode: SeriesMode,
}

/// A student books a seat in every slot of `series`, each as one seat is
/// requested ([`Slot::request`]: closed, full, started, too soon, a seat
/// already held...): all or nothing, or what can be booked, as
/// [`book_series`] does. `slots` are the series' slots as loaded, in order.
/// The student's own series lists the seats booked, so it is cancelled as
/// any series is.
pub fn book_slot_series(
    series: &SlotSeries,
    request: SeatsRequest,
    actor: &Actor,
    slots: &mut [Slot],
    policy: &BookingPolicy,
    now: OffsetDateTime,
) -> DomainResult<(Series, Outcome, Vec<OccurrenceAnswer>)> {
    let SeatsRequest { id, ids, mode } = request;
    if slots.len() != series.slots.len() || ids.len() != series.slots.len() {
        return Err(DomainError::invalid("series", "one slot and booking id per occurrence"));
    }
    let occurrences = series.rule.occurrences();
    let mut tally = Tally::new(mode);
    for ((member, slot), booking) in series.slots.iter().zip(slots.iter_mut()).zip(&ids) {
        let occurrence = occurrences
            .iter()
            .find(|o| o.number == member.number)
            .copied()
            .ok_or(DomainError::NotFound { entity: "occurrence" })?;
        let start = slot.window().start();
        match slot.request(*booking, actor, policy, now) {
            Ok(caused) => {
                let made = slot
                    .booking(*booking)
                    .cloned()
                    .ok_or(DomainError::NotFound { entity: "booking" })?;
                tally.booked(occurrence, start, made, caused);
            }
            Err(reason) => tally.refused(occurrence, Some(start), reason)?,
        }
    }
    let (members, outcome, answers) = tally.finish()?;
    let booked = Series {
        id,
        teacher: series.teacher,
        student: actor.user,
        zone: series.zone,
        rule: series.rule.clone(),
        created_at: now,
        members,
    };
    Ok((booked, outcome, answers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime, time};

    fn rule(
        frequency: Frequency,
        interval: u32,
        weekdays: &[Weekday],
        first: Date,
        end: SeriesEnd,
    ) -> DomainResult<SeriesRule> {
        SeriesRule::new(SeriesDraft {
            frequency,
            interval,
            weekdays: weekdays.to_vec(),
            first,
            time: time!(17:00),
            end,
        })
    }

    fn dates(rule: &SeriesRule) -> Vec<Date> {
        rule.occurrences().iter().map(|o| o.local.date()).collect()
    }

    #[test]
    fn weekly_on_two_days_starts_on_the_first_matching_date() {
        // 2026-11-04 is a Wednesday: the Monday of its week is before it.
        let r = rule(
            Frequency::Weekly,
            1,
            &[Weekday::Monday, Weekday::Wednesday],
            date!(2026 - 11 - 04),
            SeriesEnd::Count(4),
        )
        .unwrap();
        assert_eq!(
            dates(&r),
            [
                date!(2026 - 11 - 04),
                date!(2026 - 11 - 09),
                date!(2026 - 11 - 11),
                date!(2026 - 11 - 16)
            ]
        );
        assert_eq!(
            r.occurrences().iter().map(|o| o.number).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
    }

    #[test]
    fn biweekly_skips_a_week_and_until_is_inclusive() {
        let r = rule(
            Frequency::Biweekly,
            1,
            &[],
            date!(2026 - 11 - 02),
            SeriesEnd::Until(date!(2026 - 11 - 30)),
        )
        .unwrap();
        assert_eq!(
            dates(&r),
            [date!(2026 - 11 - 02), date!(2026 - 11 - 16), date!(2026 - 11 - 30)]
        );
    }

    /// RFC 5545's choice: a month without the day has no occurrence, and
    /// the count counts only real ones (docs/decisions/0022-recurring-series.md).
    #[test]
    fn monthly_on_the_31st_skips_short_months() {
        let r = rule(Frequency::Monthly, 1, &[], date!(2027 - 01 - 31), SeriesEnd::Count(4)).unwrap();
        assert_eq!(
            dates(&r),
            [
                date!(2027 - 01 - 31),
                date!(2027 - 03 - 31),
                date!(2027 - 05 - 31),
                date!(2027 - 07 - 31)
            ]
        );
        let refused = rule(
            Frequency::Monthly,
            1,
            &[Weekday::Monday],
            date!(2027 - 01 - 31),
            SeriesEnd::Count(2),
        );
        assert_eq!(refused.unwrap_err().code(), "invalid_input");
    }

    #[test]
    fn more_than_52_or_too_long_is_invalid_input() {
        let first = date!(2026 - 11 - 02);
        for end in [
            SeriesEnd::Count(0),
            SeriesEnd::Count(53),
            SeriesEnd::Until(date!(2028 - 01 - 01)),
        ] {
            let err = rule(Frequency::Weekly, 1, &[], first, end).unwrap_err();
            assert_eq!(err.code(), "invalid_input", "{end:?}");
        }
        assert_eq!(
            rule(Frequency::Weekly, 1, &[], first, SeriesEnd::Count(52))
                .unwrap()
                .occurrences()
                .len(),
            52
        );
        // 52 occurrences every 12 weeks would run for twelve years.
        let err = rule(Frequency::Weekly, 12, &[], first, SeriesEnd::Count(52)).unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        let err = rule(Frequency::Weekly, 13, &[], first, SeriesEnd::Count(2)).unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        let err = rule(
            Frequency::Weekly,
            1,
            &[],
            first,
            SeriesEnd::Until(date!(2026 - 11 - 01)),
        )
        .unwrap_err();
        assert_eq!(err.code(), "invalid_input");
    }

    /// docs/series.md's worked example: 17:00 in New York before and after
    /// the first Sunday of November 2026.
    #[test]
    fn local_time_is_kept_across_the_november_change() {
        let new_york = Zone::parse("America/New_York").unwrap();
        let r = rule(Frequency::Weekly, 1, &[], date!(2026 - 10 - 26), SeriesEnd::Count(2)).unwrap();
        let starts: Vec<_> = r.occurrences().iter().map(|o| o.start(new_york).unwrap()).collect();
        assert_eq!(
            starts,
            [datetime!(2026-10-26 21:00 UTC), datetime!(2026-11-02 22:00 UTC)]
        );
    }

    #[test]
    fn a_time_in_the_march_gap_is_dst_gap_and_an_ambiguous_one_the_earlier_instant() {
        let new_york = Zone::parse("America/New_York").unwrap();
        let gap = Occurrence {
            number: 3,
            local: datetime!(2027-03-14 02:30),
        };
        let err = gap.start(new_york).unwrap_err();
        assert_eq!(err.code(), "dst_gap");
        let refused = gap.refused(err);
        assert_eq!(refused.code(), "dst_gap");
        assert!(
            refused.to_string().starts_with("occurrence 3 (2027-03-14 02:30): "),
            "{refused}"
        );
        let ambiguous = Occurrence {
            number: 1,
            local: datetime!(2026-11-01 01:30),
        };
        assert_eq!(ambiguous.start(new_york).unwrap(), datetime!(2026-11-01 05:30 UTC));
    }

    #[test]
    fn a_rule_round_trips_through_json() {
        let r = rule(
            Frequency::Biweekly,
            2,
            &[Weekday::Friday],
            date!(2026 - 11 - 02),
            SeriesEnd::Count(5),
        )
        .unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<SeriesRule>(&json).unwrap(), r);
    }

    const TEACHER: UserId = UserId::from_uuid(uuid::Uuid::from_u128(1));
    const STUDENT: UserId = UserId::from_uuid(uuid::Uuid::from_u128(2));
    const NOW: OffsetDateTime = datetime!(2030-01-06 12:00 UTC);

    fn new_york() -> Zone {
        Zone::parse("America/New_York").unwrap()
    }

    fn hourly() -> BookingPolicy {
        BookingPolicy::default()
            .with_default_length(Duration::hours(1))
            .and_then(|p| p.with_max_advance(Duration::days(400)))
            .unwrap()
            .with_approval(false, false)
    }

    fn n_ids(n: usize, first: u128) -> Vec<u128> {
        (0..n as u128).map(|i| first + i).collect()
    }

    /// Mondays 16:00–19:00 in New York.
    fn mondays() -> Availability {
        let rule = crate::RuleDraft {
            weekday: Weekday::Monday,
            start: time!(16:00),
            end: time!(19:00),
            zone: new_york(),
            valid_from: None,
            valid_until: None,
            active: true,
        };
        Availability::restore(
            vec![crate::WeeklyRule::new(crate::RuleId::from_uuid(uuid::Uuid::from_u128(9)), rule).unwrap()],
            vec![],
        )
    }

    fn request(count: u32, mode: SeriesMode) -> SeriesRequest {
        let rule = rule(
            Frequency::Weekly,
            1,
            &[],
            date!(2030 - 01 - 14),
            SeriesEnd::Count(count),
        )
        .unwrap();
        SeriesRequest {
            id: SeriesId::from_uuid(uuid::Uuid::from_u128(3)),
            teacher: TEACHER,
            zone: new_york(),
            rule,
            mode,
            ids: n_ids(count as usize, 100)
                .into_iter()
                .map(|n| {
                    (
                        SlotId::from_uuid(uuid::Uuid::from_u128(n)),
                        BookingId::from_uuid(uuid::Uuid::from_u128(n + 1000)),
                    )
                })
                .collect(),
        }
    }

    /// A 1:1 slot of the teacher at `start` (UTC).
    fn taken(start: OffsetDateTime) -> Slot {
        let draft = SlotDraft {
            teacher: TEACHER,
            window: crate::LessonWindow::new(start, start + Duration::hours(1)).unwrap(),
            zone: new_york(),
            capacity: 1,
            meeting: Meeting::default(),
            package_session: None,
            waitlist: None,
        };
        let id = SlotId::from_uuid(uuid::Uuid::from_u128(50));
        Slot::open(
            id,
            draft,
            &Actor::teacher(TEACHER),
            &[],
            &hourly(),
            &PlatformSettings::default(),
            NOW,
        )
        .unwrap()
        .0
    }

    #[test]
    fn every_occurrence_is_checked_and_the_mode_decides() {
        let student = Actor::student(STUDENT);
        // Week 2 (2030-01-21) already holds a lesson at 17:00 EST.
        let busy = [taken(datetime!(2030-01-21 22:00 UTC))];
        let settings = PlatformSettings::default();
        let all = book_series(
            request(3, SeriesMode::AllOrNothing),
            &student,
            &mondays(),
            &busy,
            &hourly(),
            &settings,
            NOW,
        );
        let err = all.unwrap_err();
        assert_eq!(err.code(), "slot_overlap");
        assert!(
            err.to_string().starts_with("occurrence 2 (2030-01-21 17:00): "),
            "{err}"
        );

        let booked = book_series(
            request(3, SeriesMode::BestEffort),
            &student,
            &mondays(),
            &busy,
            &hourly(),
            &settings,
            NOW,
        )
        .unwrap();
        let codes: Vec<_> = booked
            .answers
            .iter()
            .map(|a| a.code.as_deref().unwrap_or("booked"))
            .collect();
        assert_eq!(codes, ["booked", "slot_overlap", "booked"]);
        assert_eq!(booked.slots.len(), 2);
        assert_eq!(
            booked.series.members().iter().map(|m| m.number).collect::<Vec<_>>(),
            [1, 3]
        );
        assert!(
            booked
                .slots
                .iter()
                .all(|s| s.bookings()[0].status() == crate::BookingStatus::Confirmed)
        );

        // Nothing bookable at all: refused even under best effort.
        let teacher = Actor::teacher(TEACHER);
        let own = book_series(
            request(2, SeriesMode::BestEffort),
            &teacher,
            &mondays(),
            &[],
            &hourly(),
            &settings,
            NOW,
        );
        assert_eq!(own.unwrap_err().code(), "own_slot");
    }

    #[test]
    fn a_slot_series_is_refused_as_a_whole_and_its_seats_follow_the_mode() {
        let rule = rule(Frequency::Weekly, 1, &[], date!(2030 - 01 - 14), SeriesEnd::Count(3)).unwrap();
        let draft = |ids: Vec<u128>| SlotSeriesDraft {
            id: SeriesId::from_uuid(uuid::Uuid::from_u128(4)),
            teacher: TEACHER,
            zone: new_york(),
            rule: rule.clone(),
            length: Duration::hours(1),
            capacity: 2,
            ids: ids
                .into_iter()
                .map(|n| SlotId::from_uuid(uuid::Uuid::from_u128(n)))
                .collect(),
        };
        let settings = PlatformSettings::default();
        let teacher = Actor::teacher(TEACHER);
        let busy = [taken(datetime!(2030-01-28 22:30 UTC))];
        let err = SlotSeries::open(draft(n_ids(3, 200)), &teacher, &busy, &hourly(), &settings, NOW).unwrap_err();
        assert_eq!(err.code(), "slot_overlap");
        assert!(err.to_string().starts_with("occurrence 3 "), "{err}");
        let student = Actor::student(STUDENT);
        let err = SlotSeries::open(draft(n_ids(3, 200)), &student, &[], &hourly(), &settings, NOW).unwrap_err();
        assert_eq!(err.code(), "forbidden");

        let (series, mut slots, outcome) =
            SlotSeries::open(draft(n_ids(3, 200)), &teacher, &[], &hourly(), &settings, NOW).unwrap();
        assert_eq!(outcome.events.len(), 3);
        assert_eq!(series.slots().iter().map(|m| m.number).collect::<Vec<_>>(), [1, 2, 3]);
        // The last slot is closed to this student already: they hold a seat.
        slots[2]
            .request(
                BookingId::from_uuid(uuid::Uuid::from_u128(300)),
                &student,
                &hourly(),
                NOW,
            )
            .unwrap();
        let seats = |mode| SeatsRequest {
            id: SeriesId::from_uuid(uuid::Uuid::from_u128(5)),
            ids: n_ids(3, 400)
                .into_iter()
                .map(|n| BookingId::from_uuid(uuid::Uuid::from_u128(n)))
                .collect(),
            mode,
        };
        let mut copy = slots.clone();
        let err = book_slot_series(
            &series,
            seats(SeriesMode::AllOrNothing),
            &student,
            &mut copy,
            &hourly(),
            NOW,
        )
        .unwrap_err();
        assert_eq!(err.code(), "duplicate_booking");
        let (own, _, answers) = book_slot_series(
            &series,
            seats(SeriesMode::BestEffort),
            &student,
            &mut slots,
            &hourly(),
            NOW,
        )
        .unwrap();
        let codes: Vec<_> = answers.iter().map(|a| a.code.as_deref().unwrap_or("booked")).collect();
        assert_eq!(codes, ["booked", "booked", "duplicate_booking"]);
        assert_eq!(own.members().len(), 2);
        assert_eq!(slots[0].booked_count(), 1);
    }

    /// Each occurrence sees only the slots near it, yet a lesson running
    /// past midnight still meets the next day's slots within its buffers,
    /// as it did when every occurrence saw the whole schedule.
    #[test]
    fn an_occurrence_past_midnight_meets_the_next_days_slots_within_its_buffers() {
        let late = BookingPolicy::default()
            .with_default_length(Duration::hours(4))
            .and_then(|p| p.with_max_advance(Duration::days(400)))
            .and_then(|p| p.with_buffers(Duration::hours(4), Duration::hours(4)))
            .unwrap()
            .with_approval(false, false);
        // Mondays 19:00 to 03:00 the next day, in New York: 19:00 and 23:00.
        let evenings = Availability::restore(
            vec![
                crate::WeeklyRule::new(
                    crate::RuleId::from_uuid(uuid::Uuid::from_u128(9)),
                    crate::RuleDraft {
                        weekday: Weekday::Monday,
                        start: time!(19:00),
                        end: time!(03:00),
                        zone: new_york(),
                        valid_from: None,
                        valid_until: None,
                        active: true,
                    },
                )
                .unwrap(),
            ],
            vec![],
        );
        let draft = SeriesDraft {
            frequency: Frequency::Weekly,
            interval: 1,
            weekdays: vec![],
            first: date!(2030 - 01 - 14),
            time: time!(23:00),
            end: SeriesEnd::Count(1),
        };
        let request = SeriesRequest {
            rule: SeriesRule::new(draft).unwrap(),
            ..request(1, SeriesMode::AllOrNothing)
        };
        let (student, settings) = (Actor::student(STUDENT), PlatformSettings::default());
        let book = |busy: &[Slot]| book_series(request.clone(), &student, &evenings, busy, &late, &settings, NOW);
        assert_eq!(book(&[]).unwrap().slots.len(), 1);
        // Monday 23:00 to Tuesday 03:00 EST, then four hours kept free; Tuesday
        // 10:00 keeps four hours before it: they meet at 06:00 to 07:00.
        let tuesday = taken(datetime!(2030-01-15 15:00 UTC));
        assert_eq!(book(&[tuesday]).unwrap_err().code(), "slot_overlap");
    }

    /// docs/series.md: nothing is skipped silently. A stored member whose
    /// occurrence the rule does not have is an error, not a lesson left out
    /// of what a cancellation covers.
    #[test]
    fn a_member_the_rule_does_not_have_is_an_error_not_skipped() {
        let booking = |n: u128| BookingId::from_uuid(uuid::Uuid::from_u128(n));
        let members = vec![
            SeriesMember {
                number: 1,
                booking: booking(10),
            },
            SeriesMember {
                number: 9,
                booking: booking(11),
            },
        ];
        let id = SeriesId::from_uuid(uuid::Uuid::from_u128(3));
        let stored = |members| {
            Series::restore(
                id,
                TEACHER,
                STUDENT,
                new_york(),
                request(3, SeriesMode::BestEffort).rule,
                NOW,
                members,
            )
        };
        let student = Actor::student(STUDENT);
        let stray = StrayMember { series: id, number: 9 };
        assert_eq!(stored(members.clone()).booked(), Err(stray));
        assert_eq!(stored(members.clone()).to_cancel(&student, None), Ok(Err(stray)));
        // A refusal comes first: the teacher learns nothing of the storage.
        assert_eq!(
            stored(members)
                .to_cancel(&Actor::teacher(TEACHER), None)
                .unwrap_err()
                .code(),
            "forbidden"
        );
        let sound = stored(vec![SeriesMember {
            number: 2,
            booking: booking(10),
        }]);
        let from_third = sound.to_cancel(&student, Some(date!(2030 - 01 - 28))).unwrap().unwrap();
        assert!(from_third.is_empty());
        let all = sound.to_cancel(&student, None).unwrap().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].0.number, 2);
    }

    fn any_weekday() -> impl Strategy<Value = Weekday> {
        (0u8..7).prop_map(|n| Weekday::Monday.nth_next(n))
    }

    fn any_draft() -> impl Strategy<Value = SeriesDraft> {
        (
            prop_oneof![
                Just(Frequency::Weekly),
                Just(Frequency::Biweekly),
                Just(Frequency::Monthly)
            ],
            1u32..=MAX_INTERVAL,
            proptest::collection::vec(any_weekday(), 0..4),
            0i64..3000,
            0u8..24,
            prop_oneof![
                (0u32..70).prop_map(SeriesEnd::Count),
                (0i64..1200).prop_map(|d| SeriesEnd::Until(date!(2026 - 01 - 01) + Duration::days(d)))
            ],
        )
            .prop_map(|(frequency, interval, weekdays, offset, hour, end)| SeriesDraft {
                weekdays: if frequency == Frequency::Monthly {
                    Vec::new()
                } else {
                    weekdays
                },
                frequency,
                interval,
                first: date!(2026 - 01 - 01) + Duration::days(offset),
                time: Time::from_hms(hour, 30, 0).unwrap(),
                end: match end {
                    SeriesEnd::Until(until) => SeriesEnd::Until(until + Duration::days(offset)),
                    count => count,
                },
            })
    }

    proptest! {
        #[test]
        fn occurrences_are_few_increasing_on_the_asked_days_at_the_asked_time(draft in any_draft()) {
            let Ok(rule) = SeriesRule::new(draft.clone()) else { return Ok(()) };
            let occurrences = rule.occurrences();
            prop_assert!(!occurrences.is_empty());
            prop_assert!(occurrences.len() <= MAX_OCCURRENCES as usize);
            prop_assert!(occurrences.windows(2).all(|w| w[0].local < w[1].local));
            prop_assert!(occurrences.iter().all(|o| o.local.time() == draft.time));
            prop_assert!(occurrences.iter().all(|o| o.local.date() >= draft.first));
            prop_assert!(occurrences.iter().all(|o| (o.local.date() - draft.first).whole_days() <= MAX_SERIES_DAYS));
            if let SeriesEnd::Count(count) = draft.end {
                prop_assert_eq!(occurrences.len(), count as usize);
            }
            if let SeriesEnd::Until(until) = draft.end {
                prop_assert!(occurrences.iter().all(|o| o.local.date() <= until));
            }
            let weekdays = &rule.draft().weekdays;
            match draft.frequency {
                Frequency::Monthly => prop_assert!(occurrences.iter().all(|o| o.local.day() == draft.first.day())),
                _ => prop_assert!(occurrences.iter().all(|o| weekdays.contains(&o.local.weekday()))),
            }
        }

        /// Across any DST change, an occurrence's start is either refused
        /// as `dst_gap` or shows the asked local time on the zone's clock.
        #[test]
        fn every_start_shows_the_local_time(draft in any_draft()) {
            let Ok(rule) = SeriesRule::new(draft) else { return Ok(()) };
            let new_york = Zone::parse("America/New_York").unwrap();
            for occurrence in rule.occurrences() {
                match occurrence.start(new_york) {
                    Ok(start) => {
                        let local = new_york.to_local(start);
                        prop_assert_eq!(PrimitiveDateTime::new(local.date(), local.time()), occurrence.local);
                    }
                    Err(err) => prop_assert_eq!(err.code(), "dst_gap"),
                }
            }
        }
    }
}
