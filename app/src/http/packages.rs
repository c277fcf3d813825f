//! Course packages over HTTP (docs/product.md §8–10): teachers create, revise, close and
//! delete packages and see their enrollments; students list open packages,
//! enroll, get a refund quote and ask for the refund; single lessons are
//! checked out and stub payments completed; staff keep the pricing config and
//! the promotions.

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
use crate::http::problem::{Problem, api_response};
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
        200 => Ok(Json<PackageDto>),
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
        201 => Created(Json<PackageDto>),
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

/// Package, enrollment, payment, pricing and promotion operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct PackagesApi;

#[OpenApi]
impl PackagesApi {
    /// Creates an open package and one slot per session. With an
    /// `Idempotency-Key` a retry returns the first package.
    #[oai(path = "/packages", method = "post", tag = "ApiTags::Packages")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: Json<PackageInput>,
    ) -> CreatePackageResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            let teacher = package_teacher(&caller.actor, body.0.teacher)?;
            // Staff name the teacher: it must be one, and their zone is the default.
            let zone = if caller.actor.is_staff() {
                state.users.teacher(teacher).await?.zone
            } else {
                caller.user.zone
            };
            let details = parse_details(body.0, zone)?;
            let view = state
                .packages
                .create(&caller.actor, teacher, details, key.0.clone())
                .await?;
            package_dto(&state, &view).await
        }
        .await;
        result.map_or_else(Into::into, |p| CreatePackageResponse::Created(Json(p)))
    }

    /// Open packages with future sessions, soonest first (a teacher does not see their own).
    #[oai(path = "/packages", method = "get", tag = "ApiTags::Packages")]
    async fn list(&self, state: Data<&AppState>, auth: MaybeAuth, limit: Query<Option<u32>>) -> PackagesResponse {
        let result: Result<_, Problem> = async {
            let viewer = maybe_consented(&state, &auth).await?;
            let limit = limit.0.unwrap_or(50).clamp(1, 200) as usize;
            let found = state.packages.open_packages(viewer.map(|c| c.user.id), limit).await?;
            let pricing = state.packages.pricing().await?;
            Ok(found
                .iter()
                .map(|v| PackageDto::of(v, &pricing, state.packages.payment_settings().currency))
                .collect())
        }
        .await;
        result.map_or_else(Into::into, |p| PackagesResponse::Ok(Json(p)))
    }

    /// One package: open ones for everyone, others for their teacher and staff.
    #[oai(path = "/packages/:id", method = "get", tag = "ApiTags::Packages")]
    async fn get(&self, state: Data<&AppState>, auth: MaybeAuth, id: Path<Uuid>) -> PackageResponse {
        let result: Result<_, Problem> = async {
            let viewer = maybe_consented(&state, &auth).await?;
            let view = state
                .packages
                .package(viewer.as_ref().map(|c| &c.actor), PackageId::from_uuid(id.0))
                .await?;
            package_dto(&state, &view).await
        }
        .await;
        result.map_or_else(Into::into, |p| PackageResponse::Ok(Json(p)))
    }

    /// Replaces a package's details while nobody ever enrolled; a schedule
    /// change regenerates its slots.
    #[oai(path = "/packages/:id", method = "put", tag = "ApiTags::Packages")]
    async fn revise(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<PackageInput>,
    ) -> PackageResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            let id = PackageId::from_uuid(id.0);
            // Without a zone the package keeps its own (not the caller's).
            let current = state.packages.package(Some(&caller.actor), id).await?;
            let details = parse_details(body.0, current.package.zone())?;
            let view = state.packages.revise(&caller.actor, id, details).await?;
            package_dto(&state, &view).await
        }
        .await;
        result.map_or_else(Into::into, |p| PackageResponse::Ok(Json(p)))
    }

    /// Opens, closes or drafts a package (closed packages leave the public list).
    #[oai(path = "/packages/:id/status", method = "put", tag = "ApiTags::Packages")]
    async fn set_status(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<StatusInput>,
    ) -> PackageResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            let status: PackageStatus = body.0.status.into();
            let view = state
                .packages
                .set_status(&caller.actor, PackageId::from_uuid(id.0), status)
                .await?;
            package_dto(&state, &view).await
        }
        .await;
        result.map_or_else(Into::into, |p| PackageResponse::Ok(Json(p)))
    }

    /// Deletes a package nobody ever enrolled in, with its slots.
    #[oai(path = "/packages/:id", method = "delete", tag = "ApiTags::Packages")]
    async fn delete(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> DeletePackageResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            Ok(state.packages.delete(&caller.actor, PackageId::from_uuid(id.0)).await?)
        }
        .await;
        result.map_or_else(Into::into, |()| DeletePackageResponse::Deleted)
    }

    /// A teacher's own packages, any status (the teacher or staff).
    #[oai(path = "/teachers/:id/packages", method = "get", tag = "ApiTags::Packages")]
    async fn of_teacher(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> PackagesResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            let found = state
                .packages
                .teacher_packages(&caller.actor, UserId::from_uuid(id.0))
                .await?;
            let pricing = state.packages.pricing().await?;
            Ok(found
                .iter()
                .map(|v| PackageDto::of(v, &pricing, state.packages.payment_settings().currency))
                .collect())
        }
        .await;
        result.map_or_else(Into::into, |p| PackagesResponse::Ok(Json(p)))
    }

    /// The enrollments of a package (its teacher or staff).
    #[oai(path = "/packages/:id/enrollments", method = "get", tag = "ApiTags::Packages")]
    async fn enrollments(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> EnrollmentsResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            let found = state
                .packages
                .package_enrollments(&caller.actor, PackageId::from_uuid(id.0))
                .await?;
            Ok(found
                .iter()
                .map(|e| EnrollmentDto::for_viewer(e, &caller.actor))
                .collect())
        }
        .await;
        result.map_or_else(Into::into, |e| EnrollmentsResponse::Ok(Json(e)))
    }

    /// Enrolls the caller: a confirmed seat on every session or nothing, the
    /// best promotion applied, the payment created (settled at once in stub mode).
    #[oai(path = "/packages/:id/enrollments", method = "post", tag = "ApiTags::Packages")]
    async fn enroll(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(name = "Idempotency-Key")] _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> EnrollResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            Ok(state
                .packages
                .enroll(&caller.actor, PackageId::from_uuid(id.0), caller.user.locale)
                .await?)
        }
        .await;
        result.map_or_else(Into::into, |e| EnrollResponse::Created(Json(EnrollmentDto::from(&e))))
    }

    /// The caller's enrollments, newest first.
    #[oai(path = "/me/enrollments", method = "get", tag = "ApiTags::Packages")]
    async fn mine(&self, state: Data<&AppState>, auth: BearerAuth) -> EnrollmentsResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            Ok(state.packages.my_enrollments(&caller.actor).await?)
        }
        .await;
        result.map_or_else(Into::into, |e| {
            EnrollmentsResponse::Ok(Json(e.iter().map(EnrollmentDto::from).collect()))
        })
    }

    /// One enrollment (its student, the package's teacher, or staff).
    #[oai(path = "/enrollments/:id", method = "get", tag = "ApiTags::Packages")]
    async fn enrollment(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> EnrollmentResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            let found = state
                .packages
                .enrollment(&caller.actor, EnrollmentId::from_uuid(id.0))
                .await?;
            Ok(EnrollmentDto::for_viewer(&found, &caller.actor))
        }
        .await;
        result.map_or_else(Into::into, |e| EnrollmentResponse::Ok(Json(e)))
    }

    /// What leaving now would pay back (docs/product.md §10), with every method's amount.
    #[oai(path = "/enrollments/:id/refund-quote", method = "get", tag = "ApiTags::Packages")]
    async fn quote(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> QuoteResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            Ok(state
                .packages
                .refund_quote(&caller.actor, EnrollmentId::from_uuid(id.0))
                .await?)
        }
        .await;
        result.map_or_else(Into::into, |q| QuoteResponse::Ok(Json(QuoteDto::from(&q))))
    }

    /// Executes the refund once: later calls return the same refund.
    #[oai(path = "/enrollments/:id/refund", method = "post", tag = "ApiTags::Packages")]
    async fn refund(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(name = "Idempotency-Key")] _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> RefundResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            Ok(state
                .packages
                .refund(&caller.actor, EnrollmentId::from_uuid(id.0))
                .await?)
        }
        .await;
        result.map_or_else(Into::into, |r| RefundResponse::Created(Json(RefundDto::from(&r))))
    }

    /// Checks out one of the caller's confirmed bookings; a retry returns the pending payment.
    #[oai(path = "/bookings/:id/checkout", method = "post", tag = "ApiTags::Payments")]
    async fn checkout(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(name = "Idempotency-Key")] _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> PaymentResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            Ok(state
                .packages
                .checkout_booking(&caller.actor, BookingId::from_uuid(id.0), caller.user.locale)
                .await?)
        }
        .await;
        result.map_or_else(Into::into, |p| PaymentResponse::Ok(Json(PaymentDto::from(&p))))
    }

    /// The stub checkout's completion: settles a stub payment (idempotent).
    #[oai(path = "/payments/:id/stub-complete", method = "post", tag = "ApiTags::Payments")]
    async fn stub_complete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(name = "Idempotency-Key")] _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> PaymentResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            Ok(state
                .packages
                .settle_stub(&caller.actor, PaymentId::from_uuid(id.0))
                .await?)
        }
        .await;
        result.map_or_else(Into::into, |p| PaymentResponse::Ok(Json(PaymentDto::from(&p))))
    }

    /// The platform's per-session rates (public: prices are shown to everyone;
    /// a signed-in caller must have consented, like everywhere else).
    #[oai(path = "/pricing", method = "get", tag = "ApiTags::Payments")]
    async fn pricing(&self, state: Data<&AppState>, auth: MaybeAuth) -> PricingResponse {
        let result: Result<_, Problem> = async {
            maybe_consented(&state, &auth).await?;
            Ok(state.packages.pricing().await?)
        }
        .await;
        result.map_or_else(Into::into, |p| PricingResponse::Ok(Json(PricingDto::from(&p))))
    }

    /// Staff replace the pricing config.
    #[oai(path = "/pricing", method = "put", tag = "ApiTags::Payments")]
    async fn set_pricing(&self, state: Data<&AppState>, auth: BearerAuth, body: Json<PricingInput>) -> PricingResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            let mut rates = Vec::with_capacity(body.0.rates.len());
            for r in body.0.rates {
                let currency = Currency::parse(&r.currency)?;
                rates.push(SessionRates::new(
                    Money::new(r.one_on_one, currency)?,
                    Money::new(r.group, currency)?,
                )?);
            }
            let config = PricingConfig::new(rates)?;
            state.packages.set_pricing(&caller.actor, config.clone()).await?;
            Ok(config)
        }
        .await;
        result.map_or_else(Into::into, |p| PricingResponse::Ok(Json(PricingDto::from(&p))))
    }

    /// Every promotion (staff).
    #[oai(path = "/promotions", method = "get", tag = "ApiTags::Payments")]
    async fn promotions(&self, state: Data<&AppState>, auth: BearerAuth) -> PromotionsResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            Ok(state.packages.promotions(&caller.actor).await?)
        }
        .await;
        result.map_or_else(Into::into, |p| {
            PromotionsResponse::Ok(Json(p.iter().map(PromotionDto::from).collect()))
        })
    }

    /// Staff create a promotion.
    #[oai(path = "/promotions", method = "post", tag = "ApiTags::Payments")]
    async fn create_promotion(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(name = "Idempotency-Key")] _key: Header<Option<String>>,
        body: Json<PromotionInput>,
    ) -> PromotionResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            let promotion = parse_promotion(state.packages.new_promotion_id(), body.0)?;
            Ok(state.packages.save_promotion(&caller.actor, promotion).await?)
        }
        .await;
        result.map_or_else(Into::into, |p| PromotionResponse::Created(Json(PromotionDto::from(&p))))
    }

    /// Staff delete a promotion.
    #[oai(path = "/promotions/:id", method = "delete", tag = "ApiTags::Payments")]
    async fn delete_promotion(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> DeletePromotionResponse {
        let result: Result<_, Problem> = async {
            let caller = consented(&state, &auth).await?;
            Ok(state
                .packages
                .delete_promotion(&caller.actor, PromotionId::from_uuid(id.0))
                .await?)
        }
        .await;
        result.map_or_else(Into::into, |()| DeletePromotionResponse::Deleted)
    }
}
