//! Course packages over HTTP (docs/product.md §8–10): teachers create, revise, close and
//! delete packages and see their enrollments; students list open packages,
//! enroll, get a refund quote and ask for the refund; single lessons are
//! checked out and stub payments completed; staff keep the pricing config and
//! the promotions.
//!
//! This module holds what the three resources share (inputs, answers,
//! parsing); the operations live by resource in `catalog` (packages),
//! `enrollments` (enrollments and refunds) and `payments` (checkout, stub
//! payments, pricing, promotions).

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use time::OffsetDateTime;
use tutorbook_domain::{
    Actor, BookingId, ClassType, Currency, Discount, EnrollmentId, Money, PackageDetails, PackageId, PackageSchedule,
    PackageStatus, PaymentId, Percent, PricingConfig, Promotion, PromotionId, PromotionScope, Recurrence, SessionRates,
    UserId, Zone,
};
use uuid::Uuid;

use crate::http::auth::{BearerAuth, MaybeAuth, consented, maybe_consented};
use crate::http::enums::{ClassTypeDto, PackageStatusDto, RecurrenceDto};
use crate::http::package_views::{
    EnrollmentDto, PackageDto, PaymentDto, PricingDto, PromotionDto, QuoteDto, RefundDto,
};
use crate::http::policy::PolicyView;
use crate::http::problem::{Problem, api_response, respond};
use crate::state::AppState;

#[derive(Debug, Tags)]
enum ApiTags {
    /// Course packages and enrollments.
    Packages,
    /// Payments, pricing and promotions.
    Payments,
}

/// What a teacher sends to create or revise a package.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PackageInput {
    /// The teacher; only staff may name one (defaults to the caller).
    pub teacher: Option<Uuid>,
    /// 1–120 characters.
    pub title: String,
    /// Up to 4,000 characters.
    #[oai(default)]
    pub description: String,
    /// 1:1 or group.
    pub class_type: ClassTypeDto,
    /// Seats of a group package (2–4); ignored for one-to-one.
    #[oai(default = "one_seat")]
    pub capacity: u32,
    /// First possible session date, `YYYY-MM-DD`.
    pub start_date: String,
    /// Local start time of every session, `HH:MM`.
    pub start_time: String,
    /// IANA zone of the local times (defaults to the caller's zone).
    pub zone: Option<String>,
    /// The days it meets.
    pub recurrence: RecurrenceDto,
    /// 1–29 sessions.
    pub session_count: u32,
    /// The package's own booking policy, which its sessions follow instead
    /// of the teacher's: its buffers around the sessions, its notice and
    /// advance for enrolling (counted to the first session). Absent: the
    /// teacher's policy.
    pub policy: Option<PolicyView>,
}

fn one_seat() -> u32 {
    1
}

/// A new status for a package.
#[derive(Debug, Clone, Object)]
pub struct StatusInput {
    /// Draft, open or closed.
    pub status: PackageStatusDto,
}

/// The per-session rates of one currency.
#[derive(Debug, Clone, Object)]
pub struct RatesInput {
    /// ISO 4217 code.
    pub currency: String,
    /// One-to-one rate in minor units.
    pub one_on_one: i64,
    /// Group rate in minor units.
    pub group: i64,
}

/// The whole pricing config.
#[derive(Debug, Clone, Object)]
pub struct PricingInput {
    /// At least one set of rates, one per currency.
    pub rates: Vec<RatesInput>,
}

/// A promotion as staff define it.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PromotionInput {
    /// `percent` (1–100 in `percent`) or `fixed` (`amount` in minor units of `currency`).
    pub kind: String,
    /// For `percent`.
    pub percent: Option<u8>,
    /// For `fixed`, in minor units.
    pub amount: Option<i64>,
    /// For `fixed`.
    pub currency: Option<String>,
    /// `all`, `single` or `package`.
    pub scope: String,
    /// First instant it applies (RFC 3339).
    pub starts_at: OffsetDateTime,
    /// First instant it no longer applies.
    pub ends_at: OffsetDateTime,
    /// Staff's on/off switch.
    #[oai(default = "switched_on")]
    pub active: bool,
}

fn switched_on() -> bool {
    true
}

fn parse_details(input: PackageInput, fallback_zone: Zone) -> Result<PackageDetails, Problem> {
    let class_type: ClassType = input.class_type.into();
    let recurrence: Recurrence = input.recurrence.into();
    let date = time::Date::parse(
        &input.start_date,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| Problem::invalid("start_date must be YYYY-MM-DD"))?;
    let start = time::Time::parse(&input.start_time, time::macros::format_description!("[hour]:[minute]"))
        .map_err(|_| Problem::invalid("start_time must be HH:MM"))?;
    let zone = match &input.zone {
        Some(name) => Zone::parse(name)?,
        None => fallback_zone,
    };
    Ok(PackageDetails {
        title: input.title,
        description: input.description,
        class_type,
        capacity: input.capacity,
        schedule: PackageSchedule::new(date, start, zone, recurrence, input.session_count)?,
        policy: input
            .policy
            .map(tutorbook_domain::BookingPolicy::try_from)
            .transpose()?,
    })
}

fn parse_promotion(id: PromotionId, input: PromotionInput) -> Result<Promotion, Problem> {
    let discount = match (input.kind.as_str(), input.percent, input.amount, &input.currency) {
        ("percent", Some(p), None, _) => Discount::Percent(Percent::new(p)?),
        ("fixed", None, Some(amount), Some(currency)) => {
            Discount::Fixed(Money::new(amount, Currency::parse(currency)?)?)
        }
        _ => {
            return Err(Problem::invalid(
                "a percent promotion needs `percent`; a fixed one needs `amount` and `currency`",
            ));
        }
    };
    let scope =
        PromotionScope::parse(&input.scope).ok_or_else(|| Problem::invalid("scope must be all, single or package"))?;
    Ok(Promotion::new(
        id,
        discount,
        scope,
        input.starts_at,
        input.ends_at,
        input.active,
    )?)
}

async fn package_dto(state: &AppState, view: &tutorbook_ports::PackageView) -> Result<PackageDto, Problem> {
    let pricing = state.packages.pricing().await?;
    Ok(PackageDto::of(
        view,
        &pricing,
        state.packages.payment_settings().currency,
    ))
}

api_response! {
    /// Answer with one package.
    PackageResponse {
        /// The package with its sessions.
        200 => Ok(Json<Box<PackageDto>>),
        /// Malformed id or body, or a schedule outside the caps (`invalid_input`, `too_many_sessions`,
        /// `package_span_too_long`, `dst_gap`, `dst_ambiguous`, `invalid_capacity`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the package's teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such package (or not visible to the caller).
        404 => NotFound,
        /// `package_has_students`, `slot_overlap`, `slot_in_past`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of creating a package.
    CreatePackageResponse {
        /// The open package with one slot per session.
        201 => Created(Json<Box<PackageDto>>),
        /// Malformed body or a schedule outside the caps (`invalid_input`, `too_many_sessions`,
        /// `package_span_too_long`, `dst_gap`, `dst_ambiguous`, `invalid_capacity`, `unpriced_currency`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not a teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// `slot_overlap`, `slot_in_past`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with packages.
    PackagesResponse {
        /// The packages, soonest first.
        200 => Ok(Json<Vec<PackageDto>>),
        /// Malformed parameter (`invalid_input`).
        400 => BadRequest,
        /// Not signed in (teacher lists).
        401 => Unauthorized,
        /// Another teacher's list (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of deleting a package.
    DeletePackageResponse {
        /// Deleted with its slots.
        204 => Deleted,
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the package's teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such package.
        404 => NotFound,
        /// `package_has_students`.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of an enrollment.
    EnrollResponse {
        /// The enrollment with its payment (settled at once in stub mode).
        201 => Created(Json<EnrollmentDto>),
        /// Malformed id (`invalid_input`), or no rate in the platform currency (`unpriced_currency`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required`.
        403 => Forbidden,
        /// No such package.
        404 => NotFound,
        /// `own_package`, `package_not_open`, `already_enrolled`, `package_session_unavailable`,
        /// `slot_in_past`, `slot_full`, `duplicate_booking`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with one enrollment.
    EnrollmentResponse {
        /// The enrollment with its payment.
        200 => Ok(Json<EnrollmentDto>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required`.
        403 => Forbidden,
        /// No such enrollment (or not the caller's).
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with enrollments.
    EnrollmentsResponse {
        /// The enrollments with their payments.
        200 => Ok(Json<Vec<EnrollmentDto>>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the package's teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such package.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a refund quote.
    QuoteResponse {
        /// What leaving now would pay back, by each method.
        200 => Ok(Json<QuoteDto>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the enrollment's student or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such enrollment.
        404 => NotFound,
        /// `invalid_payment_status` (pending or already refunded).
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of a refund.
    RefundResponse {
        /// The refund (the same one on every retry).
        201 => Created(Json<RefundDto>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not the enrollment's student or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such enrollment.
        404 => NotFound,
        /// `invalid_payment_status`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a payment.
    PaymentResponse {
        /// The payment.
        200 => Ok(Json<PaymentDto>),
        /// Malformed id (`invalid_input`), or no rate in the platform currency (`unpriced_currency`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required`.
        403 => Forbidden,
        /// No such booking or payment (or not the caller's).
        404 => NotFound,
        /// `already_paid`, `invalid_booking_status`, `not_a_stub_payment`, `invalid_payment_status`,
        /// `payments_not_available`, or an `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with the pricing config.
    PricingResponse {
        /// Per-session rates per currency.
        200 => Ok(Json<PricingDto>),
        /// A bad config (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// An `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with promotions.
    PromotionsResponse {
        /// Every promotion.
        200 => Ok(Json<Vec<PromotionDto>>),
        /// Not signed in.
        401 => Unauthorized,
        /// Not staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of saving a promotion.
    PromotionResponse {
        /// The promotion as saved.
        201 => Created(Json<PromotionDto>),
        /// A bad promotion (`invalid_input`, `invalid_time_range`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// An `Idempotency-Key` conflict.
        409 => Conflict,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of deleting a promotion.
    DeletePromotionResponse {
        /// Deleted.
        204 => Deleted,
        /// Not signed in.
        401 => Unauthorized,
        /// Not staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// No such promotion.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// The teacher a package input is for: the caller, or anyone when staff name them.
fn package_teacher(actor: &Actor, named: Option<Uuid>) -> Result<UserId, Problem> {
    match (actor.is_staff(), named) {
        (true, Some(teacher)) => Ok(UserId::from_uuid(teacher)),
        (true, None) => Err(Problem::invalid("staff must name the teacher")),
        (false, Some(t)) if t != actor.user.as_uuid() => Err(Problem::forbidden("only staff act for another teacher")),
        (false, _) => Ok(actor.user),
    }
}

mod catalog;
mod enrollments;
mod payments;

pub use catalog::PackagesApi;
pub use enrollments::EnrollmentsApi;
pub use payments::PaymentsApi;
