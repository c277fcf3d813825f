//! Tokens minted by a trusted host service that embeds tutorbook behind its
//! own sign-in: HS256 with a shared secret, or RS256 checked with the host's
//! public key, naming the host's subject and the role the host grants. The host is the authority on roles, so the stored
//! role follows the token.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;
use tutorbook_domain::Role;

use crate::config::{HostConfig, HostKey};
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

/// The longest host subject kept (it becomes part of the user's subject).
const MAX_SUBJECT_BYTES: usize = 255;

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
    /// A checker for `config`'s key (and issuer, when set); fails when the
    /// public key does not parse.
    pub fn new(config: &HostConfig) -> Result<Self, jsonwebtoken::errors::Error> {
        let (decoding, algorithm) = match &config.key {
            HostKey::Secret(secret) => (DecodingKey::from_secret(secret.expose()), Algorithm::HS256),
            HostKey::RsaPublicPem(pem) => (DecodingKey::from_rsa_pem(pem.as_bytes())?, Algorithm::RS256),
        };
        let mut validation = Validation::new(algorithm);
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.leeway = 30;
        let mut required = vec!["exp", "sub"];
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Ok(Self { decoding, validation })
    }

    /// The claims of a valid host token; `None` when the token is not signed
    /// with the host's key.
    pub fn verify(&self, token: &str) -> Option<Result<HostClaims, Problem>> {
        match decode::<HostClaims>(token, &self.decoding, &self.validation) {
            Ok(data) if data.claims.sub.trim().is_empty() || data.claims.sub.len() > MAX_SUBJECT_BYTES => {
                Some(Err(Problem::unauthorized(format!(
                    "the host token's subject must be 1 to {MAX_SUBJECT_BYTES} bytes"
                ))))
            }
            Ok(data) => Some(Ok(data.claims)),
            Err(e) => match e.kind() {
                ErrorKind::InvalidSignature | ErrorKind::InvalidToken | ErrorKind::InvalidAlgorithm => None,
                ErrorKind::ExpiredSignature => Some(Err(Problem::unauthorized("the host token has expired"))),
                ErrorKind::ImmatureSignature => Some(Err(Problem::unauthorized("the host token is not valid yet"))),
                _ => {
                    // The parser's words stay in the log: they help an
                    // operator, and tell a prober how the check works.
                    tracing::info!(error = %e, "host token refused");
                    Some(Err(Problem::unauthorized("the host token is not acceptable")))
                }
            },
        }
    }
}
