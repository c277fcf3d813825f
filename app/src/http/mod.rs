//! HTTP routes: probes, metrics, the versioned OpenAPI service, its document
//! and Swagger UI, and the middleware every request passes.
//!
//! | path            | what                                 |
//! |-----------------|--------------------------------------|
//! | `/healthz`      | liveness probe, `{"status":"ok"}`    |
//! | `/readyz`       | readiness probe, pings the database  |
//! | `/metrics`      | Prometheus metrics                   |
//! | `/api/v1/...`   | the OpenAPI operations               |
//! | `/openapi.json` | the OpenAPI document                 |
//! | `/docs`         | Swagger UI                           |
//!
//! Middleware, outermost first: request id + log line + metrics
//! ([`observe`]), rate limits ([`rate::rate_limit`]), `Allow` on a 405
//! ([`guard::allow_on_405`]), the time limit ([`guard::time_limit`], reading
//! the body included), the body limit ([`guard::limit_body`]), `Idempotency-Key`
//! ([`idempotency`]), panics answered as problems
//! ([`guard::panics_as_problems`]), and framework errors (unknown route,
//! malformed JSON, missing bearer token) turned into problem documents
//! ([`framework_problem`]).

pub mod auth;
mod availability;
mod bookings;
mod credits;
pub mod document;
pub mod enums;
mod feedback;
pub mod guard;
mod health;
pub mod idempotency;
pub mod metrics;
pub mod observe;
pub mod package_views;
mod packages;
pub mod page;
pub mod policy;
pub mod problem;
pub mod rate;
pub mod serialized;
mod series;
mod slots;
mod users;
pub mod views;
mod waitlists;

use poem::http::StatusCode;
use poem::{Endpoint, EndpointExt, Response, Route, get};
use poem_openapi::OpenApiService;

use crate::http::problem::Problem;
use crate::state::AppState;

/// Path prefix of the versioned API.
pub const API_PREFIX: &str = "/api/v1";

/// All OpenAPI operation groups of the service.
pub type Api = (
    health::HealthApi,
    auth::AuthApi,
    users::UsersApi,
    slots::SlotsApi,
    bookings::BookingsApi,
    credits::CreditsApi,
    feedback::FeedbackApi,
    policy::PolicyApi,
    availability::AvailabilityApi,
    series::SeriesApi,
    packages::PackagesApi,
    packages::EnrollmentsApi,
    packages::PaymentsApi,
    waitlists::WaitlistsApi,
);

/// The OpenAPI service: title "tutorbook", this crate's version, served
/// under [`API_PREFIX`].
pub fn api_service() -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            health::HealthApi,
            auth::AuthApi,
            users::UsersApi,
            slots::SlotsApi,
            bookings::BookingsApi,
            credits::CreditsApi,
            feedback::FeedbackApi,
            policy::PolicyApi,
            availability::AvailabilityApi,
            series::SeriesApi,
            packages::PackagesApi,
            packages::EnrollmentsApi,
            packages::PaymentsApi,
            waitlists::WaitlistsApi,
        ),
        "tutorbook",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Book lessons with teachers. Sign in (`POST /auth/google`), accept the required documents \
         (`PUT /me/consents/{document}`), then browse slots and book. Refusals are \
         `application/problem+json` documents whose `code` is stable. POSTs accept an \
         `Idempotency-Key` header: a retry with the same key returns the first answer.",
    )
    .server(API_PREFIX)
}

/// The OpenAPI document as pretty JSON (what `/openapi.json` serves, and
/// what the committed snapshot `app/openapi.json` holds), with the answers
/// of the layers in front of the operations ([`document`]).
pub fn openapi_json() -> String {
    document::document().to_owned()
}

#[poem::handler]
fn openapi_document() -> poem::web::WithContentType<&'static str> {
    use poem::IntoResponse;
    document::document().with_content_type("application/json")
}

/// Builds the complete endpoint tree with `state` attached as request data.
pub fn build_app(state: AppState) -> impl Endpoint + 'static {
    let api = api_service();
    let docs = api.swagger_ui();
    let routes = Route::new()
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/metrics", get(metrics::metrics))
        .at("/openapi.json", get(openapi_document))
        .nest("/docs", docs)
        .nest(API_PREFIX, api)
        .catch_all_error(framework_problem);
    guard::panics_as_problems(routes)
        .around(idempotency::idempotency)
        .around(guard::limit_body)
        .around(guard::time_limit)
        .around(guard::allow_on_405)
        .around(rate::rate_limit)
        .around(observe::observe)
        .data(state)
        // One type for the whole stack: its nesting would otherwise exceed
        // the compiler's depth limit in crates that hold it in a future.
        .boxed()
}

/// Errors raised before or around an operation (unknown path, wrong method,
/// malformed parameters or JSON, missing bearer token) as problem documents.
async fn framework_problem(err: poem::Error) -> Response {
    let status = err.status();
    let (code, detail) = match status {
        StatusCode::UNAUTHORIZED => (
            "unauthorized",
            "sign in first and send `Authorization: Bearer <token>`".to_owned(),
        ),
        StatusCode::NOT_FOUND => ("not_found", "no such resource".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", err.to_string()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", err.to_string()),
        s if s.is_server_error() => {
            tracing::error!(error = %err, "unhandled error");
            (
                "internal",
                "an unexpected error happened; the log has details".to_owned(),
            )
        }
        _ => ("invalid_input", err.to_string()),
    };
    Problem::with_status(status, code, detail).into_poem_response()
}
