//! The authorization matrix: for every operation on someone's resource, each
//! of student (owner), other student, teacher (owner), other teacher, staff
//! and anonymous gets exactly the answer their rights allow. Refused callers
//! go first and must change nothing, so the permitted one still succeeds.

use serde_json::{Value, json};

mod common;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Student,
    OtherStudent,
    Teacher,
    OtherTeacher,
    Staff,
    Anonymous,
}

use Who::*;

const EVERYONE: [Who; 6] = [Student, OtherStudent, Teacher, OtherTeacher, Staff, Anonymous];

struct World<E: poem::Endpoint> {
    api: common::Api<E>,
    tokens: Vec<(Who, String)>,
    student: String,
    teacher: String,
}

impl<E: poem::Endpoint> World<E> {
    fn token(&self, who: Who) -> Option<&str> {
        self.tokens.iter().find(|(w, _)| *w == who).map(|(_, t)| t.as_str())
    }

    /// Calls `method path` as each caller in `expected` order and checks the status.
    async fn check(&self, method: &str, path: &str, body: Value, expected: &[(Who, u16)]) -> Value {
        let mut last = Value::Null;
        for (who, status) in expected {
            let token = self.token(*who);
            let answer = match method {
                "GET" => self.api.get(path, token).await,
                "POST" => self.api.post(path, token, body.clone()).await,
                "PUT" => self.api.put(path, token, body.clone()).await,
                "DELETE" => self.api.delete(path, token).await,
                other => panic!("no method {other}"),
            };
            assert_eq!(
                answer.status.as_u16(),
                *status,
                "{method} {path} as {who:?}: {:?}",
                answer.body
            );
            match status {
                401 => assert_eq!(answer.code(), "unauthorized"),
                403 => assert_eq!(answer.code(), "forbidden"),
                404 => assert_eq!(answer.code(), "not_found"),
                _ => last = answer.body,
            }
        }
        last
    }
}

/// Everyone except `allowed` is refused (anonymous with 401), then `allowed`
/// gets `ok`. Staff may act on anything (docs/product.md §1), so staff is never among the
/// refused: where staff is not listed it simply does not act (the command
/// would succeed and change the state the next rows test).
fn only(allowed: &[Who], ok: u16) -> Vec<(Who, u16)> {
    let mut order: Vec<(Who, u16)> = EVERYONE
        .iter()
        .filter(|w| !allowed.contains(w) && **w != Staff)
        .map(|w| (*w, if *w == Anonymous { 401 } else { 403 }))
        .collect();
    order.extend(allowed.iter().map(|w| (*w, ok)));
    order
}

/// On a booking, a private object (docs/product.md §15): strangers (the
/// other student and teacher) are told it does not exist, the lesson's
/// student and teacher who may not act are refused, then `allowed` act.
fn private(allowed: &[Who], ok: u16) -> Vec<(Who, u16)> {
    let mut order = vec![(Anonymous, 401), (OtherStudent, 404), (OtherTeacher, 404)];
    order.extend(
        [Student, Teacher]
            .into_iter()
            .filter(|w| !allowed.contains(w))
            .map(|w| (w, 403)),
    );
    order.extend(allowed.iter().map(|w| (*w, ok)));
    order
}

/// On a booking: strangers are told it does not exist, its student is
/// refused, then staff acts for the teacher.
fn booking_by_staff() -> Vec<(Who, u16)> {
    vec![
        (Anonymous, 401),
        (Student, 403),
        (OtherStudent, 404),
        (OtherTeacher, 404),
        (Staff, 200),
    ]
}

/// On a slot (public): everyone but its teacher is refused, then staff acts
/// for the teacher.
fn slot_by_staff() -> Vec<(Who, u16)> {
    vec![
        (Anonymous, 401),
        (Student, 403),
        (OtherStudent, 403),
        (OtherTeacher, 403),
        (Staff, 200),
    ]
}

async fn world() -> World<impl poem::Endpoint> {
    let api = common::api().await;
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for (who, subject, role) in [
        (Student, "s", "student"),
        (OtherStudent, "s2", "student"),
        (Teacher, "t", "teacher"),
        (OtherTeacher, "t2", "teacher"),
        (Staff, "staff", "staff"),
    ] {
        let (token, id) = api.user(subject, role).await;
        tokens.push((who, token));
        ids.push(id);
    }
    World {
        student: ids[0].clone(),
        teacher: ids[2].clone(),
        api,
        tokens,
    }
}

#[tokio::test]
async fn reads_are_for_their_owners_and_staff() {
    let w = world().await;
    let teacher = w.token(Teacher).unwrap().to_owned();
    let slot = w.api.open_slot(&teacher, 48, 1).await;
    let booking = w
        .api
        .post(&format!("/slots/{slot}/bookings"), w.token(Student), json!({}))
        .await;
    let booking = booking.ok(201)["id"].as_str().unwrap().to_owned();
    let (s, t) = (w.student.clone(), w.teacher.clone());

    w.check(
        "GET",
        &format!("/bookings/{booking}/history"),
        Value::Null,
        &private(&[Student, Teacher, Staff], 200),
    )
    .await;
    w.check(
        "GET",
        &format!("/me/bookings?student={s}"),
        Value::Null,
        &only(&[Student, Staff], 200),
    )
    .await;
    w.check(
        "GET",
        &format!("/me/credits?student={s}"),
        Value::Null,
        &only(&[Student, Staff], 200),
    )
    .await;
    w.check(
        "GET",
        &format!("/me/slots?teacher={t}"),
        Value::Null,
        &only(&[Teacher, Staff], 200),
    )
    .await;
    w.check("GET", "/users", Value::Null, &only(&[Staff], 200)).await;
    for who in [Student, OtherStudent, Teacher, OtherTeacher] {
        w.check("GET", "/users", Value::Null, &[(who, 403)]).await;
    }
    // Progress: the student, staff, and teachers (who see only the reports they wrote).
    let progress = w
        .check(
            "GET",
            &format!("/students/{s}/progress"),
            Value::Null,
            &only(&[Student, Teacher, OtherTeacher, Staff], 200),
        )
        .await;
    assert_eq!(progress["reports"], json!([]));
    // Browse and teacher feedback are public; a stranger sees no bookings or meeting link.
    let browse = w
        .check("GET", "/slots", Value::Null, &[(Anonymous, 200), (OtherStudent, 200)])
        .await;
    assert!(
        browse["slots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.get("bookings").is_none() && s.get("meeting_url").is_none())
    );
    w.check(
        "GET",
        &format!("/teachers/{t}/feedback"),
        Value::Null,
        &[(Anonymous, 200), (Student, 200)],
    )
    .await;
}

#[tokio::test]
async fn changes_are_for_the_people_the_rules_name() {
    let w = world().await;
    let teacher = w.token(Teacher).unwrap().to_owned();
    let student = w.token(Student).unwrap().to_owned();
    let request_on = |slot: String| {
        let api = &w.api;
        let student = student.clone();
        async move {
            let answer = api
                .post(&format!("/slots/{slot}/bookings"), Some(&student), json!({}))
                .await;
            answer.ok(201)["id"].as_str().unwrap().to_owned()
        }
    };

    // Decline: the slot's teacher (staff too, but the teacher acts here).
    let requested = request_on(w.api.open_slot(&teacher, 48, 1).await).await;
    w.check(
        "POST",
        &format!("/bookings/{requested}/decline"),
        json!({}),
        &private(&[Teacher], 200),
    )
    .await;
    // Approve: staff may act for the teacher.
    let requested = request_on(w.api.open_slot(&teacher, 50, 1).await).await;
    let approved = w
        .check(
            "POST",
            &format!("/bookings/{requested}/approve"),
            json!({}),
            &booking_by_staff(),
        )
        .await;
    assert_eq!(approved["status"], "confirmed");
    // Student cancellation: the booking's student.
    w.check(
        "POST",
        &format!("/bookings/{requested}/cancel"),
        json!({}),
        &private(&[Student], 200),
    )
    .await;
    // Teacher cancellation: the slot's teacher; it issues a credit.
    let confirmed = request_on(w.api.open_slot(&teacher, 52, 2).await).await;
    let cancelled = w
        .check(
            "POST",
            &format!("/bookings/{confirmed}/teacher-cancel"),
            json!({}),
            &private(&[Teacher], 200),
        )
        .await;
    let credit = cancelled["credit"]["id"].as_str().unwrap().to_owned();
    // Redeeming the credit: its student; to everyone else it does not exist.
    let target = w.api.open_slot(&teacher, 54, 1).await;
    w.check(
        "POST",
        &format!("/credits/{credit}/redeem"),
        json!({ "slot": target }),
        &[
            (Anonymous, 401),
            (OtherStudent, 404),
            (Teacher, 404),
            (OtherTeacher, 404),
            (Student, 201),
        ],
    )
    .await;
    // Deleting and cancelling slots: their teacher, or staff.
    let empty = w.api.open_slot(&teacher, 56, 1).await;
    w.check(
        "DELETE",
        &format!("/slots/{empty}"),
        Value::Null,
        &only(&[Teacher], 204),
    )
    .await;
    let empty = w.api.open_slot(&teacher, 58, 1).await;
    w.check("POST", &format!("/slots/{empty}/cancel"), json!({}), &slot_by_staff())
        .await;
    // Opening slots: teachers for themselves (staff must name the teacher, tested elsewhere).
    let start = common::now() + time::Duration::days(4);
    let end = start + time::Duration::minutes(50);
    let fmt = &time::format_description::well_known::Rfc3339;
    let body = json!({ "start": start.format(fmt).unwrap(), "end": end.format(fmt).unwrap(), "capacity": 1 });
    w.check(
        "POST",
        "/slots",
        body,
        &[(Anonymous, 401), (Student, 403), (OtherStudent, 403), (Teacher, 201)],
    )
    .await;
    // Roles: staff only.
    let s = w.student.clone();
    let role = json!({ "role": "teacher" });
    for who in [Student, OtherStudent, Teacher, OtherTeacher] {
        w.check("PUT", &format!("/users/{s}/role"), role.clone(), &[(who, 403)])
            .await;
    }
    w.check("PUT", &format!("/users/{s}/role"), role, &only(&[Staff], 200))
        .await;
}

/// Series (docs/series.md): a teacher (or staff) opens a slot series, any
/// signed-in student books its seats, and only that student (or staff)
/// cancels their series; its teacher is refused, strangers do not see it.
#[tokio::test]
async fn series_are_for_the_people_the_rules_name() {
    use tutorbook_ports::{Clock, SystemClock};
    let w = world().await;
    let first = (SystemClock.now().date() + time::Duration::days(10)).to_string();
    let rule = json!({ "frequency": "weekly", "first": first, "time": "10:00", "count": 2, "capacity": 2 });
    let opened = w
        .check(
            "POST",
            &format!("/teachers/{}/slot-series", w.teacher),
            rule,
            &only(&[Teacher], 201),
        )
        .await;
    let seats = format!("/slot-series/{}/bookings", opened["id"].as_str().unwrap());
    let booked = w
        .check(
            "POST",
            &seats,
            json!({ "mode": "all_or_nothing" }),
            &[(Anonymous, 401), (Student, 201)],
        )
        .await;
    w.check(
        "GET",
        &format!("/series/{}", booked["id"].as_str().unwrap()),
        Value::Null,
        &private(&[Student, Teacher], 200),
    )
    .await;
    w.check(
        "POST",
        &format!("/series/{}/cancel", booked["id"].as_str().unwrap()),
        json!({}),
        &private(&[Student], 200),
    )
    .await;
}
