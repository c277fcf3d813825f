//! In-memory effect adapters for tests and demos: a mailer that records what
//! it was asked to send, and a calendar that holds events in a map. Both can
//! be told to fail, to exercise retries.

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tutorbook_ports::effects::{Calendar, EffectError, Email, EventRef, EventSpec, Mailer};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records every email it is asked to send. Clones share the record.
#[derive(Debug, Clone, Default)]
pub struct MemoryMailer {
    sent: Arc<Mutex<Vec<Email>>>,
    failures: Arc<Mutex<u32>>,
}

impl MemoryMailer {
    /// A mailer that accepts everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every email accepted so far, in order (a redelivery appears twice).
    pub fn sent(&self) -> Vec<Email> {
        lock(&self.sent).clone()
    }

    /// The next `n` sends fail with a retryable error.
    pub fn fail_next(&self, n: u32) {
        *lock(&self.failures) = n;
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, email: &Email) -> Result<(), EffectError> {
        {
            let mut failures = lock(&self.failures);
            if *failures > 0 {
                *failures -= 1;
                return Err(EffectError::Retryable("mail server unavailable (simulated)".into()));
            }
        }
        lock(&self.sent).push(email.clone());
        Ok(())
    }
}

/// A calendar holding events in memory, keyed by event id.
#[derive(Debug, Clone, Default)]
pub struct MemoryCalendar {
    events: Arc<Mutex<BTreeMap<String, EventSpec>>>,
    failures: Arc<Mutex<u32>>,
}

impl MemoryCalendar {
    /// An empty calendar.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events it holds.
    pub fn events(&self) -> BTreeMap<String, EventSpec> {
        lock(&self.events).clone()
    }

    /// The next `n` calls fail with a retryable error.
    pub fn fail_next(&self, n: u32) {
        *lock(&self.failures) = n;
    }

    fn check(&self) -> Result<(), EffectError> {
        let mut failures = lock(&self.failures);
        if *failures > 0 {
            *failures -= 1;
            return Err(EffectError::Retryable("calendar unavailable (simulated)".into()));
        }
        Ok(())
    }

    fn store(&self, id: &str, spec: &EventSpec) -> EventRef {
        lock(&self.events).insert(id.to_owned(), spec.clone());
        EventRef {
            event_id: id.to_owned(),
            meet_url: spec.with_meet.then(|| format!("https://meet.example/{id}")),
        }
    }
}

#[async_trait]
impl Calendar for MemoryCalendar {
    async fn create_event(&self, spec: &EventSpec) -> Result<EventRef, EffectError> {
        self.check()?;
        Ok(self.store(&spec.id, spec))
    }

    async fn update_event(&self, event_id: &str, spec: &EventSpec) -> Result<EventRef, EffectError> {
        self.check()?;
        Ok(self.store(event_id, spec))
    }

    async fn delete_event(&self, event_id: &str) -> Result<(), EffectError> {
        self.check()?;
        lock(&self.events).remove(event_id);
        Ok(())
    }
}
