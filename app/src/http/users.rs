//! The signed-in user's profile and consents, the legal pages, and staff's
//! user administration.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use time::OffsetDateTime;
use tutorbook_domain::{Consent, ConsentDocument, UserId, Zone};
use tutorbook_ports::ProfileUpdate;
use uuid::Uuid;

use crate::http::auth::{BearerAuth, consented, signed_in};
use crate::http::problem::{Problem, api_response, respond};
use crate::http::views::{DocumentDto, LocaleDto, RoleDto, UserView};
use crate::state::AppState;

#[derive(Debug, Tags)]
enum ApiTags {
    /// The signed-in user.
    Me,
    /// Consent to the legal documents.
    Consent,
    /// Staff: users and roles.
    Users,
}

/// Changes to one's profile; absent fields stay as they are.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ProfilePatch {
    /// New display name (1–100 characters).
    pub display_name: Option<String>,
    /// New IANA zone; an unknown zone falls back to `Asia/Seoul`.
    pub zone: Option<String>,
    /// New language.
    pub locale: Option<LocaleDto>,
}

/// One document and the user's decision on it.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ConsentStatus {
    /// The document.
    pub document: DocumentDto,
    /// Whether the service is usable only after accepting it.
    pub required: bool,
    /// The version to accept now.
    pub current_version: String,
    /// The user's latest decision: accepted or not (absent: never decided).
    pub granted: Option<bool>,
    /// The version that decision was about.
    pub decided_version: Option<String>,
    /// When it was made.
    pub decided_at: Option<OffsetDateTime>,
}

/// The user's consents and what still blocks them.
#[derive(Debug, Clone, Object)]
pub struct Consents {
    /// Every document.
    pub documents: Vec<ConsentStatus>,
    /// Required documents not accepted at their current version.
    pub pending: Vec<DocumentDto>,
}

/// A decision on a document.
#[derive(Debug, Clone, Object)]
pub struct ConsentDecision {
    /// The version shown to the user: must be the current one.
    pub version: String,
    /// `true` to accept, `false` to refuse or withdraw.
    pub granted: bool,
}

/// A legal page.
#[derive(Debug, Clone, Object)]
pub struct LegalPage {
    /// The document.
    pub document: DocumentDto,
    /// Its current version.
    pub version: String,
    /// Whether accepting it is required.
    pub required: bool,
    /// Title.
    pub title: String,
    /// Text (Markdown).
    pub body: String,
}

/// A new role.
#[derive(Debug, Clone, Object)]
pub struct RoleChange {
    /// The role to give.
    pub role: RoleDto,
}

/// A page of users.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UserPage {
    /// The users, by id (sign-up order).
    pub items: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

api_response! {
    /// Answer with a user.
    UserResponse {
        /// The user.
        200 => Ok(Json<UserView>),
        /// Invalid input.
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `forbidden`, or `consent_required` until the required documents are accepted.
        403 => Forbidden,
        /// No such user.
        404 => NotFound,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with one's own user.
    MeResponse {
        /// The user.
        200 => Ok(Json<UserView>),
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required` until the required documents are accepted.
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of a profile change.
    UpdateMeResponse {
        /// The user after the change.
        200 => Ok(Json<UserView>),
        /// Empty or too long display name, unknown locale (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// `consent_required` until the required documents are accepted.
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with consents.
    ConsentsResponse {
        /// The consents.
        200 => Ok(Json<Consents>),
        /// Not signed in.
        401 => Unauthorized,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of a consent decision.
    DecideConsentResponse {
        /// The consents after the decision.
        200 => Ok(Json<Consents>),
        /// Unknown document or not its current version (`invalid_input`).
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer with a legal page.
    LegalResponse {
        /// The page.
        200 => Ok(Json<LegalPage>),
        /// Unknown document.
        400 => BadRequest,
    }
}

api_response! {
    /// Answer with a page of users.
    UserPageResponse {
        /// The users.
        200 => Ok(Json<UserPage>),
        /// Bad cursor or limit.
        400 => BadRequest,
        /// Not signed in.
        401 => Unauthorized,
        /// Not staff (`forbidden`), or `consent_required`.
        403 => Forbidden,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// Profile, consent, legal and user operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct UsersApi;

#[OpenApi]
impl UsersApi {
    /// The signed-in user.
    #[oai(path = "/me", method = "get", tag = "ApiTags::Me")]
    async fn me(&self, state: Data<&AppState>, auth: BearerAuth) -> MeResponse {
        respond(consented(&state, &auth), |c| {
            MeResponse::Ok(Json(UserView::from(&c.user)))
        })
        .await
    }

    /// Changes the signed-in user's display name, zone or language.
    #[oai(path = "/me", method = "patch", tag = "ApiTags::Me")]
    async fn update_me(&self, state: Data<&AppState>, auth: BearerAuth, body: Json<ProfilePatch>) -> UpdateMeResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let patch = body.0;
                let update = ProfileUpdate {
                    display_name: patch.display_name,
                    zone: patch.zone.as_deref().map(|z| Zone::parse_or_default(Some(z))),
                    locale: patch.locale.map(Into::into),
                };
                Ok(state.users.update_profile(&caller.actor, update).await?)
            },
            |u| UpdateMeResponse::Ok(Json(UserView::from(&u))),
        )
        .await
    }

    /// The signed-in user's consent decisions and what still blocks them.
    /// Answers before consent is given.
    #[oai(path = "/me/consents", method = "get", tag = "ApiTags::Consent")]
    async fn consents(&self, state: Data<&AppState>, auth: BearerAuth) -> ConsentsResponse {
        respond(
            async {
                let caller = signed_in(&state, &auth).await?;
                Ok(consent_statuses(&state.users.consents(&caller.actor).await?))
            },
            |c| ConsentsResponse::Ok(Json(c)),
        )
        .await
    }

    /// Accepts, refuses or withdraws one document at its current version.
    /// The latest decision replaces the previous one; withdrawing a required
    /// document blocks the user again. Answers before consent is given.
    #[oai(path = "/me/consents/:document", method = "put", tag = "ApiTags::Consent")]
    async fn decide(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        document: Path<DocumentDto>,
        body: Json<ConsentDecision>,
    ) -> DecideConsentResponse {
        respond(
            async {
                let caller = signed_in(&state, &auth).await?;
                let decisions = state
                    .users
                    .decide_consent(&caller.actor, document.0.into(), &body.version, body.granted)
                    .await?;
                Ok(consent_statuses(&decisions))
            },
            |c| DecideConsentResponse::Ok(Json(c)),
        )
        .await
    }

    /// A legal page (terms, privacy, cross-border transfer, marketing), readable by anyone.
    #[oai(path = "/legal/:document", method = "get", tag = "ApiTags::Consent")]
    async fn legal(&self, document: Path<DocumentDto>) -> LegalResponse {
        let doc: ConsentDocument = document.0.into();
        let (title, body) = legal_text(doc);
        LegalResponse::Ok(Json(LegalPage {
            document: document.0,
            version: doc.current_version().to_owned(),
            required: doc.is_required(),
            title: title.to_owned(),
            body: body.to_owned(),
        }))
    }

    /// Staff: users by sign-up order, `limit` (1–200, default 50) per page.
    #[oai(path = "/users", method = "get", tag = "ApiTags::Users")]
    async fn users(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u32>>,
    ) -> UserPageResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let limit = limit.0.unwrap_or(50);
                let after = cursor
                    .0
                    .as_deref()
                    .map(|c| Uuid::parse_str(c).map(UserId::from_uuid))
                    .transpose()
                    .map_err(|_| Problem::invalid("cursor is not one this API gave out"))?;
                let (users, more) = state.users.users(&caller.actor, after, limit as usize).await?;
                Ok(UserPage {
                    next_cursor: more.then(|| users.last().map(|u| u.id.to_string())).flatten(),
                    items: users.iter().map(UserView::from).collect(),
                })
            },
            |p| UserPageResponse::Ok(Json(p)),
        )
        .await
    }

    /// Staff: gives a user another role (e.g. promotes a student to teacher).
    #[oai(path = "/users/:id/role", method = "put", tag = "ApiTags::Users")]
    async fn set_role(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<RoleChange>,
    ) -> UserResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .users
                    .set_role(&caller.actor, UserId::from_uuid(id.0), body.role.into())
                    .await?)
            },
            |u| UserResponse::Ok(Json(UserView::from(&u))),
        )
        .await
    }
}

/// Every document with the user's decision on it and whether it still blocks them.
fn consent_statuses(decisions: &[Consent]) -> Consents {
    let documents = ConsentDocument::ALL
        .into_iter()
        .map(|doc| {
            let decision = decisions.iter().find(|c| c.document == doc);
            ConsentStatus {
                document: doc.into(),
                required: doc.is_required(),
                current_version: doc.current_version().to_owned(),
                granted: decision.map(|c| c.granted),
                decided_version: decision.map(|c| c.version.clone()),
                decided_at: decision.map(|c| c.decided_at),
            }
        })
        .collect();
    Consents {
        documents,
        pending: tutorbook_domain::missing_consents(decisions)
            .into_iter()
            .map(DocumentDto::from)
            .collect(),
    }
}

/// The documents' titles and texts. Placeholders a school replaces with its
/// own; the version in [`ConsentDocument::current_version`] names the text.
fn legal_text(doc: ConsentDocument) -> (&'static str, &'static str) {
    match doc {
        ConsentDocument::Terms => (
            "Terms of service",
            "By using tutorbook you agree to book and attend lessons in good faith. \
             Cancellations follow each teacher's cancellation window.",
        ),
        ConsentDocument::Privacy => (
            "Privacy policy",
            "We keep your name, email, time zone and language to run your bookings, \
             and share them only with the teachers and students of your lessons.",
        ),
        ConsentDocument::CrossBorder => (
            "Transfer of personal data abroad",
            "Your data may be processed by service providers outside your country \
             (hosting, email, calendar) to deliver the service.",
        ),
        ConsentDocument::Marketing => (
            "Marketing messages",
            "Optional: news about courses and promotions by email. You can withdraw at any time.",
        ),
    }
}
