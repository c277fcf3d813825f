//! Lesson reminders (docs/product.md §12): planned from booking events into a reminder
//! table, sent when due by a scheduler that several instances may run at
//! once, cancelled with the booking.
//!
//! Leads are elapsed time: "24 h before" is 86,400 seconds before the start,
//! whatever the clocks did in between (see decision 0012).

use std::collections::HashMap;

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{BookingId, BookingStatus, DomainEvent, Slot, SlotId, SlotStatus, UserId};
use uuid::Uuid;

use crate::effects::templates::{self, Lesson, Reader};
use crate::effects::worker::{by_slot, in_lanes};
use crate::effects::{EffectError, EffectHandler, Email, Mailer, RetryPolicy};
use crate::{BookingStore, Clock, Directory, IdGen, OutboxMessage, Result};

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

    /// Cancels the pending reminders of `booking`, or every pending reminder
    /// of `slot` when `booking` is `None`.
    async fn cancel_reminders(&self, slot: SlotId, booking: Option<BookingId>) -> Result<()>;

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

/// Plans and cancels reminders from booking events.
#[derive(Debug, Clone)]
pub struct ReminderPlanner<S, C, I> {
    store: S,
    clock: C,
    ids: I,
    plan: ReminderPlan,
}

impl<S, C, I> ReminderPlanner<S, C, I>
where
    S: BookingStore + ReminderStore,
    C: Clock,
    I: IdGen,
{
    /// Wires the planner.
    pub fn new(store: S, clock: C, ids: I, plan: ReminderPlan) -> Self {
        Self {
            store,
            clock,
            ids,
            plan,
        }
    }

    /// Plans the reminders of bookings that are (still) confirmed: each
    /// student's and their teacher's, skipping those already due. One read
    /// of the slots and one write, however many bookings.
    async fn plan(&self, bookings: &[(SlotId, BookingId)]) -> Result<(), EffectError> {
        let ids: Vec<SlotId> = bookings.iter().map(|&(slot, _)| slot).collect();
        let slots: HashMap<SlotId, Slot> = self.store.slots(&ids).await?.into_iter().map(|s| (s.id(), s)).collect();
        let now = self.clock.now();
        let planned: Vec<NewReminder> = bookings
            .iter()
            .filter_map(|(slot, booking)| Some(self.planned(slots.get(slot)?, *booking, now)))
            .flatten()
            .collect();
        if !planned.is_empty() {
            self.store.schedule_reminders(planned).await?;
        }
        Ok(())
    }

    /// The reminders of `booking` on `slot` still ahead at `now`; none when
    /// the booking is no longer confirmed.
    fn planned(&self, slot: &Slot, booking: BookingId, now: OffsetDateTime) -> Vec<NewReminder> {
        let Some(student) = slot.booking(booking).filter(|b| b.status() == BookingStatus::Confirmed) else {
            return Vec::new();
        };
        let start = slot.window().start();
        let mut planned = Vec::new();
        for &(channel, lead) in &self.plan.leads {
            let due_at = start - lead;
            if due_at <= now {
                continue;
            }
            for (recipient, booking) in [(student.student(), Some(booking)), (slot.teacher(), None)] {
                planned.push(NewReminder {
                    id: self.ids.new_id(),
                    slot: slot.id(),
                    booking,
                    recipient,
                    channel,
                    lead,
                    due_at,
                });
            }
        }
        planned
    }

    /// Cancels a booking's reminders, and the teacher's too once nobody is left.
    async fn unplan(&self, slot: SlotId, booking: BookingId) -> Result<(), EffectError> {
        self.store.cancel_reminders(slot, Some(booking)).await?;
        let empty = self
            .store
            .slot(slot)
            .await?
            .is_none_or(|s| confirmed(&s).next().is_none());
        if empty {
            self.store.cancel_reminders(slot, None).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl<S, C, I> EffectHandler for ReminderPlanner<S, C, I>
where
    S: BookingStore + ReminderStore,
    C: Clock,
    I: IdGen,
{
    fn name(&self) -> &'static str {
        "reminders"
    }

    async fn handle(&self, message: &OutboxMessage) -> Result<(), EffectError> {
        match &message.event {
            DomainEvent::BookingConfirmed { slot, booking, .. }
            | DomainEvent::WaitlistPromoted { slot, booking, .. } => self.plan(&[(*slot, *booking)]).await,
            DomainEvent::BookingCancelled { slot, booking, .. }
            | DomainEvent::BookingTeacherCancelled { slot, booking, .. } => self.unplan(*slot, *booking).await,
            DomainEvent::SlotCancelled { slot } => Ok(self.store.cancel_reminders(*slot, None).await?),
            DomainEvent::BookingRescheduled {
                slot,
                booking,
                to,
                moved,
                confirmed,
                ..
            } => {
                // The reminders follow the lesson to its new time.
                self.unplan(*slot, *booking).await?;
                if *confirmed {
                    self.plan(&[(*to, *moved)]).await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Plans the confirmations of the slots that have nothing else in the
    /// pass together (one read, one write: the common case under load);
    /// the slots with cancellations or moves keep their order through
    /// [`EffectHandler::handle`].
    async fn handle_pass(&self, messages: &[&OutboxMessage], concurrency: usize) -> Vec<Result<(), EffectError>> {
        let mut results: Vec<Result<(), EffectError>> = vec![Ok(()); messages.len()];
        let mut confirmed = Vec::new();
        let mut ordered = Vec::new();
        for lane in by_slot(messages) {
            let plans: Option<Vec<(usize, SlotId, BookingId)>> = lane
                .iter()
                .filter_map(|&i| match to_plan(&messages[i].event) {
                    Planning::Plan(slot, booking) => Some(Some((i, slot, booking))),
                    Planning::Nothing => None,
                    Planning::Other => Some(None),
                })
                .collect();
            match plans {
                Some(plans) => confirmed.extend(plans),
                None => ordered.extend(lane),
            }
        }
        if !confirmed.is_empty() {
            let bookings: Vec<(SlotId, BookingId)> = confirmed.iter().map(|&(_, s, b)| (s, b)).collect();
            if let Err(e) = self.plan(&bookings).await {
                // One at a time, so that one bad slot fails its own messages only.
                tracing::warn!(messages = confirmed.len(), error = %e, "a pass's reminder plan failed; planning per message");
                for &(i, slot, booking) in &confirmed {
                    results[i] = self.plan(&[(slot, booking)]).await;
                }
            }
        }
        let rest: Vec<&OutboxMessage> = ordered.iter().map(|&i| messages[i]).collect();
        let done = in_lanes(&rest, concurrency, |message| self.handle(message)).await;
        for (i, result) in ordered.into_iter().zip(done) {
            results[i] = result;
        }
        results
    }
}

/// What an event asks of the planner in a pass.
enum Planning {
    /// Plan this booking's reminders: batched with the pass's others.
    Plan(SlotId, BookingId),
    /// Nothing at all.
    Nothing,
    /// Anything else (cancelling or moving reminders): through
    /// [`EffectHandler::handle`], in order with the slot's other events.
    Other,
}

/// Sorts an event for [`ReminderPlanner::handle_pass`]. Only events known
/// to need nothing are `Nothing`: any other goes through `handle`, so a
/// missed one costs a batch, never a reminder.
fn to_plan(event: &DomainEvent) -> Planning {
    match event {
        DomainEvent::BookingConfirmed { slot, booking, .. } | DomainEvent::WaitlistPromoted { slot, booking, .. } => {
            Planning::Plan(*slot, *booking)
        }
        DomainEvent::SlotOpened { .. }
        | DomainEvent::BookingRequested { .. }
        | DomainEvent::BookingWaitlisted { .. }
        | DomainEvent::SeatOffered { .. }
        | DomainEvent::CreditRedeemed { .. } => Planning::Nothing,
        _ => Planning::Other,
    }
}

/// What one scheduler pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderReport {
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

/// Sends due reminders.
#[derive(Debug, Clone)]
pub struct ReminderScheduler<S, D, M, P, C> {
    store: S,
    directory: D,
    mailer: M,
    push: P,
    clock: C,
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
    /// Wires the scheduler; `policy` gives the batch, lease, backoff and attempts.
    pub fn new(store: S, directory: D, mailer: M, push: P, clock: C, policy: RetryPolicy) -> Self {
        Self {
            store,
            directory,
            mailer,
            push,
            clock,
            policy,
        }
    }

    /// Claims the reminders due now and delivers them.
    pub async fn run_once(&self) -> Result<ReminderReport> {
        let now = self.clock.now();
        let due = self
            .store
            .claim_due_reminders(now, self.policy.batch, self.policy.lease)
            .await?;
        let mut report = ReminderReport {
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
