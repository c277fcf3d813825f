//! HTTP routes: plain liveness probe, the versioned OpenAPI service, its
//! document and Swagger UI.
//!
//! | path            | what                                 |
//! |-----------------|--------------------------------------|
//! | `/healthz`      | liveness probe, `{"status":"ok"}`    |
//! | `/readyz`       | readiness probe, pings the database  |
//! | `/api/v1/...`   | the OpenAPI operations (health, slots) |
//! | `/openapi.json` | the OpenAPI document                 |
//! | `/docs`         | Swagger UI                           |

mod health;
mod slots;

use poem::middleware::Tracing;
use poem::{Endpoint, EndpointExt, Route, get};
use poem_openapi::OpenApiService;

use crate::state::AppState;

/// Path prefix of the versioned API.
pub const API_PREFIX: &str = "/api/v1";

/// All OpenAPI operation groups of the service.
pub type Api = (health::HealthApi, slots::SlotsApi);

/// The OpenAPI service: title "tutorbook", this crate's version, served
/// under [`API_PREFIX`].
pub fn api_service() -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (health::HealthApi, slots::SlotsApi),
        "tutorbook",
        env!("CARGO_PKG_VERSION"),
    )
    .server(API_PREFIX)
}

/// Builds the complete endpoint tree with `state` attached as request data.
pub fn build_app(state: AppState) -> impl Endpoint + 'static {
    let api = api_service();
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    Route::new()
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest(API_PREFIX, api)
        .with(Tracing)
        .data(state)
}
