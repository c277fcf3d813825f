//! A slot's waitlist (docs/waitlists.md): who waits, in which order, and what
//! happens when a seat frees up. The line is first come, first served: by the
//! time each booking was made, then by id, the same order on every store.
//!
//! A seat offered to the head of the line (`offer` mode) is held for them, so
//! [`Slot::is_full`] counts it: nobody can take it from under them, and
//! accepting in time always finds it free.

use super::{Outcome, Slot, SlotStatus};
use crate::{
    Actor, AuditEntry, Booking, BookingId, BookingSource, BookingStatus, Capacity, DeclineReason, DomainError,
    DomainEvent, DomainResult, PackageSessionId, UserId, Waitlist,
};
use time::OffsetDateTime;

/// Only a group slot that is not a package session keeps a line: a one-to-one
/// lesson has no seat to wait for, a package session is booked by enrolling.
pub(super) fn may_keep_one(capacity: Capacity, package_session: Option<PackageSessionId>) -> bool {
    !capacity.is_one_on_one() && package_session.is_none()
}

impl Slot {
    /// The line, head first: every waitlisted booking (those holding a seat
    /// offer are at its head, having been first).
    pub fn waitlist_line(&self) -> Vec<&Booking> {
        let mut line: Vec<&Booking> = self
            .bookings
            .iter()
            .filter(|b| b.status == BookingStatus::Waitlisted)
            .collect();
        line.sort_by_key(|b| (b.created_at, b.id));
        line
    }

    /// Where `booking` stands in the line, from 1, when it is waitlisted.
    pub fn waitlist_position(&self, booking: BookingId) -> Option<usize> {
        self.waitlist_line()
            .iter()
            .position(|b| b.id == booking)
            .map(|index| index + 1)
    }

    /// The teacher (or staff) turns the slot's waitlist on, changes its mode,
    /// or turns it off. Only open group slots that have not started keep one
    /// (`waitlist_not_available`). Turning it off declines everyone in line,
    /// offers included (the seats they held go back to anyone); switching to
    /// `auto_promote` promotes into any seat nobody holds.
    pub fn set_waitlist(
        &mut self,
        waitlist: Option<Waitlist>,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> DomainResult<Outcome> {
        self.check_teacher(actor)?;
        if self.status != SlotStatus::Open {
            return Err(DomainError::SlotClosed);
        }
        if self.window.start() <= now {
            return Err(DomainError::SlotInPast);
        }
        if waitlist.is_some() && !may_keep_one(self.capacity, self.package_session) {
            return Err(DomainError::WaitlistNotAvailable);
        }
        let mut outcome = Outcome::default();
        self.waitlist = waitlist;
        if waitlist.is_none() {
            self.decline_waiting(DeclineReason::WaitlistClosed, actor, now, &mut outcome);
        }
        self.refill(now, &mut outcome);
        Ok(outcome)
    }

    /// The student (or staff for them) takes the seat offered to them:
    /// confirmed, if the offer still stands (`offer_expired` from its
    /// deadline on, even before the expiry job has run: an offer is accepted
    /// or expired, never both).
    pub fn accept_offer(&mut self, booking: BookingId, actor: &Actor, now: OffsetDateTime) -> DomainResult<Outcome> {
        let index = self.offer_index(booking, actor, now)?;
        let mut outcome = Outcome {
            booking: Some(booking),
            ..Outcome::default()
        };
        self.transition(
            index,
            BookingStatus::Confirmed,
            actor,
            "offer_accepted",
            now,
            &mut outcome,
        );
        outcome.events.push(DomainEvent::BookingConfirmed {
            booking,
            slot: self.id,
            student: self.bookings[index].student,
            teacher: self.teacher,
        });
        if self.is_full() {
            self.decline_waiting(DeclineReason::SlotFilled, actor, now, &mut outcome);
        }
        Ok(outcome)
    }

    /// The student (or staff for them) turns the offered seat down and
    /// leaves the line; the seat is offered to the next in line.
    pub fn decline_offer(&mut self, booking: BookingId, actor: &Actor, now: OffsetDateTime) -> DomainResult<Outcome> {
        let index = self.offer_index(booking, actor, now)?;
        let mut outcome = Outcome {
            booking: Some(booking),
            ..Outcome::default()
        };
        self.transition(
            index,
            BookingStatus::Cancelled,
            actor,
            "offer_declined",
            now,
            &mut outcome,
        );
        outcome.events.push(DomainEvent::BookingCancelled {
            booking,
            slot: self.id,
            student: self.bookings[index].student,
            by: *actor,
        });
        self.refill(now, &mut outcome);
        Ok(outcome)
    }

    /// Expires every seat offer whose deadline has come (by the system) and
    /// passes each seat to the next in line. Like the other booking jobs it
    /// decides from the slot alone, so it may run any number of times,
    /// anywhere: an offer already answered or expired is not there any more.
    pub fn expire_offers(&mut self, now: OffsetDateTime) -> Outcome {
        let mut outcome = Outcome::default();
        for index in 0..self.bookings.len() {
            if self.bookings[index].offer_expires_at.is_none_or(|at| at > now) {
                continue;
            }
            self.transition_by(index, BookingStatus::Expired, None, "offer_expired", now, &mut outcome);
            let booking = &self.bookings[index];
            outcome.events.push(DomainEvent::OfferExpired {
                booking: booking.id,
                slot: self.id,
                student: booking.student,
            });
        }
        if !outcome.events.is_empty() {
            self.refill(now, &mut outcome);
        }
        outcome
    }

    /// A request on a full slot that keeps a waitlist joins the line.
    pub(super) fn join_line(&mut self, booking: BookingId, actor: &Actor, now: OffsetDateTime) -> Outcome {
        let mut outcome = self.admit(
            booking,
            actor.user,
            BookingStatus::Waitlisted,
            BookingSource::Direct,
            actor,
            now,
        );
        outcome.events.push(DomainEvent::BookingWaitlisted {
            booking,
            slot: self.id,
            student: actor.user,
        });
        outcome
    }

    /// The slot just filled: requests still waiting for the teacher join the
    /// line rather than being declined.
    /// `actor` is who filled it, `None` for the system.
    pub(super) fn requests_join_line(&mut self, actor: Option<UserId>, now: OffsetDateTime, outcome: &mut Outcome) {
        for index in 0..self.bookings.len() {
            if self.bookings[index].status != BookingStatus::Requested {
                continue;
            }
            self.transition_by(index, BookingStatus::Waitlisted, actor, "slot_filled", now, outcome);
            let booking = &self.bookings[index];
            outcome.events.push(DomainEvent::BookingWaitlisted {
                booking: booking.id,
                slot: self.id,
                student: booking.student,
            });
        }
    }

    /// Gives every seat nobody holds to the line, head first: confirmed at
    /// once (`auto_promote`) or offered until the deadline (`offer`). Nothing
    /// moves once the lesson has started or when the slot keeps no line.
    pub(super) fn refill(&mut self, now: OffsetDateTime, outcome: &mut Outcome) {
        let Some(waitlist) = self.waitlist else {
            return;
        };
        if self.status != SlotStatus::Open || self.window.start() <= now {
            return;
        }
        let mut promoted = false;
        while !self.is_full() {
            let Some(index) = self.next_in_line() else {
                break;
            };
            match waitlist {
                Waitlist::AutoPromote => {
                    self.transition_by(index, BookingStatus::Confirmed, None, "promoted", now, outcome);
                    outcome.events.push(DomainEvent::WaitlistPromoted {
                        booking: self.bookings[index].id,
                        slot: self.id,
                        student: self.bookings[index].student,
                        teacher: self.teacher,
                    });
                    promoted = true;
                }
                Waitlist::Offer { ttl } => {
                    let expires_at = (now + ttl).min(self.window.start());
                    self.offer_seat(index, expires_at, now, outcome);
                }
            }
        }
        if promoted && self.is_full() {
            self.requests_join_line(None, now, outcome);
        }
    }

    /// The first in line not already holding an offer.
    fn next_in_line(&self) -> Option<usize> {
        (0..self.bookings.len())
            .filter(|&i| {
                let b = &self.bookings[i];
                b.status == BookingStatus::Waitlisted && b.offer_expires_at.is_none()
            })
            .min_by_key(|&i| (self.bookings[i].created_at, self.bookings[i].id))
    }

    fn offer_seat(&mut self, index: usize, expires_at: OffsetDateTime, now: OffsetDateTime, outcome: &mut Outcome) {
        let booking = &mut self.bookings[index];
        booking.offer_expires_at = Some(expires_at);
        booking.updated_at = now;
        outcome.audit.push(AuditEntry {
            booking: booking.id,
            slot: self.id,
            actor: None,
            at: now,
            from: Some(BookingStatus::Waitlisted),
            to: BookingStatus::Waitlisted,
            reason: "offered".to_owned(),
        });
        outcome.events.push(DomainEvent::SeatOffered {
            booking: booking.id,
            slot: self.id,
            student: booking.student,
            expires_at,
        });
    }

    /// The index of `booking` when `actor` may answer its outstanding offer:
    /// its student or staff; `no_offer` without one, `offer_expired` from
    /// its deadline on.
    fn offer_index(&self, booking: BookingId, actor: &Actor, now: OffsetDateTime) -> DomainResult<usize> {
        let index = self.seen_booking_index(booking, actor)?;
        let current = &self.bookings[index];
        if !actor.is_or_staff(current.student) {
            return Err(DomainError::Forbidden);
        }
        match current.offer_expires_at {
            None => Err(DomainError::NoOffer),
            Some(deadline) if now >= deadline => Err(DomainError::OfferExpired),
            Some(_) => Ok(index),
        }
    }
}
