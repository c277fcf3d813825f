//! Bookable times: the 1:1 lesson starts a student may pick from a
//! teacher's weekly rules and date exceptions, around their existing slots,
//! under their policy (docs/availability.md).
//!
//! Everything is resolved to UTC once per window, exception day and
//! limited day; candidates are then checked against sorted, merged
//! intervals by binary search. Nothing steps minute by minute, and a
//! zone's offsets are looked up per window, not per candidate: a window
//! without a DST change inside it gets its starts by adding the lesson
//! length to one resolved instant.

use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime};

use super::offsets::{Nanos, Offsets, instant, nanos, span};
use super::{Availability, DateException, WeeklyRule};
use crate::{
    BookingPolicy, DomainError, DomainResult, LessonWindow, MAX_BUFFER, MAX_LESSON_LENGTH, Slot, SlotStatus, Zone,
};

/// One of the teacher's existing open slots, as bookable times see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusySlot {
    /// When it runs.
    pub window: LessonWindow,
    /// Its requested and confirmed bookings, for the daily limit.
    pub active_bookings: u32,
}

impl BusySlot {
    /// The busy time of an open slot; `None` for a cancelled or deleted one.
    pub fn of(slot: &Slot) -> Option<Self> {
        (slot.status() == SlotStatus::Open).then(|| Self {
            window: slot.window(),
            active_bookings: slot.bookings().iter().filter(|b| b.status().is_active()).count() as u32,
        })
    }
}

/// What bookable times are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookableQuery {
    /// Starts at or after this instant...
    pub from: OffsetDateTime,
    /// ...and before this one.
    pub to: OffsetDateTime,
    /// The lesson length: the grid each window is stepped by.
    pub length: Duration,
    /// Now, for notice and advance.
    pub now: OffsetDateTime,
}

/// A rule's or extra hours' window, resolved.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// The local start the grid is anchored at.
    local_start: PrimitiveDateTime,
    /// The local end.
    local_end: PrimitiveDateTime,
    zone: Zone,
    start: Nanos,
    end: Nanos,
    /// The grid's origin, `local_start` at the zone's offset, when no DST
    /// change falls in the window: then every start is `base + k × length`.
    base: Option<Nanos>,
}

impl Window {
    fn resolve(
        offsets: &mut Offsets,
        zone: Zone,
        local_start: PrimitiveDateTime,
        local_end: PrimitiveDateTime,
    ) -> Option<Self> {
        let (start, at_start) = offsets.resolve_bound(zone, local_start);
        let (end, at_end) = offsets.resolve_bound(zone, local_end);
        if end <= start {
            return None;
        }
        // Both bounds far from any change with one offset: none falls between
        // them (a window is at most a day long).
        let (offset, fixed) = match (at_start, at_end) {
            (Some(a), Some(b)) => (a, a == b),
            _ => {
                let offset = zone.offset_at(instant(start));
                (offset, zone.offset_at(instant(end - 1)) == offset)
            }
        };
        Some(Self {
            local_start,
            local_end,
            zone,
            start,
            end,
            base: fixed.then(|| nanos(local_start.assume_offset(offset))),
        })
    }

    /// The lesson starts of this window, in order: `local_start + k × length`
    /// in wall-clock time, a time in a DST gap skipped, an ambiguous one at
    /// its earlier instant, each lesson ending by the window's end.
    fn starts(&self, length: Duration) -> impl Iterator<Item = Nanos> + '_ {
        let step = span(length);
        let mut k: i32 = 0;
        std::iter::from_fn(move || {
            loop {
                let start = match self.base {
                    Some(base) => base.saturating_add(step.saturating_mul(Nanos::from(k))),
                    None => {
                        let local = self.local_start.checked_add(length.checked_mul(k)?)?;
                        if local >= self.local_end {
                            return None;
                        }
                        match self.zone.resolve_lenient(local) {
                            Some(at) => nanos(at),
                            None => {
                                k = k.checked_add(1)?;
                                continue;
                            }
                        }
                    }
                };
                k = k.checked_add(1)?;
                if start + step > self.end {
                    return None;
                }
                if start >= self.start {
                    return Some(start);
                }
            }
        })
    }
}

/// Sorted, disjoint `[start, end)` intervals.
#[derive(Debug, Clone, Default)]
struct Intervals(Vec<(Nanos, Nanos)>);

impl Intervals {
    fn merged(mut raw: Vec<(Nanos, Nanos)>) -> Self {
        raw.sort_unstable();
        let mut merged: Vec<(Nanos, Nanos)> = Vec::with_capacity(raw.len());
        for (start, end) in raw {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        Self(merged)
    }

    /// Whether `[start, end)` meets any interval.
    fn overlaps(&self, start: Nanos, end: Nanos) -> bool {
        let i = self.0.partition_point(|iv| iv.1 <= start);
        self.0.get(i).is_some_and(|iv| iv.0 < end)
    }

    /// Whether `at` lies in an interval.
    fn contains(&self, at: Nanos) -> bool {
        self.overlaps(at, at + 1)
    }

    /// A cursor for queries that mostly come in ascending order.
    fn sweep(&self) -> Sweep<'_> {
        Sweep {
            intervals: &self.0,
            next: 0,
            last: Nanos::MIN,
        }
    }
}

/// Walks [`Intervals`] forward as the queried starts ascend (candidates do,
/// within and across windows), so a whole query costs one pass; a start
/// earlier than the last one (overlapping windows) seeks by binary search.
struct Sweep<'a> {
    intervals: &'a [(Nanos, Nanos)],
    next: usize,
    last: Nanos,
}

impl Sweep<'_> {
    /// Whether `[start, end)` meets an interval.
    fn overlaps(&mut self, start: Nanos, end: Nanos) -> bool {
        if start < self.last {
            self.next = self.intervals.partition_point(|iv| iv.1 <= start);
        } else {
            while self.intervals.get(self.next).is_some_and(|iv| iv.1 <= start) {
                self.next += 1;
            }
        }
        self.last = start;
        self.intervals.get(self.next).is_some_and(|iv| iv.0 < end)
    }
}

/// A teacher's availability prepared for one query: windows, exceptions,
/// busy time and full days resolved to UTC.
#[derive(Debug, Clone)]
pub struct Bookable {
    query: BookableQuery,
    windows: Vec<Window>,
    blocked: Intervals,
    busy: Intervals,
    full_days: Intervals,
    from: Nanos,
    to: Nanos,
    now: Nanos,
    length: Nanos,
    earliest: Nanos,
    latest: Nanos,
    daily_limit: Option<u32>,
}

impl Bookable {
    /// Prepares `availability` for `query`. `busy` are the teacher's open
    /// slots near the range (package sessions and group slots included);
    /// the daily limit counts their bookings per local day of `day_zone`,
    /// the teacher's zone.
    pub fn prepare(
        availability: &Availability,
        busy: &[BusySlot],
        policy: &BookingPolicy,
        day_zone: Zone,
        query: BookableQuery,
    ) -> Self {
        let mut offsets = Offsets::around(query.from, query.to);
        let mut windows = Vec::new();
        for rule in availability.rules() {
            rule_windows(&mut offsets, rule, &query, &mut windows);
        }
        let mut blocked = Vec::new();
        for exception in availability.exceptions() {
            exception_spans(&mut offsets, exception, &query, |offsets, zone, start, end| {
                if exception.draft().kind.adds_hours() {
                    windows.extend(Window::resolve(offsets, zone, start, end));
                } else {
                    blocked.push((offsets.resolve_bound(zone, start).0, offsets.resolve_bound(zone, end).0));
                }
            });
        }
        windows.sort_by_key(|w| w.start);

        let buffers = policy.buffers();
        let reach = buffers.before + buffers.after;
        let reach = span(reach);
        let busy_padded = busy
            .iter()
            .map(|b| (nanos(b.window.start()) - reach, nanos(b.window.end()) + reach))
            .collect();

        let full_days = match policy.daily_limit() {
            Some(limit) => full_days(&mut offsets, busy, limit, day_zone),
            None => Vec::new(),
        };
        Self {
            query,
            windows,
            blocked: Intervals::merged(blocked),
            busy: Intervals::merged(busy_padded),
            full_days: Intervals::merged(full_days),
            from: nanos(query.from),
            to: nanos(query.to),
            now: nanos(query.now),
            length: span(query.length),
            earliest: nanos(query.now) + span(policy.min_notice()),
            latest: nanos(query.now) + span(policy.max_advance()),
            daily_limit: policy.daily_limit(),
        }
    }

    /// The lesson length the times are for.
    pub fn length(&self) -> Duration {
        self.query.length
    }

    /// The bookable starts in the query's range, sorted and unique.
    pub fn times(&self) -> Vec<OffsetDateTime> {
        let (mut blocked, mut full_days, mut busy) = (self.blocked.sweep(), self.full_days.sweep(), self.busy.sweep());
        let mut out: Vec<Nanos> = Vec::new();
        let mut sorted = true;
        for window in &self.windows {
            if window.end <= self.from || window.start >= self.to {
                continue;
            }
            for start in window.starts(self.query.length) {
                if start >= self.to || start > self.latest {
                    break;
                }
                let end = start + self.length;
                if start < self.from
                    || start <= self.now
                    || start < self.earliest
                    || blocked.overlaps(start, end)
                    || full_days.overlaps(start, start + 1)
                    || busy.overlaps(start, end)
                {
                    continue;
                }
                sorted &= out.last().is_none_or(|last| *last < start);
                out.push(start);
            }
        }
        if !sorted {
            out.sort_unstable();
            out.dedup();
        }
        out.into_iter().map(instant).collect()
    }

    /// Why `start` is not bookable, or `Ok` when [`Bookable::times`] offers
    /// it (the query's range must contain it).
    pub fn check(&self, start: OffsetDateTime) -> DomainResult<()> {
        let at = nanos(start);
        if at <= self.now {
            return Err(DomainError::SlotInPast);
        }
        if at < self.earliest {
            return Err(DomainError::MinNotice {
                minutes: minutes(self.earliest - self.now),
            });
        }
        if at > self.latest {
            return Err(DomainError::MaxAdvance {
                days: minutes(self.latest - self.now) / (24 * 60),
            });
        }
        let on_grid = self
            .windows
            .iter()
            .filter(|w| w.start <= at && at < w.end)
            .any(|w| w.starts(self.query.length).take_while(|s| *s <= at).any(|s| s == at));
        if !on_grid || self.blocked.overlaps(at, at + self.length) {
            return Err(DomainError::OutsideAvailability);
        }
        if self.full_days.contains(at) {
            return Err(DomainError::DailyLimitReached {
                limit: self.daily_limit.unwrap_or_default(),
            });
        }
        if self.busy.overlaps(at, at + self.length) {
            return Err(DomainError::SlotOverlap);
        }
        Ok(())
    }
}

fn minutes(n: Nanos) -> i64 {
    n / 60_000_000_000
}

/// The bookable starts of `query` (see [`Bookable`]).
pub fn bookable_times(
    availability: &Availability,
    busy: &[BusySlot],
    policy: &BookingPolicy,
    day_zone: Zone,
    query: BookableQuery,
) -> Vec<OffsetDateTime> {
    Bookable::prepare(availability, busy, policy, day_zone, query).times()
}

/// The span of a teacher's slots a time booked at `start` must see: its
/// local day in `zone` (the daily limit counts that day's bookings),
/// widened on each side by twice [`MAX_BUFFER`] (an existing slot's buffer
/// and the new lesson's may both stand between them), and at the end also
/// by [`MAX_LESSON_LENGTH`] (a lesson starting late in the day runs into
/// the next). One booked time locks and loads this span; a series checks
/// each occurrence against it, so both decide on the same slots.
pub fn day_reach(zone: Zone, start: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let day = zone.to_local(start).date();
    let day_start = zone.resolve_bound(day.midnight());
    let day_end = day
        .next_day()
        .map_or(day_start + Duration::DAY, |d| zone.resolve_bound(d.midnight()));
    let reach = MAX_BUFFER + MAX_BUFFER;
    (day_start - reach, day_end + MAX_LESSON_LENGTH + reach)
}

/// The bookable times around `start` (a nanosecond's range, all
/// [`Bookable::check`] needs) for lessons of `length`, among `teacher_slots`
/// (the open ones are busy): what one booked time and each occurrence of a
/// series are checked against.
pub fn bookable_at(
    availability: &Availability,
    teacher_slots: &[Slot],
    policy: &BookingPolicy,
    zone: Zone,
    start: OffsetDateTime,
    length: Duration,
    now: OffsetDateTime,
) -> Bookable {
    let busy: Vec<BusySlot> = teacher_slots.iter().filter_map(BusySlot::of).collect();
    let query = BookableQuery {
        from: start,
        to: start + Duration::NANOSECOND,
        length,
        now,
    };
    Bookable::prepare(availability, &busy, policy, zone, query)
}

/// The local dates of `zone` whose hours could hold a start in the query's
/// range: from the day before `from` (hours crossing midnight) to the day of `to`.
fn local_dates(offsets: &mut Offsets, zone: Zone, query: &BookableQuery) -> (Date, Date) {
    let first = offsets.local_date(zone, nanos(query.from));
    let first = first.previous_day().unwrap_or(first);
    (first, offsets.local_date(zone, nanos(query.to)))
}

fn rule_windows(offsets: &mut Offsets, rule: &WeeklyRule, query: &BookableQuery, out: &mut Vec<Window>) {
    let (first, last) = local_dates(offsets, rule.zone(), query);
    let mut date = first;
    // Step to the rule's weekday, then a week at a time.
    let ahead = (i64::from(rule.draft().weekday.number_days_from_monday())
        - i64::from(date.weekday().number_days_from_monday()))
    .rem_euclid(7);
    let Some(mut next) = date.checked_add(Duration::days(ahead)) else {
        return;
    };
    while next <= last {
        date = next;
        if rule.applies_on(date)
            && let Some((start, end)) = rule.local_window(date)
        {
            out.extend(Window::resolve(offsets, rule.zone(), start, end));
        }
        match date.checked_add(Duration::WEEK) {
            Some(d) => next = d,
            None => break,
        }
    }
}

/// Calls `each(zone, local start, local end)` for the exception's spans on
/// dates that can matter to the query.
fn exception_spans(
    offsets: &mut Offsets,
    exception: &DateException,
    query: &BookableQuery,
    mut each: impl FnMut(&mut Offsets, Zone, PrimitiveDateTime, PrimitiveDateTime),
) {
    let draft = exception.draft();
    let (first, last) = local_dates(offsets, draft.zone, query);
    let last = last.next_day().unwrap_or(last);
    for (start, end) in exception.local_spans(first, last) {
        each(offsets, draft.zone, start, end);
    }
}

/// The local days of `zone` on which `busy` already holds `limit` bookings
/// or more, as UTC intervals. The slots are walked in start order, so the
/// zone is consulted once per local day, not once per slot.
fn full_days(offsets: &mut Offsets, busy: &[BusySlot], limit: u32, zone: Zone) -> Vec<(Nanos, Nanos)> {
    let mut booked: Vec<(Nanos, u32)> = busy
        .iter()
        .filter(|b| b.active_bookings > 0)
        .map(|b| (nanos(b.window.start()), b.active_bookings))
        .collect();
    booked.sort_unstable();
    let mut full = Vec::new();
    let mut day: Option<(Nanos, Nanos, u32)> = None;
    for (start, count) in booked {
        let current = match day {
            Some((from, to, seen)) if from <= start && start < to => (from, to, seen),
            _ => {
                let date = offsets.local_date(zone, start);
                let Some(next) = date.next_day() else { continue };
                (
                    offsets.resolve_bound(zone, date.midnight()).0,
                    offsets.resolve_bound(zone, next.midnight()).0,
                    0,
                )
            }
        };
        let seen = current.2.saturating_add(count);
        if seen >= limit && current.2 < limit {
            full.push((current.0, current.1));
        }
        day = Some((current.0, current.1, seen));
    }
    full
}
