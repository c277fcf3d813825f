//! A fresh service per test: the real SQL store on a new SQLite file (or a
//! fresh Postgres database), the real auth with a test secret, host tokens for
//! minting users of any role, and small request helpers.
#![allow(dead_code)]

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use poem::Endpoint;
use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::{Value, json};
use tutorbook_app::auth::Auth;
use tutorbook_app::config::{AuthConfig, Database, HostConfig, HostKey, SQLITE_FILE, Secret};
use tutorbook_app::{AppState, build_app};
use tutorbook_memory::ManualClock;
use tutorbook_ports::{Clock, SystemClock};

/// The service's token secret in tests.
pub const JWT_SECRET: &str = "test-service-secret-test-service-secret";
/// The host service's secret in tests.
pub const HOST_SECRET: &str = "test-host-secret-test-host-secret-0123";

/// Auth as most tests want it: dev login on, host tokens trusted, no Google.
pub fn auth_config() -> AuthConfig {
    AuthConfig {
        jwt_secret: Secret::new(JWT_SECRET),
        dev_login: true,
        host: Some(HostConfig {
            key: HostKey::Secret(Secret::new(HOST_SECRET)),
            issuer: None,
        }),
        ..AuthConfig::default()
    }
}

/// A state on a new SQLite database in its own temp directory.
pub async fn state() -> AppState {
    state_with(auth_config()).await
}

/// A state with `auth` on a new SQLite database.
pub async fn state_with(auth: AuthConfig) -> AppState {
    let dir = std::env::temp_dir().join(format!("tutorbook-app-test-{}", uuid::Uuid::now_v7().simple()));
    open(
        &Database::Sqlite {
            path: dir.join(SQLITE_FILE),
        },
        auth,
    )
    .await
}

/// A state with `auth` on `database`, on a manual clock standing at the
/// real time when the test started (tests move it, never sleep).
pub async fn open(database: &Database, auth: AuthConfig) -> AppState {
    open_at(database, auth, ManualClock::at(SystemClock.now())).await
}

/// A state with `auth` on `database` and `clock`.
pub async fn open_at(database: &Database, auth: AuthConfig, clock: ManualClock) -> AppState {
    AppState::open(
        database,
        4,
        Auth::new(&auth).expect("auth builds"),
        std::sync::Arc::new(clock),
    )
    .await
    .expect("the test database opens")
}

/// A token the test host service mints for `subject` with `role`.
pub fn host_token(subject: &str, role: &str) -> String {
    let exp = SystemClock.now().unix_timestamp() + 3600;
    encode(
        &Header::new(Algorithm::HS256),
        &json!({ "sub": subject, "role": role, "name": subject, "exp": exp }),
        &EncodingKey::from_secret(HOST_SECRET.as_bytes()),
    )
    .expect("sign a host token")
}

/// The service under test with JSON helpers.
pub struct Api<E: Endpoint> {
    pub client: TestClient<E>,
    pub state: AppState,
}

/// The real time, read through the clock adapter, for fixtures relative
/// to when the test runs.
pub fn now() -> time::OffsetDateTime {
    SystemClock.now()
}

/// A test API over a fresh SQLite state.
pub async fn api() -> Api<impl Endpoint> {
    api_on(state().await)
}

/// A test API over a fresh SQLite state whose time is `clock`: a test moves
/// it instead of sleeping.
pub async fn api_at(clock: ManualClock) -> Api<impl Endpoint> {
    api_on(state_at(clock).await)
}

/// A state on a new SQLite database whose time is `clock`.
pub async fn state_at(clock: ManualClock) -> AppState {
    let dir = std::env::temp_dir().join(format!("tutorbook-app-test-{}", uuid::Uuid::now_v7().simple()));
    let database = Database::Sqlite {
        path: dir.join(SQLITE_FILE),
    };
    open_at(&database, auth_config(), clock).await
}

/// A test API over `state`.
pub fn api_on(state: AppState) -> Api<impl Endpoint> {
    Api {
        client: TestClient::new(build_app(state.clone())),
        state,
    }
}

/// An answer: status, content type and JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub headers: poem::http::HeaderMap,
}

impl Answer {
    /// The problem code of a refusal, checking the problem shape on the way.
    pub fn code(&self) -> &str {
        assert_eq!(self.content_type, "application/problem+json", "not a problem: {self:?}");
        assert_eq!(self.body["status"], self.status.as_u16(), "{self:?}");
        let code = self.body["code"].as_str().expect("code");
        assert_eq!(self.body["type"], format!("urn:tutorbook:problem:{code}"));
        assert!(
            self.body["title"].is_string() && self.body["detail"].is_string(),
            "{self:?}"
        );
        code
    }

    /// Asserts a refusal with `status` and `code`.
    #[track_caller]
    pub fn refused(&self, status: u16, code: &str) {
        assert_eq!((self.status.as_u16(), self.code()), (status, code), "{:?}", self.body);
    }

    /// Asserts `status` and returns the body.
    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        &self.body
    }

    /// A string field of the body.
    pub fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {:?}", self.body))
            .to_owned()
    }
}

impl<E: Endpoint> Api<E> {
    async fn send(&self, req: poem::test::TestRequestBuilder<'_, E>) -> Answer {
        let resp = req.send().await.0;
        let status = resp.status();
        let headers = resp.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = resp.into_body().into_string().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            content_type,
            body,
            headers,
        }
    }

    fn authorized<'a>(
        req: poem::test::TestRequestBuilder<'a, E>,
        token: Option<&str>,
    ) -> poem::test::TestRequestBuilder<'a, E> {
        match token {
            Some(token) => req.header("Authorization", format!("Bearer {token}")),
            None => req,
        }
    }

    /// GET `path` (under `/api/v1`).
    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(Self::authorized(self.client.get(format!("/api/v1{path}")), token))
            .await
    }

    /// POST `body` to `path` (under `/api/v1`).
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(Self::authorized(self.client.post(format!("/api/v1{path}")), token).body_json(&body))
            .await
    }

    /// POST with an `Idempotency-Key`.
    pub async fn post_keyed(&self, path: &str, token: Option<&str>, key: &str, body: Value) -> Answer {
        self.send(
            Self::authorized(self.client.post(format!("/api/v1{path}")), token)
                .header("Idempotency-Key", key)
                .body_json(&body),
        )
        .await
    }

    /// PUT `body` to `path`.
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(Self::authorized(self.client.put(format!("/api/v1{path}")), token).body_json(&body))
            .await
    }

    /// PATCH `body` to `path`.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(Self::authorized(self.client.patch(format!("/api/v1{path}")), token).body_json(&body))
            .await
    }

    /// DELETE `path`.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(Self::authorized(self.client.delete(format!("/api/v1{path}")), token))
            .await
    }

    /// Accepts every required document for `token`'s user.
    pub async fn consent_all(&self, token: &str) {
        for doc in ["terms", "privacy", "cross_border"] {
            self.put(
                &format!("/me/consents/{doc}"),
                Some(token),
                json!({ "version": "v1.0", "granted": true }),
            )
            .await
            .ok(200);
        }
    }

    /// A consented user minted by the host with `role`; returns (token, user id).
    pub async fn user(&self, subject: &str, role: &str) -> (String, String) {
        let token = host_token(subject, role);
        self.consent_all(&token).await;
        let me = self.get("/me", Some(&token)).await;
        me.ok(200);
        (token, me.str("id"))
    }

    /// Opens a slot `hours` from now for the teacher `token`; returns its id.
    pub async fn open_slot(&self, token: &str, hours: i64, capacity: u32) -> String {
        let start = SystemClock.now().replace_nanosecond(0).expect("valid") + time::Duration::hours(hours);
        self.open_slot_at(token, start, capacity).await
    }

    /// Opens a 50-minute slot at `start` for the teacher `token`; returns its id.
    pub async fn open_slot_at(&self, token: &str, start: time::OffsetDateTime, capacity: u32) -> String {
        let end = start + time::Duration::minutes(50);
        let fmt = &time::format_description::well_known::Rfc3339;
        let answer = self
            .post(
                "/slots",
                Some(token),
                json!({ "start": start.format(fmt).unwrap(), "end": end.format(fmt).unwrap(), "capacity": capacity }),
            )
            .await;
        answer.ok(201);
        answer.str("id")
    }
}
