//! The Resend mailer against a local fake Resend server over real HTTP.

use std::sync::{Arc, Mutex};

use tutorbook_ports::effects::{EffectError, Email, Mailer};
use tutorbook_resend::ResendMailer;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn email(key: &str) -> Email {
    Email {
        to: "mina@example.com".into(),
        subject: "수업이 확정되었습니다".into(),
        text: "Mina님, 안녕하세요.\n".into(),
        idempotency_key: key.into(),
    }
}

fn mailer(server: &MockServer) -> ResendMailer {
    ResendMailer::new("re_test_key", "Tutorbook <lessons@school.example>", &server.uri()).unwrap()
}

#[tokio::test]
async fn sends_the_documented_request_shape_with_auth_and_idempotency_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/emails"))
        .and(header("authorization", "Bearer re_test_key"))
        .and(header("idempotency-key", "outbox-1-2"))
        .and(header("content-type", "application/json"))
        .and(body_json(serde_json::json!({
            "from": "Tutorbook <lessons@school.example>",
            "to": ["mina@example.com"],
            "subject": "수업이 확정되었습니다",
            "text": "Mina님, 안녕하세요.\n",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "49a3999c"})))
        .expect(1)
        .mount(&server)
        .await;

    mailer(&server).send(&email("outbox-1-2")).await.unwrap();
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retryable_other_refusals_are_not() {
    let server = MockServer::start().await;
    for (key, status) in [
        ("k429", 429),
        ("k500", 500),
        ("k503", 503),
        ("k422", 422),
        ("k401", 401),
    ] {
        Mock::given(header("idempotency-key", key))
            .respond_with(ResponseTemplate::new(status).set_body_string(format!("{{\"statusCode\":{status}}}")))
            .mount(&server)
            .await;
    }
    let mailer = mailer(&server);
    for key in ["k429", "k500", "k503"] {
        let error = mailer.send(&email(key)).await.unwrap_err();
        assert!(error.is_retryable(), "{key}: {error}");
    }
    for key in ["k422", "k401"] {
        let error = mailer.send(&email(key)).await.unwrap_err();
        assert!(matches!(error, EffectError::Permanent(_)), "{key}: {error}");
        assert!(error.to_string().contains("statusCode"), "the answer is kept: {error}");
    }
}

#[tokio::test]
async fn an_unreachable_server_is_retryable() {
    // Port 1 (tcpmux) is closed on any test machine: the connection is refused.
    let mailer = ResendMailer::new("re_test_key", "a@b.example", "http://127.0.0.1:1").unwrap();
    assert!(mailer.send(&email("k")).await.unwrap_err().is_retryable());
}

/// A fake Resend that honours idempotency keys as Resend does (a repeated
/// key is answered 200 without sending again) and fails its first request.
#[derive(Clone, Default)]
struct IdempotentResend {
    delivered: Arc<Mutex<Vec<String>>>,
    requests: Arc<Mutex<usize>>,
}

impl Respond for IdempotentResend {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut requests = self.requests.lock().unwrap();
        *requests += 1;
        if *requests == 1 {
            return ResponseTemplate::new(500);
        }
        let key = request
            .headers
            .get("idempotency-key")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let mut delivered = self.delivered.lock().unwrap();
        if !delivered.contains(&key) {
            delivered.push(key);
        }
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "49a3999c"}))
    }
}

/// A 500 is retried and a crash redelivers: three requests with one key,
/// exactly one email effectively sent.
#[tokio::test]
async fn a_retried_email_reuses_its_key_so_it_is_sent_once() {
    let server = MockServer::start().await;
    let fake = IdempotentResend::default();
    Mock::given(method("POST"))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    let mailer = mailer(&server);
    assert!(mailer.send(&email("outbox-9-1")).await.unwrap_err().is_retryable());
    mailer.send(&email("outbox-9-1")).await.unwrap();
    mailer.send(&email("outbox-9-1")).await.unwrap(); // redelivered after a crash

    assert_eq!(*fake.requests.lock().unwrap(), 3);
    assert_eq!(*fake.delivered.lock().unwrap(), ["outbox-9-1"], "one effective email");
}
