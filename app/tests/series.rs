//! Recurring series over HTTP (docs/series.md): booking a series of 1:1
//! lessons with a key, an all-or-nothing refusal naming its occurrence,
//! cancelling from an occurrence on, and a teacher's group series.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, Weekday};
use tutorbook_domain::Zone;
use tutorbook_memory::ManualClock;
use tutorbook_ports::{Clock, SystemClock};

mod common;

/// A test API running now, a teacher in Seoul with Monday hours 09:00–12:00,
/// hour-long lessons confirmed without approval, bookable 60 days ahead;
/// and Monday of next week.
async fn setup() -> (common::Api<impl poem::Endpoint>, Date, String, String) {
    let api = common::api_at(ManualClock::at(SystemClock.now())).await;
    let today = SystemClock.now().date();
    let monday = today + Duration::days(i64::from(7 - today.weekday().number_days_from_monday()));
    assert_eq!(monday.weekday(), Weekday::Monday);
    let (teacher, teacher_id) = api.user("t1", "teacher").await;
    api.put(
        &format!("/teachers/{teacher_id}/policy"),
        Some(&teacher),
        json!({
            "requires_approval_one_on_one": false, "requires_approval_group": false,
            "min_notice_minutes": 0, "max_advance_minutes": 86400, "cancel_window_minutes": 1440,
            "buffer_before_minutes": 0, "buffer_after_minutes": 0, "default_length_minutes": 60
        }),
    )
    .await
    .ok(200);
    api.put(
        &format!("/teachers/{teacher_id}/availability/rules"),
        Some(&teacher),
        json!({ "rules": [{ "weekday": "monday", "start": "09:00", "end": "12:00", "zone": "Asia/Seoul" }] }),
    )
    .await
    .ok(200);
    (api, monday, teacher, teacher_id)
}

fn weekly(first: Date, count: u32, mode: &str) -> Value {
    json!({
        "frequency": "weekly", "first": first.to_string(), "time": "10:00", "count": count, "mode": mode
    })
}

#[tokio::test]
async fn a_student_books_a_series_and_cancels_it_from_an_occurrence_on() {
    let (api, monday, teacher, teacher_id) = setup().await;
    let (student, _) = api.user("s1", "student").await;
    let (other, _) = api.user("s2", "student").await;
    let path = format!("/teachers/{teacher_id}/series");

    let booked = api
        .post_keyed(&path, Some(&student), "series-1", weekly(monday, 4, "all_or_nothing"))
        .await;
    let body = booked.ok(201).clone();
    assert_eq!(body["zone"], "Asia/Seoul");
    let occurrences = body["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 4);
    let seoul = Zone::parse("Asia/Seoul").unwrap();
    for (n, occurrence) in occurrences.iter().enumerate() {
        let date = monday + Duration::weeks(n as i64);
        assert_eq!(occurrence["number"], n + 1);
        assert_eq!(occurrence["date"], date.to_string());
        assert_eq!(occurrence["time"], "10:00");
        let start = seoul.resolve_bound(date.with_hms(10, 0, 0).unwrap());
        assert_eq!(occurrence["start"], start.format(&Rfc3339).unwrap());
        assert_eq!(occurrence["booking"]["status"], "confirmed");
        assert!(occurrence.get("code").is_none(), "{occurrence}");
    }
    let again = api
        .post_keyed(&path, Some(&student), "series-1", weekly(monday, 4, "all_or_nothing"))
        .await;
    assert_eq!(again.ok(201)["id"], body["id"], "a retry gets the first answer");

    // Every time is taken now: all or nothing names the first occurrence refused.
    let refused = api.post(&path, Some(&other), weekly(monday, 2, "all_or_nothing")).await;
    refused.refused(409, "slot_overlap");
    let detail = refused.str("detail");
    assert!(
        detail.starts_with(&format!("occurrence 1 ({monday} 10:00): ")),
        "{detail}"
    );
    // The teacher's own times; a rule that ends twice; too many occurrences.
    api.post(&path, Some(&teacher), weekly(monday, 2, "best_effort"))
        .await
        .refused(409, "own_slot");
    let mut both = weekly(monday, 2, "best_effort");
    both["until"] = json!(monday.to_string());
    api.post(&path, Some(&other), both).await.refused(400, "invalid_input");
    api.post(&path, Some(&other), weekly(monday, 53, "best_effort"))
        .await
        .refused(400, "invalid_input");

    let id = body["id"].as_str().unwrap();
    let cancel = format!("/series/{id}/cancel");
    let from = json!({ "from": (monday + Duration::weeks(2)).to_string() });
    api.post(&cancel, Some(&other), from.clone())
        .await
        .refused(404, "not_found");
    api.post(&cancel, Some(&teacher), from.clone())
        .await
        .refused(403, "forbidden");
    let cancelled = api.post(&cancel, Some(&student), from).await;
    let cancelled = cancelled.ok(200)["occurrences"].as_array().unwrap().clone();
    assert_eq!(
        cancelled
            .iter()
            .map(|o| o["number"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [3, 4]
    );
    assert!(cancelled.iter().all(|o| o["booking"]["status"] == "cancelled"));
    let read = api.get(&format!("/series/{id}"), Some(&student)).await;
    let statuses: Vec<Value> = read.ok(200)["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["booking"]["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [
            json!("confirmed"),
            json!("confirmed"),
            json!("cancelled"),
            json!("cancelled")
        ]
    );
    // A cancelled lesson's slot stays open with its seat free, as when one
    // booked time is cancelled.
    let freed = cancelled[0]["booking"]["slot"].as_str().unwrap();
    let slot = api.get(&format!("/slots/{freed}"), Some(&other)).await;
    assert_eq!(slot.ok(200)["booked_count"], 0);
}

#[tokio::test]
async fn a_teacher_opens_a_group_series_and_a_student_takes_a_seat_in_each() {
    let (api, monday, teacher, teacher_id) = setup().await;
    let (student, _) = api.user("s1", "student").await;
    let path = format!("/teachers/{teacher_id}/slot-series");
    let rule = json!({ "frequency": "weekly", "first": monday.to_string(), "time": "10:00", "count": 3,
                       "capacity": 4, "length_minutes": 90 });

    api.post(&path, Some(&student), rule.clone())
        .await
        .refused(403, "forbidden");
    let opened = api.post_keyed(&path, Some(&teacher), "open-1", rule.clone()).await;
    let body = opened.ok(201).clone();
    let slots = body["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 3);
    assert_eq!(slots[2]["date"], (monday + Duration::weeks(2)).to_string());
    assert_eq!(slots[2]["time"], "10:00");
    let (start, end) = (slots[0]["start"].as_str().unwrap(), slots[0]["end"].as_str().unwrap());
    let length =
        time::OffsetDateTime::parse(end, &Rfc3339).unwrap() - time::OffsetDateTime::parse(start, &Rfc3339).unwrap();
    assert_eq!(length, Duration::minutes(90));
    // The same slots again collide with the first: refused as a whole, naming occurrence 1.
    let refused = api.post(&path, Some(&teacher), rule).await;
    refused.refused(409, "slot_overlap");
    assert!(refused.str("detail").starts_with("occurrence 1 "), "{:?}", refused.body);

    let seats = format!("/slot-series/{}/bookings", body["id"].as_str().unwrap());
    let booked = api
        .post_keyed(&seats, Some(&student), "seats-1", json!({ "mode": "all_or_nothing" }))
        .await;
    let booked = booked.ok(201).clone();
    let occurrences = booked["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 3);
    assert!(occurrences.iter().all(|o| o["booking"]["status"] == "confirmed"));
    assert_eq!(occurrences[0]["booking"]["slot"], slots[0]["slot"]);
    // A second time: every seat is held already.
    api.post(&seats, Some(&student), json!({ "mode": "best_effort" }))
        .await
        .refused(409, "duplicate_booking");
    // The seats are a series of the student's own.
    let cancel = format!("/series/{}/cancel", booked["id"].as_str().unwrap());
    let cancelled = api.post(&cancel, Some(&student), json!({})).await;
    assert_eq!(cancelled.ok(200)["occurrences"].as_array().unwrap().len(), 3);
    api.post(
        "/slot-series/00000000-0000-0000-0000-000000000001/bookings",
        Some(&student),
        json!({ "mode": "best_effort" }),
    )
    .await
    .refused(404, "not_found");
}
