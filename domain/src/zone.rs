//! IANA time zones (through `time-tz`, pinned to a release with 2026 rules).
//!
//! Instants are stored in UTC; a zone is only needed to turn a wall-clock input
//! into an instant, or an instant into someone's local day.

use crate::{DomainError, DomainResult};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};
use time_tz::{Offset, OffsetError, PrimitiveDateTimeExt, TimeZone, ToTimezone, Tz, timezones};

/// The zone used when a user has none or an invalid one (docs/product.md §1).
pub const DEFAULT_ZONE: &str = "Asia/Seoul";

/// A valid IANA time zone.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone(&'static Tz);

impl Zone {
    /// Parses an IANA name such as `Asia/Seoul`; unknown names are refused.
    pub fn parse(name: &str) -> DomainResult<Self> {
        timezones::get_by_name(name.trim())
            .map(Self)
            .ok_or_else(|| DomainError::invalid("time_zone", format!("unknown IANA time zone {name:?}")))
    }

    /// Parses a user's zone, falling back to [`DEFAULT_ZONE`] when it is missing or invalid.
    pub fn parse_or_default(name: Option<&str>) -> Self {
        name.and_then(|n| Self::parse(n).ok())
            .unwrap_or_else(Self::default_zone)
    }

    /// `Asia/Seoul`.
    pub fn default_zone() -> Self {
        Self(timezones::get_by_name(DEFAULT_ZONE).expect("Asia/Seoul is in the bundled zone database"))
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The instant seen on a wall clock in this zone.
    pub fn to_local(&self, instant: OffsetDateTime) -> OffsetDateTime {
        instant.to_timezone(self.0)
    }

    /// The instant of a local wall-clock time; refuses times skipped (`dst_gap`)
    /// or repeated (`dst_ambiguous`) by a DST change, naming the offending time.
    pub fn resolve_strict(&self, local: PrimitiveDateTime) -> DomainResult<OffsetDateTime> {
        match local.assume_timezone(self.0) {
            Ok(at) => Ok(at.to_offset(time::UtcOffset::UTC)),
            Err(OffsetError::Undefined) => Err(DomainError::DstGap {
                local: local.to_string(),
                zone: self.name().to_owned(),
            }),
            Err(OffsetError::Ambiguous(..)) => Err(DomainError::DstAmbiguous {
                local: local.to_string(),
                zone: self.name().to_owned(),
            }),
        }
    }

    /// The instant of a local wall-clock time for generated schedules: a time in a
    /// DST gap yields `None` (skipped), an ambiguous one its earlier instant.
    pub fn resolve_lenient(&self, local: PrimitiveDateTime) -> Option<OffsetDateTime> {
        match local.assume_timezone(self.0) {
            Ok(at) => Some(at),
            Err(OffsetError::Undefined) => None,
            Err(OffsetError::Ambiguous(a, b)) => Some(a.min(b)),
        }
        .map(|at| at.to_offset(time::UtcOffset::UTC))
    }
}

impl Zone {
    /// The zone's offset from UTC at `instant`.
    pub fn offset_at(&self, instant: OffsetDateTime) -> UtcOffset {
        self.0.get_offset_utc(&instant).to_utc()
    }

    /// The instant a span that starts or ends at local `local` is bounded
    /// by: an ambiguous time takes its earlier instant, a time in a DST gap
    /// the end of the gap (the first wall-clock time that exists after it).
    /// Gaps in the tz database end on a quarter hour, so the search steps
    /// in quarter hours from `local` rounded up to one; the longest gap on
    /// record (a whole day, Samoa 2011) bounds it.
    pub fn resolve_bound(&self, local: PrimitiveDateTime) -> OffsetDateTime {
        if let Some(at) = self.resolve_lenient(local) {
            return at;
        }
        let quarter = Duration::minutes(15);
        let minute = i64::from(local.minute());
        let mut probe = local
            .replace_second(0)
            .unwrap_or(local)
            .replace_nanosecond(0)
            .unwrap_or(local)
            + Duration::minutes((15 - minute % 15) % 15);
        for _ in 0..=(24 * 4 + 1) {
            if let Some(at) = self.resolve_lenient(probe) {
                return at;
            }
            probe += quarter;
        }
        // Unreachable with real zone data; UTC keeps the answer total.
        local.assume_utc()
    }
}

/// Zones are equal when they are the same database entry: compared by
/// address, then by name, never by their (large) transition tables.
impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0) || self.name() == other.name()
    }
}

impl Eq for Zone {}

impl Default for Zone {
    fn default() -> Self {
        Self::default_zone()
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name())
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for Zone {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Zone> for String {
    fn from(value: Zone) -> Self {
        value.name().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn unknown_zone_is_refused_or_falls_back() {
        assert_eq!(Zone::parse("Mars/Olympus").unwrap_err().code(), "invalid_input");
        assert_eq!(Zone::parse_or_default(Some("Mars/Olympus")).name(), "Asia/Seoul");
        assert_eq!(Zone::parse_or_default(None).name(), "Asia/Seoul");
    }

    /// Pins a 2026 rule so a downgrade of the zone data is caught: British
    /// Columbia stays on -07:00 all year from late 2026.
    #[test]
    fn zone_data_knows_2026_rules() {
        let vancouver = Zone::parse("America/Vancouver").unwrap();
        let local = vancouver.to_local(datetime!(2026-12-15 20:00 UTC));
        assert_eq!(local.offset().whole_hours(), -7);
    }

    #[test]
    fn dst_gap_and_overlap_are_named() {
        let new_york = Zone::parse("America/New_York").unwrap();
        let gap = new_york.resolve_strict(datetime!(2026-03-08 02:30)).unwrap_err();
        assert_eq!(gap.code(), "dst_gap");
        assert!(gap.to_string().contains("2026-03-08"));
        let overlap = new_york.resolve_strict(datetime!(2026-11-01 01:30)).unwrap_err();
        assert_eq!(overlap.code(), "dst_ambiguous");
        assert_eq!(new_york.resolve_lenient(datetime!(2026-03-08 02:30)), None);
        assert_eq!(
            new_york.resolve_lenient(datetime!(2026-11-01 01:30)),
            Some(datetime!(2026-11-01 05:30 UTC))
        );
        assert_eq!(
            new_york.resolve_strict(datetime!(2026-07-01 09:00)).unwrap(),
            datetime!(2026-07-01 13:00 UTC)
        );
    }
}
