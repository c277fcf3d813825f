//! Waitlists (docs/waitlists.md): a teacher turns a slot's line on or off and
//! sees who waits; a student sees their place and answers a seat offer.

use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use time::OffsetDateTime;
use tutorbook_domain::{BookingId, Slot, SlotId};
use uuid::Uuid;

use crate::http::auth::{BearerAuth, consented};
use crate::http::problem::{api_response, respond};
use crate::http::views::{BookingView, SlotView, WaitlistSetting};
use crate::state::AppState;

#[derive(Debug, Tags)]
enum ApiTags {
    /// Waitlists of full group slots.
    Waitlists,
}

/// One place in a slot's line.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct LinePlace {
    /// From 1, the head of the line.
    pub position: u32,
    /// The waitlisted booking.
    pub booking: Uuid,
    /// Its student.
    pub student: Uuid,
    /// When they joined (the line is first come, first served).
    pub joined_at: OffsetDateTime,
    /// When they were offered a freed seat: its deadline.
    pub offer_expires_at: Option<OffsetDateTime>,
}

/// A slot's line, for its teacher and staff.
#[derive(Debug, Clone, Object)]
pub struct Line {
    /// The slot.
    pub slot: Uuid,
    /// Its waitlist setting (`off` when it keeps none).
    pub waitlist: WaitlistSetting,
    /// Who waits, head first.
    pub places: Vec<LinePlace>,
}

impl Line {
    fn of(slot: &Slot) -> Self {
        let places = slot
            .waitlist_line()
            .iter()
            .zip(1..)
            .map(|(b, position)| LinePlace {
                position,
                booking: b.id().as_uuid(),
                student: b.student().as_uuid(),
                joined_at: b.created_at(),
                offer_expires_at: b.offer_expires_at(),
            })
            .collect();
        Self {
            slot: slot.id().as_uuid(),
            waitlist: WaitlistSetting::of(slot.waitlist()),
            places,
        }
    }
}

/// Where one booking stands in its slot's line.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PlaceInLine {
    /// The booking.
    pub booking: BookingView,
    /// Its place from 1, when it is waitlisted.
    pub position: Option<u32>,
    /// How many wait in the line.
    pub line_length: u32,
}

api_response! {
    /// Answer of changing a slot's waitlist.
    SetWaitlistResponse {
        /// The slot with its new setting (its line may have moved).
        200 => Ok(Json<SlotView>),
        /// Malformed id or body; `offer_ttl_minutes` missing for `offer` or given otherwise (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the slot's teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such slot.
        404 => NotFound,
        /// `waitlist_not_available` (a one-to-one slot or a package session), `slot_closed`,
        /// `slot_in_past`.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a slot's line.
    LineResponse {
        /// The line, head first.
        200 => Ok(Json<Line>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the slot's teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such slot.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a booking's place in line.
    PlaceResponse {
        /// The booking and its place.
        200 => Ok(Json<PlaceInLine>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required`.
        403 => Forbidden,
        /// No such booking (another person's booking included).
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of accepting or declining a seat offer.
    OfferResponse {
        /// The booking after the answer: `confirmed` (accepted) or `cancelled` (declined).
        200 => Ok(Json<BookingView>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the booking's student or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such booking (another person's booking included).
        404 => NotFound,
        /// `no_offer`, `offer_expired`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// Waitlist operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct WaitlistsApi;

#[OpenApi]
impl WaitlistsApi {
    /// The slot's teacher (or staff) turns its waitlist on (group slots
    /// only), changes its mode, or turns it off: turning it off declines
    /// everyone in line, offers included.
    #[oai(path = "/slots/:id/waitlist", method = "put", tag = "ApiTags::Waitlists")]
    async fn set(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<WaitlistSetting>,
    ) -> SetWaitlistResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let waitlist = body.0.waitlist()?;
                let slot = state
                    .bookings
                    .set_waitlist(&caller.actor, SlotId::from_uuid(id.0), waitlist)
                    .await?;
                Ok(SlotView::of(&slot, Some(&caller.actor)))
            },
            |s| SetWaitlistResponse::Ok(Json(s)),
        )
        .await
    }

    /// The slot's line, head first, for its teacher or staff.
    #[oai(path = "/slots/:id/waitlist", method = "get", tag = "ApiTags::Waitlists")]
    async fn line(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> LineResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let slot = state.bookings.waitlist(&caller.actor, SlotId::from_uuid(id.0)).await?;
                Ok(Line::of(&slot))
            },
            |l| LineResponse::Ok(Json(l)),
        )
        .await
    }

    /// Where a booking stands in its slot's line: for its student, the
    /// slot's teacher or staff.
    #[oai(path = "/bookings/:id/waitlist", method = "get", tag = "ApiTags::Waitlists")]
    async fn place(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> PlaceResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let (booking, position, length) = state
                    .bookings
                    .place_in_line(&caller.actor, BookingId::from_uuid(id.0))
                    .await?;
                Ok(PlaceInLine {
                    booking: BookingView::from(&booking),
                    position: position.and_then(|p| u32::try_from(p).ok()),
                    line_length: u32::try_from(length).unwrap_or(u32::MAX),
                })
            },
            |p| PlaceResponse::Ok(Json(p)),
        )
        .await
    }

    /// The student (or staff) takes the seat offered to them, before its
    /// deadline: the booking is confirmed.
    #[oai(path = "/bookings/:id/offer/accept", method = "post", tag = "ApiTags::Waitlists")]
    async fn accept(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> OfferResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .bookings
                    .accept_offer(&caller.actor, BookingId::from_uuid(id.0))
                    .await?)
            },
            |b| OfferResponse::Ok(Json(BookingView::from(&b))),
        )
        .await
    }

    /// The student (or staff) turns the offered seat down and leaves the
    /// line; the seat is offered to the next in line.
    #[oai(path = "/bookings/:id/offer/decline", method = "post", tag = "ApiTags::Waitlists")]
    async fn decline(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> OfferResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .bookings
                    .decline_offer(&caller.actor, BookingId::from_uuid(id.0))
                    .await?)
            },
            |b| OfferResponse::Ok(Json(BookingView::from(&b))),
        )
        .await
    }
}
