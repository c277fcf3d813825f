//! Who a user is to the outside world: the address and language a message
//! goes to, and the zone its times are shown in. The service's user store
//! implements it; an embedder with its own user system plugs in theirs.

use async_trait::async_trait;
use tutorbook_domain::{Locale, Role, UserId, Zone};

use crate::Result;

/// How to reach a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The user.
    pub user: UserId,
    /// Their role.
    pub role: Role,
    /// Their display name.
    pub display_name: String,
    /// Where email goes; `None` when the user has no address on file.
    pub email: Option<String>,
    /// The language of their messages.
    pub locale: Locale,
    /// The zone their times are shown in.
    pub zone: Zone,
}

/// Looks users up for notifications and calendar invitations.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Directory: Send + Sync {
    /// The user's contact details, `None` for an unknown user.
    async fn contact(&self, user: UserId) -> Result<Option<Contact>>;

    /// The contacts of those among `users` who are known, each once, in no
    /// particular order: one read for a whole batch of emails. The default
    /// asks [`Directory::contact`] for each; a directory behind a database
    /// answers in one query.
    async fn contacts(&self, users: &[UserId]) -> Result<Vec<Contact>> {
        let mut contacts = Vec::with_capacity(users.len());
        for (i, user) in users.iter().enumerate() {
            if users[..i].contains(user) {
                continue;
            }
            if let Some(contact) = self.contact(*user).await? {
                contacts.push(contact);
            }
        }
        Ok(contacts)
    }
}
