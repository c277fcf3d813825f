//! The in-memory reminder table, with the SQL stores' semantics: keyed
//! planning of the reminders fallen due since the last plan, leased claims,
//! settled reminders never change again.

use async_trait::async_trait;
use std::sync::{MutexGuard, PoisonError};
use time::{Duration, OffsetDateTime};
use tutorbook_domain::SlotId;
use tutorbook_ports::effects::{
    NewReminder, Reminder, ReminderPlan, ReminderStatus, ReminderStore, due_starts, reminders_of,
};
use tutorbook_ports::{Result, UuidV7};
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

/// The reminder table and the end of the last plan's window.
#[derive(Debug, Default)]
pub(crate) struct Reminders {
    rows: Vec<Entry>,
    planned_through: Option<OffsetDateTime>,
}

impl MemoryStore {
    fn reminder_rows(&self) -> MutexGuard<'_, Reminders> {
        self.reminders.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Reminders {
    fn add(&mut self, reminders: Vec<NewReminder>) {
        let rows = &mut self.rows;
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
    }
}

#[async_trait]
impl ReminderStore for MemoryStore {
    async fn schedule_reminders(&self, reminders: Vec<NewReminder>) -> Result<()> {
        self.reminder_rows().add(reminders);
        Ok(())
    }

    async fn plan_due_reminders(&self, through: OffsetDateTime, plan: &ReminderPlan) -> Result<usize> {
        // The table stays locked while the lessons are read, as the SQL
        // stores lock the plan's row: two plans never take one window.
        let mut table = self.reminder_rows();
        let mut planned = Vec::new();
        for &(channel, lead) in &plan.leads {
            if let Some((after, until)) = due_starts(table.planned_through, through, lead) {
                planned.extend(reminders_of(&self.due_seats(after, until), channel, lead, &UuidV7));
            }
        }
        let count = planned.len();
        table.add(planned);
        if table.planned_through.is_none_or(|last| last < through) {
            table.planned_through = Some(through);
        }
        Ok(count)
    }

    async fn claim_due_reminders(&self, now: OffsetDateTime, limit: usize, lease: Duration) -> Result<Vec<Reminder>> {
        let mut table = self.reminder_rows();
        let mut due: Vec<&mut Entry> = table
            .rows
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
            .rows
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
            .rows
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
            .rows
            .iter()
            .filter(|e| e.reminder.planned.slot == slot)
            .map(|e| e.reminder.clone())
            .collect();
        found.sort_by_key(|r| (r.planned.due_at, r.planned.recipient, r.planned.id));
        Ok(found)
    }
}
