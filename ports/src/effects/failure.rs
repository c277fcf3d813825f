//! Why a side effect did not happen, and whether trying again can help.

use thiserror::Error;

/// A failed side effect (an email, a calendar call, a reminder).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EffectError {
    /// Worth another attempt later: a timeout, a 5xx or 429 answer, a store
    /// that is briefly unavailable.
    #[error("{0}")]
    Retryable(String),
    /// Trying again will fail the same way (a rejected address, a malformed
    /// request): the work is given up at once and the error kept.
    #[error("{0}")]
    Permanent(String),
}

impl EffectError {
    /// Whether another attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }
}

/// A store failure is retryable; a domain refusal (a vanished slot, say) is not.
impl From<crate::Error> for EffectError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::Storage(message) => Self::Retryable(message),
            other => Self::Permanent(other.to_string()),
        }
    }
}
