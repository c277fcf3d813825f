//! The package store over SQL: packages with their session slots,
//! enrollments, payments, refunds, pricing and promotions.
//!
//! Commands on packages are units of work (`crate::unit`), which also
//! documents the lock order.

use std::future::Future;

use async_trait::async_trait;
use time::OffsetDateTime;
use tutorbook_domain::{
    BookingId, CoursePackage, Enrollment, EnrollmentId, PackageId, Payment, PaymentId, PricingConfig, Promotion,
    PromotionId, Refund, Slot, SlotId, UserId,
};
use tutorbook_ports::{EnrollmentView, Error, LoadedPackage, PackageStore, PackageView, PricingStore, Result};

use crate::conn::Queries;
use crate::error::TxError;
use crate::store::{Backend, SqlStore, pool_error, read, write};

/// The package queries, per connection type (see `impl_package_queries!`).
pub(crate) trait PackageQueries: Queries {
    /// A package row with its creation key, its session slots' ids in
    /// session order, and the students who ever enrolled, oldest first.
    fn load_package_parts(
        &mut self,
        id: PackageId,
    ) -> impl Future<Output = Result<Option<LoadedPackage>, TxError>> + Send;
    /// A package's teacher (it never changes), read without a lock.
    fn package_teacher(&mut self, id: PackageId) -> impl Future<Output = Result<Option<UserId>, TxError>> + Send;
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
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn update_package(&mut self, package: &CoursePackage) -> impl Future<Output = Result<(), TxError>> + Send;
    fn insert_sessions(
        &mut self,
        package: PackageId,
        slots: &[&Slot],
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn delete_sessions(
        &mut self,
        package: PackageId,
        slots: &[SlotId],
    ) -> impl Future<Output = Result<(), TxError>> + Send;
    fn delete_package(&mut self, id: PackageId) -> impl Future<Output = Result<(), TxError>> + Send;
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
    ($conn:ty) => {
        const _: () = {
            use diesel::prelude::*;
            use diesel_async::RunQueryDsl;
            use time::OffsetDateTime;
            use tutorbook_domain::{
                BookingId, CoursePackage, Enrollment, EnrollmentId, PackageId, Payment, PaymentId, PricingConfig,
                Promotion, PromotionId, Refund, Slot, UserId,
            };
            use tutorbook_ports::{EnrollmentView, LoadedPackage, PackageView};

            use $crate::conn::Queries;
            use $crate::error::TxError;
            use $crate::package_rows::{
                EnrollmentRow, PackageChanges, PackageRow, PaymentRow, PromotionRow, RateRow, RefundRow,
            };
            use $crate::rows::corrupt;
            use $crate::types::{DbId, DbInstant};

            impl $crate::packages::PackageQueries for $conn {
                async fn load_package_parts(&mut self, id: PackageId) -> Result<Option<LoadedPackage>, TxError> {
                    use $crate::schema::{enrollments, package_sessions, packages};
                    let row: Option<PackageRow> = packages::table
                        .find(DbId::from(id))
                        .select(PackageRow::as_select())
                        .first(self)
                        .await
                        .optional()?;
                    let Some(row) = row else { return Ok(None) };
                    let sessions: Vec<DbId> = package_sessions::table
                        .filter(package_sessions::package_id.eq(DbId::from(id)))
                        .order(package_sessions::position.asc())
                        .select(package_sessions::slot_id)
                        .load(self)
                        .await?;
                    let enrolled: Vec<DbId> = enrollments::table
                        .filter(enrollments::package_id.eq(DbId::from(id)))
                        .order((enrollments::created_at.asc(), enrollments::id.asc()))
                        .select(enrollments::student_id)
                        .load(self)
                        .await?;
                    let creation_key = row.creation_key.clone();
                    Ok(Some(LoadedPackage {
                        package: row.into_package()?,
                        sessions: sessions.into_iter().map(|id| id.0.into()).collect(),
                        enrolled: enrolled.into_iter().map(|id| UserId::from_uuid(id.0)).collect(),
                        creation_key,
                    }))
                }

                async fn package_teacher(&mut self, id: PackageId) -> Result<Option<UserId>, TxError> {
                    use $crate::schema::packages;
                    let teacher: Option<DbId> = packages::table
                        .find(DbId::from(id))
                        .select(packages::teacher_id)
                        .first(self)
                        .await
                        .optional()?;
                    Ok(teacher.map(|t| UserId::from_uuid(t.0)))
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
                    at: OffsetDateTime,
                ) -> Result<(), TxError> {
                    use $crate::schema::packages;
                    diesel::insert_into(packages::table)
                        .values(PackageRow::new(package, creation_key, $crate::micros(at))?)
                        .execute(self)
                        .await?;
                    Ok(())
                }

                async fn update_package(&mut self, package: &CoursePackage) -> Result<(), TxError> {
                    use $crate::schema::packages;
                    diesel::update(packages::table.find(DbId::from(package.id())))
                        .set(PackageChanges::of(package)?)
                        .execute(self)
                        .await?;
                    Ok(())
                }

                async fn insert_sessions(&mut self, package: PackageId, slots: &[&Slot]) -> Result<(), TxError> {
                    use $crate::schema::package_sessions;
                    for (position, slot) in slots.iter().enumerate() {
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
                    diesel::delete(
                        package_sessions::table.filter(package_sessions::package_id.eq(DbId::from(package))),
                    )
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
    };
}

#[cfg(feature = "postgres")]
impl_package_queries!(diesel_async::AsyncPgConnection);
#[cfg(feature = "sqlite")]
impl_package_queries!(crate::sqlite::SqliteConn);

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

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl PackageStore for SqlStore {
    async fn booking_payments(&self, booking: BookingId) -> Result<Vec<Payment>> {
        read!(self, |c| c.payments_of_booking(booking).await.map_err(Error::from))
    }

    async fn package(&self, id: PackageId) -> Result<Option<PackageView>> {
        read!(self, |c| c.load_package(id).await.map_err(Error::from))
    }

    async fn open_packages(
        &self,
        after: OffsetDateTime,
        except_teacher: Option<UserId>,
        max: usize,
    ) -> Result<Vec<PackageView>> {
        read!(self, |c| {
            let ids = c.package_ids(None, Some((after, except_teacher)), limit(max)).await?;
            packages_by_id(c, ids).await
        })
    }

    async fn teacher_packages(&self, teacher: UserId) -> Result<Vec<PackageView>> {
        read!(self, |c| {
            let ids = c.package_ids(Some(teacher), None, i64::MAX).await?;
            packages_by_id(c, ids).await
        })
    }

    async fn enrollment(&self, id: EnrollmentId) -> Result<Option<EnrollmentView>> {
        read!(self, |c| c.load_enrollment(id).await.map_err(Error::from))
    }

    async fn student_enrollments(&self, student: UserId) -> Result<Vec<EnrollmentView>> {
        read!(self, |c| {
            let ids = c.enrollment_ids(Some(student), None).await?;
            enrollments_by_id(c, ids).await
        })
    }

    async fn package_enrollments(&self, package: PackageId) -> Result<Vec<EnrollmentView>> {
        read!(self, |c| {
            let ids = c.enrollment_ids(None, Some(package)).await?;
            enrollments_by_id(c, ids).await
        })
    }

    async fn refund_of(&self, enrollment: EnrollmentId) -> Result<Option<Refund>> {
        let key = Refund::key_for(enrollment);
        read!(self, |c| c.refund_by_key(&key).await.map_err(Error::from))
    }
}

#[async_trait]
impl PricingStore for SqlStore {
    async fn pricing(&self) -> Result<PricingConfig> {
        read!(self, |c| Ok(c.load_rates().await?.unwrap_or_default()))
    }

    async fn set_pricing(&self, config: PricingConfig) -> Result<()> {
        write!(self, |c| c.replace_rates(&config).await)
    }

    async fn promotions(&self) -> Result<Vec<Promotion>> {
        read!(self, |c| c.load_promotions().await.map_err(Error::from))
    }

    async fn save_promotion(&self, promotion: Promotion) -> Result<()> {
        write!(self, |c| c.upsert_promotion(&promotion).await)
    }

    async fn delete_promotion(&self, id: PromotionId) -> Result<()> {
        let removed = write!(self, |c| c.remove_promotion(id).await)?;
        if removed == 0 {
            return Err(Error::not_found("promotion"));
        }
        Ok(())
    }
}
