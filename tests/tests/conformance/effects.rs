//! After-commit effects on every store: outbox retries and give-up, a worker
//! that dies between claim and done, calendar outages.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;

use time::Duration;
use tutorbook_domain::{Actor, BookingStatus, CalendarStatus, Locale, Role, SlotId, UserId, Zone};
use tutorbook_memory::{MemoryCalendar, MemoryDirectory, MemoryMailer};
use tutorbook_ports::effects::{
    Calendar, CalendarSync, EffectError, EventRef, EventSpec, Notifications, OutboxWorker, RetryPolicy, event_id_of,
};
use tutorbook_ports::{Contact, Directory};

use crate::backends::Store;
use crate::conformance;
use crate::world::{TEACHER, World, at, race, student};

/// Retries without waiting, so a test can run the next pass at once.
fn eager() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        max_attempts: 3,
        ..RetryPolicy::default()
    }
}

/// The teacher and students 1..=3 with addresses; the teacher reads English in New York.
pub fn directory() -> MemoryDirectory {
    let directory = MemoryDirectory::new();
    let person = |user: UserId, role, name: &str, locale, zone: &str| Contact {
        user,
        role,
        display_name: name.to_owned(),
        email: Some(format!("{}@example.com", name.to_lowercase())),
        locale,
        zone: Zone::parse(zone).unwrap(),
    };
    directory.insert(person(
        TEACHER,
        Role::Teacher,
        "Teacher",
        Locale::En,
        "America/New_York",
    ));
    for n in 1..=3 {
        directory.insert(person(
            student(n),
            Role::Student,
            &format!("Student{n}"),
            Locale::Ko,
            "Asia/Seoul",
        ));
    }
    directory
}

async fn retries_back_off_then_give_up_keeping_the_error<S: Store>(store: S) {
    let w = World::new(store);
    w.open(TEACHER, at(1, 10), 1).await;
    let [message] = w
        .store
        .claim(w.clock_now(), 10, Duration::minutes(5))
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(message.attempts, 1);

    // Retried without delay: claimable again at once, one more attempt counted.
    w.store
        .retry_later(message.id, "smtp timeout", w.clock_now() + Duration::ZERO)
        .await
        .unwrap();
    let [again] = w
        .store
        .claim(w.clock_now(), 10, Duration::minutes(5))
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!((again.id, again.attempts), (message.id, 2));

    // Retried after an hour: not claimable now, still pending.
    w.store
        .retry_later(message.id, "smtp timeout", w.clock_now() + Duration::hours(1))
        .await
        .unwrap();
    assert!(
        w.store
            .claim(w.clock_now(), 10, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(w.pending().await.len(), 1);

    // Given up: neither pending nor claimable, listed with its error; later calls change nothing.
    w.store
        .mark_failed(message.id, "calendar: 403 forbidden")
        .await
        .unwrap();
    assert!(w.pending().await.is_empty());
    w.store
        .retry_later(message.id, "late", w.clock_now() + Duration::ZERO)
        .await
        .unwrap();
    assert!(
        w.store
            .claim(w.clock_now(), 10, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
    let failed = w.store.failed(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0.id, message.id);
    assert_eq!(failed[0].0.attempts, 2);
    assert_eq!(failed[0].1, "calendar: 403 forbidden");
}

/// A worker claims the request's message and dies before sending (the lease
/// is simply never settled). Nothing is sent while the lease holds; once it
/// lapses a restarted worker sends the email exactly once.
async fn a_worker_dying_between_claim_and_done_sends_exactly_one_email<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let mailer = MemoryMailer::new();
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), eager()).with_handler(Arc::new(
        Notifications::new(w.store.clone(), directory(), mailer.clone()),
    ));
    worker.drain().await.unwrap(); // slot_opened: no email
    w.request(student(1), &slot).await;

    let lease = Duration::milliseconds(300);
    let claimed = w.store.claim(w.clock_now(), 10, lease).await.unwrap();
    assert_eq!(claimed.len(), 1);
    drop(claimed); // the worker died here

    assert_eq!(worker.run_once().await.unwrap().claimed, 0, "leased to the dead worker");
    assert!(mailer.sent().is_empty());
    w.clock.advance(Duration::milliseconds(400)); // the lease lapses
    let pass = worker.run_once().await.unwrap();
    assert_eq!((pass.claimed, pass.delivered), (1, 1));
    assert_eq!(worker.drain().await.unwrap().claimed, 0);

    let sent = mailer.sent();
    assert_eq!(sent.len(), 1, "exactly one email: {sent:?}");
    assert_eq!(sent[0].to, "teacher@example.com");
    assert_eq!(sent[0].subject, "New lesson request from Student1");
    assert!(w.pending().await.is_empty());
}

/// A mail outage is retried; the same message keeps its idempotency key,
/// and after the maximum attempts the message is failed with the error kept.
async fn email_failures_are_retried_then_failed<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 2).await; // group: confirmed at once
    let mailer = MemoryMailer::new();
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), eager()).with_handler(Arc::new(
        Notifications::new(w.store.clone(), directory(), mailer.clone()),
    ));
    worker.drain().await.unwrap();

    w.confirmed(student(1), &slot).await;
    mailer.fail_next(1);
    let first = worker.run_once().await.unwrap();
    assert_eq!((first.claimed, first.retried), (1, 1));
    let second = worker.run_once().await.unwrap();
    assert_eq!((second.claimed, second.delivered), (1, 1));
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "student1@example.com");
    assert_eq!(sent[0].subject, "Teacher 선생님 수업이 확정되었습니다");

    w.confirmed(student(2), &slot).await;
    mailer.fail_next(10);
    let report = worker.drain().await.unwrap();
    assert_eq!((report.claimed, report.retried, report.failed), (3, 2, 1));
    let failed = w.store.failed(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0.attempts, 3);
    assert_eq!(failed[0].1, "email: mail server unavailable (simulated)");
    assert_eq!(mailer.sent().len(), 1, "nothing more went out");
}

/// The calendar is down when a booking is confirmed: the booking stands, the
/// slot shows `failed`, and a later pass creates the event and stores its
/// Meet link. Emptying the roster deletes the event and clears both.
async fn a_calendar_outage_fails_the_sync_and_a_later_pass_repairs_it<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 2).await;
    let calendar = MemoryCalendar::new();
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), eager()).with_handler(Arc::new(
        CalendarSync::new(w.store.clone(), directory(), calendar.clone()),
    ));
    worker.drain().await.unwrap();
    assert_eq!(
        w.reload(&slot).await.meeting().calendar_status(),
        CalendarStatus::Skipped
    );

    calendar.fail_next(1);
    let booking = w.confirmed(student(1), &slot).await;
    assert_eq!(booking.status(), BookingStatus::Confirmed);
    let pass = worker.run_once().await.unwrap();
    assert_eq!(pass.retried, 1);
    let failed = w.reload(&slot).await;
    assert_eq!(failed.meeting().calendar_status(), CalendarStatus::Failed);
    assert_eq!(failed.booking(booking.id()).unwrap().status(), BookingStatus::Confirmed);
    assert!(calendar.events().is_empty());

    worker.drain().await.unwrap();
    let synced = w.reload(&slot).await;
    let meeting = synced.meeting();
    assert_eq!(meeting.calendar_status(), CalendarStatus::Synced);
    let event_id = meeting.calendar_event_id().expect("event id stored").to_owned();
    assert_eq!(meeting.url(), Some(format!("https://meet.example/{event_id}").as_str()));
    let events = calendar.events();
    assert_eq!(
        events[&event_id].attendees,
        vec!["teacher@example.com", "student1@example.com"]
    );
    assert!(events[&event_id].with_meet);

    w.confirmed(student(2), &slot).await;
    worker.drain().await.unwrap();
    assert_eq!(
        calendar.events()[&event_id].attendees,
        vec!["teacher@example.com", "student1@example.com", "student2@example.com"]
    );

    w.bookings
        .cancel_slot(&Actor::teacher(TEACHER), slot.id())
        .await
        .unwrap();
    worker.drain().await.unwrap();
    assert!(calendar.events().is_empty());
    let cleared = w.reload(&slot).await;
    assert_eq!(cleared.meeting().calendar_event_id(), None);
    assert_eq!(cleared.meeting().url(), None);
    assert_eq!(cleared.meeting().calendar_status(), CalendarStatus::Synced);
    assert!(w.pending().await.is_empty());
}

/// Four workers drain the outbox at once: every request email goes out
/// exactly once.
async fn concurrent_workers_send_each_email_once<S: Store>(store: S) {
    let w = World::new(store);
    for day in 1..=6 {
        let slot = w.open(TEACHER, at(day, 10), 1).await;
        for n in 1..=3 {
            w.request(student(n), &slot).await;
        }
    }
    let mailer = MemoryMailer::new();
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), RetryPolicy { batch: 3, ..eager() }).with_handler(
        Arc::new(Notifications::new(w.store.clone(), directory(), mailer.clone())),
    );
    let results = race(4, move |_| {
        let worker = worker.clone();
        async move { worker.drain().await }
    })
    .await;
    let delivered: usize = results.into_iter().map(|r| r.expect("drain").delivered).sum();
    assert_eq!(
        delivered,
        6 + 18,
        "every message delivered once (slot_opened and booking_requested)"
    );
    let mut keys: Vec<String> = mailer.sent().into_iter().map(|e| e.idempotency_key).collect();
    assert_eq!(keys.len(), 18, "one email per request");
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 18, "no email twice");
    assert!(w.pending().await.is_empty());
}

/// A recipient without an address on file is skipped, not retried.
async fn a_recipient_without_an_address_is_skipped<S: Store>(store: S) {
    let w = World::new(store);
    let directory = directory();
    directory.insert(Contact {
        email: None,
        ..directory_contact(&directory, TEACHER).await
    });
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    w.request(student(1), &slot).await;
    let mailer = MemoryMailer::new();
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), eager())
        .with_handler(Arc::new(Notifications::new(w.store.clone(), directory, mailer.clone())));
    let report = worker.drain().await.unwrap();
    assert_eq!((report.delivered, report.retried, report.failed), (2, 0, 0));
    assert!(mailer.sent().is_empty());
}

async fn directory_contact(directory: &MemoryDirectory, user: UserId) -> Contact {
    directory.contact(user).await.unwrap().unwrap()
}

/// A calendar that lets another student book the slot while the first
/// event is being created: the race two workers syncing one slot run into.
struct RacingCalendar<S: Store> {
    inner: MemoryCalendar,
    world: World<S>,
    slot: SlotId,
    raced: AtomicBool,
    /// The slot's calendar status while the first create was under way.
    seen: Arc<std::sync::Mutex<Option<CalendarStatus>>>,
}

#[async_trait]
impl<S: Store> Calendar for RacingCalendar<S> {
    async fn create_event(&self, spec: &EventSpec) -> Result<EventRef, EffectError> {
        if !self.raced.swap(true, Ordering::SeqCst) {
            let slot = self.world.reload_id(self.slot).await;
            *self.seen.lock().unwrap() = Some(slot.meeting().calendar_status());
            self.world.confirmed(student(2), &slot).await;
        }
        self.inner.create_event(spec).await
    }

    async fn update_event(&self, event_id: &str, spec: &EventSpec) -> Result<EventRef, EffectError> {
        self.inner.update_event(event_id, spec).await
    }

    async fn delete_event(&self, event_id: &str) -> Result<(), EffectError> {
        self.inner.delete_event(event_id).await
    }
}

/// The roster changes while a sync writes the event: the sync notices when
/// it re-reads the roster and writes again, so the event ends up with both.
async fn a_sync_racing_a_roster_change_converges_on_the_latest_roster<S: Store>(store: S) {
    let w = World::new(store.clone());
    let slot = w.open(TEACHER, at(1, 10), 2).await;
    w.confirmed(student(1), &slot).await;
    let calendar = MemoryCalendar::new();
    let seen: Arc<std::sync::Mutex<Option<CalendarStatus>>> = Arc::default();
    let racing = RacingCalendar {
        inner: calendar.clone(),
        world: World::new(store),
        slot: slot.id(),
        raced: AtomicBool::new(false),
        seen: seen.clone(),
    };
    CalendarSync::new(w.store.clone(), directory(), racing)
        .sync(slot.id())
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        Some(CalendarStatus::Pending),
        "pending while the calendar is called"
    );
    let events = calendar.events();
    let event = &events[&event_id_of(slot.id())];
    assert_eq!(
        event.attendees,
        vec!["teacher@example.com", "student1@example.com", "student2@example.com"]
    );
    assert_eq!(
        w.reload(&slot).await.meeting().calendar_status(),
        CalendarStatus::Synced
    );
}

/// A rescheduled lesson leaves one calendar event and joins the other.
async fn the_calendar_follows_a_rescheduled_lesson<S: Store>(store: S) {
    let w = World::new(store);
    let from = w.open(TEACHER, at(2, 10), 2).await;
    let to = w.open(TEACHER, at(3, 10), 2).await;
    let booking = w.confirmed(student(1), &from).await;
    w.confirmed(student(2), &to).await;
    let calendar = MemoryCalendar::new();
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), eager()).with_handler(Arc::new(
        CalendarSync::new(w.store.clone(), directory(), calendar.clone()),
    ));
    worker.drain().await.unwrap();
    assert!(calendar.events().contains_key(&event_id_of(from.id())));
    w.bookings
        .reschedule(&Actor::student(student(1)), booking.id(), to.id())
        .await
        .unwrap();
    worker.drain().await.unwrap();
    let events = calendar.events();
    assert!(
        !events.contains_key(&event_id_of(from.id())),
        "the old lesson has nobody left: its event is gone"
    );
    assert_eq!(
        events[&event_id_of(to.id())].attendees,
        vec!["teacher@example.com", "student2@example.com", "student1@example.com"]
    );
}

/// Each booking event emails the person it concerns, in their language.
async fn each_booking_event_emails_the_person_it_concerns<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let first = w.request(student(1), &slot).await;
    w.request(student(2), &slot).await;
    w.bookings.approve(&Actor::teacher(TEACHER), first.id()).await.unwrap(); // student 2 is declined
    let (_, credit) = w
        .bookings
        .teacher_cancel(&Actor::teacher(TEACHER), first.id())
        .await
        .unwrap();
    // A request nobody answers before its lesson starts expires.
    let late = w.open(TEACHER, at(1, 14), 1).await;
    w.request(student(1), &late).await;
    w.clock.set(at(1, 14));
    assert_eq!(w.bookings.expire_unanswered(10).await.unwrap(), 1);
    // The teacher moves a group lesson to a later slot: both hear of it.
    let group = w.open(TEACHER, at(1, 16), 2).await;
    let seat = w.confirmed(student(1), &group).await;
    let later = w.open(TEACHER, at(1, 18), 2).await;
    w.bookings
        .reschedule(&Actor::teacher(TEACHER), seat.id(), later.id())
        .await
        .unwrap();
    let mailer = MemoryMailer::new();
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), eager()).with_handler(Arc::new(
        Notifications::new(w.store.clone(), directory(), mailer.clone()),
    ));
    worker.drain().await.unwrap();

    let sent: Vec<(String, String)> = mailer.sent().into_iter().map(|e| (e.to, e.subject)).collect();
    let expected = [
        ("teacher@example.com", "New lesson request from Student1"),
        ("teacher@example.com", "New lesson request from Student2"),
        ("student1@example.com", "Teacher 선생님 수업이 확정되었습니다"),
        ("student2@example.com", "Teacher 선생님 수업 신청이 거절되었습니다"),
        (
            "student1@example.com",
            "Teacher 선생님이 수업을 취소했습니다: 보강 수업권이 발급되었습니다",
        ),
        ("teacher@example.com", "New lesson request from Student1"),
        ("student1@example.com", "Teacher 선생님 수업 신청이 만료되었습니다"),
        ("student1@example.com", "Teacher 선생님 수업이 확정되었습니다"),
        ("student1@example.com", "수업 일정 변경: Student1 학생, Teacher 선생님"),
        ("teacher@example.com", "Lesson moved: Student1 with Teacher"),
    ];
    let expected: Vec<(String, String)> = expected
        .map(|(to, subject)| (to.to_owned(), subject.to_owned()))
        .to_vec();
    // Every email once; one slot's in the order of its events (different
    // slots' are sent concurrently).
    let (mut all_sent, mut all_expected) = (sent.clone(), expected.clone());
    all_sent.sort();
    all_expected.sort();
    assert_eq!(all_sent, all_expected);
    for one_slot in [&expected[..5], &expected[5..7], &expected[7..]] {
        let mut rest = sent.iter();
        assert!(
            one_slot.iter().all(|email| rest.any(|s| s == email)),
            "{one_slot:?} out of order in {sent:?}"
        );
    }
    let expiry = Zone::parse("Asia/Seoul").unwrap().to_local(credit.expires_at()).date();
    assert!(
        mailer
            .sent()
            .iter()
            .any(|e| e.text.contains(&format!("{expiry}까지 사용할 수 있는 보강 수업권")))
    );
}

/// A directory that cannot read one user's contact.
#[derive(Clone)]
struct OneBadContact {
    directory: MemoryDirectory,
    bad: UserId,
}

#[async_trait]
impl Directory for OneBadContact {
    async fn contact(&self, user: UserId) -> tutorbook_ports::Result<Option<Contact>> {
        if user == self.bad {
            return Err(tutorbook_ports::Error::Storage("contact unreadable".into()));
        }
        self.directory.contact(user).await
    }
}

/// One student's contact cannot be read: the pass's one read of its
/// contacts fails, and each message then reads its own, so only the
/// messages naming that student are retried; the others' emails go out.
async fn one_unreadable_contact_fails_only_its_own_messages<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 3).await;
    for n in 1..=3 {
        w.confirmed(student(n), &slot).await;
    }
    let mailer = MemoryMailer::new();
    let directory = OneBadContact {
        directory: directory(),
        bad: student(3),
    };
    let worker = OutboxWorker::new(w.store.clone(), w.clock.clone(), eager())
        .with_handler(Arc::new(Notifications::new(w.store.clone(), directory, mailer.clone())));
    let pass = worker.run_once().await.unwrap();
    assert!(pass.retried >= 1, "{pass:?}");
    assert_eq!(pass.delivered + pass.retried, pass.claimed, "{pass:?}");
    let mut to: Vec<String> = mailer.sent().into_iter().map(|e| e.to).collect();
    to.sort();
    to.dedup();
    assert!(to.contains(&"student1@example.com".to_owned()), "{to:?}");
    assert!(to.contains(&"student2@example.com".to_owned()), "{to:?}");
    assert!(!to.contains(&"student3@example.com".to_owned()), "{to:?}");
}

conformance!(
    the_calendar_follows_a_rescheduled_lesson,
    each_booking_event_emails_the_person_it_concerns,
    a_sync_racing_a_roster_change_converges_on_the_latest_roster,
    a_recipient_without_an_address_is_skipped,
    concurrent_workers_send_each_email_once,
    one_unreadable_contact_fails_only_its_own_messages,
    retries_back_off_then_give_up_keeping_the_error,
    a_worker_dying_between_claim_and_done_sends_exactly_one_email,
    email_failures_are_retried_then_failed,
    a_calendar_outage_fails_the_sync_and_a_later_pass_repairs_it,
);
