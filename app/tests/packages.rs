//! Course packages, enrollment, refunds, checkout, pricing and promotions over
//! HTTP on the real store: the happy paths, each refusal code, and who may do
//! what.

use serde_json::{Value, json};
use time::Duration;
use time::format_description::well_known::Rfc3339;

mod common;

/// Four Mon/Wed/Fri sessions at 19:00 Seoul, starting a few days from now.
fn package_body(capacity: u32) -> Value {
    let start = (common::now() + Duration::days(3)).date();
    json!({
        "title": "IELTS speaking sprint",
        "description": "Mock interviews",
        "class_type": if capacity == 1 { "one_on_one" } else { "group" },
        "capacity": capacity,
        "start_date": start.to_string(),
        "start_time": "19:00",
        "zone": "Asia/Seoul",
        "recurrence": "mwf",
        "session_count": 4,
    })
}

#[tokio::test]
async fn teachers_create_revise_close_and_delete_packages() {
    let api = common::api().await;
    let (teacher, teacher_id) = api.user("t", "teacher").await;
    let (other, _) = api.user("t2", "teacher").await;
    let (student, _) = api.user("s", "student").await;

    let created = api
        .post_keyed("/packages", Some(&teacher), "pkg-1", package_body(3))
        .await;
    let package = created.ok(201).clone();
    assert_eq!(package["teacher"], teacher_id.as_str());
    assert_eq!(package["status"], "open");
    assert_eq!(package["sessions"].as_array().unwrap().len(), 4);
    assert_eq!(package["price"], json!({ "amount": 80_000, "currency": "KRW" }));
    let id = package["id"].as_str().unwrap().to_owned();
    // A retry with the same key answers the first package.
    let retried = api
        .post_keyed("/packages", Some(&teacher), "pkg-1", package_body(3))
        .await;
    assert_eq!(retried.ok(201)["id"], id.as_str());

    // Refusals.
    api.post("/packages", Some(&student), package_body(3))
        .await
        .refused(403, "forbidden");
    let (staff, _) = api.user("staff", "staff").await;
    let (_, student_id) = api.user("s-id", "student").await;
    let mut for_student = package_body(3);
    for_student["teacher"] = json!(student_id);
    api.post("/packages", Some(&staff), for_student)
        .await
        .refused(400, "invalid_input");
    api.post("/packages", None, package_body(3))
        .await
        .refused(401, "unauthorized");
    api.post("/packages", Some(&teacher), package_body(3))
        .await
        .refused(409, "slot_overlap");
    let mut too_many = package_body(3);
    too_many["session_count"] = json!(30);
    api.post("/packages", Some(&other), too_many)
        .await
        .refused(400, "too_many_sessions");
    let mut bad_date = package_body(3);
    bad_date["start_date"] = json!("next monday");
    api.post("/packages", Some(&other), bad_date)
        .await
        .refused(400, "invalid_input");
    let mut big_group = package_body(3);
    big_group["capacity"] = json!(9);
    api.post("/packages", Some(&other), big_group)
        .await
        .refused(400, "invalid_capacity");
    let mut gap = package_body(3);
    gap["zone"] = json!("America/New_York");
    gap["start_date"] = json!("2027-03-14");
    gap["start_time"] = json!("02:30");
    gap["recurrence"] = json!("weekends");
    gap["session_count"] = json!(1);
    api.post("/packages", Some(&other), gap).await.refused(400, "dst_gap");

    // Listed for students, not for its own teacher.
    let listed = api.get("/packages", Some(&student)).await;
    assert_eq!(listed.ok(200).as_array().unwrap().len(), 1);
    assert!(
        api.get("/packages", Some(&teacher))
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(api.get("/packages", None).await.ok(200).as_array().unwrap().len(), 1);

    let mut retitled = package_body(3);
    retitled["title"] = json!("Renamed");
    api.put(&format!("/packages/{id}"), Some(&other), retitled.clone())
        .await
        .refused(403, "forbidden");
    let revised = api.put(&format!("/packages/{id}"), Some(&teacher), retitled).await;
    assert_eq!(revised.ok(200)["title"], "Renamed");

    let closed = api
        .put(
            &format!("/packages/{id}/status"),
            Some(&teacher),
            json!({ "status": "closed" }),
        )
        .await;
    assert_eq!(closed.ok(200)["status"], "closed");
    api.get(&format!("/packages/{id}"), Some(&student))
        .await
        .refused(404, "not_found");
    api.get(&format!("/packages/{id}"), Some(&teacher)).await.ok(200);
    let mine = api
        .get(&format!("/teachers/{teacher_id}/packages"), Some(&teacher))
        .await;
    assert_eq!(mine.ok(200).as_array().unwrap().len(), 1);
    api.get(&format!("/teachers/{teacher_id}/packages"), Some(&other))
        .await
        .refused(403, "forbidden");

    // Closed, it does not exist for another teacher.
    api.delete(&format!("/packages/{id}"), Some(&other))
        .await
        .refused(404, "not_found");
    assert_eq!(
        api.delete(&format!("/packages/{id}"), Some(&teacher))
            .await
            .status
            .as_u16(),
        204
    );
    api.get(&format!("/packages/{id}"), Some(&teacher))
        .await
        .refused(404, "not_found");
}

#[tokio::test]
async fn students_enroll_get_a_quote_and_a_refund_once() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let (student, student_id) = api.user("s", "student").await;
    let (other, _) = api.user("s2", "student").await;
    let id = api.post("/packages", Some(&teacher), package_body(1)).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let enrolled = api
        .post(&format!("/packages/{id}/enrollments"), Some(&student), json!({}))
        .await;
    let enrollment = enrolled.ok(201).clone();
    assert_eq!(enrollment["student"], student_id.as_str());
    assert_eq!(enrollment["status"], "active");
    assert_eq!(enrollment["payment"]["status"], "paid");
    assert_eq!(enrollment["payment"]["provider"], "toss");
    assert_eq!(
        enrollment["payment"]["amount"],
        json!({ "amount": 160_000, "currency": "KRW" })
    );
    let enrollment_id = enrollment["id"].as_str().unwrap().to_owned();

    api.post(&format!("/packages/{id}/enrollments"), Some(&student), json!({}))
        .await
        .refused(409, "already_enrolled");
    api.post(&format!("/packages/{id}/enrollments"), Some(&other), json!({}))
        .await
        .refused(409, "slot_full");
    api.post(&format!("/packages/{id}/enrollments"), Some(&teacher), json!({}))
        .await
        .refused(409, "own_package");
    api.put(&format!("/packages/{id}"), Some(&teacher), package_body(1))
        .await
        .refused(409, "package_has_students");
    api.delete(&format!("/packages/{id}"), Some(&teacher))
        .await
        .refused(409, "package_has_students");

    let seen = api.get(&format!("/packages/{id}/enrollments"), Some(&teacher)).await;
    let seen = seen.ok(200).as_array().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(
        enrollment["payment"]["checkout_url"].is_string(),
        "the student sees their checkout link"
    );
    assert!(seen[0]["payment"]["checkout_url"].is_null(), "the teacher does not");
    api.get(&format!("/packages/{id}/enrollments"), Some(&student))
        .await
        .refused(403, "forbidden");
    assert_eq!(
        api.get("/me/enrollments", Some(&student))
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    api.get(&format!("/enrollments/{enrollment_id}"), Some(&other))
        .await
        .refused(404, "not_found");
    api.get(&format!("/enrollments/{enrollment_id}"), Some(&teacher))
        .await
        .ok(200);

    let quote = api
        .get(&format!("/enrollments/{enrollment_id}/refund-quote"), Some(&student))
        .await;
    let quote = quote.ok(200).clone();
    assert_eq!(quote["amount"], json!({ "amount": 160_000, "currency": "KRW" }));
    assert_eq!(quote["basis"], "ecommerce");
    assert_eq!(
        (quote["consumed"].clone(), quote["total"].clone()),
        (json!(0), json!(4))
    );
    api.get(&format!("/enrollments/{enrollment_id}/refund-quote"), Some(&other))
        .await
        .refused(404, "not_found");

    api.post(&format!("/enrollments/{enrollment_id}/refund"), Some(&other), json!({}))
        .await
        .refused(404, "not_found");
    let refund = api
        .post(
            &format!("/enrollments/{enrollment_id}/refund"),
            Some(&student),
            json!({}),
        )
        .await;
    let refund = refund.ok(201).clone();
    assert_eq!(refund["amount"], json!({ "amount": 160_000, "currency": "KRW" }));
    assert_eq!(refund["key"], format!("enrollment:{enrollment_id}:refund:v1"));
    let again = api
        .post(
            &format!("/enrollments/{enrollment_id}/refund"),
            Some(&student),
            json!({}),
        )
        .await;
    assert_eq!(again.ok(201)["id"], refund["id"], "the refund runs once");
    // A closed course stays visible to its students only.
    api.put(
        &format!("/packages/{id}/status"),
        Some(&teacher),
        json!({ "status": "closed" }),
    )
    .await
    .ok(200);
    api.get(&format!("/packages/{id}"), Some(&student)).await.ok(200);
    api.get(&format!("/packages/{id}"), Some(&other))
        .await
        .refused(404, "not_found");
    api.put(
        &format!("/packages/{id}/status"),
        Some(&teacher),
        json!({ "status": "open" }),
    )
    .await
    .ok(200);
    let after = api.get(&format!("/enrollments/{enrollment_id}"), Some(&student)).await;
    assert_eq!(after.ok(200)["status"], "refunded");
    // The seats are free again.
    api.post(&format!("/packages/{id}/enrollments"), Some(&other), json!({}))
        .await
        .ok(201);
}

#[tokio::test]
async fn single_lessons_are_checked_out_and_stub_completed() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let (student, _) = api.user("s", "student").await;
    let (other, _) = api.user("s2", "student").await;
    let slot = api.open_slot(&teacher, 48, 2).await;
    let booking = api
        .post(&format!("/slots/{slot}/bookings"), Some(&student), json!({}))
        .await;
    let booking = booking.ok(201)["id"].as_str().unwrap().to_owned();

    let checkout = api
        .post(&format!("/bookings/{booking}/checkout"), Some(&student), json!({}))
        .await;
    let payment = checkout.ok(200).clone();
    assert_eq!(payment["amount"], json!({ "amount": 20_000, "currency": "KRW" }));
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["stub"], true);
    assert!(
        payment["checkout_url"]
            .as_str()
            .unwrap()
            .starts_with("stub://checkout/")
    );
    let payment_id = payment["id"].as_str().unwrap().to_owned();
    let retried = api
        .post(&format!("/bookings/{booking}/checkout"), Some(&student), json!({}))
        .await;
    assert_eq!(retried.ok(200)["id"], payment_id.as_str());
    api.post(&format!("/bookings/{booking}/checkout"), Some(&other), json!({}))
        .await
        .refused(404, "not_found");

    api.post(
        &format!("/payments/{payment_id}/stub-complete"),
        Some(&other),
        json!({}),
    )
    .await
    .refused(404, "not_found");
    let paid = api
        .post(
            &format!("/payments/{payment_id}/stub-complete"),
            Some(&student),
            json!({}),
        )
        .await;
    assert_eq!(paid.ok(200)["status"], "paid");
    api.post(
        &format!("/payments/{payment_id}/stub-complete"),
        Some(&student),
        json!({}),
    )
    .await
    .ok(200);
    api.post(&format!("/bookings/{booking}/checkout"), Some(&student), json!({}))
        .await
        .refused(409, "already_paid");
}

#[tokio::test]
async fn staff_keep_pricing_and_promotions() {
    let api = common::api().await;
    let (staff, _) = api.user("staff", "staff").await;
    let (teacher, _) = api.user("t", "teacher").await;
    let (student, _) = api.user("s", "student").await;

    let pricing = api.get("/pricing", None).await;
    assert_eq!(
        pricing.ok(200)["rates"],
        json!([{ "currency": "KRW", "one_on_one": 40_000, "group": 20_000 }])
    );
    let new_rates = json!({ "rates": [{ "currency": "KRW", "one_on_one": 50_000, "group": 25_000 }] });
    api.put("/pricing", Some(&teacher), new_rates.clone())
        .await
        .refused(403, "forbidden");
    api.put(
        "/pricing",
        Some(&staff),
        json!({ "rates": [{ "currency": "KRW", "one_on_one": 0, "group": 1 }] }),
    )
    .await
    .refused(400, "invalid_input");
    api.put("/pricing", Some(&staff), new_rates).await.ok(200);

    let now = common::now();
    let promo = json!({
        "kind": "fixed", "amount": 15_000, "currency": "KRW", "scope": "package",
        "starts_at": (now - Duration::days(1)).format(&Rfc3339).unwrap(),
        "ends_at": (now + Duration::days(30)).format(&Rfc3339).unwrap(),
    });
    api.post("/promotions", Some(&student), promo.clone())
        .await
        .refused(403, "forbidden");
    let mut bad = promo.clone();
    bad["kind"] = json!("percent");
    api.post("/promotions", Some(&staff), bad)
        .await
        .refused(400, "invalid_input");
    let created = api.post("/promotions", Some(&staff), promo).await;
    let promo_id = created.ok(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(
        api.get("/promotions", Some(&staff))
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    api.get("/promotions", Some(&teacher)).await.refused(403, "forbidden");

    let id = api.post("/packages", Some(&teacher), package_body(2)).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let enrolled = api
        .post(&format!("/packages/{id}/enrollments"), Some(&student), json!({}))
        .await;
    let payment = enrolled.ok(201)["payment"].clone();
    assert_eq!(payment["base_amount"]["amount"], 100_000);
    assert_eq!(payment["amount"]["amount"], 85_000);
    assert_eq!(payment["promotion"], promo_id.as_str());

    assert_eq!(
        api.delete(&format!("/promotions/{promo_id}"), Some(&staff))
            .await
            .status
            .as_u16(),
        204
    );
    api.delete(&format!("/promotions/{promo_id}"), Some(&staff))
        .await
        .refused(404, "not_found");
}

#[tokio::test]
async fn a_package_may_carry_its_own_policy() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let (student, _) = api.user("s", "student").await;
    let mut body = package_body(2);
    body["policy"] = json!({
        "requires_approval_one_on_one": true, "requires_approval_group": false,
        "min_notice_minutes": 30 * 24 * 60, "max_advance_minutes": 60 * 24 * 60,
        "cancel_window_tier": "strict", "buffer_before_minutes": 0, "buffer_after_minutes": 15
    });
    let created = api.post("/packages", Some(&teacher), body.clone()).await;
    let package = created.ok(201).clone();
    assert_eq!(package["policy"]["min_notice_minutes"], 30 * 24 * 60);
    assert_eq!(package["policy"]["cancel_window_tier"], "strict");
    let id = package["id"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/packages/{id}"), None).await.ok(200)["policy"],
        package["policy"]
    );
    // Thirty days' notice: the first session is days away.
    api.post(&format!("/packages/{id}/enrollments"), Some(&student), json!({}))
        .await
        .refused(409, "min_notice");
    // A bad policy is refused like the teacher's.
    body["policy"]["buffer_after_minutes"] = json!(300);
    api.post("/packages", Some(&teacher), body)
        .await
        .refused(400, "invalid_input");
    // Without one, the answer carries none.
    let (other_teacher, _) = api.user("t2", "teacher").await;
    let plain = api.post("/packages", Some(&other_teacher), package_body(2)).await;
    assert!(plain.ok(201).get("policy").is_none());
}

#[tokio::test]
async fn a_hidden_package_does_not_exist_for_strangers() {
    let api = common::api().await;
    let (teacher, _) = api.user("t", "teacher").await;
    let (other, _) = api.user("t2", "teacher").await;
    let package = api.post("/packages", Some(&teacher), package_body(2)).await;
    let id = package.ok(201)["id"].as_str().unwrap().to_owned();
    // Open: anyone sees it, only its teacher manages it.
    api.get(&format!("/packages/{id}/enrollments"), Some(&other))
        .await
        .refused(403, "forbidden");
    api.put(
        &format!("/packages/{id}/status"),
        Some(&teacher),
        json!({ "status": "draft" }),
    )
    .await
    .ok(200);
    // Drafted: to another teacher it does not exist, whatever they ask.
    api.get(&format!("/packages/{id}"), Some(&other))
        .await
        .refused(404, "not_found");
    api.get(&format!("/packages/{id}/enrollments"), Some(&other))
        .await
        .refused(404, "not_found");
    api.put(
        &format!("/packages/{id}/status"),
        Some(&other),
        json!({ "status": "open" }),
    )
    .await
    .refused(404, "not_found");
    api.put(&format!("/packages/{id}"), Some(&other), package_body(2))
        .await
        .refused(404, "not_found");
    api.delete(&format!("/packages/{id}"), Some(&other))
        .await
        .refused(404, "not_found");
}
