//! `Idempotency-Key` on POST: a retry with the same key gets the first
//! answer back and changes nothing more; the same key with another request
//! (method, path or body) is refused with `idempotency_key_reused`; a retry
//! while the first request still runs gets `idempotency_key_in_flight`.
//!
//! Keys are scoped to the authenticated user. Anonymous requests, sign-ins
//! and requests without the header pass through untouched. An answer is kept unless it is
//! about the caller rather than the command (401, 403: sign in or consent,
//! then retry with the same key) or a server failure (5xx: nothing changed,
//! retry), in which cases the key is released.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tutorbook_ports::{IdempotencyStore, Reservation, StoredResponse};

use crate::http::problem::Problem;
use crate::state::AppState;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on a replayed answer.
pub const REPLAYED: &str = "idempotency-replayed";
/// Longest accepted key.
const MAX_KEY: usize = 255;
/// Largest body a keyed request may carry (it is held in memory to fingerprint it).
pub const MAX_BODY: usize = 1 << 20;

/// The `around` middleware.
pub async fn idempotency<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    // Sign-ins are answered per credential, not per caller: never keyed.
    if req.method() != Method::POST || req.uri().path().starts_with("/api/v1/auth/") {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let Some(raw) = req.headers().get(IDEMPOTENCY_KEY) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let key = match raw.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= MAX_KEY && k.bytes().all(|b| b.is_ascii_graphic()) => k.to_owned(),
        _ => {
            return Ok(Problem::invalid(format!(
                "Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters"
            ))
            .into_poem_response());
        }
    };
    let Some(state) = req.data::<AppState>().cloned() else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let caller = match token {
        Some(token) => state.auth.authenticate(&state.store, &token).await.ok(),
        None => None,
    };
    let Some(caller) = caller else {
        // The operation itself answers 401.
        return next.call(req).await.map(IntoResponse::into_response);
    };

    let Ok(body) = req.take_body().into_bytes_limit(MAX_BODY).await else {
        return Ok(Problem::new("payload_too_large", "a request body may be at most 1 MiB").into_poem_response());
    };
    let fingerprint = fingerprint(req.method(), req.uri(), &body);
    req.set_body(Body::from(body));
    let user = caller.user.id;
    match state
        .store
        .reserve(user, &key, &fingerprint, OffsetDateTime::now_utc())
        .await
    {
        Err(err) => Ok(Problem::from(err).into_poem_response()),
        Ok(Reservation::Existing(record)) if record.fingerprint != fingerprint => Ok(Problem::new(
            "idempotency_key_reused",
            "this Idempotency-Key was used for another request; use a new key for a new request",
        )
        .into_poem_response()),
        Ok(Reservation::Existing(record)) => match record.response {
            None => Ok(Problem::new(
                "idempotency_key_in_flight",
                "the first request with this Idempotency-Key is still running; retry shortly",
            )
            .into_poem_response()),
            Some(stored) => Ok(replay(stored)),
        },
        Ok(Reservation::Reserved) => {
            let response = match next.call(req).await {
                Ok(r) => r.into_response(),
                Err(e) => e.into_response(),
            };
            let status = response.status();
            if status.is_server_error() || status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                if let Err(err) = state.store.release(user, &key).await {
                    tracing::warn!(error = %err, "cannot release an idempotency key");
                }
                return Ok(response);
            }
            let (parts, body) = response.into_parts();
            let bytes = body.into_vec().await?;
            let stored = StoredResponse {
                status: status.as_u16(),
                content_type: parts
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
                body: bytes.clone(),
            };
            if let Err(err) = state.store.complete(user, &key, stored).await {
                // The command ran; the answer still goes out. A retry will
                // see the key in flight rather than run the command again.
                tracing::error!(error = %err, "cannot store the answer of an idempotency key");
            }
            Ok(Response::from_parts(parts, Body::from(bytes)))
        }
    }
}

/// SHA-256 over method, path with query, and body.
pub fn fingerprint(method: &Method, uri: &poem::http::Uri, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_str().as_bytes());
    hash.update(b" ");
    hash.update(uri.path_and_query().map_or(uri.path(), |p| p.as_str()).as_bytes());
    hash.update(b"\n");
    hash.update(body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = Response::builder()
        .status(status)
        .content_type(stored.content_type)
        .body(stored.body);
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}
