//! Lesson reminders (docs/product.md §12): planned when they fall due, from
//! the lessons' confirmed students at that moment, into a reminder table;
//! sent by a scheduler that several instances may run at once.
//!
//! Leads are elapsed time: "24 h before" is 86,400 seconds before the start,
//! whatever the clocks did in between (see decision 0012). Nothing is
//! planned when a lesson is booked (decision 0032): a booking costs no
//! reminder write, and a cancelled or moved one has nothing to undo.

use std::collections::HashSet;

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{BookingId, BookingStatus, Slot, SlotId, SlotStatus, UserId};
use uuid::Uuid;

use crate::effects::templates::{self, Lesson, Reader};
use crate::effects::{EffectError, Email, Mailer, RetryPolicy};
use crate::{BookingStore, Clock, Directory, IdGen, Result};

/// How a reminder reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReminderChannel {
    /// An email through the [`Mailer`].
    Email,
    /// A push notification through the [`Push`] port.
    Push,
}

impl ReminderChannel {
    /// `email` or `push`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Push => "push",
        }
    }

    /// The channel named by [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Email, Self::Push].into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a reminder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReminderStatus {
    /// Waiting for its time (or for a retry).
    Pending,
    /// Delivered.
    Sent,
    /// Given up after the maximum attempts or a permanent error.
    Failed,
    /// The booking was cancelled (or the lesson no longer takes place).
    Cancelled,
}

impl ReminderStatus {
    /// `pending`, `sent`, `failed` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status named by [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Sent, Self::Failed, Self::Cancelled]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A reminder to plan. Its key is (slot, recipient, channel, lead): a
/// teacher gets one reminder per lead for a group lesson, not one per student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReminder {
    /// Its id.
    pub id: Uuid,
    /// The lesson.
    pub slot: SlotId,
    /// The student's booking; `None` for the teacher's reminder.
    pub booking: Option<BookingId>,
    /// Who is reminded.
    pub recipient: UserId,
    /// How.
    pub channel: ReminderChannel,
    /// How long before the start.
    pub lead: Duration,
    /// When it is due: the start minus the lead.
    pub due_at: OffsetDateTime,
}

/// A stored reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// What was planned.
    pub planned: NewReminder,
    /// Where it stands.
    pub status: ReminderStatus,
    /// Claims so far, the current one included.
    pub attempts: u32,
    /// The last delivery error.
    pub last_error: Option<String>,
}

/// The reminder table.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReminderStore: Send + Sync {
    /// Adds reminders. One whose key is already pending, sent or failed is
    /// left alone (planning is idempotent); a cancelled one with the same key
    /// (the student booked the slot again) is made pending again for the new booking.
    /// A key repeated within `reminders` (two bookings' teacher reminders)
    /// counts as added one after the other: the first is kept.
    async fn schedule_reminders(&self, reminders: Vec<NewReminder>) -> Result<()>;

    /// Plans the reminders that fell due since the last plan, up to
    /// `through`: for each lead of `plan`, the students confirmed on an open
    /// lesson whose start minus the lead is after the previous plan's
    /// `through` and at or before this one, and the lesson's teacher once,
    /// for lessons that have not started by `through` (see [`due_starts`]
    /// and [`reminders_of`]). The first plan ever takes every reminder due
    /// by `through` for a lesson still ahead. Reminders are added as by
    /// [`Self::schedule_reminders`], and `through` is kept in the same
    /// write: a second planner at the same time waits for the first and then
    /// finds its window planned (Postgres: the plan's row is locked), and a
    /// plan that fails is planned again whole. A `through` at or before the
    /// last plan's plans nothing. New reminders get [`crate::UuidV7`] ids. Returns
    /// how many reminders it planned.
    async fn plan_due_reminders(&self, through: OffsetDateTime, plan: &ReminderPlan) -> Result<usize>;

    /// Claims up to `limit` pending reminders due at `now` for `lease`, most
    /// overdue first: no other claim returns them until the lease lapses
    /// (Postgres: `FOR UPDATE SKIP LOCKED`). Counts an attempt on each.
    async fn claim_due_reminders(&self, now: OffsetDateTime, limit: usize, lease: Duration) -> Result<Vec<Reminder>>;

    /// Puts a claimed reminder back until `at`, keeping `error`.
    async fn retry_reminder(&self, id: Uuid, error: &str, at: OffsetDateTime) -> Result<()>;

    /// Settles a pending reminder as `sent`, `failed` or `cancelled` (with the
    /// error, if any). Settled reminders are never changed again.
    async fn finish_reminder(&self, id: Uuid, status: ReminderStatus, error: Option<String>) -> Result<()>;

    /// Every reminder of a slot, by due time.
    async fn slot_reminders(&self, slot: SlotId) -> Result<Vec<Reminder>>;
}

/// A push notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMessage {
    /// Whom to notify.
    pub user: UserId,
    /// Title line.
    pub title: String,
    /// Body.
    pub body: String,
    /// Idempotency key (stable across redeliveries).
    pub key: String,
}

/// A push channel (mobile or web push).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Push: Send + Sync {
    /// Delivers `message` to the user's devices.
    async fn push(&self, message: &PushMessage) -> Result<(), EffectError>;
}

/// The push channel of a service without one: accepts and drops everything.
/// Plans only include push leads when a real channel is wired.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPush;

#[async_trait]
impl Push for NoPush {
    async fn push(&self, _message: &PushMessage) -> Result<(), EffectError> {
        Ok(())
    }
}

/// Which reminders each confirmed lesson gets, for both parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderPlan {
    /// (channel, lead) pairs.
    pub leads: Vec<(ReminderChannel, Duration)>,
}

impl Default for ReminderPlan {
    /// Email 24 hours and 1 hour before (docs/product.md §12).
    fn default() -> Self {
        Self {
            leads: vec![
                (ReminderChannel::Email, Duration::hours(24)),
                (ReminderChannel::Email, Duration::hours(1)),
            ],
        }
    }
}

/// Confirmed students of a slot with their bookings.
fn confirmed(slot: &Slot) -> impl Iterator<Item = (BookingId, UserId)> + '_ {
    slot.bookings()
        .iter()
        .filter(|b| b.status() == BookingStatus::Confirmed)
        .map(|b| (b.id(), b.student()))
}

/// A confirmed student of a lesson whose reminder falls due, as a store
/// finds them for [`ReminderStore::plan_due_reminders`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueSeat {
    /// The lesson.
    pub slot: SlotId,
    /// Its teacher.
    pub teacher: UserId,
    /// When it starts.
    pub start: OffsetDateTime,
    /// The student's booking.
    pub booking: BookingId,
    /// The student.
    pub student: UserId,
}

/// The starts, `(after, up to and including)`, of the lessons whose `lead`
/// reminder falls due after `planned` (the last plan's `through`; `None`
/// before the first plan) and by `through`, leaving out lessons that have
/// started by `through`; `None` when there are none.
pub fn due_starts(
    planned: Option<OffsetDateTime>,
    through: OffsetDateTime,
    lead: Duration,
) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let after = planned.map_or(through, |planned| (planned + lead).max(through));
    let until = through + lead;
    (after < until).then_some((after, until))
}

/// The `channel` reminders `lead` ahead of the lessons of `seats`: each
/// student's, and each lesson's teacher's once.
pub fn reminders_of(seats: &[DueSeat], channel: ReminderChannel, lead: Duration, ids: &dyn IdGen) -> Vec<NewReminder> {
    let mut teachers = HashSet::new();
    let mut planned = Vec::with_capacity(seats.len() * 2);
    for seat in seats {
        let due_at = seat.start - lead;
        let remind = |recipient, booking| NewReminder {
            id: ids.new_id(),
            slot: seat.slot,
            booking,
            recipient,
            channel,
            lead,
            due_at,
        };
        planned.push(remind(seat.student, Some(seat.booking)));
        if teachers.insert(seat.slot) {
            planned.push(remind(seat.teacher, None));
        }
    }
    planned
}

/// What one scheduler pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderReport {
    /// Reminders planned, those fallen due since the last plan.
    pub planned: usize,
    /// Reminders claimed.
    pub claimed: usize,
    /// Sent.
    pub sent: usize,
    /// Put back for a retry.
    pub retried: usize,
    /// Given up.
    pub failed: usize,
    /// Dropped because the lesson no longer takes place for the recipient.
    pub cancelled: usize,
}

/// Plans the reminders fallen due and sends them.
#[derive(Debug, Clone)]
pub struct ReminderScheduler<S, D, M, P, C> {
    store: S,
    directory: D,
    mailer: M,
    push: P,
    clock: C,
    plan: ReminderPlan,
    policy: RetryPolicy,
}

enum Delivery {
    Sent,
    Retried,
    Failed,
    Cancelled,
}

impl<S, D, M, P, C> ReminderScheduler<S, D, M, P, C>
where
    S: BookingStore + ReminderStore,
    D: Directory,
    M: Mailer,
    P: Push,
    C: Clock,
{
    /// Wires the scheduler, planning [`ReminderPlan::default`]; `policy`
    /// gives the batch, lease, backoff and attempts.
    pub fn new(store: S, directory: D, mailer: M, push: P, clock: C, policy: RetryPolicy) -> Self {
        Self {
            store,
            directory,
            mailer,
            push,
            clock,
            plan: ReminderPlan::default(),
            policy,
        }
    }

    /// Plans `plan`'s reminders instead of the default ones.
    #[must_use]
    pub fn with_plan(mut self, plan: ReminderPlan) -> Self {
        self.plan = plan;
        self
    }

    /// Plans the reminders fallen due by now, then claims those due and
    /// delivers them.
    pub async fn run_once(&self) -> Result<ReminderReport> {
        let now = self.clock.now();
        let planned = self.store.plan_due_reminders(now, &self.plan).await?;
        let due = self
            .store
            .claim_due_reminders(now, self.policy.batch, self.policy.lease)
            .await?;
        let mut report = ReminderReport {
            planned,
            claimed: due.len(),
            ..ReminderReport::default()
        };
        for reminder in &due {
            match self.settle(reminder, now).await {
                Ok(Delivery::Sent) => report.sent += 1,
                Ok(Delivery::Retried) => report.retried += 1,
                Ok(Delivery::Failed) => report.failed += 1,
                Ok(Delivery::Cancelled) => report.cancelled += 1,
                Err(e) => tracing::warn!(reminder = %reminder.planned.id, error = %e, "cannot settle a reminder"),
            }
        }
        Ok(report)
    }

    async fn settle(&self, reminder: &Reminder, now: OffsetDateTime) -> Result<Delivery> {
        let id = reminder.planned.id;
        match self.deliver(reminder, now).await {
            Ok(true) => {
                self.store.finish_reminder(id, ReminderStatus::Sent, None).await?;
                Ok(Delivery::Sent)
            }
            Ok(false) => {
                self.store.finish_reminder(id, ReminderStatus::Cancelled, None).await?;
                Ok(Delivery::Cancelled)
            }
            Err(e) if e.is_retryable() && reminder.attempts < self.policy.max_attempts => {
                let at = now + self.policy.delay_after(reminder.attempts);
                self.store.retry_reminder(id, &e.to_string(), at).await?;
                Ok(Delivery::Retried)
            }
            Err(e) => {
                tracing::error!(reminder = %id, error = %e, "reminder failed for good");
                self.store
                    .finish_reminder(id, ReminderStatus::Failed, Some(e.to_string()))
                    .await?;
                Ok(Delivery::Failed)
            }
        }
    }

    /// Sends one reminder; `false` when the lesson no longer takes place for
    /// its recipient (cancelled booking or slot, or already started).
    async fn deliver(&self, reminder: &Reminder, now: OffsetDateTime) -> Result<bool, EffectError> {
        let r = &reminder.planned;
        let Some(slot) = self.store.slot(r.slot).await? else {
            return Ok(false);
        };
        let mut students = confirmed(&slot).filter(|(b, _)| r.booking.is_none_or(|mine| *b == mine));
        let Some((_, first)) = students.next() else {
            return Ok(false);
        };
        if slot.status() != SlotStatus::Open || slot.window().start() <= now {
            return Ok(false);
        }
        let Some(contact) = self.directory.contact(r.recipient).await? else {
            tracing::warn!(user = %r.recipient.as_uuid(), "no contact: reminder dropped");
            return Ok(false);
        };
        let teacher = self.name(slot.teacher()).await?;
        let mut student = self.name(first).await?;
        for (_, other) in students {
            student.push_str(", ");
            student.push_str(&self.name(other).await?);
        }
        let reader = Reader::of(&contact);
        let lesson = Lesson {
            teacher: &teacher,
            student: &student,
            start: slot.window().start(),
            end: slot.window().end(),
            join_url: slot.meeting().url(),
        };
        let rendered = templates::reminder(&reader, &lesson, r.lead);
        let key = format!("reminder-{}", r.id);
        match r.channel {
            ReminderChannel::Email => {
                let Some(to) = contact.email else {
                    tracing::info!(user = %r.recipient.as_uuid(), "no email address: reminder dropped");
                    return Ok(false);
                };
                let email = Email {
                    to,
                    subject: rendered.subject,
                    text: rendered.text,
                    idempotency_key: key,
                };
                self.mailer.send(&email).await?;
            }
            ReminderChannel::Push => {
                let message = PushMessage {
                    user: r.recipient,
                    title: rendered.subject,
                    body: rendered.text,
                    key,
                };
                self.push.push(&message).await?;
            }
        }
        Ok(true)
    }

    async fn name(&self, user: UserId) -> Result<String, EffectError> {
        Ok(self
            .directory
            .contact(user)
            .await?
            .map_or_else(|| "—".to_owned(), |c| c.display_name))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;
    use crate::UuidV7;

    const NOW: OffsetDateTime = datetime!(2030-03-10 12:00 UTC);

    #[test]
    fn the_first_plan_takes_everything_due_for_lessons_still_ahead() {
        assert_eq!(
            due_starts(None, NOW, Duration::hours(24)),
            Some((NOW, NOW + Duration::hours(24)))
        );
    }

    #[test]
    fn a_plan_takes_the_window_after_the_last_one() {
        let last = NOW - Duration::seconds(30);
        assert_eq!(
            due_starts(Some(last), NOW, Duration::hours(1)),
            Some((last + Duration::hours(1), NOW + Duration::hours(1))),
            "due in (last, now]: starts in (last + 1 h, now + 1 h]"
        );
        // After a long stop: lessons that have started are left out.
        let long_ago = NOW - Duration::days(3);
        assert_eq!(
            due_starts(Some(long_ago), NOW, Duration::hours(1)),
            Some((NOW, NOW + Duration::hours(1)))
        );
    }

    #[test]
    fn a_plan_at_or_before_the_last_one_takes_nothing() {
        assert_eq!(due_starts(Some(NOW), NOW, Duration::hours(1)), None);
        assert_eq!(
            due_starts(Some(NOW + Duration::minutes(1)), NOW, Duration::hours(1)),
            None
        );
    }

    #[test]
    fn each_student_and_each_teacher_once_per_lesson() {
        let (group, single) = (SlotId::from(Uuid::from_u128(1)), SlotId::from(Uuid::from_u128(2)));
        let teacher = UserId::from(Uuid::from_u128(10));
        let start = NOW + Duration::hours(1);
        let seat = |slot, n: u128| DueSeat {
            slot,
            teacher,
            start,
            booking: BookingId::from(Uuid::from_u128(100 + n)),
            student: UserId::from(Uuid::from_u128(20 + n)),
        };
        let seats = [seat(group, 1), seat(group, 2), seat(single, 3)];
        let planned = reminders_of(&seats, ReminderChannel::Email, Duration::hours(1), &UuidV7);
        let who: Vec<(SlotId, UserId, Option<BookingId>)> =
            planned.iter().map(|r| (r.slot, r.recipient, r.booking)).collect();
        assert_eq!(
            who,
            [
                (group, seats[0].student, Some(seats[0].booking)),
                (group, teacher, None),
                (group, seats[1].student, Some(seats[1].booking)),
                (single, seats[2].student, Some(seats[2].booking)),
                (single, teacher, None),
            ]
        );
        assert!(planned.iter().all(|r| r.due_at == NOW && r.lead == Duration::hours(1)));
        let ids: HashSet<Uuid> = planned.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), planned.len(), "fresh ids");
    }
}
