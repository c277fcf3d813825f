//! Column types shared by both backends, so one `schema.rs` and one set of
//! queries serve Postgres and SQLite: ids are native `uuid` on Postgres and
//! hyphenated text on SQLite; instants are `timestamptz` on Postgres and
//! microseconds since the Unix epoch on SQLite (so they sort and compare as
//! numbers).

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::query_builder::QueryId;
use diesel::serialize::{self, ToSql};
use diesel::sql_types::SqlType;
use time::OffsetDateTime;
use uuid::Uuid;

/// SQL type of an id column.
#[derive(Debug, Clone, Copy, Default, QueryId, SqlType)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Text"))]
pub struct SqlId;

/// SQL type of an instant column.
#[derive(Debug, Clone, Copy, Default, QueryId, SqlType)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Long"))]
pub struct SqlInstant;

/// A UUID as stored by either backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = SqlId)]
pub struct DbId(pub Uuid);

/// An instant as stored by either backend (microsecond precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = SqlInstant)]
pub struct DbInstant(pub OffsetDateTime);

macro_rules! db_id_from {
    ($($t:ty),*) => {$(
        impl From<$t> for DbId {
            fn from(value: $t) -> Self {
                Self(value.into())
            }
        }
    )*};
}

db_id_from!(
    Uuid,
    tutorbook_domain::UserId,
    tutorbook_domain::SlotId,
    tutorbook_domain::BookingId,
    tutorbook_domain::CreditId,
    tutorbook_domain::PackageSessionId,
    tutorbook_domain::ReviewId,
    tutorbook_domain::ReportId,
    tutorbook_domain::PackageId,
    tutorbook_domain::EnrollmentId,
    tutorbook_domain::PaymentId,
    tutorbook_domain::RefundId,
    tutorbook_domain::PromotionId,
    tutorbook_domain::RuleId,
    tutorbook_domain::ExceptionId
);

impl From<OffsetDateTime> for DbInstant {
    fn from(value: OffsetDateTime) -> Self {
        Self(value)
    }
}

#[cfg(feature = "postgres")]
mod pg {
    use super::*;
    use diesel::pg::{Pg, PgValue};
    use diesel::sql_types::{Timestamptz, Uuid as PgUuid};

    impl ToSql<SqlId, Pg> for DbId {
        fn to_sql<'b>(&'b self, out: &mut serialize::Output<'b, '_, Pg>) -> serialize::Result {
            ToSql::<PgUuid, Pg>::to_sql(&self.0, out)
        }
    }

    impl FromSql<SqlId, Pg> for DbId {
        fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
            <Uuid as FromSql<PgUuid, Pg>>::from_sql(bytes).map(Self)
        }
    }

    impl ToSql<SqlInstant, Pg> for DbInstant {
        fn to_sql<'b>(&'b self, out: &mut serialize::Output<'b, '_, Pg>) -> serialize::Result {
            ToSql::<Timestamptz, Pg>::to_sql(&self.0, out)
        }
    }

    impl FromSql<SqlInstant, Pg> for DbInstant {
        fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
            <OffsetDateTime as FromSql<Timestamptz, Pg>>::from_sql(bytes).map(Self)
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use diesel::serialize::IsNull;
    use diesel::sql_types::{BigInt, Text};
    use diesel::sqlite::{Sqlite, SqliteValue};

    impl ToSql<SqlId, Sqlite> for DbId {
        fn to_sql<'b>(&'b self, out: &mut serialize::Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(self.0.hyphenated().to_string());
            Ok(IsNull::No)
        }
    }

    impl FromSql<SqlId, Sqlite> for DbId {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
            Ok(Self(Uuid::parse_str(&text)?))
        }
    }

    impl ToSql<SqlInstant, Sqlite> for DbInstant {
        fn to_sql<'b>(&'b self, out: &mut serialize::Output<'b, '_, Sqlite>) -> serialize::Result {
            let micros = i64::try_from(self.0.unix_timestamp_nanos() / 1_000)?;
            out.set_value(micros);
            Ok(IsNull::No)
        }
    }

    impl FromSql<SqlInstant, Sqlite> for DbInstant {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            let micros = <i64 as FromSql<BigInt, Sqlite>>::from_sql(value)?;
            Ok(Self(OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(micros) * 1_000,
            )?))
        }
    }
}
