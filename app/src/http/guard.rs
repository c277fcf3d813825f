//! Limits every request passes before an operation sees it: a bounded body,
//! and a panic answered as a problem document instead of a dropped
//! connection (docs/product.md §14).

use std::any::Any;

use poem::error::ReadBodyError;
use poem::http::header;
use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response};

use crate::http::problem::Problem;

/// The largest request body the service reads, keyed or not.
pub const MAX_BODY: usize = 1 << 20;

/// `ep` with a panic in it answered as `500 internal`. The layers around
/// it still see the answer: the request's log line and metrics count it,
/// and an `Idempotency-Key` keeps nothing (the command's transaction was
/// dropped with the panic).
pub fn panics_as_problems<E: Endpoint + 'static>(ep: E) -> impl Endpoint + 'static {
    ep.with(CatchPanic::new().with_handler(panic_problem))
}

fn panic_problem(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "a request handler panicked");
    Problem::internal("an unexpected error happened; the log has details").into_poem_response()
}

/// Reads at most [`MAX_BODY`] bytes of any body before the operation does:
/// `413 payload_too_large` beyond (at once when `Content-Length` says so),
/// so no request can make the service hold more.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Ok(too_large());
    }
    match req.take_body().into_bytes_limit(MAX_BODY).await {
        Ok(body) => req.set_body(body),
        Err(ReadBodyError::PayloadTooLarge) => return Ok(too_large()),
        Err(err) => return Ok(Problem::invalid(format!("cannot read the request body: {err}")).into_poem_response()),
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// Answers `503 timed_out` when the operation takes longer than the
/// state's time limit: nothing can hold a connection (and its database
/// connection) for ever.
pub async fn time_limit<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let Some(limit) = req.data::<crate::state::AppState>().map(|s| s.request_time_limit) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(answer) => answer.map(IntoResponse::into_response),
        Err(_) => {
            tracing::warn!(limit_secs = limit.as_secs(), "a request ran out of time");
            Ok(Problem::timed_out(format!("the request took longer than {} s", limit.as_secs())).into_poem_response())
        }
    }
}

/// Adds `Allow` to a `405`: the methods the API serves at the path.
pub async fn allow_on_405<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let mut response = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    if response.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED
        && let Some(allow) = crate::http::document::allowed_methods(&path)
        && let Ok(value) = poem::http::HeaderValue::from_str(&allow)
    {
        response.headers_mut().insert(header::ALLOW, value);
    }
    Ok(response)
}

fn too_large() -> Response {
    Problem::payload_too_large("a request body may be at most 1 MiB").into_poem_response()
}
