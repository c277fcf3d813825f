//! Refusals over HTTP: RFC 9457 problem documents (`application/problem+json`)
//! carrying the stable machine code of the refusal, and the one table that
//! maps a code to its HTTP status.
//!
//! Every operation answers with its own response enum (declared with
//! [`api_response!`]) that lists only the statuses it can really produce;
//! a [`Problem`] converts into any of them.

use poem::http::StatusCode;
use poem_openapi::Object;
use tutorbook_domain::RefusalKind;
use tutorbook_ports::ErrorKind;

/// Content type of every refusal.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A refusal, shaped after RFC 9457 problem details.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:tutorbook:problem:{code}`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem (the same for every occurrence of a code).
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// Stable machine code (`slot_full`, `consent_required`, ...): switch on this.
    pub code: String,
    /// What went wrong this time, in words a person can act on.
    pub detail: String,
}

impl Problem {
    /// A problem with `code` and `detail`, its status given by the caller:
    /// refusals of the rules take theirs from [`status_of`] (through `From`),
    /// the service's own problems from the constructors below.
    pub fn with_status(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:tutorbook:problem:{code}"),
            title: title_of(code),
            status: status.as_u16(),
            code: code.to_owned(),
            detail: detail.into(),
        }
    }

    /// `401 unauthorized`: no or bad credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// `403 forbidden`.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// `403 consent_required`: a required document is not accepted yet.
    pub fn consent_required(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::FORBIDDEN, "consent_required", detail)
    }

    /// `404 not_found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// `404 sign_in_disabled`: that way of signing in is switched off.
    pub fn sign_in_disabled(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::NOT_FOUND, "sign_in_disabled", detail)
    }

    /// `413 payload_too_large`.
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", detail)
    }

    /// `429 rate_limited`: too many requests from one client address.
    pub fn rate_limited(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::TOO_MANY_REQUESTS, "rate_limited", detail)
    }

    /// `503 timed_out`: the request took longer than the service allows;
    /// whatever it was doing was abandoned (a command's transaction is
    /// rolled back), so a retry is safe.
    pub fn timed_out(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::SERVICE_UNAVAILABLE, "timed_out", detail)
    }

    /// `503 identity_provider_unavailable`: Google's keys cannot be fetched.
    pub fn identity_provider_unavailable(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::SERVICE_UNAVAILABLE, "identity_provider_unavailable", detail)
    }

    /// `500 internal`: a bug; the log has the details.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }

    /// `400 invalid_input`.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::BAD_REQUEST, "invalid_input", detail)
    }

    /// The status as an HTTP status code.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The problem document as JSON bytes (for middleware that answers
    /// outside an operation).
    pub fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "type": self.kind,
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }))
        .unwrap_or_default()
    }

    /// A complete poem response carrying this problem.
    pub fn into_poem_response(self) -> poem::Response {
        poem::Response::builder()
            .status(self.status_code())
            .content_type(PROBLEM_JSON)
            .body(self.to_body())
    }
}

impl From<tutorbook_ports::Error> for Problem {
    fn from(err: tutorbook_ports::Error) -> Self {
        let status = status_of(err.kind());
        match err.kind() {
            // The store's message may name hosts or tables: log it, answer generically.
            ErrorKind::Unavailable => {
                tracing::error!(error = %err, "storage failure");
                Self::with_status(status, err.code(), "the database is unavailable; retry later")
            }
            ErrorKind::Refused(_) => Self::with_status(status, err.code(), err.to_string()),
        }
    }
}

impl From<tutorbook_domain::DomainError> for Problem {
    fn from(err: tutorbook_domain::DomainError) -> Self {
        Self::from(tutorbook_ports::Error::from(err))
    }
}

/// The one shape of an operation: run its `body` (parse, call one use case)
/// and answer with `ok` of the value, or with the refusal the body returned,
/// as the operation's declared status (see [`api_response!`]).
pub async fn respond<T, R: From<Problem>>(
    body: impl Future<Output = Result<T, Problem>>,
    ok: impl FnOnce(T) -> R,
) -> R {
    body.await.map_or_else(R::from, ok)
}

/// The HTTP status of a failure, by its kind: the input 400, who is asking
/// 403, a missing thing 404, the current state of things (full, too late,
/// already done) 409, storage trouble 503. The match has no catch-all arm,
/// and neither have the kinds' own (`DomainError::kind`, `Error::kind`): a
/// new refusal cannot reach a client before someone chose its status.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Refused(RefusalKind::Invalid) => StatusCode::BAD_REQUEST,
        ErrorKind::Refused(RefusalKind::Forbidden) => StatusCode::FORBIDDEN,
        ErrorKind::Refused(RefusalKind::NotFound) => StatusCode::NOT_FOUND,
        ErrorKind::Refused(RefusalKind::Conflict) => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// `slot_full` → `Slot full`.
fn title_of(code: &str) -> String {
    let words = code.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Declares one operation's response enum: the success variant (with or
/// without a body, e.g. `204 => Deleted`), then each
/// refusal status it can produce (`status => Variant: "description"`), all as
/// problem documents, plus `500 Internal`. `From<Problem>` picks the variant
/// by status; a status the operation did not declare can only come from a
/// bug, so it is logged and answered as `500 internal`.
macro_rules! api_response {
    (
        $(#[$meta:meta])*
        $name:ident {
            $(#[$ok_meta:meta])*
            $ok_status:literal => $ok:ident $(($ok_ty:ty))?
            $(, $(#[$err_meta:meta])* $status:literal => $variant:ident)* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, poem_openapi::ApiResponse)]
        pub enum $name {
            $(#[$ok_meta])*
            #[oai(status = $ok_status)]
            $ok $(($ok_ty))?,
            $(
                $(#[$err_meta])*
                #[oai(status = $status, content_type = "application/problem+json")]
                $variant(poem_openapi::payload::Json<$crate::http::problem::Problem>),
            )*
            /// An unexpected failure; the log has the details.
            #[oai(status = 500, content_type = "application/problem+json")]
            Internal(poem_openapi::payload::Json<$crate::http::problem::Problem>),
        }

        impl From<$crate::http::problem::Problem> for $name {
            fn from(problem: $crate::http::problem::Problem) -> Self {
                match problem.status {
                    $($status => Self::$variant(poem_openapi::payload::Json(problem)),)*
                    _ => {
                        tracing::error!(code = %problem.code, status = problem.status, "undeclared status for this operation");
                        Self::Internal(poem_openapi::payload::Json($crate::http::problem::Problem::with_status(
                            poem::http::StatusCode::INTERNAL_SERVER_ERROR,
                            "internal",
                            problem.detail,
                        )))
                    }
                }
            }
        }
    };
}

pub(crate) use api_response;

#[cfg(test)]
mod tests {
    use super::*;
    use tutorbook_domain::DomainError;

    #[test]
    fn codes_map_to_statuses() {
        let cases = [
            (DomainError::invalid("x", "y"), 400),
            (DomainError::InvalidRating, 400),
            (DomainError::Forbidden, 403),
            (DomainError::NotFound { entity: "slot" }, 404),
            (DomainError::SlotFull, 409),
            (DomainError::CancellationWindowClosed { hours: 24 }, 409),
            (DomainError::AlreadyReviewed, 409),
        ];
        for (err, status) in cases {
            let problem = Problem::from(err.clone());
            assert_eq!(problem.status, status, "{}", err.code());
            assert_eq!(problem.code, err.code());
            assert_eq!(problem.kind, format!("urn:tutorbook:problem:{}", err.code()));
        }
        assert_eq!(Problem::consent_required("x").status, 403);
        assert_eq!(Problem::unauthorized("x").status, 401);
        assert_eq!(Problem::from(tutorbook_ports::Error::KeyReused).status, 409);
    }

    #[test]
    fn storage_failures_are_503_without_the_store_message() {
        let problem = Problem::from(tutorbook_ports::Error::Storage("host db.internal refused".into()));
        assert_eq!((problem.status, problem.code.as_str()), (503, "storage_unavailable"));
        assert!(!problem.detail.contains("db.internal"));
    }

    #[test]
    fn titles_are_derived_from_codes() {
        assert_eq!(Problem::from(DomainError::SlotFull).title, "Slot full");
        assert_eq!(Problem::consent_required("x").title, "Consent required");
    }
}
