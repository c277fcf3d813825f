//! The same HTTP scenario on Postgres: a fresh database per test on the server
//! `scripts/test` starts (`TUTORBOOK_TEST_DATABASE_URL`). Without it the test
//! says SKIPPED loudly; with `CI=true` it fails instead.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use tutorbook_app::config::Database;

mod common;

async fn fresh_postgres() -> Option<Database> {
    let Ok(admin_url) = std::env::var("TUTORBOOK_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but TUTORBOOK_TEST_DATABASE_URL is not set: run the tests through scripts/test"
        );
        eprintln!("SKIPPED: no TUTORBOOK_TEST_DATABASE_URL; run scripts/test to include Postgres");
        return None;
    };
    let name = format!("tb_http_{}", uuid::Uuid::now_v7().simple());
    let mut admin = AsyncPgConnection::establish(&admin_url)
        .await
        .expect("connect to the test server");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a fresh database");
    let (base, _) = admin_url.rsplit_once('/').expect("URL has a database");
    Some(Database::Postgres {
        url: format!("{base}/{name}"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_consent_book_approve_cancel_and_redeem_over_http_on_postgres() {
    let Some(database) = fresh_postgres().await else {
        return;
    };
    let api = common::api_on(common::open(&database, common::auth_config()).await);
    assert_eq!(api.state.store.backend_name(), "postgres");
    api.client.get("/readyz").send().await.assert_status_is_ok();

    let teacher = api.post("/auth/dev?as=teacher", None, json!({})).await.ok(200)["token"].clone();
    let student = api.post("/auth/dev?as=student", None, json!({})).await.ok(200)["token"].clone();
    let (teacher, student) = (teacher.as_str().unwrap(), student.as_str().unwrap());
    api.get("/me", Some(student)).await.refused(403, "consent_required");
    api.consent_all(teacher).await;
    api.consent_all(student).await;

    let slot = api.open_slot(teacher, 48, 1).await;
    let browse = api.get("/slots", Some(student)).await;
    assert_eq!(browse.ok(200)["slots"][0]["id"], slot.as_str());
    let requested = api
        .post_keyed(&format!("/slots/{slot}/bookings"), Some(student), "pg-1", json!({}))
        .await;
    let booking = requested.ok(201)["id"].as_str().unwrap().to_owned();
    let replay = api
        .post_keyed(&format!("/slots/{slot}/bookings"), Some(student), "pg-1", json!({}))
        .await;
    assert_eq!(replay.ok(201)["id"], booking.as_str());
    api.post(&format!("/slots/{slot}/bookings"), Some(student), json!({}))
        .await
        .refused(409, "duplicate_booking");

    api.post(&format!("/bookings/{booking}/approve"), Some(student), json!({}))
        .await
        .refused(403, "forbidden");
    assert_eq!(
        api.post(&format!("/bookings/{booking}/approve"), Some(teacher), json!({}))
            .await
            .ok(200)["status"],
        "confirmed"
    );
    let cancelled = api
        .post(&format!("/bookings/{booking}/teacher-cancel"), Some(teacher), json!({}))
        .await;
    let credit = cancelled.ok(200)["credit"]["id"].as_str().unwrap().to_owned();
    let target = api.open_slot(teacher, 50, 1).await;
    let redeemed = api
        .post(
            &format!("/credits/{credit}/redeem"),
            Some(student),
            json!({ "slot": target }),
        )
        .await;
    assert_eq!(redeemed.ok(201)["status"], "confirmed");
    let history = api.get(&format!("/bookings/{booking}/history"), Some(student)).await;
    assert_eq!(history.ok(200).as_array().unwrap().len(), 3);
    let broken = api.state.store.slots_breaking_invariants().await.unwrap();
    assert!(broken.is_empty(), "{broken:?}");
}
