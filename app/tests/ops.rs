//! Operations: request ids, metrics, framework errors as problems, and the
//! demo data of a first start.

use serde_json::json;
use tutorbook_app::demo::{Seeded, seed};

mod common;

#[tokio::test]
async fn answers_carry_a_request_id_and_count_in_the_metrics() {
    let api = common::api().await;
    let generated = api.get("/health", None).await;
    let id = generated
        .headers
        .get("x-request-id")
        .expect("a generated id")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    let echoed = api
        .client
        .get("/api/v1/health")
        .header("X-Request-Id", "req-42")
        .send()
        .await;
    assert_eq!(echoed.0.headers().get("x-request-id").unwrap(), "req-42");
    api.get("/me", None).await.refused(401, "unauthorized");

    let metrics = api.client.get("/metrics").send().await;
    metrics.assert_status_is_ok();
    let text = metrics.0.into_body().into_string().await.unwrap();
    assert!(
        text.contains("tutorbook_http_requests_total{method=\"GET\",status=\"200\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("tutorbook_http_requests_total{method=\"GET\",status=\"401\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("tutorbook_http_request_duration_seconds_count 3"),
        "{text}"
    );
}

#[tokio::test]
async fn framework_errors_are_problem_documents() {
    let api = common::api().await;
    let (token, _) = api.user("u", "student").await;
    api.get("/no/such/thing", None).await.refused(404, "not_found");
    api.get("/bookings/not-a-uuid/history", Some(&token))
        .await
        .refused(400, "invalid_input");
    api.post("/slots/not-a-uuid/bookings", Some(&token), json!({}))
        .await
        .refused(400, "invalid_input");
    api.get("/me/bookings?from=yesterday", Some(&token))
        .await
        .refused(400, "invalid_input");
    let answer = api.get("/me", Some("")).await;
    answer.refused(401, "unauthorized");
}

#[tokio::test]
async fn demo_data_is_seeded_once_into_an_empty_store() {
    let api = common::api().await;
    let now = common::now();
    assert_eq!(
        seed(&api.state, now).await.unwrap(),
        Seeded::Data { slots: 22, packages: 1 }
    );
    assert_eq!(seed(&api.state, now).await.unwrap(), Seeded::AlreadyPopulated);

    // The dev student sees next week's supply from both teachers.
    let session = api.post("/auth/dev?as=student", None, json!({})).await;
    let token = session.ok(200)["token"].as_str().unwrap().to_owned();
    api.consent_all(&token).await;
    let browse = api.get("/slots?tz=Etc/UTC", Some(&token)).await;
    let body = browse.ok(200);
    assert_eq!(body["days"].as_array().unwrap().len(), 5, "Monday to Friday");
    let teachers: std::collections::BTreeSet<&str> = body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["teacher"].as_str().unwrap())
        .collect();
    assert_eq!(teachers.len(), 2);
    // And the course package the week after, with its six sessions.
    let packages = api.get("/packages", Some(&token)).await;
    let listed = packages.ok(200).as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["sessions"].as_array().unwrap().len(), 6);
    // The dev teacher owns half of them.
    let teacher = api.post("/auth/dev?as=teacher", None, json!({})).await;
    let teacher = teacher.ok(200)["token"].as_str().unwrap().to_owned();
    api.consent_all(&teacher).await;
    let mine = api
        .get("/me/slots?limit=200&to=2100-01-01T00:00:00Z", Some(&teacher))
        .await;
    mine.refused(400, "invalid_input");
    let mine = api.get("/me/slots?limit=200", Some(&teacher)).await;
    assert_eq!(mine.ok(200)["items"].as_array().unwrap().len(), 11);
}
