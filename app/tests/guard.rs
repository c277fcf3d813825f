//! Bounded cost and no dropped connections (docs/security.md): the body
//! and time limits, rate limits per client address, a panic answered as a
//! problem, inputs that used to panic, bounded host tokens, readable names.

use poem::test::TestClient;
use poem::{Route, handler, post};
use serde_json::json;

mod common;

#[handler]
fn boom() -> &'static str {
    panic!("a bug in a handler")
}

#[tokio::test]
async fn a_panic_is_a_500_problem_with_its_request_id_and_counted() {
    use poem::EndpointExt;
    let state = common::state().await;
    let client = TestClient::new(
        tutorbook_app::http::guard::panics_as_problems(Route::new().at("/boom", post(boom)))
            .around(tutorbook_app::http::observe::observe)
            .data(state.clone()),
    );
    let answer = client.post("/boom").header("X-Request-Id", "req-boom-1").send().await;
    answer.assert_header("x-request-id", "req-boom-1");
    assert_problem(answer, poem::http::StatusCode::INTERNAL_SERVER_ERROR, "internal").await;
    assert!(
        state
            .metrics
            .render()
            .contains(r#"tutorbook_http_requests_total{method="POST",status="500"} 1"#),
        "the panic is counted"
    );
}

#[tokio::test]
async fn a_panic_under_an_idempotency_key_keeps_nothing_so_the_retry_runs_again() {
    use poem::EndpointExt;
    let state = common::state().await;
    let (token, id) = common::api_on(state.clone()).user("s", "student").await;
    let client = TestClient::new(
        tutorbook_app::http::guard::panics_as_problems(Route::new().at("/api/v1/boom", post(boom)))
            .around(tutorbook_app::http::idempotency::idempotency)
            .data(state.clone()),
    );
    for _ in 0..2 {
        let answer = client
            .post("/api/v1/boom")
            .header("Authorization", format!("Bearer {token}"))
            .header("Idempotency-Key", "boom-1")
            .send()
            .await;
        assert_problem(answer, poem::http::StatusCode::INTERNAL_SERVER_ERROR, "internal").await;
    }
    let user = tutorbook_domain::UserId::from_uuid(id.parse().unwrap());
    assert!(
        state.idempotency_record(user, "boom-1").await.unwrap().is_none(),
        "the key is free"
    );
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

/// A host token with `claims` (plus an hour's `exp` unless given).
fn host_token_with(mut claims: serde_json::Value) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    if claims.get("exp").is_none() {
        claims["exp"] = json!(common::now().unix_timestamp() + 3600);
    }
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(common::HOST_SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn host_tokens_are_bounded_and_their_errors_say_little() {
    let api = common::api().await;
    let now = common::now().unix_timestamp();
    let long_sub = host_token_with(json!({ "sub": "x".repeat(20_000), "role": "student" }));
    let not_yet = host_token_with(json!({ "sub": "later", "role": "student", "nbf": now + 3600 }));
    let bad_role = host_token_with(json!({ "sub": "r", "role": "emperor" }));
    for token in [&long_sub, &not_yet, &bad_role] {
        let answer = api.get("/me", Some(token)).await;
        assert_eq!(answer.code(), "unauthorized");
        let detail = answer.body["detail"].as_str().unwrap();
        assert!(!detail.contains("emperor") && !detail.contains("variant"), "{detail}");
    }
    // None of them made a user.
    let (staff, _) = api.user("staff", "staff").await;
    let users = api.get("/users", Some(&staff)).await;
    assert_eq!(users.ok(200)["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn names_are_readable_text_and_cleaned_at_sign_up() {
    let api = common::api().await;
    let (student, _) = api.user("s", "student").await;
    for name in ["Kim\u{0}Joon", "evil\u{202E}gnp.exe", "\u{200B}\u{200B}", "a\u{2066}b"] {
        api.patch("/me", Some(&student), json!({ "display_name": name }))
            .await
            .refused(400, "invalid_text");
    }
    // HTML is text like any other: kept as typed, never interpreted (emails are plain text).
    let html = "<script>alert(1)</script> Kim";
    let me = api.patch("/me", Some(&student), json!({ "display_name": html })).await;
    assert_eq!(me.ok(200)["display_name"], html);
    // A provider's name with hidden characters is cleaned, not refused.
    let token = host_token_with(json!({ "sub": "n-1", "role": "student", "name": "Lee\u{202E}\u{0} Min" }));
    api.consent_all(&token).await;
    assert_eq!(api.get("/me", Some(&token)).await.ok(200)["display_name"], "Lee Min");
}

#[tokio::test]
async fn sign_ins_and_anonymous_reads_are_rate_limited_per_client_address() {
    let limits = tutorbook_app::config::RequestLimits {
        sign_in_per_minute: 2,
        anonymous_reads_per_minute: 3,
        client_ip_header: Some(poem::http::HeaderName::from_static("x-forwarded-for")),
        ..Default::default()
    };
    let api = common::api_on(common::state().await.with_limits(&limits));
    let read = |ip: &'static str| {
        api.client
            .get("/api/v1/slots")
            .header("X-Forwarded-For", format!("203.0.113.9, {ip}"))
            .send()
    };
    for _ in 0..3 {
        read("198.51.100.1").await.assert_status_is_ok();
    }
    let limited = read("198.51.100.1").await;
    limited.assert_status(poem::http::StatusCode::TOO_MANY_REQUESTS);
    limited.assert_header_exist("retry-after");
    // Another address, and signed-in reads, are not held back.
    read("198.51.100.2").await.assert_status_is_ok();
    let (student, _) = api.user("s", "student").await;
    api.client
        .get("/api/v1/slots")
        .header("X-Forwarded-For", "198.51.100.1")
        .header("Authorization", format!("Bearer {student}"))
        .send()
        .await
        .assert_status_is_ok();
    // Sign-ins have their own, smaller budget.
    let sign_in = || {
        api.client
            .post("/api/v1/auth/google")
            .header("X-Forwarded-For", "198.51.100.3")
            .content_type("application/json")
            .body(r#"{"id_token":"nope"}"#)
            .send()
    };
    for _ in 0..2 {
        assert_ne!(sign_in().await.0.status(), poem::http::StatusCode::TOO_MANY_REQUESTS);
    }
    assert_problem(
        sign_in().await,
        poem::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn a_request_past_the_time_limit_is_answered_503() {
    use poem::EndpointExt;
    let limits = tutorbook_app::config::RequestLimits {
        time_limit: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    let state = common::state().await.with_limits(&limits);
    #[handler]
    async fn slow() -> &'static str {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        "late"
    }
    let client = TestClient::new(
        Route::new()
            .at("/slow", poem::get(slow))
            .around(tutorbook_app::http::guard::time_limit)
            .data(state),
    );
    assert_problem(
        client.get("/slow").send().await,
        poem::http::StatusCode::SERVICE_UNAVAILABLE,
        "timed_out",
    )
    .await;
}
