//! Tokens minted by a trusted host service that embeds tutorbook behind its
//! own sign-in: HS256 with a shared secret, naming the host's subject and the
//! role the host grants. The host is the authority on roles, so the stored
//! role follows the token.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;
use tutorbook_domain::Role;

use crate::config::HostConfig;
use crate::http::problem::Problem;

/// What a host token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HostClaims {
    /// The host's id for the user (stored as subject `host:{sub}`).
    pub sub: String,
    /// The role the host grants.
    pub role: Role,
    /// Display name for a first sign-in.
    #[serde(default)]
    pub name: Option<String>,
    /// Email for a first sign-in.
    #[serde(default)]
    pub email: Option<String>,
    /// Locale tag for a first sign-in.
    #[serde(default)]
    pub locale: Option<String>,
    /// IANA zone for a first sign-in.
    #[serde(default)]
    pub zone: Option<String>,
}

/// Checks host tokens.
pub struct HostTokens {
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for HostTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostTokens").finish_non_exhaustive()
    }
}

impl HostTokens {
    /// A checker for `config`'s secret (and issuer, when set).
    pub fn new(config: &HostConfig) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_aud = false;
        validation.leeway = 30;
        let mut required = vec!["exp", "sub"];
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Self {
            decoding: DecodingKey::from_secret(config.secret.expose()),
            validation,
        }
    }

    /// The claims of a valid host token; `None` when the token is not signed
    /// with the host's secret.
    pub fn verify(&self, token: &str) -> Option<Result<HostClaims, Problem>> {
        match decode::<HostClaims>(token, &self.decoding, &self.validation) {
            Ok(data) if data.claims.sub.trim().is_empty() => {
                Some(Err(Problem::unauthorized("the host token has an empty subject")))
            }
            Ok(data) => Some(Ok(data.claims)),
            Err(e) => match e.kind() {
                ErrorKind::InvalidSignature | ErrorKind::InvalidToken | ErrorKind::InvalidAlgorithm => None,
                ErrorKind::ExpiredSignature => Some(Err(Problem::unauthorized("the host token has expired"))),
                _ => Some(Err(Problem::unauthorized(format!(
                    "the host token is not acceptable: {e}"
                )))),
            },
        }
    }
}
