//! An in-memory [`Directory`]: contacts registered by the embedder or test.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tutorbook_domain::UserId;
use tutorbook_ports::{Contact, Directory, Result};

/// Contacts kept in memory. Clones share the same contacts.
#[derive(Debug, Clone, Default)]
pub struct MemoryDirectory {
    contacts: Arc<Mutex<HashMap<UserId, Contact>>>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a contact.
    pub fn insert(&self, contact: Contact) {
        self.contacts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(contact.user, contact);
    }
}

#[async_trait]
impl Directory for MemoryDirectory {
    async fn contact(&self, user: UserId) -> Result<Option<Contact>> {
        Ok(self
            .contacts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&user)
            .cloned())
    }
}
