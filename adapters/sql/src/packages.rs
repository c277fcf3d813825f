//! The package store over SQL: packages with their session slots,
//! enrollments, payments, refunds, pricing and promotions. Same pattern as
//! the slot commands in `store.rs`: one transaction per command, rows locked
//! before they are read for a decision.
//!
//! Lock order, so that no two commands can deadlock: teacher (advisory) →
//! package → payment → credits → slots in session order (a redemption locks
//! credit → slot, the same direction). Enrollment locks the package
//! and then its slots; a refund locks the payment and then the slots; a slot
//! command locks a single slot.

use std::future::Future;

use async_trait::async_trait;
use diesel_async::{AsyncConnection, TransactionManager};
use time::OffsetDateTime;
use tutorbook_domain::{
    BookingId, CoursePackage, Enrollment, EnrollmentId, PackageId, Payment, PaymentId, PaymentStatus, PricingConfig,
    Promotion, PromotionId, Refund, Slot, SlotId, UserId,
};
use tutorbook_ports::{
    CheckoutDecision, EnrollDecision, EnrollmentView, Error, PackageChange, PackageContext, PackageDecision,
    PackageOpenDecision, PackageStore, PackageView, PaymentDecision, PricingStore, RefundDecision, Result,
};

use crate::conn::{OPEN, Queries};
use crate::error::{TxError, map_db_error};
use crate::store::{Backend, SqlStore, in_transaction, pool_error, with_conn};

/// The package queries, per connection type (see `impl_package_queries!`).
pub(crate) trait PackageQueries: Queries {
    fn lock_package(&mut self, id: PackageId) -> impl Future<Output = Result<(), TxError>> + Send;
    fn lock_payment(&mut self, id: PaymentId) -> impl Future<Output = Result<(), TxError>> + Send;
    fn package_by_key(
        &mut self,
        teacher: UserId,
        key: &str,
    ) -> impl Future<Output = Result<Option<PackageId>, TxError>> + Send;
    fn load_package(&mut self, id: PackageId) -> impl Future<Output = Result<Option<PackageView>, TxError>> + Send;
    fn package_ids(
        &mut self,
        teacher: Option<UserId>,
        open: Option<(OffsetDateTime, Option<UserId>)>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<PackageId>, TxError>> + Send;
    fn insert_package(
        &mut self,
        package: &CoursePackage,
        creation_key: Option<String>,
        slots: &[Slot],
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn update_package(&mut self, package: &CoursePackage) -> impl Future<Output = Result<(), TxError>> + Send;
    fn insert_sessions(
        &mut self,
        package: PackageId,
        slots: &[Slot],
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn delete_sessions(
        &mut self,
        package: PackageId,
        slots: &[SlotId],
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn delete_package(&mut self, id: PackageId) -> impl Future<Output = Result<(), TxError>> + Send;
    fn count_enrollments(&mut self, package: PackageId) -> impl Future<Output = Result<u32, TxError>> + Send;
    fn is_enrolled(
        &mut self,
        package: PackageId,
        student: UserId,
    ) -> impl Future<Output = Result<bool, TxError>> + Send;
    fn save_enrollment(
        &mut self,
        enrollment: &Enrollment,
        insert: bool,
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn load_enrollment(
        &mut self,
        id: EnrollmentId,
    ) -> impl Future<Output = Result<Option<EnrollmentView>, TxError>> + Send;
    fn enrollment_ids(
        &mut self,
        student: Option<UserId>,
        package: Option<PackageId>,
    ) -> impl Future<Output = Result<Vec<EnrollmentId>, TxError>> + Send;
    fn save_payment(&mut self, payment: &Payment, insert: bool) -> impl Future<Output = Result<(), TxError>> + Send;
    fn load_payment(&mut self, id: PaymentId) -> impl Future<Output = Result<Option<Payment>, TxError>> + Send;
    fn payments_of_booking(&mut self, booking: BookingId)
    -> impl Future<Output = Result<Vec<Payment>, TxError>> + Send;
    fn refund_by_key(&mut self, key: &str) -> impl Future<Output = Result<Option<Refund>, TxError>> + Send;
    fn insert_refund(&mut self, refund: &Refund) -> impl Future<Output = Result<(), TxError>> + Send;
    fn load_rates(&mut self) -> impl Future<Output = Result<Option<PricingConfig>, TxError>> + Send;
    fn replace_rates(&mut self, config: &PricingConfig) -> impl Future<Output = Result<(), TxError>> + Send;
    fn load_promotions(&mut self) -> impl Future<Output = Result<Vec<Promotion>, TxError>> + Send;
    fn upsert_promotion(&mut self, promotion: &Promotion) -> impl Future<Output = Result<(), TxError>> + Send;
    fn remove_promotion(&mut self, id: PromotionId) -> impl Future<Output = Result<usize, TxError>> + Send;
}

/// Implements [`PackageQueries`] for one connection type.
macro_rules! impl_package_queries {
    ($conn:ty, lock = $lock:ident) => {
        impl $crate::packages::PackageQueries for $conn {
            async fn lock_package(&mut self, id: PackageId) -> Result<(), TxError> {
                use $crate::schema::packages;
                $lock!(packages::table.find(DbId::from(id)).select(packages::id))
                    .load::<DbId>(self)
                    .await?;
                Ok(())
            }

            async fn lock_payment(&mut self, id: PaymentId) -> Result<(), TxError> {
                use $crate::schema::payments;
                $lock!(payments::table.find(DbId::from(id)).select(payments::id))
                    .load::<DbId>(self)
                    .await?;
                Ok(())
            }

            async fn package_by_key(&mut self, teacher: UserId, key: &str) -> Result<Option<PackageId>, TxError> {
                use $crate::schema::packages;
                let id: Option<DbId> = packages::table
                    .filter(packages::teacher_id.eq(DbId::from(teacher)))
                    .filter(packages::creation_key.eq(key))
                    .select(packages::id)
                    .first(self)
                    .await
                    .optional()?;
                Ok(id.map(|id| id.0.into()))
            }

            async fn load_package(&mut self, id: PackageId) -> Result<Option<PackageView>, TxError> {
                use $crate::schema::{package_sessions, packages};
                let row: Option<PackageRow> = packages::table
                    .find(DbId::from(id))
                    .select(PackageRow::as_select())
                    .first(self)
                    .await
                    .optional()?;
                let Some(row) = row else { return Ok(None) };
                let slot_ids: Vec<DbId> = package_sessions::table
                    .filter(package_sessions::package_id.eq(DbId::from(id)))
                    .order(package_sessions::position.asc())
                    .select(package_sessions::slot_id)
                    .load(self)
                    .await?;
                // One statement for every session slot, then back in session order.
                let slot_ids: Vec<SlotId> = slot_ids.into_iter().map(|id| id.0.into()).collect();
                let mut loaded = self.load_slots(&slot_ids).await?;
                if loaded.len() != slot_ids.len() {
                    return Err(corrupt("a package session without its slot").into());
                }
                loaded.sort_by_key(|slot| slot_ids.iter().position(|id| *id == slot.id()));
                let slots = loaded;
                Ok(Some(PackageView {
                    package: row.into_package()?,
                    slots,
                }))
            }

            async fn package_ids(
                &mut self,
                teacher: Option<UserId>,
                open: Option<(OffsetDateTime, Option<UserId>)>,
                limit: i64,
            ) -> Result<Vec<PackageId>, TxError> {
                use $crate::schema::packages;
                let mut query = packages::table
                    .order((packages::first_start.asc(), packages::id.asc()))
                    .limit(limit)
                    .select(packages::id)
                    .into_boxed();
                if let Some(teacher) = teacher {
                    query = query.filter(packages::teacher_id.eq(DbId::from(teacher)));
                }
                if let Some((after, except_teacher)) = open {
                    query = query
                        .filter(packages::status.eq("open"))
                        .filter(packages::first_start.gt(DbInstant(after)));
                    if let Some(teacher) = except_teacher {
                        query = query.filter(packages::teacher_id.ne(DbId::from(teacher)));
                    }
                }
                let ids: Vec<DbId> = query.load(self).await?;
                Ok(ids.into_iter().map(|id| id.0.into()).collect())
            }

            async fn insert_package(
                &mut self,
                package: &CoursePackage,
                creation_key: Option<String>,
                slots: &[Slot],
            ) -> Result<(), TxError> {
                use $crate::schema::packages;
                diesel::insert_into(packages::table)
                    .values(PackageRow::new(package, creation_key, $crate::now_micros())?)
                    .execute(self)
                    .await?;
                self.insert_sessions(package.id(), slots).await
            }

            async fn update_package(&mut self, package: &CoursePackage) -> Result<(), TxError> {
                use $crate::schema::packages;
                diesel::update(packages::table.find(DbId::from(package.id())))
                    .set(PackageChanges::of(package)?)
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn insert_sessions(&mut self, package: PackageId, slots: &[Slot]) -> Result<(), TxError> {
                use $crate::schema::package_sessions;
                let policy = self.load_policy(package_teacher(slots)?).await?;
                for (position, slot) in slots.iter().enumerate() {
                    self.insert_slot(slot, &policy).await?;
                    let session = slot
                        .package_session()
                        .ok_or_else(|| corrupt("a package slot without session"))?;
                    diesel::insert_into(package_sessions::table)
                        .values((
                            package_sessions::id.eq(DbId::from(session)),
                            package_sessions::package_id.eq(DbId::from(package)),
                            package_sessions::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                            package_sessions::slot_id.eq(DbId::from(slot.id())),
                        ))
                        .execute(self)
                        .await?;
                }
                Ok(())
            }

            async fn delete_sessions(&mut self, package: PackageId, slots: &[SlotId]) -> Result<(), TxError> {
                use $crate::schema::{package_sessions, slots as slot_table};
                diesel::delete(package_sessions::table.filter(package_sessions::package_id.eq(DbId::from(package))))
                    .execute(self)
                    .await?;
                let ids: Vec<DbId> = slots.iter().copied().map(DbId::from).collect();
                diesel::delete(slot_table::table.filter(slot_table::id.eq_any(ids)))
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn delete_package(&mut self, id: PackageId) -> Result<(), TxError> {
                use $crate::schema::packages;
                diesel::delete(packages::table.find(DbId::from(id)))
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn count_enrollments(&mut self, package: PackageId) -> Result<u32, TxError> {
                use $crate::schema::enrollments;
                let count: i64 = enrollments::table
                    .filter(enrollments::package_id.eq(DbId::from(package)))
                    .count()
                    .get_result(self)
                    .await?;
                Ok(u32::try_from(count).unwrap_or(u32::MAX))
            }

            async fn is_enrolled(&mut self, package: PackageId, student: UserId) -> Result<bool, TxError> {
                use $crate::schema::enrollments;
                let count: i64 = enrollments::table
                    .filter(enrollments::package_id.eq(DbId::from(package)))
                    .filter(enrollments::student_id.eq(DbId::from(student)))
                    .count()
                    .get_result(self)
                    .await?;
                Ok(count > 0)
            }

            async fn save_enrollment(&mut self, enrollment: &Enrollment, insert: bool) -> Result<(), TxError> {
                use $crate::schema::enrollments;
                let row = EnrollmentRow::of(enrollment);
                if insert {
                    diesel::insert_into(enrollments::table)
                        .values(row)
                        .execute(self)
                        .await?;
                } else {
                    diesel::update(enrollments::table.find(row.id))
                        .set((
                            enrollments::status.eq(row.status),
                            enrollments::cancelled_at.eq(row.cancelled_at),
                        ))
                        .execute(self)
                        .await?;
                }
                Ok(())
            }

            async fn load_enrollment(&mut self, id: EnrollmentId) -> Result<Option<EnrollmentView>, TxError> {
                use $crate::schema::{enrollments, payments};
                let row: Option<(EnrollmentRow, PaymentRow)> = enrollments::table
                    .inner_join(payments::table)
                    .filter(enrollments::id.eq(DbId::from(id)))
                    .select((EnrollmentRow::as_select(), PaymentRow::as_select()))
                    .first(self)
                    .await
                    .optional()?;
                Ok(match row {
                    Some((enrollment, payment)) => Some(EnrollmentView {
                        enrollment: enrollment.into_enrollment()?,
                        payment: payment.into_payment()?,
                    }),
                    None => None,
                })
            }

            async fn enrollment_ids(
                &mut self,
                student: Option<UserId>,
                package: Option<PackageId>,
            ) -> Result<Vec<EnrollmentId>, TxError> {
                use $crate::schema::enrollments;
                let mut query = enrollments::table.select(enrollments::id).into_boxed();
                if let Some(student) = student {
                    query = query
                        .filter(enrollments::student_id.eq(DbId::from(student)))
                        .order((enrollments::created_at.desc(), enrollments::id.desc()));
                }
                if let Some(package) = package {
                    query = query
                        .filter(enrollments::package_id.eq(DbId::from(package)))
                        .order((enrollments::created_at.asc(), enrollments::id.asc()));
                }
                let ids: Vec<DbId> = query.load(self).await?;
                Ok(ids.into_iter().map(|id| id.0.into()).collect())
            }

            async fn save_payment(&mut self, payment: &Payment, insert: bool) -> Result<(), TxError> {
                use $crate::schema::payments;
                let row = PaymentRow::of(payment);
                if insert {
                    diesel::insert_into(payments::table)
                        .values(row)
                        .execute(self)
                        .await?;
                } else {
                    diesel::update(payments::table.find(row.id))
                        .set(row)
                        .execute(self)
                        .await?;
                }
                Ok(())
            }

            async fn load_payment(&mut self, id: PaymentId) -> Result<Option<Payment>, TxError> {
                use $crate::schema::payments;
                let row: Option<PaymentRow> = payments::table
                    .find(DbId::from(id))
                    .select(PaymentRow::as_select())
                    .first(self)
                    .await
                    .optional()?;
                Ok(row.map(PaymentRow::into_payment).transpose()?)
            }

            async fn payments_of_booking(&mut self, booking: BookingId) -> Result<Vec<Payment>, TxError> {
                use $crate::schema::payments;
                let rows: Vec<PaymentRow> = payments::table
                    .filter(payments::booking_id.eq(DbId::from(booking)))
                    .order((payments::created_at.asc(), payments::id.asc()))
                    .select(PaymentRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(PaymentRow::into_payment)
                    .collect::<Result<_, _>>()?)
            }

            async fn refund_by_key(&mut self, key: &str) -> Result<Option<Refund>, TxError> {
                use $crate::schema::refunds;
                let row: Option<RefundRow> = refunds::table
                    .filter(refunds::idempotency_key.eq(key))
                    .select(RefundRow::as_select())
                    .first(self)
                    .await
                    .optional()?;
                Ok(row.map(RefundRow::into_refund).transpose()?)
            }

            async fn insert_refund(&mut self, refund: &Refund) -> Result<(), TxError> {
                use $crate::schema::refunds;
                diesel::insert_into(refunds::table)
                    .values(RefundRow::of(refund))
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn load_rates(&mut self) -> Result<Option<PricingConfig>, TxError> {
                use $crate::schema::pricing_rates;
                let rows: Vec<RateRow> = pricing_rates::table
                    .order(pricing_rates::currency.asc())
                    .select(RateRow::as_select())
                    .load(self)
                    .await?;
                if rows.is_empty() {
                    return Ok(None);
                }
                let rates = rows
                    .into_iter()
                    .map(RateRow::into_rates)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(PricingConfig::new(rates).map_err(corrupt)?))
            }

            async fn replace_rates(&mut self, config: &PricingConfig) -> Result<(), TxError> {
                use $crate::schema::pricing_rates;
                diesel::delete(pricing_rates::table).execute(self).await?;
                for rates in config.rates() {
                    diesel::insert_into(pricing_rates::table)
                        .values(RateRow::of(rates))
                        .execute(self)
                        .await?;
                }
                Ok(())
            }

            async fn load_promotions(&mut self) -> Result<Vec<Promotion>, TxError> {
                use $crate::schema::promotions;
                let rows: Vec<PromotionRow> = promotions::table
                    .order(promotions::id.asc())
                    .select(PromotionRow::as_select())
                    .load(self)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(PromotionRow::into_promotion)
                    .collect::<Result<_, _>>()?)
            }

            async fn upsert_promotion(&mut self, promotion: &Promotion) -> Result<(), TxError> {
                use $crate::schema::promotions;
                let row = PromotionRow::of(promotion);
                diesel::insert_into(promotions::table)
                    .values(row.clone())
                    .on_conflict(promotions::id)
                    .do_update()
                    .set(row)
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn remove_promotion(&mut self, id: PromotionId) -> Result<usize, TxError> {
                use $crate::schema::promotions;
                Ok(diesel::delete(promotions::table.find(DbId::from(id)))
                    .execute(self)
                    .await?)
            }
        }
    };
}

#[cfg(feature = "postgres")]
mod postgres_queries {
    use diesel::prelude::*;
    use diesel_async::{AsyncPgConnection, RunQueryDsl};
    use time::OffsetDateTime;
    use tutorbook_domain::{
        BookingId, CoursePackage, Enrollment, EnrollmentId, PackageId, Payment, PaymentId, PricingConfig, Promotion,
        PromotionId, Refund, Slot, SlotId, UserId,
    };
    use tutorbook_ports::PackageView;

    use super::package_teacher;
    use crate::conn::Queries;
    use crate::error::TxError;
    use crate::package_rows::{
        EnrollmentRow, PackageChanges, PackageRow, PaymentRow, PromotionRow, RateRow, RefundRow,
    };
    use crate::rows::corrupt;
    use crate::types::{DbId, DbInstant};
    use tutorbook_ports::EnrollmentView;

    /// Postgres locks the rows it decides on.
    macro_rules! for_update {
        ($query:expr) => {
            $query.for_update()
        };
    }

    impl_package_queries!(AsyncPgConnection, lock = for_update);
}

#[cfg(feature = "sqlite")]
mod sqlite_queries {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use time::OffsetDateTime;
    use tutorbook_domain::{
        BookingId, CoursePackage, Enrollment, EnrollmentId, PackageId, Payment, PaymentId, PricingConfig, Promotion,
        PromotionId, Refund, Slot, SlotId, UserId,
    };
    use tutorbook_ports::PackageView;

    use super::package_teacher;
    use crate::conn::Queries;
    use crate::error::TxError;
    use crate::package_rows::{
        EnrollmentRow, PackageChanges, PackageRow, PaymentRow, PromotionRow, RateRow, RefundRow,
    };
    use crate::rows::corrupt;
    use crate::sqlite::SqliteConn;
    use crate::types::{DbId, DbInstant};
    use tutorbook_ports::EnrollmentView;

    /// SQLite's writes are serialised by the store's writer lock: nothing to lock.
    macro_rules! no_lock {
        ($query:expr) => {
            $query
        };
    }

    impl_package_queries!(SqliteConn, lock = no_lock);
}

/// The teacher of a package's slots (all the same), for their policy's buffers.
pub(crate) fn package_teacher(slots: &[Slot]) -> std::result::Result<UserId, Error> {
    slots
        .first()
        .map(Slot::teacher)
        .ok_or_else(|| Error::Storage("a package without session slots".into()))
}

async fn create_in<C: PackageQueries + AsyncConnection>(
    c: &mut C,
    teacher: UserId,
    creation_key: Option<String>,
    search: (OffsetDateTime, OffsetDateTime),
    decide: PackageOpenDecision,
) -> Result<PackageView> {
    in_transaction!(c, async {
        c.lock_teacher(teacher).await?;
        if let Some(key) = &creation_key
            && let Some(earlier) = c.package_by_key(teacher, key).await?
        {
            return c
                .load_package(earlier)
                .await?
                .ok_or_else(|| Error::not_found("package").into());
        }
        let existing = c
            .load_slots_between(Some(teacher), search.0, search.1, OPEN, true, i64::MAX)
            .await?;
        let (package, slots, outcome) = decide(&existing)?;
        if package.teacher() != teacher {
            return Err(Error::Storage("create_package decided for another teacher".into()).into());
        }
        c.insert_package(&package, creation_key, &slots).await?;
        c.save_outcome(&outcome).await?;
        Ok(PackageView { package, slots })
    })
}

async fn change_in<C: PackageQueries + AsyncConnection>(
    c: &mut C,
    id: PackageId,
    search: Option<(OffsetDateTime, OffsetDateTime)>,
    decide: PackageDecision,
) -> Result<Option<PackageView>> {
    in_transaction!(c, async {
        // The teacher's lock first (the package row names the teacher, so read it unlocked first).
        let teacher = c
            .load_package(id)
            .await?
            .ok_or_else(|| Error::not_found("package"))?
            .package
            .teacher();
        c.lock_teacher(teacher).await?;
        c.lock_package(id).await?;
        let view = c.load_package(id).await?.ok_or_else(|| Error::not_found("package"))?;
        let own: Vec<SlotId> = view.slots.iter().map(Slot::id).collect();
        let teacher_slots = match search {
            Some((from, to)) => c
                .load_slots_between(Some(teacher), from, to, OPEN, true, i64::MAX)
                .await?
                .into_iter()
                .filter(|s| !own.contains(&s.id()))
                .collect(),
            None => Vec::new(),
        };
        let context = PackageContext {
            enrollments: c.count_enrollments(id).await?,
            slots: view.slots,
            teacher_slots,
        };
        let mut package = view.package;
        match decide(&mut package, &context)? {
            PackageChange::Keep(outcome) => {
                c.update_package(&package).await?;
                c.save_outcome(&outcome).await?;
            }
            PackageChange::ReplaceSlots(slots, outcome) => {
                c.delete_sessions(id, &own).await?;
                c.update_package(&package).await?;
                c.insert_sessions(id, &slots).await?;
                c.save_outcome(&outcome).await?;
            }
            PackageChange::Delete(outcome) => {
                c.delete_sessions(id, &own).await?;
                c.delete_package(id).await?;
                c.save_outcome(&outcome).await?;
                return Ok(None);
            }
        }
        c.load_package(id).await
    })
}

async fn enroll_in<C: PackageQueries + AsyncConnection>(
    c: &mut C,
    package: PackageId,
    student: UserId,
    decide: EnrollDecision,
) -> Result<EnrollmentView> {
    in_transaction!(c, async {
        c.lock_package(package).await?;
        let view = c
            .load_package(package)
            .await?
            .ok_or_else(|| Error::not_found("package"))?;
        for slot in &view.slots {
            c.lock_slot(slot.id()).await?;
        }
        // Reloaded under the slot locks: a slot command may have changed one meanwhile.
        let before = c
            .load_package(package)
            .await?
            .ok_or_else(|| Error::not_found("package"))?;
        let already = c.is_enrolled(package, student).await?;
        let mut slots = before.slots.clone();
        let enrolled = decide(&before.package, &mut slots, already)?;
        c.save_enrollment(&enrolled.enrollment, true).await?;
        for (old, new) in before.slots.iter().zip(&slots) {
            c.save_slot(old, new).await?;
        }
        c.save_payment(&enrolled.payment, true).await?;
        c.save_outcome(&enrolled.outcome).await?;
        Ok(EnrollmentView {
            enrollment: enrolled.enrollment,
            payment: enrolled.payment,
        })
    })
}

async fn refund_in<C: PackageQueries + AsyncConnection>(
    c: &mut C,
    id: EnrollmentId,
    decide: RefundDecision,
) -> Result<Refund> {
    in_transaction!(c, async {
        let found = c
            .load_enrollment(id)
            .await?
            .ok_or_else(|| Error::not_found("enrollment"))?;
        c.lock_payment(found.payment.id()).await?;
        if let Some(done) = c.refund_by_key(&Refund::key_for(id)).await? {
            return Ok(done);
        }
        let EnrollmentView {
            mut enrollment,
            mut payment,
        } = c
            .load_enrollment(id)
            .await?
            .ok_or_else(|| Error::not_found("enrollment"))?;
        let credits = c.credits_of_student(enrollment.student()).await?;
        for credit in &credits {
            c.lock_credit(credit.id()).await?;
        }
        // Reloaded under their locks: a redemption may have used one meanwhile.
        let credits = c.credits_of_student(enrollment.student()).await?;
        let view = c
            .load_package(enrollment.package())
            .await?
            .ok_or_else(|| Error::not_found("package"))?;
        for slot in &view.slots {
            c.lock_slot(slot.id()).await?;
        }
        let before = c
            .load_package(enrollment.package())
            .await?
            .ok_or_else(|| Error::not_found("package"))?;
        let mut slots = before.slots.clone();
        let (refund, outcome) = decide(&mut enrollment, &mut payment, &before.package, &mut slots, &credits)?;
        for (old, new) in before.slots.iter().zip(&slots) {
            c.save_slot(old, new).await?;
        }
        c.save_payment(&payment, false).await?;
        c.save_enrollment(&enrollment, false).await?;
        c.insert_refund(&refund).await?;
        c.save_outcome(&outcome).await?;
        Ok(refund)
    })
}

async fn checkout_in<C: PackageQueries + AsyncConnection>(
    c: &mut C,
    slot: SlotId,
    booking: BookingId,
    decide: CheckoutDecision,
) -> Result<Payment> {
    in_transaction!(c, async {
        c.lock_slot(slot).await?;
        let current = c.load_slot(slot).await?.ok_or_else(|| Error::not_found("slot"))?;
        let existing = c.payments_of_booking(booking).await?;
        match decide(&current, &existing)? {
            Some(payment) => {
                c.save_payment(&payment, true).await?;
                Ok(payment)
            }
            None => existing
                .into_iter()
                .find(|p| p.status() == PaymentStatus::Pending)
                .ok_or_else(|| Error::Storage("checkout kept a pending payment that does not exist".into()).into()),
        }
    })
}

async fn change_payment_in<C: PackageQueries + AsyncConnection>(
    c: &mut C,
    id: PaymentId,
    decide: PaymentDecision,
) -> Result<Payment> {
    in_transaction!(c, async {
        c.lock_payment(id).await?;
        let mut payment = c.load_payment(id).await?.ok_or_else(|| Error::not_found("payment"))?;
        let outcome = decide(&mut payment)?;
        c.save_payment(&payment, false).await?;
        c.save_outcome(&outcome).await?;
        Ok(payment)
    })
}

async fn packages_by_id<C: PackageQueries>(c: &mut C, ids: Vec<PackageId>) -> Result<Vec<PackageView>> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        found.extend(c.load_package(id).await?);
    }
    Ok(found)
}

async fn enrollments_by_id<C: PackageQueries>(c: &mut C, ids: Vec<EnrollmentId>) -> Result<Vec<EnrollmentView>> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        found.extend(c.load_enrollment(id).await?);
    }
    Ok(found)
}

async fn replace_rates_in<C: PackageQueries + AsyncConnection>(c: &mut C, config: &PricingConfig) -> Result<()> {
    in_transaction!(c, c.replace_rates(config))
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl PackageStore for SqlStore {
    async fn create_package(
        &self,
        teacher: UserId,
        creation_key: Option<String>,
        search: (OffsetDateTime, OffsetDateTime),
        decide: PackageOpenDecision,
    ) -> Result<PackageView> {
        with_conn!(self, write = true, |c| create_in(
            c,
            teacher,
            creation_key,
            search,
            decide
        )
        .await)
    }

    async fn change_package(
        &self,
        id: PackageId,
        search: Option<(OffsetDateTime, OffsetDateTime)>,
        decide: PackageDecision,
    ) -> Result<Option<PackageView>> {
        with_conn!(self, write = true, |c| change_in(c, id, search, decide).await)
    }

    async fn enroll(&self, package: PackageId, student: UserId, decide: EnrollDecision) -> Result<EnrollmentView> {
        with_conn!(self, write = true, |c| enroll_in(c, package, student, decide).await)
    }

    async fn refund(&self, enrollment: EnrollmentId, decide: RefundDecision) -> Result<Refund> {
        with_conn!(self, write = true, |c| refund_in(c, enrollment, decide).await)
    }

    async fn checkout_booking(&self, slot: SlotId, booking: BookingId, decide: CheckoutDecision) -> Result<Payment> {
        with_conn!(self, write = true, |c| checkout_in(c, slot, booking, decide).await)
    }

    async fn booking_payments(&self, booking: BookingId) -> Result<Vec<Payment>> {
        with_conn!(self, write = false, |c| c
            .payments_of_booking(booking)
            .await
            .map_err(Error::from))
    }

    async fn change_payment(&self, id: PaymentId, decide: PaymentDecision) -> Result<Payment> {
        with_conn!(self, write = true, |c| change_payment_in(c, id, decide).await)
    }

    async fn package(&self, id: PackageId) -> Result<Option<PackageView>> {
        with_conn!(self, write = false, |c| c.load_package(id).await.map_err(Error::from))
    }

    async fn open_packages(
        &self,
        after: OffsetDateTime,
        except_teacher: Option<UserId>,
        max: usize,
    ) -> Result<Vec<PackageView>> {
        with_conn!(self, write = false, |c| {
            let ids = c.package_ids(None, Some((after, except_teacher)), limit(max)).await?;
            packages_by_id(c, ids).await
        })
    }

    async fn teacher_packages(&self, teacher: UserId) -> Result<Vec<PackageView>> {
        with_conn!(self, write = false, |c| {
            let ids = c.package_ids(Some(teacher), None, i64::MAX).await?;
            packages_by_id(c, ids).await
        })
    }

    async fn enrollment(&self, id: EnrollmentId) -> Result<Option<EnrollmentView>> {
        with_conn!(self, write = false, |c| c
            .load_enrollment(id)
            .await
            .map_err(Error::from))
    }

    async fn student_enrollments(&self, student: UserId) -> Result<Vec<EnrollmentView>> {
        with_conn!(self, write = false, |c| {
            let ids = c.enrollment_ids(Some(student), None).await?;
            enrollments_by_id(c, ids).await
        })
    }

    async fn package_enrollments(&self, package: PackageId) -> Result<Vec<EnrollmentView>> {
        with_conn!(self, write = false, |c| {
            let ids = c.enrollment_ids(None, Some(package)).await?;
            enrollments_by_id(c, ids).await
        })
    }

    async fn refund_of(&self, enrollment: EnrollmentId) -> Result<Option<Refund>> {
        let key = Refund::key_for(enrollment);
        with_conn!(self, write = false, |c| c
            .refund_by_key(&key)
            .await
            .map_err(Error::from))
    }
}

#[async_trait]
impl PricingStore for SqlStore {
    async fn pricing(&self) -> Result<PricingConfig> {
        with_conn!(self, write = false, |c| Ok(c.load_rates().await?.unwrap_or_default()))
    }

    async fn set_pricing(&self, config: PricingConfig) -> Result<()> {
        with_conn!(self, write = true, |c| replace_rates_in(c, &config).await)
    }

    async fn promotions(&self) -> Result<Vec<Promotion>> {
        with_conn!(self, write = false, |c| c.load_promotions().await.map_err(Error::from))
    }

    async fn save_promotion(&self, promotion: Promotion) -> Result<()> {
        with_conn!(self, write = true, |c| c
            .upsert_promotion(&promotion)
            .await
            .map_err(Error::from))
    }

    async fn delete_promotion(&self, id: PromotionId) -> Result<()> {
        let removed = with_conn!(self, write = true, |c| c
            .remove_promotion(id)
            .await
            .map_err(Error::from))?;
        if removed == 0 {
            return Err(Error::not_found("promotion"));
        }
        Ok(())
    }
}
