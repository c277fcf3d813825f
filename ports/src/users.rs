//! Users of the packaged service and their consent decisions. An embedder
//! with its own user system does not need this port: the use cases only ever
//! see an [`tutorbook_domain::Actor`]; the service keeps its users here and
//! answers [`crate::Directory`] from them.

use async_trait::async_trait;
use time::OffsetDateTime;
use tutorbook_domain::{Consent, Locale, Role, UserId, Zone};

use crate::{Contact, Result};

/// A user of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Their id.
    pub id: UserId,
    /// Who they are to the identity provider that signed them up, prefixed by
    /// the provider: `google:{sub}`, `host:{sub}`, `dev:{role}`. Unique.
    pub subject: String,
    /// What they may do.
    pub role: Role,
    /// Shown to other users.
    pub display_name: String,
    /// Where email goes, when known.
    pub email: Option<String>,
    /// The zone their times are shown in.
    pub zone: Zone,
    /// The language they read.
    pub locale: Locale,
    /// When they signed up.
    pub created_at: OffsetDateTime,
}

impl User {
    /// How the user is reached: their card in the [`crate::Directory`].
    pub fn contact(&self) -> Contact {
        Contact {
            user: self.id,
            role: self.role,
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            locale: self.locale,
            zone: self.zone,
        }
    }
}

/// What a user may change about themselves; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New zone.
    pub zone: Option<Zone>,
    /// New locale.
    pub locale: Option<Locale>,
}

/// Users and their consent decisions.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts `user` unless a user with the same subject exists; either way
    /// returns the stored user for that subject. Two concurrent sign-ups of
    /// the same subject therefore end with one user (a unique subject index).
    async fn create_user(&self, user: User) -> Result<User>;

    /// The user signed up under `subject`.
    async fn user_by_subject(&self, subject: &str) -> Result<Option<User>>;

    /// One user.
    async fn user(&self, id: UserId) -> Result<Option<User>>;

    /// Users by id (v7 ids: sign-up order), those after `after` when given, at most `limit`.
    async fn users(&self, after: Option<UserId>, limit: usize) -> Result<Vec<User>>;

    /// Changes a user's role; `not_found` (entity `user`) for an unknown user.
    async fn set_role(&self, id: UserId, role: Role) -> Result<User>;

    /// Applies a profile update; `not_found` (entity `user`) for an unknown user.
    async fn update_profile(&self, id: UserId, update: ProfileUpdate) -> Result<User>;

    /// The user's latest decision per document (any order).
    async fn consents(&self, id: UserId) -> Result<Vec<Consent>>;

    /// A user with their consent decisions: what every authenticated
    /// request reads. A store that can answers in one read; by default, two.
    async fn user_with_consents(&self, id: UserId) -> Result<Option<(User, Vec<Consent>)>> {
        let Some(user) = self.user(id).await? else {
            return Ok(None);
        };
        let consents = self.consents(id).await?;
        Ok(Some((user, consents)))
    }

    /// [`UserStore::user_with_consents`] by sign-up subject.
    async fn user_by_subject_with_consents(&self, subject: &str) -> Result<Option<(User, Vec<Consent>)>> {
        let Some(user) = self.user_by_subject(subject).await? else {
            return Ok(None);
        };
        let consents = self.consents(user.id).await?;
        Ok(Some((user, consents)))
    }

    /// Records a decision, replacing the user's previous one on the same
    /// document; `not_found` (entity `user`) for an unknown user.
    async fn record_consent(&self, id: UserId, consent: Consent) -> Result<()>;
}
