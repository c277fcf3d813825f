//! The in-memory reminder table, with the SQL stores' semantics: keyed
//! planning, leased claims, settled reminders never change again.

use async_trait::async_trait;
use std::sync::{MutexGuard, PoisonError};
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{BookingId, SlotId};
use tutorbook_ports::Result;
use tutorbook_ports::effects::{NewReminder, Reminder, ReminderStatus, ReminderStore};
use uuid::Uuid;

use crate::MemoryStore;

/// A reminder row: the reminder and when it may next be claimed.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    reminder: Reminder,
    available_at: OffsetDateTime,
}

impl Entry {
    fn same_key(&self, other: &NewReminder) -> bool {
        let mine = &self.reminder.planned;
        (mine.slot, mine.recipient, mine.channel, mine.lead) == (other.slot, other.recipient, other.channel, other.lead)
    }

    fn is_pending(&self) -> bool {
        self.reminder.status == ReminderStatus::Pending
    }
}

impl MemoryStore {
    fn reminder_rows(&self) -> MutexGuard<'_, Vec<Entry>> {
        self.reminders.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl ReminderStore for MemoryStore {
    async fn schedule_reminders(&self, reminders: Vec<NewReminder>) -> Result<()> {
        let mut rows = self.reminder_rows();
        for planned in reminders {
            match rows.iter_mut().find(|e| e.same_key(&planned)) {
                Some(existing) if existing.reminder.status == ReminderStatus::Cancelled => {
                    let id = existing.reminder.planned.id;
                    existing.available_at = planned.due_at;
                    existing.reminder = Reminder {
                        planned: NewReminder { id, ..planned },
                        status: ReminderStatus::Pending,
                        attempts: 0,
                        last_error: None,
                    };
                }
                Some(_) => {}
                None => rows.push(Entry {
                    available_at: planned.due_at,
                    reminder: Reminder {
                        planned,
                        status: ReminderStatus::Pending,
                        attempts: 0,
                        last_error: None,
                    },
                }),
            }
        }
        Ok(())
    }

    async fn cancel_reminders(&self, slot: SlotId, booking: Option<BookingId>) -> Result<()> {
        for entry in self.reminder_rows().iter_mut() {
            let planned = &entry.reminder.planned;
            if entry.is_pending() && planned.slot == slot && booking.is_none_or(|b| planned.booking == Some(b)) {
                entry.reminder.status = ReminderStatus::Cancelled;
            }
        }
        Ok(())
    }

    async fn claim_due_reminders(&self, now: OffsetDateTime, limit: usize, lease: Duration) -> Result<Vec<Reminder>> {
        let mut rows = self.reminder_rows();
        let mut due: Vec<&mut Entry> = rows
            .iter_mut()
            .filter(|e| e.is_pending() && e.reminder.planned.due_at <= now && e.available_at <= now)
            .collect();
        due.sort_by_key(|e| (e.reminder.planned.due_at, e.reminder.planned.id));
        Ok(due
            .into_iter()
            .take(limit)
            .map(|entry| {
                entry.available_at = now + lease;
                entry.reminder.attempts += 1;
                entry.reminder.clone()
            })
            .collect())
    }

    async fn retry_reminder(&self, id: Uuid, error: &str, at: OffsetDateTime) -> Result<()> {
        if let Some(entry) = self
            .reminder_rows()
            .iter_mut()
            .find(|e| e.reminder.planned.id == id && e.is_pending())
        {
            entry.available_at = at;
            entry.reminder.last_error = Some(error.to_owned());
        }
        Ok(())
    }

    async fn finish_reminder(&self, id: Uuid, status: ReminderStatus, error: Option<String>) -> Result<()> {
        if let Some(entry) = self
            .reminder_rows()
            .iter_mut()
            .find(|e| e.reminder.planned.id == id && e.is_pending())
        {
            entry.reminder.status = status;
            if error.is_some() {
                entry.reminder.last_error = error;
            }
        }
        Ok(())
    }

    async fn slot_reminders(&self, slot: SlotId) -> Result<Vec<Reminder>> {
        let mut found: Vec<Reminder> = self
            .reminder_rows()
            .iter()
            .filter(|e| e.reminder.planned.slot == slot)
            .map(|e| e.reminder.clone())
            .collect();
        found.sort_by_key(|r| (r.planned.due_at, r.planned.recipient, r.planned.id));
        Ok(found)
    }
}
