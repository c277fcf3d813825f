//! The `Users` use cases: profiles, consent decisions, and the staff's
//! management of users and roles. Who may do what is decided here, so an
//! embedder gets the same rules as the HTTP service.

use tutorbook_domain::{Actor, Consent, ConsentDocument, DomainError, Role, UserId};

use crate::{Clock, Error, ProfileUpdate, Result, User, UserStore};

/// Most users one page lists.
pub const MAX_USERS_PAGE: usize = 200;

/// The longest display name, in characters.
pub const MAX_DISPLAY_NAME: usize = 100;

/// The user use cases over a store `S` and a clock `C`.
#[derive(Debug, Clone)]
pub struct Users<S, C> {
    store: S,
    clock: C,
}

impl<S: UserStore, C: Clock> Users<S, C> {
    /// Wires the use cases to their ports.
    pub fn new(store: S, clock: C) -> Self {
        Self { store, clock }
    }

    /// One user, as the store holds them; `not_found` when unknown.
    pub async fn user(&self, id: UserId) -> Result<User> {
        self.store.user(id).await?.ok_or_else(|| Error::not_found("user"))
    }

    /// A teacher by id, for staff acting for them; `invalid_input` when the
    /// user is not a teacher or unknown (the id is a field of their input).
    pub async fn teacher(&self, id: UserId) -> Result<User> {
        super::named_teacher(&self.store, id).await
    }

    /// The actor changes their own profile. A display name is trimmed and
    /// must keep 1 to [`MAX_DISPLAY_NAME`] characters of readable text
    /// (`invalid_text` for control or direction-changing characters).
    pub async fn update_profile(&self, actor: &Actor, mut update: ProfileUpdate) -> Result<User> {
        if let Some(name) = update.display_name.take() {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > MAX_DISPLAY_NAME {
                return Err(DomainError::invalid("display_name", "must be 1 to 100 characters").into());
            }
            tutorbook_domain::check_line("display_name", &name)?;
            update.display_name = Some(name);
        }
        self.store.update_profile(actor.user, update).await
    }

    /// The actor's consent decisions, one per document they decided on.
    pub async fn consents(&self, actor: &Actor) -> Result<Vec<Consent>> {
        self.store.consents(actor.user).await
    }

    /// The actor accepts, refuses or withdraws `document` at `version` (now,
    /// by the clock); answers their decisions afterwards.
    pub async fn decide_consent(
        &self,
        actor: &Actor,
        document: ConsentDocument,
        version: &str,
        granted: bool,
    ) -> Result<Vec<Consent>> {
        let consent = Consent::decide(document, version, granted, self.clock.now())?;
        self.store.record_consent(actor.user, consent).await?;
        self.store.consents(actor.user).await
    }

    /// Staff list users by id after `after`, `limit` (1 to
    /// [`MAX_USERS_PAGE`]) at most, plus whether more follow.
    pub async fn users(&self, actor: &Actor, after: Option<UserId>, limit: usize) -> Result<(Vec<User>, bool)> {
        require_staff(actor)?;
        if !(1..=MAX_USERS_PAGE).contains(&limit) {
            return Err(DomainError::invalid("limit", "must be 1 to 200").into());
        }
        let mut users = self.store.users(after, limit + 1).await?;
        let more = users.len() > limit;
        users.truncate(limit);
        Ok((users, more))
    }

    /// Staff give a user another role.
    pub async fn set_role(&self, actor: &Actor, user: UserId, role: Role) -> Result<User> {
        require_staff(actor)?;
        self.store.set_role(user, role).await
    }
}

fn require_staff(actor: &Actor) -> Result<()> {
    if actor.is_staff() {
        Ok(())
    } else {
        Err(DomainError::Forbidden.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MockUserStore;
    use crate::usecases::testing::{NOW, STAFF, STUDENT, TEACHER, clock};
    use tutorbook_domain::{Locale, Zone};

    fn user(id: UserId, role: Role) -> User {
        User {
            id,
            subject: format!("dev:{id}"),
            role,
            display_name: "Kim".into(),
            email: None,
            zone: Zone::default(),
            locale: Locale::default(),
            created_at: NOW,
        }
    }

    #[tokio::test]
    async fn only_staff_list_users_and_change_roles() {
        let mut store = MockUserStore::new();
        store.expect_users().never();
        store.expect_set_role().never();
        let users = Users::new(store, clock());
        let student = Actor::student(STUDENT);
        assert_eq!(users.users(&student, None, 10).await.unwrap_err().code(), "forbidden");
        assert_eq!(
            users.set_role(&student, STUDENT, Role::Staff).await.unwrap_err().code(),
            "forbidden"
        );

        let mut store = MockUserStore::new();
        store.expect_users().times(1).returning(|_, limit| {
            Ok((0..limit as u128)
                .map(|n| user(UserId::from_uuid(uuid::Uuid::from_u128(n + 1)), Role::Student))
                .collect())
        });
        store
            .expect_set_role()
            .times(1)
            .returning(|id, role| Ok(user(id, role)));
        let users = Users::new(store, clock());
        let staff = Actor::staff(STAFF);
        let (page, more) = users.users(&staff, None, 2).await.unwrap();
        assert_eq!((page.len(), more), (2, true));
        assert_eq!(
            users.set_role(&staff, STUDENT, Role::Teacher).await.unwrap().role,
            Role::Teacher
        );
        assert_eq!(users.users(&staff, None, 0).await.unwrap_err().code(), "invalid_input");
    }

    #[tokio::test]
    async fn a_display_name_is_trimmed_and_bounded() {
        let mut store = MockUserStore::new();
        store.expect_update_profile().times(1).returning(|id, update| {
            assert_eq!(update.display_name.as_deref(), Some("Kim Joon"));
            Ok(user(id, Role::Student))
        });
        let users = Users::new(store, clock());
        let me = Actor::student(STUDENT);
        let update = |name: &str| ProfileUpdate {
            display_name: Some(name.to_owned()),
            zone: None,
            locale: None,
        };
        users.update_profile(&me, update("  Kim Joon ")).await.unwrap();
        assert_eq!(
            users.update_profile(&me, update("   ")).await.unwrap_err().code(),
            "invalid_input"
        );
        let long = "가".repeat(101);
        assert_eq!(
            users.update_profile(&me, update(&long)).await.unwrap_err().code(),
            "invalid_input"
        );
    }

    #[tokio::test]
    async fn a_consent_is_decided_at_the_clocks_now() {
        let mut store = MockUserStore::new();
        store
            .expect_record_consent()
            .withf(|id, consent| *id == STUDENT && consent.decided_at == NOW && consent.granted)
            .times(1)
            .returning(|_, _| Ok(()));
        store.expect_consents().times(1).returning(|_| Ok(Vec::new()));
        let users = Users::new(store, clock());
        let terms = ConsentDocument::Terms;
        users
            .decide_consent(&Actor::student(STUDENT), terms, terms.current_version(), true)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn staff_acting_for_a_teacher_must_name_a_teacher() {
        let mut store = MockUserStore::new();
        store.expect_user().returning(|id| {
            Ok((id != TEACHER).then(|| user(id, if id == STUDENT { Role::Student } else { Role::Teacher })))
        });
        let users = Users::new(store, clock());
        assert_eq!(users.teacher(STUDENT).await.unwrap_err().code(), "invalid_input");
        assert_eq!(
            users.teacher(TEACHER).await.unwrap_err().code(),
            "invalid_input",
            "unknown"
        );
        assert_eq!(users.teacher(STAFF).await.unwrap().role, Role::Teacher);
    }
}
