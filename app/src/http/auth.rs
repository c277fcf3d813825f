//! Sign-in operations and the bearer-token extractors every other operation
//! uses to find its [`Caller`] (and to apply the consent gate).

use poem::web::Data;
use poem_openapi::auth::Bearer;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, SecurityScheme, Tags};
use time::OffsetDateTime;
use tutorbook_domain::Role;

use crate::auth::{Caller, SignedIn};
use crate::http::problem::{Problem, api_response, respond};
use crate::http::views::{DocumentDto, UserView};
use crate::state::AppState;

#[derive(Debug, Tags)]
enum ApiTags {
    /// Signing in.
    Auth,
}

/// A bearer token issued by `POST /auth/google` (or `/auth/dev`), or minted by
/// a trusted host service.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT")]
pub struct BearerAuth(pub Bearer);

/// Optional sign-in: anonymous callers are allowed, signed-in ones are
/// identified (and consent-gated).
#[derive(Debug, SecurityScheme)]
pub enum MaybeAuth {
    /// Signed in.
    Bearer(BearerAuth),
    /// Anonymous.
    #[oai(fallback)]
    Anonymous,
}

/// The caller of `auth`, without the consent gate (for the consent
/// The bearer token of `headers`, the scheme matched case-insensitively as
/// the operations' extractor does; `None` for no or another `Authorization`.
/// Middleware that must know the caller before the operation reads it here.
pub fn bearer_token(headers: &poem::http::HeaderMap) -> Option<&str> {
    let value = headers.get(poem::http::header::AUTHORIZATION)?.to_str().ok()?;
    let scheme = value.get(..7)?;
    scheme.eq_ignore_ascii_case("bearer ").then(|| value[7..].trim())
}

/// operations themselves).
pub async fn signed_in(state: &AppState, auth: &BearerAuth) -> Result<Caller, Problem> {
    state.identity.authenticate(&auth.0.token).await
}

/// The caller of `auth`, who must have accepted the required documents.
pub async fn consented(state: &AppState, auth: &BearerAuth) -> Result<Caller, Problem> {
    state.identity.consented(&auth.0.token).await
}

/// The caller when signed in (consent-gated), `None` when anonymous.
pub async fn maybe_consented(state: &AppState, auth: &MaybeAuth) -> Result<Option<Caller>, Problem> {
    match auth {
        MaybeAuth::Bearer(bearer) => consented(state, bearer).await.map(Some),
        MaybeAuth::Anonymous => Ok(None),
    }
}

/// A Google sign-in.
#[derive(Debug, Clone, Object)]
pub struct GoogleSignIn {
    /// The OpenID Connect ID token Google gave the front end (scopes `openid profile email`).
    pub id_token: String,
}

/// A signed-in session.
#[derive(Debug, Clone, Object)]
pub struct Session {
    /// The bearer token for `Authorization: Bearer ...`.
    pub token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// When the token stops being accepted.
    pub expires_at: OffsetDateTime,
    /// Who signed in.
    pub user: UserView,
    /// Required documents still to accept (`PUT /me/consents/{document}`);
    /// until this is empty every other operation answers `consent_required`.
    pub pending_consents: Vec<DocumentDto>,
}

api_response! {
    /// Answer of a Google sign-in.
    GoogleSignInResponse {
        /// Signed in.
        200 => Ok(Json<Session>),
        /// The request body is malformed (`invalid_input`).
        400 => BadRequest,
        /// The ID token was refused (`unauthorized`).
        401 => Unauthorized,
        /// Google sign-in is not configured on this server (`sign_in_disabled`).
        404 => Disabled,
        /// The store or Google's key endpoint is unavailable.
        503 => Unavailable,
    }
}

api_response! {
    /// Answer of a development sign-in.
    DevSignInResponse {
        /// Signed in.
        200 => Ok(Json<Session>),
        /// `as` is not `teacher` or `student` (`invalid_input`).
        400 => BadRequest,
        /// The development sign-in is off (`sign_in_disabled`).
        404 => Disabled,
        /// The store is unavailable.
        503 => Unavailable,
    }
}

/// Who a development auto-login signs in as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "lowercase")]
pub enum DevRole {
    /// The demo teacher.
    Teacher,
    /// The demo student.
    Student,
}

/// Sign-in operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthApi;

#[OpenApi]
impl AuthApi {
    /// Signs in with a Google ID token and returns the service's own bearer
    /// token. The first sign-in creates the user as a student.
    #[oai(path = "/auth/google", method = "post", tag = "ApiTags::Auth")]
    async fn google(&self, state: Data<&AppState>, body: Json<GoogleSignIn>) -> GoogleSignInResponse {
        respond(state.identity.sign_in_google(&body.id_token), |s| {
            GoogleSignInResponse::Ok(Json(Session::from(s)))
        })
        .await
    }

    /// Development only: signs in as the demo teacher or student
    /// (`?as=teacher|student`). Enabled by `TUTORBOOK_DEV_LOGIN=true`, never
    /// in production, never beside Google sign-in.
    #[oai(path = "/auth/dev", method = "post", tag = "ApiTags::Auth")]
    async fn dev(&self, state: Data<&AppState>, #[oai(name = "as")] role: Query<DevRole>) -> DevSignInResponse {
        let role = match role.0 {
            DevRole::Teacher => Role::Teacher,
            DevRole::Student => Role::Student,
        };
        respond(state.identity.sign_in_dev(role), |s| {
            DevSignInResponse::Ok(Json(Session::from(s)))
        })
        .await
    }
}

impl From<SignedIn> for Session {
    fn from(signed_in: SignedIn) -> Self {
        Self {
            token: signed_in.issued.token,
            token_type: "Bearer".into(),
            expires_at: signed_in.issued.expires_at,
            user: UserView::from(&signed_in.user),
            pending_consents: signed_in.pending_consents.into_iter().map(DocumentDto::from).collect(),
        }
    }
}
