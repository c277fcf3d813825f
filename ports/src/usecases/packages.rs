//! Course-package use cases (SPEC 8–10): create, revise, close and delete
//! packages; enroll; quote and execute refunds; settle stub payments; the
//! platform's pricing and promotions.

use time::OffsetDateTime;
use tutorbook_domain::{
    Actor, BookingId, CoursePackage, Currency, DomainError, DomainEvent, Enrollment, EnrollmentId, EnrollmentIds,
    EnrollmentTerms, Locale, Outcome, PackageDetails, PackageId, PackageSchedule, PackageSessionId, PackageStatus,
    Payment, PaymentId, PlatformSettings, PricingConfig, Promotion, PromotionId, Refund, RefundId, RefundQuote, Slot,
    SlotId, UserId,
};

use crate::{
    BookingStore, Clock, EnrollmentView, Error, IdGen, PackageChange, PackageStore, PackageView, PolicyStore,
    PricingStore, Result,
};

/// How enrollments are paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentSettings {
    /// Whether single lessons can be paid at all; when off, checkout answers
    /// `payments_not_available` (SPEC 9).
    pub enabled: bool,
    /// Without live provider credentials payments are stubs, settled at once
    /// for enrollments (SPEC 9).
    pub stub: bool,
    /// The currency packages are sold in.
    pub currency: Currency,
}

impl Default for PaymentSettings {
    /// Enabled, stub payments in KRW.
    fn default() -> Self {
        Self {
            enabled: true,
            stub: true,
            currency: Currency::parse("KRW").unwrap_or_else(|_| unreachable!("KRW is a known currency")),
        }
    }
}

/// The package use cases over a store `S`, a clock `C` and an id source `I`.
#[derive(Debug, Clone)]
pub struct Packages<S, C, I> {
    store: S,
    clock: C,
    ids: I,
    settings: PlatformSettings,
    payments: PaymentSettings,
}

impl<S, C, I> Packages<S, C, I>
where
    S: PackageStore + PricingStore + PolicyStore + BookingStore,
    C: Clock,
    I: IdGen,
{
    /// Wires the use cases to their ports.
    pub fn new(store: S, clock: C, ids: I, settings: PlatformSettings, payments: PaymentSettings) -> Self {
        Self {
            store,
            clock,
            ids,
            settings,
            payments,
        }
    }

    /// How payments are made (stub or live, currency).
    pub fn payment_settings(&self) -> PaymentSettings {
        self.payments
    }

    /// The store, for read models the use cases don't wrap.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Creates an open package of `teacher` with one slot per session.
    /// Refused when a session collides with another slot of the teacher. With
    /// a `creation_key` a retry returns the package the first call created.
    pub async fn create(
        &self,
        actor: &Actor,
        teacher: UserId,
        details: PackageDetails,
        creation_key: Option<String>,
    ) -> Result<PackageView> {
        // Checked before the store may answer a retry by its creation key.
        let for_self = actor.role == tutorbook_domain::Role::Teacher && actor.user == teacher;
        if !(for_self || actor.is_staff()) {
            return Err(DomainError::Forbidden.into());
        }
        let policy = self.store.policy(teacher).await?;
        let search = search_range(&details.schedule, &policy);
        let (package_id, now, actor, settings) = (
            PackageId::from_uuid(self.ids.new_id()),
            self.clock.now(),
            *actor,
            self.settings,
        );
        let slot_ids = self.session_ids(&details.schedule);
        self.store
            .create_package(
                teacher,
                creation_key,
                search,
                Box::new(move |teacher_slots| {
                    let package = CoursePackage::create(package_id, teacher, details, &actor, &settings, now)?;
                    let (slots, mut outcome) =
                        package.open_session_slots(&slot_ids, &actor, teacher_slots, &policy, &settings, now)?;
                    outcome.events.insert(
                        0,
                        DomainEvent::PackageCreated {
                            package: package_id,
                            teacher,
                        },
                    );
                    Ok((package, slots, outcome))
                }),
            )
            .await
    }

    /// Replaces a package's details while nobody ever enrolled; a schedule
    /// (or seat) change regenerates its slots, checked against the teacher's
    /// other slots.
    pub async fn revise(&self, actor: &Actor, id: PackageId, details: PackageDetails) -> Result<PackageView> {
        let current = self.existing(id).await?;
        let policy = self.store.policy(current.package.teacher()).await?;
        let search = search_range(&details.schedule, &policy);
        let slot_ids = self.session_ids(&details.schedule);
        let (actor, settings, now) = (*actor, self.settings, self.clock.now());
        let revised = self
            .store
            .change_package(
                id,
                Some(search),
                Box::new(move |package, context| {
                    let slots_changed = package.revise(details, &actor, context.enrollments, &settings, now)?;
                    if !slots_changed {
                        return Ok(PackageChange::Keep(Outcome::default()));
                    }
                    let (slots, outcome) = package.open_session_slots(
                        &slot_ids,
                        &actor,
                        &context.teacher_slots,
                        &policy,
                        &settings,
                        now,
                    )?;
                    Ok(PackageChange::ReplaceSlots(slots, outcome))
                }),
            )
            .await?;
        revised.ok_or_else(|| Error::not_found("package"))
    }

    /// Opens, closes or drafts a package (its teacher or staff).
    pub async fn set_status(&self, actor: &Actor, id: PackageId, status: PackageStatus) -> Result<PackageView> {
        let actor = *actor;
        let changed = self
            .store
            .change_package(
                id,
                None,
                Box::new(move |package, _| {
                    package.set_status(status, &actor)?;
                    Ok(PackageChange::Keep(Outcome::default()))
                }),
            )
            .await?;
        changed.ok_or_else(|| Error::not_found("package"))
    }

    /// Deletes a package nobody ever enrolled in, with its slots.
    pub async fn delete(&self, actor: &Actor, id: PackageId) -> Result<()> {
        let actor = *actor;
        self.store
            .change_package(
                id,
                None,
                Box::new(move |package, context| {
                    package.ensure_deletable(&actor, context.enrollments)?;
                    Ok(PackageChange::Delete(Outcome {
                        events: vec![DomainEvent::PackageDeleted { package: package.id() }],
                        ..Outcome::default()
                    }))
                }),
            )
            .await?;
        Ok(())
    }

    /// A package with its sessions: open packages for everyone, others only
    /// for their teacher, staff and the students enrolled in it.
    pub async fn package(&self, actor: Option<&Actor>, id: PackageId) -> Result<PackageView> {
        let view = self.existing(id).await?;
        let manages = actor.is_some_and(|a| a.is_or_staff(view.package.teacher()));
        if view.package.status().is_open() || manages {
            return Ok(view);
        }
        // A closed (or drafted) course stays visible to the students in it.
        if let Some(actor) = actor {
            let mine = self.store.student_enrollments(actor.user).await?;
            if mine.iter().any(|e| e.enrollment.package() == id) {
                return Ok(view);
            }
        }
        Err(Error::not_found("package"))
    }

    /// Open packages with future sessions, soonest first; a teacher does not
    /// see their own.
    pub async fn open_packages(&self, viewer: Option<UserId>, limit: usize) -> Result<Vec<PackageView>> {
        self.store.open_packages(self.clock.now(), viewer, limit).await
    }

    /// A teacher's own packages (the teacher or staff).
    pub async fn teacher_packages(&self, actor: &Actor, teacher: UserId) -> Result<Vec<PackageView>> {
        if !actor.is_or_staff(teacher) {
            return Err(DomainError::Forbidden.into());
        }
        self.store.teacher_packages(teacher).await
    }

    /// The enrollments of a package (its teacher or staff).
    pub async fn package_enrollments(&self, actor: &Actor, id: PackageId) -> Result<Vec<EnrollmentView>> {
        let view = self.existing(id).await?;
        if !actor.is_or_staff(view.package.teacher()) {
            return Err(DomainError::Forbidden.into());
        }
        self.store.package_enrollments(id).await
    }

    /// The actor enrolls in a package (SPEC 8): all sessions or none, the
    /// best promotion applied, the payment created (and settled in stub mode).
    pub async fn enroll(&self, actor: &Actor, package: PackageId, locale: Locale) -> Result<EnrollmentView> {
        // Enough booking ids for any package: a revision between this read and
        // the store's lock may change the number of sessions.
        let sessions = tutorbook_domain::MAX_SESSIONS as usize;
        let pricing = self.store.pricing().await?;
        let promotions = self.store.promotions().await?;
        let ids = EnrollmentIds {
            enrollment: EnrollmentId::from_uuid(self.ids.new_id()),
            payment: PaymentId::from_uuid(self.ids.new_id()),
            bookings: (0..sessions).map(|_| self.ids.new_id().into()).collect(),
        };
        let terms = EnrollmentTerms {
            actor: *actor,
            locale,
            currency: self.payments.currency,
            pricing,
            promotions,
            stub_payments: self.payments.stub,
        };
        let now = self.clock.now();
        self.store
            .enroll(
                package,
                actor.user,
                Box::new(move |package, slots, already| Enrollment::enroll(ids, package, slots, already, &terms, now)),
            )
            .await
    }

    /// The actor's enrollments, newest first.
    pub async fn my_enrollments(&self, actor: &Actor) -> Result<Vec<EnrollmentView>> {
        self.store.student_enrollments(actor.user).await
    }

    /// One enrollment, for its student, the package's teacher, or staff.
    pub async fn enrollment(&self, actor: &Actor, id: EnrollmentId) -> Result<EnrollmentView> {
        let view = self.existing_enrollment(id).await?;
        let teacher = self.existing(view.enrollment.package()).await?.package.teacher();
        if actor.is_or_staff(view.enrollment.student()) || actor.user == teacher {
            Ok(view)
        } else {
            Err(Error::not_found("enrollment"))
        }
    }

    /// What the student would get back if they left now (SPEC 10).
    pub async fn refund_quote(&self, actor: &Actor, id: EnrollmentId) -> Result<RefundQuote> {
        let view = self.existing_enrollment(id).await?;
        let package = self.existing(view.enrollment.package()).await?;
        let total = session_count(&package.package);
        let credits = self.store.student_credits(view.enrollment.student()).await?;
        Ok(view
            .enrollment
            .quote(&view.payment, &package.slots, &credits, total, actor, self.clock.now())?)
    }

    /// Executes the refund (SPEC 10), once: a retry returns the first refund.
    pub async fn refund(&self, actor: &Actor, id: EnrollmentId) -> Result<Refund> {
        // Checked here as well as in the decision: a retry returns the stored
        // refund without running the decision, and must not show it to a
        // stranger. (An enrollment's student never changes.)
        let student = self.existing_enrollment(id).await?.enrollment.student();
        if !actor.is_or_staff(student) {
            return Err(DomainError::Forbidden.into());
        }
        let (refund_id, actor, now) = (RefundId::from_uuid(self.ids.new_id()), *actor, self.clock.now());
        self.store
            .refund(
                id,
                Box::new(move |enrollment, payment, package, slots, credits| {
                    enrollment.refund(refund_id, payment, slots, credits, session_count(package), &actor, now)
                }),
            )
            .await
    }

    /// Checks out one of the actor's confirmed bookings (SPEC 9): a payment at
    /// the single-lesson rate with the best single-lesson promotion. A retry
    /// returns the pending payment; a settled booking is `already_paid`.
    pub async fn checkout_booking(&self, actor: &Actor, booking: BookingId, locale: Locale) -> Result<Payment> {
        if !self.payments.enabled {
            return Err(DomainError::PaymentsNotAvailable.into());
        }
        let slot = self
            .store
            .slot_of_booking(booking)
            .await?
            .ok_or_else(|| Error::not_found("booking"))?;
        let pricing = self.store.pricing().await?;
        let promotions = self.store.promotions().await?;
        let (id, actor, now, payments) = (
            PaymentId::from_uuid(self.ids.new_id()),
            *actor,
            self.clock.now(),
            self.payments,
        );
        self.store
            .checkout_booking(
                slot,
                booking,
                Box::new(move |slot, existing| {
                    Payment::checkout_booking(
                        id,
                        slot,
                        booking,
                        existing,
                        &actor,
                        locale,
                        &pricing,
                        payments.currency,
                        &promotions,
                        payments.stub,
                        now,
                    )
                }),
            )
            .await
    }

    /// The stub checkout's completion: settles a stub payment of the payer
    /// (or by staff). Idempotent; real payments are refused.
    pub async fn settle_stub(&self, actor: &Actor, id: PaymentId) -> Result<Payment> {
        let (actor, now) = (*actor, self.clock.now());
        self.store
            .change_payment(
                id,
                Box::new(move |payment| {
                    if !actor.is_or_staff(payment.payer()) {
                        return Err(DomainError::NotFound { entity: "payment" });
                    }
                    let mut outcome = Outcome::default();
                    if payment.settle_stub(now)? {
                        outcome.events.push(DomainEvent::PaymentSettled {
                            payment: payment.id(),
                            payer: payment.payer(),
                        });
                    }
                    Ok(outcome)
                }),
            )
            .await
    }

    /// The pricing config (public: prices are shown to everyone).
    pub async fn pricing(&self) -> Result<PricingConfig> {
        self.store.pricing().await
    }

    /// Staff replace the pricing config.
    pub async fn set_pricing(&self, actor: &Actor, config: PricingConfig) -> Result<()> {
        require_staff(actor)?;
        self.store.set_pricing(config).await
    }

    /// Staff list every promotion.
    pub async fn promotions(&self, actor: &Actor) -> Result<Vec<Promotion>> {
        require_staff(actor)?;
        self.store.promotions().await
    }

    /// Staff create or replace a promotion.
    pub async fn save_promotion(&self, actor: &Actor, promotion: Promotion) -> Result<Promotion> {
        require_staff(actor)?;
        self.store.save_promotion(promotion).await?;
        Ok(promotion)
    }

    /// Staff delete a promotion.
    pub async fn delete_promotion(&self, actor: &Actor, id: PromotionId) -> Result<()> {
        require_staff(actor)?;
        self.store.delete_promotion(id).await
    }

    /// A fresh promotion id, for callers building a [`Promotion`].
    pub fn new_promotion_id(&self) -> PromotionId {
        PromotionId::from_uuid(self.ids.new_id())
    }

    async fn existing(&self, id: PackageId) -> Result<PackageView> {
        self.store.package(id).await?.ok_or_else(|| Error::not_found("package"))
    }

    async fn existing_enrollment(&self, id: EnrollmentId) -> Result<EnrollmentView> {
        self.store
            .enrollment(id)
            .await?
            .ok_or_else(|| Error::not_found("enrollment"))
    }

    fn session_ids(&self, schedule: &PackageSchedule) -> Vec<(SlotId, PackageSessionId)> {
        schedule
            .sessions()
            .iter()
            .map(|_| (self.ids.new_id().into(), self.ids.new_id().into()))
            .collect()
    }
}

/// The time range in which another slot of the teacher could collide with a session.
fn search_range(
    schedule: &PackageSchedule,
    policy: &tutorbook_domain::BookingPolicy,
) -> (OffsetDateTime, OffsetDateTime) {
    let sessions = schedule.sessions();
    match (sessions.first(), sessions.last()) {
        (Some(first), Some(last)) => (
            Slot::overlap_search_range(first, policy).0,
            Slot::overlap_search_range(last, policy).1,
        ),
        // A schedule always has a session; an empty range finds nothing.
        _ => (OffsetDateTime::UNIX_EPOCH, OffsetDateTime::UNIX_EPOCH),
    }
}

fn session_count(package: &CoursePackage) -> u32 {
    u32::try_from(package.sessions().len()).unwrap_or(u32::MAX)
}

fn require_staff(actor: &Actor) -> Result<()> {
    if actor.is_staff() {
        Ok(())
    } else {
        Err(DomainError::Forbidden.into())
    }
}
