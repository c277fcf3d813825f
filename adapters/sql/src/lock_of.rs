//! `FOR UPDATE OF slots`, which diesel's query builder cannot say.
//!
//! Locking a slot and reading its teacher's policy in one statement saves a
//! round trip on every booking (docs/performance.md). The policy sits on the
//! nullable side of an outer join (a teacher without a stored policy has the
//! default one), and Postgres refuses a plain `FOR UPDATE` there: the lock
//! has to name the table whose rows it takes. Only the locked table's rows
//! are current after a wait; the joined policy is read from the statement's
//! snapshot, which is no weaker than reading it before the lock, as the unit
//! of work did (a policy is never locked).

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

/// `query FOR UPDATE OF slots`: the rows of `slots` the query reads are
/// locked, in the order the query returns them.
#[derive(Debug, Clone)]
pub(crate) struct ForUpdateOfSlots<Q>(pub Q);

impl<Q> QueryId for ForUpdateOfSlots<Q> {
    type QueryId = ();
    // No static id: the statement cache keys it by its SQL text, when the
    // inner query is safe to cache.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for ForUpdateOfSlots<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for ForUpdateOfSlots<Q> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass.reborrow())?;
        pass.push_sql(" FOR UPDATE OF \"slots\"");
        Ok(())
    }

    fn is_safe_to_cache_prepared(&self, backend: &Pg) -> QueryResult<bool> {
        self.0.is_safe_to_cache_prepared(backend)
    }
}
