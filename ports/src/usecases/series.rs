//! Recurring series of 1:1 lessons (docs/series.md): a student books a
//! series from a teacher's bookable times in one command, and cancels it
//! whole or from one occurrence on.

use serde::{Deserialize, Serialize};
use time::{Date, Duration};
use tutorbook_domain::{
    Actor, BookingId, DomainError, OccurrenceAnswer, SeatsRequest, SeriesDraft, SeriesId, SeriesMode, SeriesRequest,
    SeriesRule, Slot, SlotId, SlotSeries, SlotSeriesDraft, UserId, Zone, book_series, book_slot_series, check_manager,
    series_search_range,
};

use crate::{
    AvailabilityStore, BookingStore, Clock, Error, IdGen, LockSet, PolicyStore, Result, Schedules, SeriesStore,
    UnitOfWork, UserStore, execute,
};

/// A booked series: its id, the zone its local times are in, and what
/// happened to each occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesAnswer {
    /// The series.
    pub series: SeriesId,
    /// The teacher's zone.
    pub zone: Zone,
    /// Every occurrence: booked with its booking, or refused with its code.
    pub occurrences: Vec<OccurrenceAnswer>,
}

/// A cancellation of a series: what happened to each occurrence it covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesCancelled {
    /// The series.
    pub series: SeriesId,
    /// The zone its local times are in.
    pub zone: Zone,
    /// Every covered occurrence: cancelled (its booking as it is now), or
    /// refused with its code (`cancellation_window_closed`, ...).
    pub occurrences: Vec<OccurrenceAnswer>,
}

impl<S, C, I> Schedules<S, C, I>
where
    S: AvailabilityStore + BookingStore + PolicyStore + UserStore + SeriesStore + UnitOfWork,
    C: Clock,
    I: IdGen,
{
    /// A student books a series of 1:1 lessons from `teacher`'s bookable
    /// times: one command, one transaction under the teacher's lock over the
    /// whole span, every occurrence checked as one booked time. `mode`
    /// chooses between all or nothing and what can be booked (see
    /// [`book_series`]).
    pub async fn book_series(
        &self,
        actor: &Actor,
        teacher: UserId,
        draft: SeriesDraft,
        mode: SeriesMode,
    ) -> Result<SeriesAnswer> {
        let rule = SeriesRule::new(draft)?;
        let zone = self.teacher(teacher).await?.zone;
        let (from, to) = series_search_range(&rule, zone);
        let locks = LockSet::new()
            .claim(self.claim.clone())
            .schedule(teacher, from, to)
            .availability_of(teacher);
        let ids = rule
            .occurrences()
            .iter()
            .map(|_| {
                (
                    SlotId::from_uuid(self.ids.new_id()),
                    BookingId::from_uuid(self.ids.new_id()),
                )
            })
            .collect();
        let request = SeriesRequest {
            id: SeriesId::from_uuid(self.ids.new_id()),
            teacher,
            zone,
            rule,
            mode,
            ids,
        };
        let (actor, settings, now) = (*actor, self.settings, self.clock.now());
        execute(&self.store, locks, now, move |unit| {
            let policy = unit.policy(teacher);
            let booked = book_series(
                request,
                &actor,
                unit.availability(teacher)?,
                unit.schedule(teacher),
                &policy,
                &settings,
                now,
            )?;
            for slot in booked.slots {
                unit.add_slot(slot);
            }
            unit.record(booked.outcome);
            let answer = SeriesAnswer {
                series: booked.series.id(),
                zone,
                occurrences: booked.answers,
            };
            unit.add_series(booked.series);
            Ok(answer)
        })
        .await
    }

    /// The student (or staff) cancels a series: every booked occurrence, or
    /// those on or after local date `from`. Each occurrence is cancelled as
    /// one booking is, under its teacher's cancel window: one inside the
    /// window stays booked and is answered refused
    /// (`cancellation_window_closed`), as is one no longer active.
    pub async fn cancel_series(&self, actor: &Actor, id: SeriesId, from: Option<Date>) -> Result<SeriesCancelled> {
        // A series' members never change once written, so reading them
        // before the locks is safe; their bookings are read under the locks.
        let series = self.store.series(id).await?.ok_or_else(|| Error::not_found("series"))?;
        // A refusal, then a series stored at odds with its rule (a storage failure).
        let targets = series.to_cancel(actor, from)??;
        let zone = series.zone();
        let locks = targets
            .iter()
            .fold(LockSet::new().claim(self.claim.clone()), |locks, (_, booking)| {
                locks.booking(*booking)
            });
        let (actor, now) = (*actor, self.clock.now());
        execute(&self.store, locks, now, move |unit| {
            let mut occurrences = Vec::with_capacity(targets.len());
            for (occurrence, booking) in targets {
                let slot = unit.slot_id_of(booking)?;
                let policy = unit.policy(unit.slot(slot)?.teacher());
                let slot = unit.slot_mut(slot)?;
                let start = slot.window().start();
                match slot.cancel_by_student(booking, &actor, &policy, now) {
                    Ok(outcome) => {
                        let cancelled = slot
                            .booking(booking)
                            .cloned()
                            .ok_or(DomainError::NotFound { entity: "booking" })?;
                        unit.record(outcome);
                        occurrences.push(OccurrenceAnswer::booked(occurrence, start, cancelled));
                    }
                    Err(reason) => occurrences.push(OccurrenceAnswer::refused(occurrence, Some(start), &reason)),
                }
            }
            Ok(SeriesCancelled {
                series: id,
                zone,
                occurrences,
            })
        })
        .await
    }

    /// The teacher (or staff) opens a slot series: one slot of `capacity`
    /// seats per occurrence, each `length` long (the teacher's lesson
    /// length when `None`), in one transaction under the teacher's lock;
    /// refused as a whole when one occurrence is (see [`SlotSeries::open`]).
    /// Anyone but the teacher and staff is refused (`forbidden`) before
    /// anything is read or locked.
    pub async fn open_slot_series(
        &self,
        actor: &Actor,
        teacher: UserId,
        draft: SeriesDraft,
        capacity: u32,
        length: Option<Duration>,
    ) -> Result<(SlotSeries, Vec<Slot>)> {
        // Before any read or lock: otherwise anyone signed in could hold the
        // teacher's schedule (three years of it) with repeated calls.
        check_manager(actor, teacher)?;
        let rule = SeriesRule::new(draft)?;
        super::check_named_teacher(&self.store, actor, teacher).await?;
        let zone = self.teacher(teacher).await?.zone;
        let (from, to) = series_search_range(&rule, zone);
        let locks = LockSet::new().claim(self.claim.clone()).schedule(teacher, from, to);
        let ids = rule
            .occurrences()
            .iter()
            .map(|_| SlotId::from_uuid(self.ids.new_id()))
            .collect();
        let id = SeriesId::from_uuid(self.ids.new_id());
        let (actor, settings, now) = (*actor, self.settings, self.clock.now());
        execute(&self.store, locks, now, move |unit| {
            let policy = unit.policy(teacher);
            let draft = SlotSeriesDraft {
                id,
                teacher,
                zone,
                rule,
                length: length.unwrap_or(policy.default_length()),
                capacity,
                ids,
            };
            let (series, slots, outcome) =
                SlotSeries::open(draft, &actor, unit.schedule(teacher), &policy, &settings, now)?;
            for slot in &slots {
                unit.add_slot(slot.clone());
            }
            unit.record(outcome);
            unit.add_slot_series(series.clone());
            Ok((series, slots))
        })
        .await
    }

    /// A student books a seat in every slot of a slot series, in one
    /// transaction under the slots' locks: all or nothing, or what can be
    /// booked (see [`book_slot_series`]). Their seats form a series of
    /// their own, cancelled as any series is.
    pub async fn book_slot_series(&self, actor: &Actor, id: SeriesId, mode: SeriesMode) -> Result<SeriesAnswer> {
        // A slot series' slots never change once written: read before the locks.
        let series = self
            .store
            .slot_series(id)
            .await?
            .ok_or_else(|| Error::not_found("slot series"))?;
        let locks = series
            .slots()
            .iter()
            .fold(LockSet::new().claim(self.claim.clone()), |locks, m| locks.slot(m.slot));
        let request = SeatsRequest {
            id: SeriesId::from_uuid(self.ids.new_id()),
            ids: series
                .slots()
                .iter()
                .map(|_| BookingId::from_uuid(self.ids.new_id()))
                .collect(),
            mode,
        };
        let (actor, now) = (*actor, self.clock.now());
        execute(&self.store, locks, now, move |unit| {
            let policy = unit.policy(series.teacher());
            let mut slots = series
                .slots()
                .iter()
                .map(|m| unit.slot(m.slot).cloned())
                .collect::<Result<Vec<_>, DomainError>>()?;
            let (booked, outcome, occurrences) = book_slot_series(&series, request, &actor, &mut slots, &policy, now)?;
            let own = booked.id();
            unit.put_slots(slots);
            unit.record(outcome);
            unit.add_series(booked);
            Ok(SeriesAnswer {
                series: own,
                zone: series.zone(),
                occurrences,
            })
        })
        .await
    }

    /// A series as its student, its teacher or staff sees it (`not_found`
    /// for anyone else): each booked occurrence with its booking as it is
    /// now (confirmed, cancelled, completed...). A lesson rescheduled since
    /// shows its series booking, cancelled; the new booking is not a member.
    pub async fn series(&self, actor: &Actor, id: SeriesId) -> Result<SeriesAnswer> {
        let series = self.store.series(id).await?.ok_or_else(|| Error::not_found("series"))?;
        series.check_seen_by(actor)?;
        // Every member's booking stays on the slot the series opened or
        // booked for its occurrence, inside this range: one read.
        let (from, to) = series_search_range(series.rule(), series.zone());
        let bookings = self.store.student_bookings(series.student(), from, to).await?;
        let occurrences = series
            .booked()?
            .into_iter()
            .map(
                |(occurrence, member)| match bookings.iter().find(|(b, _)| b.id() == member) {
                    Some((booking, slot)) => Ok(OccurrenceAnswer::booked(
                        occurrence,
                        slot.window().start(),
                        booking.clone(),
                    )),
                    None => Err(Error::Storage(format!("series {id} names a booking it cannot find"))),
                },
            )
            .collect::<Result<_>>()?;
        Ok(SeriesAnswer {
            series: id,
            zone: series.zone(),
            occurrences,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::testing::*;
    use crate::{MockClock, MockIdGen};
    use time::Weekday;
    use time::macros::{date, time};
    use tutorbook_domain::{Frequency, PlatformSettings, SeriesEnd, SeriesMember};

    type Service = Schedules<MockStore, MockClock, MockIdGen>;

    fn service(store: MockStore) -> Service {
        Schedules::new(store, clock(), no_ids(), PlatformSettings::default())
    }

    /// Mondays at 17:00, twice, from the week after [`NOW`].
    fn mondays() -> SeriesDraft {
        SeriesDraft {
            frequency: Frequency::Weekly,
            interval: 1,
            weekdays: vec![Weekday::Monday],
            first: date!(2030 - 01 - 14),
            time: time!(17:00),
            end: SeriesEnd::Count(2),
        }
    }

    /// Opening a slot series locks the teacher's schedule over the whole
    /// span and loads it: someone who may not open one must be refused
    /// before, or anyone signed in could hold the teacher's bookings up.
    #[tokio::test]
    async fn a_non_manager_is_refused_before_anything_is_read_or_locked() {
        for actor in [Actor::student(STUDENT), Actor::teacher(OTHER_TEACHER)] {
            let mut store = MockStore::new();
            store.expect_execute().never();
            store.expect_user().never();
            let err = service(store)
                .open_slot_series(&actor, TEACHER, mondays(), 2, None)
                .await
                .unwrap_err();
            assert_eq!(err.code(), "forbidden", "{actor:?}");
        }
    }

    /// docs/series.md: nothing is skipped silently. A stored member whose
    /// occurrence its rule does not have is a storage failure, before any
    /// lock is taken, not a cancellation that quietly leaves a lesson booked.
    #[tokio::test]
    async fn cancelling_a_series_at_odds_with_its_rule_is_a_storage_failure() {
        let id = SeriesId::from_uuid(uuid(1));
        let members = [1, 7]
            .into_iter()
            .map(|number| SeriesMember {
                number,
                booking: BookingId::from_uuid(uuid(10 + u128::from(number))),
            })
            .collect();
        let stored = tutorbook_domain::Series::restore(
            id,
            TEACHER,
            STUDENT,
            Zone::default(),
            SeriesRule::new(mondays()).unwrap(),
            NOW,
            members,
        );
        let mut store = MockStore::new();
        store
            .expect_series()
            .withf(move |asked| *asked == id)
            .times(1)
            .returning(move |_| Ok(Some(stored.clone())));
        store.expect_execute().never();
        let err = service(store)
            .cancel_series(&Actor::student(STUDENT), id, None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "storage_unavailable");
        assert!(err.to_string().contains("occurrence 7"), "{err}");
    }
}
