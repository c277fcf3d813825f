//! Emails derived from booking events (SPEC 12): request → teacher;
//! confirmation, decline, teacher cancellation with credit → student.

use async_trait::async_trait;
use tutorbook_domain::{DomainEvent, Slot, SlotId, UserId};

use crate::effects::templates::{self, Lesson, Reader, Rendered};
use crate::effects::{EffectError, EffectHandler, Email, Mailer};
use crate::{BookingStore, Contact, Directory, OutboxMessage};

/// Sends the emails an event calls for, addressed through a [`Directory`].
#[derive(Debug, Clone)]
pub struct Notifications<S, D, M> {
    store: S,
    directory: D,
    mailer: M,
}

impl<S, D, M> Notifications<S, D, M>
where
    S: BookingStore,
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

    /// Renders and sends one email to `recipient` about `student`'s lesson on
    /// `slot`. A recipient without an address on file is skipped (logged):
    /// retrying cannot give them one.
    async fn notify(
        &self,
        message: &OutboxMessage,
        recipient: UserId,
        slot: SlotId,
        student: UserId,
        render: impl FnOnce(&Reader<'_>, &Lesson<'_>) -> Rendered + Send,
    ) -> Result<(), EffectError> {
        let Some(contact) = self.directory.contact(recipient).await? else {
            tracing::warn!(user = %recipient.as_uuid(), kind = message.event.kind(), "no contact: email skipped");
            return Ok(());
        };
        let Some(to) = contact.email.clone() else {
            tracing::info!(user = %recipient.as_uuid(), kind = message.event.kind(), "no email address: email skipped");
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
        let email = Email {
            to,
            subject: rendered.subject,
            text: rendered.text,
            idempotency_key: format!("outbox-{}-{}", message.id, recipient.as_uuid()),
        };
        self.mailer.send(&email).await
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
    S: BookingStore,
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
            _ => Ok(()),
        }
    }
}
