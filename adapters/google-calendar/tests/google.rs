//! The Google Calendar adapter against a local fake Google (token endpoint
//! and Calendar API) over real HTTP, with a real RSA key signing the
//! service account's token request.

use std::sync::Arc;

use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{Actor, BookingStatus, CalendarStatus, Locale, Meeting, PlatformSettings, Role, UserId, Zone};
use tutorbook_google_calendar::{GoogleCalendar, GoogleCalendarConfig};
use tutorbook_memory::{ManualClock, MemoryDirectory, MemoryStore};
use tutorbook_ports::effects::{Calendar, CalendarSync, EffectError, EventSpec, OutboxWorker, RetryPolicy};
use tutorbook_ports::{BookingStore, Bookings, Contact, OpenSlot, UuidV7, WaitlistChoice};
use uuid::Uuid;
use wiremock::matchers::{body_partial_json, header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A 2048-bit RSA key generated for these tests only (it signs nothing real).
const TEST_ONLY_KEY: &str = include_str!("fixtures/test-only-key.pem");
const EVENTS: &str = "/calendar/v3/calendars/primary/events";
const MEET: &str = "https://meet.google.com/abc-defg-hij";

/// A fake Google answering token requests; the Calendar API mocks are per test.
async fn fake_google() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.test-token", "expires_in": 3600, "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    server
}

async fn adapter(server: &MockServer) -> GoogleCalendar {
    let key = json!({
        "type": "service_account",
        "private_key": TEST_ONLY_KEY,
        "client_email": "tutorbook@school-project.iam.gserviceaccount.com",
        "token_uri": format!("{}/token", server.uri()),
    });
    let key = yup_oauth2::parse_service_account_key(key.to_string()).unwrap();
    GoogleCalendar::new(
        key,
        GoogleCalendarConfig {
            organizer: "calendar@school.example".into(),
            base_url: format!("{}/calendar/v3/", server.uri()),
            allow_http: true,
            timeout: std::time::Duration::from_millis(500),
        },
    )
    .await
    .unwrap()
}

/// Google's answer for an event with a Meet conference.
fn event_answer(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": id,
        "status": "confirmed",
        "hangoutLink": MEET,
        "conferenceData": {"entryPoints": [{"entryPointType": "video", "uri": MEET}]}
    }))
}

fn spec() -> EventSpec {
    EventSpec {
        id: "0192c0ffee0000000000000000000001".into(),
        summary: "Lesson with Ms. Kim".into(),
        description: "Booked on tutorbook.".into(),
        start: datetime!(2030-03-10 14:00 UTC),
        end: datetime!(2030-03-10 14:50 UTC),
        zone: Zone::parse("America/New_York").unwrap(),
        attendees: vec!["kim@school.example".into(), "joon@example.com".into()],
        with_meet: true,
    }
}

#[tokio::test]
async fn creates_an_event_with_a_meet_request_as_the_organizer() {
    let google = fake_google().await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .and(query_param("conferenceDataVersion", "1"))
        .and(query_param("sendUpdates", "all"))
        .and(header("authorization", "Bearer ya29.test-token"))
        .and(body_partial_json(json!({
            "id": "0192c0ffee0000000000000000000001",
            "summary": "Lesson with Ms. Kim",
            "start": {"dateTime": "2030-03-10T14:00:00Z", "timeZone": "America/New_York"},
            "end": {"dateTime": "2030-03-10T14:50:00Z", "timeZone": "America/New_York"},
            "attendees": [{"email": "kim@school.example"}, {"email": "joon@example.com"}],
            "conferenceData": {"createRequest": {
                "requestId": "0192c0ffee0000000000000000000001",
                "conferenceSolutionKey": {"type": "hangoutsMeet"}
            }}
        })))
        .respond_with(event_answer("0192c0ffee0000000000000000000001"))
        .expect(1)
        .mount(&google)
        .await;

    let created = adapter(&google).await.create_event(&spec()).await.unwrap();
    assert_eq!(created.event_id, "0192c0ffee0000000000000000000001");
    assert_eq!(created.meet_url.as_deref(), Some(MEET));

    // The token was requested with a signed JWT assertion for the organizer.
    let token_requests: Vec<Request> = google
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/token")
        .collect();
    assert_eq!(token_requests.len(), 1);
    let form = String::from_utf8(token_requests[0].body.clone()).unwrap();
    assert!(
        form.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"),
        "{form}"
    );
    assert!(form.contains("assertion="), "{form}");
}

/// A create repeated after a crash: Google says 409, the adapter updates the
/// existing event (same id, same Meet request) instead of duplicating it.
#[tokio::test]
async fn a_repeated_create_updates_the_existing_event() {
    let google = fake_google().await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "error": {"code": 409, "message": "The requested identifier already exists."}
        })))
        .mount(&google)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{EVENTS}/0192c0ffee0000000000000000000001")))
        .and(body_partial_json(json!({"status": "confirmed"})))
        .respond_with(event_answer("0192c0ffee0000000000000000000001"))
        .expect(1)
        .mount(&google)
        .await;
    let event = adapter(&google).await.create_event(&spec()).await.unwrap();
    assert_eq!(event.meet_url.as_deref(), Some(MEET));
}

#[tokio::test]
async fn deleting_a_gone_event_succeeds_and_errors_are_classified() {
    let google = fake_google().await;
    Mock::given(method("DELETE"))
        .and(path(format!("{EVENTS}/gone1")))
        .respond_with(ResponseTemplate::new(410).set_body_json(json!({"error": {"code": 410, "message": "deleted"}})))
        .mount(&google)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{EVENTS}/here1")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&google)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{EVENTS}/busy1")))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"error": {"code": 503, "message": "backend"}})))
        .mount(&google)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{EVENTS}/denied1")))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({"error": {"code": 403, "message": "no delegation"}})),
        )
        .mount(&google)
        .await;
    let calendar = adapter(&google).await;
    calendar.delete_event("gone1").await.unwrap();
    calendar.delete_event("here1").await.unwrap();
    assert!(
        calendar
            .update_event("busy1", &spec())
            .await
            .unwrap_err()
            .is_retryable()
    );
    let denied = calendar.update_event("denied1", &spec()).await.unwrap_err();
    assert!(matches!(denied, EffectError::Permanent(_)), "{denied}");
}

#[tokio::test]
async fn a_call_that_hangs_times_out_and_is_retryable() {
    let google = fake_google().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204).set_delay(std::time::Duration::from_secs(5)))
        .mount(&google)
        .await;
    let started = std::time::Instant::now();
    let error = adapter(&google).await.delete_event("slow1").await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_retryable() {
    let google = fake_google().await;
    let key = json!({
        "type": "service_account",
        "private_key": TEST_ONLY_KEY,
        "client_email": "tutorbook@school-project.iam.gserviceaccount.com",
        "token_uri": "http://127.0.0.1:1/token",
    });
    let key = yup_oauth2::parse_service_account_key(key.to_string()).unwrap();
    let calendar = GoogleCalendar::new(
        key,
        GoogleCalendarConfig {
            organizer: "calendar@school.example".into(),
            base_url: format!("{}/calendar/v3/", google.uri()),
            allow_http: true,
            timeout: std::time::Duration::from_millis(500),
        },
    )
    .await
    .unwrap();
    assert!(calendar.create_event(&spec()).await.unwrap_err().is_retryable());
}

const TEACHER: UserId = UserId::from_uuid(Uuid::from_u128(0x7e));
const STUDENT: UserId = UserId::from_uuid(Uuid::from_u128(0x51));

fn directory() -> MemoryDirectory {
    let directory = MemoryDirectory::new();
    for (user, role, name) in [(TEACHER, Role::Teacher, "kim"), (STUDENT, Role::Student, "joon")] {
        directory.insert(Contact {
            user,
            role,
            display_name: name.into(),
            email: Some(format!("{name}@example.com")),
            locale: Locale::En,
            zone: Zone::parse("Asia/Seoul").unwrap(),
        });
    }
    directory
}

/// docs/product.md §11 promise end to end: Google answers 500 while a booking is
/// confirmed; the booking stands, the slot shows `failed`, and the worker's
/// next pass creates the event and stores its id and Meet link.
#[tokio::test]
async fn a_booking_confirmed_during_a_google_outage_stands_and_a_later_pass_syncs_it() {
    let google = fake_google().await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {"code": 500, "message": "backend"}})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&google)
        .await;
    Mock::given(method("POST"))
        .and(path(EVENTS))
        .and(body_partial_json(
            json!({"attendees": [{"email": "kim@example.com"}, {"email": "joon@example.com"}]}),
        ))
        .respond_with(event_answer("from-google"))
        .mount(&google)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(format!("^{EVENTS}/from-google$")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&google)
        .await;

    let now: OffsetDateTime = datetime!(2030-01-06 08:00 UTC);
    let store = MemoryStore::new();
    let clock = ManualClock::at(now);
    let bookings = Bookings::new(store.clone(), clock.clone(), UuidV7, PlatformSettings::default());
    let sync = CalendarSync::new(store.clone(), directory(), adapter(&google).await);
    let worker = OutboxWorker::new(
        store.clone(),
        clock,
        RetryPolicy {
            base_delay: Duration::ZERO,
            ..RetryPolicy::default()
        },
    )
    .with_handler(Arc::new(sync));
    let start = now + Duration::days(3);
    let slot = bookings
        .open_slot(
            &Actor::teacher(TEACHER),
            OpenSlot {
                teacher: TEACHER,
                start,
                end: start + Duration::minutes(50),
                zone: Zone::parse("Asia/Seoul").unwrap(),
                capacity: 2,
                meeting: Meeting::default(),
                waitlist: WaitlistChoice::TeacherDefault,
            },
        )
        .await
        .unwrap();

    let booking = bookings.request(&Actor::student(STUDENT), slot.id()).await.unwrap();
    assert_eq!(booking.status(), BookingStatus::Confirmed);
    let first = worker.run_once().await.unwrap();
    assert_eq!(
        (first.claimed, first.retried),
        (2, 1),
        "slot_opened delivered, the sync retried"
    );
    let failed = bookings.store().slot(slot.id()).await.unwrap().unwrap();
    assert_eq!(failed.meeting().calendar_status(), CalendarStatus::Failed);
    assert_eq!(failed.booking(booking.id()).unwrap().status(), BookingStatus::Confirmed);

    let second = worker.run_once().await.unwrap();
    assert_eq!((second.claimed, second.delivered), (1, 1));
    let synced = bookings.store().slot(slot.id()).await.unwrap().unwrap();
    assert_eq!(synced.meeting().calendar_status(), CalendarStatus::Synced);
    assert_eq!(synced.meeting().calendar_event_id(), Some("from-google"));
    assert_eq!(synced.meeting().url(), Some(MEET));

    // The only student cancels: the event is deleted, id and link cleared.
    bookings.cancel(&Actor::student(STUDENT), booking.id()).await.unwrap();
    worker.drain().await.unwrap();
    let cleared = bookings.store().slot(slot.id()).await.unwrap().unwrap();
    assert_eq!(cleared.meeting().calendar_event_id(), None);
    assert_eq!(cleared.meeting().url(), None);
    assert_eq!(cleared.meeting().calendar_status(), CalendarStatus::Synced);
}
