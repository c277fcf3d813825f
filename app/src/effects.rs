//! The background effect loops: the outbox worker (emails, calendar syncs),
//! the reminder scheduler (planning the reminders fallen due, then sending
//! them), the booking jobs (expiring
//! unanswered requests, completing unmarked lessons) and an hourly purge of
//! old `Idempotency-Key`s and long-delivered outbox messages, with their
//! configuration and a graceful stop. Several instances of the service may run them at
//! once against one Postgres database: claims are leased (`SKIP LOCKED`).
//!
//! | variable | default | meaning |
//! |----------|---------|---------|
//! | `GOOGLE_CALENDAR_ENABLED` | `false` | `true` turns the Google Calendar/Meet sync on (needs the next two) |
//! | `GOOGLE_SERVICE_ACCOUNT_KEY_FILE` | (unset) | the service account's JSON key file |
//! | `GOOGLE_CALENDAR_ORGANIZER` | (unset) | the Workspace user who owns the events |
//! | `RESEND_API_KEY` | (unset) | send email through Resend; unset: emails are written to the log |
//! | `RESEND_FROM` | (unset) | sender, required with `RESEND_API_KEY`, e.g. `Tutorbook <lessons@school.example>` |
//! | `RESEND_BASE_URL` | `https://api.resend.com` | Resend API base (tests point it at a fake) |
//! | `TUTORBOOK_OUTBOX_INTERVAL_SECS` | `5` | longest pause between outbox passes that found nothing to do; a command committed by this instance ends it at once |
//! | `TUTORBOOK_OUTBOX_PASSES` | `2` | outbox passes run at once while there is a backlog (1–64) |
//! | `TUTORBOOK_EFFECTS_DB_POOL` | `8` | Postgres connections of these loops, a pool apart from the requests' (1–1000) |
//! | `TUTORBOOK_REMINDER_INTERVAL_SECS` | `30` | pause between reminder passes |
//! | `TUTORBOOK_REMINDER_LEADS` | `24h,1h` | email reminders before each lesson (`h` or `m` units) |
//! | `TUTORBOOK_IDEMPOTENCY_TTL_HOURS` | `24` | how long an `Idempotency-Key` is remembered (1–720) |
//! | `TUTORBOOK_OUTBOX_RETENTION_DAYS` | `30` | how long a delivered outbox message is kept (1–3650) |
//! | `TUTORBOOK_JOBS_INTERVAL_SECS` | `60` | pause between passes of the booking jobs |
//! | `TUTORBOOK_COMPLETION_GRACE_HOURS` | `24` | how long after a lesson its teacher may mark attendance before it is completed (1–720) |

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use thiserror::Error;
use time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tutorbook_domain::PlatformSettings;
use tutorbook_google_calendar::{GoogleCalendar, GoogleCalendarConfig};
use tutorbook_ports::effects::{
    CalendarSync, LogMailer, Mailer, NoPush, Notifications, OutboxWorker, ReminderChannel, ReminderPlan,
    ReminderScheduler, RetryPolicy,
};
use tutorbook_ports::{Bookings, Clock, Directory, IdempotencyStore, Outbox, UnitOfWork, UuidV7};
use tutorbook_resend::ResendMailer;

use crate::state::{SharedClock, Store};

/// Google Calendar settings, present only when all three are configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleSettings {
    /// The service account's JSON key file.
    pub key_file: PathBuf,
    /// The Workspace user who owns the events.
    pub organizer: String,
}

/// Resend settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResendSettings {
    /// The API key (never logged).
    pub api_key: String,
    /// The sender.
    pub from: String,
    /// The API base URL.
    pub base_url: String,
}

/// Default size of the loops' own Postgres pool: room for the outbox
/// passes' statements, the per-message reads of the messages a pass does
/// not batch (cancellations, moves: up to 32 slots' at once), the reminder
/// scheduler and the booking jobs (docs/performance.md, "The outbox").
pub const DEFAULT_DB_POOL: usize = 8;

/// Default number of outbox passes run at once. A pass is a handful of
/// statements one after the other (docs/performance.md, "The outbox"):
/// under a full booking load each waits its turn at Postgres behind the
/// requests' statements, so a second pass in flight keeps the worker's
/// pace up with the bookings'.
pub const DEFAULT_OUTBOX_PASSES: usize = 2;

/// Validated configuration of the effect loops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectsConfig {
    /// Calendar sync, when switched on and fully configured.
    pub google: Option<GoogleSettings>,
    /// Resend, when its key is set; otherwise emails go to the log.
    pub resend: Option<ResendSettings>,
    /// Pause between idle outbox passes.
    pub outbox_interval: StdDuration,
    /// Outbox passes run at once (each its own loop): see [`DEFAULT_OUTBOX_PASSES`].
    pub outbox_passes: usize,
    /// Postgres connections of the loops, in a pool of their own: requests
    /// queueing for theirs cannot hold deliveries back (nor the reverse).
    pub db_pool: usize,
    /// Pause between reminder passes.
    pub reminder_interval: StdDuration,
    /// Reminders per lesson.
    pub reminders: ReminderPlan,
    /// Retries of both loops.
    pub retry: RetryPolicy,
    /// How long an `Idempotency-Key` is remembered; older keys are purged hourly.
    pub idempotency_ttl: Duration,
    /// How long a delivered outbox message is kept; older ones are purged hourly.
    pub outbox_retention: Duration,
    /// Pause between passes of the booking jobs.
    pub jobs_interval: StdDuration,
    /// How long after a lesson's end an unmarked lesson is completed.
    pub completion_grace: Duration,
}

impl Default for EffectsConfig {
    fn default() -> Self {
        Self {
            google: None,
            resend: None,
            outbox_interval: StdDuration::from_secs(5),
            outbox_passes: DEFAULT_OUTBOX_PASSES,
            db_pool: DEFAULT_DB_POOL,
            reminder_interval: StdDuration::from_secs(30),
            reminders: ReminderPlan::default(),
            retry: RetryPolicy::default(),
            idempotency_ttl: Duration::hours(24),
            outbox_retention: Duration::days(30),
            jobs_interval: StdDuration::from_secs(60),
            completion_grace: Duration::hours(24),
        }
    }
}

/// A variable of the effect loops that does not parse.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EffectsConfigError {
    /// A variable holds bytes that are not UTF-8.
    #[error("{0} is not valid UTF-8")]
    NotUnicode(&'static str),
    /// A value is not what the variable takes.
    #[error("{var}={value:?}: {expected}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// The rejected value.
        value: String,
        /// What would be accepted.
        expected: &'static str,
    },
    /// `RESEND_API_KEY` without `RESEND_FROM`.
    #[error("RESEND_API_KEY is set but RESEND_FROM is not: set the sender, e.g. `Tutorbook <lessons@school.example>`")]
    MissingSender,
}

impl EffectsConfig {
    /// Reads the effect loops' part of the configuration from `(name, value)`
    /// pairs (unknown names ignored). The service reads it through
    /// `Config::from_env`, the one read of the environment.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, EffectsConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let vars: Vec<(OsString, OsString)> = vars
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .collect();
        let get = |name: &'static str| -> Result<Option<String>, EffectsConfigError> {
            match vars.iter().rev().find(|(k, _)| k == name) {
                None => Ok(None),
                Some((_, v)) => {
                    let v = v.to_str().ok_or(EffectsConfigError::NotUnicode(name))?.trim();
                    Ok((!v.is_empty()).then(|| v.to_owned()))
                }
            }
        };
        let mut config = Self::default();

        let enabled = match get("GOOGLE_CALENDAR_ENABLED")?.as_deref() {
            None => false,
            Some(value) => crate::config::parse_bool(value)
                .ok_or_else(|| invalid("GOOGLE_CALENDAR_ENABLED", value, "expected true or false"))?,
        };
        let key_file = get("GOOGLE_SERVICE_ACCOUNT_KEY_FILE")?;
        let organizer = get("GOOGLE_CALENDAR_ORGANIZER")?;
        config.google = match (enabled, key_file, organizer) {
            (true, Some(key_file), Some(organizer)) => Some(GoogleSettings {
                key_file: key_file.into(),
                organizer,
            }),
            _ => None,
        };

        if let Some(api_key) = get("RESEND_API_KEY")? {
            config.resend = Some(ResendSettings {
                api_key,
                from: get("RESEND_FROM")?.ok_or(EffectsConfigError::MissingSender)?,
                base_url: get("RESEND_BASE_URL")?.unwrap_or_else(|| tutorbook_resend::DEFAULT_BASE_URL.to_owned()),
            });
        }
        if let Some(v) = get("TUTORBOOK_OUTBOX_INTERVAL_SECS")? {
            config.outbox_interval = seconds("TUTORBOOK_OUTBOX_INTERVAL_SECS", &v)?;
        }
        if let Some(v) = get("TUTORBOOK_OUTBOX_PASSES")? {
            config.outbox_passes = count(
                "TUTORBOOK_OUTBOX_PASSES",
                &v,
                64,
                "expected a whole number from 1 to 64",
            )?;
        }
        if let Some(v) = get("TUTORBOOK_EFFECTS_DB_POOL")? {
            config.db_pool = count(
                "TUTORBOOK_EFFECTS_DB_POOL",
                &v,
                1000,
                "expected a whole number from 1 to 1000",
            )?;
        }
        if let Some(v) = get("TUTORBOOK_REMINDER_INTERVAL_SECS")? {
            config.reminder_interval = seconds("TUTORBOOK_REMINDER_INTERVAL_SECS", &v)?;
        }
        if let Some(v) = get("TUTORBOOK_REMINDER_LEADS")? {
            config.reminders = leads(&v)?;
        }
        if let Some(v) = get("TUTORBOOK_IDEMPOTENCY_TTL_HOURS")? {
            config.idempotency_ttl = hours("TUTORBOOK_IDEMPOTENCY_TTL_HOURS", &v)?;
        }
        if let Some(v) = get("TUTORBOOK_OUTBOX_RETENTION_DAYS")? {
            config.outbox_retention = days("TUTORBOOK_OUTBOX_RETENTION_DAYS", &v)?;
        }
        if let Some(v) = get("TUTORBOOK_JOBS_INTERVAL_SECS")? {
            config.jobs_interval = seconds("TUTORBOOK_JOBS_INTERVAL_SECS", &v)?;
        }
        if let Some(v) = get("TUTORBOOK_COMPLETION_GRACE_HOURS")? {
            config.completion_grace = hours("TUTORBOOK_COMPLETION_GRACE_HOURS", &v)?;
        }
        Ok(config)
    }

    /// Whether the calendar sync was switched on but left incomplete (worth a warning).
    pub fn google_half_configured<I, K, V>(vars: I) -> bool
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let set: Vec<OsString> = vars
            .into_iter()
            .filter(|(_, v)| !v.as_ref().is_empty())
            .map(|(k, _)| k.as_ref().to_owned())
            .collect();
        let has = |name: &str| set.iter().any(|k| k == name);
        has("GOOGLE_CALENDAR_ENABLED") && !(has("GOOGLE_SERVICE_ACCOUNT_KEY_FILE") && has("GOOGLE_CALENDAR_ORGANIZER"))
    }
}

fn invalid(var: &'static str, value: &str, expected: &'static str) -> EffectsConfigError {
    EffectsConfigError::Invalid {
        var,
        value: value.to_owned(),
        expected,
    }
}

/// A whole number from 1 to `max`.
fn count(var: &'static str, value: &str, max: usize, expected: &'static str) -> Result<usize, EffectsConfigError> {
    value
        .parse()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| invalid(var, value, expected))
}

fn seconds(var: &'static str, value: &str) -> Result<StdDuration, EffectsConfigError> {
    value
        .parse::<u64>()
        .ok()
        .filter(|s| (1..=3600).contains(s))
        .map(StdDuration::from_secs)
        .ok_or_else(|| invalid(var, value, "expected whole seconds from 1 to 3600"))
}

fn hours(var: &'static str, value: &str) -> Result<Duration, EffectsConfigError> {
    whole(var, value, 720, Duration::hours, "expected whole hours from 1 to 720")
}

fn days(var: &'static str, value: &str) -> Result<Duration, EffectsConfigError> {
    whole(var, value, 3650, Duration::days, "expected whole days from 1 to 3650")
}

/// From 1 to `most` whole units of `unit`.
fn whole(
    var: &'static str,
    value: &str,
    most: i64,
    unit: fn(i64) -> Duration,
    expected: &'static str,
) -> Result<Duration, EffectsConfigError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=most).contains(n))
        .map(unit)
        .ok_or_else(|| invalid(var, value, expected))
}

/// `24h,1h` or `90m`: email reminder leads, each from 1 minute to 7 days.
fn leads(value: &str) -> Result<ReminderPlan, EffectsConfigError> {
    let expected = "expected leads such as `24h,1h` or `30m` (1 minute to 7 days each)";
    let mut plan = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        // By suffix, not by byte index: `1ч` is refused, not a panic.
        let parsed = match (item.strip_suffix('h'), item.strip_suffix('m')) {
            (Some(hours), _) => hours.parse::<i64>().ok().filter(|h| *h <= 24 * 7).map(Duration::hours),
            (_, Some(minutes)) => minutes
                .parse::<i64>()
                .ok()
                .filter(|m| *m <= 60 * 24 * 7)
                .map(Duration::minutes),
            _ => None,
        };
        let lead = parsed.ok_or_else(|| invalid("TUTORBOOK_REMINDER_LEADS", value, expected))?;
        if lead < Duration::minutes(1) || lead > Duration::days(7) {
            return Err(invalid("TUTORBOOK_REMINDER_LEADS", value, expected));
        }
        plan.push((ReminderChannel::Email, lead));
    }
    Ok(ReminderPlan { leads: plan })
}

/// Why the loops could not start.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct StartError(String);

/// The running loops; [`Effects::stop`] ends them gracefully.
#[derive(Debug)]
pub struct Effects {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Effects {
    /// Builds the adapters (Resend or the log mailer; Google Calendar when
    /// configured) and spawns the outbox worker and the reminder scheduler
    /// on `effects` (the service passes `AppState::effects_store`), and the
    /// booking jobs, which run commands, on `store`. `directory` gives the
    /// contacts emails and invitations go to.
    pub async fn start<D>(
        config: &EffectsConfig,
        store: Store,
        effects: Store,
        directory: D,
        clock: SharedClock,
    ) -> Result<Self, StartError>
    where
        D: Directory + Clone + 'static,
    {
        let mailer: Arc<dyn Mailer> = match &config.resend {
            Some(resend) => {
                tracing::info!(from = %resend.from, "email: Resend");
                Arc::new(
                    ResendMailer::new(&resend.api_key, &resend.from, &resend.base_url)
                        .map_err(|e| StartError(e.to_string()))?,
                )
            }
            None => {
                tracing::info!("email: RESEND_API_KEY unset, emails are written to the log");
                Arc::new(LogMailer)
            }
        };
        // The calendar first: each handler takes a whole pass, and the
        // emails of a slot's later messages then carry the Meet link its
        // first sync created.
        let mut worker = OutboxWorker::new(effects.clone(), clock.clone(), config.retry);
        match &config.google {
            Some(google) => {
                let calendar = GoogleCalendar::from_key_file(
                    &google.key_file,
                    GoogleCalendarConfig::production(&google.organizer),
                )
                .await
                .map_err(|e| StartError(e.to_string()))?;
                tracing::info!(organizer = %google.organizer, "calendar: Google Calendar/Meet");
                worker = worker.with_handler(Arc::new(CalendarSync::new(
                    effects.clone(),
                    directory.clone(),
                    calendar,
                )));
            }
            None => tracing::info!("calendar: off (slots keep calendar status `skipped`)"),
        }
        let worker = worker.with_handler(Arc::new(Notifications::new(
            effects.clone(),
            directory.clone(),
            mailer.clone(),
        )));
        let keys = effects.clone();
        // The jobs' decisions read no platform setting.
        // Commands commit through `store`: the outbox loops wake on them.
        let commands = store.clone();
        let jobs = Bookings::new(store, clock.clone(), UuidV7, PlatformSettings::default());
        let scheduler = ReminderScheduler::new(effects, directory, mailer, NoPush, clock.clone(), config.retry)
            .with_plan(config.reminders.clone());

        let (stop, stopped) = watch::channel(false);
        let (batch, outbox_every, reminders_every) =
            (config.retry.batch, config.outbox_interval, config.reminder_interval);
        // Concurrent passes claim apart (leases), like those of two instances.
        let mut tasks: Vec<JoinHandle<()>> = (0..config.outbox_passes)
            .map(|_| {
                let worker = worker.clone();
                tokio::spawn(every(
                    outbox_every,
                    stopped.clone(),
                    Some(commands.clone()),
                    move || {
                        let worker = worker.clone();
                        async move {
                            match worker.run_once().await {
                                // A full claim: more is waiting, go again at once.
                                Ok(pass) if pass.full => Next::Again,
                                Ok(pass) if pass.claimed > 0 => Next::Linger,
                                Ok(_) => Next::Idle,
                                Err(e) => {
                                    tracing::warn!(error = %e, "outbox pass failed");
                                    Next::Idle
                                }
                            }
                        }
                    },
                ))
            })
            .collect();
        let housekeeping = {
            let config = config.clone();
            tokio::spawn(every(StdDuration::from_secs(3600), stopped.clone(), None, move || {
                let (keys, clock, config) = (keys.clone(), clock.clone(), config.clone());
                async move {
                    housekeep(&keys, clock.as_ref(), &config).await;
                    false
                }
            }))
        };
        let grace = config.completion_grace;
        let jobs = tokio::spawn(every(config.jobs_interval, stopped.clone(), None, move || {
            let jobs = jobs.clone();
            async move { run_booking_jobs(&jobs, grace).await }
        }));
        let reminders = tokio::spawn(every(reminders_every, stopped, None, move || {
            let scheduler = scheduler.clone();
            async move {
                match scheduler.run_once().await {
                    Ok(pass) => pass.claimed >= batch,
                    Err(e) => {
                        tracing::warn!(error = %e, "reminder pass failed");
                        false
                    }
                }
            }
        }));
        tracing::info!(
            outbox_every = ?outbox_every,
            reminders_every = ?reminders_every,
            "effect loops running"
        );
        tasks.extend([reminders, housekeeping, jobs]);
        Ok(Self { stop, tasks })
    }

    /// Asks the loops to stop and waits for the pass in progress to finish,
    /// at most `grace`. A pass cut short loses nothing: its claims lapse and
    /// are retried.
    pub async fn stop(self, grace: StdDuration) {
        let _ = self.stop.send(true);
        let all = join_all(self.tasks);
        match tokio::time::timeout(grace, all).await {
            Ok(()) => tracing::info!("effect loops stopped"),
            Err(_) => tracing::warn!("effect loops did not stop in time; their claims will lapse and be retried"),
        }
    }
}

/// Outbox messages purged by one call of [`housekeep`] (the SQL store
/// deletes them in smaller writes).
const PURGE_BATCH: usize = 5_000;

/// What one [`housekeep`] pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Housekept {
    /// `Idempotency-Key`s older than [`EffectsConfig::idempotency_ttl`].
    pub keys: u64,
    /// Outbox messages delivered longer ago than [`EffectsConfig::outbox_retention`].
    pub messages: u64,
}

/// The hourly housekeeping pass: forgets old `Idempotency-Key`s and purges
/// long-delivered outbox messages, [`PURGE_BATCH`] at a time so that no
/// transaction holds the outbox for long (the first pass after an upgrade
/// may find months of them). Failures are logged; the next hour tries again
/// (docs/operations.md, "Retention").
pub async fn housekeep(store: &Store, clock: &dyn Clock, config: &EffectsConfig) -> Housekept {
    let mut done = Housekept::default();
    match store.purge_before(clock.now() - config.idempotency_ttl).await {
        Ok(purged) => done.keys = purged,
        Err(e) => tracing::warn!(error = %e, "idempotency key purge failed"),
    }
    done.messages = purge_delivered(store, clock.now() - config.outbox_retention, PURGE_BATCH).await;
    if done != Housekept::default() {
        tracing::info!(keys = done.keys, messages = done.messages, "housekeeping purged");
    }
    done
}

/// Purges every message delivered before `cutoff`, `batch` at a time, until
/// a batch finds fewer; answers how many went, also when a batch failed
/// (logged; the next pass goes on from there).
async fn purge_delivered<O: Outbox + ?Sized>(outbox: &O, cutoff: time::OffsetDateTime, batch: usize) -> u64 {
    let batch = batch.max(1);
    let mut total = 0;
    loop {
        match outbox.purge_delivered_before(cutoff, batch).await {
            Ok(purged) => {
                total += purged;
                if purged < batch as u64 {
                    return total;
                }
            }
            Err(e) => {
                tracing::warn!(purged = total, error = %e, "outbox purge failed");
                return total;
            }
        }
    }
}

async fn join_all(tasks: Vec<JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

/// Slots one pass of a booking job looks at; a full pass goes again at once.
const JOB_BATCH: usize = 100;

/// One pass of the booking jobs (docs/product.md §5); `true` when any
/// had a full batch, so more may be waiting.
async fn run_booking_jobs(jobs: &Bookings<Store, SharedClock, UuidV7>, grace: Duration) -> bool {
    let expired = jobs.expire_unanswered(JOB_BATCH).await;
    let completed = jobs.complete_unmarked(grace, JOB_BATCH).await;
    let offers = jobs.expire_offers(JOB_BATCH).await;
    let mut more = false;
    for (job, done) in [
        ("expire unanswered requests", expired),
        ("complete unmarked lessons", completed),
        ("expire seat offers", offers),
    ] {
        match done {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(job, bookings = n, "booking job pass");
                more |= n >= JOB_BATCH;
            }
            Err(e) => tracing::warn!(job, error = %e, "booking job pass failed"),
        }
    }
    more
}

/// What a loop does after a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// A full batch: more is waiting, go again at once.
    Again,
    /// Some work, less than a full batch: pause [`OUTBOX_LINGER`] first, so
    /// that under a steady stream of commands the next pass gathers a batch
    /// rather than the few messages that came during this one.
    Linger,
    /// Nothing to do: pause for the loop's interval (the outbox loop: or
    /// until a command commits, then linger).
    Idle,
}

impl From<bool> for Next {
    fn from(more: bool) -> Self {
        if more { Self::Again } else { Self::Idle }
    }
}

/// How long the outbox loop lets messages gather before a pass that would
/// not be full. Each pass has a fixed cost (its claim, reads and marks):
/// passes of a few messages each, one after another, cost Postgres more
/// per message than the bookings did, and a booking run then fell to two
/// thirds of its rate (docs/performance.md, "The outbox wakes on commit").
/// A message waits at most about this long when the loop is idle.
const OUTBOX_LINGER: StdDuration = StdDuration::from_millis(100);

/// Runs `pass` until told to stop, pausing after it as [`Next`] says. With
/// `woken_by`, an idle pause also ends when a command commits through that
/// store, so the outbox loop sleeps only while this instance wrote nothing
/// new (another instance's messages still wait for the interval). Before,
/// a booking run that began during a pause left up to `interval` of
/// messages behind it.
async fn every<F, Fut>(interval: StdDuration, mut stopped: watch::Receiver<bool>, woken_by: Option<Store>, pass: F)
where
    F: Fn() -> Fut,
    Fut: Future,
    Fut::Output: Into<Next>,
{
    let signal = woken_by.as_ref().map(Store::commit_signal);
    while !*stopped.borrow() {
        let seen = woken_by.as_ref().map(UnitOfWork::commits);
        let pause = match pass().await.into() {
            Next::Again => continue,
            Next::Linger => OUTBOX_LINGER,
            Next::Idle => {
                let woken = async {
                    match (&signal, &woken_by) {
                        (Some(signal), Some(store)) => {
                            let notified = signal.notified();
                            tokio::pin!(notified);
                            // Listening before the count is read: a commit
                            // after the read wakes it; one before it is in
                            // the count.
                            notified.as_mut().enable();
                            if Some(store.commits()) == seen {
                                notified.await;
                            }
                        }
                        _ => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = stopped.changed() => continue,
                    () = tokio::time::sleep(interval) => continue,
                    () = woken => OUTBOX_LINGER,
                }
            }
        };
        tokio::select! {
            _ = stopped.changed() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_log_emails_and_skip_the_calendar() {
        let config = EffectsConfig::from_vars(Vec::<(String, String)>::new()).unwrap();
        assert_eq!(config, EffectsConfig::default());
        assert_eq!(config.reminders.leads.len(), 2);
    }

    #[test]
    fn the_calendar_needs_the_switch_the_key_file_and_the_organizer() {
        let all = [
            ("GOOGLE_CALENDAR_ENABLED", "true"),
            ("GOOGLE_SERVICE_ACCOUNT_KEY_FILE", "/etc/tutorbook/sa.json"),
            ("GOOGLE_CALENDAR_ORGANIZER", "calendar@school.example"),
        ];
        let config = EffectsConfig::from_vars(all).unwrap();
        assert_eq!(
            config.google,
            Some(GoogleSettings {
                key_file: "/etc/tutorbook/sa.json".into(),
                organizer: "calendar@school.example".into()
            })
        );
        for missing in 0..3 {
            let partial: Vec<_> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != missing)
                .map(|(_, v)| *v)
                .collect();
            assert_eq!(EffectsConfig::from_vars(partial.clone()).unwrap().google, None);
            assert_eq!(EffectsConfig::google_half_configured(partial), missing != 0);
        }
        let off = [("GOOGLE_CALENDAR_ENABLED", "false"), all[1], all[2]];
        assert_eq!(EffectsConfig::from_vars(off).unwrap().google, None);
        // Booleans read the same everywhere: `yes` switches it on, nonsense is refused.
        let yes = [("GOOGLE_CALENDAR_ENABLED", "YES"), all[1], all[2]];
        assert!(EffectsConfig::from_vars(yes).unwrap().google.is_some());
        assert!(EffectsConfig::from_vars([("GOOGLE_CALENDAR_ENABLED", "maybe")]).is_err());
    }

    #[test]
    fn resend_needs_a_sender() {
        assert_eq!(
            EffectsConfig::from_vars([("RESEND_API_KEY", "re_123")]).unwrap_err(),
            EffectsConfigError::MissingSender
        );
        let config =
            EffectsConfig::from_vars([("RESEND_API_KEY", "re_123"), ("RESEND_FROM", "a@school.example")]).unwrap();
        let resend = config.resend.unwrap();
        assert_eq!(
            (resend.from.as_str(), resend.base_url.as_str()),
            ("a@school.example", "https://api.resend.com")
        );
    }

    #[test]
    fn intervals_and_reminder_leads_parse() {
        let config = EffectsConfig::from_vars([
            ("TUTORBOOK_OUTBOX_INTERVAL_SECS", "2"),
            ("TUTORBOOK_REMINDER_INTERVAL_SECS", "60"),
            ("TUTORBOOK_REMINDER_LEADS", "48h, 90m"),
        ])
        .unwrap();
        assert_eq!(config.outbox_interval, StdDuration::from_secs(2));
        assert_eq!(config.db_pool, DEFAULT_DB_POOL);
        assert_eq!(config.outbox_passes, DEFAULT_OUTBOX_PASSES);
        let passes = EffectsConfig::from_vars([("TUTORBOOK_OUTBOX_PASSES", "4")]).unwrap();
        assert_eq!(passes.outbox_passes, 4);
        for bad in ["0", "65", "x"] {
            assert!(
                EffectsConfig::from_vars([("TUTORBOOK_OUTBOX_PASSES", bad)]).is_err(),
                "{bad}"
            );
        }
        let pooled = EffectsConfig::from_vars([("TUTORBOOK_EFFECTS_DB_POOL", "8")]).unwrap();
        assert_eq!(pooled.db_pool, 8);
        for bad in ["0", "1001", "x"] {
            assert!(
                EffectsConfig::from_vars([("TUTORBOOK_EFFECTS_DB_POOL", bad)]).is_err(),
                "{bad}"
            );
        }
        assert_eq!(config.reminder_interval, StdDuration::from_secs(60));
        assert_eq!(
            config.reminders.leads,
            vec![
                (ReminderChannel::Email, Duration::hours(48)),
                (ReminderChannel::Email, Duration::minutes(90))
            ]
        );
        for bad in ["0", "x", "3601"] {
            assert!(EffectsConfig::from_vars([("TUTORBOOK_OUTBOX_INTERVAL_SECS", bad)]).is_err());
        }
        let jobs = EffectsConfig::from_vars([
            ("TUTORBOOK_JOBS_INTERVAL_SECS", "15"),
            ("TUTORBOOK_COMPLETION_GRACE_HOURS", "48"),
        ])
        .unwrap();
        assert_eq!(
            (jobs.jobs_interval, jobs.completion_grace),
            (StdDuration::from_secs(15), Duration::hours(48))
        );
        for bad in ["0", "721", "1.5"] {
            let refused = EffectsConfig::from_vars([("TUTORBOOK_COMPLETION_GRACE_HOURS", bad)]).unwrap_err();
            assert!(
                refused.to_string().contains("TUTORBOOK_COMPLETION_GRACE_HOURS"),
                "{refused}"
            );
        }
        // Non-ASCII units and overflowing numbers are refused with the
        // variable's name, never a panic.
        for bad in [
            "24",
            "0m",
            "8d",
            "1w",
            "-1h",
            "30s",
            "1ч",
            "ч",
            "h",
            "99999999999999999999h",
            "9223372036854775807m",
        ] {
            assert!(
                EffectsConfig::from_vars([("TUTORBOOK_REMINDER_LEADS", bad)]).is_err(),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn the_purge_goes_on_while_a_statement_finds_a_whole_batch() {
        let cutoff = time::OffsetDateTime::UNIX_EPOCH;
        let mut outbox = tutorbook_ports::MockOutbox::new();
        let mut answers = vec![1, 2, 2];
        outbox
            .expect_purge_delivered_before()
            .withf(move |at, limit| *at == cutoff && *limit == 2)
            .times(3)
            .returning(move |_, _| Ok(answers.pop().expect("three statements")));
        assert_eq!(super::purge_delivered(&outbox, cutoff, 2).await, 5);

        // A failing batch ends the pass with what went before it.
        let mut failing = tutorbook_ports::MockOutbox::new();
        let mut answers = vec![Err(tutorbook_ports::Error::Storage("down".into())), Ok(2)];
        failing
            .expect_purge_delivered_before()
            .times(2)
            .returning(move |_, _| answers.pop().expect("two statements"));
        assert_eq!(super::purge_delivered(&failing, cutoff, 2).await, 2);
    }

    #[test]
    fn the_outbox_retention_parses_in_days() {
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            EffectsConfig::from_vars(none).unwrap().outbox_retention,
            Duration::days(30)
        );
        let config = EffectsConfig::from_vars([("TUTORBOOK_OUTBOX_RETENTION_DAYS", "7")]).unwrap();
        assert_eq!(config.outbox_retention, Duration::days(7));
        for bad in ["0", "3651", "1.5", "week", "-1"] {
            assert!(
                EffectsConfig::from_vars([("TUTORBOOK_OUTBOX_RETENTION_DAYS", bad)]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_idempotency_key_lifetime_parses_in_hours() {
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            EffectsConfig::from_vars(none).unwrap().idempotency_ttl,
            Duration::hours(24)
        );
        let config = EffectsConfig::from_vars([("TUTORBOOK_IDEMPOTENCY_TTL_HOURS", "72")]).unwrap();
        assert_eq!(config.idempotency_ttl, Duration::hours(72));
        for bad in ["0", "721", "1.5", "day"] {
            assert!(
                EffectsConfig::from_vars([("TUTORBOOK_IDEMPOTENCY_TTL_HOURS", bad)]).is_err(),
                "{bad}"
            );
        }
    }
}
