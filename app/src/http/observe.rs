//! Per-request observability: a request id (the caller's `X-Request-Id` when
//! it is sane, else a fresh UUID v7) echoed in the answer and attached to
//! every log line of the request, one log line per answer with status and
//! latency, and the request metrics. Headers and bodies are never logged, so
//! tokens cannot leak into logs.

use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};
use tracing::Instrument;

use crate::state::AppState;

/// The request id header.
pub const REQUEST_ID: &str = "x-request-id";

/// The `around` middleware doing the above.
pub async fn observe<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let metrics = req.data::<AppState>().map(|s| s.metrics.clone());
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %path);
    let started = Instant::now();
    let mut response = match next.call(req).instrument(span.clone()).await {
        Ok(response) => response.into_response(),
        Err(err) => err.into_response(),
    };
    let latency = started.elapsed();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    if let Some(metrics) = metrics {
        metrics.observe(&method, status, latency);
    }
    span.in_scope(|| {
        tracing::info!(status, latency_ms = latency.as_secs_f64() * 1000.0, "answered");
    });
    Ok(response)
}
