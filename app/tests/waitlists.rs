//! Waitlists over HTTP (docs/waitlists.md): the setting on a slot and in the
//! policy, joining, places, the teacher's line, offers accepted and declined,
//! and each refusal code.

use serde_json::json;
use time::Duration;
use time::format_description::well_known::Rfc3339;

mod common;

#[tokio::test]
async fn a_full_group_slot_keeps_a_line_and_offers_freed_seats() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let students: Vec<String> = student_tokens(&api, 5).await;
    let start = common::now().replace_nanosecond(0).unwrap() + Duration::hours(72);
    let fmt = &Rfc3339;
    let body = json!({
        "start": start.format(fmt).unwrap(),
        "end": (start + Duration::minutes(50)).format(fmt).unwrap(),
        "capacity": 2,
        "waitlist": { "mode": "offer", "offer_ttl_minutes": 90 },
    });
    let slot = api.post("/slots", Some(&teacher), body).await;
    assert_eq!(
        slot.ok(201)["waitlist"],
        json!({ "mode": "offer", "offer_ttl_minutes": 90 })
    );
    let slot = slot.str("id");
    let bookings_path = format!("/slots/{slot}/bookings");
    let mut ids = Vec::new();
    for token in &students {
        let booking = api.post(&bookings_path, Some(token), json!({})).await;
        ids.push(booking.str("id"));
        let _ = booking.ok(201);
    }
    let shown = api.get(&format!("/slots/{slot}"), None).await;
    let shown = shown.ok(200);
    assert_eq!(
        (&shown["booked_count"], &shown["seats_left"], &shown["waitlist_length"]),
        (&json!(2), &json!(0), &json!(3))
    );

    // Each student sees their own place; a stranger sees nothing.
    let place = api
        .get(&format!("/bookings/{}/waitlist", ids[3]), Some(&students[3]))
        .await;
    let place = place.ok(200);
    assert_eq!((&place["position"], &place["line_length"]), (&json!(2), &json!(3)));
    assert_eq!(place["booking"]["status"], "waitlisted");
    api.get(&format!("/bookings/{}/waitlist", ids[3]), Some(&students[0]))
        .await
        .refused(404, "not_found");
    // The teacher sees the line; a student may not.
    let line = api.get(&format!("/slots/{slot}/waitlist"), Some(&teacher)).await;
    let places: Vec<&str> = line.ok(200)["places"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["booking"].as_str().unwrap())
        .collect();
    assert_eq!(places, [ids[2].as_str(), ids[3].as_str(), ids[4].as_str()]);
    api.get(&format!("/slots/{slot}/waitlist"), Some(&students[2]))
        .await
        .refused(403, "forbidden");

    // A seat frees up: the head is offered it, and nobody else may answer.
    api.post(&format!("/bookings/{}/cancel", ids[0]), Some(&students[0]), json!({}))
        .await
        .ok(200);
    let offered = api
        .get(&format!("/bookings/{}/waitlist", ids[2]), Some(&students[2]))
        .await;
    assert!(offered.ok(200)["booking"]["offer_expires_at"].is_string());
    api.post(
        &format!("/bookings/{}/offer/accept", ids[3]),
        Some(&students[3]),
        json!({}),
    )
    .await
    .refused(409, "no_offer");
    api.post(
        &format!("/bookings/{}/offer/accept", ids[2]),
        Some(&students[3]),
        json!({}),
    )
    .await
    .refused(404, "not_found");
    // Declined, it passes on; accepted, it is a seat.
    let declined = api
        .post(
            &format!("/bookings/{}/offer/decline", ids[2]),
            Some(&students[2]),
            json!({}),
        )
        .await;
    assert_eq!(declined.ok(200)["status"], "cancelled");
    let accepted = api
        .post(
            &format!("/bookings/{}/offer/accept", ids[3]),
            Some(&students[3]),
            json!({}),
        )
        .await;
    assert_eq!(accepted.ok(200)["status"], "confirmed");
    assert!(accepted.ok(200).get("offer_expires_at").is_none());
    let shown = api.get(&format!("/slots/{slot}"), None).await;
    assert_eq!(shown.ok(200)["waitlist_length"], 1);

    // The teacher closes the line: the last in it is declined.
    let closed = api
        .put(
            &format!("/slots/{slot}/waitlist"),
            Some(&teacher),
            json!({ "mode": "off" }),
        )
        .await;
    assert!(closed.ok(200).get("waitlist").is_none());
    let last = api
        .get(&format!("/bookings/{}/waitlist", ids[4]), Some(&students[4]))
        .await;
    assert_eq!(last.ok(200)["booking"]["status"], "declined");
}

#[tokio::test]
async fn waitlist_settings_are_checked() {
    let api = common::api().await;
    let (teacher, teacher_id) = api.user("t", "teacher").await;
    let (student, _) = api.user("s", "student").await;
    let one = api.open_slot(&teacher, 72, 1).await;
    let group = api.open_slot(&teacher, 96, 3).await;
    let path = format!("/slots/{one}/waitlist");
    api.put(&path, Some(&teacher), json!({ "mode": "auto_promote" }))
        .await
        .refused(409, "waitlist_not_available");
    let path = format!("/slots/{group}/waitlist");
    api.put(&path, Some(&teacher), json!({ "mode": "offer" }))
        .await
        .refused(400, "invalid_input");
    api.put(
        &path,
        Some(&teacher),
        json!({ "mode": "auto_promote", "offer_ttl_minutes": 30 }),
    )
    .await
    .refused(400, "invalid_input");
    api.put(
        &path,
        Some(&teacher),
        json!({ "mode": "offer", "offer_ttl_minutes": 4 }),
    )
    .await
    .refused(400, "invalid_input");
    api.put(&path, Some(&student), json!({ "mode": "auto_promote" }))
        .await
        .refused(403, "forbidden");
    let set = api.put(&path, Some(&teacher), json!({ "mode": "auto_promote" })).await;
    assert_eq!(set.ok(200)["waitlist"]["mode"], "auto_promote");

    // The policy's default applies to new group slots.
    let policy_path = format!("/teachers/{teacher_id}/policy");
    let mut policy = api.get(&policy_path, None).await.ok(200).clone();
    assert!(policy.get("waitlist").is_none());
    policy["waitlist"] = json!({ "mode": "offer", "offer_ttl_minutes": 60 });
    api.put(&policy_path, Some(&teacher), policy).await.ok(200);
    let read = api.get(&policy_path, None).await;
    assert_eq!(
        read.ok(200)["waitlist"],
        json!({ "mode": "offer", "offer_ttl_minutes": 60 })
    );
    let defaulted = api.open_slot(&teacher, 120, 2).await;
    let shown = api.get(&format!("/slots/{defaulted}"), None).await;
    assert_eq!(shown.ok(200)["waitlist"]["mode"], "offer");
    let single = api.open_slot(&teacher, 144, 1).await;
    let shown = api.get(&format!("/slots/{single}"), None).await;
    assert!(shown.ok(200).get("waitlist").is_none(), "one-to-one slots keep no line");
}

/// `n` consented students' tokens.
async fn student_tokens(api: &common::Api<impl poem::Endpoint>, n: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for i in 0..n {
        tokens.push(api.user(&format!("s{i}"), "student").await.0);
    }
    tokens
}
