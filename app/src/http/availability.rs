//! A teacher's availability (`docs/availability.md`): weekly rules and date
//! exceptions for the teacher and staff, the teacher's week, the bookable
//! times anyone may read, and booking one.

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};
use tutorbook_domain::{
    Availability, DateException, ExceptionDraft, ExceptionId, RuleDraft, RuleId, UserId, WeeklyRule, Zone,
};
use tutorbook_ports::{BookableTimes, Week};
use uuid::Uuid;

use crate::http::auth::{BearerAuth, MaybeAuth, consented, maybe_consented};
use crate::http::enums::{ExceptionKindDto, WeekdayDto};
use crate::http::problem::{Problem, api_response, respond};
use crate::http::views::{BookingView, SlotView};
use crate::state::AppState;

#[derive(Debug, Tags)]
enum ApiTags {
    /// Weekly hours, date exceptions and bookable times.
    Availability,
}

const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");
const HHMM: &[BorrowedFormatItem<'static>] = format_description!("[hour]:[minute]");

pub(super) fn parse_date(field: &str, value: &str) -> Result<Date, Problem> {
    Date::parse(value, DATE).map_err(|_| Problem::invalid(format!("{field} must be YYYY-MM-DD")))
}

pub(super) fn parse_time(field: &str, value: &str) -> Result<Time, Problem> {
    Time::parse(value, HHMM).map_err(|_| Problem::invalid(format!("{field} must be HH:MM")))
}

pub(super) fn date_text(date: Date) -> String {
    date.format(DATE).unwrap_or_default()
}

pub(super) fn time_text(time: Time) -> String {
    time.format(HHMM).unwrap_or_default()
}

/// One weekly rule.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RuleInput {
    /// The day of the week the hours start on.
    pub weekday: WeekdayDto,
    /// Local start, `HH:MM`.
    pub start: String,
    /// Local end, `HH:MM`; at or before `start` means the hours end the next day.
    pub end: String,
    /// IANA zone of the local times; the teacher's zone when absent.
    pub zone: Option<String>,
    /// First date (`YYYY-MM-DD`) the rule applies on, if any.
    pub valid_from: Option<String>,
    /// Last date (`YYYY-MM-DD`) the rule applies on, if any.
    pub valid_until: Option<String>,
    /// An inactive rule is kept but offers nothing (default true).
    #[oai(default = "switched_on")]
    pub active: bool,
}

fn switched_on() -> bool {
    true
}

/// A teacher's whole set of weekly rules (replaces the previous set).
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct RulesInput {
    /// At most 100 rules; no two overlapping in the same zone.
    #[oai(validator(max_items = 100))]
    pub rules: Vec<RuleInput>,
}

/// A stored weekly rule.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RuleView {
    /// Its id.
    pub id: Uuid,
    /// The day of the week the hours start on.
    pub weekday: WeekdayDto,
    /// Local start, `HH:MM`.
    pub start: String,
    /// Local end, `HH:MM` (the next day when not after `start`).
    pub end: String,
    /// IANA zone of the local times.
    pub zone: String,
    /// First date it applies on.
    pub valid_from: Option<String>,
    /// Last date it applies on.
    pub valid_until: Option<String>,
    /// Whether it offers hours.
    pub active: bool,
}

impl From<&WeeklyRule> for RuleView {
    fn from(rule: &WeeklyRule) -> Self {
        let d = rule.draft();
        Self {
            id: rule.id().as_uuid(),
            weekday: d.weekday.into(),
            start: time_text(d.start),
            end: time_text(d.end),
            zone: d.zone.name().to_owned(),
            valid_from: d.valid_from.map(date_text),
            valid_until: d.valid_until.map(date_text),
            active: d.active,
        }
    }
}

/// A date exception to add.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ExceptionInput {
    /// Why; `extra_hours` adds hours, every other kind takes them away.
    pub kind: ExceptionKindDto,
    /// First local date, `YYYY-MM-DD`.
    pub from: String,
    /// Last local date (default: `from`), at most 366 days after it.
    pub until: Option<String>,
    /// Local start `HH:MM` on each date; with `end`, or neither for whole days.
    pub start: Option<String>,
    /// Local end `HH:MM`, after `start`.
    pub end: Option<String>,
    /// IANA zone of the dates and hours; the teacher's zone when absent.
    pub zone: Option<String>,
    /// A note for the teacher, at most 200 characters.
    #[oai(default, validator(max_length = 1000))]
    pub note: String,
}

/// A stored date exception.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ExceptionView {
    /// Its id.
    pub id: Uuid,
    /// Why.
    pub kind: ExceptionKindDto,
    /// First local date.
    pub from: String,
    /// Last local date.
    pub until: String,
    /// Local start on each date, absent for whole days.
    pub start: Option<String>,
    /// Local end on each date, absent for whole days.
    pub end: Option<String>,
    /// IANA zone.
    pub zone: String,
    /// The teacher's note.
    pub note: String,
}

impl From<&DateException> for ExceptionView {
    fn from(e: &DateException) -> Self {
        let d = e.draft();
        Self {
            id: e.id().as_uuid(),
            kind: d.kind.into(),
            from: date_text(d.from),
            until: date_text(d.until),
            start: d.hours.map(|(start, _)| time_text(start)),
            end: d.hours.map(|(_, end)| time_text(end)),
            zone: d.zone.name().to_owned(),
            note: d.note.clone(),
        }
    }
}

/// A teacher's rules and exceptions.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct AvailabilityView {
    /// Weekly rules, by day and start.
    pub rules: Vec<RuleView>,
    /// Date exceptions, by first date.
    pub exceptions: Vec<ExceptionView>,
}

impl From<&Availability> for AvailabilityView {
    fn from(a: &Availability) -> Self {
        Self {
            rules: a.rules().iter().map(RuleView::from).collect(),
            exceptions: a.exceptions().iter().map(ExceptionView::from).collect(),
        }
    }
}

/// A teacher's week in their zone.
#[derive(Debug, Clone, PartialEq, Object)]
pub struct WeekView {
    /// The teacher's zone, in which the week runs.
    pub zone: String,
    /// Monday of the week, `YYYY-MM-DD`.
    pub monday: String,
    /// Rules and exceptions.
    pub availability: AvailabilityView,
    /// The slots starting in the week (any status), with their bookings.
    pub slots: Vec<SlotView>,
}

/// One bookable start.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct BookableTime {
    /// Start (RFC 3339, UTC): send this to book it.
    pub start: OffsetDateTime,
    /// End (RFC 3339, UTC).
    pub end: OffsetDateTime,
    /// The start in the viewer's zone, with its offset (RFC 3339).
    pub local_start: OffsetDateTime,
}

/// A teacher's bookable times over a range.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct BookableTimesView {
    /// The zone `local_start` is shown in.
    pub zone: String,
    /// The teacher's zone (their days, and daily limit, are counted in it).
    pub teacher_zone: String,
    /// Length of each lesson in minutes.
    pub length_minutes: i64,
    /// The starts, sorted.
    pub times: Vec<BookableTime>,
}

impl BookableTimesView {
    fn of(times: &BookableTimes, viewer: Zone) -> Self {
        Self {
            zone: viewer.name().to_owned(),
            teacher_zone: times.zone.name().to_owned(),
            length_minutes: times.length.whole_minutes(),
            times: times
                .starts
                .iter()
                .map(|start| BookableTime {
                    start: *start,
                    end: *start + times.length,
                    local_start: viewer.to_local(*start),
                })
                .collect(),
        }
    }
}

/// A student's pick of a bookable time.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct TimePick {
    /// One of the starts `GET /teachers/{id}/bookable-times` offered
    /// (with `trial=true` for a trial lesson).
    pub start: OffsetDateTime,
    /// A trial lesson: the teacher's trial length, once per student and teacher.
    #[oai(default)]
    pub trial: bool,
}

api_response! {
    /// Answer with a teacher's availability.
    AvailabilityResponse {
        /// Rules and exceptions.
        200 => Ok(Json<AvailabilityView>),
        /// Malformed id or body, a malformed or overlapping rule (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not that teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such teacher.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of adding a weekly rule.
    AddRuleResponse {
        /// The rule as stored.
        201 => Created(Json<RuleView>),
        /// A malformed rule, or one overlapping another (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not that teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such teacher.
        404 => NotFound,
        /// An `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of changing a weekly rule.
    RuleResponse {
        /// The rule as stored.
        200 => Ok(Json<RuleView>),
        /// A malformed rule, or one overlapping another (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not that teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such teacher or rule.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of removing a weekly rule.
    RemoveRuleResponse {
        /// Removed.
        204 => Removed,
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not that teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such teacher or rule.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of adding a date exception.
    ExceptionResponse {
        /// The exception as stored.
        201 => Created(Json<ExceptionView>),
        /// A malformed date, time, zone or note; too many exceptions (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not that teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such teacher.
        404 => NotFound,
        /// An `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of removing a date exception.
    RemoveExceptionResponse {
        /// Removed.
        204 => Removed,
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not that teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such teacher or exception.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a teacher's week.
    WeekResponse {
        /// The week.
        200 => Ok(Json<WeekView>),
        /// Malformed id, or `monday` not a Monday `YYYY-MM-DD` (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not that teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such teacher.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with bookable times.
    BookableTimesResponse {
        /// The times.
        200 => Ok(Json<BookableTimesView>),
        /// `to` not after `from` (`invalid_time_range`), a range over 93 days or an unknown zone (`invalid_input`).
        400 => BadRequest,
        /// The bearer token was refused.
        401 => Unauthorized,
        /// `consent_required` (signed-in callers only).
        403 => Forbidden,
        /// No such teacher.
        404 => NotFound,
        /// Trial times of a teacher who offers no trials (`trial_not_offered`).
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of booking a time.
    BookTimeResponse {
        /// The booking on its new 1:1 slot: confirmed, or requested when the teacher approves 1:1 lessons.
        201 => Created(Json<BookingView>),
        /// Malformed id or body (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required`.
        403 => Forbidden,
        /// No such teacher.
        404 => NotFound,
        /// `outside_availability`, `slot_overlap`, `daily_limit_reached`, `min_notice`,
        /// `max_advance`, `slot_in_past`, `own_slot`, `trial_not_offered`,
        /// `trial_already_used`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// Availability operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct AvailabilityApi;

#[OpenApi]
impl AvailabilityApi {
    /// The teacher's weekly rules and date exceptions, for the teacher and staff.
    #[oai(path = "/teachers/:id/availability", method = "get", tag = "ApiTags::Availability")]
    async fn availability(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> AvailabilityResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .schedules
                    .availability(&caller.actor, UserId::from_uuid(id.0))
                    .await?)
            },
            |a| AvailabilityResponse::Ok(Json(AvailabilityView::from(&a))),
        )
        .await
    }

    /// The teacher (or staff) replaces the weekly rules as a whole; a set
    /// with a malformed or overlapping rule changes nothing.
    #[oai(
        path = "/teachers/:id/availability/rules",
        method = "put",
        tag = "ApiTags::Availability"
    )]
    async fn set_rules(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<RulesInput>,
    ) -> AvailabilityResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let teacher = UserId::from_uuid(id.0);
                let fallback = caller_zone(&state, &caller, teacher).await?;
                let drafts = body
                    .0
                    .rules
                    .into_iter()
                    .map(|rule| rule_draft(rule, fallback))
                    .collect::<Result<Vec<_>, Problem>>()?;
                Ok(state.schedules.set_rules(&caller.actor, teacher, drafts).await?)
            },
            |a| AvailabilityResponse::Ok(Json(AvailabilityView::from(&a))),
        )
        .await
    }

    /// The teacher (or staff) adds one weekly rule; refused when it
    /// overlaps another.
    #[oai(
        path = "/teachers/:id/availability/rules",
        method = "post",
        tag = "ApiTags::Availability"
    )]
    async fn add_rule(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
        body: Json<RuleInput>,
    ) -> AddRuleResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let teacher = UserId::from_uuid(id.0);
                let draft = rule_draft(body.0, caller_zone(&state, &caller, teacher).await?)?;
                Ok(state.schedules.add_rule(&caller.actor, teacher, draft).await?)
            },
            |r| AddRuleResponse::Created(Json(RuleView::from(&r))),
        )
        .await
    }

    /// The teacher (or staff) changes one weekly rule; it keeps its id.
    #[oai(
        path = "/teachers/:id/availability/rules/:rule",
        method = "put",
        tag = "ApiTags::Availability"
    )]
    async fn replace_rule(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        rule: Path<Uuid>,
        body: Json<RuleInput>,
    ) -> RuleResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let teacher = UserId::from_uuid(id.0);
                let draft = rule_draft(body.0, caller_zone(&state, &caller, teacher).await?)?;
                Ok(state
                    .schedules
                    .replace_rule(&caller.actor, teacher, RuleId::from_uuid(rule.0), draft)
                    .await?)
            },
            |r| RuleResponse::Ok(Json(RuleView::from(&r))),
        )
        .await
    }

    /// The teacher (or staff) removes one weekly rule.
    #[oai(
        path = "/teachers/:id/availability/rules/:rule",
        method = "delete",
        tag = "ApiTags::Availability"
    )]
    async fn remove_rule(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        rule: Path<Uuid>,
    ) -> RemoveRuleResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .schedules
                    .remove_rule(&caller.actor, UserId::from_uuid(id.0), RuleId::from_uuid(rule.0))
                    .await?)
            },
            |()| RemoveRuleResponse::Removed,
        )
        .await
    }

    /// The teacher (or staff) adds a date exception: days or hours off, or
    /// extra hours.
    #[oai(
        path = "/teachers/:id/availability/exceptions",
        method = "post",
        tag = "ApiTags::Availability"
    )]
    async fn add_exception(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
        body: Json<ExceptionInput>,
    ) -> ExceptionResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let teacher = UserId::from_uuid(id.0);
                let fallback = caller_zone(&state, &caller, teacher).await?;
                let draft = exception_draft(body.0, fallback)?;
                Ok(state.schedules.add_exception(&caller.actor, teacher, draft).await?)
            },
            |e| ExceptionResponse::Created(Json(ExceptionView::from(&e))),
        )
        .await
    }

    /// The teacher (or staff) removes a date exception.
    #[oai(
        path = "/teachers/:id/availability/exceptions/:exception",
        method = "delete",
        tag = "ApiTags::Availability"
    )]
    async fn remove_exception(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        exception: Path<Uuid>,
    ) -> RemoveExceptionResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .schedules
                    .remove_exception(
                        &caller.actor,
                        UserId::from_uuid(id.0),
                        ExceptionId::from_uuid(exception.0),
                    )
                    .await?)
            },
            |()| RemoveExceptionResponse::Removed,
        )
        .await
    }

    /// The teacher's week (rules, exceptions, slots and bookings) in their
    /// zone, for the teacher and staff. `monday` is the week's Monday.
    #[oai(path = "/teachers/:id/week", method = "get", tag = "ApiTags::Availability")]
    async fn week(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        monday: Query<String>,
    ) -> WeekResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let monday = parse_date("monday", &monday.0)?;
                let week = state
                    .schedules
                    .week(&caller.actor, UserId::from_uuid(id.0), monday)
                    .await?;
                Ok((week, caller))
            },
            |(week, caller): (Week, _)| {
                WeekResponse::Ok(Json(WeekView {
                    zone: week.zone.name().to_owned(),
                    monday: date_text(week.monday),
                    availability: AvailabilityView::from(&week.availability),
                    slots: week
                        .slots
                        .iter()
                        .map(|s| SlotView::of(s, Some(&caller.actor)))
                        .collect(),
                }))
            },
        )
        .await
    }

    /// The 1:1 starts a student may book with the teacher in `[from, to)`
    /// (at most 93 days), shown in `zone` (default: the caller's zone, or the
    /// teacher's for anonymous callers); `trial=true` for trial lessons.
    /// Anonymous callers are welcome.
    #[oai(path = "/teachers/:id/bookable-times", method = "get", tag = "ApiTags::Availability")]
    #[allow(
        clippy::too_many_arguments,
        reason = "poem-openapi takes each query parameter as an argument"
    )]
    async fn bookable_times(
        &self,
        state: Data<&AppState>,
        auth: MaybeAuth,
        id: Path<Uuid>,
        from: Query<OffsetDateTime>,
        to: Query<OffsetDateTime>,
        zone: Query<Option<String>>,
        trial: Query<Option<bool>>,
    ) -> BookableTimesResponse {
        respond(
            async {
                let viewer = maybe_consented(&state, &auth).await?;
                let times = state
                    .schedules
                    .bookable_times(UserId::from_uuid(id.0), from.0, to.0, trial.0.unwrap_or(false))
                    .await?;
                let shown = match (&zone.0, &viewer) {
                    (Some(name), _) => Zone::parse(name)?,
                    (None, Some(caller)) => caller.user.zone,
                    (None, None) => times.zone,
                };
                Ok(BookableTimesView::of(&times, shown))
            },
            |view| BookableTimesResponse::Ok(Json(view)),
        )
        .await
    }

    /// A student books one of the teacher's bookable times: the 1:1 slot and
    /// its booking are created together. A start the teacher does not offer
    /// is refused with the reason.
    #[oai(
        path = "/teachers/:id/bookable-times/bookings",
        method = "post",
        tag = "ApiTags::Availability"
    )]
    async fn book_time(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
        body: Json<TimePick>,
    ) -> BookTimeResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .schedules
                    .book_time(&caller.actor, UserId::from_uuid(id.0), body.start, body.trial)
                    .await?)
            },
            |b| BookTimeResponse::Created(Json(BookingView::from(&b))),
        )
        .await
    }
}

/// The zone local times are read in when the input names none: the
/// teacher's own zone when they act, the caller's otherwise.
async fn caller_zone(state: &AppState, caller: &crate::auth::Caller, teacher: UserId) -> Result<Zone, Problem> {
    if caller.user.id == teacher {
        return Ok(caller.user.zone);
    }
    Ok(state.users.teacher(teacher).await.map_or(caller.user.zone, |t| t.zone))
}

fn rule_draft(input: RuleInput, fallback: Zone) -> Result<RuleDraft, Problem> {
    Ok(RuleDraft {
        weekday: input.weekday.into(),
        start: parse_time("start", &input.start)?,
        end: parse_time("end", &input.end)?,
        zone: input.zone.as_deref().map_or(Ok(fallback), Zone::parse)?,
        valid_from: input
            .valid_from
            .as_deref()
            .map(|d| parse_date("valid_from", d))
            .transpose()?,
        valid_until: input
            .valid_until
            .as_deref()
            .map(|d| parse_date("valid_until", d))
            .transpose()?,
        active: input.active,
    })
}

fn exception_draft(input: ExceptionInput, fallback: Zone) -> Result<ExceptionDraft, Problem> {
    let from = parse_date("from", &input.from)?;
    let hours = match (input.start.as_deref(), input.end.as_deref()) {
        (Some(start), Some(end)) => Some((parse_time("start", start)?, parse_time("end", end)?)),
        (None, None) => None,
        _ => {
            return Err(Problem::invalid(
                "start and end come together, or neither for whole days",
            ));
        }
    };
    Ok(ExceptionDraft {
        kind: input.kind.into(),
        from,
        until: input.until.as_deref().map_or(Ok(from), |d| parse_date("until", d))?,
        hours,
        zone: input.zone.as_deref().map_or(Ok(fallback), Zone::parse)?,
        note: input.note,
    })
}
