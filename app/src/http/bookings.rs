//! Bookings: request a seat, the teacher's answers (approve, decline,
//! cancel with a make-up credit, attendance), the student's cancellation,
//! history and the student's list.

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi, Tags};
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{Attendance, BookingId, SlotId, UserId};
use uuid::Uuid;

use crate::http::auth::{BearerAuth, consented};
use crate::http::page::{Cursor, page_after, time_range};
use crate::http::problem::{Problem, api_response, respond};
use crate::http::views::{AuditView, BookingView, CreditView, SlotView};
use crate::state::AppState;

#[derive(Debug, Tags)]
enum ApiTags {
    /// Bookings and their history.
    Bookings,
}

/// Whether the student came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum AttendanceDto {
    /// The lesson took place.
    Completed,
    /// The student did not come.
    NoShow,
}

/// Attendance to record.
#[derive(Debug, Clone, Object)]
pub struct AttendanceMark {
    /// What happened.
    pub attendance: AttendanceDto,
}

/// A teacher's cancellation and the credit it gave the student.
#[derive(Debug, Clone, Object)]
pub struct TeacherCancellation {
    /// The booking, now `teacher_cancelled`.
    pub booking: BookingView,
    /// The make-up credit the student received.
    pub credit: CreditView,
}

/// A student's booking with its slot.
#[derive(Debug, Clone, Object)]
pub struct BookingWithSlot {
    /// The booking.
    pub booking: BookingView,
    /// Its slot.
    pub slot: SlotView,
}

/// A page of a student's bookings.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct BookingPage {
    /// Bookings by their slot's start.
    pub items: Vec<BookingWithSlot>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

api_response! {
    /// Answer of a booking request.
    RequestResponse {
        /// `requested` (the teacher must approve) or `confirmed`.
        201 => Created(Json<BookingView>),
        /// Malformed id, parameter or body (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required`.
        403 => Forbidden,
        /// No such slot.
        404 => NotFound,
        /// `slot_full`, `own_slot`, `slot_in_past`, `slot_closed`, `package_slot`,
        /// `duplicate_booking`, `min_notice`, `max_advance`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of an approval.
    ApproveResponse {
        /// The booking after the change.
        200 => Ok(Json<BookingView>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not allowed on this booking (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such booking.
        404 => NotFound,
        /// `invalid_booking_status` (not a request), `slot_full`, `slot_in_past`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// Where a booking moves: one of `slot` or `start`.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Move {
    /// A future slot of the same teacher with room for the student.
    pub slot: Option<Uuid>,
    /// For a one-to-one lesson: a bookable time of the same teacher (RFC 3339),
    /// as listed by `GET /teachers/{id}/bookable-times` (docs/availability.md).
    pub start: Option<OffsetDateTime>,
}

api_response! {
    /// Answer of a reschedule.
    RescheduleResponse {
        /// The new booking (the old one is `cancelled`, reason `rescheduled`).
        201 => Created(Json<BookingView>),
        /// Malformed id or body, both or neither of `slot` and `start`, a slot of another teacher
        /// or the same slot, a group seat moving to a bookable time (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required`.
        403 => Forbidden,
        /// No such booking or slot (another person's booking included).
        404 => NotFound,
        /// The target refuses it (`slot_full`, `slot_in_past`, `min_notice`, `outside_availability`,
        /// `slot_overlap`, `daily_limit_reached`, ...), the old booking's
        /// `cancellation_window_closed` or status, `already_paid`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of a decline.
    DeclineResponse {
        /// The booking after the change.
        200 => Ok(Json<BookingView>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not allowed on this booking (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such booking.
        404 => NotFound,
        /// `invalid_booking_status` (not a request), or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of a student's cancellation.
    CancelResponse {
        /// The booking after the change.
        200 => Ok(Json<BookingView>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not allowed on this booking (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such booking.
        404 => NotFound,
        /// `invalid_booking_status` (not active), `cancellation_window_closed`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of an attendance mark.
    AttendanceResponse {
        /// The booking after the change.
        200 => Ok(Json<BookingView>),
        /// Malformed id or attendance value (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not allowed on this booking (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such booking.
        404 => NotFound,
        /// `invalid_booking_status` (not confirmed), `lesson_not_started`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of a teacher's cancellation.
    TeacherCancelResponse {
        /// Cancelled; the student got a credit.
        200 => Ok(Json<TeacherCancellation>),
        /// Malformed id, parameter or body (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the slot's teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such booking.
        404 => NotFound,
        /// `invalid_booking_status`, `slot_in_past`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a booking's history.
    HistoryResponse {
        /// Every change, oldest first.
        200 => Ok(Json<Vec<AuditView>>),
        /// Malformed id, parameter or body (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the booking's student, the slot's teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such booking.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a student's bookings.
    BookingPageResponse {
        /// The bookings.
        200 => Ok(Json<BookingPage>),
        /// `invalid_time_range`, or a bad cursor or limit.
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Another student's list (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// Booking operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct BookingsApi;

#[OpenApi]
impl BookingsApi {
    /// Requests a seat on a slot: `requested` when the teacher approves
    /// one-to-one lessons (the default), otherwise `confirmed` at once.
    #[oai(path = "/slots/:id/bookings", method = "post", tag = "ApiTags::Bookings")]
    async fn request(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> RequestResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state.bookings.request(&caller.actor, SlotId::from_uuid(id.0)).await?)
            },
            |b| RequestResponse::Created(Json(BookingView::from(&b))),
        )
        .await
    }

    /// The slot's teacher (or staff) approves a request; when that fills the
    /// slot, competing requests are declined.
    #[oai(path = "/bookings/:id/approve", method = "post", tag = "ApiTags::Bookings")]
    async fn approve(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> ApproveResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .bookings
                    .approve(&caller.actor, BookingId::from_uuid(id.0))
                    .await?)
            },
            |b| ApproveResponse::Ok(Json(BookingView::from(&b))),
        )
        .await
    }

    /// The slot's teacher (or staff) declines a request.
    #[oai(path = "/bookings/:id/decline", method = "post", tag = "ApiTags::Bookings")]
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
    ) -> DeclineResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .bookings
                    .decline(&caller.actor, BookingId::from_uuid(id.0))
                    .await?)
            },
            |b| DeclineResponse::Ok(Json(BookingView::from(&b))),
        )
        .await
    }

    /// The booking's student (or staff) cancels it. A confirmed booking can
    /// be cancelled only until the teacher's cancellation window (default
    /// 24 h before the start).
    #[oai(path = "/bookings/:id/cancel", method = "post", tag = "ApiTags::Bookings")]
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
    ) -> CancelResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state.bookings.cancel(&caller.actor, BookingId::from_uuid(id.0)).await?)
            },
            |b| CancelResponse::Ok(Json(BookingView::from(&b))),
        )
        .await
    }

    /// Moves a booking to another slot of the same teacher (`slot`), or a
    /// one-to-one lesson to another of the teacher's bookable times
    /// (`start`), in one step: the new seat is taken before the old one is
    /// given back. Its student, the teacher or staff; a student is bound by
    /// the old lesson's cancel window.
    #[oai(path = "/bookings/:id/reschedule", method = "post", tag = "ApiTags::Bookings")]
    async fn reschedule(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
        body: Json<Move>,
    ) -> RescheduleResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let booking = BookingId::from_uuid(id.0);
                Ok(match (body.slot, body.start) {
                    (Some(slot), None) => {
                        state
                            .bookings
                            .reschedule(&caller.actor, booking, SlotId::from_uuid(slot))
                            .await?
                    }
                    (None, Some(start)) => {
                        state
                            .schedules
                            .reschedule_to_time(&caller.actor, booking, start)
                            .await?
                    }
                    _ => return Err(Problem::invalid("name exactly one of slot and start")),
                })
            },
            |b| RescheduleResponse::Created(Json(BookingView::from(&b))),
        )
        .await
    }

    /// The slot's teacher (or staff) cancels a confirmed lesson before it
    /// starts; the student receives a make-up credit.
    #[oai(path = "/bookings/:id/teacher-cancel", method = "post", tag = "ApiTags::Bookings")]
    async fn teacher_cancel(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> TeacherCancelResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let (booking, credit) = state
                    .bookings
                    .teacher_cancel(&caller.actor, BookingId::from_uuid(id.0))
                    .await?;
                Ok(TeacherCancellation {
                    booking: BookingView::from(&booking),
                    credit: CreditView::of(&credit, state.now()),
                })
            },
            |c| TeacherCancelResponse::Ok(Json(c)),
        )
        .await
    }

    /// The slot's teacher (or staff) records attendance once the lesson started.
    #[oai(path = "/bookings/:id/attendance", method = "post", tag = "ApiTags::Bookings")]
    async fn attendance(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
        body: Json<AttendanceMark>,
    ) -> AttendanceResponse {
        let attendance = match body.attendance {
            AttendanceDto::Completed => Attendance::Completed,
            AttendanceDto::NoShow => Attendance::NoShow,
        };
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .bookings
                    .mark_attendance(&caller.actor, BookingId::from_uuid(id.0), attendance)
                    .await?)
            },
            |b| AttendanceResponse::Ok(Json(BookingView::from(&b))),
        )
        .await
    }

    /// Every change of a booking, oldest first: for its student, the slot's
    /// teacher and staff.
    #[oai(path = "/bookings/:id/history", method = "get", tag = "ApiTags::Bookings")]
    async fn history(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> HistoryResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .bookings
                    .history(&caller.actor, BookingId::from_uuid(id.0))
                    .await?)
            },
            |h| HistoryResponse::Ok(Json(h.iter().map(AuditView::from).collect())),
        )
        .await
    }

    /// The signed-in student's bookings (any status) on slots starting in
    /// `[from, to)`; defaults: the last 30 days to 90 days ahead. Staff pass
    /// `student` to see anyone's.
    #[oai(path = "/me/bookings", method = "get", tag = "ApiTags::Bookings")]
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
        student: Query<Option<Uuid>>,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u32>>,
    ) -> BookingPageResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let student = student.0.map_or(caller.user.id, UserId::from_uuid);
                if !caller.actor.is_or_staff(student) {
                    return Err(Problem::forbidden("only staff see another student's bookings"));
                }
                let from = from.0.or_else(|| Some(state.now() - Duration::days(30)));
                let (from, to) = time_range(from, to.0, Duration::days(120), state.now())?;
                let found = state
                    .bookings
                    .student_bookings(&caller.actor, student, from, to)
                    .await?;
                let items: Vec<BookingWithSlot> = found
                    .iter()
                    .map(|(b, s)| BookingWithSlot {
                        booking: BookingView::from(b),
                        slot: SlotView::of(s, Some(&caller.actor)),
                    })
                    .collect();
                let (items, next_cursor) =
                    page_after(items, |b| b.booking.id, Cursor::parse(cursor.0.as_deref())?, limit.0)?;
                Ok(BookingPage { items, next_cursor })
            },
            |p| BookingPageResponse::Ok(Json(p)),
        )
        .await
    }
}
