//! Google sign-in: an OpenID Connect ID token checked against Google's
//! published keys (JWKS): signature (RS256, key by `kid`), issuer, audience
//! (our client id) and expiry. The keys are cached for an hour and fetched
//! again when a token names an unknown `kid` (Google rotates keys), at most
//! once a minute so bad tokens cannot make us hammer the key endpoint.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::config::GoogleConfig;
use crate::http::problem::Problem;

/// How long fetched keys are trusted without asking again.
const KEYS_FRESH_FOR: Duration = Duration::from_secs(3600);
/// Least time between two fetches triggered by unknown key ids.
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);

/// Who Google says signed in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GoogleIdentity {
    /// Google's stable user id.
    pub sub: String,
    /// Email address, when the `email` scope was granted.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether Google verified that address.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// Full name (`profile` scope).
    #[serde(default)]
    pub name: Option<String>,
    /// Locale tag (`profile` scope).
    #[serde(default)]
    pub locale: Option<String>,
}

struct CachedKeys {
    set: JwkSet,
    fetched: Instant,
}

/// Verifies Google ID tokens.
pub struct GoogleVerifier {
    config: GoogleConfig,
    http: reqwest::Client,
    keys: Mutex<Option<CachedKeys>>,
}

impl std::fmt::Debug for GoogleVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleVerifier")
            .field("client_id", &self.config.client_id)
            .field("jwks_url", &self.config.jwks_url)
            .finish_non_exhaustive()
    }
}

impl GoogleVerifier {
    /// A verifier for `config`; nothing is fetched until the first sign-in.
    pub fn new(config: GoogleConfig, http: reqwest::Client) -> Self {
        Self {
            config,
            http,
            keys: Mutex::new(None),
        }
    }

    /// The identity in a valid ID token; `unauthorized` for a bad one,
    /// `identity_provider_unavailable` when the keys cannot be fetched.
    pub async fn verify(&self, id_token: &str) -> Result<GoogleIdentity, Problem> {
        let header = decode_header(id_token).map_err(|_| Problem::unauthorized("the ID token is not a JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(Problem::unauthorized("the ID token is not signed with RS256"));
        }
        let kid = header
            .kid
            .ok_or_else(|| Problem::unauthorized("the ID token names no signing key"))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_issuer(&self.config.issuers);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        let data = decode::<GoogleIdentity>(id_token, &key, &validation).map_err(|e| {
            // The parser's words stay in the log, not in the answer.
            tracing::info!(error = %e, "Google ID token refused");
            if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) {
                Problem::unauthorized("the ID token has expired")
            } else {
                Problem::unauthorized("the ID token was refused")
            }
        })?;
        Ok(data.claims)
    }

    /// The key with id `kid`, from the cache or a fresh fetch.
    async fn key(&self, kid: &str) -> Result<DecodingKey, Problem> {
        // Held across the fetch: concurrent sign-ins wait for one fetch.
        let mut cache = self.keys.lock().await;
        let fresh = cache.as_ref().is_some_and(|c| c.fetched.elapsed() < KEYS_FRESH_FOR);
        let known = cache.as_ref().and_then(|c| c.set.find(kid)).is_some();
        let may_refetch = cache
            .as_ref()
            .is_none_or(|c| c.fetched.elapsed() >= REFETCH_AT_MOST_EVERY);
        if !fresh || (!known && may_refetch) {
            *cache = Some(CachedKeys {
                set: self.fetch().await?,
                fetched: Instant::now(),
            });
        }
        let jwk = cache
            .as_ref()
            .and_then(|c| c.set.find(kid))
            .ok_or_else(|| Problem::unauthorized("the ID token is signed with an unknown key"))?;
        DecodingKey::from_jwk(jwk).map_err(|e| {
            tracing::warn!(error = %e, "Google signing key unusable");
            Problem::unauthorized("the ID token's signing key is unusable")
        })
    }

    async fn fetch(&self) -> Result<JwkSet, Problem> {
        let unavailable = |e: reqwest::Error| {
            tracing::warn!(error = %e, url = %self.config.jwks_url, "cannot fetch Google's signing keys");
            Problem::identity_provider_unavailable("Google's signing keys cannot be fetched right now; retry later")
        };
        self.http
            .get(&self.config.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .json::<JwkSet>()
            .await
            .map_err(unavailable)
    }
}
