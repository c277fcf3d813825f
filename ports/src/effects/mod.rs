//! After-commit side effects: the outbox worker and what it drives (emails,
//! calendar events, reminders), with the ports those effects go through.
//! Nothing here runs inside a store transaction, and nothing here can undo
//! or block a booking: a failure is recorded and retried.

mod calendar;
mod failure;
mod mailer;
mod notifications;
mod reminders;
pub mod templates;
mod worker;

pub use calendar::{Calendar, CalendarState, CalendarStore, CalendarSync, EventRef, EventSpec, event_id_of};
pub use failure::EffectError;
pub use mailer::{Email, LogMailer, Mailer};
pub use notifications::Notifications;
pub use reminders::{
    DueSeat, NewReminder, NoPush, Push, PushMessage, Reminder, ReminderChannel, ReminderPlan, ReminderReport,
    ReminderScheduler, ReminderStatus, ReminderStore, due_starts, reminders_of,
};
pub use worker::{EffectHandler, OutboxWorker, PassReport, RetryPolicy};

#[cfg(any(test, feature = "mock"))]
pub use calendar::{MockCalendar, MockCalendarStore};
#[cfg(any(test, feature = "mock"))]
pub use mailer::MockMailer;
#[cfg(any(test, feature = "mock"))]
pub use reminders::{MockPush, MockReminderStore};
