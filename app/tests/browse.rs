//! Browse over HTTP against a store seeded through the use cases.

use poem::http::StatusCode;
use poem::test::TestClient;
use time::{Duration, OffsetDateTime};
use tutorbook_app::{AppState, build_app};
use tutorbook_domain::{Actor, Meeting, UserId, Zone};
use tutorbook_ports::OpenSlot;
use uuid::Uuid;

mod common;

async fn seeded() -> (AppState, Vec<Uuid>) {
    let state = common::state().await;
    let teacher = Actor::teacher(UserId::from_uuid(Uuid::from_u128(1)));
    let base = OffsetDateTime::now_utc().replace_nanosecond(0).expect("valid") + Duration::days(2);
    let mut ids = Vec::new();
    for (offset_hours, capacity) in [(3, 1), (0, 4)] {
        let start = base + Duration::hours(offset_hours);
        let slot = state
            .bookings
            .open_slot(
                &teacher,
                OpenSlot {
                    teacher: teacher.user,
                    start,
                    end: start + Duration::minutes(50),
                    zone: Zone::default(),
                    capacity,
                    meeting: Meeting::default(),
                },
            )
            .await
            .expect("slot opens");
        ids.push(slot.id().as_uuid());
    }
    (state, ids)
}

#[tokio::test]
async fn browse_lists_open_slots_by_start() {
    let (state, ids) = seeded().await;
    let resp = TestClient::new(build_app(state)).get("/api/v1/slots").send().await;
    resp.assert_status_is_ok();
    let body: serde_json::Value = resp.json().await.value().deserialize();
    let listed: Vec<&str> = body
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["id"].as_str().expect("id"))
        .collect();
    assert_eq!(listed, vec![ids[1].to_string(), ids[0].to_string()], "sorted by start");
    assert_eq!(body[0]["capacity"], 4);
    assert_eq!(body[0]["booked_count"], 0);
    assert_eq!(body[0]["zone"], "Asia/Seoul");
}

#[tokio::test]
async fn browse_refuses_an_empty_range_with_a_problem() {
    let (state, _) = seeded().await;
    let resp = TestClient::new(build_app(state))
        .get("/api/v1/slots")
        .query("limit", &0)
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    let body: serde_json::Value = resp.json().await.value().deserialize();
    assert_eq!(body["code"], "invalid_input");
}
