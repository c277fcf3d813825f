//! The `Schedules` use cases: a teacher's weekly rules and date exceptions,
//! the bookable times they offer, and booking one (docs/availability.md).
//! Who may do what is decided in the domain, so an embedder gets the same
//! rules as the HTTP service.

use time::{Date, Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, Availability, Bookable, BookableQuery, Booking, BookingId, BookingPolicy, BookingSource, BusySlot,
    DateException, DomainError, ExceptionDraft, ExceptionId, LessonKind, MAX_BUFFER, Meeting, PlatformSettings, Role,
    RuleDraft, RuleId, Slot, SlotId, TimeBooking, UserId, WeeklyRule, Zone, book_time, check_instant, check_manager,
    check_range, day_reach, move_to_time,
};

use crate::{
    AvailabilityStore, BookingStore, Claim, Clock, Error, IdGen, LockSet, PolicyStore, Result, Unit, UnitOfWork, User,
    UserStore, execute,
};

/// The bookable times of a teacher over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookableTimes {
    /// The starts, sorted.
    pub starts: Vec<OffsetDateTime>,
    /// The length of each lesson (the teacher's lesson length).
    pub length: Duration,
    /// The teacher's zone, in which their days (and daily limit) are counted.
    pub zone: Zone,
}

/// A teacher's week: their availability and the slots starting in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Week {
    /// The teacher's zone, in which the week runs.
    pub zone: Zone,
    /// Monday of the week.
    pub monday: Date,
    /// Weekly rules and date exceptions.
    pub availability: Availability,
    /// The slots starting in the week (any status), with their bookings.
    pub slots: Vec<Slot>,
}

/// The schedule use cases over a store `S`, a clock `C` and an id source `I`.
#[derive(Debug, Clone)]
pub struct Schedules<S, C, I> {
    pub(super) store: S,
    pub(super) clock: C,
    pub(super) ids: I,
    pub(super) settings: PlatformSettings,
    pub(super) claim: Option<Claim>,
}

impl<S, C, I> Schedules<S, C, I>
where
    S: AvailabilityStore + BookingStore + PolicyStore + UserStore + UnitOfWork,
    C: Clock,
    I: IdGen,
{
    /// Wires the use cases to their ports.
    pub fn new(store: S, clock: C, ids: I, settings: PlatformSettings) -> Self {
        Self {
            store,
            clock,
            ids,
            settings,
            claim: None,
        }
    }

    /// The same use cases, running their commands under `claim` (see
    /// `Bookings::keyed`).
    pub fn keyed(&self, claim: Option<Claim>) -> Self
    where
        Self: Clone,
    {
        Self { claim, ..self.clone() }
    }

    /// A teacher by id; `not_found` for anyone else, so ids of students are
    /// not revealed.
    pub(super) async fn teacher(&self, id: UserId) -> Result<User> {
        self.store
            .user(id)
            .await?
            .filter(|u| u.role == Role::Teacher)
            .ok_or_else(|| Error::not_found("teacher"))
    }

    /// The teacher's (or, for staff, any teacher's) rules and exceptions.
    pub async fn availability(&self, actor: &Actor, teacher: UserId) -> Result<Availability> {
        check_manager(actor, teacher)?;
        self.teacher(teacher).await?;
        self.store.availability(teacher).await
    }

    /// The teacher (or staff) replaces the weekly rules; refused as a whole
    /// when one is malformed or two overlap.
    pub async fn set_rules(&self, actor: &Actor, teacher: UserId, drafts: Vec<RuleDraft>) -> Result<Availability> {
        check_manager(actor, teacher)?;
        self.teacher(teacher).await?;
        let rules = drafts
            .into_iter()
            .map(|draft| WeeklyRule::new(RuleId::from_uuid(self.ids.new_id()), draft))
            .collect::<Result<Vec<_>, DomainError>>()?;
        let actor = *actor;
        let locks = LockSet::new().availability_of(teacher);
        execute(&self.store, locks, self.clock.now(), move |unit| {
            let availability = unit.availability_mut(teacher)?;
            availability.replace_rules(&actor, teacher, rules)?;
            Ok(availability.clone())
        })
        .await
    }

    /// The teacher (or staff) adds one weekly rule; refused when it is
    /// malformed or overlaps another.
    pub async fn add_rule(&self, actor: &Actor, teacher: UserId, draft: RuleDraft) -> Result<WeeklyRule> {
        let rule = WeeklyRule::new(RuleId::from_uuid(self.ids.new_id()), draft)?;
        self.on_rules(actor, teacher, move |availability, actor| {
            availability.add_rule(actor, teacher, rule)?;
            Ok(rule)
        })
        .await
    }

    /// The teacher (or staff) changes one weekly rule (it keeps its id);
    /// `not_found` when there is none.
    pub async fn replace_rule(
        &self,
        actor: &Actor,
        teacher: UserId,
        id: RuleId,
        draft: RuleDraft,
    ) -> Result<WeeklyRule> {
        let rule = WeeklyRule::new(id, draft)?;
        self.on_rules(actor, teacher, move |availability, actor| {
            availability.replace_rule(actor, teacher, rule)?;
            Ok(rule)
        })
        .await
    }

    /// The teacher (or staff) removes one weekly rule.
    pub async fn remove_rule(&self, actor: &Actor, teacher: UserId, id: RuleId) -> Result<()> {
        self.on_rules(actor, teacher, move |availability, actor| {
            availability.remove_rule(actor, teacher, id)
        })
        .await
    }

    /// Runs `change` on the teacher's availability under its lock.
    async fn on_rules<T, F>(&self, actor: &Actor, teacher: UserId, change: F) -> Result<T>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
        F: FnOnce(&mut Availability, &Actor) -> Result<T, DomainError> + Send + 'static,
    {
        check_manager(actor, teacher)?;
        self.teacher(teacher).await?;
        let actor = *actor;
        let locks = LockSet::new().availability_of(teacher);
        execute(&self.store, locks, self.clock.now(), move |unit| {
            change(unit.availability_mut(teacher)?, &actor)
        })
        .await
    }

    /// The teacher (or staff) adds a date exception.
    pub async fn add_exception(&self, actor: &Actor, teacher: UserId, draft: ExceptionDraft) -> Result<DateException> {
        check_manager(actor, teacher)?;
        self.teacher(teacher).await?;
        let exception = DateException::new(ExceptionId::from_uuid(self.ids.new_id()), draft)?;
        let actor = *actor;
        let locks = LockSet::new().availability_of(teacher);
        execute(&self.store, locks, self.clock.now(), move |unit| {
            unit.availability_mut(teacher)?
                .add_exception(&actor, teacher, exception.clone())?;
            Ok(exception)
        })
        .await
    }

    /// The teacher (or staff) removes a date exception.
    pub async fn remove_exception(&self, actor: &Actor, teacher: UserId, id: ExceptionId) -> Result<()> {
        check_manager(actor, teacher)?;
        self.teacher(teacher).await?;
        let actor = *actor;
        let locks = LockSet::new().availability_of(teacher);
        execute(&self.store, locks, self.clock.now(), move |unit| {
            unit.availability_mut(teacher)?.remove_exception(&actor, teacher, id)
        })
        .await
    }

    /// The teacher's week starting on `monday` (a Monday in their zone), for
    /// the teacher or staff.
    pub async fn week(&self, actor: &Actor, teacher: UserId, monday: Date) -> Result<Week> {
        check_manager(actor, teacher)?;
        if monday.weekday() != time::Weekday::Monday {
            return Err(DomainError::invalid("week", "must be a Monday").into());
        }
        let user = self.teacher(teacher).await?;
        let from = user.zone.resolve_bound(monday.midnight());
        let to = user.zone.resolve_bound((monday + Duration::WEEK).midnight());
        Ok(Week {
            zone: user.zone,
            monday,
            availability: self.store.availability(teacher).await?,
            slots: self.store.teacher_slots(teacher, from, to).await?,
        })
    }

    /// The 1:1 starts anyone may pick from `teacher`'s availability in
    /// `[from, to)` (at most 93 days), as of now: regular lessons, or trial
    /// lessons (`trial_not_offered` when the teacher offers none).
    pub async fn bookable_times(
        &self,
        teacher: UserId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        trial: bool,
    ) -> Result<BookableTimes> {
        check_range(from, to)?;
        let user = self.teacher(teacher).await?;
        let policy = self.store.policy(teacher).await?;
        let length = lesson_length(&policy, trial)?;
        let availability = self.store.availability(teacher).await?;
        // Slots whose buffers reach into the range, and whole local days for
        // the daily limit.
        let reach = MAX_BUFFER + MAX_BUFFER + Duration::DAY;
        let slots = self.store.teacher_slots(teacher, from - reach, to + reach).await?;
        let busy: Vec<BusySlot> = slots.iter().filter_map(BusySlot::of).collect();
        let query = BookableQuery {
            from,
            to,
            length,
            now: self.clock.now(),
        };
        Ok(BookableTimes {
            starts: Bookable::prepare(&availability, &busy, &policy, user.zone, query).times(),
            length,
            zone: user.zone,
        })
    }

    /// A student books `start` from `teacher`'s bookable times: the 1:1
    /// slot and its booking are created in one transaction under the
    /// teacher's lock, after the same check that offers the time (a start
    /// not offered is refused with the reason: `outside_availability`,
    /// `slot_overlap`, `daily_limit_reached`, `min_notice`, ...). A trial
    /// lesson takes the policy's trial length, once per student and teacher
    /// (`trial_not_offered`, `trial_already_used`).
    pub async fn book_time(
        &self,
        actor: &Actor,
        teacher: UserId,
        start: OffsetDateTime,
        trial: bool,
    ) -> Result<Booking> {
        check_instant("start", start)?;
        let zone = self.teacher(teacher).await?.zone;
        let locks = self.day_locks(teacher, zone, start).trial_of(teacher, actor.user);
        let pick = self.pick(teacher, zone, start);
        let (actor, settings, now) = (*actor, self.settings, self.clock.now());
        execute(&self.store, locks, now, move |unit| {
            let policy = unit.policy(teacher);
            let pick = TimeBooking {
                kind: if trial {
                    LessonKind::Trial {
                        used: unit.trial_used(teacher, actor.user),
                    }
                } else {
                    LessonKind::Regular
                },
                ..pick
            };
            let bookable = bookable_at(unit, &pick, lesson_length(&policy, trial)?, &policy, now)?;
            let (slot, outcome) = book_time(&bookable, pick, &actor, unit.schedule(teacher), &policy, &settings, now)?;
            let booking = slot
                .bookings()
                .first()
                .cloned()
                .ok_or(DomainError::NotFound { entity: "booking" })?;
            unit.add_slot(slot);
            unit.record(outcome);
            Ok(booking)
        })
        .await
    }

    /// Moves a one-to-one booking to another of its teacher's bookable times
    /// (docs/availability.md): the new 1:1 slot and the moved booking are
    /// created, and the old one cancelled (reason `rescheduled`), in one
    /// transaction under the teacher's lock and the old slot's. The start
    /// passes the same check as a new booking of that time, and the move
    /// the same rules as a move onto an open slot; answers the new booking.
    pub async fn reschedule_to_time(
        &self,
        actor: &Actor,
        booking: BookingId,
        start: OffsetDateTime,
    ) -> Result<Booking> {
        check_instant("start", start)?;
        let teacher = super::seen_slot_of(&self.store, actor, booking).await?.teacher();
        let zone = self.teacher(teacher).await?.zone;
        let locks = self
            .day_locks(teacher, zone, start)
            .booking(booking)
            .payments_of_booking(booking);
        let pick = self.pick(teacher, zone, start);
        let (actor, settings, now) = (*actor, self.settings, self.clock.now());
        execute(&self.store, locks, now, move |unit| {
            let from = unit.slot_id_of(booking)?;
            let mut old = unit.slot(from)?.clone();
            if !old.shows_booking_to(booking, &actor) {
                return Err(DomainError::NotFound { entity: "booking" });
            }
            tutorbook_domain::check_movable(unit.booking_payments(booking))?;
            let policy = unit.policy(teacher);
            // A trial stays a trial, of the trial's length.
            let trial = old.booking(booking).is_some_and(|b| b.source() == BookingSource::Trial);
            let bookable = bookable_at(unit, &pick, lesson_length(&policy, trial)?, &policy, now)?;
            let moved_id = pick.booking;
            let (slot, outcome) = move_to_time(
                &bookable,
                pick,
                &mut old,
                booking,
                &actor,
                unit.schedule(teacher),
                &policy,
                &settings,
                now,
            )?;
            *unit.slot_mut(from)? = old;
            let moved = slot
                .booking(moved_id)
                .cloned()
                .ok_or(DomainError::NotFound { entity: "booking" })?;
            unit.add_slot(slot);
            unit.record(outcome);
            Ok(moved)
        })
        .await
    }

    /// A regular lesson of `teacher` at `start`, with fresh ids for its
    /// slot and booking.
    fn pick(&self, teacher: UserId, zone: Zone, start: OffsetDateTime) -> TimeBooking {
        TimeBooking {
            slot: SlotId::from_uuid(self.ids.new_id()),
            booking: BookingId::from_uuid(self.ids.new_id()),
            teacher,
            start,
            zone,
            meeting: Meeting::default(),
            kind: LessonKind::Regular,
        }
    }

    /// The locks a booked time needs: the span of `teacher`'s schedule
    /// around `start` ([`day_reach`]) and their availability.
    fn day_locks(&self, teacher: UserId, zone: Zone, start: OffsetDateTime) -> LockSet {
        let (from, to) = day_reach(zone, start);
        LockSet::new()
            .claim(self.claim.clone())
            .schedule(teacher, from, to)
            .availability_of(teacher)
    }
}

/// The bookable times around `pick.start` as the unit sees them under the
/// teacher's lock, for lessons of `length` (see [`tutorbook_domain::bookable_at`]).
fn bookable_at(
    unit: &Unit,
    pick: &TimeBooking,
    length: Duration,
    policy: &BookingPolicy,
    now: OffsetDateTime,
) -> Result<Bookable, DomainError> {
    Ok(tutorbook_domain::bookable_at(
        unit.availability(pick.teacher)?,
        unit.schedule(pick.teacher),
        policy,
        pick.zone,
        pick.start,
        length,
        now,
    ))
}

/// The length of a lesson booked from bookable times: the policy's lesson
/// length, or its trial length for a trial (`trial_not_offered` without one).
fn lesson_length(policy: &BookingPolicy, trial: bool) -> Result<Duration, DomainError> {
    if trial {
        policy.trial_length().ok_or(DomainError::TrialNotOffered)
    } else {
        Ok(policy.default_length())
    }
}
