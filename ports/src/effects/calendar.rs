//! One calendar event per slot (docs/product.md §11): the [`Calendar`] port, the store
//! port that records a sync's result on the slot, and the [`CalendarSync`]
//! handler that reconciles the event with the slot's confirmed roster after
//! every roster change.

use async_trait::async_trait;
use time::OffsetDateTime;
use tutorbook_domain::{BookingStatus, CalendarStatus, DomainEvent, MeetingProvider, Slot, SlotId, UserId, Zone};

use crate::effects::{EffectError, EffectHandler};
use crate::{BookingStore, Directory, OutboxMessage, Result};

/// The event a slot should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpec {
    /// The id to create the event under: derived from the slot, so a create
    /// repeated after a crash finds the first one instead of duplicating it.
    pub id: String,
    /// Title.
    pub summary: String,
    /// Body text.
    pub description: String,
    /// Start instant.
    pub start: OffsetDateTime,
    /// End instant.
    pub end: OffsetDateTime,
    /// The teacher's zone (calendar clients show the event in it).
    pub zone: Zone,
    /// Attendees' addresses: the teacher and every confirmed student with an address.
    pub attendees: Vec<String>,
    /// Whether the event should carry a Google Meet conference.
    pub with_meet: bool,
}

/// An event as the calendar holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    /// The calendar's event id.
    pub event_id: String,
    /// The Meet link, when the event has a conference.
    pub meet_url: Option<String>,
}

/// A calendar that holds one event per slot, owned by a central organizer.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Calendar: Send + Sync {
    /// Creates the event under `spec.id`; when an event with that id already
    /// exists (a create repeated after a crash), updates it to `spec` instead.
    async fn create_event(&self, spec: &EventSpec) -> Result<EventRef, EffectError>;
    /// Replaces the event's times and attendees with `spec`'s.
    async fn update_event(&self, event_id: &str, spec: &EventSpec) -> Result<EventRef, EffectError>;
    /// Deletes the event; one that is already gone counts as deleted.
    async fn delete_event(&self, event_id: &str) -> Result<(), EffectError>;
}

/// What a sync leaves on the slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarState {
    /// The event id, `None` once the event was deleted.
    pub event_id: Option<String>,
    /// The slot's meeting URL after the sync (the Meet link, or the
    /// teacher's own link left as it was).
    pub meeting_url: Option<String>,
    /// The outcome.
    pub status: CalendarStatus,
}

/// Records calendar sync results on slots.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CalendarStore: Send + Sync {
    /// Writes the event id, the meeting URL and the calendar status of
    /// `slot`, and nothing else (serialised with the slot's other changes).
    /// `not_found` (entity `slot`) when it does not exist.
    async fn save_calendar(&self, slot: SlotId, state: CalendarState) -> Result<()>;
}

/// How many times one sync re-reads the roster after writing the event
/// before leaving the rest to the events of the changes it saw.
const CONVERGE_ROUNDS: usize = 3;

/// Keeps each slot's calendar event in line with its confirmed roster.
#[derive(Debug, Clone)]
pub struct CalendarSync<S, D, C> {
    store: S,
    directory: D,
    calendar: C,
}

impl<S, D, C> CalendarSync<S, D, C>
where
    S: BookingStore + CalendarStore,
    D: Directory,
    C: Calendar,
{
    /// Wires the handler.
    pub fn new(store: S, directory: D, calendar: C) -> Self {
        Self {
            store,
            directory,
            calendar,
        }
    }

    /// Reconciles the slot's event with its confirmed roster and records the
    /// outcome: `pending` while the calendar is called, then `synced`, or
    /// `failed` with the error returned for a retry.
    ///
    /// Two workers may sync one slot at once from two events. Each re-reads
    /// the roster after writing the event and writes again if it changed, so
    /// the last write to the calendar always reflects the latest roster.
    pub async fn sync(&self, id: SlotId) -> Result<(), EffectError> {
        for _ in 0..CONVERGE_ROUNDS {
            let slot = self.load(id).await?;
            let roster = roster_of(&slot);
            match self.apply(&slot, &roster).await {
                Ok(Some(state)) => self.store.save_calendar(id, state).await?,
                Ok(None) => {}
                Err(error) => {
                    let meeting = slot.meeting();
                    let failed = CalendarState {
                        event_id: meeting.calendar_event_id().map(str::to_owned),
                        meeting_url: meeting.url().map(str::to_owned),
                        status: CalendarStatus::Failed,
                    };
                    self.store.save_calendar(id, failed).await?;
                    return Err(error);
                }
            }
            if roster == roster_of(&self.load(id).await?) {
                return Ok(());
            }
        }
        Ok(())
    }

    async fn load(&self, id: SlotId) -> Result<Slot, EffectError> {
        self.store
            .slot(id)
            .await?
            .ok_or_else(|| EffectError::Permanent(format!("slot {} not found", id.as_uuid())))
    }

    /// Makes the calendar match `roster`; the state to record, or `None` when
    /// there was nothing to do.
    async fn apply(&self, slot: &Slot, roster: &[UserId]) -> Result<Option<CalendarState>, EffectError> {
        let meeting = slot.meeting();
        let with_meet = meeting.provider() == MeetingProvider::GoogleMeet
            && (meeting.url().is_none() || meeting.calendar_event_id().is_some());
        let spec_id = event_id_of(slot.id());
        if roster.is_empty() {
            let known = meeting.calendar_event_id().map(str::to_owned);
            // A failed or interrupted create may have left an event under the derived id.
            let target = match (known, meeting.calendar_status()) {
                (Some(id), _) => id,
                (None, CalendarStatus::Failed | CalendarStatus::Pending) => spec_id,
                (None, _) => return Ok(None),
            };
            self.mark_pending(slot).await?;
            self.calendar.delete_event(&target).await?;
            return Ok(Some(CalendarState {
                event_id: None,
                meeting_url: if with_meet {
                    None
                } else {
                    meeting.url().map(str::to_owned)
                },
                status: CalendarStatus::Synced,
            }));
        }
        let spec = self.spec(slot, roster, spec_id, with_meet).await?;
        self.mark_pending(slot).await?;
        let event = match meeting.calendar_event_id() {
            Some(existing) => self.calendar.update_event(existing, &spec).await?,
            None => self.calendar.create_event(&spec).await?,
        };
        Ok(Some(CalendarState {
            event_id: Some(event.event_id),
            meeting_url: if with_meet {
                event.meet_url.or_else(|| meeting.url().map(str::to_owned))
            } else {
                meeting.url().map(str::to_owned)
            },
            status: CalendarStatus::Synced,
        }))
    }

    /// Records that a calendar call is under way (`pending`): a slot left
    /// `pending` tells an operator a sync was interrupted; the outbox retries it.
    async fn mark_pending(&self, slot: &Slot) -> Result<(), EffectError> {
        let meeting = slot.meeting();
        if meeting.calendar_status() == CalendarStatus::Pending {
            return Ok(());
        }
        let pending = CalendarState {
            event_id: meeting.calendar_event_id().map(str::to_owned),
            meeting_url: meeting.url().map(str::to_owned),
            status: CalendarStatus::Pending,
        };
        Ok(self.store.save_calendar(slot.id(), pending).await?)
    }

    async fn spec(
        &self,
        slot: &Slot,
        roster: &[UserId],
        id: String,
        with_meet: bool,
    ) -> Result<EventSpec, EffectError> {
        let teacher = self.directory.contact(slot.teacher()).await?;
        let teacher_name = teacher.as_ref().map_or("", |c| c.display_name.as_str()).to_owned();
        let mut attendees: Vec<String> = teacher.and_then(|c| c.email).into_iter().collect();
        for student in roster {
            if let Some(email) = self.directory.contact(*student).await?.and_then(|c| c.email) {
                attendees.push(email);
            }
        }
        let summary = if teacher_name.is_empty() {
            "Lesson".to_owned()
        } else {
            format!("Lesson with {teacher_name}")
        };
        let mut description = "Booked on tutorbook.".to_owned();
        if !with_meet && let Some(url) = slot.meeting().url() {
            description.push_str(&format!("\nJoin: {url}"));
        }
        Ok(EventSpec {
            id,
            summary,
            description,
            start: slot.window().start(),
            end: slot.window().end(),
            zone: slot.zone(),
            attendees,
            with_meet,
        })
    }
}

/// The confirmed students of a slot, in booking order.
fn roster_of(slot: &Slot) -> Vec<UserId> {
    slot.bookings()
        .iter()
        .filter(|b| b.status() == BookingStatus::Confirmed)
        .map(|b| b.student())
        .collect()
}

/// The calendar event id of a slot: its UUID in lower-case hex, which fits
/// Google's event id alphabet (base32hex, 5 to 1024 characters).
pub fn event_id_of(slot: SlotId) -> String {
    slot.as_uuid().simple().to_string()
}

/// The slot whose roster an event changed, if any.
fn roster_change(event: &DomainEvent) -> Option<SlotId> {
    match event {
        DomainEvent::BookingConfirmed { slot, .. }
        | DomainEvent::WaitlistPromoted { slot, .. }
        | DomainEvent::BookingCancelled { slot, .. }
        | DomainEvent::BookingTeacherCancelled { slot, .. }
        | DomainEvent::SeatReleased { slot, .. }
        | DomainEvent::SlotCancelled { slot }
        | DomainEvent::CreditRedeemed { slot, .. } => Some(*slot),
        _ => None,
    }
}

#[async_trait]
impl<S, D, C> EffectHandler for CalendarSync<S, D, C>
where
    S: BookingStore + CalendarStore,
    D: Directory,
    C: Calendar,
{
    fn name(&self) -> &'static str {
        "calendar"
    }

    async fn handle(&self, message: &OutboxMessage) -> Result<(), EffectError> {
        if let DomainEvent::BookingRescheduled { slot, to, .. } = &message.event {
            // Both rosters changed: the student leaves one event and joins the other.
            self.sync(*slot).await?;
            return self.sync(*to).await;
        }
        match roster_change(&message.event) {
            Some(slot) => self.sync(slot).await,
            None => Ok(()),
        }
    }
}
