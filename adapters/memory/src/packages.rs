//! The in-memory package store: packages, enrollments, payments, refunds,
//! pricing and promotions beside the slots, under the same state lock.
//! Commands on them are units of work (`crate::unit`).

use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;
use tutorbook_domain::{
    BookingId, CoursePackage, DomainError, Enrollment, EnrollmentId, PackageId, Payment, PaymentId, PaymentTarget,
    PricingConfig, Promotion, PromotionId, Refund, Slot, SlotId, SlotStatus, UserId,
};
use tutorbook_ports::{EnrollmentView, PackageStore, PackageView, PricingStore, Result};

use crate::MemoryStore;
use crate::store::State;

/// A stored package: the package, its session slots in order, and the key it was created with.
#[derive(Debug, Clone)]
pub(crate) struct StoredPackage {
    pub(crate) package: CoursePackage,
    pub(crate) slots: Vec<SlotId>,
    pub(crate) creation_key: Option<String>,
}

/// The package part of the in-memory state.
#[derive(Debug, Default)]
pub(crate) struct PackageState {
    pub(crate) packages: HashMap<PackageId, StoredPackage>,
    pub(crate) enrollments: HashMap<EnrollmentId, Enrollment>,
    pub(crate) payments: HashMap<PaymentId, Payment>,
    pub(crate) enrollment_payments: HashMap<EnrollmentId, PaymentId>,
    pub(crate) refunds: HashMap<EnrollmentId, Refund>,
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
    pub(crate) fn booking_payments(&self, booking: BookingId) -> Vec<Payment> {
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
}

#[async_trait]
impl PackageStore for MemoryStore {
    async fn booking_payments(&self, booking: BookingId) -> Result<Vec<Payment>> {
        Ok(self.lock().booking_payments(booking))
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
