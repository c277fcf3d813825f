//! Shared application state handed to the HTTP layer: the use cases wired to
//! their adapters.

use std::sync::Arc;

use time::OffsetDateTime;
use tutorbook_domain::PlatformSettings;
use tutorbook_ports::{
    Bookings, Claim, Clock, Feedback, IdempotencyRecord, IdempotencyStore, Packages, PaymentSettings, Result,
    Schedules, StoredResponse, Users, UuidV7,
};
use tutorbook_sql::SqlStore;

use crate::auth::{Auth, Identity};
use crate::config::{DEFAULT_REQUEST_TIME_LIMIT, Database, RequestLimits};
use crate::http::metrics::Metrics;
use crate::http::rate::RateLimits;
use crate::http::serialized::BrowseBodies;

/// The store the service runs on: SQLite by default, Postgres with `DATABASE_URL`.
pub type Store = SqlStore;

/// The clock the service reads time from: the system clock in the service,
/// a manual one in tests. Nothing in `app` reads the wall clock directly.
pub type SharedClock = Arc<dyn Clock>;

/// The use cases, wired to [`Store`], the clock and UUID v7 ids.
///
/// Attached to every request as poem data, so handlers take
/// `poem::web::Data<&AppState>`. Cheap to clone: the store's pool is shared.
///
/// Handlers and middleware reach the store only through the use cases and
/// the few methods below (`scripts/lint` checks that nothing under `http/`
/// names `store`); the field is public for wiring the effect loops, seeding
/// and tests.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store, for wiring (effect loops, demo data) and tests.
    pub store: Store,
    /// Slots, bookings, credits, history.
    pub bookings: Bookings<Store, SharedClock, UuidV7>,
    /// Weekly rules, date exceptions, bookable times and booking them.
    pub schedules: Schedules<Store, SharedClock, UuidV7>,
    /// Reviews, ratings, lesson reports, progress.
    pub feedback: Feedback<Store, SharedClock, UuidV7>,
    /// Course packages, enrollments, payments, refunds, pricing, promotions.
    pub packages: Packages<Store, SharedClock, UuidV7>,
    /// Profiles, consent, users and roles.
    pub users: Users<Store, SharedClock>,
    /// The clock the use cases share.
    pub clock: SharedClock,
    /// Tokens, sign-in, the consent gate and the caller of each request.
    pub identity: Identity<Store>,
    /// Request counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Sign-in and anonymous-read limits per client address.
    pub rate_limits: Arc<RateLimits>,
    /// The longest a request may run.
    pub request_time_limit: std::time::Duration,
    /// Anonymous browse answers, serialized, of the pages `bookings` keeps.
    pub browse_bodies: Arc<BrowseBodies>,
}

impl AppState {
    /// Wires the use cases to `store` and `clock` with the platform
    /// `settings` and `auth`.
    pub fn new(store: Store, settings: PlatformSettings, auth: Auth, clock: SharedClock) -> Self {
        Self {
            bookings: Bookings::new(store.clone(), clock.clone(), UuidV7, settings),
            schedules: Schedules::new(store.clone(), clock.clone(), UuidV7, settings),
            feedback: Feedback::new(store.clone(), clock.clone(), UuidV7),
            // No live payment provider is wired yet: payments run in stub mode.
            packages: Packages::new(
                store.clone(),
                clock.clone(),
                UuidV7,
                settings,
                PaymentSettings::default(),
            ),
            users: Users::new(store.clone(), clock.clone()),
            identity: Identity::new(auth, store.clone(), clock.clone()),
            clock,
            store,
            metrics: Arc::new(Metrics::default()),
            rate_limits: Arc::new(RateLimits::default()),
            request_time_limit: DEFAULT_REQUEST_TIME_LIMIT,
            browse_bodies: Arc::default(),
        }
    }

    /// The same state with the request limits of `limits`.
    pub fn with_limits(self, limits: &RequestLimits) -> Self {
        Self {
            rate_limits: Arc::new(RateLimits::new(
                limits.sign_in_per_minute,
                limits.anonymous_reads_per_minute,
                limits.client_ip_header.clone(),
            )),
            request_time_limit: limits.time_limit,
            ..self
        }
    }

    /// The same state with browse pages kept for `ttl` (zero: none).
    pub fn with_browse_cache(self, ttl: std::time::Duration) -> Self {
        let ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::ZERO);
        Self {
            bookings: self.bookings.with_browse_cache(ttl),
            ..self
        }
    }

    /// Now, by the state's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Whether the store answers, for `/readyz`.
    pub async fn ready(&self) -> Result<()> {
        self.store.ping().await
    }

    /// What the store holds for `user`'s `Idempotency-Key` `key`, if it was
    /// used before.
    pub async fn idempotency_record(
        &self,
        user: tutorbook_domain::UserId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        self.store.record(user, key).await
    }

    /// Keeps the HTTP answer of the command run under `claim`, for replays.
    pub async fn keep_response(&self, claim: &Claim, response: StoredResponse) -> Result<()> {
        self.store.complete(claim, self.now(), response).await
    }

    /// The same state with the command use cases running under `claim`, an
    /// `Idempotency-Key` (see `http::idempotency`).
    pub fn keyed(&self, claim: Claim) -> Self {
        Self {
            bookings: self.bookings.keyed(Some(claim.clone())),
            schedules: self.schedules.keyed(Some(claim.clone())),
            packages: self.packages.keyed(Some(claim)),
            ..self.clone()
        }
    }

    /// The store the after-commit effects (the outbox worker, the reminder
    /// scheduler) run on. On Postgres: the same database through a pool of
    /// their own of `pool_size` connections, so that requests waiting for
    /// theirs cannot hold deliveries back and a backlog cannot take the
    /// requests' connections, and whose commits do not wait for the disk
    /// (`tutorbook_sql::pg_pool_for_effects` says why that is safe). On
    /// SQLite: this store (its one writer serialises every write anyway).
    /// Connects lazily, like the requests' pool.
    pub fn effects_store(&self, database: &Database, pool_size: usize) -> Result<Store> {
        Ok(match database {
            Database::Postgres { url } => SqlStore::from_pg_pool(tutorbook_sql::pg_pool_for_effects(url, pool_size)?),
            Database::Sqlite { .. } => self.store.clone(),
        })
    }

    /// Opens the configured database (creating the SQLite file and its
    /// directory if needed), runs the migrations and wires the use cases.
    pub async fn open(
        database: &Database,
        pool_size: usize,
        auth: Auth,
        clock: SharedClock,
    ) -> Result<Self, tutorbook_ports::Error> {
        let store = match database {
            Database::Postgres { url } => SqlStore::postgres(url, pool_size).await?,
            Database::Sqlite { path } => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        tutorbook_ports::Error::Storage(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let path = path
                    .to_str()
                    .ok_or_else(|| tutorbook_ports::Error::Storage("the SQLite path must be UTF-8".into()))?;
                SqlStore::sqlite(path, pool_size).await?
            }
        };
        Ok(Self::new(store, PlatformSettings::default(), auth, clock))
    }
}
