//! Store ports of course packages, enrollments, payments, refunds, pricing
//! and promotions: the read side. Creating, revising, enrolling, refunding
//! and paying are units of work ([`crate::UnitOfWork`]).

use async_trait::async_trait;
use time::OffsetDateTime;
use tutorbook_domain::{
    BookingId, CoursePackage, Enrollment, EnrollmentId, PackageId, Payment, PricingConfig, Promotion, PromotionId,
    Refund, Slot, UserId,
};

use crate::Result;

/// A package with its session slots, in session order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageView {
    /// The package.
    pub package: CoursePackage,
    /// One slot per session.
    pub slots: Vec<Slot>,
}

/// An enrollment with its payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentView {
    /// The enrollment.
    pub enrollment: Enrollment,
    /// Its payment.
    pub payment: Payment,
}

/// Course packages, enrollments, payments and refunds.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PackageStore: Send + Sync {
    /// A booking's payments, oldest first.
    async fn booking_payments(&self, booking: BookingId) -> Result<Vec<Payment>>;

    /// A package with its slots.
    async fn package(&self, id: PackageId) -> Result<Option<PackageView>>;

    /// Open packages whose first session is after `after`, soonest first, at
    /// most `limit`, leaving out those of `except_teacher` (a teacher browsing).
    async fn open_packages(
        &self,
        after: OffsetDateTime,
        except_teacher: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<PackageView>>;

    /// A teacher's packages (any status), soonest first.
    async fn teacher_packages(&self, teacher: UserId) -> Result<Vec<PackageView>>;

    /// One enrollment with its payment.
    async fn enrollment(&self, id: EnrollmentId) -> Result<Option<EnrollmentView>>;

    /// A student's enrollments, newest first.
    async fn student_enrollments(&self, student: UserId) -> Result<Vec<EnrollmentView>>;

    /// A package's enrollments, oldest first.
    async fn package_enrollments(&self, package: PackageId) -> Result<Vec<EnrollmentView>>;

    /// The refund of an enrollment, if executed.
    async fn refund_of(&self, enrollment: EnrollmentId) -> Result<Option<Refund>>;
}

/// The platform's pricing config and promotions.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PricingStore: Send + Sync {
    /// The pricing config; the default rates until staff set one.
    async fn pricing(&self) -> Result<PricingConfig>;
    /// Replaces the pricing config (there is only ever one).
    async fn set_pricing(&self, config: PricingConfig) -> Result<()>;
    /// Every promotion, by id.
    async fn promotions(&self) -> Result<Vec<Promotion>>;
    /// Inserts or replaces a promotion.
    async fn save_promotion(&self, promotion: Promotion) -> Result<()>;
    /// Deletes a promotion; `not_found` when it does not exist.
    async fn delete_promotion(&self, id: PromotionId) -> Result<()>;
}
