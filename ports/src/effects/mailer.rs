//! The email port, and the mailer used when no provider is configured.

use async_trait::async_trait;

use crate::effects::EffectError;

/// One email to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// Stable for a given message and recipient: a provider that honours it
    /// (Resend keeps keys for 24 hours) sends a redelivered email only once.
    pub idempotency_key: String,
}

/// Sends email.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `email`. A retryable error for timeouts, 429 and 5xx answers; a
    /// permanent one when the provider refuses the message itself.
    async fn send(&self, email: &Email) -> Result<(), EffectError>;
}

/// Writes every email to the log (`tracing`, target `tutorbook::mail`)
/// instead of sending it: the mailer of a service without an email provider,
/// so that development and demos show what would have gone out.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, email: &Email) -> Result<(), EffectError> {
        tracing::info!(target: "tutorbook::mail", to = %email.to, subject = %email.subject,
            key = %email.idempotency_key, body = %email.text, "email (log mailer, not sent)");
        Ok(())
    }
}

/// Lets a service pick its mailer at start-up (`Arc<dyn Mailer>`).
#[async_trait]
impl<T: Mailer + ?Sized> Mailer for std::sync::Arc<T> {
    async fn send(&self, email: &Email) -> Result<(), EffectError> {
        (**self).send(email).await
    }
}
