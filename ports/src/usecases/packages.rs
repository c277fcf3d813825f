//! Course-package use cases (docs/product.md §8–10): create, revise, close and delete
//! packages; enroll; quote and execute refunds; settle stub payments; the
//! platform's pricing and promotions.

use time::OffsetDateTime;
use tutorbook_domain::{
    Actor, BookingId, CoursePackage, Currency, DomainError, DomainResult, Enrollment, EnrollmentId, EnrollmentIds,
    EnrollmentTerms, Locale, PackageDetails, PackageId, PackageSchedule, PackageSessionId, PackageStatus, Payment,
    PaymentId, PlatformSettings, PricingConfig, Promotion, PromotionId, Refund, RefundId, RefundQuote, Slot, SlotId,
    UserId,
};

use crate::{
    BookingStore, Claim, Clock, EnrollmentView, Error, IdGen, LoadedPackage, LockSet, PackageStore, PackageView,
    PolicyStore, PricingStore, Result, UnitOfWork, UserStore, execute, widest_search_range,
};

/// How enrollments are paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentSettings {
    /// Whether single lessons can be paid at all; when off, checkout answers
    /// `payments_not_available` (docs/product.md §9).
    pub enabled: bool,
    /// Without live provider credentials payments are stubs, settled at once
    /// for enrollments (docs/product.md §9).
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
    claim: Option<Claim>,
    payments: PaymentSettings,
}

impl<S, C, I> Packages<S, C, I>
where
    S: PackageStore + PricingStore + PolicyStore + BookingStore + UserStore + UnitOfWork,
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
            claim: None,
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

    /// The same use cases, running their commands under `claim` (an
    /// `Idempotency-Key`): a command's answer is kept with the key in its
    /// own transaction, and a retry with the key gets that answer back
    /// without running again. `None` runs commands without a key.
    pub fn keyed(&self, claim: Option<Claim>) -> Self
    where
        Self: Clone,
    {
        Self { claim, ..self.clone() }
    }

    /// A lock set carrying this command's claim.
    fn locks(&self) -> LockSet {
        LockSet::new().claim(self.claim.clone())
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
        super::check_named_teacher(&self.store, actor, teacher).await?;
        let (from, to) = search_range(&details.schedule);
        let mut locks = self.locks().schedule(teacher, from, to);
        if let Some(key) = &creation_key {
            locks = locks.package_key(teacher, key.clone());
        }
        let (package_id, now, actor, settings) = (
            PackageId::from_uuid(self.ids.new_id()),
            self.clock.now(),
            *actor,
            self.settings,
        );
        let slot_ids = self.session_ids(&details.schedule);
        let id = execute(&self.store, locks, now, move |unit| {
            if let Some(earlier) = unit.keyed_package() {
                return Ok(earlier);
            }
            let package = CoursePackage::create(package_id, teacher, details, &actor, &settings, now)?;
            let policy = package.session_policy(&unit.policy(teacher));
            let (slots, outcome) =
                package.open_session_slots(&slot_ids, &actor, unit.schedule(teacher), &policy, &settings, now)?;
            unit.publish(package.created());
            unit.add_package(package, slots, creation_key);
            unit.record(outcome);
            Ok(package_id)
        })
        .await?;
        self.existing(id).await
    }

    /// Replaces a package's details while nobody ever enrolled; a schedule
    /// (or seat) change regenerates its slots, checked against the teacher's
    /// other slots.
    pub async fn revise(&self, actor: &Actor, id: PackageId, details: PackageDetails) -> Result<PackageView> {
        let (from, to) = search_range(&details.schedule);
        let slot_ids = self.session_ids(&details.schedule);
        let (actor, settings, now) = (*actor, self.settings, self.clock.now());
        let locks = self.locks().package_schedule(id, from, to).package(id);
        execute(&self.store, locks, now, move |unit| {
            let loaded = visible(unit.package(id)?, &actor)?;
            let (own, enrolled, teacher) = (
                loaded.sessions.clone(),
                count(&loaded.enrolled),
                loaded.package.teacher(),
            );
            let package = unit.package_mut(id)?;
            if !package.revise(details, &actor, enrolled, &settings, now)? {
                return Ok(());
            }
            let package = package.clone();
            let others: Vec<Slot> = unit
                .schedule(teacher)
                .iter()
                .filter(|s| !own.contains(&s.id()))
                .cloned()
                .collect();
            let policy = package.session_policy(&unit.policy(teacher));
            let (slots, outcome) = package.open_session_slots(&slot_ids, &actor, &others, &policy, &settings, now)?;
            unit.replace_sessions(id, slots)?;
            unit.record(outcome);
            Ok(())
        })
        .await?;
        self.existing(id).await
    }

    /// Opens, closes or drafts a package (its teacher or staff).
    pub async fn set_status(&self, actor: &Actor, id: PackageId, status: PackageStatus) -> Result<PackageView> {
        let actor = *actor;
        execute(&self.store, self.locks().package(id), self.clock.now(), move |unit| {
            visible(unit.package(id)?, &actor)?;
            unit.package_mut(id)?.set_status(status, &actor)
        })
        .await?;
        self.existing(id).await
    }

    /// Deletes a package nobody ever enrolled in, with its slots.
    pub async fn delete(&self, actor: &Actor, id: PackageId) -> Result<()> {
        let actor = *actor;
        execute(&self.store, self.locks().package(id), self.clock.now(), move |unit| {
            let loaded = visible(unit.package(id)?, &actor)?;
            loaded.package.ensure_deletable(&actor, count(&loaded.enrolled))?;
            let event = loaded.package.deleted();
            unit.delete_package(id)?;
            unit.publish(event);
            Ok(())
        })
        .await
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
        let view = self.package(Some(actor), id).await?;
        if !actor.is_or_staff(view.package.teacher()) {
            return Err(DomainError::Forbidden.into());
        }
        self.store.package_enrollments(id).await
    }

    /// The actor enrolls in a package (docs/product.md §8): all sessions or none, the
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
        let (now, student) = (self.clock.now(), actor.user);
        // The answer is the enrollment's id (a replayed command answers the
        // first one's), read back with its payment.
        let enrollment = execute(&self.store, self.locks().package(package), now, move |unit| {
            let loaded = unit.package(package)?;
            let (course, already) = (loaded.package.clone(), loaded.enrolled.contains(&student));
            let mut slots = unit.session_slots(package)?;
            let enrolled = Enrollment::enroll(ids, &course, &mut slots, already, &terms, now)?;
            let id = enrolled.enrollment.id();
            unit.put_slots(slots);
            unit.add_enrollment(enrolled.enrollment);
            unit.add_payment(enrolled.payment);
            unit.record(enrolled.outcome);
            Ok(id)
        })
        .await?;
        self.existing_enrollment(enrollment).await
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

    /// What the student would get back if they left now (docs/product.md §10).
    /// Strangers to the enrollment are told it does not exist; its teacher
    /// sees it but may not ask (`forbidden`).
    pub async fn refund_quote(&self, actor: &Actor, id: EnrollmentId) -> Result<RefundQuote> {
        let view = self.enrollment(actor, id).await?;
        let package = self.existing(view.enrollment.package()).await?;
        let total = session_count(&package.package);
        let credits = self.store.student_credits(view.enrollment.student()).await?;
        Ok(view
            .enrollment
            .quote(&view.payment, &package.slots, &credits, total, actor, self.clock.now())?)
    }

    /// Executes the refund (docs/product.md §10), once: a retry returns the first refund.
    pub async fn refund(&self, actor: &Actor, id: EnrollmentId) -> Result<Refund> {
        // Checked here as well as in the decision: a retry returns the stored
        // refund without running the decision, and must not show it to a
        // stranger. (An enrollment's student never changes.)
        let view = self.enrollment(actor, id).await?;
        let student = view.enrollment.student();
        if !actor.is_or_staff(student) {
            return Err(DomainError::Forbidden.into());
        }
        let (refund_id, actor, now) = (RefundId::from_uuid(self.ids.new_id()), *actor, self.clock.now());
        // The payment first, then the student's credits, then the session
        // slots (the lock order every command follows).
        let locks = self
            .locks()
            .enrollment(id)
            .credits_of(student)
            .package(view.enrollment.package());
        execute(&self.store, locks, now, move |unit| {
            if let Some(done) = unit.refund_of(id) {
                return Ok(done.clone());
            }
            let mut enrollment = unit.enrollment(id)?.clone();
            let mut payment = unit.payment_of(id)?.clone();
            let package = enrollment.package();
            let total = session_count(&unit.package(package)?.package);
            let mut slots = unit.session_slots(package)?;
            let credits = unit.credits_of(student);
            let (refund, outcome) =
                enrollment.refund(refund_id, &mut payment, &mut slots, &credits, total, &actor, now)?;
            unit.put_slots(slots);
            *unit.enrollment_mut(id)? = enrollment;
            let paid = payment.id();
            *unit.payment_mut(paid)? = payment;
            unit.add_refund(refund.clone());
            unit.record(outcome);
            Ok(refund)
        })
        .await
    }

    /// Checks out one of the actor's confirmed bookings (docs/product.md §9): a payment at
    /// the single-lesson rate with the best single-lesson promotion. A retry
    /// returns the pending payment; a settled booking is `already_paid`.
    pub async fn checkout_booking(&self, actor: &Actor, booking: BookingId, locale: Locale) -> Result<Payment> {
        if !self.payments.enabled {
            return Err(DomainError::PaymentsNotAvailable.into());
        }
        let pricing = self.store.pricing().await?;
        let promotions = self.store.promotions().await?;
        let (id, actor, now, payments) = (
            PaymentId::from_uuid(self.ids.new_id()),
            *actor,
            self.clock.now(),
            self.payments,
        );
        // The booking's slot is locked, so two checkouts of one booking serialise.
        let locks = self.locks().booking(booking).payments_of_booking(booking);
        execute(&self.store, locks, now, move |unit| {
            let slot = unit.slot(unit.slot_id_of(booking)?)?;
            let existing = unit.booking_payments(booking);
            let decided = Payment::checkout_booking(
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
            )?;
            match decided {
                Some(payment) => {
                    unit.add_payment(payment.clone());
                    Ok(payment)
                }
                None => existing
                    .iter()
                    .find(|p| p.status() == tutorbook_domain::PaymentStatus::Pending)
                    .cloned()
                    .ok_or(DomainError::NotFound { entity: "payment" }),
            }
        })
        .await
    }

    /// The stub checkout's completion: settles a stub payment of the payer
    /// (or by staff). Idempotent; real payments are refused.
    pub async fn settle_stub(&self, actor: &Actor, id: PaymentId) -> Result<Payment> {
        let (actor, now) = (*actor, self.clock.now());
        execute(&self.store, self.locks().payment(id), now, move |unit| {
            let payment = unit.payment_mut(id)?;
            if !actor.is_or_staff(payment.payer()) {
                return Err(DomainError::NotFound { entity: "payment" });
            }
            if let Some(settled) = payment.settle_stub(now)? {
                unit.publish(settled);
            }
            Ok(unit.payment(id)?.clone())
        })
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
fn search_range(schedule: &PackageSchedule) -> (OffsetDateTime, OffsetDateTime) {
    let sessions = schedule.sessions();
    match (sessions.first(), sessions.last()) {
        (Some(first), Some(last)) => (
            widest_search_range(first.start(), first.end()).0,
            widest_search_range(last.start(), last.end()).1,
        ),
        // A schedule always has a session; an empty range finds nothing.
        _ => (OffsetDateTime::UNIX_EPOCH, OffsetDateTime::UNIX_EPOCH),
    }
}

/// A count that fits the domain's `u32` counters.
fn count<T>(items: &[T]) -> u32 {
    u32::try_from(items.len()).unwrap_or(u32::MAX)
}

/// `loaded` when `actor` may see it: open packages for everyone, others for
/// their teacher, staff and the students who enrolled; to anyone else a
/// hidden package does not exist (`not_found`, as in [`Packages::package`]).
fn visible<'a>(loaded: &'a LoadedPackage, actor: &Actor) -> DomainResult<&'a LoadedPackage> {
    let package = &loaded.package;
    if package.status().is_open() || actor.is_or_staff(package.teacher()) || loaded.enrolled.contains(&actor.user) {
        Ok(loaded)
    } else {
        Err(DomainError::NotFound { entity: "package" })
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
