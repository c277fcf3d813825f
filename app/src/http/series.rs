//! Recurring series of 1:1 lessons (`docs/series.md`): a student books a
//! series from a teacher's bookable times, and cancels it whole or from
//! one occurrence on.

use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{OccurrenceAnswer, SeriesDraft, SeriesEnd, SeriesId, Slot, SlotSeries, UserId, Zone};
use uuid::Uuid;

use crate::http::auth::{BearerAuth, consented};
use crate::http::availability::{date_text, parse_date, parse_time, time_text};
use crate::http::enums::{FrequencyDto, SeriesModeDto, WeekdayDto};
use crate::http::problem::{Problem, api_response, respond};
use crate::http::views::BookingView;
use crate::state::AppState;

#[derive(Debug, Tags)]
enum ApiTags {
    /// Recurring series of lessons.
    Series,
}

/// A recurrence rule, in the teacher's zone (`docs/series.md`).
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RuleFields {
    /// Weekly, biweekly (every other week) or monthly (the first date's day of the month).
    pub frequency: FrequencyDto,
    /// Every how many weeks, fortnights or months (1 to 12).
    #[oai(default = "one", validator(minimum(value = "1"), maximum(value = "12")))]
    pub interval: u32,
    /// Weekly and biweekly: the days of the week; the first date's weekday when empty.
    /// Monthly: none.
    #[oai(default, validator(max_items = 7))]
    pub weekdays: Vec<WeekdayDto>,
    /// The first date the series may fall on, `YYYY-MM-DD`, in the teacher's zone.
    pub first: String,
    /// The local start time of every lesson, `HH:MM`, in the teacher's zone.
    pub time: String,
    /// End after this many occurrences (1 to 52); give this or `until`.
    #[oai(validator(minimum(value = "1"), maximum(value = "52")))]
    pub count: Option<u32>,
    /// End on this date (inclusive), `YYYY-MM-DD`; give this or `count`.
    pub until: Option<String>,
}

impl RuleFields {
    fn draft(self) -> Result<SeriesDraft, Problem> {
        let end = match (self.count, self.until.as_deref()) {
            (Some(count), None) => SeriesEnd::Count(count),
            (None, Some(until)) => SeriesEnd::Until(parse_date("until", until)?),
            _ => return Err(Problem::invalid("give exactly one of count and until")),
        };
        Ok(SeriesDraft {
            frequency: self.frequency.into(),
            interval: self.interval,
            weekdays: self.weekdays.into_iter().map(Into::into).collect(),
            first: parse_date("first", &self.first)?,
            time: parse_time("time", &self.time)?,
            end,
        })
    }
}

/// A series of 1:1 lessons to book: the rule, and what to do when an
/// occurrence is refused.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct SeriesInput {
    /// The rule.
    #[oai(flatten)]
    pub rule: RuleFields,
    /// `all_or_nothing`: one refused occurrence refuses the series and nothing is booked.
    /// `best_effort`: book what can be booked and list the refusals.
    pub mode: SeriesModeDto,
}

/// A teacher's recurring slots to open: the rule, seats and length.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SlotSeriesInput {
    /// The rule.
    #[oai(flatten)]
    pub rule: RuleFields,
    /// Seats per slot: 1 for one-to-one, 2 or more for a group.
    #[oai(validator(minimum(value = "1")))]
    pub capacity: u32,
    /// Each slot's length in minutes; the teacher's lesson length when absent.
    #[oai(validator(minimum(value = "10"), maximum(value = "480")))]
    pub length_minutes: Option<u32>,
}

/// How to book the seats of a slot series.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct SeatsInput {
    /// `all_or_nothing`: one refused occurrence refuses them all and nothing is booked.
    /// `best_effort`: book what can be booked and list the refusals.
    pub mode: SeriesModeDto,
}

fn one() -> u32 {
    1
}

/// Which occurrences of a series to cancel.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SeriesCancelInput {
    /// Cancel the occurrences on or after this local date, `YYYY-MM-DD`;
    /// every occurrence when absent.
    pub from: Option<String>,
}

/// What happened to one occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct OccurrenceView {
    /// Its number in the series, from 1.
    pub number: u32,
    /// Its local date in the teacher's zone, `YYYY-MM-DD`.
    pub date: String,
    /// Its local start time, `HH:MM`.
    pub time: String,
    /// Its start; absent when the local time does not exist that day (`dst_gap`).
    pub start: Option<OffsetDateTime>,
    /// Its booking as it is now, when the command went through for it.
    pub booking: Option<BookingView>,
    /// The refusal's code, when it was refused.
    pub code: Option<String>,
    /// The refusal in words.
    pub detail: Option<String>,
}

impl From<&OccurrenceAnswer> for OccurrenceView {
    fn from(a: &OccurrenceAnswer) -> Self {
        Self {
            number: a.occurrence.number,
            date: date_text(a.occurrence.local.date()),
            time: time_text(a.occurrence.local.time()),
            start: a.start,
            booking: a.booking.as_ref().map(BookingView::from),
            code: a.code.clone(),
            detail: a.detail.clone(),
        }
    }
}

/// A series and what happened to each occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct SeriesView {
    /// The series.
    pub id: Uuid,
    /// The teacher's zone, in which the local dates and times are.
    pub zone: String,
    /// Each occurrence: booked (or cancelled) with its booking, or refused with its code.
    pub occurrences: Vec<OccurrenceView>,
}

/// One slot of a slot series.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct SeriesSlotView {
    /// Its occurrence's number, from 1.
    pub number: u32,
    /// Its local date in the teacher's zone, `YYYY-MM-DD`.
    pub date: String,
    /// Its local start time, `HH:MM`.
    pub time: String,
    /// The slot.
    pub slot: Uuid,
    /// Its start.
    pub start: OffsetDateTime,
    /// Its end.
    pub end: OffsetDateTime,
}

/// A teacher's slot series: one slot per occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct SlotSeriesView {
    /// The slot series; students book its seats at `POST /slot-series/{id}/bookings`.
    pub id: Uuid,
    /// The teacher's zone, in which the local dates and times are.
    pub zone: String,
    /// Its slots, in order.
    pub slots: Vec<SeriesSlotView>,
}

impl SlotSeriesView {
    fn of(series: &SlotSeries, slots: &[Slot]) -> Self {
        let occurrences = series.rule().occurrences();
        Self {
            id: series.id().as_uuid(),
            zone: series.zone().name().to_owned(),
            slots: occurrences
                .iter()
                .zip(slots)
                .map(|(o, slot)| SeriesSlotView {
                    number: o.number,
                    date: date_text(o.local.date()),
                    time: time_text(o.local.time()),
                    slot: slot.id().as_uuid(),
                    start: slot.window().start(),
                    end: slot.window().end(),
                })
                .collect(),
        }
    }
}

impl SeriesView {
    fn of(id: SeriesId, zone: Zone, occurrences: &[OccurrenceAnswer]) -> Self {
        Self {
            id: id.as_uuid(),
            zone: zone.name().to_owned(),
            occurrences: occurrences.iter().map(OccurrenceView::from).collect(),
        }
    }
}

api_response! {
    /// Answer of opening a slot series.
    OpenSlotSeriesResponse {
        /// One slot per occurrence.
        201 => Created(Json<SlotSeriesView>),
        /// A malformed id or body, a rule with more than 52 occurrences or spanning more
        /// than 1098 days, a capacity the platform does not allow (`invalid_input`,
        /// `invalid_capacity`), an occurrence whose local time a DST change skips (`dst_gap`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not that teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such teacher.
        404 => NotFound,
        /// An occurrence meets another slot of the teacher (`slot_overlap`) or has started
        /// (`slot_in_past`), its words naming the occurrence; or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of booking the seats of a slot series.
    BookSeatsResponse {
        /// Every occurrence: a seat booked (confirmed, or requested when the teacher approves
        /// group lessons), or, under `best_effort`, refused with its code. The seats form a
        /// series of the student's own, cancelled at `POST /series/{id}/cancel`.
        201 => Created(Json<SeriesView>),
        /// A malformed id or body (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required`.
        403 => Forbidden,
        /// No such slot series.
        404 => NotFound,
        /// Under `all_or_nothing` the first refused occurrence's code (`slot_full`,
        /// `slot_closed`, `slot_in_past`, `duplicate_booking`, `own_slot`, `min_notice`,
        /// `max_advance`), its words naming the occurrence; under `best_effort` the same
        /// when no seat could be booked; or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of booking a series.
    BookSeriesResponse {
        /// Every occurrence: booked (confirmed, or requested when the teacher approves 1:1
        /// lessons), or, under `best_effort`, refused with its code.
        201 => Created(Json<SeriesView>),
        /// A malformed id or body, a rule with more than 52 occurrences or spanning more
        /// than 1098 days (`invalid_input`); under `all_or_nothing`, an occurrence whose
        /// local time a DST change skips (`dst_gap`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required`.
        403 => Forbidden,
        /// No such teacher.
        404 => NotFound,
        /// Under `all_or_nothing` the first refused occurrence's code (`outside_availability`,
        /// `slot_overlap`, `daily_limit_reached`, `min_notice`, `max_advance`, `slot_in_past`,
        /// `own_slot`), its words naming the occurrence; under `best_effort` the same when
        /// no occurrence could be booked; or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a series.
    SeriesResponse {
        /// Each booked occurrence with its booking as it is now.
        200 => Ok(Json<SeriesView>),
        /// A malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required`.
        403 => Forbidden,
        /// No such series, or not yours.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of cancelling a series.
    CancelSeriesResponse {
        /// Every covered occurrence: cancelled with its booking, or refused with its code
        /// (`cancellation_window_closed`, `invalid_booking_status`).
        200 => Ok(Json<SeriesView>),
        /// A malformed id or body (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// The series' teacher (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such series, or not yours.
        404 => NotFound,
        /// An `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// Series operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeriesApi;

#[OpenApi]
impl SeriesApi {
    /// A student books a series of 1:1 lessons from the teacher's bookable
    /// times. Every occurrence is checked as one booked time.
    #[oai(path = "/teachers/:id/series", method = "post", tag = "ApiTags::Series")]
    async fn book_series(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
        body: Json<SeriesInput>,
    ) -> BookSeriesResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let body = body.0;
                let draft = body.rule.draft()?;
                Ok(state
                    .schedules
                    .book_series(&caller.actor, UserId::from_uuid(id.0), draft, body.mode.into())
                    .await?)
            },
            |a| BookSeriesResponse::Created(Json(SeriesView::of(a.series, a.zone, &a.occurrences))),
        )
        .await
    }

    /// A series, for its student, its teacher and staff: each booked
    /// occurrence with its booking as it is now.
    #[oai(path = "/series/:id", method = "get", tag = "ApiTags::Series")]
    async fn series(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> SeriesResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state.schedules.series(&caller.actor, SeriesId::from_uuid(id.0)).await?)
            },
            |a| SeriesResponse::Ok(Json(SeriesView::of(a.series, a.zone, &a.occurrences))),
        )
        .await
    }

    /// The student (or staff) cancels a series, whole or from one local
    /// date on. The cancel window applies to each occurrence: one inside it
    /// stays booked and is answered refused.
    #[oai(path = "/series/:id/cancel", method = "post", tag = "ApiTags::Series")]
    async fn cancel_series(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
        body: Json<SeriesCancelInput>,
    ) -> CancelSeriesResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let from = body.from.as_deref().map(|d| parse_date("from", d)).transpose()?;
                Ok(state
                    .schedules
                    .cancel_series(&caller.actor, SeriesId::from_uuid(id.0), from)
                    .await?)
            },
            |c| CancelSeriesResponse::Ok(Json(SeriesView::of(c.series, c.zone, &c.occurrences))),
        )
        .await
    }

    /// The teacher (or staff) opens a recurring series of slots in one
    /// step: one slot per occurrence, refused as a whole when one of them
    /// meets another slot.
    #[oai(path = "/teachers/:id/slot-series", method = "post", tag = "ApiTags::Series")]
    async fn open_slot_series(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
        body: Json<SlotSeriesInput>,
    ) -> OpenSlotSeriesResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let body = body.0;
                let length = body.length_minutes.map(|m| Duration::minutes(i64::from(m)));
                Ok(state
                    .schedules
                    .open_slot_series(
                        &caller.actor,
                        UserId::from_uuid(id.0),
                        body.rule.draft()?,
                        body.capacity,
                        length,
                    )
                    .await?)
            },
            |(series, slots)| OpenSlotSeriesResponse::Created(Json(SlotSeriesView::of(&series, &slots))),
        )
        .await
    }

    /// A student books a seat in every slot of a slot series. Every seat is
    /// requested as one seat is.
    #[oai(path = "/slot-series/:id/bookings", method = "post", tag = "ApiTags::Series")]
    async fn book_seats(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
        body: Json<SeatsInput>,
    ) -> BookSeatsResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .schedules
                    .book_slot_series(&caller.actor, SeriesId::from_uuid(id.0), body.mode.into())
                    .await?)
            },
            |a| BookSeatsResponse::Created(Json(SeriesView::of(a.series, a.zone, &a.occurrences))),
        )
        .await
    }
}
