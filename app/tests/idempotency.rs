//! `Idempotency-Key` over HTTP: replays, refusals of reuse, scoping per user,
//! a retry after the service stopped between commit and answer, and
//! concurrent retries that run the command once.

use serde_json::json;
use tutorbook_app::http::idempotency::fingerprint;
use tutorbook_domain::{Actor, SlotId, UserId};
use tutorbook_ports::{Claim, IdempotencyStore};

mod common;

#[tokio::test]
async fn a_retry_replays_the_first_answer_and_books_once() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let (student, _) = api.user("s", "student").await;
    let slot = api.open_slot(&teacher, 48, 4).await;
    let path = format!("/slots/{slot}/bookings");

    let first = api.post_keyed(&path, Some(&student), "key-1", json!({})).await;
    first.ok(201);
    assert!(first.headers.get("idempotency-replayed").is_none());
    let retry = api.post_keyed(&path, Some(&student), "key-1", json!({})).await;
    assert_eq!((retry.status, &retry.body), (first.status, &first.body));
    assert_eq!(retry.headers.get("idempotency-replayed").unwrap(), "true");
    let mine = api.get("/me/bookings", Some(&student)).await;
    assert_eq!(mine.ok(200)["items"].as_array().unwrap().len(), 1, "booked once");

    // Without a key the same request is a new command: refused as a duplicate.
    api.post(&path, Some(&student), json!({}))
        .await
        .refused(409, "duplicate_booking");
    // The same key for another request is refused and runs nothing.
    let other_slot = api.open_slot(&teacher, 50, 4).await;
    api.post_keyed(
        &format!("/slots/{other_slot}/bookings"),
        Some(&student),
        "key-1",
        json!({}),
    )
    .await
    .refused(409, "idempotency_key_reused");
    let body_differs = api
        .post_keyed("/slots", Some(&teacher), "key-t", json!({ "capacity": 1 }))
        .await;
    body_differs.refused(400, "invalid_input");
    api.post_keyed("/slots", Some(&teacher), "key-t", json!({ "capacity": 2 }))
        .await
        .refused(409, "idempotency_key_reused");
    assert_eq!(
        api.get("/me/bookings", Some(&student)).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Keys are per user: another student's "key-1" is their own.
    let (other, _) = api.user("o", "student").await;
    api.post_keyed(&path, Some(&other), "key-1", json!({})).await.ok(201);
}

#[tokio::test]
async fn refusals_replay_but_answers_about_the_caller_release_the_key() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let slot = api.open_slot(&teacher, 48, 1).await;
    let path = format!("/slots/{slot}/bookings");
    // A rule's refusal is the answer to that request: it replays.
    api.post_keyed(&path, Some(&teacher), "k", json!({}))
        .await
        .refused(409, "own_slot");
    let again = api.post_keyed(&path, Some(&teacher), "k", json!({})).await;
    again.refused(409, "own_slot");
    assert_eq!(again.headers.get("idempotency-replayed").unwrap(), "true");

    // Consent missing: 403, key released; after consenting the same key books.
    let student = common::host_token("late", "student");
    api.post_keyed(&path, Some(&student), "k2", json!({}))
        .await
        .refused(403, "consent_required");
    api.consent_all(&student).await;
    let booked = api.post_keyed(&path, Some(&student), "k2", json!({})).await;
    booked.ok(201);
    assert!(booked.headers.get("idempotency-replayed").is_none());

    // Anonymous requests are not keyed: the operation answers 401.
    api.post_keyed(&path, None, "k3", json!({}))
        .await
        .refused(401, "unauthorized");
    // A malformed key is refused before anything runs.
    api.post_keyed(&path, Some(&student), &"x".repeat(300), json!({}))
        .await
        .refused(400, "invalid_input");
    api.post_keyed(&path, Some(&student), "has space", json!({}))
        .await
        .refused(400, "invalid_input");
}

#[tokio::test]
async fn a_retry_after_the_service_stopped_between_commit_and_answer_gets_the_first_booking() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let (student, student_id) = api.user("s", "student").await;
    let slot = api.open_slot(&teacher, 48, 4).await;
    let path = format!("/api/v1/slots/{slot}/bookings");
    let claim = Claim {
        user: UserId::from_uuid(student_id.parse().unwrap()),
        key: "lost-answer".into(),
        fingerprint: fingerprint(&poem::http::Method::POST, &path.parse().unwrap(), b"{}"),
    };
    // What the first request did before the service stopped: the command
    // committed under the key, and no response was ever sent or kept.
    let committed = api
        .state
        .keyed(claim.clone())
        .bookings
        .request(&Actor::student(claim.user), SlotId::from_uuid(slot.parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(
        api.state
            .store
            .record(claim.user, &claim.key)
            .await
            .unwrap()
            .unwrap()
            .response,
        None
    );

    let retry = api
        .post_keyed(
            &format!("/slots/{slot}/bookings"),
            Some(&student),
            "lost-answer",
            json!({}),
        )
        .await;

    assert_eq!(retry.ok(201)["id"], committed.id().to_string(), "the first booking");
    let mine = api.get("/me/bookings", Some(&student)).await;
    assert_eq!(mine.ok(200)["items"].as_array().unwrap().len(), 1, "booked once");
    let again = api
        .post_keyed(
            &format!("/slots/{slot}/bookings"),
            Some(&student),
            "lost-answer",
            json!({}),
        )
        .await;
    assert_eq!((again.status, &again.body), (retry.status, &retry.body));
    assert_eq!(again.headers.get("idempotency-replayed").unwrap(), "true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_run_the_command_once() {
    let api = std::sync::Arc::new(common::api().await);
    let (teacher, _) = api.user("t", "teacher").await;
    let (student, _) = api.user("s", "student").await;
    let slot = api.open_slot(&teacher, 48, 4).await;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (api, student, slot) = (api.clone(), student.clone(), slot.clone());
            tokio::spawn(async move {
                let answer = api
                    .post_keyed(&format!("/slots/{slot}/bookings"), Some(&student), "same", json!({}))
                    .await;
                (answer.status.as_u16(), answer.body["code"].as_str().map(str::to_owned))
            })
        })
        .collect();
    for task in tasks {
        // The store decides the copies one after the other: the first books,
        // the others find its answer.
        assert_eq!(task.await.unwrap(), (201, None));
    }
    let mine = api.get("/me/bookings", Some(&student)).await;
    assert_eq!(
        mine.ok(200)["items"].as_array().unwrap().len(),
        1,
        "booked exactly once"
    );
}

#[tokio::test]
async fn a_key_is_read_after_the_caller_and_by_the_meaning_of_the_body() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let path = "/slots";
    let start = common::now() + time::Duration::days(3);
    let end = start + time::Duration::minutes(50);
    let fmt = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let spaced = format!(
        r#"{{ "start": "{}",  "end": "{}", "capacity": 2 }}"#,
        fmt(start),
        fmt(end)
    );
    let reordered = format!(r#"{{"capacity":2,"end":"{}","start":"{}"}}"#, fmt(end), fmt(start));
    let send = |body: String, token: Option<String>, key: &'static str| {
        let mut req = api
            .client
            .post(format!("/api/v1{path}"))
            .header("Idempotency-Key", key)
            .content_type("application/json")
            .body(body);
        if let Some(token) = token {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        req.send()
    };
    let first = send(spaced, Some(teacher.clone()), "slot-1").await;
    first.assert_status(poem::http::StatusCode::CREATED);
    // The same JSON with other spacing and key order is the same request: replayed.
    let again = send(reordered, Some(teacher.clone()), "slot-1").await;
    again.assert_status(poem::http::StatusCode::CREATED);
    again.assert_header("idempotency-replayed", "true");
    // A malformed key from someone not signed in: the missing sign-in is the answer.
    let anonymous = send("{}".into(), None, LONG_KEY).await;
    anonymous.assert_status(poem::http::StatusCode::UNAUTHORIZED);
    let signed_in = send("{}".into(), Some(teacher), LONG_KEY).await;
    signed_in.assert_status(poem::http::StatusCode::BAD_REQUEST);
}

/// A key longer than the 255 characters allowed.
const LONG_KEY: &str = concat!(
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
);

#[tokio::test]
async fn a_key_on_a_method_the_path_does_not_take_is_not_spent() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let slot = api.open_slot(&teacher, 72, 3).await;
    let path = format!("/slots/{slot}/waitlist");
    // POST is not an operation there: the router's 405, however often the
    // key comes and whatever the body, never a key conflict.
    for body in [json!({ "mode": "off" }), json!({ "mode": "auto_promote" })] {
        let answer = api.post_keyed(&path, Some(&teacher), "same-key", body).await;
        assert_eq!(answer.status.as_u16(), 405, "{:?}", answer.body);
    }
}
