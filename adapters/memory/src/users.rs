//! Users, consents, the [`Directory`] and idempotency keys in memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::{MutexGuard, PoisonError};

use async_trait::async_trait;
use time::OffsetDateTime;
use tutorbook_domain::{Consent, ConsentDocument, Role, UserId};
use tutorbook_ports::{
    Claim, Contact, Directory, Error, IdempotencyRecord, IdempotencyStore, ProfileUpdate, Result, StoredResponse, User,
    UserStore,
};

use crate::MemoryStore;

/// The account data of a [`MemoryStore`].
#[derive(Debug, Default)]
pub(crate) struct Accounts {
    /// By id; a `BTreeMap` so listing pages by id like the SQL stores.
    users: BTreeMap<UserId, User>,
    subjects: HashMap<String, UserId>,
    consents: HashMap<(UserId, ConsentDocument), Consent>,
    pub(crate) keys: HashMap<(UserId, String), IdempotencyRecord>,
}

impl MemoryStore {
    pub(crate) fn accounts(&self) -> MutexGuard<'_, Accounts> {
        // Every change below is a single insert or field write: a poisoned
        // lock cannot hide a half-made change.
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Accounts {
    fn user_mut(&mut self, id: UserId) -> Result<&mut User> {
        self.users.get_mut(&id).ok_or_else(|| Error::not_found("user"))
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: User) -> Result<User> {
        let mut accounts = self.accounts();
        if let Some(existing) = accounts.subjects.get(&user.subject) {
            return accounts
                .users
                .get(existing)
                .cloned()
                .ok_or_else(|| Error::Storage("subject index points at no user".into()));
        }
        if accounts.users.contains_key(&user.id) {
            return Err(Error::Storage(format!("user id {} already taken", user.id)));
        }
        accounts.subjects.insert(user.subject.clone(), user.id);
        accounts.users.insert(user.id, user.clone());
        Ok(user)
    }

    async fn user_by_subject(&self, subject: &str) -> Result<Option<User>> {
        let accounts = self.accounts();
        Ok(accounts
            .subjects
            .get(subject)
            .and_then(|id| accounts.users.get(id))
            .cloned())
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.accounts().users.get(&id).cloned())
    }

    async fn users(&self, after: Option<UserId>, limit: usize) -> Result<Vec<User>> {
        let accounts = self.accounts();
        Ok(accounts
            .users
            .values()
            .filter(|u| after.is_none_or(|a| u.id > a))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn set_role(&self, id: UserId, role: Role) -> Result<User> {
        let mut accounts = self.accounts();
        let user = accounts.user_mut(id)?;
        user.role = role;
        Ok(user.clone())
    }

    async fn update_profile(&self, id: UserId, update: ProfileUpdate) -> Result<User> {
        let mut accounts = self.accounts();
        let user = accounts.user_mut(id)?;
        if let Some(name) = update.display_name {
            user.display_name = name;
        }
        if let Some(zone) = update.zone {
            user.zone = zone;
        }
        if let Some(locale) = update.locale {
            user.locale = locale;
        }
        Ok(user.clone())
    }

    async fn consents(&self, id: UserId) -> Result<Vec<Consent>> {
        let accounts = self.accounts();
        let mut found: Vec<Consent> = accounts
            .consents
            .iter()
            .filter(|((user, _), _)| *user == id)
            .map(|(_, c)| c.clone())
            .collect();
        found.sort_by_key(|c| c.document);
        Ok(found)
    }

    async fn record_consent(&self, id: UserId, consent: Consent) -> Result<()> {
        let mut accounts = self.accounts();
        accounts.user_mut(id)?;
        accounts.consents.insert((id, consent.document), consent);
        Ok(())
    }
}

#[async_trait]
impl Directory for MemoryStore {
    async fn contact(&self, user: UserId) -> Result<Option<Contact>> {
        Ok(self.accounts().users.get(&user).map(User::contact))
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn record(&self, user: UserId, key: &str) -> Result<Option<IdempotencyRecord>> {
        Ok(self.accounts().keys.get(&(user, key.to_owned())).cloned())
    }

    async fn complete(&self, claim: &Claim, now: OffsetDateTime, response: StoredResponse) -> Result<()> {
        let mut accounts = self.accounts();
        let record = accounts
            .keys
            .entry((claim.user, claim.key.clone()))
            .or_insert_with(|| IdempotencyRecord {
                fingerprint: claim.fingerprint.clone(),
                answer: None,
                response: None,
                created_at: now,
            });
        if record.fingerprint == claim.fingerprint {
            record.response = Some(response);
        }
        Ok(())
    }

    async fn purge_before(&self, cutoff: OffsetDateTime) -> Result<u64> {
        let mut accounts = self.accounts();
        let before = accounts.keys.len();
        accounts.keys.retain(|_, record| record.created_at >= cutoff);
        Ok(u64::try_from(before - accounts.keys.len()).unwrap_or(u64::MAX))
    }
}
