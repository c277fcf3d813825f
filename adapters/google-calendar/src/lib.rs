//! Google Calendar + Meet for tutorbook's [`Calendar`] port (docs/product.md §11).
//!
//! One event per slot on the primary calendar of a central Workspace
//! organizer, written by a service account with domain-wide delegation
//! (it acts as the organizer, no per-user OAuth). Events are created under a
//! slot-derived id with a Google Meet conference request keyed the same way,
//! so a create repeated after a crash finds the first event (HTTP 409) and
//! updates it instead of duplicating it or its Meet link.

use async_trait::async_trait;
use google_calendar3::CalendarHub;
use google_calendar3::api::{
    ConferenceData, ConferenceSolutionKey, CreateConferenceRequest, Event, EventAttendee, EventDateTime,
};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use time::OffsetDateTime;
use tutorbook_ports::effects::{Calendar, EffectError, EventRef, EventSpec};

/// The scope the service account is granted (domain-wide delegation).
pub const SCOPE: &str = "https://www.googleapis.com/auth/calendar.events";

/// Where the calendar lives: the organizer's primary calendar.
const CALENDAR_ID: &str = "primary";

/// The production limit on one Calendar API call, token fetch included.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How to reach Google.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleCalendarConfig {
    /// The Workspace user who owns every event (the service account acts as them).
    pub organizer: String,
    /// The Calendar API base, `https://www.googleapis.com/calendar/v3/` in
    /// production; a local fake in tests.
    pub base_url: String,
    /// Whether plain `http://` is allowed (tests only); production is HTTPS only.
    pub allow_http: bool,
    /// How long one call may take before it counts as failed (retryable):
    /// without a limit a hung connection would hold the worker's pass until
    /// its lease lapsed.
    pub timeout: std::time::Duration,
}

impl GoogleCalendarConfig {
    /// Production settings for `organizer`.
    pub fn production(organizer: impl Into<String>) -> Self {
        Self {
            organizer: organizer.into(),
            base_url: "https://www.googleapis.com/calendar/v3/".to_owned(),
            allow_http: false,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Why the adapter could not be built.
#[derive(Debug)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot set up Google Calendar: {}", self.0)
    }
}

impl std::error::Error for BuildError {}

type Connector = HttpsConnector<HttpConnector>;

/// The Google Calendar adapter.
#[derive(Clone)]
pub struct GoogleCalendar {
    hub: CalendarHub<Connector>,
    timeout: std::time::Duration,
}

impl std::fmt::Debug for GoogleCalendar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleCalendar").finish_non_exhaustive()
    }
}

impl GoogleCalendar {
    /// Reads the service account's JSON key file and builds the adapter.
    pub async fn from_key_file(path: &std::path::Path, config: GoogleCalendarConfig) -> Result<Self, BuildError> {
        let key = yup_oauth2::read_service_account_key(path)
            .await
            .map_err(|e| BuildError(format!("cannot read the service account key {}: {e}", path.display())))?;
        Self::new(key, config).await
    }

    /// Builds the adapter from a parsed service account key (its `token_uri`
    /// is where tokens are fetched: Google's in production, a fake in tests).
    pub async fn new(key: yup_oauth2::ServiceAccountKey, config: GoogleCalendarConfig) -> Result<Self, BuildError> {
        let builder = HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| BuildError(e.to_string()))?;
        let connector = if config.allow_http {
            builder.https_or_http().enable_http1().enable_http2().build()
        } else {
            builder.https_only().enable_http1().enable_http2().build()
        };
        let auth = yup_oauth2::ServiceAccountAuthenticator::with_client(
            key,
            yup_oauth2::CustomHyperClientBuilder::from(Client::builder(TokioExecutor::new()).build(connector.clone())),
        )
        .subject(config.organizer.clone())
        .build()
        .await
        .map_err(|e| BuildError(e.to_string()))?;
        let mut hub = CalendarHub::new(Client::builder(TokioExecutor::new()).build(connector), auth);
        hub.base_url(config.base_url.clone());
        hub.root_url(config.base_url);
        Ok(Self {
            hub,
            timeout: config.timeout,
        })
    }

    /// The event body for `spec`: times, attendees, and a Meet request keyed
    /// by the event id (Google ignores a repeated request with the same key).
    fn event(spec: &EventSpec) -> Event {
        let at = |instant: OffsetDateTime| EventDateTime {
            date_time: chrono::DateTime::from_timestamp(instant.unix_timestamp(), 0),
            time_zone: Some(spec.zone.name().to_owned()),
            ..EventDateTime::default()
        };
        Event {
            id: Some(spec.id.clone()),
            summary: Some(spec.summary.clone()),
            description: Some(spec.description.clone()),
            start: Some(at(spec.start)),
            end: Some(at(spec.end)),
            status: Some("confirmed".to_owned()),
            attendees: Some(
                spec.attendees
                    .iter()
                    .map(|email| EventAttendee {
                        email: Some(email.clone()),
                        ..EventAttendee::default()
                    })
                    .collect(),
            ),
            conference_data: spec.with_meet.then(|| ConferenceData {
                create_request: Some(CreateConferenceRequest {
                    request_id: Some(spec.id.clone()),
                    conference_solution_key: Some(ConferenceSolutionKey {
                        type_: Some("hangoutsMeet".to_owned()),
                    }),
                    ..CreateConferenceRequest::default()
                }),
                ..ConferenceData::default()
            }),
            ..Event::default()
        }
    }

    /// Runs one API call under the configured timeout.
    async fn timed<T>(
        &self,
        action: &str,
        call: impl Future<Output = Result<T, google_calendar3::Error>>,
    ) -> Result<Result<T, google_calendar3::Error>, EffectError> {
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| EffectError::Retryable(format!("google calendar {action} timed out after {:?}", self.timeout)))
    }

    async fn patch(&self, event_id: &str, spec: &EventSpec) -> Result<EventRef, EffectError> {
        let call = self
            .hub
            .events()
            .patch(Self::event(spec), CALENDAR_ID, event_id)
            .conference_data_version(1)
            .send_updates("all")
            .doit();
        let (_, event) = self
            .timed("update", call)
            .await?
            .map_err(|e| classify(&e).into_error("update", &e))?;
        Ok(event_ref(event, event_id))
    }
}

/// The event's id and Meet link from Google's answer.
fn event_ref(event: Event, fallback_id: &str) -> EventRef {
    let video = event
        .conference_data
        .and_then(|c| c.entry_points)
        .and_then(|points| {
            points
                .into_iter()
                .find(|p| p.entry_point_type.as_deref() == Some("video"))
        })
        .and_then(|p| p.uri);
    EventRef {
        event_id: event.id.unwrap_or_else(|| fallback_id.to_owned()),
        meet_url: event.hangout_link.or(video),
    }
}

/// What a failed call means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// 409: an event with this id exists already.
    Conflict,
    /// 404 / 410: no such event (any more).
    Gone,
    /// 429, 5xx, network, token endpoint trouble: try again later.
    Transient,
    /// Anything else (403 without delegation, 400 bad request): won't heal by itself.
    Permanent,
}

impl Failure {
    fn into_error(self, action: &str, error: &google_calendar3::Error) -> EffectError {
        let message = format!("google calendar {action} failed: {error}");
        match self {
            Self::Transient => EffectError::Retryable(message),
            _ => EffectError::Permanent(message),
        }
    }
}

fn classify(error: &google_calendar3::Error) -> Failure {
    use google_calendar3::Error;
    let status = match error {
        Error::BadRequest(body) => body
            .pointer("/error/code")
            .and_then(serde_json::Value::as_u64)
            .and_then(|c| u16::try_from(c).ok()),
        Error::Failure(response) => Some(response.status().as_u16()),
        Error::HttpError(_) | Error::MissingToken(_) | Error::Io(_) | Error::JsonDecodeError(..) => {
            return Failure::Transient;
        }
        _ => None,
    };
    match status {
        Some(409) => Failure::Conflict,
        Some(404 | 410) => Failure::Gone,
        Some(429 | 500..=599) => Failure::Transient,
        _ => Failure::Permanent,
    }
}

#[async_trait]
impl Calendar for GoogleCalendar {
    async fn create_event(&self, spec: &EventSpec) -> Result<EventRef, EffectError> {
        let call = self
            .hub
            .events()
            .insert(Self::event(spec), CALENDAR_ID)
            .conference_data_version(1)
            .send_updates("all")
            .doit();
        let created = self.timed("create", call).await?;
        match created {
            Ok((_, event)) => Ok(event_ref(event, &spec.id)),
            Err(e) if classify(&e) == Failure::Conflict => {
                tracing::info!(event = %spec.id, "calendar event exists already: updating it");
                self.patch(&spec.id, spec).await
            }
            Err(e) => Err(classify(&e).into_error("create", &e)),
        }
    }

    async fn update_event(&self, event_id: &str, spec: &EventSpec) -> Result<EventRef, EffectError> {
        self.patch(event_id, spec).await
    }

    async fn delete_event(&self, event_id: &str) -> Result<(), EffectError> {
        let call = self
            .hub
            .events()
            .delete(CALENDAR_ID, event_id)
            .send_updates("all")
            .doit();
        match self.timed("delete", call).await? {
            Ok(_) => Ok(()),
            Err(e) if classify(&e) == Failure::Gone => Ok(()),
            Err(e) => Err(classify(&e).into_error("delete", &e)),
        }
    }
}
