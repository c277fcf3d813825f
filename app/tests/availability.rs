//! Availability over HTTP (docs/availability.md): rules and exceptions for
//! the teacher, bookable times for anyone, booking one with a key.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, Weekday};
use tutorbook_domain::Zone;
use tutorbook_memory::ManualClock;
use tutorbook_ports::{Clock, SystemClock};

mod common;

/// Monday of next week and the clock of a test API running now.
async fn setup() -> (common::Api<impl poem::Endpoint>, Date) {
    let clock = ManualClock::at(SystemClock.now());
    let today = SystemClock.now().date();
    let monday = today + Duration::days(i64::from(7 - today.weekday().number_days_from_monday()));
    assert_eq!(monday.weekday(), Weekday::Monday);
    (common::api_at(clock).await, monday)
}

fn seoul(date: Date, hour: u8) -> OffsetDateTime {
    Zone::parse("Asia/Seoul")
        .unwrap()
        .resolve_bound(date.with_hms(hour, 0, 0).unwrap())
}

fn rfc(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

fn starts(body: &Value) -> Vec<String> {
    body["times"]
        .as_array()
        .expect("times")
        .iter()
        .map(|t| t["start"].as_str().expect("start").to_owned())
        .collect()
}

fn monday_rules() -> Value {
    json!({ "rules": [
        { "weekday": "monday", "start": "09:00", "end": "12:00", "zone": "Asia/Seoul" },
        { "weekday": "friday", "start": "22:00", "end": "01:00", "zone": "Asia/Seoul" }
    ]})
}

#[tokio::test]
async fn a_teacher_keeps_rules_and_exceptions() {
    let (api, monday) = setup().await;
    let (teacher, teacher_id) = api.user("t1", "teacher").await;
    let (student, student_id) = api.user("s1", "student").await;
    let rules = format!("/teachers/{teacher_id}/availability/rules");

    let set = api.put(&rules, Some(&teacher), monday_rules()).await;
    let body = set.ok(200);
    assert_eq!(body["rules"].as_array().unwrap().len(), 2);
    assert_eq!(body["rules"][1]["end"], "01:00");

    let overlapping = json!({ "rules": [
        { "weekday": "monday", "start": "09:00", "end": "12:00" },
        { "weekday": "monday", "start": "11:00", "end": "13:00" }
    ]});
    api.put(&rules, Some(&teacher), overlapping)
        .await
        .refused(400, "invalid_input");
    api.put(
        &rules,
        Some(&teacher),
        json!({ "rules": [{ "weekday": "monday", "start": "9", "end": "12:00" }] }),
    )
    .await
    .refused(400, "invalid_input");
    api.put(&rules, Some(&student), monday_rules())
        .await
        .refused(403, "forbidden");
    api.get(&format!("/teachers/{student_id}/availability"), Some(&student))
        .await
        .refused(403, "forbidden");

    let day = monday.to_string();
    let added = api
        .post(
            &format!("/teachers/{teacher_id}/availability/exceptions"),
            Some(&teacher),
            json!({ "kind": "holiday", "from": day, "note": "Seollal" }),
        )
        .await;
    let exception = added.ok(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(added.body["until"], day);
    assert_eq!(added.body["zone"], "Asia/Seoul", "the teacher's zone by default");
    let stored = api
        .get(&format!("/teachers/{teacher_id}/availability"), Some(&teacher))
        .await;
    assert_eq!(stored.ok(200)["exceptions"].as_array().unwrap().len(), 1);
    api.post(
        &format!("/teachers/{teacher_id}/availability/exceptions"),
        Some(&teacher),
        json!({ "kind": "extra_hours", "from": day }),
    )
    .await
    .refused(400, "invalid_input");

    let path = format!("/teachers/{teacher_id}/availability/exceptions/{exception}");
    api.delete(&path, Some(&teacher)).await.ok(204);
    api.delete(&path, Some(&teacher)).await.refused(404, "not_found");
}

#[tokio::test]
async fn anyone_reads_bookable_times_and_a_student_books_one() {
    let (api, monday) = setup().await;
    let (teacher, teacher_id) = api.user("t1", "teacher").await;
    let (student, _) = api.user("s1", "student").await;
    api.put(
        &format!("/teachers/{teacher_id}/policy"),
        Some(&teacher),
        json!({
            "requires_approval_one_on_one": false, "requires_approval_group": false,
            "min_notice_minutes": 0, "max_advance_minutes": 43200, "cancel_window_minutes": 1440,
            "buffer_before_minutes": 0, "buffer_after_minutes": 0, "default_length_minutes": 60
        }),
    )
    .await
    .ok(200);
    api.put(
        &format!("/teachers/{teacher_id}/availability/rules"),
        Some(&teacher),
        monday_rules(),
    )
    .await
    .ok(200);

    let times = format!(
        "/teachers/{teacher_id}/bookable-times?from={}&to={}&zone=America/New_York",
        rfc(seoul(monday, 0)),
        rfc(seoul(monday, 23))
    );
    let offered = api.get(&times, None).await;
    let body = offered.ok(200).clone();
    assert_eq!(body["length_minutes"], 60);
    assert_eq!(body["teacher_zone"], "Asia/Seoul");
    assert_eq!(
        starts(&body),
        [rfc(seoul(monday, 9)), rfc(seoul(monday, 10)), rfc(seoul(monday, 11))]
    );
    let local = body["times"][0]["local_start"].as_str().unwrap();
    assert!(local.ends_with("-05:00") || local.ends_with("-04:00"), "{local}");

    let book = format!("/teachers/{teacher_id}/bookable-times/bookings");
    let pick = json!({ "start": rfc(seoul(monday, 10)) });
    let booked = api.post_keyed(&book, Some(&student), "pick-1", pick.clone()).await;
    assert_eq!(booked.ok(201)["status"], "confirmed");
    let again = api.post_keyed(&book, Some(&student), "pick-1", pick.clone()).await;
    assert_eq!(again.ok(201)["id"], booked.body["id"], "a retry gets the first answer");
    assert_eq!(
        starts(api.get(&times, None).await.ok(200)),
        [rfc(seoul(monday, 9)), rfc(seoul(monday, 11))]
    );

    api.post(&book, Some(&student), pick).await.refused(409, "slot_overlap");
    api.post(
        &book,
        Some(&student),
        json!({ "start": rfc(seoul(monday, 10) + Duration::minutes(20)) }),
    )
    .await
    .refused(409, "outside_availability");
    api.post(&book, Some(&teacher), json!({ "start": rfc(seoul(monday, 9)) }))
        .await
        .refused(409, "own_slot");
    api.post(
        &book,
        Some(&student),
        json!({ "start": rfc(seoul(monday, 9)), "trial": true }),
    )
    .await
    .refused(409, "trial_not_offered");
    api.get(&format!("{times}&trial=true"), None)
        .await
        .refused(409, "trial_not_offered");

    let week = api
        .get(&format!("/teachers/{teacher_id}/week?monday={monday}"), Some(&teacher))
        .await;
    let week = week.ok(200);
    assert_eq!(week["slots"].as_array().unwrap().len(), 1);
    assert_eq!(week["slots"][0]["bookings"].as_array().unwrap().len(), 1);

    // The lesson moves to another bookable time; the old time is the old slot's.
    let moving = format!("/bookings/{}/reschedule", booked.str("id"));
    let both = json!({ "slot": uuid::Uuid::now_v7(), "start": rfc(seoul(monday, 11)) });
    api.post(&moving, Some(&student), both)
        .await
        .refused(400, "invalid_input");
    api.post(&moving, Some(&student), json!({}))
        .await
        .refused(400, "invalid_input");
    api.post(&moving, Some(&student), json!({ "start": rfc(seoul(monday, 12)) }))
        .await
        .refused(409, "outside_availability");
    let moved = api
        .post(&moving, Some(&student), json!({ "start": rfc(seoul(monday, 11)) }))
        .await;
    let moved = moved.ok(201);
    assert_eq!(moved["status"], "confirmed");
    let new_slot = api
        .get(&format!("/slots/{}", moved["slot"].as_str().unwrap()), None)
        .await;
    assert_eq!(new_slot.ok(200)["start"], rfc(seoul(monday, 11)));
    api.get(
        &format!("/teachers/{teacher_id}/week?monday={}", monday + Duration::days(1)),
        Some(&teacher),
    )
    .await
    .refused(400, "invalid_input");
}

#[tokio::test]
async fn bad_ranges_and_zones_are_refused() {
    let (api, monday) = setup().await;
    let (_, teacher_id) = api.user("t1", "teacher").await;
    let (_, student_id) = api.user("s1", "student").await;
    let from = seoul(monday, 0);
    let get = |from: OffsetDateTime, to: OffsetDateTime, zone: &str| {
        format!(
            "/teachers/{teacher_id}/bookable-times?from={}&to={}{zone}",
            rfc(from),
            rfc(to)
        )
    };
    api.get(&get(from, from, ""), None)
        .await
        .refused(400, "invalid_time_range");
    api.get(&get(from, from + Duration::days(94), ""), None)
        .await
        .refused(400, "invalid_input");
    api.get(&get(from, from + Duration::days(1), "&zone=Mars/Olympus"), None)
        .await
        .refused(400, "invalid_input");
    api.get(
        &format!(
            "/teachers/{student_id}/bookable-times?from={}&to={}",
            rfc(from),
            rfc(from + Duration::days(1))
        ),
        None,
    )
    .await
    .refused(404, "not_found");
}

#[tokio::test]
async fn the_policy_keeps_the_lesson_length_and_daily_limit() {
    let (api, _) = setup().await;
    let (teacher, teacher_id) = api.user("t1", "teacher").await;
    let path = format!("/teachers/{teacher_id}/policy");
    let mut policy = api.get(&path, None).await.ok(200).clone();
    assert_eq!(policy["default_length_minutes"], 50);
    assert_eq!(policy["daily_limit"], Value::Null);
    assert_eq!(policy["trial_length_minutes"], Value::Null);
    policy["default_length_minutes"] = json!(45);
    policy["daily_limit"] = json!(3);
    policy["trial_length_minutes"] = json!(30);
    api.put(&path, Some(&teacher), policy.clone()).await.ok(200);
    assert_eq!(api.get(&path, None).await.ok(200), &policy);
    policy["daily_limit"] = json!(0);
    api.put(&path, Some(&teacher), policy.clone())
        .await
        .refused(400, "invalid_input");
    policy["daily_limit"] = json!(2);
    policy["default_length_minutes"] = json!(5);
    api.put(&path, Some(&teacher), policy)
        .await
        .refused(400, "invalid_input");
}

#[tokio::test]
async fn rules_are_added_changed_and_removed_one_at_a_time() {
    let (api, _) = setup().await;
    let (teacher, teacher_id) = api.user("t1", "teacher").await;
    let (other, _) = api.user("t2", "teacher").await;
    let rules = format!("/teachers/{teacher_id}/availability/rules");
    let morning = json!({ "weekday": "tuesday", "start": "09:00", "end": "12:00", "zone": "Asia/Seoul" });
    let added = api.post(&rules, Some(&teacher), morning.clone()).await;
    let rule = added.ok(201).clone();
    let one = format!("{rules}/{}", rule["id"].as_str().unwrap());
    assert_eq!(
        (rule["weekday"].clone(), rule["end"].clone()),
        (json!("tuesday"), json!("12:00"))
    );
    api.post(&rules, Some(&other), morning.clone())
        .await
        .refused(403, "forbidden");
    // An overlapping rule is refused; the set is unchanged.
    let overlapping = json!({ "weekday": "tuesday", "start": "11:00", "end": "13:00", "zone": "Asia/Seoul" });
    api.post(&rules, Some(&teacher), overlapping)
        .await
        .refused(400, "invalid_input");
    let afternoon = json!({ "weekday": "tuesday", "start": "14:00", "end": "17:00", "zone": "Asia/Seoul" });
    let second = api.post(&rules, Some(&teacher), afternoon).await.ok(201).clone();

    // Changing one keeps its id; moving it onto the other is refused.
    let later = json!({ "weekday": "tuesday", "start": "10:00", "end": "13:00", "zone": "Asia/Seoul" });
    let changed = api.put(&one, Some(&teacher), later).await;
    assert_eq!(
        (changed.ok(200)["id"].clone(), changed.body["start"].clone()),
        (rule["id"].clone(), json!("10:00"))
    );
    let clash = json!({ "weekday": "tuesday", "start": "15:00", "end": "16:00", "zone": "Asia/Seoul" });
    api.put(&one, Some(&teacher), clash).await.refused(400, "invalid_input");

    api.delete(&one, Some(&teacher)).await.ok(204);
    api.delete(&one, Some(&teacher)).await.refused(404, "not_found");
    let unknown = format!("{rules}/{}", uuid::Uuid::nil());
    api.put(&unknown, Some(&teacher), morning)
        .await
        .refused(404, "not_found");
    let left = api
        .get(&format!("/teachers/{teacher_id}/availability"), Some(&teacher))
        .await;
    let ids: Vec<Value> = left.ok(200)["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids, vec![second["id"].clone()]);
}
