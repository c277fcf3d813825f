//! The unit of work in memory: under the one state lock, load what the lock
//! set names, run the decision on copies, check every changed slot the way a
//! SQL store's constraints would, and only then write the copies back. A
//! refusal, or a failed check, leaves the state untouched.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use time::OffsetDateTime;
use tutorbook_domain::{BookingSource, BookingStatus, DomainError, PaymentTarget, Slot, UserId};
use tutorbook_ports::{
    Changes, Decision, Error, IdempotencyRecord, Loaded, LoadedPackage, LockSet, Result, Unit, UnitOfWork,
};

use crate::MemoryStore;
use crate::packages::StoredPackage;
use crate::store::State;

#[async_trait]
impl UnitOfWork for MemoryStore {
    async fn execute(&self, locks: LockSet, now: OffsetDateTime, decide: Decision) -> Result<Unit> {
        // The booking state, then the accounts (where the keys live): the
        // only place both are held, always in this order.
        let mut state = self.lock();
        let mut accounts = self.accounts();
        if let Some(claim) = &locks.claim
            && let Some(record) = accounts.keys.get(&(claim.user, claim.key.clone()))
        {
            if record.fingerprint != claim.fingerprint {
                return Err(Error::KeyReused);
            }
            if let Some(answer) = &record.answer {
                let replay = Loaded {
                    replay: Some(answer.clone()),
                    ..Loaded::default()
                };
                return Ok(Unit::for_claim(replay, true));
            }
        }
        let mut unit = Unit::for_claim(state.load(&locks), locks.claim.is_some());
        decide(&mut unit)?;
        let answer =
            match &locks.claim {
                Some(_) => Some(unit.answer_json().map(str::to_owned).ok_or_else(|| {
                    Error::Storage("a command under an idempotency key gave no answer to keep".into())
                })?),
                None => None,
            };
        let changes = unit.changes();
        state.check(&changes)?;
        state.apply(&changes, now);
        drop(changes);
        if let (Some(claim), Some(answer)) = (&locks.claim, answer) {
            let record = accounts
                .keys
                .entry((claim.user, claim.key.clone()))
                .or_insert_with(|| IdempotencyRecord {
                    fingerprint: claim.fingerprint.clone(),
                    answer: None,
                    response: None,
                    created_at: now,
                });
            record.answer = Some(answer);
        }
        self.commits.fetch_add(1, Ordering::Release);
        Ok(unit)
    }

    fn commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }
}

impl State {
    /// Everything `locks` names that exists (the lock is the state mutex itself).
    fn load(&self, locks: &LockSet) -> Loaded {
        let mut loaded = Loaded::default();
        let mut slot_ids = locks.slots.clone();
        let mut teachers: Vec<UserId> = Vec::new();
        for booking in &locks.bookings {
            if let Some(slot) = self.booking_slots.get(booking) {
                loaded.booking_slots.push((*booking, *slot));
                slot_ids.push(*slot);
            }
        }
        let mut schedules: Vec<(UserId, OffsetDateTime, OffsetDateTime)> =
            locks.schedules.iter().map(|s| (s.teacher, s.from, s.to)).collect();
        for (package, from, to) in &locks.package_schedules {
            if let Some(stored) = self.packages.packages.get(package) {
                schedules.push((stored.package.teacher(), *from, *to));
            }
        }
        for (teacher, from, to) in schedules {
            loaded
                .schedules
                .push((teacher, self.open_slots_of(teacher, (from, to), &[])));
            teachers.push(teacher);
        }
        for id in &locks.packages {
            if let Some(stored) = self.packages.packages.get(id) {
                slot_ids.extend(stored.slots.iter().copied());
                let mut enrolled: Vec<_> = self
                    .packages
                    .enrollments
                    .values()
                    .filter(|e| e.package() == *id)
                    .collect();
                enrolled.sort_by_key(|e| (e.created_at(), e.id()));
                loaded.packages.push(LoadedPackage {
                    package: stored.package.clone(),
                    sessions: stored.slots.clone(),
                    enrolled: enrolled.iter().map(|e| e.student()).collect(),
                    creation_key: stored.creation_key.clone(),
                });
            }
        }
        for id in &locks.enrollments {
            if let Some(enrollment) = self.packages.enrollments.get(id) {
                loaded.enrollments.push(enrollment.clone());
                if let Some(payment) = self
                    .packages
                    .enrollment_payments
                    .get(id)
                    .and_then(|p| self.packages.payments.get(p))
                {
                    loaded.payments.push(payment.clone());
                }
                loaded.refunds.extend(self.packages.refunds.get(id).cloned());
            }
        }
        loaded.payments.extend(
            locks
                .payments
                .iter()
                .filter_map(|id| self.packages.payments.get(id).cloned()),
        );
        for student in &locks.student_credits {
            loaded.credits.extend(self.credits_of(*student));
        }
        loaded
            .credits
            .extend(locks.credits.iter().filter_map(|id| self.credits.get(id).cloned()));
        for booking in &locks.booking_payments {
            loaded
                .booking_payments
                .push((*booking, self.booking_payments(*booking)));
        }
        for (teacher, student) in &locks.trials {
            let used = self.slots.values().filter(|s| s.teacher() == *teacher).any(|s| {
                s.bookings().iter().any(|b| {
                    b.student() == *student
                        && b.source() == BookingSource::Trial
                        && !BookingStatus::FREEING_A_TRIAL.contains(&b.status())
                })
            });
            if used {
                loaded.used_trials.push((*teacher, *student));
            }
            teachers.push(*teacher);
        }
        for teacher in &locks.availability {
            loaded
                .availability
                .push((*teacher, self.availability.get(teacher).cloned().unwrap_or_default()));
            teachers.push(*teacher);
        }
        for booking in &locks.feedback {
            loaded
                .reviews
                .extend(self.reviews.iter().filter(|r| r.booking == *booking).cloned());
            loaded.reports.extend(self.reports.get(booking).cloned());
        }
        if let Some((teacher, key)) = &locks.package_key {
            loaded.keyed_package = self
                .packages
                .packages
                .values()
                .find(|p| p.package.teacher() == *teacher && p.creation_key.as_ref() == Some(key))
                .map(|p| p.package.id());
        }
        slot_ids.sort();
        slot_ids.dedup();
        loaded.slots = slot_ids.iter().filter_map(|id| self.slots.get(id).cloned()).collect();
        teachers.extend(loaded.slots.iter().map(Slot::teacher));
        teachers.extend(loaded.packages.iter().map(|p| p.package.teacher()));
        teachers.sort();
        teachers.dedup();
        loaded.policies = teachers
            .into_iter()
            .filter_map(|t| self.policies.get(&t).map(|p| (t, *p)))
            .collect();
        loaded
    }

    /// What a SQL store's constraints would refuse: broken seat counts, two
    /// active bookings of one student, a reused id.
    fn check(&self, changes: &Changes<'_>) -> Result<()> {
        for slot in &changes.new_slots {
            if self.slots.contains_key(&slot.id()) {
                return Err(Error::Storage(format!("slot {} already exists", slot.id())));
            }
            slot.check_invariants()?;
        }
        for (_, slot) in &changes.changed_slots {
            slot.check_invariants()?;
        }
        for review in &changes.new_reviews {
            // The SQL stores' unique key on the booking.
            if self.reviews.iter().any(|r| r.booking == review.booking) {
                return Err(DomainError::AlreadyReviewed.into());
            }
        }
        for series in &changes.new_series {
            // The SQL stores' primary key, and their foreign key on each booking.
            if self.series.contains_key(&series.id()) {
                return Err(Error::Storage(format!("series {} already exists", series.id())));
            }
            let exists = |booking| {
                self.booking_slots.contains_key(&booking)
                    || changes.new_slots.iter().any(|s| s.booking(booking).is_some())
                    || changes.changed_slots.iter().any(|(_, s)| s.booking(booking).is_some())
            };
            if !series.members().iter().all(|m| exists(m.booking)) {
                return Err(Error::Storage(format!(
                    "series {} names a booking that does not exist",
                    series.id()
                )));
            }
        }
        for series in &changes.new_slot_series {
            // The SQL stores' primary key, and their foreign key on each slot.
            if self.slot_series.contains_key(&series.id()) {
                return Err(Error::Storage(format!("slot series {} already exists", series.id())));
            }
            let exists = |slot| self.slots.contains_key(&slot) || changes.new_slots.iter().any(|s| s.id() == slot);
            if !series.slots().iter().all(|m| exists(m.slot)) {
                return Err(Error::Storage(format!(
                    "slot series {} names a slot that does not exist",
                    series.id()
                )));
            }
        }
        for package in &changes.new_packages {
            if self.packages.packages.contains_key(&package.package.id()) {
                return Err(Error::Storage(format!(
                    "package {} already exists",
                    package.package.id()
                )));
            }
        }
        Ok(())
    }

    /// Writes checked changes (see [`State::check`]).
    fn apply(&mut self, changes: &Changes<'_>, now: OffsetDateTime) {
        for (id, slots) in changes.deleted_packages.iter().chain(&changes.replaced_sessions) {
            for slot in slots {
                self.remove_slot(*slot);
            }
            if changes.deleted_packages.iter().any(|(deleted, _)| deleted == id) {
                self.packages.packages.remove(id);
            }
        }
        for package in &changes.new_packages {
            self.packages.packages.insert(
                package.package.id(),
                StoredPackage {
                    package: package.package.clone(),
                    slots: package.sessions.clone(),
                    creation_key: package.creation_key.clone(),
                },
            );
        }
        for package in &changes.changed_packages {
            if let Some(stored) = self.packages.packages.get_mut(&package.id()) {
                stored.package = (*package).clone();
            }
        }
        for (id, sessions) in &changes.new_sessions {
            if let Some(stored) = self.packages.packages.get_mut(id) {
                stored.slots = sessions.to_vec();
            }
        }
        for (_, enrollment) in &changes.enrollments {
            self.packages.enrollments.insert(enrollment.id(), (*enrollment).clone());
        }
        for slot in changes
            .new_slots
            .iter()
            .chain(changes.changed_slots.iter().map(|(_, s)| s))
        {
            for booking in slot.bookings() {
                self.booking_slots.insert(booking.id(), slot.id());
            }
            self.slots.insert(slot.id(), (*slot).clone());
        }
        for (_, payment) in &changes.payments {
            if let PaymentTarget::Enrollment(enrollment) = payment.target() {
                self.packages.enrollment_payments.insert(enrollment, payment.id());
            }
            self.packages.payments.insert(payment.id(), (*payment).clone());
        }
        for refund in &changes.new_refunds {
            self.packages.refunds.insert(refund.enrollment, (*refund).clone());
        }
        for credit in &changes.credits {
            self.credits.insert(credit.id(), (*credit).clone());
        }
        for (teacher, availability) in &changes.availability {
            self.availability.insert(*teacher, (*availability).clone());
        }
        self.reviews.extend(changes.new_reviews.iter().map(|r| (*r).clone()));
        for (_, report) in &changes.reports {
            self.reports.insert(report.booking(), (*report).clone());
        }
        for series in &changes.new_series {
            self.series.insert(series.id(), (*series).clone());
        }
        for series in &changes.new_slot_series {
            self.slot_series.insert(series.id(), (*series).clone());
        }
        self.record(changes.audit, changes.events, now);
    }
}
