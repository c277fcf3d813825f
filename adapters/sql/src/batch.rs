//! Writes sent as one batch.
//!
//! On Postgres a batch's statements are pipelined: each is sent without
//! waiting for the answer to the one before, the server runs them one after
//! another in the order they were added, and the batch waits once for all
//! the answers. A booking's slot update, booking row, audit row and outbox
//! row are then one round trip instead of four; on this 2-core machine a
//! round trip (a wake-up of the server's process and then of ours) costs as
//! much as the statement itself (docs/performance.md, "Pipelined writes").
//!
//! The order holds even on a connection's first use of a statement: the
//! driver prepares it under the connection's statement-cache lock, which
//! hands out turns first come, first served, so a statement added later
//! cannot be sent before an earlier one is prepared and sent. A failing
//! statement aborts the transaction, so every statement after it fails too;
//! the batch answers with the first failure in order, the one that says why.
//!
//! On SQLite there is no round trip to save: the statements run in this
//! process, each when it is added.

use diesel::QueryResult;
use diesel::query_builder::{QueryFragment, QueryId};

use crate::error::TxError;

/// A connection that writes in batches (see the module's documentation).
pub(crate) trait Batched {
    /// The batch, borrowing the connection until it is finished.
    type Batch<'a>
    where
        Self: 'a;
    fn batch(&mut self) -> Self::Batch<'_>;
}

/// A Postgres batch: the statements sent so far, answers pending.
#[cfg(feature = "postgres")]
pub(crate) struct PgBatch<'a> {
    conn: &'a diesel_async::AsyncPgConnection,
    sent: Vec<futures_util::future::BoxFuture<'a, QueryResult<usize>>>,
}

#[cfg(feature = "postgres")]
impl Batched for diesel_async::AsyncPgConnection {
    type Batch<'a> = PgBatch<'a>;
    fn batch(&mut self) -> PgBatch<'_> {
        PgBatch {
            conn: self,
            sent: Vec::new(),
        }
    }
}

#[cfg(feature = "postgres")]
impl PgBatch<'_> {
    /// Adds `statement`; it goes out when the batch is finished, after every
    /// statement added before it.
    // `async` so that both backends' batches read the same in the shared
    // queries (`conn::impl_queries!`); this one never waits here.
    pub(crate) async fn add<Q>(&mut self, statement: Q) -> Result<(), TxError>
    where
        Q: QueryFragment<diesel::pg::Pg> + QueryId + Send,
    {
        // The driver renders the statement and its binds now; the future
        // borrows only the connection.
        let mut conn = self.conn;
        self.sent.push(diesel_async::RunQueryDsl::execute(statement, &mut conn));
        Ok(())
    }

    /// Sends every statement, in order, and waits for all the answers.
    pub(crate) async fn finish(self) -> Result<(), TxError> {
        futures_util::future::try_join_all(self.sent).await?;
        Ok(())
    }
}

#[cfg(feature = "postgres")]
impl std::fmt::Debug for PgBatch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBatch").field("statements", &self.sent.len()).finish()
    }
}

/// A SQLite batch: each statement runs when added.
#[cfg(feature = "sqlite")]
pub(crate) struct SqliteBatch<'a> {
    conn: &'a mut crate::sqlite::SqliteConn,
}

#[cfg(feature = "sqlite")]
impl Batched for crate::sqlite::SqliteConn {
    type Batch<'a> = SqliteBatch<'a>;
    fn batch(&mut self) -> SqliteBatch<'_> {
        SqliteBatch { conn: self }
    }
}

#[cfg(feature = "sqlite")]
impl SqliteBatch<'_> {
    /// The connection, for the statements that run outside the batch (the
    /// synchronous multi-row insert of [`crate::conn::insert_rows!`]).
    pub(crate) fn conn(&mut self) -> &mut crate::sqlite::SqliteConn {
        self.conn
    }

    /// Runs `statement`.
    pub(crate) async fn add<Q>(&mut self, statement: Q) -> Result<(), TxError>
    where
        Q: QueryFragment<diesel::sqlite::Sqlite> + QueryId + Send,
    {
        diesel_async::RunQueryDsl::execute(statement, &mut *self.conn).await?;
        Ok(())
    }

    /// Nothing is left to wait for.
    pub(crate) async fn finish(self) -> Result<(), TxError> {
        Ok(())
    }
}

#[cfg(feature = "sqlite")]
impl std::fmt::Debug for SqliteBatch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBatch").finish_non_exhaustive()
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    use diesel::sql_types::Integer;
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

    use super::Batched;
    use crate::error::TxError;

    /// A connection to the test server `scripts/test` started, with two
    /// tables of its own session: children name their parent.
    async fn connection() -> Option<AsyncPgConnection> {
        let Ok(url) = std::env::var("TUTORBOOK_TEST_DATABASE_URL") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but TUTORBOOK_TEST_DATABASE_URL is not set: run the tests through scripts/test"
            );
            eprintln!("SKIPPED: no TUTORBOOK_TEST_DATABASE_URL");
            return None;
        };
        let mut c = AsyncPgConnection::establish(&url)
            .await
            .expect("connect to the test server");
        c.batch_execute(
            "CREATE TEMP TABLE parent (id int PRIMARY KEY);
             CREATE TEMP TABLE child (id int PRIMARY KEY, parent int NOT NULL REFERENCES parent (id));",
        )
        .await
        .expect("create the session's tables");
        Some(c)
    }

    fn insert(
        table: &str,
        id: i32,
        parent: Option<i32>,
    ) -> diesel::query_builder::BoxedSqlQuery<'static, diesel::pg::Pg, diesel::query_builder::SqlQuery> {
        match parent {
            None => diesel::sql_query(format!("INSERT INTO {table} (id) VALUES ($1)"))
                .into_boxed()
                .bind::<Integer, _>(id),
            Some(parent) => diesel::sql_query(format!("INSERT INTO {table} (id, parent) VALUES ($1, $2)"))
                .into_boxed()
                .bind::<Integer, _>(id)
                .bind::<Integer, _>(parent),
        }
    }

    async fn count(c: &mut AsyncPgConnection, table: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let row: Count =
            diesel_async::RunQueryDsl::get_result(diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")), c)
                .await
                .expect("count");
        row.n
    }

    /// Each child is added right after its parent and every statement is
    /// prepared on first use: a child sent before its parent would break
    /// the foreign key.
    #[tokio::test]
    async fn a_batch_runs_its_statements_in_the_order_they_were_added() {
        let Some(mut c) = connection().await else { return };
        for round in 0..2 {
            let mut batch = c.batch();
            for id in round * 50..(round + 1) * 50 {
                batch.add(insert("parent", id, None)).await.expect("added");
                batch.add(insert("child", id, Some(id))).await.expect("added");
            }
            batch.finish().await.expect("every child finds its parent");
        }
        assert_eq!(count(&mut c, "parent").await, 100);
        assert_eq!(count(&mut c, "child").await, 100);
    }

    /// The second statement breaks a unique key, so the transaction is
    /// aborted and the third fails too (with "current transaction is
    /// aborted"): the batch answers with the second's failure, the cause.
    #[tokio::test]
    async fn a_failing_batch_answers_with_its_first_failure() {
        let Some(mut c) = connection().await else { return };
        c.batch_execute("BEGIN").await.expect("begin");
        let mut batch = c.batch();
        batch.add(insert("parent", 1, None)).await.expect("added");
        batch.add(insert("parent", 1, None)).await.expect("added");
        batch.add(insert("child", 1, Some(42))).await.expect("added");
        let failure = batch.finish().await.expect_err("a parent twice is refused");
        assert!(
            matches!(
                failure,
                TxError::Db(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
            ),
            "the unique key's failure, not a later one: {failure:?}"
        );
    }
}
