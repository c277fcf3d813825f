//! The callers (a user with their consents) that SQLite answered, kept in
//! memory for the next request of the same caller.
//!
//! Every authenticated request reads its caller first. On SQLite that read
//! cost about a seventh of a booking's service time: each commit makes
//! every read connection drop its page cache, so the read goes back to the
//! file (docs/performance.md). One process owns a SQLite database
//! (docs/persistence.md), and every write to a user or their consents goes
//! through this store, which forgets that user once the write has ended:
//! what is kept is what the database holds. On Postgres several instances
//! share the database, so nothing is kept there.
//!
//! A read that raced a write must not keep what it read before the write
//! committed: [`Callers::find`] hands out the generation it looked at,
//! every [`Callers::forget`] moves the generation on, and
//! [`Callers::keep`] keeps nothing seen at an older one.

use std::collections::HashMap;
use std::sync::Mutex;

use tutorbook_domain::{Consent, UserId};
use tutorbook_ports::User;

use crate::users::Who;

/// Callers kept at most; one more replaces one of them. About 2 MB.
const MAX_CALLERS: usize = 10_000;

/// A user with their consents, as `UserStore::user_with_consents` answers.
pub(crate) type Caller = (User, Vec<Consent>);

#[derive(Debug, Default)]
pub(crate) struct Callers {
    inner: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    /// Moved on by every [`Callers::forget`].
    generation: u64,
    by_id: HashMap<UserId, Caller>,
    /// A user's subject never changes and users are never deleted, so an
    /// id found by subject stays right; the caller itself is in `by_id`.
    ids: HashMap<String, UserId>,
}

impl Callers {
    /// The kept caller, or the generation to hand to [`Callers::keep`]
    /// with what the database answers instead.
    pub fn find(&self, who: Who<'_>) -> Result<Caller, u64> {
        let kept = self.lock();
        let id = match who {
            Who::Id(id) => Some(id),
            Who::Subject(subject) => kept.ids.get(subject).copied(),
        };
        id.and_then(|id| kept.by_id.get(&id).cloned()).ok_or(kept.generation)
    }

    /// Keeps `caller`, read at `generation`, unless a user was forgotten since.
    pub fn keep(&self, generation: u64, caller: &Caller) {
        let mut kept = self.lock();
        if kept.generation != generation {
            return;
        }
        let id = caller.0.id;
        if kept.by_id.len() >= MAX_CALLERS
            && !kept.by_id.contains_key(&id)
            && let Some(any) = kept.by_id.keys().next().copied()
        {
            kept.by_id.remove(&any);
        }
        if kept.ids.len() >= MAX_CALLERS && !kept.ids.contains_key(&caller.0.subject) {
            kept.ids.clear();
        }
        kept.ids.insert(caller.0.subject.clone(), id);
        kept.by_id.insert(id, caller.clone());
    }

    /// Drops the user `id`: called when a write to the user or their
    /// consents has ended, committed or not.
    pub fn forget(&self, id: UserId) {
        let mut kept = self.lock();
        kept.generation += 1;
        kept.by_id.remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // The map is whole after any panic (no step leaves it half-changed).
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use tutorbook_domain::{ConsentDocument, Locale, Role, Zone};
    use uuid::Uuid;

    use super::*;

    fn caller(subject: &str) -> Caller {
        let user = User {
            id: UserId::from_uuid(Uuid::now_v7()),
            subject: subject.into(),
            role: Role::Student,
            display_name: "Kim".into(),
            email: None,
            zone: Zone::parse_or_default(None),
            locale: Locale::default(),
            created_at: datetime!(2026-01-01 0:00 UTC),
        };
        (user, Vec::new())
    }

    #[test]
    fn a_kept_caller_is_found_by_id_and_by_subject() {
        let callers = Callers::default();
        let kim = caller("host:kim");
        let seen = callers.find(Who::Id(kim.0.id)).unwrap_err();
        callers.keep(seen, &kim);
        assert_eq!(callers.find(Who::Id(kim.0.id)), Ok(kim.clone()));
        assert_eq!(callers.find(Who::Subject("host:kim")), Ok(kim));
        assert!(callers.find(Who::Subject("host:lee")).is_err());
    }

    #[test]
    fn a_forgotten_caller_is_read_again() {
        let callers = Callers::default();
        let kim = caller("host:kim");
        callers.keep(callers.find(Who::Id(kim.0.id)).unwrap_err(), &kim);
        callers.forget(kim.0.id);
        assert!(callers.find(Who::Id(kim.0.id)).is_err());
        assert!(callers.find(Who::Subject("host:kim")).is_err());
    }

    #[test]
    fn what_was_read_before_a_write_ended_is_not_kept() {
        let callers = Callers::default();
        let kim = caller("host:kim");
        let seen = callers.find(Who::Id(kim.0.id)).unwrap_err();
        // A consent is recorded while the read is under way ...
        callers.forget(kim.0.id);
        // ... so what the read answered may be from before it.
        callers.keep(seen, &kim);
        assert!(callers.find(Who::Id(kim.0.id)).is_err());
        // The next read keeps what it finds.
        let mut consented = kim.clone();
        consented
            .1
            .push(Consent::decide(ConsentDocument::Terms, "v1.0", true, datetime!(2026-01-02 0:00 UTC)).unwrap());
        callers.keep(callers.find(Who::Id(kim.0.id)).unwrap_err(), &consented);
        assert_eq!(callers.find(Who::Id(kim.0.id)), Ok(consented));
    }

    #[test]
    fn the_kept_callers_are_bounded() {
        let callers = Callers::default();
        for n in 0..MAX_CALLERS + 10 {
            let one = caller(&format!("host:{n}"));
            callers.keep(callers.find(Who::Id(one.0.id)).unwrap_err(), &one);
        }
        let kept = callers.lock();
        assert_eq!(kept.by_id.len(), MAX_CALLERS);
        assert!(kept.ids.len() <= MAX_CALLERS);
    }
}
