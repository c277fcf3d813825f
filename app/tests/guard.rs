//! Bounded cost and no dropped connections: the body limit for every
//! request, a panic answered as a problem, and inputs that used to panic.

use poem::test::TestClient;
use poem::{Route, handler, post};
use serde_json::json;

mod common;

#[handler]
fn boom() -> &'static str {
    panic!("a bug in a handler")
}

#[tokio::test]
async fn a_panic_is_a_500_problem_not_a_closed_connection() {
    let client = TestClient::new(tutorbook_app::http::guard::panics_as_problems(
        Route::new().at("/boom", post(boom)),
    ));
    let answer = client.post("/boom").send().await;
    answer.assert_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR);
    answer.assert_content_type("application/problem+json");
    let body = answer.json().await;
    body.value().object().get("code").assert_string("internal");
}

#[tokio::test]
async fn every_body_is_bounded_keyed_or_not() {
    let api = common::api().await;
    let big = format!("{{\"id_token\": \"{}\"}}", "x".repeat(2 << 20));
    for path in ["/api/v1/auth/google", "/api/v1/me"] {
        let answer = api
            .client
            .post(path)
            .content_type("application/json")
            .body(big.clone())
            .send()
            .await;
        answer.assert_status(poem::http::StatusCode::PAYLOAD_TOO_LARGE);
        answer
            .json()
            .await
            .value()
            .object()
            .get("code")
            .assert_string("payload_too_large");
    }
}

#[tokio::test]
async fn out_of_range_numbers_and_instants_are_refused_not_panicked_on() {
    let api = common::api().await;
    let (teacher, teacher_id) = api.user("t1", "teacher").await;
    api.put(
        &format!("/teachers/{teacher_id}/policy"),
        Some(&teacher),
        json!({
            "requires_approval_one_on_one": true, "requires_approval_group": false,
            "min_notice_minutes": i64::MAX, "max_advance_minutes": 60, "cancel_window_minutes": 0,
            "buffer_before_minutes": 0, "buffer_after_minutes": 0
        }),
    )
    .await
    .refused(400, "invalid_input");
    api.get(
        &format!("/teachers/{teacher_id}/bookable-times?from=9999-12-01T00:00:00Z&to=9999-12-31T00:00:00Z"),
        None,
    )
    .await
    .refused(400, "invalid_input");
    api.post(
        &format!("/teachers/{teacher_id}/bookable-times/bookings"),
        Some(&teacher),
        json!({ "start": "9999-12-31T23:00:00Z" }),
    )
    .await
    .refused(400, "invalid_input");
}
