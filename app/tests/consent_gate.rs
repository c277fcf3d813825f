//! The consent gate covers every operation in the OpenAPI document except
//! sign-in, consent, legal pages and health: walked from the document itself,
//! so a new operation cannot forget the gate.

use serde_json::{Value, json};

mod common;

/// A valid body for the operations that require one (the body is parsed
/// before the gate runs, so it must be acceptable).
fn body_for(method: &str, path: &str) -> Value {
    let start = "2030-01-07T10:00:00Z";
    match (method, path) {
        ("post", "/slots") => json!({ "start": start, "end": "2030-01-07T10:50:00Z", "capacity": 1 }),
        ("patch", "/me") => json!({ "display_name": "x" }),
        ("put", "/users/{id}/role") => json!({ "role": "teacher" }),
        ("post", "/bookings/{id}/attendance") => json!({ "attendance": "completed" }),
        ("post", "/credits/{id}/redeem") | ("post", "/bookings/{id}/reschedule") => {
            json!({ "slot": uuid::Uuid::now_v7() })
        }
        ("post", "/bookings/{id}/review") => json!({ "rating": 5 }),
        ("put", "/bookings/{id}/report") => json!({ "comments": "" }),
        ("put", "/teachers/{id}/policy") => json!({
            "requires_approval_one_on_one": true, "requires_approval_group": false, "min_notice_minutes": 0,
            "max_advance_minutes": 60, "cancel_window_minutes": 0, "buffer_before_minutes": 0, "buffer_after_minutes": 0
        }),
        ("post", "/packages") | ("put", "/packages/{id}") => json!({
            "title": "x", "class_type": "group", "capacity": 2, "start_date": "2030-01-07",
            "start_time": "19:00", "recurrence": "mwf", "session_count": 3
        }),
        ("put", "/packages/{id}/status") => json!({ "status": "closed" }),
        ("put", "/pricing") => json!({ "rates": [{ "currency": "KRW", "one_on_one": 1, "group": 1 }] }),
        ("post", "/promotions") => json!({
            "kind": "percent", "percent": 10, "scope": "all", "starts_at": start, "ends_at": "2030-02-07T10:00:00Z"
        }),
        ("put", "/teachers/{id}/availability/rules") => json!({ "rules": [] }),
        ("post", "/teachers/{id}/availability/rules") | ("put", "/teachers/{id}/availability/rules/{rule}") => {
            json!({ "weekday": "monday", "start": "09:00", "end": "10:00" })
        }
        ("post", "/teachers/{id}/availability/exceptions") => json!({ "kind": "day_off", "from": "2030-01-07" }),
        ("post", "/teachers/{id}/bookable-times/bookings") => json!({ "start": start }),
        ("put", "/slots/{id}/waitlist") => json!({ "mode": "auto_promote" }),
        ("post", "/teachers/{id}/series") => json!({
            "frequency": "weekly", "first": "2030-01-07", "time": "17:00", "count": 4, "mode": "all_or_nothing"
        }),
        ("post", "/teachers/{id}/slot-series") => json!({
            "frequency": "weekly", "first": "2030-01-07", "time": "17:00", "count": 4, "capacity": 4
        }),
        ("post", "/slot-series/{id}/bookings") => json!({ "mode": "best_effort" }),
        _ => json!({}),
    }
}

fn exempt(path: &str) -> bool {
    path == "/health" || path.starts_with("/auth/") || path.starts_with("/me/consents") || path.starts_with("/legal/")
}

#[tokio::test]
async fn every_operation_but_the_exempt_ones_requires_consent() {
    let api = common::api().await;
    let token = common::host_token("no-consent-yet", "staff");
    let spec: Value = serde_json::from_str(&tutorbook_app::http::openapi_json()).unwrap();
    let mut gated = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", &uuid::Uuid::now_v7().to_string())
                .replace("{exception}", &uuid::Uuid::now_v7().to_string())
                .replace("{rule}", &uuid::Uuid::now_v7().to_string())
                .replace("{document}", "terms");
            let concrete = match path.as_str() {
                "/auth/dev" => format!("{concrete}?as=student"),
                "/teachers/{id}/week" => format!("{concrete}?monday=2030-01-07"),
                "/teachers/{id}/bookable-times" => {
                    format!("{concrete}?from=2030-01-07T00:00:00Z&to=2030-01-08T00:00:00Z")
                }
                _ => concrete,
            };
            let url = format!("/api/v1{concrete}");
            let body = body_for(method, path);
            let request = match method.as_str() {
                "get" => api.client.get(&url),
                "post" => api.client.post(&url).body_json(&body),
                "put" => api.client.put(&url).body_json(&body),
                "patch" => api.client.patch(&url).body_json(&body),
                "delete" => api.client.delete(&url),
                other => panic!("no method {other}"),
            };
            let response = request
                .header("Authorization", format!("Bearer {token}"))
                .send()
                .await
                .0;
            let status = response.status().as_u16();
            let text = response.into_body().into_string().await.unwrap();
            let code = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_owned));
            if exempt(path) {
                assert_ne!(
                    code.as_deref(),
                    Some("consent_required"),
                    "{method} {path} must answer before consent"
                );
            } else {
                gated += 1;
                assert_eq!(
                    (status, code.as_deref()),
                    (403, Some("consent_required")),
                    "{method} {path} must be consent-gated (if its body was refused, add one to body_for): {text}"
                );
            }
        }
    }
    assert!(gated >= 25, "only {gated} gated operations");
}

/// Every operation whose security has no anonymous alternative answers an
/// anonymous caller with a `401 unauthorized` problem, before anything else.
#[tokio::test]
async fn every_signed_in_operation_refuses_anonymous_callers() {
    let api = common::api().await;
    let spec: Value = serde_json::from_str(&tutorbook_app::http::openapi_json()).unwrap();
    let mut secured = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(security) = op["security"].as_array() else {
                continue;
            };
            if security.iter().any(|s| s.as_object().is_some_and(|o| o.is_empty())) {
                continue; // anonymous allowed
            }
            secured += 1;
            let url = path
                .replace("{id}", &uuid::Uuid::now_v7().to_string())
                .replace("{document}", "terms");
            let body = body_for(method, path);
            let answer = match method.as_str() {
                "get" => api.get(&url, None).await,
                "post" => api.post(&url, None, body).await,
                "put" => api.put(&url, None, body).await,
                "patch" => api.patch(&url, None, body).await,
                "delete" => api.delete(&url, None).await,
                other => panic!("no method {other}"),
            };
            assert_eq!(
                (answer.status.as_u16(), answer.code()),
                (401, "unauthorized"),
                "{method} {path}"
            );
        }
    }
    assert!(secured >= 25, "only {secured} secured operations");
}
