//! Liveness (answers without touching storage) and readiness (pings it).

use poem::handler;
use poem::http::StatusCode;
use poem::web::{Data, Json};

use crate::state::AppState;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};

#[derive(Debug, Tags)]
enum ApiTags {
    /// Service health.
    Health,
}

/// Overall service status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The process is up and serving requests.
    Ok,
}

/// Body of a health answer.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct Health {
    /// Always `ok` when the process answers at all.
    pub status: HealthStatus,
}

#[derive(Debug, ApiResponse)]
enum HealthResponse {
    /// The service is up.
    #[oai(status = 200)]
    Ok(poem_openapi::payload::Json<Health>),
}

/// OpenAPI operations about service health.
#[derive(Debug, Clone, Copy, Default)]
pub struct HealthApi;

#[OpenApi]
impl HealthApi {
    /// Liveness probe; does not touch storage.
    #[oai(path = "/health", method = "get", tag = "ApiTags::Health")]
    async fn health(&self) -> HealthResponse {
        HealthResponse::Ok(poem_openapi::payload::Json(Health {
            status: HealthStatus::Ok,
        }))
    }
}

/// Plain liveness probe at `/healthz` for load balancers and orchestrators.
#[handler]
pub fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness probe at `/readyz`: `200 {"status":"ready"}` when the database
/// answers, `503` otherwise, so a load balancer stops routing to an instance
/// that lost its database.
#[handler]
pub async fn readyz(state: Data<&AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.ready().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ready" }))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "code": err.code() })),
            )
        }
    }
}
