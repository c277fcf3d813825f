//! The service's own bearer tokens: HS256 JWTs naming the user, issued after
//! sign-in. The role is not in the token: it is read from the store on every
//! request, so a role change applies at once.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tutorbook_domain::UserId;
use uuid::Uuid;

use crate::config::Secret;
use crate::http::problem::Problem;

/// `iss` of every token the service issues.
pub const ISSUER: &str = "tutorbook";
/// `aud` of every token the service issues: only this API accepts them.
pub const AUDIENCE: &str = "tutorbook-api";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// Issues and checks the service's tokens.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The bearer token.
    pub token: String,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
}

impl Tokens {
    /// Keys tokens with `secret`; they live for `ttl`.
    pub fn new(secret: &Secret, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Self {
            encoding: EncodingKey::from_secret(secret.expose()),
            decoding: DecodingKey::from_secret(secret.expose()),
            validation,
            ttl,
        }
    }

    /// A token for `user`, valid from `now` for the configured lifetime.
    pub fn issue(&self, user: UserId, now: OffsetDateTime) -> Result<Issued, Problem> {
        let expires_at = now + self.ttl;
        let claims = Claims {
            sub: user.as_uuid(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "cannot sign a token");
            Problem::internal("cannot issue a token")
        })?;
        Ok(Issued { token, expires_at })
    }

    /// The user a token names. `None` when it is not one of ours at all (so
    /// another verifier may try); `Some(Err)` when it is ours but expired.
    pub fn verify(&self, token: &str) -> Option<Result<UserId, Problem>> {
        match decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Some(Ok(UserId::from_uuid(data.claims.sub))),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => {
                Some(Err(Problem::unauthorized("the token has expired; sign in again")))
            }
            Err(_) => None,
        }
    }
}
