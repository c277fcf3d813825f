//! Browse: open, future, not-full, non-package slots across teachers.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use time::{Duration, OffsetDateTime};
use tutorbook_domain::Slot;
use tutorbook_ports::BookingStore;
use uuid::Uuid;

use crate::state::AppState;

/// Most slots one browse answer carries.
const MAX_LIMIT: u32 = 500;

#[derive(Debug, Tags)]
enum ApiTags {
    /// Bookable slots.
    Slots,
}

/// A bookable slot as a student sees it.
#[derive(Debug, Clone, PartialEq, Object)]
pub struct SlotView {
    /// Slot id.
    pub id: Uuid,
    /// The teacher's user id.
    pub teacher: Uuid,
    /// Start (RFC 3339, UTC).
    pub start: OffsetDateTime,
    /// End (RFC 3339, UTC).
    pub end: OffsetDateTime,
    /// The teacher's IANA zone.
    pub zone: String,
    /// Seats.
    pub capacity: u32,
    /// Seats taken.
    pub booked_count: u32,
}

impl From<&Slot> for SlotView {
    fn from(slot: &Slot) -> Self {
        Self {
            id: slot.id().as_uuid(),
            teacher: slot.teacher().as_uuid(),
            start: slot.window().start(),
            end: slot.window().end(),
            zone: slot.zone().name().to_owned(),
            capacity: slot.capacity().get(),
            booked_count: slot.booked_count(),
        }
    }
}

/// A refusal, shaped after RFC 9457 problem details.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct Problem {
    /// Stable machine code.
    pub code: String,
    /// Human explanation.
    pub detail: String,
    /// HTTP status.
    pub status: u16,
}

#[derive(Debug, ApiResponse)]
enum BrowseResponse {
    /// Bookable slots by start.
    #[oai(status = 200)]
    Ok(Json<Vec<SlotView>>),
    /// The query was malformed.
    #[oai(status = 400)]
    BadRequest(Json<Problem>),
    /// The store could not answer.
    #[oai(status = 503)]
    Unavailable(Json<Problem>),
}

/// Slot operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlotsApi;

#[OpenApi]
impl SlotsApi {
    /// Lists bookable slots starting in `[from, to)`: open, in the future, not
    /// full, not course-package sessions. Defaults: from now, for 14 days, 100 slots.
    #[oai(path = "/slots", method = "get", tag = "ApiTags::Slots")]
    async fn browse(
        &self,
        state: Data<&AppState>,
        from: Query<Option<OffsetDateTime>>,
        to: Query<Option<OffsetDateTime>>,
        limit: Query<Option<u32>>,
    ) -> BrowseResponse {
        let now = OffsetDateTime::now_utc();
        let from = from.0.unwrap_or(now).max(now);
        let to = to.0.unwrap_or(from + Duration::days(14));
        let limit = limit.0.unwrap_or(100);
        if to <= from || !(1..=MAX_LIMIT).contains(&limit) {
            return BrowseResponse::BadRequest(Json(Problem {
                code: "invalid_input".into(),
                detail: format!("need from < to and 1 <= limit <= {MAX_LIMIT}"),
                status: 400,
            }));
        }
        match state.store.open_slots(from, to, limit as usize).await {
            Ok(slots) => BrowseResponse::Ok(Json(
                slots
                    .iter()
                    .filter(|s| s.is_browsable(now))
                    .map(SlotView::from)
                    .collect(),
            )),
            Err(err) => BrowseResponse::Unavailable(Json(Problem {
                code: err.code().into(),
                detail: err.to_string(),
                status: 503,
            })),
        }
    }
}
