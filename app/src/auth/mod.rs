//! Who is calling. The service issues its own bearer tokens ([`tokens`])
//! after a Google sign-in ([`google`]) or, in development only, an
//! auto-login; a host service may instead send tokens it mints itself
//! ([`host`]). Every request then resolves to a [`Caller`]: the stored user
//! and the [`Actor`] the use cases act for. The consent gate
//! ([`Identity::consented`]) is applied on top by the operations it
//! guards. Handlers reach all of it through [`Identity`], which binds the
//! machinery to the user store and the clock, and never touch a store.

pub mod google;
pub mod host;
pub mod tokens;

use std::sync::Arc;
use time::OffsetDateTime;
use tutorbook_domain::{Actor, Consent, ConsentDocument, Locale, Role, UserId, Zone, missing_consents};

use tutorbook_ports::{Clock, User, UserStore};
use uuid::Uuid;

use crate::config::AuthConfig;
use crate::http::problem::Problem;
use google::{GoogleIdentity, GoogleVerifier};
use host::{HostClaims, HostTokens};
use tokens::{Issued, Tokens};

/// The authenticated user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The stored user.
    pub user: User,
    /// Who the use cases act for.
    pub actor: Actor,
    /// Their consent decisions, read with the user.
    consents: Vec<Consent>,
}

impl Caller {
    fn of((user, consents): (User, Vec<Consent>)) -> Self {
        Self {
            actor: Actor {
                user: user.id,
                role: user.role,
            },
            user,
            consents,
        }
    }

    /// `consent_required` (403) unless the user accepted every required
    /// document at its current version.
    fn require_consent(self) -> Result<Self, Problem> {
        let missing = missing_consents(&self.consents);
        if missing.is_empty() {
            return Ok(self);
        }
        let names: Vec<&str> = missing.iter().map(|d| d.as_str()).collect();
        Err(Problem::consent_required(format!(
            "accept the current {} first (PUT /api/v1/me/consents/{{document}})",
            names.join(", ")
        )))
    }
}

/// Why the identity machinery could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// The HTTP client for Google's keys.
    #[error("cannot build the HTTP client for Google's keys")]
    Http(#[from] reqwest::Error),
    /// The host's public key.
    #[error("the host's public key is not a PEM RSA public key")]
    HostKey(#[from] jsonwebtoken::errors::Error),
}

/// The identity machinery of the service.
#[derive(Debug)]
pub struct Auth {
    tokens: Tokens,
    google: Option<GoogleVerifier>,
    host: Option<HostTokens>,
    dev_login: bool,
}

impl Auth {
    /// Builds the verifiers `config` asks for.
    pub fn new(config: &AuthConfig) -> Result<Self, AuthSetupError> {
        let google = match &config.google {
            Some(google) => {
                // reqwest runs rustls without a built-in provider (see
                // DEPENDENCIES.md): install ring once; a second install is a no-op error.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let http = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(10))
                    .build()?;
                Some(GoogleVerifier::new(google.clone(), http))
            }
            None => None,
        };
        Ok(Self {
            tokens: Tokens::new(&config.jwt_secret, config.token_ttl),
            google,
            host: config.host.as_ref().map(HostTokens::new).transpose()?,
            dev_login: config.dev_login,
        })
    }

    /// The caller a bearer token stands for: one of our tokens, or a host
    /// token (whose user is created on first sight and whose role follows
    /// the token).
    pub async fn authenticate(
        &self,
        users: &impl UserStore,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<Caller, Problem> {
        if let Some(verified) = self.tokens.verify(token) {
            let id = verified?;
            let caller = users
                .user_with_consents(id)
                .await?
                .ok_or_else(|| Problem::unauthorized("the token's user no longer exists"))?;
            return Ok(Caller::of(caller));
        }
        if let Some(host) = &self.host
            && let Some(claims) = host.verify(token)
        {
            return self.host_user(users, claims?, now).await.map(Caller::of);
        }
        Err(Problem::unauthorized("the bearer token is not valid"))
    }

    /// Signs in with a Google ID token: the user is created as a student on
    /// first sign-in. Returns the user and our token.
    pub async fn sign_in_google(
        &self,
        users: &impl UserStore,
        id_token: &str,
        now: OffsetDateTime,
    ) -> Result<(User, Issued), Problem> {
        let google = self
            .google
            .as_ref()
            .ok_or_else(|| Problem::sign_in_disabled("Google sign-in is not configured"))?;
        let identity: GoogleIdentity = google.verify(id_token).await?;
        let email = identity.email.filter(|_| identity.email_verified == Some(true));
        let display_name = identity
            .name
            .clone()
            .or_else(|| email.as_ref().and_then(|e| e.split('@').next().map(str::to_owned)))
            .unwrap_or_else(|| "Google user".into());
        let user = users
            .create_user(new_user(
                format!("google:{}", identity.sub),
                Role::Student,
                display_name,
                email,
                identity.locale.as_deref(),
                None,
                now,
            ))
            .await?;
        let issued = self.tokens.issue(user.id, now)?;
        Ok((user, issued))
    }

    /// Development auto-login as the demo teacher or student.
    pub async fn sign_in_dev(
        &self,
        users: &impl UserStore,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<(User, Issued), Problem> {
        if !self.dev_login {
            return Err(Problem::sign_in_disabled(
                "development auto-login is off (TUTORBOOK_DEV_LOGIN)",
            ));
        }
        let user = users.create_user(dev_user(role, now)).await?;
        let issued = self.tokens.issue(user.id, now)?;
        Ok((user, issued))
    }

    async fn host_user(
        &self,
        users: &impl UserStore,
        claims: HostClaims,
        now: OffsetDateTime,
    ) -> Result<(User, Vec<Consent>), Problem> {
        let subject = format!("host:{}", claims.sub);
        let (user, consents) = match users.user_by_subject_with_consents(&subject).await? {
            Some(found) => found,
            None => {
                let name = claims.name.clone().unwrap_or_else(|| claims.sub.clone());
                let user = users
                    .create_user(new_user(
                        subject,
                        claims.role,
                        name,
                        claims.email.clone(),
                        claims.locale.as_deref(),
                        claims.zone.as_deref(),
                        now,
                    ))
                    .await?;
                // A racing first request may have created it, and consented.
                let consents = users.consents(user.id).await?;
                (user, consents)
            }
        };
        if user.role != claims.role {
            return Ok((users.set_role(user.id, claims.role).await?, consents));
        }
        Ok((user, consents))
    }
}

/// The user the development auto-login signs in as for `role`
/// (subject `dev:{role}`), also used by the demo data.
pub fn dev_user(role: Role, now: OffsetDateTime) -> User {
    let name = match role {
        Role::Teacher => "Demo Teacher",
        Role::Student => "Demo Student",
        Role::Staff => "Demo Staff",
    };
    new_user(
        format!("dev:{}", role.as_str()),
        role,
        name.into(),
        Some(format!("{}@demo.invalid", role.as_str())),
        Some("en"),
        None,
        now,
    )
}

/// A new user: zone falls back to Asia/Seoul, locale to `ko`.
pub fn new_user(
    subject: String,
    role: Role,
    display_name: String,
    email: Option<String>,
    locale: Option<&str>,
    zone: Option<&str>,
    now: OffsetDateTime,
) -> User {
    User {
        id: UserId::from_uuid(Uuid::now_v7()),
        subject,
        role,
        display_name: sign_up_name(&display_name),
        email: email.filter(|e| e.len() <= MAX_EMAIL_BYTES),
        zone: Zone::parse_or_default(zone),
        locale: locale.map(Locale::parse_or_default).unwrap_or_default(),
        created_at: now,
    }
}

/// The longest email address kept from an identity provider (RFC 5321's
/// limit); a longer one is not an address mail can go to.
const MAX_EMAIL_BYTES: usize = 254;

/// A name an identity provider gave, made fit to show: characters that hide
/// or reorder text taken out (the person cannot be asked to retype it), at
/// most [`tutorbook_ports::MAX_DISPLAY_NAME`] characters, and a stand-in
/// when nothing readable is left.
fn sign_up_name(given: &str) -> String {
    let cleaned: String = tutorbook_domain::clean_line(given)
        .chars()
        .take(tutorbook_ports::MAX_DISPLAY_NAME)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "New user".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// The identity machinery bound to the user store `U` and the clock: who a
/// token stands for, the consent gate, and signing in.
#[derive(Debug, Clone)]
pub struct Identity<U> {
    auth: Arc<Auth>,
    users: U,
    clock: Arc<dyn Clock>,
}

/// A sign-in's answer: the user, our token, and the documents they still
/// have to accept.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Who signed in.
    pub user: User,
    /// Our bearer token.
    pub issued: Issued,
    /// Required documents not accepted yet, in their order.
    pub pending_consents: Vec<ConsentDocument>,
}

impl<U: UserStore> Identity<U> {
    /// Binds `auth` to `users` and `clock`.
    pub fn new(auth: Auth, users: U, clock: Arc<dyn Clock>) -> Self {
        Self {
            auth: Arc::new(auth),
            users,
            clock,
        }
    }

    /// The caller a bearer token stands for, without the consent gate (for
    /// the consent operations themselves).
    pub async fn authenticate(&self, token: &str) -> Result<Caller, Problem> {
        self.auth.authenticate(&self.users, token, self.clock.now()).await
    }

    /// The caller of `token`, who must have accepted the required documents
    /// (`consent_required` otherwise).
    pub async fn consented(&self, token: &str) -> Result<Caller, Problem> {
        self.authenticate(token).await?.require_consent()
    }

    /// Signs in with a Google ID token (see [`Auth::sign_in_google`]).
    pub async fn sign_in_google(&self, id_token: &str) -> Result<SignedIn, Problem> {
        let (user, issued) = self
            .auth
            .sign_in_google(&self.users, id_token, self.clock.now())
            .await?;
        self.signed_in(user, issued).await
    }

    /// Development auto-login (see [`Auth::sign_in_dev`]).
    pub async fn sign_in_dev(&self, role: Role) -> Result<SignedIn, Problem> {
        let (user, issued) = self.auth.sign_in_dev(&self.users, role, self.clock.now()).await?;
        self.signed_in(user, issued).await
    }

    async fn signed_in(&self, user: User, issued: Issued) -> Result<SignedIn, Problem> {
        let pending_consents = missing_consents(&self.users.consents(user.id).await?);
        Ok(SignedIn {
            user,
            issued,
            pending_consents,
        })
    }
}
