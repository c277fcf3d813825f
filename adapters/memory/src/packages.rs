//! The in-memory package store: packages, enrollments, payments, refunds,
//! pricing and promotions beside the slots, under the same state lock, with
//! the same decide-on-a-copy, swap-on-success semantics as the slots.

use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;
use tutorbook_domain::{
    BookingId, CoursePackage, DomainError, Enrollment, EnrollmentId, PackageId, Payment, PaymentId, PaymentStatus,
    PaymentTarget, PricingConfig, Promotion, PromotionId, Refund, Slot, SlotId, SlotStatus, UserId,
};
use tutorbook_ports::{
    CheckoutDecision, EnrollDecision, EnrollmentView, Error, PackageChange, PackageContext, PackageDecision,
    PackageOpenDecision, PackageStore, PackageView, PaymentDecision, PricingStore, RefundDecision, Result,
};

use crate::MemoryStore;
use crate::store::State;

/// A stored package: the package, its session slots in order, and the key it was created with.
#[derive(Debug, Clone)]
struct StoredPackage {
    package: CoursePackage,
    slots: Vec<SlotId>,
    creation_key: Option<String>,
}

/// The package part of the in-memory state.
#[derive(Debug, Default)]
pub(crate) struct PackageState {
    packages: HashMap<PackageId, StoredPackage>,
    enrollments: HashMap<EnrollmentId, Enrollment>,
    payments: HashMap<PaymentId, Payment>,
    enrollment_payments: HashMap<EnrollmentId, PaymentId>,
    refunds: HashMap<EnrollmentId, Refund>,
    pricing: Option<PricingConfig>,
    promotions: BTreeMap<PromotionId, Promotion>,
}

impl State {
    fn package_view(&self, id: PackageId) -> Option<PackageView> {
        let stored = self.packages.packages.get(&id)?;
        let slots = stored.slots.iter().filter_map(|s| self.slots.get(s).cloned()).collect();
        Some(PackageView {
            package: stored.package.clone(),
            slots,
        })
    }

    fn enrollment_view(&self, id: EnrollmentId) -> Option<EnrollmentView> {
        let enrollment = self.packages.enrollments.get(&id)?.clone();
        let payment = self
            .packages
            .payments
            .get(self.packages.enrollment_payments.get(&id)?)?
            .clone();
        Some(EnrollmentView { enrollment, payment })
    }

    fn enrollments_in(&self, package: PackageId) -> u32 {
        let count = self
            .packages
            .enrollments
            .values()
            .filter(|e| e.package() == package)
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// The teacher's open slots overlapping `search`, except those in `except`.
    pub(crate) fn open_slots_of(
        &self,
        teacher: UserId,
        search: (OffsetDateTime, OffsetDateTime),
        except: &[SlotId],
    ) -> Vec<Slot> {
        self.slots
            .values()
            .filter(|s| {
                s.teacher() == teacher
                    && s.status() == SlotStatus::Open
                    && s.window().start() < search.1
                    && s.window().end() > search.0
                    && !except.contains(&s.id())
            })
            .cloned()
            .collect()
    }

    /// A booking's payments, oldest first.
    fn booking_payments(&self, booking: BookingId) -> Vec<Payment> {
        let mut found: Vec<Payment> = self
            .packages
            .payments
            .values()
            .filter(|p| p.target() == PaymentTarget::Booking(booking))
            .cloned()
            .collect();
        found.sort_by_key(|p| (p.created_at(), p.id()));
        found
    }

    /// Saves a set of decided slots, all checked before any is written.
    fn save_slots(&mut self, slots: Vec<Slot>) -> Result<()> {
        for slot in &slots {
            slot.check_invariants()?;
        }
        for slot in slots {
            self.save_slot(slot)?;
        }
        Ok(())
    }
}

#[async_trait]
impl PackageStore for MemoryStore {
    async fn create_package(
        &self,
        teacher: UserId,
        creation_key: Option<String>,
        search: (OffsetDateTime, OffsetDateTime),
        decide: PackageOpenDecision,
    ) -> Result<PackageView> {
        let mut state = self.lock();
        if let Some(key) = &creation_key {
            let earlier = state
                .packages
                .packages
                .values()
                .find(|p| p.package.teacher() == teacher && p.creation_key.as_ref() == Some(key))
                .map(|p| p.package.id());
            if let Some(id) = earlier {
                return state.package_view(id).ok_or_else(|| Error::not_found("package"));
            }
        }
        let existing = state.open_slots_of(teacher, search, &[]);
        let (package, slots, outcome) = decide(&existing)?;
        let fresh = slots.iter().all(|s| !state.slots.contains_key(&s.id()));
        if package.teacher() != teacher || !fresh || state.packages.packages.contains_key(&package.id()) {
            return Err(Error::Storage(
                "create_package decided for another teacher or existing ids".into(),
            ));
        }
        let id = package.id();
        let slot_ids = slots.iter().map(Slot::id).collect();
        state.save_slots(slots)?;
        state.record(&outcome);
        state.packages.packages.insert(
            id,
            StoredPackage {
                package,
                slots: slot_ids,
                creation_key,
            },
        );
        state.package_view(id).ok_or_else(|| Error::not_found("package"))
    }

    async fn change_package(
        &self,
        id: PackageId,
        search: Option<(OffsetDateTime, OffsetDateTime)>,
        decide: PackageDecision,
    ) -> Result<Option<PackageView>> {
        let mut state = self.lock();
        let stored = state
            .packages
            .packages
            .get(&id)
            .cloned()
            .ok_or_else(|| Error::not_found("package"))?;
        let view = state.package_view(id).ok_or_else(|| Error::not_found("package"))?;
        let context = PackageContext {
            enrollments: state.enrollments_in(id),
            slots: view.slots,
            teacher_slots: search
                .map(|range| state.open_slots_of(stored.package.teacher(), range, &stored.slots))
                .unwrap_or_default(),
        };
        let mut package = stored.package.clone();
        match decide(&mut package, &context)? {
            PackageChange::Keep(outcome) => {
                state.record(&outcome);
                if let Some(entry) = state.packages.packages.get_mut(&id) {
                    entry.package = package;
                }
                Ok(state.package_view(id))
            }
            PackageChange::ReplaceSlots(slots, outcome) => {
                if slots.iter().any(|s| state.slots.contains_key(&s.id())) {
                    return Err(Error::Storage("replacement slots reuse existing ids".into()));
                }
                let slot_ids = slots.iter().map(Slot::id).collect();
                // Saved (all checked first) before the old slots go, so a
                // refusal changes nothing; the ids never overlap (checked above).
                state.save_slots(slots)?;
                for old in &stored.slots {
                    state.remove_slot(*old);
                }
                state.record(&outcome);
                if let Some(entry) = state.packages.packages.get_mut(&id) {
                    entry.package = package;
                    entry.slots = slot_ids;
                }
                Ok(state.package_view(id))
            }
            PackageChange::Delete(outcome) => {
                for old in &stored.slots {
                    state.remove_slot(*old);
                }
                state.packages.packages.remove(&id);
                state.record(&outcome);
                Ok(None)
            }
        }
    }

    async fn enroll(&self, package: PackageId, student: UserId, decide: EnrollDecision) -> Result<EnrollmentView> {
        let mut state = self.lock();
        let view = state.package_view(package).ok_or_else(|| Error::not_found("package"))?;
        let already = state
            .packages
            .enrollments
            .values()
            .any(|e| e.package() == package && e.student() == student);
        let mut slots = view.slots;
        let enrolled = decide(&view.package, &mut slots, already)?;
        state.save_slots(slots)?;
        state.record(&enrolled.outcome);
        let (enrollment, payment) = (enrolled.enrollment, enrolled.payment);
        state.packages.enrollment_payments.insert(enrollment.id(), payment.id());
        state.packages.payments.insert(payment.id(), payment.clone());
        state.packages.enrollments.insert(enrollment.id(), enrollment.clone());
        Ok(EnrollmentView { enrollment, payment })
    }

    async fn refund(&self, enrollment: EnrollmentId, decide: RefundDecision) -> Result<Refund> {
        let mut state = self.lock();
        if let Some(done) = state.packages.refunds.get(&enrollment) {
            return Ok(done.clone());
        }
        let EnrollmentView {
            enrollment: mut draft,
            mut payment,
        } = state
            .enrollment_view(enrollment)
            .ok_or_else(|| Error::not_found("enrollment"))?;
        let view = state
            .package_view(draft.package())
            .ok_or_else(|| Error::not_found("package"))?;
        let mut slots = view.slots;
        let credits = state.credits_of(draft.student());
        let (refund, outcome) = decide(&mut draft, &mut payment, &view.package, &mut slots, &credits)?;
        state.save_slots(slots)?;
        state.record(&outcome);
        state.packages.payments.insert(payment.id(), payment);
        state.packages.enrollments.insert(draft.id(), draft);
        state.packages.refunds.insert(enrollment, refund.clone());
        Ok(refund)
    }

    async fn checkout_booking(&self, slot: SlotId, booking: BookingId, decide: CheckoutDecision) -> Result<Payment> {
        let mut state = self.lock();
        let current = state.slot(slot)?.clone();
        let existing = state.booking_payments(booking);
        match decide(&current, &existing)? {
            Some(payment) => {
                state.packages.payments.insert(payment.id(), payment.clone());
                Ok(payment)
            }
            None => existing
                .into_iter()
                .find(|p| p.status() == PaymentStatus::Pending)
                .ok_or_else(|| Error::Storage("checkout kept a pending payment that does not exist".into())),
        }
    }

    async fn booking_payments(&self, booking: BookingId) -> Result<Vec<Payment>> {
        Ok(self.lock().booking_payments(booking))
    }

    async fn change_payment(&self, id: PaymentId, decide: PaymentDecision) -> Result<Payment> {
        let mut state = self.lock();
        let mut payment = state
            .packages
            .payments
            .get(&id)
            .cloned()
            .ok_or_else(|| Error::not_found("payment"))?;
        let outcome = decide(&mut payment)?;
        state.record(&outcome);
        state.packages.payments.insert(id, payment.clone());
        Ok(payment)
    }

    async fn package(&self, id: PackageId) -> Result<Option<PackageView>> {
        Ok(self.lock().package_view(id))
    }

    async fn open_packages(
        &self,
        after: OffsetDateTime,
        except_teacher: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<PackageView>> {
        let state = self.lock();
        let mut found: Vec<PackageView> = state
            .packages
            .packages
            .values()
            .filter(|p| p.package.status().is_open() && first_start(&p.package) > after)
            .filter(|p| Some(p.package.teacher()) != except_teacher)
            .filter_map(|p| state.package_view(p.package.id()))
            .collect();
        found.sort_by_key(|v| (first_start(&v.package), v.package.id()));
        found.truncate(limit);
        Ok(found)
    }

    async fn teacher_packages(&self, teacher: UserId) -> Result<Vec<PackageView>> {
        let state = self.lock();
        let mut found: Vec<PackageView> = state
            .packages
            .packages
            .values()
            .filter(|p| p.package.teacher() == teacher)
            .filter_map(|p| state.package_view(p.package.id()))
            .collect();
        found.sort_by_key(|v| (first_start(&v.package), v.package.id()));
        Ok(found)
    }

    async fn enrollment(&self, id: EnrollmentId) -> Result<Option<EnrollmentView>> {
        Ok(self.lock().enrollment_view(id))
    }

    async fn student_enrollments(&self, student: UserId) -> Result<Vec<EnrollmentView>> {
        let state = self.lock();
        let mut found: Vec<EnrollmentView> = state
            .packages
            .enrollments
            .values()
            .filter(|e| e.student() == student)
            .filter_map(|e| state.enrollment_view(e.id()))
            .collect();
        found.sort_by_key(|v| std::cmp::Reverse((v.enrollment.created_at(), v.enrollment.id())));
        Ok(found)
    }

    async fn package_enrollments(&self, package: PackageId) -> Result<Vec<EnrollmentView>> {
        let state = self.lock();
        let mut found: Vec<EnrollmentView> = state
            .packages
            .enrollments
            .values()
            .filter(|e| e.package() == package)
            .filter_map(|e| state.enrollment_view(e.id()))
            .collect();
        found.sort_by_key(|v| (v.enrollment.created_at(), v.enrollment.id()));
        Ok(found)
    }

    async fn refund_of(&self, enrollment: EnrollmentId) -> Result<Option<Refund>> {
        Ok(self.lock().packages.refunds.get(&enrollment).cloned())
    }
}

fn first_start(package: &CoursePackage) -> OffsetDateTime {
    package
        .sessions()
        .first()
        .map_or(OffsetDateTime::UNIX_EPOCH, |s| s.start())
}

#[async_trait]
impl PricingStore for MemoryStore {
    async fn pricing(&self) -> Result<PricingConfig> {
        Ok(self.lock().packages.pricing.clone().unwrap_or_default())
    }

    async fn set_pricing(&self, config: PricingConfig) -> Result<()> {
        self.lock().packages.pricing = Some(config);
        Ok(())
    }

    async fn promotions(&self) -> Result<Vec<Promotion>> {
        Ok(self.lock().packages.promotions.values().copied().collect())
    }

    async fn save_promotion(&self, promotion: Promotion) -> Result<()> {
        self.lock().packages.promotions.insert(promotion.id(), promotion);
        Ok(())
    }

    async fn delete_promotion(&self, id: PromotionId) -> Result<()> {
        match self.lock().packages.promotions.remove(&id) {
            Some(_) => Ok(()),
            None => Err(DomainError::NotFound { entity: "promotion" }.into()),
        }
    }
}
