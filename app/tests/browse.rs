//! Browse over HTTP: supply grouped by the viewer's local day.

use serde_json::Value;
use time::{Duration, OffsetDateTime};

mod common;

fn dates(body: &Value) -> Vec<String> {
    body["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| d["date"].as_str().expect("date").to_owned())
        .collect()
}

fn ids(body: &Value) -> Vec<String> {
    body["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

/// 10:00 UTC `days` days from today.
fn at(days: i64, hour: u8) -> OffsetDateTime {
    (common::now().date() + Duration::days(days))
        .with_hms(hour, 0, 0)
        .expect("valid")
        .assume_utc()
}

#[tokio::test]
async fn browse_groups_by_local_day_and_hides_a_teachers_own_slots() {
    let api = common::api().await;
    let (teacher, _) = api.user("t1", "teacher").await;
    let (other_teacher, _) = api.user("t2", "teacher").await;
    let a = api.open_slot_at(&teacher, at(3, 10), 1).await;
    let b = api.open_slot_at(&teacher, at(3, 11), 4).await;
    let c = api.open_slot_at(&teacher, at(5, 10), 1).await;
    let (day3, day5) = (at(3, 0).date().to_string(), at(5, 0).date().to_string());

    let body = api.get("/slots?tz=Etc/UTC", None).await.ok(200).clone();
    assert_eq!(body["zone"], "Etc/UTC");
    assert_eq!(body["date"], day3.as_str(), "no date: the first day with supply");
    assert_eq!(dates(&body), vec![day3.clone(), day5.clone()]);
    assert_eq!(body["days"][0]["slots"], 2);
    assert_eq!(ids(&body), vec![a.clone(), b.clone()], "by start");
    assert!(body["slots"][0].get("bookings").is_none(), "no bookings for strangers");

    // In Pacific/Kiritimati (UTC+14) 10:00 and 11:00 UTC fall on the next local day.
    let kiribati = api.get("/slots?tz=Pacific/Kiritimati", None).await;
    assert_eq!(kiribati.ok(200)["date"], at(4, 0).date().to_string().as_str());

    // Another day selected explicitly; an invalid date falls back to the first.
    let later = api.get(&format!("/slots?tz=Etc/UTC&date={day5}"), None).await;
    assert_eq!(ids(later.ok(200)), vec![c.clone()]);
    let invalid = api.get("/slots?tz=Etc/UTC&date=2026-02-30", None).await;
    assert_eq!(invalid.ok(200)["date"], day3.as_str());

    // Pagination within the day.
    let page = api.get("/slots?tz=Etc/UTC&limit=1", None).await.ok(200).clone();
    assert_eq!(ids(&page), vec![a.clone()]);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let next = api
        .get(&format!("/slots?tz=Etc/UTC&limit=1&cursor={cursor}"), None)
        .await;
    assert_eq!(ids(next.ok(200)), vec![b.clone()]);
    assert!(next.body["next_cursor"].is_null());

    // A teacher does not see their own slots; another teacher does.
    assert!(dates(api.get("/slots", Some(&teacher)).await.ok(200)).is_empty());
    let seen = api.get("/slots?tz=Etc/UTC", Some(&other_teacher)).await;
    assert_eq!(ids(seen.ok(200)), vec![a, b]);
}

#[tokio::test]
async fn browse_uses_the_viewers_zone_and_refuses_bad_paging() {
    let api = common::api().await;
    let (teacher, _) = api.user("t1", "teacher").await;
    api.open_slot(&teacher, 30, 1).await;

    // No tz: anonymous viewers count days in Asia/Seoul.
    assert_eq!(api.get("/slots", None).await.ok(200)["zone"], "Asia/Seoul");
    // An unknown tz falls back too.
    assert_eq!(api.get("/slots?tz=Mars/Base", None).await.ok(200)["zone"], "Asia/Seoul");
    api.get("/slots?limit=0", None).await.refused(400, "invalid_input");
    // A bad token is refused rather than treated as anonymous.
    api.get("/slots", Some("garbage")).await.refused(401, "unauthorized");
    api.get("/slots?cursor=nope", None).await.refused(400, "invalid_input");
}

/// An anonymous answer is serialized once per page the use cases keep: asked
/// again, it is sent from the kept bytes; after a commit its page is read
/// and serialized again, so the new slot shows. Signed-in viewers' answers
/// are not kept. `/metrics` counts both kinds of answer.
#[tokio::test]
async fn anonymous_answers_are_kept_with_their_page_and_not_past_a_commit() {
    let api = common::api().await;
    let (teacher, _) = api.user("t1", "teacher").await;
    let (student, _) = api.user("s1", "student").await;
    let a = api.open_slot_at(&teacher, at(3, 10), 1).await;
    assert!(api.state.browse_bodies.is_empty());

    let first = api.get("/slots?tz=Etc/UTC", None).await;
    assert_eq!(first.content_type, "application/json; charset=utf-8");
    assert_eq!(api.state.browse_bodies.counts(), (0, 1), "serialized once");
    let again = api.get("/slots?tz=Etc/UTC", None).await;
    assert_eq!(again.ok(200), first.ok(200));
    assert_eq!(api.state.browse_bodies.counts(), (1, 1), "sent from the kept bytes");

    let b = api.open_slot_at(&teacher, at(3, 11), 1).await;
    let after = api.get("/slots?tz=Etc/UTC", None).await;
    assert_eq!(
        ids(after.ok(200)),
        vec![a.clone(), b.clone()],
        "not the bytes from before the commit"
    );
    assert_eq!(api.state.browse_bodies.counts(), (1, 2));
    assert_eq!(api.state.browse_bodies.len(), 1, "the old page's bytes went with it");

    let signed_in = api.get("/slots?tz=Etc/UTC", Some(&student)).await;
    assert_eq!(ids(signed_in.ok(200)), vec![a, b]);
    assert_eq!(
        api.state.browse_bodies.counts(),
        (1, 2),
        "a signed-in answer is neither kept nor counted"
    );

    let metrics = api.client.get("/metrics").send().await;
    let text = metrics.0.into_body().into_string().await.expect("metrics text");
    assert!(
        text.contains("tutorbook_browse_answers_total{answer=\"kept\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("tutorbook_browse_answers_total{answer=\"serialized\"} 2\n"),
        "{text}"
    );
}

/// With the browse cache off every page is read for its request alone, and
/// no answer is kept.
#[tokio::test]
async fn with_the_browse_cache_off_no_answer_is_kept() {
    let state = common::state().await.with_browse_cache(std::time::Duration::ZERO);
    let api = common::api_on(state);
    let (teacher, _) = api.user("t1", "teacher").await;
    let a = api.open_slot_at(&teacher, at(3, 10), 1).await;
    for _ in 0..2 {
        assert_eq!(ids(api.get("/slots?tz=Etc/UTC", None).await.ok(200)), vec![a.clone()]);
    }
    assert!(api.state.browse_bodies.is_empty());
    assert_eq!(api.state.browse_bodies.counts(), (0, 2));
}
