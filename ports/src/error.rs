//! The error every port and use case returns: a rule's refusal, or a store
//! that could not do its job.

use thiserror::Error;
use tutorbook_domain::{DomainError, RefusalKind, StrayMember};

/// What kind of failure an [`Error`] is, for callers that translate
/// failures (an HTTP status): every variant maps with no catch-all arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A refusal of the rules, of that kind.
    Refused(RefusalKind),
    /// The store could not do its job; nothing was kept, a retry may succeed.
    Unavailable,
}

/// A use case's failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The rules refused the command; nothing changed.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The store failed (connection lost, timeout, corrupt row). The command
    /// may be retried; the store guarantees nothing half-done was kept.
    #[error("storage failure: {0}")]
    Storage(String),
    /// The `Idempotency-Key` was already used for another request; nothing changed.
    #[error("this Idempotency-Key was used for another request; use a new key for a new request")]
    KeyReused,
}

impl Error {
    /// Stable machine code: the domain code, or `storage_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Domain(e) => e.code(),
            Self::Storage(_) => "storage_unavailable",
            Self::KeyReused => "idempotency_key_reused",
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Domain(e) => ErrorKind::Refused(e.kind()),
            Self::Storage(_) => ErrorKind::Unavailable,
            Self::KeyReused => ErrorKind::Refused(RefusalKind::Conflict),
        }
    }

    /// The domain refusal, if this is one.
    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            Self::Domain(e) => Some(e),
            Self::Storage(_) | Self::KeyReused => None,
        }
    }

    /// Shorthand for "`entity` not found".
    pub fn not_found(entity: &'static str) -> Self {
        Self::Domain(DomainError::NotFound { entity })
    }
}

/// A stored series at odds with its rule is corrupt storage, as a row that
/// does not read back is: nothing the caller asked for was wrong.
impl From<StrayMember> for Error {
    fn from(stray: StrayMember) -> Self {
        Self::Storage(stray.to_string())
    }
}

/// Result of a port or use case.
pub type Result<T, E = Error> = std::result::Result<T, E>;
