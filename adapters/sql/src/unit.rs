//! The unit of work over SQL: one transaction that resolves what a
//! [`LockSet`] names, takes the locks in the documented order, loads the
//! unit, runs the decision and saves [`Unit::changes`] with the audit and
//! outbox rows. Every command of every port runs through [`execute_in`].
//!
//! Lock order (the same for every command, so none can deadlock):
//! teachers (Postgres advisory locks; they guard a teacher's schedule and
//! availability) → packages → payments → credits →
//! slots, each kind in ascending id order (`Locks`). Reads that only find out
//! *what* to lock (a booking's slot, a package's teacher, an enrollment's
//! payment, a student's credits) come first, unlocked: those links never
//! change once written. Everything the decision sees is read after the last
//! lock, so it is one consistent state.

use diesel_async::AsyncConnection;
use time::OffsetDateTime;
use tutorbook_domain::{Buffers, Refund, Slot, SlotId, UserId};
use tutorbook_ports::{Decision, Error, Loaded, LockSet, ScheduleLock, Unit};

use crate::availability::AvailabilityQueries;
use crate::conn::OPEN;
use crate::error::TxError;
use crate::packages::PackageQueries;
use crate::series::SeriesQueries;
use crate::users::{KeyRow, UserQueries};

/// Runs one unit of work on `c`, which is already inside a transaction.
pub(crate) async fn execute_in<
    C: PackageQueries + UserQueries + AvailabilityQueries + SeriesQueries + AsyncConnection,
>(
    c: &mut C,
    locks: LockSet,
    now: OffsetDateTime,
    decide: Decision,
) -> Result<Unit, TxError> {
    let mut loaded = Loaded::default();

    // 0. The Idempotency-Key, before any other lock. The insert is the lock:
    //    a concurrent command with the same key waits for this transaction
    //    and then finds its answer.
    if let Some(claim) = &locks.claim
        && c.insert_key_if_new(&KeyRow::new(claim, now, None, None)).await? == 0
    {
        let record = c
            .load_key(claim.user, &claim.key)
            .await?
            .ok_or_else(|| Error::Storage("an idempotency key vanished after a conflicting insert".into()))?;
        if record.fingerprint != claim.fingerprint {
            return Err(Error::KeyReused.into());
        }
        if let Some(answer) = record.answer {
            loaded.replay = Some(answer);
            return Ok(Unit::for_claim(loaded, true));
        }
    }

    // 1. What to lock.
    let mut slot_ids: Vec<SlotId> = locks.slots.clone();
    for booking in &locks.bookings {
        if let Some(slot) = c.slot_id_of_booking(*booking).await? {
            loaded.booking_slots.push((*booking, slot));
            slot_ids.push(slot);
        }
    }
    let mut schedules: Vec<ScheduleLock> = locks.schedules.clone();
    for (package, from, to) in &locks.package_schedules {
        if let Some(teacher) = c.package_teacher(*package).await? {
            schedules.push(ScheduleLock {
                teacher,
                from: *from,
                to: *to,
            });
        }
    }
    let mut payment_ids = locks.payments.clone();
    for enrollment in &locks.enrollments {
        if let Some(view) = c.load_enrollment(*enrollment).await? {
            payment_ids.push(view.payment.id());
        }
    }
    let mut credit_ids = locks.credits.clone();
    for student in &locks.student_credits {
        credit_ids.extend(c.credits_of_student(*student).await?.iter().map(|credit| credit.id()));
    }

    // The teachers' policies, before the row locks so that the locks are
    // held as briefly as possible (those of the slots' teachers come with
    // the slots' locks, in the same statement). A policy is not locked: a
    // policy change racing with a booking is decided by whichever commits
    // first, as before.
    let mut teachers: Vec<UserId> = schedules.iter().map(|s| s.teacher).collect();
    teachers.extend(locks.availability.iter().copied());
    teachers.extend(locks.trials.iter().map(|(teacher, _)| *teacher));
    sorted(&mut teachers);
    loaded.policies = c.load_policies(&teachers).await?;

    // 2. The locks, in order.
    for teacher in &teachers {
        c.lock_teacher(*teacher).await?;
    }
    let mut package_ids = locks.packages.clone();
    sorted(&mut package_ids);
    c.lock_packages(&package_ids).await?;
    // A package's sessions change only under its lock: read them now.
    let mut package_teachers: Vec<UserId> = Vec::new();
    for id in &package_ids {
        if let Some(parts) = c.load_package_parts(*id).await? {
            slot_ids.extend(parts.sessions.iter().copied());
            package_teachers.push(parts.package.teacher());
            loaded.packages.push(parts);
        }
    }
    sorted(&mut payment_ids);
    c.lock_payments(&payment_ids).await?;
    sorted(&mut credit_ids);
    c.lock_credits(&credit_ids).await?;
    sorted(&mut slot_ids);
    loaded.policies.extend(c.lock_slots(&slot_ids).await?);

    // 3. The unit, read under the locks.
    loaded.slots = c.load_slots(&slot_ids).await?;
    for schedule in &schedules {
        let open = c
            .load_slots_between(Some(schedule.teacher), schedule.from, schedule.to, OPEN, true, i64::MAX)
            .await?;
        loaded.schedules.push((schedule.teacher, open));
    }
    // The policies not read yet: those of package teachers without a slot
    // here (the slots' locks brought their teachers' policies).
    package_teachers
        .retain(|teacher| !teachers.contains(teacher) && !loaded.slots.iter().any(|slot| slot.teacher() == *teacher));
    sorted(&mut package_teachers);
    loaded.policies.extend(c.load_policies(&package_teachers).await?);
    loaded.credits = c.load_credits(&credit_ids).await?;
    for enrollment in &locks.enrollments {
        if let Some(view) = c.load_enrollment(*enrollment).await? {
            loaded.enrollments.push(view.enrollment);
            loaded
                .refunds
                .extend(c.refund_by_key(&Refund::key_for(*enrollment)).await?);
        }
    }
    for payment in &payment_ids {
        loaded.payments.extend(c.load_payment(*payment).await?);
    }
    for booking in &locks.booking_payments {
        loaded
            .booking_payments
            .push((*booking, c.payments_of_booking(*booking).await?));
    }
    for (teacher, student) in &locks.trials {
        if c.trial_used(*teacher, *student).await? {
            loaded.used_trials.push((*teacher, *student));
        }
    }
    for teacher in &locks.availability {
        loaded
            .availability
            .push((*teacher, c.load_availability(*teacher).await?));
    }
    for booking in &locks.feedback {
        loaded.reviews.extend(c.review_of_booking(*booking).await?);
        loaded.reports.extend(c.report_of_booking(*booking).await?);
    }
    if let Some((teacher, key)) = &locks.package_key {
        loaded.keyed_package = c.package_by_key(*teacher, key).await?;
    }

    // 4. The decision.
    let mut unit = Unit::for_claim(loaded, locks.claim.is_some());
    decide(&mut unit)?;

    // 5. What it changed, and the answer with its key.
    save(c, &unit, now).await?;
    if let Some(claim) = &locks.claim {
        let answer = unit
            .answer_json()
            .ok_or_else(|| Error::Storage("a command under an idempotency key gave no answer to keep".into()))?;
        c.store_key_answer(claim, answer).await?;
    }
    Ok(unit)
}

/// Writes [`Unit::changes`] top to bottom (the order respects the foreign keys).
async fn save<C: PackageQueries + AvailabilityQueries + SeriesQueries>(
    c: &mut C,
    unit: &Unit,
    now: OffsetDateTime,
) -> Result<(), TxError> {
    let changes = unit.changes();
    for (package, slots) in &changes.deleted_packages {
        c.delete_sessions(*package, slots).await?;
        c.delete_package(*package).await?;
    }
    for (package, slots) in &changes.replaced_sessions {
        c.delete_sessions(*package, slots).await?;
    }
    for package in &changes.new_packages {
        c.insert_package(&package.package, package.creation_key.clone(), now)
            .await?;
    }
    for package in &changes.changed_packages {
        c.update_package(package).await?;
    }
    for (insert, enrollment) in &changes.enrollments {
        c.save_enrollment(enrollment, *insert).await?;
    }
    // Their rows carry the buffers of the teacher's policy (the overlap guard).
    let new_slots: Vec<(&Slot, Buffers)> = changes
        .new_slots
        .iter()
        .map(|slot| (*slot, unit.policy(slot.teacher()).buffers()))
        .collect();
    c.insert_slots(&new_slots).await?;
    // The audit and outbox rows go with the slots, in one batch: they name
    // no row written below (the audit's bookings are written here or above).
    c.save_slots_and_history(&changes.changed_slots, changes.audit, changes.events, now)
        .await?;
    for (package, sessions) in &changes.new_sessions {
        let slots = sessions
            .iter()
            .map(|id| unit.slot(*id))
            .collect::<Result<Vec<&Slot>, _>>()
            .map_err(|_| Error::Storage("a package session without its slot".into()))?;
        c.insert_sessions(*package, &slots).await?;
    }
    for (insert, payment) in &changes.payments {
        c.save_payment(payment, *insert).await?;
    }
    for refund in &changes.new_refunds {
        c.insert_refund(refund).await?;
    }
    for credit in &changes.credits {
        c.save_credit(credit).await?;
    }
    for (teacher, availability) in &changes.availability {
        c.replace_availability(*teacher, availability).await?;
    }
    for review in &changes.new_reviews {
        c.insert_review(review).await?;
    }
    for (_, report) in &changes.reports {
        c.upsert_report(report).await?;
    }
    for series in &changes.new_slot_series {
        c.insert_slot_series(series).await?;
    }
    for series in &changes.new_series {
        c.insert_series(series).await?;
    }
    Ok(())
}

/// Sorts and removes duplicates: the order locks are taken in.
fn sorted<T: Ord>(ids: &mut Vec<T>) {
    ids.sort();
    ids.dedup();
}
