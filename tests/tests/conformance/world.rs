//! What the scenarios share: a store wired to the `Bookings` and `Feedback`
//! use cases on a [`ManualClock`], fixed people and times, shorthands for the
//! common steps, and [`race`] for concurrent commands.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Barrier};

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, AuditEntry, Booking, BookingStatus, Meeting, PlatformSettings, Slot, SlotId, UserId, Zone,
};
use tutorbook_memory::ManualClock;
use tutorbook_ports::{
    Bookings, Feedback, OpenSlot, OutboxMessage, Packages, PaymentSettings, Result, UuidV7, WaitlistChoice,
};
use uuid::Uuid;

use crate::backends::Store;

/// Where every scenario's clock starts.
pub const T0: OffsetDateTime = datetime!(2030-01-06 08:00 UTC);
/// Midnight two days after [`T0`]: scenario slots start from here.
const DAY0: OffsetDateTime = datetime!(2030-01-08 00:00 UTC);

pub const TEACHER: UserId = UserId::from_uuid(Uuid::from_u128(0x7e));
pub const OTHER_TEACHER: UserId = UserId::from_uuid(Uuid::from_u128(0x7f));
pub const STAFF: UserId = UserId::from_uuid(Uuid::from_u128(0x5f));

/// Student number `n`.
pub fn student(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(0x1000 + n))
}

/// `hour` o'clock on day `day` after [`DAY0`].
pub fn at(day: i64, hour: i64) -> OffsetDateTime {
    DAY0 + Duration::days(day) + Duration::hours(hour)
}

/// The refusal code of a failed call.
pub fn code<T: Debug>(result: Result<T>) -> &'static str {
    result.expect_err("the command should have been refused").code()
}

/// A 50-minute slot for `teacher`.
pub fn slot_input(teacher: UserId, start: OffsetDateTime, capacity: u32) -> OpenSlot {
    OpenSlot {
        teacher,
        start,
        end: start + Duration::minutes(50),
        zone: Zone::default(),
        capacity,
        meeting: Meeting::default(),
        waitlist: WaitlistChoice::TeacherDefault,
    }
}

/// Each history entry as (from, to, actor, reason).
pub fn transitions(history: &[AuditEntry]) -> Vec<(Option<BookingStatus>, BookingStatus, Option<UserId>, &str)> {
    history
        .iter()
        .map(|e| (e.from, e.to, e.actor, e.reason.as_str()))
        .collect()
}

/// One store behind the use cases, with the clock they share.
pub struct World<S: Store> {
    pub store: S,
    pub clock: ManualClock,
    pub bookings: Bookings<S, ManualClock, UuidV7>,
    pub feedback: Feedback<S, ManualClock, UuidV7>,
    pub packages: Packages<S, ManualClock, UuidV7>,
}

impl<S: Store> World<S> {
    /// The use cases over `store`, the clock at [`T0`], default platform settings.
    pub fn new(store: S) -> Self {
        let clock = ManualClock::at(T0);
        Self {
            bookings: Bookings::new(store.clone(), clock.clone(), UuidV7, PlatformSettings::default()),
            feedback: Feedback::new(store.clone(), clock.clone(), UuidV7),
            packages: Packages::new(
                store.clone(),
                clock.clone(),
                UuidV7,
                PlatformSettings::default(),
                PaymentSettings::default(),
            ),
            store,
            clock,
        }
    }

    /// The scenario's current instant.
    pub fn clock_now(&self) -> OffsetDateTime {
        tutorbook_ports::Clock::now(&self.clock)
    }

    /// Opens a 50-minute slot for `teacher`.
    pub async fn open(&self, teacher: UserId, start: OffsetDateTime, capacity: u32) -> Slot {
        self.bookings
            .open_slot(&Actor::teacher(teacher), slot_input(teacher, start, capacity))
            .await
            .expect("slot opens")
    }

    /// `student` requests a seat.
    pub async fn request(&self, student: UserId, slot: &Slot) -> Booking {
        self.bookings
            .request(&Actor::student(student), slot.id())
            .await
            .expect("request is accepted")
    }

    /// `student` holds a confirmed seat on `slot` (approved when needed).
    pub async fn confirmed(&self, student: UserId, slot: &Slot) -> Booking {
        let booking = self.request(student, slot).await;
        if booking.status() == BookingStatus::Confirmed {
            return booking;
        }
        self.bookings
            .approve(&Actor::teacher(slot.teacher()), booking.id())
            .await
            .expect("approval")
    }

    /// The slot as stored now.
    pub async fn reload(&self, slot: &Slot) -> Slot {
        self.store.slot(slot.id()).await.expect("read").expect("slot exists")
    }

    /// A slot by id, as stored now.
    pub async fn reload_id(&self, slot: SlotId) -> Slot {
        self.store.slot(slot).await.expect("read").expect("slot exists")
    }

    /// Every undelivered outbox message, oldest first.
    pub async fn pending(&self) -> Vec<OutboxMessage> {
        self.store.pending(usize::MAX).await.expect("outbox")
    }

    /// The kinds of the pending events after the first `skip`.
    pub async fn kinds_after(&self, skip: usize) -> Vec<&'static str> {
        self.pending().await.iter().skip(skip).map(|m| m.event.kind()).collect()
    }
}

/// Runs `n` copies of a command at once and returns their results in task order.
///
/// Each copy runs on its own blocking thread, and a barrier releases them all
/// together. That races on every store: the SQL stores' futures wait on the
/// database (their I/O is driven by the runtime's workers) with all `n`
/// transactions in flight, and the memory store's commands, which never yield,
/// contend for its lock from `n` threads. (Plain tokio tasks released by a
/// barrier would run the memory store's commands one after the other on the
/// waking worker.)
pub async fn race<T, F, Fut>(n: usize, command: F) -> Vec<Result<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let runtime = tokio::runtime::Handle::current();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, runtime, run) = (barrier.clone(), runtime.clone(), command(i));
            tokio::task::spawn_blocking(move || {
                barrier.wait();
                runtime.block_on(run)
            })
        })
        .collect();
    let mut results = Vec::with_capacity(n);
    for task in tasks {
        results.push(task.await.expect("racer did not panic"));
    }
    results
}

/// Counts results by outcome: `"ok"` or the refusal code.
pub fn tally<T>(results: &[Result<T>]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for r in results {
        *counts
            .entry(r.as_ref().map_or_else(|e| e.code(), |_| "ok"))
            .or_default() += 1;
    }
    counts
}
