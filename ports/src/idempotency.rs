//! Remembered answers to retried commands (`Idempotency-Key`). A client that
//! lost an answer retries with the same key and gets the first answer back,
//! and the command runs only once.
//!
//! The first request *reserves* the key before it runs; a concurrent retry
//! finds the reservation and is told to wait instead of running the command
//! a second time. The reservation is completed with the answer, or released
//! when the command failed in a way worth retrying (storage trouble).

use async_trait::async_trait;
use time::OffsetDateTime;
use tutorbook_domain::UserId;

use crate::Result;

/// The answer kept for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Content type of the body.
    pub content_type: String,
    /// The body as sent.
    pub body: Vec<u8>,
}

/// What a key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Fingerprint of the request that reserved the key (method, path, body).
    pub fingerprint: String,
    /// The answer, once the request finished; `None` while it runs.
    pub response: Option<StoredResponse>,
    /// When the key was reserved.
    pub created_at: OffsetDateTime,
}

/// What [`IdempotencyStore::reserve`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key was free and is now reserved for this request: run it.
    Reserved,
    /// The key was already used: replay, refuse or wait, as the record says.
    Existing(IdempotencyRecord),
}

/// Keys per user: one user's keys never collide with another's.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Reserves `key` for `user` with the request's `fingerprint`, atomically:
    /// of two concurrent reservations exactly one gets [`Reservation::Reserved`].
    async fn reserve(&self, user: UserId, key: &str, fingerprint: &str, now: OffsetDateTime) -> Result<Reservation>;

    /// Stores the answer of a reserved key.
    async fn complete(&self, user: UserId, key: &str, response: StoredResponse) -> Result<()>;

    /// Frees a reserved key whose request should be retryable (it changed nothing).
    async fn release(&self, user: UserId, key: &str) -> Result<()>;

    /// Forgets every key reserved before `cutoff` (a retry that late is a new
    /// request); returns how many went. Run periodically by the service.
    async fn purge_before(&self, cutoff: OffsetDateTime) -> Result<u64>;
}
