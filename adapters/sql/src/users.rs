//! Users, consents and idempotency keys: rows, conversions and the queries,
//! written once and compiled for each backend's connection type by
//! `impl_user_queries!` (like `conn::impl_queries!`). Kept apart from the
//! booking queries because no transaction touches both.

use std::future::Future;

use diesel::prelude::*;
use tutorbook_domain::{Consent, ConsentDocument, Locale, Role, UserId, Zone};
use tutorbook_ports::{Claim, Error, IdempotencyRecord, ProfileUpdate, StoredResponse, User};

use crate::error::TxError;
use crate::rows::corrupt;
use crate::schema::{idempotency_keys, user_consents, users};
use crate::types::{DbId, DbInstant};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: DbId,
    pub subject: String,
    pub role: String,
    pub display_name: String,
    pub email: Option<String>,
    pub zone: String,
    pub locale: String,
    pub created_at: DbInstant,
}

fn parse_role(text: &str) -> Option<Role> {
    [Role::Student, Role::Teacher, Role::Staff]
        .into_iter()
        .find(|r| r.as_str() == text)
}

impl UserRow {
    pub fn of(user: &User) -> Self {
        Self {
            id: user.id.into(),
            subject: user.subject.clone(),
            role: user.role.as_str().to_owned(),
            display_name: user.display_name.clone(),
            email: user.email.clone(),
            zone: user.zone.name().to_owned(),
            locale: user.locale.as_str().to_owned(),
            created_at: DbInstant(user.created_at),
        }
    }

    pub fn into_user(self) -> Result<User, Error> {
        Ok(User {
            id: UserId::from_uuid(self.id.0),
            role: parse_role(&self.role).ok_or_else(|| corrupt(format!("unknown role {:?}", self.role)))?,
            zone: Zone::parse(&self.zone).map_err(corrupt)?,
            locale: Locale::parse_or_default(&self.locale),
            subject: self.subject,
            display_name: self.display_name,
            email: self.email,
            created_at: self.created_at.0,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = user_consents)]
pub(crate) struct ConsentRow {
    pub user_id: DbId,
    pub document: String,
    pub version: String,
    pub granted: bool,
    pub decided_at: DbInstant,
}

impl ConsentRow {
    pub fn of(user: UserId, c: &Consent) -> Self {
        Self {
            user_id: user.into(),
            document: c.document.as_str().to_owned(),
            version: c.version.clone(),
            granted: c.granted,
            decided_at: DbInstant(c.decided_at),
        }
    }

    pub fn into_consent(self) -> Result<Consent, Error> {
        Ok(Consent {
            document: ConsentDocument::parse(&self.document).map_err(corrupt)?,
            version: self.version,
            granted: self.granted,
            decided_at: self.decided_at.0,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys, treat_none_as_default_value = false)]
pub(crate) struct KeyRow {
    pub user_id: DbId,
    pub key: String,
    pub fingerprint: String,
    pub status: Option<i32>,
    pub content_type: Option<String>,
    pub body: Option<Vec<u8>>,
    pub created_at: DbInstant,
    pub answer: Option<String>,
}

impl KeyRow {
    /// A new row for `claim` used at `now`, holding `answer` or `response`.
    pub fn new(
        claim: &Claim,
        now: time::OffsetDateTime,
        answer: Option<String>,
        response: Option<&StoredResponse>,
    ) -> Self {
        Self {
            user_id: claim.user.into(),
            key: claim.key.clone(),
            fingerprint: claim.fingerprint.clone(),
            status: response.map(|r| i32::from(r.status)),
            content_type: response.map(|r| r.content_type.clone()),
            body: response.map(|r| r.body.clone()),
            created_at: DbInstant(now),
            answer,
        }
    }

    pub fn into_record(self) -> Result<IdempotencyRecord, Error> {
        let response = match (self.status, self.content_type, self.body) {
            (Some(status), Some(content_type), Some(body)) => Some(StoredResponse {
                status: u16::try_from(status).map_err(corrupt)?,
                content_type,
                body,
            }),
            (None, _, _) => None,
            _ => return Err(corrupt("idempotency key with a status but no body")),
        };
        Ok(IdempotencyRecord {
            fingerprint: self.fingerprint,
            answer: self.answer,
            response,
            created_at: self.created_at.0,
        })
    }
}

/// Whom [`UserQueries::load_caller`] reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Who<'a> {
    /// By user id.
    Id(UserId),
    /// By sign-up subject.
    Subject(&'a str),
}

/// The account queries, per connection type.
pub(crate) trait UserQueries: Send {
    fn insert_user_if_new(&mut self, user: &User) -> impl Future<Output = Result<(), TxError>> + Send;
    fn load_user(&mut self, id: UserId) -> impl Future<Output = Result<Option<User>, TxError>> + Send;
    fn load_user_by_subject(&mut self, subject: &str) -> impl Future<Output = Result<Option<User>, TxError>> + Send;
    /// The users among `ids` (sorted, without repeats) that exist.
    fn load_users_by_id(&mut self, ids: &[UserId]) -> impl Future<Output = Result<Vec<User>, TxError>> + Send;
    fn load_users(
        &mut self,
        after: Option<UserId>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<User>, TxError>> + Send;
    fn store_role(&mut self, id: UserId, role: Role) -> impl Future<Output = Result<usize, TxError>> + Send;
    fn store_profile(
        &mut self,
        id: UserId,
        update: &ProfileUpdate,
    ) -> impl Future<Output = Result<usize, TxError>> + Send;
    fn load_consents(&mut self, id: UserId) -> impl Future<Output = Result<Vec<Consent>, TxError>> + Send;
    /// A user (by id or by subject) with their consents, in one statement.
    fn load_caller(
        &mut self,
        who: Who<'_>,
    ) -> impl Future<Output = Result<Option<(User, Vec<Consent>)>, TxError>> + Send;
    fn upsert_consent(&mut self, id: UserId, consent: &Consent) -> impl Future<Output = Result<(), TxError>> + Send;
    fn insert_key_if_new(&mut self, row: &KeyRow) -> impl Future<Output = Result<usize, TxError>> + Send;
    fn load_key(
        &mut self,
        user: UserId,
        key: &str,
    ) -> impl Future<Output = Result<Option<IdempotencyRecord>, TxError>> + Send;
    /// Adds the response sent to a key used by the same request.
    fn store_key_response(
        &mut self,
        claim: &Claim,
        response: &StoredResponse,
    ) -> impl Future<Output = Result<usize, TxError>> + Send;
    /// Sets the command's answer of a key.
    fn store_key_answer(&mut self, claim: &Claim, answer: &str) -> impl Future<Output = Result<usize, TxError>> + Send;
    fn delete_keys_before(
        &mut self,
        cutoff: time::OffsetDateTime,
    ) -> impl Future<Output = Result<usize, TxError>> + Send;
}

/// Implements [`UserQueries`] for one connection type.
macro_rules! impl_user_queries {
    ($conn:ty) => {
        impl UserQueries for $conn {
            async fn insert_user_if_new(&mut self, user: &User) -> Result<(), TxError> {
                diesel::insert_into(users::table)
                    .values(UserRow::of(user))
                    .on_conflict(users::subject)
                    .do_nothing()
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn load_user(&mut self, id: UserId) -> Result<Option<User>, TxError> {
                let row: Option<UserRow> = users::table
                    .find(DbId::from(id))
                    .select(UserRow::as_select())
                    .first(self)
                    .await
                    .optional()?;
                Ok(row.map(UserRow::into_user).transpose()?)
            }

            async fn load_user_by_subject(&mut self, subject: &str) -> Result<Option<User>, TxError> {
                let row: Option<UserRow> = users::table
                    .filter(users::subject.eq(subject))
                    .select(UserRow::as_select())
                    .first(self)
                    .await
                    .optional()?;
                Ok(row.map(UserRow::into_user).transpose()?)
            }

            async fn load_users_by_id(&mut self, ids: &[UserId]) -> Result<Vec<User>, TxError> {
                let ids: Vec<DbId> = ids.iter().copied().map(DbId::from).collect();
                let rows: Vec<UserRow> = users::table
                    .filter(users::id.eq_any(ids))
                    .select(UserRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(UserRow::into_user)
                    .collect::<Result<_, _>>()?)
            }

            async fn load_users(&mut self, after: Option<UserId>, limit: i64) -> Result<Vec<User>, TxError> {
                let mut query = users::table
                    .order(users::id.asc())
                    .limit(limit)
                    .select(UserRow::as_select())
                    .into_boxed();
                if let Some(after) = after {
                    query = query.filter(users::id.gt(DbId::from(after)));
                }
                let rows: Vec<UserRow> = query.load(self).await?;
                Ok(rows
                    .into_iter()
                    .map(UserRow::into_user)
                    .collect::<Result<_, _>>()?)
            }

            async fn store_role(&mut self, id: UserId, role: Role) -> Result<usize, TxError> {
                Ok(diesel::update(users::table.find(DbId::from(id)))
                    .set(users::role.eq(role.as_str()))
                    .execute(self)
                    .await?)
            }

            async fn store_profile(&mut self, id: UserId, update: &ProfileUpdate) -> Result<usize, TxError> {
                let changes = ProfileChanges {
                    display_name: update.display_name.clone(),
                    zone: update.zone.map(|z| z.name().to_owned()),
                    locale: update.locale.map(|l| l.as_str().to_owned()),
                };
                if changes.display_name.is_none() && changes.zone.is_none() && changes.locale.is_none() {
                    // Nothing to set (diesel refuses an empty changeset): report whether the user exists.
                    return Ok(usize::from(self.load_user(id).await?.is_some()));
                }
                Ok(diesel::update(users::table.find(DbId::from(id)))
                    .set(changes)
                    .execute(self)
                    .await?)
            }

            async fn load_consents(&mut self, id: UserId) -> Result<Vec<Consent>, TxError> {
                let rows: Vec<ConsentRow> = user_consents::table
                    .filter(user_consents::user_id.eq(DbId::from(id)))
                    .order(user_consents::document.asc())
                    .select(ConsentRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(ConsentRow::into_consent)
                    .collect::<Result<_, _>>()?)
            }

            async fn load_caller(&mut self, who: Who<'_>) -> Result<Option<(User, Vec<Consent>)>, TxError> {
                let query = users::table
                    .left_join(user_consents::table)
                    .order(user_consents::document.asc())
                    .select((UserRow::as_select(), Option::<ConsentRow>::as_select()))
                    .into_boxed();
                let query = match who {
                    Who::Id(id) => query.filter(users::id.eq(DbId::from(id))),
                    Who::Subject(subject) => query.filter(users::subject.eq(subject)),
                };
                let rows: Vec<(UserRow, Option<ConsentRow>)> = query.load(self).await?;
                let mut rows = rows.into_iter();
                let Some((user, first)) = rows.next() else {
                    return Ok(None);
                };
                let consents = first
                    .into_iter()
                    .chain(rows.filter_map(|(_, consent)| consent))
                    .map(ConsentRow::into_consent)
                    .collect::<Result<_, _>>()?;
                Ok(Some((user.into_user()?, consents)))
            }

            async fn upsert_consent(&mut self, id: UserId, consent: &Consent) -> Result<(), TxError> {
                let row = ConsentRow::of(id, consent);
                diesel::insert_into(user_consents::table)
                    .values(row.clone())
                    .on_conflict((user_consents::user_id, user_consents::document))
                    .do_update()
                    .set(row)
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn insert_key_if_new(&mut self, row: &KeyRow) -> Result<usize, TxError> {
                Ok(diesel::insert_into(idempotency_keys::table)
                    .values(row.clone())
                    .on_conflict((idempotency_keys::user_id, idempotency_keys::key))
                    .do_nothing()
                    .execute(self)
                    .await?)
            }

            async fn load_key(&mut self, user: UserId, key: &str) -> Result<Option<IdempotencyRecord>, TxError> {
                let row: Option<KeyRow> = idempotency_keys::table
                    .find((DbId::from(user), key))
                    .select(KeyRow::as_select())
                    .first(self)
                    .await
                    .optional()?;
                Ok(row.map(KeyRow::into_record).transpose()?)
            }

            async fn store_key_response(&mut self, claim: &Claim, response: &StoredResponse) -> Result<usize, TxError> {
                Ok(diesel::update(
                    idempotency_keys::table
                        .find((DbId::from(claim.user), claim.key.as_str()))
                        .filter(idempotency_keys::fingerprint.eq(claim.fingerprint.as_str())),
                )
                .set((
                    idempotency_keys::status.eq(Some(i32::from(response.status))),
                    idempotency_keys::content_type.eq(Some(response.content_type.as_str())),
                    idempotency_keys::body.eq(Some(response.body.as_slice())),
                ))
                .execute(self)
                .await?)
            }

            async fn store_key_answer(&mut self, claim: &Claim, answer: &str) -> Result<usize, TxError> {
                let key = (DbId::from(claim.user), claim.key.as_str());
                Ok(crate::cache::Cacheable(
                    diesel::update(idempotency_keys::table.find(key)).set(idempotency_keys::answer.eq(Some(answer))),
                )
                .execute(self)
                .await?)
            }

            async fn delete_keys_before(&mut self, cutoff: time::OffsetDateTime) -> Result<usize, TxError> {
                Ok(
                    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(DbInstant(cutoff))))
                        .execute(self)
                        .await?,
                )
            }
        }
    };
}

/// The profile columns an update sets; `None` leaves a column alone.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users)]
pub(crate) struct ProfileChanges {
    pub display_name: Option<String>,
    pub zone: Option<String>,
    pub locale: Option<String>,
}

#[cfg(feature = "postgres")]
mod pg {
    use super::*;
    use diesel_async::{AsyncPgConnection, RunQueryDsl};
    impl_user_queries!(AsyncPgConnection);
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use crate::sqlite::SqliteConn;
    use diesel_async::RunQueryDsl;
    impl_user_queries!(SqliteConn);
}
