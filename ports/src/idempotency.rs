//! Remembered answers to retried commands (`Idempotency-Key`). A client that
//! lost an answer retries with the same key and gets the first answer back,
//! and the command runs only once.
//!
//! A command that runs under a key (a [`Claim`], see
//! [`crate::LockSet::claim`]) stores its answer with the key **in its own
//! transaction**: a crash at any point leaves either nothing (the retry runs
//! the command) or the whole command with its answer (the retry gets that
//! answer back and changes nothing). Two concurrent requests with one key are
//! decided one after the other: the second finds the first one's answer.
//!
//! Beside the command's answer, the HTTP layer keeps the response it sent
//! ([`IdempotencyStore::complete`]) so that a replay is byte for byte the
//! first answer; a refusal, which writes nothing in the command's
//! transaction, is remembered the same way.

use async_trait::async_trait;
use time::OffsetDateTime;
use tutorbook_domain::UserId;

use crate::Result;

/// The key a command runs under: whose, which, and the fingerprint of the
/// request that used it (a key used again for another request is refused
/// with `idempotency_key_reused`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Keys are per user: one user's keys never collide with another's.
    pub user: UserId,
    /// The key as the client sent it.
    pub key: String,
    /// Fingerprint of the request (method, path and body).
    pub fingerprint: String,
}

/// A response as it was sent.
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
    /// Fingerprint of the request that first used the key.
    pub fingerprint: String,
    /// The command's answer (JSON), stored in the command's transaction.
    pub answer: Option<String>,
    /// The response sent, once the HTTP layer stored it.
    pub response: Option<StoredResponse>,
    /// When the key was first used.
    pub created_at: OffsetDateTime,
}

/// Keys per user.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// What `key` of `user` holds, if it was used.
    async fn record(&self, user: UserId, key: &str) -> Result<Option<IdempotencyRecord>>;

    /// Keeps the response sent for `claim`: creates the key (at `now`) when
    /// no command stored an answer under it, or adds the response to the
    /// answer. A key that holds another request's fingerprint is left alone.
    async fn complete(&self, claim: &Claim, now: OffsetDateTime, response: StoredResponse) -> Result<()>;

    /// Forgets every key used before `cutoff` (a retry that late is a new
    /// request); returns how many went. Run periodically by the service.
    async fn purge_before(&self, cutoff: OffsetDateTime) -> Result<u64>;
}
