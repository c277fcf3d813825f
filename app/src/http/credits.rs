//! Make-up credits: a student's list, and redeeming one into a slot.

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use tutorbook_domain::{CreditId, SlotId, UserId};
use uuid::Uuid;

use crate::http::auth::{BearerAuth, consented};
use crate::http::problem::{api_response, respond};
use crate::http::views::{BookingView, CreditView};
use crate::state::AppState;

#[derive(Debug, Tags)]
enum ApiTags {
    /// Make-up credits.
    Credits,
}

/// Where to use a credit.
#[derive(Debug, Clone, Object)]
pub struct Redemption {
    /// A future slot of the credit's teacher with a free seat.
    pub slot: Uuid,
}

api_response! {
    /// Answer with credits.
    CreditsResponse {
        /// The credits, newest first, with their status as of now.
        200 => Ok(Json<Vec<CreditView>>),
        /// Malformed id, parameter or body (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Another student's credits (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of a redemption.
    RedeemResponse {
        /// A confirmed booking (no approval needed).
        201 => Created(Json<BookingView>),
        /// Malformed id, parameter or body (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the credit's student (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such credit or slot.
        404 => NotFound,
        /// `credit_expired`, `credit_already_used`, `credit_wrong_teacher`, `slot_full`,
        /// `slot_in_past`, `package_slot`, `duplicate_booking`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// Credit operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct CreditsApi;

#[OpenApi]
impl CreditsApi {
    /// The signed-in student's make-up credits, newest first. Staff pass
    /// `student` to see anyone's.
    #[oai(path = "/me/credits", method = "get", tag = "ApiTags::Credits")]
    async fn mine(&self, state: Data<&AppState>, auth: BearerAuth, student: Query<Option<Uuid>>) -> CreditsResponse {
        let now = state.now();
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let student = student.0.map_or(caller.user.id, UserId::from_uuid);
                Ok(state.bookings.credits(&caller.actor, student).await?)
            },
            |credits| CreditsResponse::Ok(Json(credits.iter().map(|c| CreditView::of(c, now)).collect())),
        )
        .await
    }

    /// Redeems a credit into a slot of the same teacher: a confirmed booking,
    /// the seat taken and the credit used, all or nothing.
    #[oai(path = "/credits/:id/redeem", method = "post", tag = "ApiTags::Credits")]
    async fn redeem(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
        body: Json<Redemption>,
    ) -> RedeemResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .bookings
                    .redeem_credit(&caller.actor, CreditId::from_uuid(id.0), SlotId::from_uuid(body.slot))
                    .await?)
            },
            |b| RedeemResponse::Created(Json(BookingView::from(&b))),
        )
        .await
    }
}
