//! Instants as integers, and a zone's offsets around one query looked up
//! once per day.
//!
//! Bookable times compare and step instants by the thousand. Integers
//! compare far faster than `OffsetDateTime`s (which normalise their offsets
//! on every comparison), so the work is done in nanoseconds since the Unix
//! epoch ([`Nanos`]).
//!
//! Resolving a local time through the zone database is a binary search per
//! call; a month of rule windows, exceptions and limited days makes
//! hundreds of them. The offsets at each UTC midnight around the query are
//! looked up once instead, and a local time far enough from any change
//! resolves with plain arithmetic. Near a change (and outside the table)
//! the zone database answers.

use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::Zone;

/// Nanoseconds since the Unix epoch. An `i64` reaches from 1677 to 2262,
/// far beyond the instants the engine accepts; values beyond it are clamped
/// well inside, so sums of a few of them cannot overflow.
pub(super) type Nanos = i64;

const NANOS_LIMIT: i128 = (i64::MAX / 4) as i128;
const SECOND: Nanos = 1_000_000_000;
const DAY: Nanos = 86_400 * SECOND;

/// `at` as [`Nanos`].
pub(super) fn nanos(at: OffsetDateTime) -> Nanos {
    clamp(at.unix_timestamp_nanos())
}

/// `d` as [`Nanos`].
pub(super) fn span(d: Duration) -> Nanos {
    clamp(d.whole_nanoseconds())
}

fn clamp(n: i128) -> Nanos {
    i64::try_from(n.clamp(-NANOS_LIMIT, NANOS_LIMIT)).unwrap_or_default()
}

/// [`Nanos`] back as an instant in UTC.
pub(super) fn instant(at: Nanos) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A local wall-clock time read as if it were UTC.
fn as_utc(local: PrimitiveDateTime) -> Nanos {
    nanos(local.assume_utc())
}

fn offset_nanos(offset: UtcOffset) -> Nanos {
    Nanos::from(offset.whole_seconds()) * SECOND
}

/// Days the table reaches beyond the query on each side: hours crossing
/// midnight, exceptions read a day early, offsets of up to ±14 hours.
const MARGIN_DAYS: i64 = 3;

/// The longest table, in days (a query covers at most 93).
const MAX_DAYS: i64 = 400;

/// Per-zone offset tables over one query's range.
#[derive(Debug, Clone)]
pub(super) struct Offsets {
    first: Nanos,
    days: usize,
    tables: Vec<(Zone, Vec<UtcOffset>)>,
}

impl Offsets {
    /// Tables (built on first use per zone) covering `[from, to)` with a margin.
    pub(super) fn around(from: OffsetDateTime, to: OffsetDateTime) -> Self {
        let first = (from - Duration::days(MARGIN_DAYS)).date().midnight().assume_utc();
        let days = ((to - first).whole_days() + MARGIN_DAYS + 1).clamp(0, MAX_DAYS);
        Self {
            first: nanos(first),
            days: usize::try_from(days).unwrap_or(0),
            tables: Vec::new(),
        }
    }

    fn table(&mut self, zone: Zone) -> &[UtcOffset] {
        let index = match self.tables.iter().position(|(z, _)| *z == zone) {
            Some(index) => index,
            None => {
                let first = instant(self.first);
                let offsets = (0..self.days)
                    .map(|day| zone.offset_at(first + Duration::days(day as i64)))
                    .collect();
                self.tables.push((zone, offsets));
                self.tables.len() - 1
            }
        };
        &self.tables[index].1
    }

    /// The day of the table `at` falls on, when inside it.
    fn day_of(&self, at: Nanos) -> Option<usize> {
        let since = at.checked_sub(self.first)?;
        if since < 0 {
            return None;
        }
        usize::try_from(since / DAY).ok().filter(|day| *day < self.days)
    }

    /// The offset in force over days `day - before ..= day + after`, if
    /// it does not change over them.
    fn steady(&mut self, zone: Zone, day: usize, before: usize, after: usize) -> Option<UtcOffset> {
        let table = self.table(zone);
        let span = table.get(day.checked_sub(before)?..=day + after)?;
        span.iter().all(|o| *o == span[0]).then_some(span[0])
    }

    /// [`Zone::resolve_bound`], with the offset used when no change is near
    /// (then the whole day around the answer shares that offset).
    pub(super) fn resolve_bound(&mut self, zone: Zone, local: PrimitiveDateTime) -> (Nanos, Option<UtcOffset>) {
        let guess = as_utc(local);
        // The answer lies within 14 hours of `local` read as UTC.
        if let Some(day) = self.day_of(guess)
            && let Some(offset) = self.steady(zone, day, 1, 2)
        {
            return (guess - offset_nanos(offset), Some(offset));
        }
        (nanos(zone.resolve_bound(local)), None)
    }

    /// The local date of `at` in `zone`.
    pub(super) fn local_date(&mut self, zone: Zone, at: Nanos) -> Date {
        if let Some(day) = self.day_of(at)
            && let Some(offset) = self.steady(zone, day, 0, 1)
        {
            return instant(at + offset_nanos(offset)).date();
        }
        zone.to_local(instant(at)).date()
    }
}
