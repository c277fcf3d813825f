//! Test support for the use cases' unit tests: one mock implementing every
//! store port (the use cases need a single `S` with several of them), a fixed
//! clock, scripted ids and ready-made slots.

use async_trait::async_trait;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, AuditEntry, Availability, Booking, BookingId, BookingPolicy, Consent, CreditId, LessonReport, LessonWindow,
    MakeupCredit, Meeting, PlatformSettings, Review, Role, Series, SeriesId, Slot, SlotDraft, SlotId, SlotSeries,
    TeacherRating, UserId, Zone,
};
use uuid::Uuid;

use crate::{
    AvailabilityStore, BookingStore, Browse, Decision, Error, Loaded, LockSet, MockClock, MockIdGen, Overdue,
    PolicyStore, ProfileUpdate, ReportStore, Result, ReviewStore, SeriesStore, Unit, UnitOfWork, User, UserStore,
};

mockall::mock! {
    /// Every store port in one mock.
    pub Store {}

    #[async_trait]
    impl UnitOfWork for Store {
        async fn execute(&self, locks: LockSet, now: OffsetDateTime, decide: Decision) -> Result<Unit>;
        fn commits(&self) -> u64;
    }

    #[async_trait]
    impl BookingStore for Store {
        async fn slot(&self, id: SlotId) -> Result<Option<Slot>>;
        async fn slots(&self, ids: &[SlotId]) -> Result<Vec<Slot>>;
        async fn slot_of_booking(&self, booking: BookingId) -> Result<Option<SlotId>>;
        async fn teacher_slots(&self, teacher: UserId, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<Slot>>;
        async fn open_slots(&self, from: OffsetDateTime, to: OffsetDateTime, limit: usize) -> Result<Vec<Slot>>;
        async fn browse_starts(&self, browse: Browse, limit: usize) -> Result<Vec<(OffsetDateTime, u32)>>;
        async fn browse_page(
            &self,
            browse: Browse,
            after: Option<(OffsetDateTime, SlotId)>,
            limit: usize,
        ) -> Result<Vec<Slot>>;
        async fn student_bookings(
            &self,
            student: UserId,
            from: OffsetDateTime,
            to: OffsetDateTime,
        ) -> Result<Vec<(Booking, Slot)>>;
        async fn credit(&self, id: CreditId) -> Result<Option<MakeupCredit>>;
        async fn student_credits(&self, student: UserId) -> Result<Vec<MakeupCredit>>;
        async fn history(&self, booking: BookingId) -> Result<Vec<AuditEntry>>;
        async fn overdue_slots(&self, overdue: Overdue, limit: usize) -> Result<Vec<SlotId>>;
    }

    #[async_trait]
    impl PolicyStore for Store {
        async fn policy(&self, teacher: UserId) -> Result<BookingPolicy>;
        async fn set_policy(&self, teacher: UserId, policy: BookingPolicy) -> Result<()>;
    }

    #[async_trait]
    impl ReviewStore for Store {
        async fn teacher_reviews(&self, teacher: UserId, limit: usize) -> Result<Vec<Review>>;
        async fn teacher_rating(&self, teacher: UserId) -> Result<TeacherRating>;
    }

    #[async_trait]
    impl UserStore for Store {
        async fn create_user(&self, user: User) -> Result<User>;
        async fn user_by_subject(&self, subject: &str) -> Result<Option<User>>;
        async fn user(&self, id: UserId) -> Result<Option<User>>;
        async fn users(&self, after: Option<UserId>, limit: usize) -> Result<Vec<User>>;
        async fn set_role(&self, id: UserId, role: Role) -> Result<User>;
        async fn update_profile(&self, id: UserId, update: ProfileUpdate) -> Result<User>;
        async fn consents(&self, id: UserId) -> Result<Vec<Consent>>;
        async fn record_consent(&self, id: UserId, consent: Consent) -> Result<()>;
    }

    #[async_trait]
    impl AvailabilityStore for Store {
        async fn availability(&self, teacher: UserId) -> Result<Availability>;
    }

    #[async_trait]
    impl SeriesStore for Store {
        async fn series(&self, id: SeriesId) -> Result<Option<Series>>;
        async fn slot_series(&self, id: SeriesId) -> Result<Option<SlotSeries>>;
    }

    #[async_trait]
    impl ReportStore for Store {
        async fn report_of(&self, booking: BookingId) -> Result<Option<LessonReport>>;
        async fn student_reports(&self, student: UserId) -> Result<Vec<LessonReport>>;
    }
}

/// `store` knows `id` as a user with `role` (for staff naming a teacher).
pub(crate) fn expect_user(store: &mut MockStore, id: UserId, role: Role) {
    store
        .expect_user()
        .withf(move |asked| *asked == id)
        .returning(move |_| {
            Ok(Some(User {
                id,
                subject: format!("test:{id}"),
                role,
                display_name: "Someone".into(),
                email: None,
                zone: Zone::default_zone(),
                locale: tutorbook_domain::Locale::default(),
                created_at: NOW,
            }))
        });
}

/// The instant every test's clock reads.
pub(crate) const NOW: OffsetDateTime = datetime!(2030-01-07 09:00 UTC);
/// Where test slots start: three days after [`NOW`].
pub(crate) const START: OffsetDateTime = datetime!(2030-01-10 09:00 UTC);
/// Ten minutes after the test slots' end.
pub(crate) const LESSON_OVER: OffsetDateTime = datetime!(2030-01-10 10:00 UTC);

pub(crate) const TEACHER: UserId = UserId::from_uuid(Uuid::from_u128(0x7e));
pub(crate) const OTHER_TEACHER: UserId = UserId::from_uuid(Uuid::from_u128(0x7f));
pub(crate) const STUDENT: UserId = UserId::from_uuid(Uuid::from_u128(0x5a));
pub(crate) const OTHER_STUDENT: UserId = UserId::from_uuid(Uuid::from_u128(0x5b));
pub(crate) const STAFF: UserId = UserId::from_uuid(Uuid::from_u128(0x5f));

/// A distinct, recognisable id.
pub(crate) fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0xabc0_0000 + n)
}

/// A clock standing at [`NOW`].
pub(crate) fn clock() -> MockClock {
    clock_at(NOW)
}

/// A clock standing at `at`.
pub(crate) fn clock_at(at: OffsetDateTime) -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(at);
    clock
}

/// An id source handing out exactly `ids`, in order (more or fewer calls fail the test).
pub(crate) fn ids<const N: usize>(ids: [Uuid; N]) -> MockIdGen {
    let mut source = MockIdGen::new();
    let mut next = ids.into_iter();
    source
        .expect_new_id()
        .times(N)
        .returning(move || next.next().expect("more ids drawn than scripted"));
    source
}

/// An id source that must not be used.
pub(crate) fn no_ids() -> MockIdGen {
    let mut source = MockIdGen::new();
    source.expect_new_id().never();
    source
}

/// A policy without approval for either kind of slot.
pub(crate) fn instant_policy() -> BookingPolicy {
    BookingPolicy::default().with_approval(false, false)
}

/// An open slot of `teacher` with `capacity` seats from [`START`] for 50 minutes.
pub(crate) fn open_slot(id: u128, teacher: UserId, capacity: u32) -> Slot {
    let draft = SlotDraft {
        teacher,
        window: LessonWindow::new(START, START + Duration::minutes(50)).unwrap(),
        zone: Zone::default(),
        capacity,
        meeting: Meeting::default(),
        package_session: None,
        waitlist: None,
    };
    let opened_at = NOW - Duration::days(1);
    let (slot, _) = Slot::open(
        SlotId::from_uuid(uuid(id)),
        draft,
        &Actor::teacher(teacher),
        &[],
        &BookingPolicy::default(),
        &PlatformSettings::default(),
        opened_at,
    )
    .unwrap();
    slot
}

/// Adds a booking of `student` under `policy` (requested or confirmed).
pub(crate) fn book(slot: &mut Slot, id: u128, student: UserId, policy: &BookingPolicy) -> BookingId {
    let booking = BookingId::from_uuid(uuid(id));
    slot.request(booking, &Actor::student(student), policy, NOW - Duration::hours(1))
        .unwrap();
    booking
}

/// Expects one `slot(slot.id())` read answering `slot`.
pub(crate) fn expect_slot_read(store: &mut MockStore, slot: &Slot) {
    let (id, answer) = (slot.id(), slot.clone());
    store
        .expect_slot()
        .withf(move |asked| *asked == id)
        .times(1)
        .returning(move |_| Ok(Some(answer.clone())));
}

/// Expects one `slot_of_booking(booking)` answering `slot`.
pub(crate) fn expect_booking_lookup(store: &mut MockStore, booking: BookingId, slot: SlotId) {
    store
        .expect_slot_of_booking()
        .withf(move |asked| *asked == booking)
        .times(1)
        .returning(move |_| Ok(Some(slot)));
}

/// Expects one `policy(teacher)` answering `policy`.
pub(crate) fn expect_policy(store: &mut MockStore, teacher: UserId, policy: BookingPolicy) {
    store
        .expect_policy()
        .withf(move |asked| *asked == teacher)
        .times(1)
        .returning(move |_| Ok(policy));
}

/// What a mocked store holds: the unit of work loads from it what a lock
/// set names, the way a real store does.
#[derive(Debug, Clone, Default)]
pub(crate) struct World {
    slots: Vec<Slot>,
    policies: Vec<(UserId, BookingPolicy)>,
    credits: Vec<MakeupCredit>,
    reviews: Vec<Review>,
    reports: Vec<LessonReport>,
}

impl World {
    /// A world holding `slot`.
    pub(crate) fn of(slot: &Slot) -> Self {
        Self::default().slot(slot)
    }

    /// Adds a slot.
    pub(crate) fn slot(mut self, slot: &Slot) -> Self {
        self.slots.push(slot.clone());
        self
    }

    /// Sets a teacher's policy.
    pub(crate) fn policy(mut self, teacher: UserId, policy: BookingPolicy) -> Self {
        self.policies.push((teacher, policy));
        self
    }

    /// Adds a credit.
    pub(crate) fn credit(mut self, credit: &MakeupCredit) -> Self {
        self.credits.push(credit.clone());
        self
    }

    /// Adds a review.
    pub(crate) fn review(mut self, review: &Review) -> Self {
        self.reviews.push(review.clone());
        self
    }

    /// Adds a lesson report.
    pub(crate) fn report(mut self, report: &LessonReport) -> Self {
        self.reports.push(report.clone());
        self
    }

    /// What a store would load for `locks`.
    pub(crate) fn load(&self, locks: &LockSet) -> Loaded {
        let mut loaded = Loaded::default();
        let mut ids: Vec<SlotId> = locks.slots.clone();
        for booking in &locks.bookings {
            if let Some(slot) = self.slots.iter().find(|s| s.booking(*booking).is_some()) {
                loaded.booking_slots.push((*booking, slot.id()));
                ids.push(slot.id());
            }
        }
        loaded.slots = self.slots.iter().filter(|s| ids.contains(&s.id())).cloned().collect();
        for lock in &locks.schedules {
            let open = self
                .slots
                .iter()
                .filter(|s| s.teacher() == lock.teacher && s.window().start() < lock.to && s.window().end() > lock.from)
                .cloned()
                .collect();
            loaded.schedules.push((lock.teacher, open));
        }
        loaded.policies = self.policies.clone();
        loaded.credits = self
            .credits
            .iter()
            .filter(|c| locks.credits.contains(&c.id()) || locks.student_credits.contains(&c.student()))
            .cloned()
            .collect();
        loaded.reviews = self
            .reviews
            .iter()
            .filter(|r| locks.feedback.contains(&r.booking))
            .cloned()
            .collect();
        loaded.reports = self
            .reports
            .iter()
            .filter(|r| locks.feedback.contains(&r.booking()))
            .cloned()
            .collect();
        loaded
    }
}

/// Expects one unit of work and runs its decision on what `world` holds for
/// its lock set, the way a real store does (without saving anything).
pub(crate) fn expect_unit(store: &mut MockStore, world: World) {
    store.expect_execute().times(1).returning(move |locks, _, decide| {
        let mut unit = Unit::new(world.load(&locks));
        decide(&mut unit)?;
        Ok(unit)
    });
}

/// A store failure.
pub(crate) fn storage_down() -> Error {
    Error::Storage("connection reset".into())
}
