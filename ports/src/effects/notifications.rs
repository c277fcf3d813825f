//! Emails derived from booking events (docs/product.md §12): request → teacher;
//! confirmation, decline, expiry, teacher cancellation with credit, refund,
//! waitlist promotion, seat offer and its expiry (docs/waitlists.md) →
//! student; a rescheduled lesson → both.

use std::collections::HashMap;

use async_trait::async_trait;
use tutorbook_domain::{DomainEvent, EnrollmentId, Money, Slot, SlotId, UserId};

use crate::effects::templates::{self, Lesson, Reader, Rendered};
use crate::effects::worker::in_lanes;
use crate::effects::{EffectError, EffectHandler, Email, Mailer};
use crate::{BookingStore, Contact, Directory, OutboxMessage, PackageStore};

/// Sends the emails an event calls for, addressed through a [`Directory`].
#[derive(Debug, Clone)]
pub struct Notifications<S, D, M> {
    store: S,
    directory: D,
    mailer: M,
}

/// The slots and contacts a pass's emails need, read once for the pass.
#[derive(Default)]
struct Known {
    slots: HashMap<SlotId, Slot>,
    contacts: HashMap<UserId, Contact>,
}

/// The slot an event's email is about (the lesson's new slot for a
/// rescheduled one) and the people it names: the student, and the teacher
/// when they are a recipient. `None` for events that send no email.
fn needs(event: &DomainEvent) -> Option<(Option<SlotId>, UserId, Option<UserId>)> {
    match event {
        DomainEvent::BookingRequested {
            slot, student, teacher, ..
        }
        | DomainEvent::BookingRescheduled {
            to: slot,
            student,
            teacher,
            ..
        } => Some((Some(*slot), *student, Some(*teacher))),
        DomainEvent::BookingConfirmed { slot, student, .. }
        | DomainEvent::BookingDeclined { slot, student, .. }
        | DomainEvent::BookingExpired { slot, student, .. }
        | DomainEvent::WaitlistPromoted { slot, student, .. }
        | DomainEvent::SeatOffered { slot, student, .. }
        | DomainEvent::OfferExpired { slot, student, .. }
        | DomainEvent::BookingTeacherCancelled { slot, student, .. } => Some((Some(*slot), *student, None)),
        DomainEvent::EnrollmentRefunded { student, .. } => Some((None, *student, None)),
        _ => None,
    }
}

impl<S, D, M> Notifications<S, D, M>
where
    S: BookingStore + PackageStore,
    D: Directory,
    M: Mailer,
{
    /// Wires the handler.
    pub fn new(store: S, directory: D, mailer: M) -> Self {
        Self {
            store,
            directory,
            mailer,
        }
    }

    /// Reads what the emails of `messages` need in two reads: their slots,
    /// then the contacts of everyone named, teachers included.
    async fn look_up(&self, messages: &[&OutboxMessage]) -> Result<Known, EffectError> {
        let mut slots = Vec::new();
        let mut users = Vec::new();
        for (slot, student, teacher) in messages.iter().filter_map(|m| needs(&m.event)) {
            slots.extend(slot);
            users.push(student);
            users.extend(teacher);
        }
        if slots.is_empty() && users.is_empty() {
            return Ok(Known::default());
        }
        let slots = self.store.slots(&slots).await?;
        users.extend(slots.iter().map(Slot::teacher));
        let contacts = self.directory.contacts(&users).await?;
        Ok(Known {
            slots: slots.into_iter().map(|s| (s.id(), s)).collect(),
            contacts: contacts.into_iter().map(|c| (c.user, c)).collect(),
        })
    }

    /// Sends the emails one message calls for.
    async fn deliver(&self, message: &OutboxMessage, known: &Known) -> Result<(), EffectError> {
        match &message.event {
            DomainEvent::BookingRequested {
                slot, student, teacher, ..
            } => {
                self.notify(message, known, *teacher, *slot, *student, templates::booking_requested)
                    .await
            }
            DomainEvent::BookingConfirmed { slot, student, .. } => {
                self.notify(message, known, *student, *slot, *student, templates::booking_confirmed)
                    .await
            }
            DomainEvent::BookingDeclined { slot, student, .. } => {
                self.notify(message, known, *student, *slot, *student, templates::booking_declined)
                    .await
            }
            DomainEvent::BookingRescheduled {
                to, student, teacher, ..
            } => {
                for recipient in [*student, *teacher] {
                    self.notify(message, known, recipient, *to, *student, templates::booking_rescheduled)
                        .await?;
                }
                Ok(())
            }
            DomainEvent::BookingExpired {
                slot,
                student,
                waitlisted,
                ..
            } => {
                let render = if *waitlisted {
                    templates::waitlist_ended
                } else {
                    templates::booking_expired
                };
                self.notify(message, known, *student, *slot, *student, render).await
            }
            DomainEvent::WaitlistPromoted { slot, student, .. } => {
                self.notify(message, known, *student, *slot, *student, templates::waitlist_promoted)
                    .await
            }
            DomainEvent::SeatOffered {
                slot,
                student,
                expires_at,
                ..
            } => {
                self.notify(message, known, *student, *slot, *student, |reader, lesson| {
                    templates::seat_offered(reader, lesson, *expires_at)
                })
                .await
            }
            DomainEvent::OfferExpired { slot, student, .. } => {
                self.notify(message, known, *student, *slot, *student, templates::offer_expired)
                    .await
            }
            DomainEvent::BookingTeacherCancelled {
                slot, student, credit, ..
            } => {
                let expires = self
                    .store
                    .credit(*credit)
                    .await?
                    .ok_or_else(|| EffectError::Permanent(format!("credit {} not found", credit.as_uuid())))?
                    .expires_at();
                self.notify(message, known, *student, *slot, *student, |reader, lesson| {
                    templates::teacher_cancelled(reader, lesson, expires)
                })
                .await
            }
            DomainEvent::EnrollmentRefunded {
                enrollment,
                student,
                amount,
                ..
            } => self.notify_refund(message, known, *student, *enrollment, *amount).await,
            _ => Ok(()),
        }
    }

    /// The recipient's contact and address; `None` (logged) when they have
    /// none on file: retrying cannot give them one.
    fn address<'k>(message: &OutboxMessage, known: &'k Known, recipient: UserId) -> Option<(&'k Contact, String)> {
        let Some(contact) = known.contacts.get(&recipient) else {
            tracing::warn!(user = %recipient.as_uuid(), kind = message.event.kind(), "no contact: email skipped");
            return None;
        };
        let Some(to) = contact.email.clone() else {
            tracing::info!(user = %recipient.as_uuid(), kind = message.event.kind(), "no email address: email skipped");
            return None;
        };
        Some((contact, to))
    }

    /// Sends `rendered` to `to`, keyed by the outbox message and recipient so
    /// a redelivery never sends it twice through a provider that dedups.
    async fn send(
        &self,
        message: &OutboxMessage,
        recipient: UserId,
        to: String,
        rendered: Rendered,
    ) -> Result<(), EffectError> {
        let email = Email {
            to,
            subject: rendered.subject,
            text: rendered.text,
            idempotency_key: format!("outbox-{}-{}", message.id, recipient.as_uuid()),
        };
        self.mailer.send(&email).await
    }

    /// Renders and sends one email to `recipient` about `student`'s lesson on `slot`.
    async fn notify(
        &self,
        message: &OutboxMessage,
        known: &Known,
        recipient: UserId,
        slot: SlotId,
        student: UserId,
        render: impl FnOnce(&Reader<'_>, &Lesson<'_>) -> Rendered + Send,
    ) -> Result<(), EffectError> {
        let Some((contact, to)) = Self::address(message, known, recipient) else {
            return Ok(());
        };
        let slot = known
            .slots
            .get(&slot)
            .ok_or_else(|| EffectError::Permanent(format!("slot {} not found", slot.as_uuid())))?;
        let reader = Reader::of(contact);
        let window = slot.window();
        let lesson = Lesson {
            teacher: name_of(known, slot.teacher()),
            student: name_of(known, student),
            start: window.start(),
            end: window.end(),
            join_url: slot.meeting().url(),
        };
        let rendered = render(&reader, &lesson);
        self.send(message, recipient, to, rendered).await
    }

    /// Tells the student what went back for their enrollment, naming the course.
    async fn notify_refund(
        &self,
        message: &OutboxMessage,
        known: &Known,
        student: UserId,
        enrollment: EnrollmentId,
        amount: Money,
    ) -> Result<(), EffectError> {
        let Some((contact, to)) = Self::address(message, known, student) else {
            return Ok(());
        };
        let missing =
            || EffectError::Permanent(format!("enrollment {} or its package not found", enrollment.as_uuid()));
        let package = self
            .store
            .enrollment(enrollment)
            .await?
            .ok_or_else(missing)?
            .enrollment
            .package();
        let course = self
            .store
            .package(package)
            .await?
            .ok_or_else(missing)?
            .package
            .title()
            .to_owned();
        let reader = Reader::of(contact);
        let rendered = templates::refund_issued(&reader, &course, amount);
        self.send(message, student, to, rendered).await
    }
}

/// A user's display name, or a dash when they are not on file.
fn name_of(known: &Known, user: UserId) -> &str {
    known.contacts.get(&user).map_or("—", |c| c.display_name.as_str())
}

#[async_trait]
impl<S, D, M> EffectHandler for Notifications<S, D, M>
where
    S: BookingStore + PackageStore,
    D: Directory,
    M: Mailer,
{
    fn name(&self) -> &'static str {
        "email"
    }

    async fn handle(&self, message: &OutboxMessage) -> Result<(), EffectError> {
        let known = self.look_up(&[message]).await?;
        self.deliver(message, &known).await
    }

    /// Reads the pass's slots and contacts once, then sends its emails in
    /// lanes. When that read fails, each message reads for itself, so that
    /// one bad slot or contact fails its own messages, not the pass.
    async fn handle_pass(&self, messages: &[&OutboxMessage], concurrency: usize) -> Vec<Result<(), EffectError>> {
        match self.look_up(messages).await {
            Ok(known) => {
                let known = &known;
                in_lanes(messages, concurrency, |message| Box::pin(self.deliver(message, known))).await
            }
            Err(e) => {
                tracing::warn!(messages = messages.len(), error = %e, "a pass's email read failed; reading per message");
                in_lanes(messages, concurrency, |message| self.handle(message)).await
            }
        }
    }
}
