//! Rows of the package tables and their conversions. A package row keeps the
//! schedule as the teacher gave it (start date, local time, zone, recurrence,
//! count); the sessions are regenerated from it, which the zone database
//! makes deterministic.

use diesel::prelude::*;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};
use tutorbook_domain::{
    Capacity, ClassType, CoursePackage, Currency, Discount, Enrollment, EnrollmentStatus, Money, PackageSchedule,
    PackageStatus, Payment, PaymentProvider, PaymentRecord, PaymentStatus, PaymentTarget, Percent, Promotion,
    PromotionScope, Recurrence, Refund, RefundBasis, SessionRates, Zone,
};
use tutorbook_ports::Error;

use crate::rows::corrupt;
use crate::schema::{enrollments, packages, payments, pricing_rates, promotions, refunds};
use crate::types::{DbId, DbInstant};

const DATE: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");
const TIME: &[FormatItem<'static>] = format_description!("[hour]:[minute]:[second]");

fn text<T>(value: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> Result<T, Error> {
    parse(value).ok_or_else(|| corrupt(format!("unknown {what} {value:?}")))
}

fn money(minor: i64, currency: &str) -> Result<Money, Error> {
    Money::new(minor, Currency::parse(currency).map_err(corrupt)?).map_err(corrupt)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = packages)]
pub(crate) struct PackageRow {
    pub id: DbId,
    pub teacher_id: DbId,
    pub title: String,
    pub description: String,
    pub class_type: String,
    pub capacity: i32,
    pub start_date: String,
    pub start_time: String,
    pub zone: String,
    pub recurrence: String,
    pub session_count: i32,
    pub first_start: DbInstant,
    pub status: String,
    pub creation_key: Option<String>,
    pub created_at: DbInstant,
    /// The package's own policy as JSON.
    pub policy: Option<String>,
}

/// The columns a package change may write.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = packages)]
pub(crate) struct PackageChanges {
    pub title: String,
    pub description: String,
    pub class_type: String,
    pub capacity: i32,
    pub start_date: String,
    pub start_time: String,
    pub zone: String,
    pub recurrence: String,
    pub session_count: i32,
    pub first_start: DbInstant,
    pub status: String,
    /// `None` writes NULL: the package follows its teacher's policy again.
    #[diesel(treat_none_as_null = true)]
    pub policy: Option<String>,
}

impl PackageChanges {
    pub fn of(p: &CoursePackage) -> Result<Self, Error> {
        let schedule = p.schedule();
        let first = p
            .sessions()
            .first()
            .ok_or_else(|| corrupt("a package without sessions"))?;
        Ok(Self {
            title: p.title().to_owned(),
            description: p.description().to_owned(),
            class_type: p.class_type().as_str().to_owned(),
            capacity: i32::try_from(p.capacity().get()).unwrap_or(i32::MAX),
            start_date: schedule.start_date().format(DATE).map_err(corrupt)?,
            start_time: schedule.start_time().format(TIME).map_err(corrupt)?,
            zone: schedule.zone().name().to_owned(),
            recurrence: schedule.recurrence().as_str().to_owned(),
            session_count: i32::try_from(p.sessions().len()).unwrap_or(i32::MAX),
            first_start: first.start().into(),
            status: p.status().as_str().to_owned(),
            policy: p
                .policy()
                .map(|policy| serde_json::to_string(&policy))
                .transpose()
                .map_err(corrupt)?,
        })
    }
}

impl PackageRow {
    pub fn new(p: &CoursePackage, creation_key: Option<String>, created_at: OffsetDateTime) -> Result<Self, Error> {
        let c = PackageChanges::of(p)?;
        Ok(Self {
            id: p.id().into(),
            teacher_id: p.teacher().into(),
            title: c.title,
            description: c.description,
            class_type: c.class_type,
            capacity: c.capacity,
            start_date: c.start_date,
            start_time: c.start_time,
            zone: c.zone,
            recurrence: c.recurrence,
            session_count: c.session_count,
            first_start: c.first_start,
            status: c.status,
            creation_key,
            created_at: created_at.into(),
            policy: c.policy,
        })
    }

    pub fn into_package(self) -> Result<CoursePackage, Error> {
        let schedule = PackageSchedule::new(
            Date::parse(&self.start_date, DATE).map_err(corrupt)?,
            Time::parse(&self.start_time, TIME).map_err(corrupt)?,
            Zone::parse(&self.zone).map_err(corrupt)?,
            text(&self.recurrence, Recurrence::parse, "recurrence")?,
            u32::try_from(self.session_count).map_err(corrupt)?,
        )
        .map_err(corrupt)?;
        Ok(CoursePackage::restore(
            self.id.0.into(),
            self.teacher_id.0.into(),
            self.title,
            self.description,
            text(&self.class_type, ClassType::parse, "class type")?,
            Capacity::restore(u32::try_from(self.capacity).map_err(corrupt)?).map_err(corrupt)?,
            schedule,
            text(&self.status, PackageStatus::parse, "package status")?,
            self.policy
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(corrupt)?,
        ))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = enrollments, treat_none_as_null = true)]
pub(crate) struct EnrollmentRow {
    pub id: DbId,
    pub package_id: DbId,
    pub student_id: DbId,
    pub status: String,
    pub created_at: DbInstant,
    pub cancelled_at: Option<DbInstant>,
}

impl EnrollmentRow {
    pub fn of(e: &Enrollment) -> Self {
        Self {
            id: e.id().into(),
            package_id: e.package().into(),
            student_id: e.student().into(),
            status: e.status().as_str().to_owned(),
            created_at: e.created_at().into(),
            cancelled_at: e.cancelled_at().map(DbInstant),
        }
    }

    pub fn into_enrollment(self) -> Result<Enrollment, Error> {
        Ok(Enrollment::restore(
            self.id.0.into(),
            self.package_id.0.into(),
            self.student_id.0.into(),
            text(&self.status, EnrollmentStatus::parse, "enrollment status")?,
            self.created_at.0,
            self.cancelled_at.map(|at| at.0),
        ))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = payments, treat_none_as_null = true)]
pub(crate) struct PaymentRow {
    pub id: DbId,
    pub booking_id: Option<DbId>,
    pub enrollment_id: Option<DbId>,
    pub payer_id: DbId,
    pub provider: String,
    pub currency: String,
    pub base_amount: i64,
    pub amount: i64,
    pub refunded_amount: i64,
    pub status: String,
    pub stub: bool,
    pub promotion_id: Option<DbId>,
    pub provider_reference: Option<String>,
    pub checkout_url: Option<String>,
    pub created_at: DbInstant,
    pub paid_at: Option<DbInstant>,
}

impl PaymentRow {
    pub fn of(p: &Payment) -> Self {
        let (booking_id, enrollment_id) = match p.target() {
            PaymentTarget::Booking(b) => (Some(b.into()), None),
            PaymentTarget::Enrollment(e) => (None, Some(e.into())),
        };
        Self {
            id: p.id().into(),
            booking_id,
            enrollment_id,
            payer_id: p.payer().into(),
            provider: p.provider().as_str().to_owned(),
            currency: p.amount().currency().code().to_owned(),
            base_amount: p.base_amount().minor(),
            amount: p.amount().minor(),
            refunded_amount: p.refunded().minor(),
            status: p.status().as_str().to_owned(),
            stub: p.is_stub(),
            promotion_id: p.promotion().map(Into::into),
            provider_reference: p.provider_reference().map(str::to_owned),
            checkout_url: p.checkout_url().map(str::to_owned),
            created_at: p.created_at().into(),
            paid_at: p.paid_at().map(DbInstant),
        }
    }

    pub fn into_payment(self) -> Result<Payment, Error> {
        let target = match (self.booking_id, self.enrollment_id) {
            (Some(b), None) => PaymentTarget::Booking(b.0.into()),
            (None, Some(e)) => PaymentTarget::Enrollment(e.0.into()),
            _ => return Err(corrupt(format!("payment {} has not exactly one target", self.id.0))),
        };
        Payment::restore(PaymentRecord {
            id: self.id.0.into(),
            target,
            payer: self.payer_id.0.into(),
            provider: text(&self.provider, PaymentProvider::parse, "payment provider")?,
            base_amount: money(self.base_amount, &self.currency)?,
            amount: money(self.amount, &self.currency)?,
            refunded: money(self.refunded_amount, &self.currency)?,
            status: text(&self.status, PaymentStatus::parse, "payment status")?,
            stub: self.stub,
            promotion: self.promotion_id.map(|p| p.0.into()),
            provider_reference: self.provider_reference,
            checkout_url: self.checkout_url,
            created_at: self.created_at.0,
            paid_at: self.paid_at.map(|at| at.0),
        })
        .map_err(corrupt)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refunds)]
pub(crate) struct RefundRow {
    pub id: DbId,
    pub payment_id: DbId,
    pub enrollment_id: DbId,
    pub amount: i64,
    pub currency: String,
    pub basis: String,
    pub idempotency_key: String,
    pub created_at: DbInstant,
}

impl RefundRow {
    pub fn of(r: &Refund) -> Self {
        Self {
            id: r.id.into(),
            payment_id: r.payment.into(),
            enrollment_id: r.enrollment.into(),
            amount: r.amount.minor(),
            currency: r.amount.currency().code().to_owned(),
            basis: r.basis.as_str().to_owned(),
            idempotency_key: r.key.clone(),
            created_at: r.created_at.into(),
        }
    }

    pub fn into_refund(self) -> Result<Refund, Error> {
        Ok(Refund {
            id: self.id.0.into(),
            payment: self.payment_id.0.into(),
            enrollment: self.enrollment_id.0.into(),
            amount: money(self.amount, &self.currency)?,
            basis: text(&self.basis, RefundBasis::parse, "refund basis")?,
            key: self.idempotency_key,
            created_at: self.created_at.0,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pricing_rates)]
pub(crate) struct RateRow {
    pub currency: String,
    pub one_on_one: i64,
    pub group_rate: i64,
}

impl RateRow {
    pub fn of(r: &SessionRates) -> Self {
        Self {
            currency: r.currency().code().to_owned(),
            one_on_one: r.for_class(ClassType::OneOnOne).minor(),
            group_rate: r.for_class(ClassType::Group).minor(),
        }
    }

    pub fn into_rates(self) -> Result<SessionRates, Error> {
        SessionRates::new(
            money(self.one_on_one, &self.currency)?,
            money(self.group_rate, &self.currency)?,
        )
        .map_err(corrupt)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = promotions, treat_none_as_null = true)]
pub(crate) struct PromotionRow {
    pub id: DbId,
    pub kind: String,
    pub percent: Option<i16>,
    pub fixed_amount: Option<i64>,
    pub currency: Option<String>,
    pub scope: String,
    pub starts_at: DbInstant,
    pub ends_at: DbInstant,
    pub active: bool,
}

impl PromotionRow {
    pub fn of(p: &Promotion) -> Self {
        let (kind, percent, fixed_amount, currency) = match p.discount() {
            Discount::Percent(share) => ("percent", Some(i16::from(share.get())), None, None),
            Discount::Fixed(off) => ("fixed", None, Some(off.minor()), Some(off.currency().code().to_owned())),
        };
        Self {
            id: p.id().into(),
            kind: kind.to_owned(),
            percent,
            fixed_amount,
            currency,
            scope: p.scope().as_str().to_owned(),
            starts_at: p.starts_at().into(),
            ends_at: p.ends_at().into(),
            active: p.is_active(),
        }
    }

    pub fn into_promotion(self) -> Result<Promotion, Error> {
        let discount = match (self.kind.as_str(), self.percent, self.fixed_amount, &self.currency) {
            ("percent", Some(share), None, _) => {
                Discount::Percent(Percent::new(u8::try_from(share).map_err(corrupt)?).map_err(corrupt)?)
            }
            ("fixed", None, Some(off), Some(currency)) => Discount::Fixed(money(off, currency)?),
            _ => return Err(corrupt(format!("promotion {} has an unknown discount", self.id.0))),
        };
        Promotion::new(
            self.id.0.into(),
            discount,
            text(&self.scope, PromotionScope::parse, "promotion scope")?,
            self.starts_at.0,
            self.ends_at.0,
            self.active,
        )
        .map_err(corrupt)
    }
}
