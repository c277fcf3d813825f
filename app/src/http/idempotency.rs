//! `Idempotency-Key` on POST: a retry with the same key gets the first
//! answer back and changes nothing more; the same key with another request
//! (method, path or body) is refused with `idempotency_key_reused`.
//!
//! Keys are scoped to the authenticated user. Anonymous requests, sign-ins
//! and requests without the header pass through untouched.
//!
//! The operation runs with its use cases keyed (`AppState::keyed`): the
//! command's answer is stored with the key in the command's own transaction
//! (decision 0015), so a crash between the commit and the
//! response leaves the answer behind and the retry gets it. Two concurrent
//! requests with one key are decided one after the other by the store; the
//! second gets the first one's answer. After the handler, the response sent
//! is kept with the key as well, so later replays are byte for byte the
//! first answer, refusals included. A response about the caller rather than
//! the command (401, 403: sign in or consent, then retry with the same key)
//! or a server failure (5xx: nothing changed, retry) is not kept.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use sha2::{Digest, Sha256};
use tutorbook_ports::{Claim, StoredResponse};

use crate::http::problem::Problem;
use crate::state::AppState;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on a replayed answer.
pub const REPLAYED: &str = "idempotency-replayed";
/// Longest accepted key.
const MAX_KEY: usize = 255;

/// The `around` middleware.
pub async fn idempotency<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    // Sign-ins are answered per credential, not per caller: never keyed.
    if req.method() != Method::POST || req.uri().path().starts_with("/api/v1/auth/") {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    if !req.headers().contains_key(IDEMPOTENCY_KEY) {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    // No POST operation there: the router answers (404, or 405 with Allow),
    // and no key is spent on a request that never reached an operation.
    let posts_here = crate::http::document::allowed_methods(req.uri().path())
        .is_some_and(|methods| methods.split(", ").any(|m| m == "POST"));
    if !posts_here {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let Some(state) = req.data::<AppState>().cloned() else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    // Who is asking comes first: a caller who is not signed in gets the
    // operation's 401, whatever the key looks like.
    let token = crate::http::auth::bearer_token(req.headers()).map(str::to_owned);
    let caller = match token {
        Some(token) => state.identity.authenticate(&token).await.ok(),
        None => None,
    };
    let Some(caller) = caller else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let key = match req.headers().get(IDEMPOTENCY_KEY).map(|raw| raw.to_str()) {
        Some(Ok(k)) if !k.is_empty() && k.len() <= MAX_KEY && k.bytes().all(|b| b.is_ascii_graphic()) => k.to_owned(),
        _ => {
            return Ok(Problem::invalid(format!(
                "Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters"
            ))
            .into_poem_response());
        }
    };

    let Ok(body) = req.take_body().into_bytes_limit(crate::http::guard::MAX_BODY).await else {
        return Ok(Problem::payload_too_large("a request body may be at most 1 MiB").into_poem_response());
    };
    let claim = Claim {
        user: caller.user.id,
        key,
        fingerprint: fingerprint(req.method(), req.uri(), &body),
    };
    req.set_body(Body::from(body));
    match state.idempotency_record(claim.user, &claim.key).await {
        Err(err) => return Ok(Problem::from(err).into_poem_response()),
        Ok(Some(record)) if record.fingerprint != claim.fingerprint => {
            return Ok(Problem::from(tutorbook_ports::Error::KeyReused).into_poem_response());
        }
        Ok(Some(record)) => {
            if let Some(stored) = record.response {
                return Ok(replay(stored));
            }
            // The command committed its answer but its response was never
            // kept (the service stopped in between): the handler runs, the
            // store hands back the stored answer, nothing changes again.
        }
        Ok(None) => {}
    }
    // The operation's use cases run their command under the key.
    req.extensions_mut().insert(state.keyed(claim.clone()));
    let response = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let status = response.status();
    if status.is_server_error() || status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
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
    if let Err(err) = state.keep_response(&claim, stored).await {
        // The command's own answer is already kept with the key (when it
        // ran one); a retry rebuilds the response from it.
        tracing::warn!(error = %err, "cannot keep the response of an idempotency key");
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

/// SHA-256 over method, path with query, and the body's meaning: a JSON
/// body is hashed in a canonical form (keys sorted, no whitespace), so the
/// same request sent with other spacing or key order is the same request;
/// any other body is hashed as its bytes.
pub fn fingerprint(method: &Method, uri: &poem::http::Uri, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_str().as_bytes());
    hash.update(b" ");
    hash.update(uri.path_and_query().map_or(uri.path(), |p| p.as_str()).as_bytes());
    hash.update(b"\n");
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => hash.update(canonical(&json).as_bytes()),
        Err(_) => hash.update(body),
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `value` as JSON text with every object's keys in sorted order.
fn canonical(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
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
