//! Keeping the prepared statements of fixed-shape writes.
//!
//! diesel marks every `UPDATE` as unsafe to cache as a prepared statement
//! (a changeset that skips `None` columns changes the SQL from one call to
//! the next), so the driver prepares such a statement again on every
//! execution: a round trip and a parse and plan in the database each time
//! (docs/performance.md, "Profile of the booking path"). [`Cacheable`]
//! vouches for a statement whose SQL text never varies: a changeset with
//! `treat_none_as_null`, or a fixed tuple of assignments. The cache is then
//! keyed by that SQL text. Never wrap a statement whose SQL depends on its
//! values (a changeset skipping `None`, anything built from a `Vec`), with
//! one bounded exception: an `eq_any` over ids is one `= ANY($1)` on
//! Postgres, but an `IN (?, …)` of the list's length on SQLite, which then
//! keeps one statement per length. The outbox's and the reminders' claims
//! and marks take at most the worker's largest batch (512), so their
//! lengths, and the statements kept, are bounded.

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

/// A statement whose SQL text is the same on every execution, so its
/// prepared statement may be kept per connection.
#[derive(Debug, Clone)]
pub(crate) struct Cacheable<Q>(pub Q);

impl<Q> QueryId for Cacheable<Q> {
    type QueryId = ();
    // No static id: the statement cache keys it by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: Backend, Q: QueryFragment<DB>> QueryFragment<DB> for Cacheable<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

/// An `UPDATE … RETURNING` stays a query answering its rows.
impl<Q: Query> Query for Cacheable<Q> {
    type SqlType = Q::SqlType;
}
