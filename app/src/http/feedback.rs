//! Reviews, teacher ratings, lesson reports and progress.

use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use tutorbook_domain::{Bands, BookingId, ReportContent, UserId};
use uuid::Uuid;

use crate::http::auth::{BearerAuth, MaybeAuth, consented, maybe_consented};
use crate::http::problem::{api_response, respond};
use crate::http::views::{BandsDto, ReportView, ReviewView};
use crate::state::AppState;

#[derive(Debug, Tags)]
enum ApiTags {
    /// Reviews, reports and progress.
    Feedback,
}

/// A review to write.
#[derive(Debug, Clone, Object)]
pub struct NewReview {
    /// 1 to 5 stars.
    pub rating: u8,
    /// Free text (may be empty).
    #[oai(default)]
    pub text: String,
}

/// A teacher's rating and latest reviews.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TeacherFeedbackView {
    /// Mean stars; absent without reviews.
    pub average: Option<f64>,
    /// Number of reviews.
    pub count: u32,
    /// The 5 latest reviews, newest first.
    pub latest: Vec<ReviewView>,
}

/// A report to write or replace.
#[derive(Debug, Clone, Object)]
pub struct ReportInput {
    /// IELTS bands, each 0–9 in steps of 0.5.
    #[oai(default)]
    pub bands: BandsDto,
    /// Comments.
    #[oai(default)]
    pub comments: String,
}

/// A student's progress.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ProgressView {
    /// The reports the caller may see, oldest first.
    pub reports: Vec<ReportView>,
    /// The overall band of the latest report that has one.
    pub latest_overall: Option<f64>,
}

api_response! {
    /// Answer of a review.
    ReviewResponse {
        /// Written.
        201 => Created(Json<ReviewView>),
        /// `invalid_rating`, `invalid_input` (text too long).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the booking's student (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such booking.
        404 => NotFound,
        /// `already_reviewed`, `review_too_early`, `invalid_booking_status`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a teacher's feedback.
    TeacherFeedbackResponse {
        /// Rating and latest reviews.
        200 => Ok(Json<TeacherFeedbackView>),
        /// Malformed id, parameter or body (`invalid_input`).
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
    /// Answer of writing a lesson report.
    WriteReportResponse {
        /// The report as saved.
        200 => Ok(Json<ReportView>),
        /// `invalid_band`, `invalid_input` (malformed id or body, comments too long).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the booking's teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such booking.
        404 => NotFound,
        /// `invalid_booking_status` (not confirmed or completed).
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a lesson report.
    ReportResponse {
        /// The report.
        200 => Ok(Json<ReportView>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the booking's student or teacher, or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No report on this booking.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a student's progress.
    ProgressResponse {
        /// The reports and latest overall band.
        200 => Ok(Json<ProgressView>),
        /// Malformed id, parameter or body (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not that student, a teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// Feedback operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct FeedbackApi;

#[OpenApi]
impl FeedbackApi {
    /// The booking's student reviews it, once, after the lesson started.
    #[oai(path = "/bookings/:id/review", method = "post", tag = "ApiTags::Feedback")]
    async fn review(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
        body: Json<NewReview>,
    ) -> ReviewResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let NewReview { rating, text } = body.0;
                Ok(state
                    .feedback
                    .review(&caller.actor, BookingId::from_uuid(id.0), rating, text)
                    .await?)
            },
            |r| ReviewResponse::Created(Json(ReviewView::from(&r))),
        )
        .await
    }

    /// A teacher's average rating and 5 latest reviews; public.
    #[oai(path = "/teachers/:id/feedback", method = "get", tag = "ApiTags::Feedback")]
    async fn teacher(&self, state: Data<&AppState>, auth: MaybeAuth, id: Path<Uuid>) -> TeacherFeedbackResponse {
        respond(
            async {
                maybe_consented(&state, &auth).await?;
                Ok(state.feedback.teacher_feedback(UserId::from_uuid(id.0)).await?)
            },
            |f| {
                TeacherFeedbackResponse::Ok(Json(TeacherFeedbackView {
                    average: f.rating.average,
                    count: f.rating.count,
                    latest: f.latest.iter().map(ReviewView::from).collect(),
                }))
            },
        )
        .await
    }

    /// The slot's teacher writes or replaces the report on a confirmed or
    /// completed booking.
    #[oai(path = "/bookings/:id/report", method = "put", tag = "ApiTags::Feedback")]
    async fn write_report(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<ReportInput>,
    ) -> WriteReportResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let input = body.0;
                let content = ReportContent {
                    bands: Bands::try_from(input.bands)?,
                    comments: input.comments,
                };
                Ok(state
                    .feedback
                    .write_report(&caller.actor, BookingId::from_uuid(id.0), content)
                    .await?)
            },
            |r| WriteReportResponse::Ok(Json(ReportView::from(&r))),
        )
        .await
    }

    /// The report on a booking, for its student, its teacher and staff.
    #[oai(path = "/bookings/:id/report", method = "get", tag = "ApiTags::Feedback")]
    async fn report(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> ReportResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state.feedback.report(&caller.actor, BookingId::from_uuid(id.0)).await?)
            },
            |r| ReportResponse::Ok(Json(ReportView::from(&r))),
        )
        .await
    }

    /// A student's reports and latest overall band: their own, any student's
    /// for staff, and for a teacher only the reports that teacher wrote.
    #[oai(path = "/students/:id/progress", method = "get", tag = "ApiTags::Feedback")]
    async fn progress(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> ProgressResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state.feedback.progress(&caller.actor, UserId::from_uuid(id.0)).await?)
            },
            |p| {
                ProgressResponse::Ok(Json(ProgressView {
                    reports: p.reports.iter().map(ReportView::from).collect(),
                    latest_overall: p.latest_overall.map(|b| b.value()),
                }))
            },
        )
        .await
    }
}
