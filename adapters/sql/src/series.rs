//! Recurring series over SQL (docs/series.md). A series is inserted once,
//! by the unit of work that books it, after its slots and bookings; it is
//! never updated, so reads need no lock.

use std::future::Future;

use async_trait::async_trait;
use diesel::{ExpressionMethods, Insertable, OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper};
use tutorbook_domain::{
    BookingId, Series, SeriesId, SeriesMember, SeriesRule, SlotId, SlotSeries, SlotSeriesMember, UserId, Zone,
};
use tutorbook_ports::{Result, SeriesStore};

use crate::error::TxError;
use crate::micros;
use crate::rows::corrupt;
use crate::schema::{series, series_bookings, slot_series, slot_series_slots};
use crate::store::{Backend, SqlStore, pool_error, read};
use crate::types::{DbId, DbInstant};

/// The series queries, per connection type (see `impl_series_queries!`).
pub(crate) trait SeriesQueries: Send {
    /// A series with its members, by occurrence number.
    fn load_series(&mut self, id: SeriesId) -> impl Future<Output = Result<Option<Series>, TxError>> + Send;
    /// Inserts a new series and its members (their bookings must exist).
    fn insert_series(&mut self, series: &Series) -> impl Future<Output = Result<(), TxError>> + Send;
    /// A slot series with its slots, by occurrence number.
    fn load_slot_series(&mut self, id: SeriesId) -> impl Future<Output = Result<Option<SlotSeries>, TxError>> + Send;
    /// Inserts a new slot series and its slots' membership (the slots must exist).
    fn insert_slot_series(&mut self, series: &SlotSeries) -> impl Future<Output = Result<(), TxError>> + Send;
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = series)]
struct SeriesRow {
    id: DbId,
    teacher_id: DbId,
    student_id: DbId,
    zone: String,
    rule: String,
    created_at: DbInstant,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = series_bookings)]
struct MemberRow {
    booking_id: DbId,
    series_id: DbId,
    number: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = slot_series)]
struct SlotSeriesRow {
    id: DbId,
    teacher_id: DbId,
    zone: String,
    rule: String,
    created_at: DbInstant,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = slot_series_slots)]
struct SlotMemberRow {
    slot_id: DbId,
    series_id: DbId,
    number: i32,
}

fn rule_json(rule: &SeriesRule) -> Result<String, tutorbook_ports::Error> {
    serde_json::to_string(rule).map_err(|e| tutorbook_ports::Error::Storage(e.to_string()))
}

fn number(n: u32) -> Result<i32, tutorbook_ports::Error> {
    i32::try_from(n).map_err(corrupt)
}

impl SlotSeriesRow {
    fn of(s: &SlotSeries) -> Result<Self, tutorbook_ports::Error> {
        Ok(Self {
            id: DbId(s.id().as_uuid()),
            teacher_id: s.teacher().into(),
            zone: s.zone().name().to_owned(),
            rule: rule_json(s.rule())?,
            created_at: micros(s.created_at()).into(),
        })
    }

    fn into_series(self, slots: Vec<SlotMemberRow>) -> Result<SlotSeries, tutorbook_ports::Error> {
        let slots = slots
            .into_iter()
            .map(|m| {
                Ok(SlotSeriesMember {
                    number: u32::try_from(m.number).map_err(corrupt)?,
                    slot: SlotId::from_uuid(m.slot_id.0),
                })
            })
            .collect::<Result<_, tutorbook_ports::Error>>()?;
        Ok(SlotSeries::restore(
            SeriesId::from_uuid(self.id.0),
            UserId::from_uuid(self.teacher_id.0),
            Zone::parse(&self.zone).map_err(corrupt)?,
            serde_json::from_str(&self.rule).map_err(corrupt)?,
            self.created_at.0,
            slots,
        ))
    }
}

impl SeriesRow {
    fn of(s: &Series) -> Result<Self, tutorbook_ports::Error> {
        Ok(Self {
            id: DbId(s.id().as_uuid()),
            teacher_id: s.teacher().into(),
            student_id: s.student().into(),
            zone: s.zone().name().to_owned(),
            rule: rule_json(s.rule())?,
            created_at: micros(s.created_at()).into(),
        })
    }

    fn into_series(self, members: Vec<MemberRow>) -> Result<Series, tutorbook_ports::Error> {
        let rule: SeriesRule = serde_json::from_str(&self.rule).map_err(corrupt)?;
        let members = members
            .into_iter()
            .map(|m| {
                Ok(SeriesMember {
                    number: u32::try_from(m.number).map_err(corrupt)?,
                    booking: BookingId::from_uuid(m.booking_id.0),
                })
            })
            .collect::<Result<_, tutorbook_ports::Error>>()?;
        Ok(Series::restore(
            SeriesId::from_uuid(self.id.0),
            UserId::from_uuid(self.teacher_id.0),
            UserId::from_uuid(self.student_id.0),
            Zone::parse(&self.zone).map_err(corrupt)?,
            rule,
            self.created_at.0,
            members,
        ))
    }
}

/// Implements [`SeriesQueries`] for one connection type.
macro_rules! impl_series_queries {
    ($conn:ty, $rows:ident) => {
        impl SeriesQueries for $conn {
            async fn load_series(&mut self, id: SeriesId) -> Result<Option<Series>, TxError> {
                use diesel_async::RunQueryDsl;
                let id = DbId(id.as_uuid());
                let Some(row) = series::table
                    .find(id)
                    .select(SeriesRow::as_select())
                    .first(self)
                    .await
                    .optional()?
                else {
                    return Ok(None);
                };
                let members: Vec<MemberRow> = series_bookings::table
                    .filter(series_bookings::series_id.eq(id))
                    .order(series_bookings::number.asc())
                    .select(MemberRow::as_select())
                    .load(self)
                    .await?;
                Ok(Some(row.into_series(members)?))
            }

            async fn insert_series(&mut self, s: &Series) -> Result<(), TxError> {
                use diesel_async::RunQueryDsl;
                diesel::insert_into(series::table)
                    .values(SeriesRow::of(s)?)
                    .execute(self)
                    .await?;
                let rows = s
                    .members()
                    .iter()
                    .map(|m| {
                        Ok(MemberRow {
                            booking_id: DbId(m.booking.as_uuid()),
                            series_id: DbId(s.id().as_uuid()),
                            number: number(m.number)?,
                        })
                    })
                    .collect::<Result<Vec<_>, tutorbook_ports::Error>>()?;
                if !rows.is_empty() {
                    $crate::conn::insert_rows!($rows, &mut *self, series_bookings::table, rows);
                }
                Ok(())
            }

            async fn load_slot_series(&mut self, id: SeriesId) -> Result<Option<SlotSeries>, TxError> {
                use diesel_async::RunQueryDsl;
                let id = DbId(id.as_uuid());
                let Some(row) = slot_series::table
                    .find(id)
                    .select(SlotSeriesRow::as_select())
                    .first(self)
                    .await
                    .optional()?
                else {
                    return Ok(None);
                };
                let slots: Vec<SlotMemberRow> = slot_series_slots::table
                    .filter(slot_series_slots::series_id.eq(id))
                    .order(slot_series_slots::number.asc())
                    .select(SlotMemberRow::as_select())
                    .load(self)
                    .await?;
                Ok(Some(row.into_series(slots)?))
            }

            async fn insert_slot_series(&mut self, s: &SlotSeries) -> Result<(), TxError> {
                use diesel_async::RunQueryDsl;
                diesel::insert_into(slot_series::table)
                    .values(SlotSeriesRow::of(s)?)
                    .execute(self)
                    .await?;
                let rows = s
                    .slots()
                    .iter()
                    .map(|m| {
                        Ok(SlotMemberRow {
                            slot_id: m.slot.into(),
                            series_id: DbId(s.id().as_uuid()),
                            number: number(m.number)?,
                        })
                    })
                    .collect::<Result<Vec<_>, tutorbook_ports::Error>>()?;
                if !rows.is_empty() {
                    $crate::conn::insert_rows!($rows, &mut *self, slot_series_slots::table, rows);
                }
                Ok(())
            }
        }
    };
}

#[cfg(feature = "postgres")]
impl_series_queries!(diesel_async::AsyncPgConnection, multi);
#[cfg(feature = "sqlite")]
impl_series_queries!(crate::sqlite::SqliteConn, single);

#[async_trait]
impl SeriesStore for SqlStore {
    async fn series(&self, id: SeriesId) -> Result<Option<Series>> {
        read!(self, |c| c.load_series(id).await.map_err(tutorbook_ports::Error::from))
    }

    async fn slot_series(&self, id: SeriesId) -> Result<Option<SlotSeries>> {
        read!(self, |c| c
            .load_slot_series(id)
            .await
            .map_err(tutorbook_ports::Error::from))
    }
}
