//! A teacher's availability: weekly rules, date exceptions, and the
//! bookable times they offer (docs/availability.md).
//!
//! A student picks one of the bookable times and the 1:1 lesson exists once
//! it is booked ([`book_time`]): the slot and its booking are created in one
//! step, after the same check that offered the time.

mod bookable;
mod exceptions;
mod offsets;
mod rules;

pub use bookable::{Bookable, BookableQuery, BusySlot, bookable_at, bookable_times, day_reach};
pub use exceptions::{DateException, ExceptionDraft, ExceptionKind, MAX_EXCEPTION_DAYS, MAX_NOTE_CHARS};
pub use rules::{MAX_RULES, RuleDraft, WeeklyRule, check_rule_set};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::{
    Actor, BookingId, BookingPolicy, BookingSource, DomainError, DomainResult, ExceptionId, LessonWindow, Meeting,
    Outcome, PlatformSettings, Role, RuleId, Slot, SlotDraft, SlotId, UserId, Zone,
};

/// Most date exceptions a teacher keeps.
pub const MAX_EXCEPTIONS: usize = 500;

/// The longest range bookable times are asked for at once, in days.
pub const MAX_RANGE_DAYS: i64 = 93;

/// A teacher's weekly rules and date exceptions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Availability {
    rules: Vec<WeeklyRule>,
    exceptions: Vec<DateException>,
}

impl Availability {
    /// Rebuilds an availability read back from storage.
    pub fn restore(rules: Vec<WeeklyRule>, exceptions: Vec<DateException>) -> Self {
        Self { rules, exceptions }
    }

    /// The weekly rules.
    pub fn rules(&self) -> &[WeeklyRule] {
        &self.rules
    }

    /// The date exceptions.
    pub fn exceptions(&self) -> &[DateException] {
        &self.exceptions
    }

    /// The teacher (or staff) replaces `teacher`'s weekly rules; refused
    /// when two overlap or there are too many (see [`check_rule_set`]).
    pub fn replace_rules(&mut self, actor: &Actor, teacher: UserId, rules: Vec<WeeklyRule>) -> DomainResult<()> {
        check_manager(actor, teacher)?;
        check_rule_set(&rules)?;
        self.rules = rules;
        Ok(())
    }

    /// The teacher (or staff) adds one weekly rule; refused when it overlaps
    /// another or makes too many.
    pub fn add_rule(&mut self, actor: &Actor, teacher: UserId, rule: WeeklyRule) -> DomainResult<()> {
        let mut rules = self.rules.clone();
        rules.push(rule);
        self.replace_rules(actor, teacher, rules)
    }

    /// The teacher (or staff) replaces the rule with `rule`'s id by `rule`;
    /// `not_found` (entity `rule`) when there is none, refused when the new
    /// hours overlap another rule.
    pub fn replace_rule(&mut self, actor: &Actor, teacher: UserId, rule: WeeklyRule) -> DomainResult<()> {
        check_manager(actor, teacher)?;
        let mut rules = self.rules.clone();
        let old = rules
            .iter_mut()
            .find(|r| r.id() == rule.id())
            .ok_or(DomainError::NotFound { entity: "rule" })?;
        *old = rule;
        self.replace_rules(actor, teacher, rules)
    }

    /// The teacher (or staff) removes one weekly rule; `not_found` (entity
    /// `rule`) when there is none.
    pub fn remove_rule(&mut self, actor: &Actor, teacher: UserId, id: RuleId) -> DomainResult<()> {
        check_manager(actor, teacher)?;
        let before = self.rules.len();
        self.rules.retain(|r| r.id() != id);
        if self.rules.len() == before {
            return Err(DomainError::NotFound { entity: "rule" });
        }
        Ok(())
    }

    /// The teacher (or staff) adds a date exception.
    pub fn add_exception(&mut self, actor: &Actor, teacher: UserId, exception: DateException) -> DomainResult<()> {
        check_manager(actor, teacher)?;
        if self.exceptions.len() >= MAX_EXCEPTIONS {
            return Err(DomainError::invalid(
                "exceptions",
                format!("at most {MAX_EXCEPTIONS} exceptions; remove past ones first"),
            ));
        }
        self.exceptions.push(exception);
        Ok(())
    }

    /// The teacher (or staff) removes a date exception.
    pub fn remove_exception(&mut self, actor: &Actor, teacher: UserId, id: ExceptionId) -> DomainResult<()> {
        check_manager(actor, teacher)?;
        let before = self.exceptions.len();
        self.exceptions.retain(|e| e.id() != id);
        if self.exceptions.len() == before {
            return Err(DomainError::NotFound { entity: "exception" });
        }
        Ok(())
    }
}

/// `teacher` themself, or staff.
pub fn check_manager(actor: &Actor, teacher: UserId) -> DomainResult<()> {
    if (actor.role == Role::Teacher && actor.user == teacher) || actor.is_staff() {
        Ok(())
    } else {
        Err(DomainError::Forbidden)
    }
}

/// Checks a bookable-times range: both ends between 2000 and 2100, `from`
/// before `to`, at most [`MAX_RANGE_DAYS`] days.
pub fn check_range(from: OffsetDateTime, to: OffsetDateTime) -> DomainResult<()> {
    crate::check_instant("from", from)?;
    crate::check_instant("to", to)?;
    if to <= from {
        return Err(DomainError::InvalidTimeRange);
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(DomainError::invalid(
            "to",
            format!("a range covers at most {MAX_RANGE_DAYS} days"),
        ));
    }
    Ok(())
}

/// A student's pick of a bookable time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeBooking {
    /// The slot to open.
    pub slot: SlotId,
    /// The booking to make on it.
    pub booking: BookingId,
    /// Whose time.
    pub teacher: UserId,
    /// The picked start.
    pub start: OffsetDateTime,
    /// The teacher's zone (for local-day views and emails).
    pub zone: Zone,
    /// Meeting details of the new slot.
    pub meeting: Meeting,
    /// A regular lesson or a trial.
    pub kind: LessonKind,
}

/// What kind of lesson a booked time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LessonKind {
    /// A lesson of the policy's lesson length.
    Regular,
    /// A trial lesson of the policy's trial length, at most one per student
    /// and teacher.
    Trial {
        /// Whether the student already has a trial with the teacher that
        /// was not declined, did not expire and was not cancelled by the
        /// teacher (read under the teacher's lock).
        used: bool,
    },
}

/// A student books a bookable time: `bookable` (prepared around the start,
/// with the lesson length of the new slot: the trial length for a trial)
/// must offer it, and the 1:1 slot opened for it must not collide with
/// `teacher_slots` (read under the teacher's lock). The booking is then
/// requested or confirmed as the policy says, exactly as on a slot the
/// teacher opened. A trial needs the teacher to offer trials
/// (`trial_not_offered`) and the student not to have used theirs
/// (`trial_already_used`).
pub fn book_time(
    bookable: &Bookable,
    pick: TimeBooking,
    actor: &Actor,
    teacher_slots: &[Slot],
    policy: &BookingPolicy,
    settings: &PlatformSettings,
    now: OffsetDateTime,
) -> DomainResult<(Slot, Outcome)> {
    if actor.user == pick.teacher {
        return Err(DomainError::OwnSlot);
    }
    let source = match pick.kind {
        LessonKind::Regular => BookingSource::Direct,
        LessonKind::Trial { used } => {
            if policy.trial_length() != Some(bookable.length()) {
                return Err(DomainError::TrialNotOffered);
            }
            if used {
                return Err(DomainError::TrialAlreadyUsed);
            }
            BookingSource::Trial
        }
    };
    let (mut slot, mut outcome) = open_time_slot(bookable, &pick, teacher_slots, policy, settings, now)?;
    let booked = slot.request_as(pick.booking, actor, policy, now, source)?;
    outcome.events.extend(booked.events);
    outcome.audit.extend(booked.audit);
    outcome.booking = booked.booking;
    Ok((slot, outcome))
}

/// Moves `booking`, a one-to-one lesson on `from`, to a bookable time of
/// the same teacher (docs/availability.md): `bookable` (prepared around
/// `pick.start` with the lesson's length) must offer the start, a 1:1 slot
/// is opened for it as for a new booking (`pick.slot`), and the booking
/// moves there as `pick.booking` by [`Slot::reschedule_to`], so every rule
/// of a move applies (who may, the old lesson's cancel window, the target's
/// approval). A group seat does not move to a private lesson
/// (`invalid_input`); someone who may not see the booking is told it does
/// not exist before anything else.
#[allow(clippy::too_many_arguments)]
pub fn move_to_time(
    bookable: &Bookable,
    pick: TimeBooking,
    from: &mut Slot,
    booking: BookingId,
    actor: &Actor,
    teacher_slots: &[Slot],
    policy: &BookingPolicy,
    settings: &PlatformSettings,
    now: OffsetDateTime,
) -> DomainResult<(Slot, Outcome)> {
    if !from.shows_booking_to(booking, actor) {
        return Err(DomainError::NotFound { entity: "booking" });
    }
    if !from.capacity().is_one_on_one() {
        return Err(DomainError::invalid(
            "start",
            "only a one-to-one lesson moves to a bookable time",
        ));
    }
    if from.teacher() != pick.teacher {
        return Err(DomainError::invalid("start", "must be a time of the same teacher"));
    }
    let (mut to, mut outcome) = open_time_slot(bookable, &pick, teacher_slots, policy, settings, now)?;
    let moved = from.reschedule_to(booking, &mut to, pick.booking, actor, policy, now)?;
    outcome.events.extend(moved.events);
    outcome.audit.extend(moved.audit);
    outcome.credits.extend(moved.credits);
    outcome.booking = moved.booking;
    Ok((to, outcome))
}

/// Opens the empty 1:1 slot for `pick.start` once `bookable` offers it.
fn open_time_slot(
    bookable: &Bookable,
    pick: &TimeBooking,
    teacher_slots: &[Slot],
    policy: &BookingPolicy,
    settings: &PlatformSettings,
    now: OffsetDateTime,
) -> DomainResult<(Slot, Outcome)> {
    bookable.check(pick.start)?;
    let window = LessonWindow::new(pick.start, pick.start + bookable.length())?;
    let draft = SlotDraft {
        teacher: pick.teacher,
        window,
        zone: pick.zone,
        capacity: 1,
        meeting: pick.meeting.clone(),
        package_session: None,
        waitlist: None,
    };
    Slot::open_for(pick.slot, draft, teacher_slots, policy, settings, now)
}
