//! Teachers' weekly rules and date exceptions over SQL. They are written by
//! units of work (`crate::unit`) under the teacher's lock, as a whole set
//! per teacher; reads need no lock.

use std::future::Future;

use async_trait::async_trait;
use diesel::{ExpressionMethods, Insertable, QueryDsl, Queryable, Selectable, SelectableHelper};
use time::{Date, Time, Weekday};
use tutorbook_domain::{
    Availability, DateException, ExceptionDraft, ExceptionId, ExceptionKind, RuleDraft, RuleId, UserId, WeeklyRule,
    Zone,
};
use tutorbook_ports::{AvailabilityStore, Result};

use crate::error::TxError;
use crate::rows::corrupt;
use crate::schema::{availability_exceptions, availability_rules};
use crate::store::{Backend, SqlStore, pool_error, read};
use crate::types::DbId;

/// The availability queries, per connection type (see `impl_availability_queries!`).
pub(crate) trait AvailabilityQueries: Send {
    /// A teacher's rules and exceptions (empty when none were set).
    fn load_availability(&mut self, teacher: UserId) -> impl Future<Output = Result<Availability, TxError>> + Send;
    /// Replaces a teacher's rules and exceptions with `availability`.
    fn replace_availability(
        &mut self,
        teacher: UserId,
        availability: &Availability,
    ) -> impl Future<Output = Result<(), TxError>> + Send;
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = availability_rules)]
pub(crate) struct RuleRow {
    id: DbId,
    teacher_id: DbId,
    weekday: i16,
    start_minute: i32,
    end_minute: i32,
    zone: String,
    valid_from: Option<i32>,
    valid_until: Option<i32>,
    active: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = availability_exceptions)]
pub(crate) struct ExceptionRow {
    id: DbId,
    teacher_id: DbId,
    kind: String,
    from_date: i32,
    until_date: i32,
    start_minute: Option<i32>,
    end_minute: Option<i32>,
    zone: String,
    note: String,
}

fn minute_of(t: Time) -> i32 {
    i32::from(t.hour()) * 60 + i32::from(t.minute())
}

fn time_of(minute: i32) -> Result<Time, tutorbook_ports::Error> {
    let (h, m) = (minute / 60, minute % 60);
    u8::try_from(h)
        .ok()
        .zip(u8::try_from(m).ok())
        .and_then(|(h, m)| Time::from_hms(h, m, 0).ok())
        .ok_or_else(|| corrupt(format!("minute of day {minute}")))
}

fn date_of(julian: i32) -> Result<Date, tutorbook_ports::Error> {
    Date::from_julian_day(julian).map_err(corrupt)
}

fn zone_of(name: &str) -> Result<Zone, tutorbook_ports::Error> {
    Zone::parse(name).map_err(corrupt)
}

impl RuleRow {
    fn of(teacher: UserId, rule: &WeeklyRule) -> Self {
        let d = rule.draft();
        Self {
            id: rule.id().into(),
            teacher_id: teacher.into(),
            weekday: i16::from(d.weekday.number_days_from_monday()),
            start_minute: minute_of(d.start),
            end_minute: minute_of(d.end),
            zone: d.zone.name().to_owned(),
            valid_from: d.valid_from.map(Date::to_julian_day),
            valid_until: d.valid_until.map(Date::to_julian_day),
            active: d.active,
        }
    }

    fn into_rule(self) -> Result<WeeklyRule, tutorbook_ports::Error> {
        let weekday = u8::try_from(self.weekday)
            .ok()
            .filter(|d| *d < 7)
            .map(|d| Weekday::Monday.nth_next(d))
            .ok_or_else(|| corrupt(format!("weekday {}", self.weekday)))?;
        let draft = RuleDraft {
            weekday,
            start: time_of(self.start_minute)?,
            end: time_of(self.end_minute)?,
            zone: zone_of(&self.zone)?,
            valid_from: self.valid_from.map(date_of).transpose()?,
            valid_until: self.valid_until.map(date_of).transpose()?,
            active: self.active,
        };
        WeeklyRule::new(RuleId::from_uuid(self.id.0), draft).map_err(corrupt)
    }
}

impl ExceptionRow {
    fn of(teacher: UserId, exception: &DateException) -> Self {
        let d = exception.draft();
        Self {
            id: exception.id().into(),
            teacher_id: teacher.into(),
            kind: d.kind.as_str().to_owned(),
            from_date: d.from.to_julian_day(),
            until_date: d.until.to_julian_day(),
            start_minute: d.hours.map(|(start, _)| minute_of(start)),
            end_minute: d.hours.map(|(_, end)| minute_of(end)),
            zone: d.zone.name().to_owned(),
            note: d.note.clone(),
        }
    }

    fn into_exception(self) -> Result<DateException, tutorbook_ports::Error> {
        let hours = match (self.start_minute, self.end_minute) {
            (Some(start), Some(end)) => Some((time_of(start)?, time_of(end)?)),
            (None, None) => None,
            _ => return Err(corrupt("an exception with half its hours")),
        };
        let draft = ExceptionDraft {
            kind: ExceptionKind::parse(&self.kind).ok_or_else(|| corrupt(format!("exception kind {:?}", self.kind)))?,
            from: date_of(self.from_date)?,
            until: date_of(self.until_date)?,
            hours,
            zone: zone_of(&self.zone)?,
            note: self.note,
        };
        DateException::new(ExceptionId::from_uuid(self.id.0), draft).map_err(corrupt)
    }
}

/// Implements [`AvailabilityQueries`] for one connection type.
macro_rules! impl_availability_queries {
    ($conn:ty) => {
        impl AvailabilityQueries for $conn {
            async fn load_availability(&mut self, teacher: UserId) -> Result<Availability, TxError> {
                use diesel_async::RunQueryDsl;
                let rules: Vec<RuleRow> = availability_rules::table
                    .filter(availability_rules::teacher_id.eq(DbId::from(teacher)))
                    .order((
                        availability_rules::weekday.asc(),
                        availability_rules::start_minute.asc(),
                        availability_rules::id.asc(),
                    ))
                    .select(RuleRow::as_select())
                    .load(self)
                    .await?;
                let exceptions: Vec<ExceptionRow> = availability_exceptions::table
                    .filter(availability_exceptions::teacher_id.eq(DbId::from(teacher)))
                    .order((
                        availability_exceptions::from_date.asc(),
                        availability_exceptions::id.asc(),
                    ))
                    .select(ExceptionRow::as_select())
                    .load(self)
                    .await?;
                Ok(Availability::restore(
                    rules
                        .into_iter()
                        .map(RuleRow::into_rule)
                        .collect::<Result<_, _>>()?,
                    exceptions
                        .into_iter()
                        .map(ExceptionRow::into_exception)
                        .collect::<Result<_, _>>()?,
                ))
            }

            async fn replace_availability(
                &mut self,
                teacher: UserId,
                availability: &Availability,
            ) -> Result<(), TxError> {
                use diesel_async::RunQueryDsl;
                let id = DbId::from(teacher);
                diesel::delete(availability_rules::table.filter(availability_rules::teacher_id.eq(id)))
                    .execute(self)
                    .await?;
                diesel::delete(availability_exceptions::table.filter(availability_exceptions::teacher_id.eq(id)))
                    .execute(self)
                    .await?;
                // One statement per row: SQLite's diesel backend has no
                // multi-row insert with default values, and a set is small.
                for rule in availability.rules() {
                    diesel::insert_into(availability_rules::table)
                        .values(RuleRow::of(teacher, rule))
                        .execute(self)
                        .await?;
                }
                for exception in availability.exceptions() {
                    diesel::insert_into(availability_exceptions::table)
                        .values(ExceptionRow::of(teacher, exception))
                        .execute(self)
                        .await?;
                }
                Ok(())
            }
        }
    };
}

#[cfg(feature = "postgres")]
impl_availability_queries!(diesel_async::AsyncPgConnection);
#[cfg(feature = "sqlite")]
impl_availability_queries!(crate::sqlite::SqliteConn);

#[async_trait]
impl AvailabilityStore for SqlStore {
    async fn availability(&self, teacher: UserId) -> Result<Availability> {
        read!(self, |c| c
            .load_availability(teacher)
            .await
            .map_err(tutorbook_ports::Error::from))
    }
}
