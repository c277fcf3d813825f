//! Store ports of course packages, enrollments, payments, refunds, pricing
//! and promotions. Same shape as [`crate::BookingStore`]: the adapter locks
//! and loads, a pure decision (a closure over the domain) decides, and the
//! adapter writes everything it decided, with the audit and outbox rows, in
//! one transaction, or nothing.

use async_trait::async_trait;
use time::OffsetDateTime;
use tutorbook_domain::{
    BookingId, CoursePackage, DomainResult, Enrolled, Enrollment, EnrollmentId, MakeupCredit, Outcome, PackageId,
    Payment, PaymentId, PricingConfig, Promotion, PromotionId, Refund, Slot, SlotId, UserId,
};

use crate::Result;

/// Decides a new package and its session slots, given the teacher's open
/// slots around the sessions.
pub type PackageOpenDecision = Box<dyn FnOnce(&[Slot]) -> DomainResult<(CoursePackage, Vec<Slot>, Outcome)> + Send>;
/// Decides a change of one locked package.
pub type PackageDecision = Box<dyn FnOnce(&mut CoursePackage, &PackageContext) -> DomainResult<PackageChange> + Send>;
/// Decides an enrollment on the locked package and its session slots; the flag
/// says whether the student already holds an enrollment in it.
pub type EnrollDecision = Box<dyn FnOnce(&CoursePackage, &mut [Slot], bool) -> DomainResult<Enrolled> + Send>;
/// Decides a refund on the locked enrollment, its payment, its session slots
/// and the student's make-up credits (credits it voids come back in the outcome).
pub type RefundDecision = Box<
    dyn FnOnce(
            &mut Enrollment,
            &mut Payment,
            &CoursePackage,
            &mut [Slot],
            &[MakeupCredit],
        ) -> DomainResult<(Refund, Outcome)>
        + Send,
>;
/// Decides a change of one locked payment.
pub type PaymentDecision = Box<dyn FnOnce(&mut Payment) -> DomainResult<Outcome> + Send>;

/// Decides a single-lesson checkout on the locked slot, given the booking's
/// payments so far; `None` means "the pending one stands".
pub type CheckoutDecision = Box<dyn FnOnce(&Slot, &[Payment]) -> DomainResult<Option<Payment>> + Send>;

/// A package with its session slots, in session order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageView {
    /// The package.
    pub package: CoursePackage,
    /// One slot per session.
    pub slots: Vec<Slot>,
}

/// What a package decision may look at besides the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageContext {
    /// Enrollments ever made in it (any status): a package with history is not rewritten.
    pub enrollments: u32,
    /// Its session slots, in session order.
    pub slots: Vec<Slot>,
    /// The teacher's other open slots in the search range the caller gave
    /// (empty without one), for a schedule change's overlap check.
    pub teacher_slots: Vec<Slot>,
}

/// What a package decision decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageChange {
    /// Save the package row only.
    Keep(Outcome),
    /// Save the package and replace its session slots by these.
    ReplaceSlots(Vec<Slot>, Outcome),
    /// Delete the package with its slots.
    Delete(Outcome),
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
    /// Creates a package with its session slots. Serialises against every
    /// other slot or package creation of the teacher, passes the teacher's open
    /// slots overlapping `search` to `decide`, and inserts what it returns.
    /// With a `creation_key` the call is idempotent: a package the teacher
    /// already created with that key is returned as is and `decide` is not run.
    async fn create_package(
        &self,
        teacher: UserId,
        creation_key: Option<String>,
        search: (OffsetDateTime, OffsetDateTime),
        decide: PackageOpenDecision,
    ) -> Result<PackageView>;

    /// Changes one package under its lock (and the teacher's, when `search`
    /// is given). `not_found` (entity `package`) when it does not exist.
    async fn change_package(
        &self,
        id: PackageId,
        search: Option<(OffsetDateTime, OffsetDateTime)>,
        decide: PackageDecision,
    ) -> Result<Option<PackageView>>;

    /// Enrolls `student` in a package: locks the package, then its session
    /// slots in session order, and saves the bookings, enrollment and
    /// payment the decision made. `not_found` for a missing package.
    async fn enroll(&self, package: PackageId, student: UserId, decide: EnrollDecision) -> Result<EnrollmentView>;

    /// Refunds an enrollment, idempotently: locks its payment; when the refund
    /// with the enrollment's key already exists it is returned and `decide` is
    /// not run. Otherwise locks the student's credits, then the session slots,
    /// and saves what `decide` changed (credits through its outcome).
    /// `not_found` for a missing enrollment.
    async fn refund(&self, enrollment: EnrollmentId, decide: RefundDecision) -> Result<Refund>;

    /// Checks out one booking on `slot`: locks the slot (so two checkouts of
    /// one booking serialise), passes the booking's payments to `decide` and
    /// inserts the payment it returns, or returns the pending one it kept.
    async fn checkout_booking(&self, slot: SlotId, booking: BookingId, decide: CheckoutDecision) -> Result<Payment>;

    /// A booking's payments, oldest first.
    async fn booking_payments(&self, booking: BookingId) -> Result<Vec<Payment>>;

    /// Changes one payment under its lock. `not_found` (entity `payment`) when missing.
    async fn change_payment(&self, id: PaymentId, decide: PaymentDecision) -> Result<Payment>;

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
