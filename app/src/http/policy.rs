//! A teacher's booking policy: readable by anyone (students need the rules),
//! changed by the teacher or staff.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use time::Duration;
use tutorbook_domain::{BookingPolicy, CancellationTier, UserId};
use uuid::Uuid;

use crate::http::auth::{BearerAuth, MaybeAuth, consented, maybe_consented};
use crate::http::enums::CancellationTierDto;
use crate::http::problem::{api_response, respond};
use crate::http::views::WaitlistSetting;
use crate::state::AppState;

#[derive(Debug, Tags)]
enum ApiTags {
    /// Teachers' booking policies.
    Policy,
}

/// How a teacher's slots may be booked. Durations in whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PolicyView {
    /// One-to-one requests wait for the teacher's approval (default true).
    pub requires_approval_one_on_one: bool,
    /// Group requests wait for the teacher's approval (default false).
    pub requires_approval_group: bool,
    /// Least time between booking and start (default 0).
    pub min_notice_minutes: i64,
    /// Most time between booking and start (default 90 days), positive.
    pub max_advance_minutes: i64,
    /// Until how long before the start a student may cancel a confirmed
    /// lesson. In a request, this or `cancel_window_tier` (both only when
    /// they agree); answers always carry it.
    pub cancel_window_minutes: Option<i64>,
    /// The cancel window as a named tier: `flexible` (2 h), `moderate`
    /// (24 h, the default), `strict` (48 h). Answers carry it when the
    /// window is one of them.
    pub cancel_window_tier: Option<CancellationTierDto>,
    /// Free time kept before each lesson (0–240).
    pub buffer_before_minutes: i64,
    /// Free time kept after each lesson (0–240).
    pub buffer_after_minutes: i64,
    /// Length of a lesson booked from the teacher's bookable times (10–480, default 50).
    #[oai(default = "default_length")]
    pub default_length_minutes: i64,
    /// At most this many bookings on one of the teacher's local days (1–100); none when absent.
    pub daily_limit: Option<u32>,
    /// Length of a trial lesson (10–480), at most one per student and
    /// teacher; no trials when absent.
    pub trial_length_minutes: Option<i64>,
    /// The waitlist new group slots keep unless opened with their own
    /// (docs/waitlists.md); none when absent.
    pub waitlist: Option<WaitlistSetting>,
}

fn default_length() -> i64 {
    tutorbook_domain::DEFAULT_LESSON_LENGTH.whole_minutes()
}

impl From<BookingPolicy> for PolicyView {
    fn from(p: BookingPolicy) -> Self {
        Self {
            requires_approval_one_on_one: p.requires_approval(true),
            requires_approval_group: p.requires_approval(false),
            min_notice_minutes: p.min_notice().whole_minutes(),
            max_advance_minutes: p.max_advance().whole_minutes(),
            cancel_window_minutes: Some(p.cancel_window().whole_minutes()),
            cancel_window_tier: CancellationTier::of_window(p.cancel_window()).map(Into::into),
            buffer_before_minutes: p.buffers().before.whole_minutes(),
            buffer_after_minutes: p.buffers().after.whole_minutes(),
            default_length_minutes: p.default_length().whole_minutes(),
            daily_limit: p.daily_limit(),
            trial_length_minutes: p.trial_length().map(|d| d.whole_minutes()),
            waitlist: p.waitlist().map(|w| WaitlistSetting::of(Some(w))),
        }
    }
}

impl TryFrom<PolicyView> for BookingPolicy {
    type Error = tutorbook_domain::DomainError;

    fn try_from(v: PolicyView) -> Result<Self, Self::Error> {
        let waitlist = v.waitlist.map(|w| w.waitlist()).transpose()?.flatten();
        BookingPolicy::default()
            .with_waitlist(waitlist)
            .with_approval(v.requires_approval_one_on_one, v.requires_approval_group)
            .with_min_notice(minutes("min_notice_minutes", v.min_notice_minutes)?)?
            .with_max_advance(minutes("max_advance_minutes", v.max_advance_minutes)?)?
            .with_cancel_window(cancel_window(v.cancel_window_minutes, v.cancel_window_tier)?)?
            .with_buffers(
                minutes("buffer_before_minutes", v.buffer_before_minutes)?,
                minutes("buffer_after_minutes", v.buffer_after_minutes)?,
            )?
            .with_default_length(minutes("default_length_minutes", v.default_length_minutes)?)?
            .with_daily_limit(v.daily_limit)?
            .with_trial(
                v.trial_length_minutes
                    .map(|m| minutes("trial_length_minutes", m))
                    .transpose()?,
            )
    }
}

/// The cancel window a request names: minutes, a tier, or both when they agree.
fn cancel_window(
    minutes_given: Option<i64>,
    tier: Option<CancellationTierDto>,
) -> Result<Duration, tutorbook_domain::DomainError> {
    let tier = tier.map(|t| CancellationTier::from(t).window());
    match (
        minutes_given.map(|m| minutes("cancel_window_minutes", m)).transpose()?,
        tier,
    ) {
        (Some(window), None) | (None, Some(window)) => Ok(window),
        (Some(window), Some(named)) if window == named => Ok(window),
        (Some(_), Some(_)) => Err(tutorbook_domain::DomainError::invalid(
            "cancel_window_tier",
            "names another window than cancel_window_minutes",
        )),
        (None, None) => Err(tutorbook_domain::DomainError::invalid(
            "cancel_window_minutes",
            "is required (or cancel_window_tier)",
        )),
    }
}

/// Whole minutes as a duration; `invalid_input` for counts no duration
/// holds (`Duration::minutes` would panic on them).
fn minutes(field: &'static str, count: i64) -> Result<Duration, tutorbook_domain::DomainError> {
    count
        .checked_mul(60)
        .map(Duration::seconds)
        .ok_or_else(|| tutorbook_domain::DomainError::invalid(field, "is out of range"))
}

api_response! {
    /// Answer with a policy.
    PolicyResponse {
        /// The policy (the default when the teacher never set one).
        200 => Ok(Json<PolicyView>),
        /// Malformed id (`invalid_input`).
        400 => BadRequest,
        /// The bearer token was refused.
        401 => Unauthorized,
        /// `consent_required` (signed-in callers only).
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of setting a policy.
    SetPolicyResponse {
        /// The policy as saved.
        200 => Ok(Json<PolicyView>),
        /// A negative or out-of-range duration, a malformed body (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not that teacher or staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// Policy operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyApi;

#[OpenApi]
impl PolicyApi {
    /// A teacher's booking policy; public.
    #[oai(path = "/teachers/:id/policy", method = "get", tag = "ApiTags::Policy")]
    async fn policy(&self, state: Data<&AppState>, auth: MaybeAuth, id: Path<Uuid>) -> PolicyResponse {
        respond(
            async {
                maybe_consented(&state, &auth).await?;
                Ok(state.bookings.policy(UserId::from_uuid(id.0)).await?)
            },
            |p| PolicyResponse::Ok(Json(p.into())),
        )
        .await
    }

    /// The teacher (or staff) replaces the teacher's booking policy. Applies
    /// to requests from now on; buffers apply to slots opened from now on.
    #[oai(path = "/teachers/:id/policy", method = "put", tag = "ApiTags::Policy")]
    async fn set_policy(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<PolicyView>,
    ) -> SetPolicyResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let teacher = UserId::from_uuid(id.0);
                // The permission before the values: a stranger learns nothing from them.
                tutorbook_domain::check_manager(&caller.actor, teacher)?;
                let policy = BookingPolicy::try_from(body.0)?;
                state.bookings.set_policy(&caller.actor, teacher, policy).await?;
                Ok(state.bookings.policy(teacher).await?)
            },
            |p| SetPolicyResponse::Ok(Json(p.into())),
        )
        .await
    }
}
