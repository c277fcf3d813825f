//! What the package, payment and pricing operations send: DTOs apart from the
//! domain types. Money is minor units plus an ISO 4217 code.

use poem_openapi::Object;
use time::OffsetDateTime;
use time::macros::format_description;
use tutorbook_domain::{
    Actor, ClassType, Currency, Discount, Money, PaymentTarget, PricingConfig, Promotion, Refund, RefundBasis,
    RefundQuote,
};
use tutorbook_ports::{EnrollmentView, PackageView};

use crate::http::enums::{
    ClassTypeDto, DiscountKindDto, EnrollmentStatusDto, PackageStatusDto, PaymentProviderDto, PaymentStatusDto,
    PromotionScopeDto, RecurrenceDto, RefundBasisDto, SlotStatusDto,
};
use uuid::Uuid;

/// An amount of money.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct MoneyDto {
    /// Minor units (KRW has none, USD cents).
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
}

impl From<Money> for MoneyDto {
    fn from(m: Money) -> Self {
        Self {
            amount: m.minor(),
            currency: m.currency().code().to_owned(),
        }
    }
}

/// One session of a package.
#[derive(Debug, Clone, Object)]
pub struct SessionDto {
    /// The session's slot.
    pub slot: Uuid,
    /// Start (RFC 3339, UTC).
    pub start: OffsetDateTime,
    /// End.
    pub end: OffsetDateTime,
    /// Seats taken.
    pub booked_count: u32,
    /// Whether the session's slot is bookable.
    pub status: SlotStatusDto,
}

/// A course package.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PackageDto {
    /// Its id.
    pub id: Uuid,
    /// The teacher.
    pub teacher: Uuid,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// 1:1 or group.
    pub class_type: ClassTypeDto,
    /// Seats per session.
    pub capacity: u32,
    /// Whether it is on sale.
    pub status: PackageStatusDto,
    /// First possible session date, `YYYY-MM-DD`.
    pub start_date: String,
    /// Local start time, `HH:MM`.
    pub start_time: String,
    /// IANA zone of the local times.
    pub zone: String,
    /// The days it meets.
    pub recurrence: RecurrenceDto,
    /// The price in the platform currency (sessions × rate), when a rate is configured.
    pub price: Option<MoneyDto>,
    /// The sessions, in order.
    pub sessions: Vec<SessionDto>,
    /// The package's own booking policy; absent when it follows its teacher's.
    pub policy: Option<crate::http::policy::PolicyView>,
}

impl PackageDto {
    /// The DTO of `view`, priced with `pricing` in `currency`.
    pub fn of(view: &PackageView, pricing: &PricingConfig, currency: Currency) -> Self {
        let p = &view.package;
        let schedule = p.schedule();
        Self {
            id: p.id().as_uuid(),
            teacher: p.teacher().as_uuid(),
            title: p.title().to_owned(),
            description: p.description().to_owned(),
            class_type: p.class_type().into(),
            capacity: p.capacity().get(),
            status: p.status().into(),
            start_date: schedule
                .start_date()
                .format(format_description!("[year]-[month]-[day]"))
                .unwrap_or_default(),
            start_time: schedule
                .start_time()
                .format(format_description!("[hour]:[minute]"))
                .unwrap_or_default(),
            zone: schedule.zone().name().to_owned(),
            recurrence: schedule.recurrence().into(),
            price: p.price(pricing, currency).ok().map(MoneyDto::from),
            sessions: view
                .slots
                .iter()
                .map(|s| SessionDto {
                    slot: s.id().as_uuid(),
                    start: s.window().start(),
                    end: s.window().end(),
                    booked_count: s.booked_count(),
                    status: s.status().into(),
                })
                .collect(),
            policy: p.policy().map(Into::into),
        }
    }
}

/// A payment.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PaymentDto {
    /// Its id.
    pub id: Uuid,
    /// The booking paid for (exactly one of `booking` and `enrollment`).
    pub booking: Option<Uuid>,
    /// The enrollment paid for.
    pub enrollment: Option<Uuid>,
    /// Who collects it.
    pub provider: PaymentProviderDto,
    /// Where it stands.
    pub status: PaymentStatusDto,
    /// Price before the promotion.
    pub base_amount: MoneyDto,
    /// What is charged.
    pub amount: MoneyDto,
    /// What went back.
    pub refunded: MoneyDto,
    /// The promotion applied.
    pub promotion: Option<Uuid>,
    /// Whether it is a stub payment (no real provider).
    pub stub: bool,
    /// Where the payer completes it.
    pub checkout_url: Option<String>,
    /// When it was settled.
    pub paid_at: Option<OffsetDateTime>,
}

impl From<&tutorbook_domain::Payment> for PaymentDto {
    fn from(p: &tutorbook_domain::Payment) -> Self {
        let (booking, enrollment) = match p.target() {
            PaymentTarget::Booking(b) => (Some(b.as_uuid()), None),
            PaymentTarget::Enrollment(e) => (None, Some(e.as_uuid())),
        };
        Self {
            id: p.id().as_uuid(),
            booking,
            enrollment,
            provider: p.provider().into(),
            status: p.status().into(),
            base_amount: p.base_amount().into(),
            amount: p.amount().into(),
            refunded: p.refunded().into(),
            promotion: p.promotion().map(|id| id.as_uuid()),
            stub: p.is_stub(),
            checkout_url: p.checkout_url().map(str::to_owned),
            paid_at: p.paid_at(),
        }
    }
}

/// An enrollment with its payment.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct EnrollmentDto {
    /// Its id.
    pub id: Uuid,
    /// The package.
    pub package: Uuid,
    /// The student.
    pub student: Uuid,
    /// Where it stands.
    pub status: EnrollmentStatusDto,
    /// When the student enrolled.
    pub created_at: OffsetDateTime,
    /// When it was refunded.
    pub cancelled_at: Option<OffsetDateTime>,
    /// Its payment (boxed: it is most of the enrollment's size).
    pub payment: Box<PaymentDto>,
}

impl From<&EnrollmentView> for EnrollmentDto {
    fn from(v: &EnrollmentView) -> Self {
        let e = &v.enrollment;
        Self {
            id: e.id().as_uuid(),
            package: e.package().as_uuid(),
            student: e.student().as_uuid(),
            status: e.status().into(),
            created_at: e.created_at(),
            cancelled_at: e.cancelled_at(),
            payment: Box::new(PaymentDto::from(&v.payment)),
        }
    }
}

impl EnrollmentDto {
    /// The view `viewer` may see: the student and staff see the whole
    /// payment; the package's teacher does not get the student's checkout
    /// link or promotion.
    pub fn for_viewer(v: &EnrollmentView, viewer: &Actor) -> Self {
        let mut dto = Self::from(v);
        if !v.payment.shows_checkout_to(viewer) {
            dto.payment.checkout_url = None;
            dto.payment.promotion = None;
        }
        dto
    }
}

/// What leaving now would pay back.
#[derive(Debug, Clone, Object)]
pub struct QuoteDto {
    /// The refund: the largest of the three methods.
    pub amount: MoneyDto,
    /// The rule recorded as the reason.
    pub basis: RefundBasisDto,
    /// Sessions consumed (taken, missed, or starting within 24 hours).
    pub consumed: u32,
    /// Sessions of the package.
    pub total: u32,
    /// Paid × remaining / total.
    pub prorata: MoneyDto,
    /// The academy refund table's amount.
    pub academy_table: MoneyDto,
    /// The e-commerce cooling-off amount.
    pub ecommerce: MoneyDto,
}

impl From<&RefundQuote> for QuoteDto {
    fn from(q: &RefundQuote) -> Self {
        Self {
            amount: q.amount().into(),
            basis: q.basis().into(),
            consumed: q.consumed(),
            total: q.total(),
            prorata: q.amount_by(RefundBasis::Prorata).into(),
            academy_table: q.amount_by(RefundBasis::AcademyTable).into(),
            ecommerce: q.amount_by(RefundBasis::Ecommerce).into(),
        }
    }
}

/// An executed refund.
#[derive(Debug, Clone, Object)]
pub struct RefundDto {
    /// Its id.
    pub id: Uuid,
    /// The payment it came out of.
    pub payment: Uuid,
    /// The enrollment refunded.
    pub enrollment: Uuid,
    /// What went back.
    pub amount: MoneyDto,
    /// The method recorded as the reason.
    pub basis: RefundBasisDto,
    /// Its idempotency key, `enrollment:{id}:refund:v1`.
    pub key: String,
    /// When it was executed.
    pub created_at: OffsetDateTime,
}

impl From<&Refund> for RefundDto {
    fn from(r: &Refund) -> Self {
        Self {
            id: r.id.as_uuid(),
            payment: r.payment.as_uuid(),
            enrollment: r.enrollment.as_uuid(),
            amount: r.amount.into(),
            basis: r.basis.into(),
            key: r.key.clone(),
            created_at: r.created_at,
        }
    }
}

/// One currency's per-session rates.
#[derive(Debug, Clone, Object)]
pub struct RatesDto {
    /// ISO 4217 code.
    pub currency: String,
    /// One-to-one session.
    pub one_on_one: i64,
    /// Group session.
    pub group: i64,
}

/// The platform's pricing config.
#[derive(Debug, Clone, Object)]
pub struct PricingDto {
    /// One set of rates per currency, in minor units.
    pub rates: Vec<RatesDto>,
}

impl From<&PricingConfig> for PricingDto {
    fn from(p: &PricingConfig) -> Self {
        Self {
            rates: p
                .rates()
                .iter()
                .map(|r| RatesDto {
                    currency: r.currency().code().to_owned(),
                    one_on_one: r.for_class(ClassType::OneOnOne).minor(),
                    group: r.for_class(ClassType::Group).minor(),
                })
                .collect(),
        }
    }
}

/// A promotion.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PromotionDto {
    /// Its id.
    pub id: Uuid,
    /// How it takes money off.
    pub kind: DiscountKindDto,
    /// For `percent`.
    pub percent: Option<u8>,
    /// For `fixed`.
    pub amount: Option<MoneyDto>,
    /// What it applies to.
    pub scope: PromotionScopeDto,
    /// First instant it applies.
    pub starts_at: OffsetDateTime,
    /// First instant it no longer applies.
    pub ends_at: OffsetDateTime,
    /// Staff's switch.
    pub active: bool,
}

impl From<&Promotion> for PromotionDto {
    fn from(p: &Promotion) -> Self {
        let (kind, percent, amount) = match p.discount() {
            Discount::Percent(share) => (DiscountKindDto::Percent, Some(share.get()), None),
            Discount::Fixed(off) => (DiscountKindDto::Fixed, None, Some(off.into())),
        };
        Self {
            id: p.id().as_uuid(),
            kind,
            percent,
            amount,
            scope: p.scope().into(),
            starts_at: p.starts_at(),
            ends_at: p.ends_at(),
            active: p.is_active(),
        }
    }
}
