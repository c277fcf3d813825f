//! Slots: browse across teachers, and a teacher's own slots (open, delete,
//! cancel, list).

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi, Tags};
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};
use tutorbook_domain::{Meeting, MeetingProvider, Role, SlotId, UserId, Zone};
use tutorbook_ports::{OpenSlot, WaitlistChoice};
use uuid::Uuid;

use crate::http::auth::{BearerAuth, MaybeAuth, consented, maybe_consented};
use crate::http::page::{Cursor, DEFAULT_LIMIT, page_after, time_range};
use crate::http::problem::{Problem, api_response, respond};
use crate::http::serialized::SerializedJson;
use crate::http::views::{CreditView, SlotView, WaitlistSetting};
use crate::state::AppState;

#[derive(Debug, Tags)]
enum ApiTags {
    /// Bookable slots.
    Slots,
}

/// How the lesson meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ProviderDto {
    /// Google Meet (link created by the calendar integration).
    GoogleMeet,
    /// Zoom.
    Zoom,
    /// Microsoft Teams.
    Teams,
    /// Any other link.
    Custom,
}

impl From<ProviderDto> for MeetingProvider {
    fn from(p: ProviderDto) -> Self {
        match p {
            ProviderDto::GoogleMeet => Self::GoogleMeet,
            ProviderDto::Zoom => Self::Zoom,
            ProviderDto::Teams => Self::Teams,
            ProviderDto::Custom => Self::Custom,
        }
    }
}

/// A slot to open.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct NewSlot {
    /// Start (RFC 3339).
    pub start: OffsetDateTime,
    /// End (RFC 3339), after the start.
    pub end: OffsetDateTime,
    /// 1 for one-to-one, 2 up to the platform maximum (default 4) for a group.
    pub capacity: u32,
    /// The teacher's IANA zone; default: the teacher's profile zone.
    pub zone: Option<String>,
    /// How the lesson meets; default Google Meet.
    pub meeting_provider: Option<ProviderDto>,
    /// Meeting link (http/https), for Zoom, Teams or custom meetings.
    pub meeting_url: Option<String>,
    /// Staff only: the teacher to open the slot for.
    pub teacher: Option<Uuid>,
    /// Its waitlist once full (group slots only); default: the teacher's
    /// policy's `waitlist` for a group slot.
    pub waitlist: Option<WaitlistSetting>,
}

/// Slots of one local day in browse.
#[derive(Debug, Clone, Object)]
pub struct DaySupply {
    /// The day in the viewer's zone (`YYYY-MM-DD`).
    pub date: String,
    /// How many bookable slots start that day.
    pub slots: u32,
}

/// Browse: the days with supply, and the slots of the selected day.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Browse {
    /// The zone days are counted in.
    pub zone: String,
    /// The selected day (`YYYY-MM-DD`); absent when nothing is bookable.
    pub date: Option<String>,
    /// Every day with bookable slots in the next 90 days, in order.
    pub days: Vec<DaySupply>,
    /// The selected day's slots, by start.
    pub slots: Vec<SlotView>,
    /// Pass as `cursor` (with the same `date`) for more slots of that day.
    pub next_cursor: Option<String>,
}

/// A page of slots.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SlotPage {
    /// The slots, by start.
    pub items: Vec<SlotView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A cancelled slot and the make-up credits its students received.
#[derive(Debug, Clone, Object)]
pub struct CancelledSlot {
    /// The slot, now cancelled.
    pub slot: SlotView,
    /// One credit per confirmed student.
    pub credits: Vec<CreditView>,
}

api_response! {
    /// Answer of browse.
    BrowseResponse {
        /// The days with supply and the selected day's slots.
        200 => Ok(SerializedJson<Browse>),
        /// Bad cursor or limit.
        400 => BadRequest,
        /// The bearer token was refused.
        401 => Unauthorized,
        /// `consent_required` (signed-in callers only).
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with one slot.
    SlotResponse {
        /// The slot, as the caller may see it.
        200 => Ok(Json<SlotView>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// The bearer token was refused.
        401 => Unauthorized,
        /// `consent_required` (signed-in callers only).
        403 => Forbidden,
        /// No such slot (or deleted).
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of opening a slot.
    OpenSlotResponse {
        /// Opened.
        201 => Created(Json<SlotView>),
        /// `invalid_input`, `invalid_time_range`, `invalid_capacity`.
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not a teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// `slot_overlap`, `slot_in_past`, `waitlist_not_available` (a waitlist on a
        /// one-to-one slot), or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of cancelling a slot.
    CancelSlotResponse {
        /// Cancelled; credits issued.
        200 => Ok(Json<CancelledSlot>),
        /// Malformed id, parameter or body (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the slot's teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such slot.
        404 => NotFound,
        /// `slot_closed`, `slot_in_past`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a page of slots.
    SlotPageResponse {
        /// The slots.
        200 => Ok(Json<SlotPage>),
        /// Bad range, cursor or limit.
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not a teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of deleting a slot.
    DeleteSlotResponse {
        /// Deleted.
        204 => Deleted,
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the slot's teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such slot.
        404 => NotFound,
        /// `slot_has_bookings`, `slot_in_past`, `package_slot`, `slot_closed`.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// Slot operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlotsApi;

#[OpenApi]
impl SlotsApi {
    /// Browse bookable slots across teachers: future, not full, not course
    /// sessions, grouped by day in the viewer's zone (`tz`, else the signed-in
    /// user's zone, else Asia/Seoul). A signed-in teacher does not see their
    /// own slots. `date` (`YYYY-MM-DD`) selects a day; a missing or invalid
    /// date selects the first day with supply. Anonymous browsing is allowed.
    #[oai(path = "/slots", method = "get", tag = "ApiTags::Slots")]
    async fn browse(
        &self,
        state: Data<&AppState>,
        auth: MaybeAuth,
        tz: Query<Option<String>>,
        date: Query<Option<String>>,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u32>>,
    ) -> BrowseResponse {
        respond(
            async {
                let viewer = maybe_consented(&state, &auth).await?;
                let zone = match tz.0.as_deref().map(Zone::parse) {
                    Some(Ok(zone)) => zone,
                    _ => viewer.as_ref().map_or_else(Zone::default_zone, |c| c.user.zone),
                };
                let format = format_description!("[year]-[month]-[day]");
                let date = date.0.as_deref().and_then(|d| Date::parse(d, format).ok());
                let after = Cursor::parse(cursor.0.as_deref())?.id().map(SlotId::from_uuid);
                let limit = limit.0.unwrap_or(DEFAULT_LIMIT);
                let actor = viewer.as_ref().map(|c| &c.actor);
                let page = state.bookings.browse(actor, zone, date, after, limit as usize).await?;
                // An anonymous answer depends on its page alone.
                let anonymous = actor.is_none();
                if anonymous && let Some(body) = state.browse_bodies.get(&page) {
                    return Ok(SerializedJson::from_bytes(body));
                }
                let answer = SerializedJson::of(&Browse {
                    zone: page.zone.name().to_owned(),
                    date: page.date.and_then(|d| d.format(format).ok()),
                    days: page
                        .days
                        .iter()
                        .filter_map(|(d, count)| {
                            Some(DaySupply {
                                date: d.format(format).ok()?,
                                slots: *count,
                            })
                        })
                        .collect(),
                    slots: page.slots.iter().map(|s| SlotView::of(s, actor)).collect(),
                    next_cursor: page.next.map(|id| id.as_uuid().to_string()),
                });
                if anonymous {
                    state.browse_bodies.put(&page, answer.bytes());
                }
                Ok(answer)
            },
            BrowseResponse::Ok,
        )
        .await
    }

    /// A teacher opens a slot (staff: for any teacher). Refused when it
    /// overlaps another of the teacher's slots (buffers included).
    #[oai(path = "/slots", method = "post", tag = "ApiTags::Slots")]
    async fn open(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        body: Json<NewSlot>,
    ) -> OpenSlotResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let input = body.0;
                let teacher = match (caller.actor.role, input.teacher) {
                    (Role::Staff, Some(teacher)) => UserId::from_uuid(teacher),
                    (Role::Teacher, None) => caller.user.id,
                    (Role::Teacher, Some(t)) if t == caller.user.id.as_uuid() => caller.user.id,
                    (Role::Staff, None) => return Err(Problem::invalid("staff must name the teacher")),
                    _ => return Err(Problem::forbidden("only teachers open slots")),
                };
                let zone = match &input.zone {
                    Some(name) => Zone::parse(name)?,
                    None => caller.user.zone,
                };
                let meeting = Meeting::new(
                    input.meeting_provider.map_or(MeetingProvider::GoogleMeet, Into::into),
                    input.meeting_url,
                    None,
                )?;
                let waitlist = match input.waitlist.map(|w| w.waitlist()).transpose()? {
                    None => WaitlistChoice::TeacherDefault,
                    Some(None) => WaitlistChoice::Off,
                    Some(Some(waitlist)) => WaitlistChoice::On(waitlist),
                };
                let slot = state
                    .bookings
                    .open_slot(
                        &caller.actor,
                        OpenSlot {
                            teacher,
                            start: input.start,
                            end: input.end,
                            zone,
                            capacity: input.capacity,
                            meeting,
                            waitlist,
                        },
                    )
                    .await?;
                Ok(SlotView::of(&slot, Some(&caller.actor)))
            },
            |s| OpenSlotResponse::Created(Json(s)),
        )
        .await
    }

    /// One slot. Its bookings are shown to its teacher and staff, its meeting
    /// link also to its confirmed students; anonymous callers are welcome.
    #[oai(path = "/slots/:id", method = "get", tag = "ApiTags::Slots")]
    async fn slot(&self, state: Data<&AppState>, auth: MaybeAuth, id: Path<Uuid>) -> SlotResponse {
        respond(
            async {
                let viewer = maybe_consented(&state, &auth).await?;
                let slot = state.bookings.slot(SlotId::from_uuid(id.0)).await?;
                Ok(SlotView::of(&slot, viewer.as_ref().map(|c| &c.actor)))
            },
            |s| SlotResponse::Ok(Json(s)),
        )
        .await
    }

    /// The slot's teacher (or staff) deletes a future slot that nobody booked
    /// or requested.
    #[oai(path = "/slots/:id", method = "delete", tag = "ApiTags::Slots")]
    async fn delete(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> DeleteSlotResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .bookings
                    .delete_slot(&caller.actor, SlotId::from_uuid(id.0))
                    .await?)
            },
            |()| DeleteSlotResponse::Deleted,
        )
        .await
    }

    /// The slot's teacher (or staff) cancels the whole slot: every confirmed
    /// student gets a make-up credit, requests are declined.
    #[oai(path = "/slots/:id/cancel", method = "post", tag = "ApiTags::Slots")]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> CancelSlotResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let (slot, credits) = state
                    .bookings
                    .cancel_slot(&caller.actor, SlotId::from_uuid(id.0))
                    .await?;
                let now = state.now();
                Ok(CancelledSlot {
                    slot: SlotView::of(&slot, Some(&caller.actor)),
                    credits: credits.iter().map(|c| CreditView::of(c, now)).collect(),
                })
            },
            |c| CancelSlotResponse::Ok(Json(c)),
        )
        .await
    }

    /// A teacher's own slots (open and cancelled) starting in `[from, to)`,
    /// with their bookings. Defaults: from now for 30 days. Staff pass
    /// `teacher` to see anyone's.
    #[oai(path = "/me/slots", method = "get", tag = "ApiTags::Slots")]
    #[allow(
        clippy::too_many_arguments,
        reason = "poem-openapi takes each query parameter as an argument"
    )]
    async fn mine(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        from: Query<Option<OffsetDateTime>>,
        to: Query<Option<OffsetDateTime>>,
        teacher: Query<Option<Uuid>>,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u32>>,
    ) -> SlotPageResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let teacher = match (caller.actor.role, teacher.0) {
                    (Role::Staff, Some(t)) => UserId::from_uuid(t),
                    (Role::Teacher | Role::Staff, None) => caller.user.id,
                    (Role::Teacher, Some(t)) if t == caller.user.id.as_uuid() => caller.user.id,
                    _ => return Err(Problem::forbidden("only teachers have slots; staff may name a teacher")),
                };
                let (from, to) = time_range(from.0, to.0, Duration::days(30), state.now())?;
                let slots = state.bookings.teacher_slots(&caller.actor, teacher, from, to).await?;
                let views: Vec<SlotView> = slots.iter().map(|s| SlotView::of(s, Some(&caller.actor))).collect();
                let (items, next_cursor) = page_after(views, |s| s.id, Cursor::parse(cursor.0.as_deref())?, limit.0)?;
                Ok(SlotPage { items, next_cursor })
            },
            |p| SlotPageResponse::Ok(Json(p)),
        )
        .await
    }
}
