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
    assert_problem(answer, poem::http::StatusCode::INTERNAL_SERVER_ERROR, "internal").await;
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
        assert_problem(answer, poem::http::StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    }
}

#[tokio::test]
async fn out_of_range_numbers_and_instants_are_refused_not_panicked_on() {
    let api = common::api().await;
    let (teacher, teacher_id) = api.user("t1", "teacher").await;
    let (student, student_id) = api.user("s1", "student").await;
    let (staff, _) = api.user("staff", "staff").await;
    // Staff naming a student or nobody as the teacher: a bad field, not a 500.
    for named in [student_id.clone(), uuid::Uuid::nil().to_string()] {
        api.post(
            "/packages",
            Some(&staff),
            json!({
                "teacher": named, "title": "Mine now", "description": "", "class_type": "one_on_one",
                "capacity": 1, "start_date": "2027-03-01", "start_time": "19:00", "zone": "Asia/Seoul",
                "recurrence": "weekdays", "session_count": 1
            }),
        )
        .await
        .refused(400, "invalid_input");
        api.post(
            "/slots",
            Some(&staff),
            json!({ "teacher": named, "start": "2027-01-04T10:00:00Z", "end": "2027-01-04T11:00:00Z", "capacity": 1 }),
        )
        .await
        .refused(400, "invalid_input");
    }
    let policy = |min_notice: i64, max_advance: i64| {
        json!({
            "requires_approval_one_on_one": true, "requires_approval_group": false,
            "min_notice_minutes": min_notice, "max_advance_minutes": max_advance, "cancel_window_minutes": 0,
            "buffer_before_minutes": 0, "buffer_after_minutes": 240
        })
    };
    // Checked as the student too: the value is never reached before the permission.
    for token in [&student, &teacher] {
        api.put(
            &format!("/teachers/{teacher_id}/policy"),
            Some(token),
            policy(i64::MAX, 60),
        )
        .await
        .refused(
            if token == &student { 403 } else { 400 },
            if token == &student {
                "forbidden"
            } else {
                "invalid_input"
            },
        );
    }
    api.put(
        &format!("/teachers/{teacher_id}/policy"),
        Some(&teacher),
        policy(0, 100_000_000_000),
    )
    .await
    .refused(400, "invalid_input");
    // A 240-minute buffer after: the slot at the end of 9999 would overflow.
    api.put(&format!("/teachers/{teacher_id}/policy"), Some(&teacher), policy(0, 60))
        .await
        .ok(200);
    api.post(
        "/slots",
        Some(&teacher),
        json!({ "start": "9999-12-31T22:00:00Z", "end": "9999-12-31T23:00:00Z", "capacity": 1 }),
    )
    .await
    .refused(400, "invalid_input");
    // A slot a year long would block the teacher for the year.
    api.post(
        "/slots",
        Some(&teacher),
        json!({ "start": "2027-01-04T10:00:00Z", "end": "2028-01-04T10:00:00Z", "capacity": 1 }),
    )
    .await
    .refused(400, "invalid_input");
    api.post(
        "/packages",
        Some(&teacher),
        json!({
            "title": "Far away", "description": "", "class_type": "one_on_one", "capacity": 1,
            "start_date": "9999-12-31", "start_time": "23:30", "zone": "Etc/GMT+12",
            "recurrence": "weekdays", "session_count": 1
        }),
    )
    .await
    .refused(400, "invalid_input");
    for path in [
        "/me/bookings?from=9999-12-01T00:00:00Z",
        "/me/bookings?from=9999-12-01T00:00:00Z&to=9999-12-31T00:00:00Z",
        "/me/slots?from=9999-12-01T00:00:00Z",
    ] {
        let token = if path.starts_with("/me/slots") {
            &teacher
        } else {
            &student
        };
        api.get(path, Some(token)).await.refused(400, "invalid_input");
    }
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

#[tokio::test]
async fn a_405_says_what_is_allowed_and_lists_refuse_limits_out_of_bounds() {
    let api = common::api().await;
    let answer = api.client.put("/api/v1/slots").send().await;
    answer.assert_status(poem::http::StatusCode::METHOD_NOT_ALLOWED);
    answer.assert_header("allow", "GET, POST");
    for limit in ["0", "201", "100000"] {
        api.get(&format!("/packages?limit={limit}"), None)
            .await
            .refused(400, "invalid_input");
    }
    api.get("/packages?limit=200", None).await.ok(200);
    let (teacher, _) = api.user("t", "teacher").await;
    let answer = api
        .client
        .post("/api/v1/slots")
        .header("Authorization", format!("Bearer {teacher}"))
        .content_type("text/plain")
        .body("start=tomorrow")
        .send()
        .await;
    assert_problem(
        answer,
        poem::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

/// `answer` is a problem document with `status` and `code`.
async fn assert_problem(answer: poem::test::TestResponse, status: poem::http::StatusCode, code: &str) {
    answer.assert_status(status);
    answer.assert_content_type("application/problem+json");
    answer.json().await.value().object().get("code").assert_string(code);
}
