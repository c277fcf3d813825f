//! Builders shared by the domain's integration tests: a fixed clock, readable
//! ids and slots a few days after "now".
//!
//! Each test file uses only part of this module.
#![allow(dead_code)]

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, BookingId, BookingPolicy, BookingStatus, CreditId, DomainResult, LessonWindow, MakeupCredit, Meeting,
    Outcome, PackageSessionId, PlatformSettings, Slot, SlotDraft, SlotId, UserId, Zone,
};
use uuid::Uuid;

/// The fixed "now" of every test.
pub const NOW: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);
/// Start of the usual slot: three days after [`NOW`].
pub const START: OffsetDateTime = datetime!(2026-12-04 10:00 UTC);
/// Default lesson length.
pub const LESSON: Duration = Duration::minutes(50);

pub fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

pub const TEACHER: u128 = 0x7EAC_0001;
pub const OTHER_TEACHER: u128 = 0x7EAC_0002;
pub const STAFF: u128 = 0x57AF_0001;

pub fn teacher() -> Actor {
    Actor::teacher(user(TEACHER))
}

pub fn other_teacher() -> Actor {
    Actor::teacher(user(OTHER_TEACHER))
}

pub fn staff() -> Actor {
    Actor::staff(user(STAFF))
}

/// Student number `n` (1, 2, 3, ...).
pub fn student(n: u128) -> Actor {
    Actor::student(user(0x5700_0000 + n))
}

pub fn booking_id(n: u128) -> BookingId {
    BookingId::from_uuid(Uuid::from_u128(0xB000_0000 + n))
}

pub fn credit_id(n: u128) -> CreditId {
    CreditId::from_uuid(Uuid::from_u128(0xC000_0000 + n))
}

pub fn slot_id(n: u128) -> SlotId {
    SlotId::from_uuid(Uuid::from_u128(0x5100_0000 + n))
}

pub fn settings() -> PlatformSettings {
    PlatformSettings::default()
}

/// The default policy: 1:1 needs approval, group does not, 24 h cancel window.
pub fn policy() -> BookingPolicy {
    BookingPolicy::default()
}

/// A policy confirming every request at once.
pub fn instant_policy() -> BookingPolicy {
    BookingPolicy::default().with_approval(false, false)
}

/// A policy where every request waits for the teacher.
pub fn approval_policy() -> BookingPolicy {
    BookingPolicy::default().with_approval(true, true)
}

pub fn window(start: OffsetDateTime) -> LessonWindow {
    LessonWindow::new(start, start + LESSON).unwrap()
}

pub fn draft_for(teacher: UserId, start: OffsetDateTime, capacity: u32) -> SlotDraft {
    SlotDraft {
        teacher,
        window: window(start),
        zone: Zone::default_zone(),
        capacity,
        meeting: Meeting::default(),
        package_session: None,
        waitlist: None,
    }
}

pub fn draft(start: OffsetDateTime, capacity: u32) -> SlotDraft {
    draft_for(user(TEACHER), start, capacity)
}

/// Opens a slot of the teacher at `start` (no other slots, default policy), at [`NOW`].
pub fn slot_at(id: SlotId, start: OffsetDateTime, capacity: u32) -> Slot {
    open_draft(id, draft(start, capacity))
}

pub fn open_draft(id: SlotId, draft: SlotDraft) -> Slot {
    let actor = Actor::teacher(draft.teacher);
    Slot::open(id, draft, &actor, &[], &policy(), &settings(), NOW)
        .unwrap()
        .0
}

/// The usual slot: the teacher's, at [`START`], opened at [`NOW`].
pub fn slot(capacity: u32) -> Slot {
    slot_at(slot_id(1), START, capacity)
}

/// A course-package session slot at [`START`].
pub fn package_slot(capacity: u32) -> Slot {
    let draft = SlotDraft {
        package_session: Some(PackageSessionId::from_uuid(Uuid::from_u128(0xBAC_0001))),
        waitlist: None,
        ..draft(START, capacity)
    };
    open_draft(slot_id(9), draft)
}

/// Student `n` gets a confirmed seat (booking id `n`) at [`NOW`].
pub fn confirm(slot: &mut Slot, n: u128) -> BookingId {
    let id = booking_id(n);
    slot.request(id, &student(n), &instant_policy(), NOW).unwrap();
    assert_eq!(slot.booking(id).unwrap().status(), BookingStatus::Confirmed);
    id
}

/// Student `n` asks for a seat (booking id `n`) at [`NOW`]; it waits for the teacher.
pub fn ask(slot: &mut Slot, n: u128) -> BookingId {
    let id = booking_id(n);
    slot.request(id, &student(n), &approval_policy(), NOW).unwrap();
    assert_eq!(slot.booking(id).unwrap().status(), BookingStatus::Requested);
    id
}

/// A credit of student `n` with the teacher, issued by a teacher cancellation at [`NOW`]
/// (so it expires at `NOW + 30 days`).
pub fn issued_credit(n: u128) -> MakeupCredit {
    let mut source = slot_at(slot_id(0xC0), START + Duration::days(1), 4);
    let booking = confirm(&mut source, n);
    let outcome = source
        .cancel_by_teacher(booking, credit_id(n), &teacher(), &settings(), NOW)
        .unwrap();
    outcome.credits.into_iter().next().unwrap()
}

/// Runs a command that must be refused with `code`, and checks it left the slot exactly as it was.
#[track_caller]
pub fn assert_refused(slot: &mut Slot, code: &str, command: impl FnOnce(&mut Slot) -> DomainResult<Outcome>) {
    let before = slot.clone();
    let result = command(slot);
    match result {
        Err(error) => assert_eq!(error.code(), code, "refused with the wrong error: {error}"),
        Ok(outcome) => panic!("expected `{code}`, the command succeeded with {outcome:?}"),
    }
    assert_eq!(*slot, before, "a refused command changed the slot");
}

/// The status of one booking of the slot.
#[track_caller]
pub fn status_of(slot: &Slot, booking: BookingId) -> BookingStatus {
    slot.booking(booking).expect("booking on the slot").status()
}
