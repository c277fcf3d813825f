//! Every booking, credit and feedback operation over HTTP on the real store:
//! the happy paths and each refusal code, each refusal changing nothing.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

mod common;

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

fn soon(hours: i64) -> OffsetDateTime {
    common::now().replace_nanosecond(0).unwrap() + Duration::hours(hours)
}

fn slot_body(start: OffsetDateTime, minutes: i64, capacity: u32) -> Value {
    json!({ "start": rfc3339(start), "end": rfc3339(start + Duration::minutes(minutes)), "capacity": capacity })
}

#[tokio::test]
async fn slots_open_list_delete_and_cancel_with_their_refusals() {
    let api = common::api().await;
    let (teacher, teacher_id) = api.user("t", "teacher").await;
    let (student, _) = api.user("s", "student").await;
    let (staff, _) = api.user("staff", "staff").await;

    let opened = api
        .post(
            "/slots",
            Some(&teacher),
            json!({
                "start": rfc3339(soon(48)), "end": rfc3339(soon(48) + Duration::minutes(50)), "capacity": 2,
                "zone": "Asia/Manila", "meeting_provider": "zoom", "meeting_url": "https://zoom.example/j/1"
            }),
        )
        .await;
    let slot = opened.ok(201).clone();
    assert_eq!(
        (slot["zone"].clone(), slot["capacity"].clone(), slot["status"].clone()),
        (json!("Asia/Manila"), json!(2), json!("open"))
    );
    assert_eq!(slot["meeting_url"], "https://zoom.example/j/1");
    assert_eq!(slot["teacher"], teacher_id.as_str());
    let slot_id = slot["id"].as_str().unwrap().to_owned();

    // Refusals, none of which opens anything.
    api.post(
        "/slots",
        Some(&teacher),
        slot_body(soon(48) + Duration::minutes(10), 50, 1),
    )
    .await
    .refused(409, "slot_overlap");
    api.post("/slots", Some(&teacher), slot_body(soon(-2), 50, 1))
        .await
        .refused(409, "slot_in_past");
    api.post("/slots", Some(&teacher), slot_body(soon(60), 0, 1))
        .await
        .refused(400, "invalid_time_range");
    api.post("/slots", Some(&teacher), slot_body(soon(60), 50, 9))
        .await
        .refused(400, "invalid_capacity");
    let mut bad_zone = slot_body(soon(60), 50, 1);
    bad_zone["zone"] = json!("Nowhere/City");
    api.post("/slots", Some(&teacher), bad_zone)
        .await
        .refused(400, "invalid_input");
    let mut bad_url = slot_body(soon(60), 50, 1);
    bad_url["meeting_url"] = json!("ftp://x");
    api.post("/slots", Some(&teacher), bad_url)
        .await
        .refused(400, "invalid_input");
    api.post("/slots", Some(&teacher), json!({ "start": "tomorrow" }))
        .await
        .refused(400, "invalid_input");
    api.post("/slots", Some(&student), slot_body(soon(60), 50, 1))
        .await
        .refused(403, "forbidden");
    api.post("/slots", Some(&staff), slot_body(soon(60), 50, 1))
        .await
        .refused(400, "invalid_input");
    let mut for_teacher = slot_body(soon(72), 50, 1);
    for_teacher["teacher"] = json!(teacher_id);
    let by_staff = api.post("/slots", Some(&staff), for_teacher).await;
    let by_staff_id = by_staff.ok(201)["id"].as_str().unwrap().to_owned();

    let mine = api.get("/me/slots", Some(&teacher)).await;
    let items = mine.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "only the two opened slots");
    assert_eq!(items[0]["bookings"], json!([]), "the teacher sees bookings");
    api.get("/me/slots", Some(&student)).await.refused(403, "forbidden");
    api.get(&format!("/me/slots?teacher={teacher_id}"), Some(&staff))
        .await
        .ok(200);
    api.get(
        &format!("/me/slots?from={}&to={}", rfc3339(soon(5)), rfc3339(soon(1))),
        Some(&teacher),
    )
    .await
    .refused(400, "invalid_time_range");

    // Delete: only the teacher (or staff), only without bookings.
    api.delete(&format!("/slots/{by_staff_id}"), Some(&student))
        .await
        .refused(403, "forbidden");
    let deleted = api.delete(&format!("/slots/{by_staff_id}"), Some(&teacher)).await;
    assert_eq!((deleted.status.as_u16(), deleted.body.clone()), (204, Value::Null));
    api.delete(&format!("/slots/{by_staff_id}"), Some(&teacher))
        .await
        .refused(409, "slot_closed");
    api.delete(&format!("/slots/{}", uuid::Uuid::now_v7()), Some(&teacher))
        .await
        .refused(404, "not_found");
    let booking = api
        .post(&format!("/slots/{slot_id}/bookings"), Some(&student), json!({}))
        .await;
    assert_eq!(booking.ok(201)["status"], "confirmed", "group slots need no approval");
    api.delete(&format!("/slots/{slot_id}"), Some(&teacher))
        .await
        .refused(409, "slot_has_bookings");

    // Cancelling the whole slot credits the confirmed student.
    api.post(&format!("/slots/{slot_id}/cancel"), Some(&student), json!({}))
        .await
        .refused(403, "forbidden");
    let cancelled = api
        .post(&format!("/slots/{slot_id}/cancel"), Some(&teacher), json!({}))
        .await;
    let body = cancelled.ok(200);
    assert_eq!(body["slot"]["status"], "cancelled");
    assert_eq!(body["credits"].as_array().unwrap().len(), 1);
    assert_eq!(body["credits"][0]["status"], "active");
    api.post(&format!("/slots/{slot_id}/cancel"), Some(&teacher), json!({}))
        .await
        .refused(409, "slot_closed");
    api.post(&format!("/slots/{slot_id}/bookings"), Some(&student), json!({}))
        .await
        .refused(409, "slot_closed");
}

#[tokio::test]
async fn a_one_to_one_request_is_approved_declined_cancelled_and_audited() {
    let api = common::api().await;
    let (teacher, teacher_id) = api.user("t", "teacher").await;
    let (other_teacher, _) = api.user("t2", "teacher").await;
    let (alice, alice_id) = api.user("alice", "student").await;
    let (bob, _) = api.user("bob", "student").await;
    let slot = api.open_slot(&teacher, 72, 1).await;

    let requested = api
        .post(&format!("/slots/{slot}/bookings"), Some(&alice), json!({}))
        .await;
    let first = requested.ok(201).clone();
    assert_eq!(
        (first["status"].clone(), first["student"].clone()),
        (json!("requested"), json!(alice_id))
    );
    let first_id = first["id"].as_str().unwrap().to_owned();
    api.post(&format!("/slots/{slot}/bookings"), Some(&alice), json!({}))
        .await
        .refused(409, "duplicate_booking");
    api.post(&format!("/slots/{slot}/bookings"), Some(&teacher), json!({}))
        .await
        .refused(409, "own_slot");
    api.post(
        &format!("/slots/{}/bookings", uuid::Uuid::now_v7()),
        Some(&alice),
        json!({}),
    )
    .await
    .refused(404, "not_found");
    let second = api
        .post(&format!("/slots/{slot}/bookings"), Some(&bob), json!({}))
        .await;
    let second_id = second.ok(201)["id"].as_str().unwrap().to_owned();

    // Only the slot's teacher approves; approving fills the slot and declines Bob.
    api.post(
        &format!("/bookings/{first_id}/approve"),
        Some(&other_teacher),
        json!({}),
    )
    .await
    .refused(404, "not_found");
    api.post(&format!("/bookings/{first_id}/approve"), Some(&alice), json!({}))
        .await
        .refused(403, "forbidden");
    let approved = api
        .post(&format!("/bookings/{first_id}/approve"), Some(&teacher), json!({}))
        .await;
    assert_eq!(approved.ok(200)["status"], "confirmed");
    api.post(&format!("/bookings/{first_id}/approve"), Some(&teacher), json!({}))
        .await
        .refused(409, "invalid_booking_status");
    api.post(&format!("/bookings/{second_id}/decline"), Some(&teacher), json!({}))
        .await
        .refused(409, "invalid_booking_status");
    api.post(
        &format!("/bookings/{}/approve", uuid::Uuid::now_v7()),
        Some(&teacher),
        json!({}),
    )
    .await
    .refused(404, "not_found");
    let bobs = api.get("/me/bookings", Some(&bob)).await;
    assert_eq!(bobs.ok(200)["items"][0]["booking"]["status"], "declined");
    let full = api
        .post(&format!("/slots/{slot}/bookings"), Some(&bob), json!({}))
        .await;
    full.refused(409, "slot_full");

    // History: for the student, the teacher and staff only.
    let history = api.get(&format!("/bookings/{first_id}/history"), Some(&alice)).await;
    let entries = history.ok(200).as_array().unwrap().clone();
    let reasons: Vec<&str> = entries.iter().map(|e| e["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["requested", "approved"]);
    assert_eq!(entries[1]["actor"], teacher_id.as_str());
    api.get(&format!("/bookings/{first_id}/history"), Some(&teacher))
        .await
        .ok(200);
    api.get(&format!("/bookings/{first_id}/history"), Some(&bob))
        .await
        .refused(404, "not_found");
    api.get(&format!("/bookings/{first_id}/history"), Some(&other_teacher))
        .await
        .refused(404, "not_found");

    // The teacher cancels the confirmed lesson: Alice gets a credit.
    api.post(
        &format!("/bookings/{first_id}/teacher-cancel"),
        Some(&other_teacher),
        json!({}),
    )
    .await
    .refused(404, "not_found");
    let cancelled = api
        .post(
            &format!("/bookings/{first_id}/teacher-cancel"),
            Some(&teacher),
            json!({}),
        )
        .await;
    let body = cancelled.ok(200).clone();
    assert_eq!(body["booking"]["status"], "teacher_cancelled");
    assert_eq!(
        (body["credit"]["student"].clone(), body["credit"]["teacher"].clone()),
        (json!(alice_id), json!(teacher_id))
    );
    api.post(
        &format!("/bookings/{first_id}/teacher-cancel"),
        Some(&teacher),
        json!({}),
    )
    .await
    .refused(409, "invalid_booking_status");
    api.post(&format!("/bookings/{first_id}/cancel"), Some(&alice), json!({}))
        .await
        .refused(409, "invalid_booking_status");
    let credits = api.get("/me/credits", Some(&alice)).await;
    assert_eq!(credits.ok(200).as_array().unwrap().len(), 1);
    api.get("/me/credits", Some(&bob)).await.ok(200);
    assert_eq!(api.get("/me/credits", Some(&bob)).await.body, json!([]));
    api.get(&format!("/me/credits?student={alice_id}"), Some(&bob))
        .await
        .refused(403, "forbidden");
}

#[tokio::test]
async fn student_cancellation_honours_the_window() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let (student, student_id) = api.user("s", "student").await;
    let (other, _) = api.user("o", "student").await;
    // A group slot (no approval) in 2 days and one in 1 hour.
    let later = api.open_slot(&teacher, 48, 2).await;
    let soon_slot = api.open_slot(&teacher, 1, 2).await;
    let a = api
        .post(&format!("/slots/{later}/bookings"), Some(&student), json!({}))
        .await
        .ok(201)["id"]
        .clone();
    let b = api
        .post(&format!("/slots/{soon_slot}/bookings"), Some(&student), json!({}))
        .await
        .ok(201)["id"]
        .clone();
    let (a, b) = (a.as_str().unwrap(), b.as_str().unwrap());
    api.post(&format!("/bookings/{a}/cancel"), Some(&other), json!({}))
        .await
        .refused(404, "not_found");
    assert_eq!(
        api.post(&format!("/bookings/{a}/cancel"), Some(&student), json!({}))
            .await
            .ok(200)["status"],
        "cancelled"
    );
    api.post(&format!("/bookings/{b}/cancel"), Some(&student), json!({}))
        .await
        .refused(409, "cancellation_window_closed");
    // The refused cancellation changed nothing.
    let mine = api.get("/me/bookings", Some(&student)).await;
    let statuses: Vec<&str> = mine.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["booking"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["confirmed", "cancelled"], "by slot start");
    api.get(&format!("/me/bookings?student={student_id}"), Some(&other))
        .await
        .refused(403, "forbidden");
    api.get("/me/bookings?limit=1", Some(&student)).await.ok(200);
    let far = api.open_slot(&teacher, 24 * 100, 2).await;
    api.post(&format!("/slots/{far}/bookings"), Some(&student), json!({}))
        .await
        .refused(409, "max_advance");
}

#[tokio::test]
async fn credits_redeem_into_the_same_teachers_slots_once() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let (other_teacher, _) = api.user("t2", "teacher").await;
    let (student, _) = api.user("s", "student").await;
    let (other, _) = api.user("o", "student").await;
    let slot = api.open_slot(&teacher, 48, 2).await;
    let booking = api
        .post(&format!("/slots/{slot}/bookings"), Some(&student), json!({}))
        .await
        .ok(201)["id"]
        .clone();
    let cancelled = api
        .post(
            &format!("/bookings/{}/teacher-cancel", booking.as_str().unwrap()),
            Some(&teacher),
            json!({}),
        )
        .await;
    let credit = cancelled.ok(200)["credit"]["id"].as_str().unwrap().to_owned();

    let elsewhere = api.open_slot(&other_teacher, 50, 1).await;
    let target = api.open_slot(&teacher, 52, 1).await;
    let redeem = |slot: &str| json!({ "slot": slot });
    api.post(&format!("/credits/{credit}/redeem"), Some(&student), redeem(&elsewhere))
        .await
        .refused(409, "credit_wrong_teacher");
    api.post(&format!("/credits/{credit}/redeem"), Some(&other), redeem(&target))
        .await
        .refused(404, "not_found");
    api.post(
        &format!("/credits/{}/redeem", uuid::Uuid::now_v7()),
        Some(&student),
        redeem(&target),
    )
    .await
    .refused(404, "not_found");
    let booked = api
        .post(&format!("/credits/{credit}/redeem"), Some(&student), redeem(&target))
        .await;
    let body = booked.ok(201);
    assert_eq!(
        (body["status"].clone(), body["credit"].clone()),
        (json!("confirmed"), json!(credit))
    );
    let another = api.open_slot(&teacher, 54, 1).await;
    api.post(&format!("/credits/{credit}/redeem"), Some(&student), redeem(&another))
        .await
        .refused(409, "credit_already_used");
    let credits = api.get("/me/credits", Some(&student)).await;
    assert_eq!(credits.ok(200)[0]["status"], "redeemed");
}

#[tokio::test]
async fn attendance_reviews_reports_and_progress_after_the_lesson_starts() {
    let clock = tutorbook_memory::ManualClock::at(tutorbook_ports::Clock::now(&tutorbook_ports::SystemClock));
    let api = common::api_at(clock.clone()).await;
    let (teacher, teacher_id) = api.user("t", "teacher").await;
    let (other_teacher, _) = api.user("t2", "teacher").await;
    let (student, student_id) = api.user("s", "student").await;
    let (other, _) = api.user("o", "student").await;
    let (staff, _) = api.user("staff", "staff").await;
    // A group lesson starting in two minutes (no approval needed).
    let start = api.state.now() + Duration::minutes(2);
    let slot = api
        .post("/slots", Some(&teacher), slot_body(start, 50, 2))
        .await
        .ok(201)["id"]
        .clone();
    let booking = api
        .post(
            &format!("/slots/{}/bookings", slot.as_str().unwrap()),
            Some(&student),
            json!({}),
        )
        .await;
    let booking = booking.ok(201)["id"].as_str().unwrap().to_owned();

    let attend = json!({ "attendance": "completed" });
    api.post(
        &format!("/bookings/{booking}/attendance"),
        Some(&teacher),
        attend.clone(),
    )
    .await
    .refused(409, "lesson_not_started");
    api.post(
        &format!("/bookings/{booking}/review"),
        Some(&student),
        json!({ "rating": 5 }),
    )
    .await
    .refused(409, "review_too_early");
    clock.advance(Duration::minutes(3));
    api.post(
        &format!("/slots/{}/bookings", slot.as_str().unwrap()),
        Some(&other),
        json!({}),
    )
    .await
    .refused(409, "slot_in_past");

    api.post(
        &format!("/bookings/{booking}/attendance"),
        Some(&other_teacher),
        attend.clone(),
    )
    .await
    .refused(404, "not_found");
    api.post(
        &format!("/bookings/{booking}/attendance"),
        Some(&teacher),
        json!({ "attendance": "late" }),
    )
    .await
    .refused(400, "invalid_input");
    let done = api
        .post(&format!("/bookings/{booking}/attendance"), Some(&teacher), attend)
        .await;
    assert_eq!(done.ok(200)["status"], "completed");

    // Review: once, by the booking's student, 1–5 stars.
    api.post(
        &format!("/bookings/{booking}/review"),
        Some(&student),
        json!({ "rating": 6 }),
    )
    .await
    .refused(400, "invalid_rating");
    api.post(
        &format!("/bookings/{booking}/review"),
        Some(&other),
        json!({ "rating": 4 }),
    )
    .await
    .refused(404, "not_found");
    let review = api
        .post(
            &format!("/bookings/{booking}/review"),
            Some(&student),
            json!({ "rating": 4, "text": "good" }),
        )
        .await;
    assert_eq!(review.ok(201)["rating"], 4);
    api.post(
        &format!("/bookings/{booking}/review"),
        Some(&student),
        json!({ "rating": 5 }),
    )
    .await
    .refused(409, "already_reviewed");
    let feedback = api.get(&format!("/teachers/{teacher_id}/feedback"), None).await;
    let body = feedback.ok(200);
    assert_eq!((body["average"].clone(), body["count"].clone()), (json!(4.0), json!(1)));
    assert_eq!(body["latest"][0]["text"], "good");

    // Report: written by the teacher, read by the student, teacher and staff.
    api.get(&format!("/bookings/{booking}/report"), Some(&student))
        .await
        .refused(404, "not_found");
    let bands = json!({ "bands": { "listening": 6.5, "overall": 6.5 }, "comments": "solid" });
    api.put(
        &format!("/bookings/{booking}/report"),
        Some(&other_teacher),
        bands.clone(),
    )
    .await
    .refused(404, "not_found");
    api.put(
        &format!("/bookings/{booking}/report"),
        Some(&teacher),
        json!({ "bands": { "overall": 6.3 } }),
    )
    .await
    .refused(400, "invalid_band");
    let written = api
        .put(&format!("/bookings/{booking}/report"), Some(&teacher), bands)
        .await;
    assert_eq!(written.ok(200)["bands"]["overall"], 6.5);
    let edited = api
        .put(
            &format!("/bookings/{booking}/report"),
            Some(&teacher),
            json!({ "bands": { "overall": 7.0 } }),
        )
        .await;
    assert_eq!(edited.ok(200)["id"], written.body["id"], "an edit keeps the report");
    for reader in [&student, &teacher, &staff] {
        assert_eq!(
            api.get(&format!("/bookings/{booking}/report"), Some(reader))
                .await
                .ok(200)["bands"]["overall"],
            7.0
        );
    }
    api.get(&format!("/bookings/{booking}/report"), Some(&other))
        .await
        .refused(404, "not_found");

    let progress = api
        .get(&format!("/students/{student_id}/progress"), Some(&student))
        .await;
    assert_eq!(progress.ok(200)["latest_overall"], 7.0);
    let by_other_teacher = api
        .get(&format!("/students/{student_id}/progress"), Some(&other_teacher))
        .await;
    assert_eq!(by_other_teacher.ok(200)["reports"], json!([]), "only their own reports");
    api.get(&format!("/students/{student_id}/progress"), Some(&other))
        .await
        .refused(403, "forbidden");
}

#[tokio::test]
async fn teachers_set_their_policy_and_requests_follow_it() {
    let api = common::api().await;
    let (teacher, teacher_id) = api.user("t", "teacher").await;
    let (other_teacher, _) = api.user("t2", "teacher").await;
    let (student, _) = api.user("s", "student").await;
    let (staff, _) = api.user("staff", "staff").await;
    let path = format!("/teachers/{teacher_id}/policy");
    let default = api.get(&path, None).await.ok(200).clone();
    assert_eq!(default["requires_approval_one_on_one"], true);
    assert_eq!(default["cancel_window_minutes"], 24 * 60);
    assert_eq!(default["cancel_window_tier"], "moderate");

    let mut strict = default.clone();
    strict["min_notice_minutes"] = json!(180);
    strict["requires_approval_one_on_one"] = json!(false);
    api.put(&path, Some(&other_teacher), strict.clone())
        .await
        .refused(403, "forbidden");
    api.put(&path, Some(&student), strict.clone())
        .await
        .refused(403, "forbidden");
    api.put(&path, None, strict.clone()).await.refused(401, "unauthorized");
    let mut negative = strict.clone();
    negative["cancel_window_minutes"] = json!(-1);
    api.put(&path, Some(&teacher), negative)
        .await
        .refused(400, "invalid_input");
    let mut long_buffer = strict.clone();
    long_buffer["buffer_after_minutes"] = json!(300);
    api.put(&path, Some(&teacher), long_buffer)
        .await
        .refused(400, "invalid_input");
    assert_eq!(api.get(&path, None).await.ok(200), &default, "refusals changed nothing");
    assert_eq!(api.put(&path, Some(&teacher), strict.clone()).await.ok(200), &strict);
    assert_eq!(api.put(&path, Some(&staff), strict.clone()).await.ok(200), &strict);

    // The cancel window by its tier's name, by minutes, or both when they agree.
    let mut by_tier = strict.clone();
    by_tier.as_object_mut().unwrap().remove("cancel_window_minutes");
    by_tier["cancel_window_tier"] = json!("strict");
    let saved = api.put(&path, Some(&teacher), by_tier.clone()).await;
    assert_eq!(
        (
            saved.body["cancel_window_minutes"].clone(),
            saved.body["cancel_window_tier"].clone()
        ),
        (json!(2880), json!("strict"))
    );
    let mut by_minutes = strict.clone();
    by_minutes.as_object_mut().unwrap().remove("cancel_window_tier");
    by_minutes["cancel_window_minutes"] = json!(90);
    let saved = api.put(&path, Some(&teacher), by_minutes).await;
    assert!(
        saved.ok(200).get("cancel_window_tier").is_none(),
        "90 minutes is no tier"
    );
    let mut disagreeing = by_tier.clone();
    disagreeing["cancel_window_minutes"] = json!(120);
    api.put(&path, Some(&teacher), disagreeing)
        .await
        .refused(400, "invalid_input");
    by_tier.as_object_mut().unwrap().remove("cancel_window_tier");
    api.put(&path, Some(&teacher), by_tier)
        .await
        .refused(400, "invalid_input");
    assert_eq!(api.put(&path, Some(&teacher), strict.clone()).await.ok(200), &strict);

    // Two hours ahead is now too soon; five hours ahead books at once (no approval).
    let close = api.open_slot(&teacher, 2, 1).await;
    api.post(&format!("/slots/{close}/bookings"), Some(&student), json!({}))
        .await
        .refused(409, "min_notice");
    let later = api.open_slot(&teacher, 5, 1).await;
    let booked = api
        .post(&format!("/slots/{later}/bookings"), Some(&student), json!({}))
        .await;
    assert_eq!(booked.ok(201)["status"], "confirmed");
}

#[tokio::test]
async fn one_slot_shows_bookings_and_meeting_links_only_to_the_people_in_it() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let (student, _) = api.user("s", "student").await;
    let (other, _) = api.user("o", "student").await;
    let mut body = slot_body(soon(48), 50, 2);
    body["meeting_provider"] = json!("custom");
    body["meeting_url"] = json!("https://meet.example/room");
    let slot = api.post("/slots", Some(&teacher), body).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.post(&format!("/slots/{slot}/bookings"), Some(&student), json!({}))
        .await
        .ok(201);

    let path = format!("/slots/{slot}");
    let as_teacher = api.get(&path, Some(&teacher)).await.ok(200).clone();
    assert_eq!(as_teacher["bookings"].as_array().unwrap().len(), 1);
    assert_eq!(as_teacher["meeting_url"], "https://meet.example/room");
    let as_student = api.get(&path, Some(&student)).await.ok(200).clone();
    assert_eq!(as_student["meeting_url"], "https://meet.example/room");
    assert!(as_student.get("bookings").is_none());
    for stranger in [api.get(&path, Some(&other)).await, api.get(&path, None).await] {
        let body = stranger.ok(200);
        assert!(
            body.get("meeting_url").is_none() && body.get("bookings").is_none(),
            "{body}"
        );
        assert_eq!(body["booked_count"], 1);
    }
    api.get(&format!("/slots/{}", uuid::Uuid::now_v7()), None)
        .await
        .refused(404, "not_found");
    let empty = api.open_slot(&teacher, 60, 1).await;
    api.delete(&format!("/slots/{empty}"), Some(&teacher)).await.ok(204);
    api.get(&format!("/slots/{empty}"), None)
        .await
        .refused(404, "not_found");
}

#[tokio::test]
async fn a_booking_moves_to_another_slot_of_its_teacher() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let (student, _) = api.user("s", "student").await;
    let (other, _) = api.user("o", "student").await;
    let from = api.open_slot(&teacher, 72, 2).await;
    let to = api.open_slot(&teacher, 96, 2).await;
    let booking = api
        .post(&format!("/slots/{from}/bookings"), Some(&student), json!({}))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/bookings/{booking}/reschedule");
    api.post(&path, Some(&other), json!({ "slot": to }))
        .await
        .refused(404, "not_found");
    let moved = api
        .post_keyed(&path, Some(&student), "move-1", json!({ "slot": to }))
        .await;
    let moved = moved.ok(201).clone();
    assert_eq!(
        (moved["slot"].as_str(), moved["status"].as_str()),
        (Some(to.as_str()), Some("confirmed"))
    );
    let retry = api
        .post_keyed(&path, Some(&student), "move-1", json!({ "slot": to }))
        .await;
    assert_eq!(retry.ok(201)["id"], moved["id"], "a retry answers the same move");
    let history = api.get(&format!("/bookings/{booking}/history"), Some(&student)).await;
    assert_eq!(
        history.ok(200).as_array().unwrap().last().unwrap()["reason"],
        "rescheduled"
    );
    // The old booking is cancelled now: it moves no more.
    api.post(&path, Some(&student), json!({ "slot": from }))
        .await
        .refused(409, "invalid_booking_status");
}
