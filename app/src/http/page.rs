//! Cursor pagination and time-range parameters shared by the list operations.
//!
//! A cursor is the id of the last item of the previous page: stable while
//! items are added or removed elsewhere in the list, and opaque to clients.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::http::problem::Problem;

/// Items per page when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// Most items per page.
pub const MAX_LIMIT: u32 = 200;
/// Longest `[from, to)` range a list accepts.
pub const MAX_RANGE: Duration = Duration::days(366);

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(Option<Uuid>);

impl Cursor {
    /// The id of the last item of the previous page, when there was one.
    pub fn id(&self) -> Option<Uuid> {
        self.0
    }

    /// Reads a `cursor` parameter; `invalid_input` when it is not one we gave out.
    pub fn parse(raw: Option<&str>) -> Result<Self, Problem> {
        raw.map(|c| Uuid::parse_str(c).map_err(|_| Problem::invalid("cursor is not one this API gave out")))
            .transpose()
            .map(Self)
    }
}

/// The page of `items` (already in list order) after `cursor`, at most
/// `limit` long, and the cursor of the next page when there is one. A cursor
/// naming an item no longer in the list is refused rather than silently
/// restarting.
pub fn page_after<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> Uuid,
    cursor: Cursor,
    limit: Option<u32>,
) -> Result<(Vec<T>, Option<String>), Problem> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::invalid(format!("limit must be 1 to {MAX_LIMIT}")));
    }
    let start = match cursor.0 {
        None => 0,
        Some(after) => {
            items
                .iter()
                .position(|item| id(item) == after)
                .ok_or_else(|| Problem::invalid("cursor does not point into this list (it changed); start over"))?
                + 1
        }
    };
    let mut page: Vec<T> = items.into_iter().skip(start).collect();
    let more = page.len() > limit as usize;
    page.truncate(limit as usize);
    let next = if more {
        page.last().map(|item| id(item).to_string())
    } else {
        None
    };
    Ok((page, next))
}

/// A `[from, to)` range: `from` defaults to `now`, `to` to `from + default`.
/// `invalid_time_range` unless `from < to`; `invalid_input` when longer than
/// [`MAX_RANGE`] or outside the years 2000 to 2100 (checked before any
/// arithmetic, which far-off instants would overflow).
pub fn time_range(
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
    default: Duration,
    now: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), Problem> {
    let from = from.unwrap_or(now);
    tutorbook_domain::check_instant("from", from)?;
    let to = to.unwrap_or(from + default);
    tutorbook_domain::check_instant("to", to)?;
    if to <= from {
        return Err(tutorbook_domain::DomainError::InvalidTimeRange.into());
    }
    if to - from > MAX_RANGE {
        return Err(Problem::invalid("the range may span at most 366 days"));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<Uuid> {
        (1..=n).map(Uuid::from_u128).collect()
    }

    #[test]
    fn pages_follow_each_other_without_gaps() {
        let (first, next) = page_after(ids(5), |u| *u, Cursor(None), Some(2)).unwrap();
        assert_eq!(first, ids(2));
        let cursor = Cursor::parse(next.as_deref()).unwrap();
        let (second, next) = page_after(ids(5), |u| *u, cursor, Some(2)).unwrap();
        assert_eq!(second, vec![Uuid::from_u128(3), Uuid::from_u128(4)]);
        let (last, next) = page_after(ids(5), |u| *u, Cursor::parse(next.as_deref()).unwrap(), Some(2)).unwrap();
        assert_eq!((last, next), (vec![Uuid::from_u128(5)], None));
    }

    #[test]
    fn bad_cursors_and_limits_are_refused() {
        assert_eq!(Cursor::parse(Some("nope")).unwrap_err().code, "invalid_input");
        let unknown = Cursor(Some(Uuid::from_u128(99)));
        assert_eq!(
            page_after(ids(3), |u| *u, unknown, None).unwrap_err().code,
            "invalid_input"
        );
        assert_eq!(
            page_after(ids(3), |u| *u, Cursor(None), Some(0)).unwrap_err().code,
            "invalid_input"
        );
        assert_eq!(
            page_after(ids(3), |u| *u, Cursor(None), Some(201)).unwrap_err().code,
            "invalid_input"
        );
    }

    #[test]
    fn ranges_must_be_ordered_and_bounded() {
        let now = time::macros::datetime!(2030-01-07 09:00 UTC);
        assert_eq!(
            time_range(Some(now), Some(now), Duration::DAY, now).unwrap_err().code,
            "invalid_time_range"
        );
        let far = time::macros::datetime!(9999-12-01 00:00 UTC);
        assert_eq!(
            time_range(Some(far), None, Duration::DAY, now).unwrap_err().code,
            "invalid_input"
        );
        assert_eq!(
            time_range(None, Some(far), Duration::DAY, now).unwrap_err().code,
            "invalid_input"
        );
        let long = time_range(Some(now), Some(now + Duration::days(400)), Duration::DAY, now);
        assert_eq!(long.unwrap_err().code, "invalid_input");
        assert_eq!(
            time_range(Some(now), None, Duration::DAY, now).unwrap(),
            (now, now + Duration::DAY)
        );
    }
}
