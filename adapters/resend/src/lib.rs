//! [Resend](https://resend.com) email for tutorbook's [`Mailer`] port: one
//! `POST /emails` per message over HTTPS, authenticated with the API key,
//! carrying the message's idempotency key so that a redelivered email (after
//! a crash or a retry) is sent only once (Resend honours a key for 24 hours).

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use tutorbook_ports::effects::{EffectError, Email, Mailer};

/// Resend's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.resend.com";

/// How long one request may take before it counts as failed (and is retried).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends email through Resend.
#[derive(Clone)]
pub struct ResendMailer {
    client: reqwest::Client,
    endpoint: String,
    api_key: String,
    from: String,
}

impl std::fmt::Debug for ResendMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the API key.
        f.debug_struct("ResendMailer")
            .field("endpoint", &self.endpoint)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// Why the mailer could not be built.
#[derive(Debug)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot build the Resend client: {}", self.0)
    }
}

impl std::error::Error for BuildError {}

#[derive(Serialize)]
struct SendRequest<'a> {
    from: &'a str,
    to: [&'a str; 1],
    subject: &'a str,
    text: &'a str,
}

impl ResendMailer {
    /// A mailer sending as `from` (e.g. `Tutorbook <lessons@school.example>`,
    /// a sender on a domain verified with Resend) to the API at `base_url`
    /// ([`DEFAULT_BASE_URL`] in production; a local fake in tests).
    ///
    /// Installs the ring TLS provider for the process if none is installed yet.
    pub fn new(api_key: impl Into<String>, from: impl Into<String>, base_url: &str) -> Result<Self, BuildError> {
        // Ignoring the result: another part of the process may have installed it first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("tutorbook/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BuildError(e.to_string()))?;
        Ok(Self {
            client,
            endpoint: format!("{}/emails", base_url.trim_end_matches('/')),
            api_key: api_key.into(),
            from: from.into(),
        })
    }
}

#[async_trait]
impl Mailer for ResendMailer {
    /// 2xx: sent. 429, 409 (a concurrent request with the same key) and 5xx,
    /// or no answer: retryable. Any other answer (a bad key, an unverified
    /// sender, an invalid address) is permanent: retrying would fail again.
    async fn send(&self, email: &Email) -> Result<(), EffectError> {
        let body = SendRequest {
            from: &self.from,
            to: [&email.to],
            subject: &email.subject,
            text: &email.text,
        };
        let response = self
            .client
            .post(&self.endpoint)
            .bearer_auth(&self.api_key)
            .header("Idempotency-Key", &email.idempotency_key)
            .json(&body)
            .send()
            .await
            .map_err(|e| EffectError::Retryable(format!("resend unreachable: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let detail = response.text().await.unwrap_or_default();
        let message = format!(
            "resend answered {status}: {}",
            detail.chars().take(500).collect::<String>()
        );
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 409 {
            Err(EffectError::Retryable(message))
        } else {
            Err(EffectError::Permanent(message))
        }
    }
}
