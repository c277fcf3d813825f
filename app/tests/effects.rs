//! The service's background loops end to end: a booking made through the
//! use cases is emailed through Resend (a local fake) by the outbox loop,
//! and the loops stop gracefully.

mod common;

use std::time::Duration as StdDuration;

use time::Duration;
use tutorbook_app::effects::{Effects, EffectsConfig, ResendSettings, housekeep};
use tutorbook_domain::{Actor, Locale, Meeting, Role, SlotId, UserId, Zone};
use tutorbook_memory::{ManualClock, MemoryDirectory};
use tutorbook_ports::{Clock, Contact, OpenSlot, Outbox, WaitlistChoice};
use uuid::Uuid;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A fake Resend that accepts every email, a teacher and a student with
/// addresses, and the loops' settings that send through the fake.
async fn setup(outbox_interval: StdDuration) -> (MockServer, MemoryDirectory, UserId, UserId, EffectsConfig) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let resend = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/emails"))
        .and(header("authorization", "Bearer re_test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "1"})))
        .mount(&resend)
        .await;
    let (teacher, student) = (UserId::from_uuid(Uuid::now_v7()), UserId::from_uuid(Uuid::now_v7()));
    let directory = MemoryDirectory::new();
    for (user, role, name, locale) in [
        (teacher, Role::Teacher, "kim", Locale::Ko),
        (student, Role::Student, "joon", Locale::En),
    ] {
        directory.insert(Contact {
            user,
            role,
            display_name: name.into(),
            email: Some(format!("{name}@example.com")),
            locale,
            zone: Zone::parse("Asia/Seoul").unwrap(),
        });
    }
    let config = EffectsConfig {
        resend: Some(ResendSettings {
            api_key: "re_test".into(),
            from: "Tutorbook <lessons@school.example>".into(),
            base_url: resend.uri(),
        }),
        outbox_interval,
        reminder_interval: StdDuration::from_millis(50),
        ..EffectsConfig::default()
    };
    (resend, directory, teacher, student, config)
}

/// Opens a one-seat slot of `teacher`'s three days from now.
async fn open_slot(state: &tutorbook_app::AppState, teacher: UserId) -> SlotId {
    open_slot_at(state, teacher, Duration::days(3)).await
}

/// Opens a one-seat slot of `teacher`'s `ahead` from now.
async fn open_slot_at(state: &tutorbook_app::AppState, teacher: UserId, ahead: Duration) -> SlotId {
    let start = common::now().replace_nanosecond(0).unwrap() + ahead;
    state
        .bookings
        .open_slot(
            &Actor::teacher(teacher),
            OpenSlot {
                teacher,
                start,
                end: start + Duration::minutes(50),
                zone: Zone::parse("Asia/Seoul").unwrap(),
                capacity: 1,
                meeting: Meeting::default(),
                waitlist: WaitlistChoice::TeacherDefault,
            },
        )
        .await
        .unwrap()
        .id()
}

/// Starts the loops on the state's store, as the service does on SQLite.
async fn start(config: &EffectsConfig, state: &tutorbook_app::AppState, directory: MemoryDirectory) -> Effects {
    Effects::start(
        config,
        state.store.clone(),
        state.store.clone(),
        directory,
        state.clock.clone(),
    )
    .await
    .unwrap()
}

/// Waits until the outbox holds nothing undelivered, at most 5 s.
async fn drained(state: &tutorbook_app::AppState) -> bool {
    for _ in 0..100 {
        if state.store.pending(10).await.unwrap().is_empty() {
            return true;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_emailed_to_the_teacher_by_the_outbox_loop() {
    let state = common::state().await;
    let (resend, directory, teacher, student, config) = setup(StdDuration::from_millis(50)).await;
    let effects = start(&config, &state, directory).await;

    let slot = open_slot(&state, teacher).await;
    state.bookings.request(&Actor::student(student), slot).await.unwrap();

    assert!(drained(&state).await, "the outbox drained");
    let requests = resend.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "one email: the request to the teacher");
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["to"], serde_json::json!(["kim@example.com"]));
    assert_eq!(body["subject"], "joon님의 새 수업 신청");

    let stopping = std::time::Instant::now();
    effects.stop(StdDuration::from_secs(5)).await;
    assert!(
        stopping.elapsed() < StdDuration::from_secs(2),
        "the loops stop promptly"
    );
}

/// The outbox loop's idle pause is an hour here, and it has already found
/// the outbox empty: the request's email still goes out at once, because
/// the loop wakes when a command commits through the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_wakes_the_idle_outbox_loop() {
    let state = common::state().await;
    let (resend, directory, teacher, student, config) = setup(StdDuration::from_secs(3600)).await;
    let slot = open_slot(&state, teacher).await;
    let effects = start(&config, &state, directory).await;
    // The first passes deliver the slot's message, the next finds nothing
    // and the loops pause.
    assert!(drained(&state).await, "the first pass delivered what was waiting");
    tokio::time::sleep(StdDuration::from_millis(200)).await;

    state.bookings.request(&Actor::student(student), slot).await.unwrap();
    assert!(
        drained(&state).await,
        "the request's message went out within 5 s, not after the hour"
    );
    let requests = resend.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "one email: the request to the teacher");
    effects.stop(StdDuration::from_secs(5)).await;
}

/// The hourly housekeeping purges outbox messages delivered longer ago than
/// the retention, and keeps the pending and the given-up ones however old.
#[tokio::test]
async fn housekeeping_purges_messages_delivered_longer_ago_than_the_retention() {
    let clock = ManualClock::at(common::now());
    let state = common::state_at(clock.clone()).await;
    let teacher = UserId::from_uuid(Uuid::now_v7());
    for day in 1..=4 {
        open_slot_at(&state, teacher, Duration::days(day)).await;
    }
    let ids: Vec<Uuid> = state.store.pending(10).await.unwrap().iter().map(|m| m.id).collect();
    state.store.mark_delivered(&ids[..2], clock.now()).await.unwrap();
    state.store.mark_failed(ids[2], "refused").await.unwrap();
    let config = EffectsConfig {
        outbox_retention: Duration::days(30),
        ..EffectsConfig::default()
    };

    let done = housekeep(&state.store, &clock, &config).await;
    assert_eq!(done.messages, 0, "delivered just now");
    clock.advance(Duration::days(31));
    let done = housekeep(&state.store, &clock, &config).await;
    assert_eq!(done.messages, 2, "delivered 31 days ago");
    assert_eq!(housekeep(&state.store, &clock, &config).await.messages, 0);
    let pending: Vec<Uuid> = state.store.pending(10).await.unwrap().iter().map(|m| m.id).collect();
    assert_eq!(pending, vec![ids[3]]);
    assert_eq!(state.store.failed(10).await.unwrap().len(), 1);
}
