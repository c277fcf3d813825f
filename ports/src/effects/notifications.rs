//! Emails derived from booking events (docs/product.md §12): request → teacher;
//! confirmation, decline, expiry, teacher cancellation with credit, refund,
//! waitlist promotion, seat offer and its expiry (docs/waitlists.md) →
//! student; a rescheduled lesson → both.

use async_trait::async_trait;
use tutorbook_domain::{DomainEvent, EnrollmentId, Money, Slot, SlotId, UserId};

use crate::effects::templates::{self, Lesson, Reader, Rendered};
use crate::effects::{EffectError, EffectHandler, Email, Mailer};
use crate::{BookingStore, Contact, Directory, OutboxMessage, PackageStore};

/// Sends the emails an event calls for, addressed through a [`Directory`].
#[derive(Debug, Clone)]
pub struct Notifications<S, D, M> {
    store: S,
    directory: D,
    mailer: M,
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

    /// The recipient's contact and address; `None` (logged) when they have
    /// none on file: retrying cannot give them one.
    async fn address(
        &self,
        message: &OutboxMessage,
        recipient: UserId,
    ) -> Result<Option<(Contact, String)>, EffectError> {
        let Some(contact) = self.directory.contact(recipient).await? else {
            tracing::warn!(user = %recipient.as_uuid(), kind = message.event.kind(), "no contact: email skipped");
            return Ok(None);
        };
        let Some(to) = contact.email.clone() else {
            tracing::info!(user = %recipient.as_uuid(), kind = message.event.kind(), "no email address: email skipped");
            return Ok(None);
        };
        Ok(Some((contact, to)))
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
        recipient: UserId,
        slot: SlotId,
        student: UserId,
        render: impl FnOnce(&Reader<'_>, &Lesson<'_>) -> Rendered + Send,
    ) -> Result<(), EffectError> {
        let Some((contact, to)) = self.address(message, recipient).await? else {
            return Ok(());
        };
        let slot = self.slot(slot).await?;
        let teacher = self.name_of(slot.teacher(), &contact).await?;
        let student = self.name_of(student, &contact).await?;
        let reader = Reader {
            name: &contact.display_name,
            locale: contact.locale,
            zone: contact.zone,
        };
        let window = slot.window();
        let lesson = Lesson {
            teacher: &teacher,
            student: &student,
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
        student: UserId,
        enrollment: EnrollmentId,
        amount: Money,
    ) -> Result<(), EffectError> {
        let Some((contact, to)) = self.address(message, student).await? else {
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
        let reader = Reader {
            name: &contact.display_name,
            locale: contact.locale,
            zone: contact.zone,
        };
        let rendered = templates::refund_issued(&reader, &course, amount);
        self.send(message, student, to, rendered).await
    }

    async fn slot(&self, id: SlotId) -> Result<Slot, EffectError> {
        self.store
            .slot(id)
            .await?
            .ok_or_else(|| EffectError::Permanent(format!("slot {} not found", id.as_uuid())))
    }

    /// The display name of `user` (the recipient's own contact when it is them).
    async fn name_of(&self, user: UserId, recipient: &Contact) -> Result<String, EffectError> {
        if user == recipient.user {
            return Ok(recipient.display_name.clone());
        }
        Ok(self
            .directory
            .contact(user)
            .await?
            .map_or_else(|| "—".to_owned(), |c| c.display_name))
    }
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
        match &message.event {
            DomainEvent::BookingRequested {
                slot, student, teacher, ..
            } => {
                self.notify(message, *teacher, *slot, *student, templates::booking_requested)
                    .await
            }
            DomainEvent::BookingConfirmed { slot, student, .. } => {
                self.notify(message, *student, *slot, *student, templates::booking_confirmed)
                    .await
            }
            DomainEvent::BookingDeclined { slot, student, .. } => {
                self.notify(message, *student, *slot, *student, templates::booking_declined)
                    .await
            }
            DomainEvent::BookingRescheduled {
                to, student, teacher, ..
            } => {
                for recipient in [*student, *teacher] {
                    self.notify(message, recipient, *to, *student, templates::booking_rescheduled)
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
                self.notify(message, *student, *slot, *student, render).await
            }
            DomainEvent::WaitlistPromoted { slot, student, .. } => {
                self.notify(message, *student, *slot, *student, templates::waitlist_promoted)
                    .await
            }
            DomainEvent::SeatOffered {
                slot,
                student,
                expires_at,
                ..
            } => {
                self.notify(message, *student, *slot, *student, |reader, lesson| {
                    templates::seat_offered(reader, lesson, *expires_at)
                })
                .await
            }
            DomainEvent::OfferExpired { slot, student, .. } => {
                self.notify(message, *student, *slot, *student, templates::offer_expired)
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
                self.notify(message, *student, *slot, *student, |reader, lesson| {
                    templates::teacher_cancelled(reader, lesson, expires)
                })
                .await
            }
            DomainEvent::EnrollmentRefunded {
                enrollment,
                student,
                amount,
                ..
            } => self.notify_refund(message, *student, *enrollment, *amount).await,
            _ => Ok(()),
        }
    }
}
