//! Properties of the slot aggregate under arbitrary command sequences: the
//! seat invariants hold after every command, a refused command changes
//! nothing (neither the slot nor the credit), and the audit entries of every
//! accepted command tell exactly how each booking's status changed.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, Attendance, AuditEntry, BookingId, BookingPolicy, BookingStatus, CreditStatus, DomainEvent, DomainResult,
    MakeupCredit, Outcome, PackageSessionId, Slot, SlotDraft, UserId,
};
use uuid::Uuid;

/// Everyone who can act: the teacher, another teacher, staff and four students.
const PEOPLE: usize = 7;
const STUDENTS: u128 = 4;

fn person(i: usize) -> Actor {
    match i % PEOPLE {
        0 => teacher(),
        1 => other_teacher(),
        2 => staff(),
        n => student(n as u128 - 2),
    }
}

/// Who issues a command, relative to the person it concerns.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// The booking's student, the credit's student, or the slot's teacher.
    Owner,
    Staff,
    Anyone(usize),
}

impl Who {
    fn resolve(self, owner: Actor) -> Actor {
        match self {
            Self::Owner => owner,
            Self::Staff => staff(),
            Self::Anyone(i) => person(i),
        }
    }
}

#[derive(Debug, Clone)]
enum Command {
    Request {
        by: usize,
        /// Approval switches (1:1, group) overriding the scenario's for this request.
        approval: Option<(bool, bool)>,
    },
    Approve {
        by: Who,
        booking: Index,
    },
    Decline {
        by: Who,
        booking: Index,
    },
    StudentCancel {
        by: Who,
        booking: Index,
    },
    TeacherCancel {
        by: Who,
        booking: Index,
    },
    CancelAll {
        by: Who,
        /// Offer one credit id fewer than the confirmed seats.
        short: bool,
    },
    Delete {
        by: Who,
    },
    Attend {
        by: Who,
        booking: Index,
        no_show: bool,
    },
    Redeem {
        by: Who,
        credit: Index,
    },
}

#[derive(Debug, Clone)]
struct Step {
    /// Time passing before the command.
    advance: Duration,
    command: Command,
}

#[derive(Debug, Clone)]
struct Scenario {
    capacity: u32,
    package: bool,
    /// The slot's start, after [`NOW`].
    start_in: Duration,
    policy: BookingPolicy,
    /// Expiry of each student's credit with the teacher, after [`NOW`].
    credit_expiries: Vec<Duration>,
    steps: Vec<Step>,
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        6 => Just(Who::Owner),
        1 => Just(Who::Staff),
        1 => (0..PEOPLE).prop_map(Who::Anyone),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    let approval = prop_oneof![2 => Just(None), 1 => any::<(bool, bool)>().prop_map(Some)];
    prop_oneof![
        12 => (prop_oneof![5 => 3..PEOPLE, 1 => 0..3_usize], approval)
            .prop_map(|(by, approval)| Command::Request { by, approval }),
        6 => (who(), any::<Index>()).prop_map(|(by, booking)| Command::Approve { by, booking }),
        2 => (who(), any::<Index>()).prop_map(|(by, booking)| Command::Decline { by, booking }),
        4 => (who(), any::<Index>()).prop_map(|(by, booking)| Command::StudentCancel { by, booking }),
        4 => (who(), any::<Index>()).prop_map(|(by, booking)| Command::TeacherCancel { by, booking }),
        1 => (who(), any::<bool>()).prop_map(|(by, short)| Command::CancelAll { by, short }),
        1 => who().prop_map(|by| Command::Delete { by }),
        4 => (who(), any::<Index>(), any::<bool>())
            .prop_map(|(by, booking, no_show)| Command::Attend { by, booking, no_show }),
        4 => (who(), any::<Index>()).prop_map(|(by, credit)| Command::Redeem { by, credit }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let minutes = prop_oneof![4 => Just(0_i64), 3 => 1..=120_i64, 1 => 121..=1440_i64];
    (minutes, command()).prop_map(|(minutes, command)| Step {
        advance: Duration::minutes(minutes),
        command,
    })
}

fn policy_strategy() -> impl Strategy<Value = BookingPolicy> {
    (
        any::<(bool, bool)>(),
        prop::sample::select(vec![0_i64, 60, 360]),
        prop::sample::select(vec![2_i64, 90]),
        prop::sample::select(vec![0_i64, 2, 24, 48]),
    )
        .prop_map(|((one, group), notice, advance, window)| {
            BookingPolicy::default()
                .with_approval(one, group)
                .with_min_notice(Duration::minutes(notice))
                .and_then(|p| p.with_max_advance(Duration::days(advance)))
                .and_then(|p| p.with_cancel_window(Duration::hours(window)))
                .expect("valid policy")
        })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        1..=4_u32,
        prop::bool::weighted(0.1),
        30..=72 * 60_i64,
        policy_strategy(),
        prop::collection::vec(1..=240_i64, STUDENTS as usize),
        prop::collection::vec(step(), 1..=40),
    )
        .prop_map(|(capacity, package, start_in, policy, expiries, steps)| Scenario {
            capacity,
            package,
            start_in: Duration::minutes(start_in),
            policy,
            credit_expiries: expiries.into_iter().map(Duration::hours).collect(),
            steps,
        })
}

/// The slot, the credits that could go into it, and the clock.
struct World {
    slot: Slot,
    credits: Vec<MakeupCredit>,
    policy: BookingPolicy,
    now: OffsetDateTime,
    next_id: u128,
}

/// What one command did.
struct Applied {
    before: Slot,
    /// The redeemed credit's position and state before a redemption.
    credit_before: Option<(usize, MakeupCredit)>,
    result: DomainResult<Outcome>,
}

fn stored_credit(
    n: u128,
    student: UserId,
    teacher: UserId,
    expires_in: Duration,
    status: CreditStatus,
) -> MakeupCredit {
    let redeemed = (status == CreditStatus::Redeemed).then(|| booking_id(0x900 + n));
    MakeupCredit::restore(
        credit_id(0x900 + n),
        student,
        teacher,
        booking_id(0x800 + n),
        NOW - Duration::days(1),
        NOW + expires_in,
        status,
        redeemed,
    )
    .unwrap()
}

impl World {
    fn new(scenario: &Scenario) -> Self {
        let draft = SlotDraft {
            package_session: scenario
                .package
                .then(|| PackageSessionId::from_uuid(Uuid::from_u128(0xBAC))),
            ..draft(NOW + scenario.start_in, scenario.capacity)
        };
        let slot = open_draft(slot_id(1), draft);
        let mut credits: Vec<_> = (1..=STUDENTS)
            .zip(&scenario.credit_expiries)
            .map(|(n, &expires_in)| stored_credit(n, student(n).user, user(TEACHER), expires_in, CreditStatus::Active))
            .collect();
        let week = Duration::days(7);
        credits.push(stored_credit(
            11,
            student(1).user,
            user(OTHER_TEACHER),
            week,
            CreditStatus::Active,
        ));
        credits.push(stored_credit(
            12,
            student(2).user,
            user(TEACHER),
            week,
            CreditStatus::Redeemed,
        ));
        credits.push(stored_credit(
            13,
            student(3).user,
            user(TEACHER),
            week,
            CreditStatus::Expired,
        ));
        Self {
            slot,
            credits,
            policy: scenario.policy,
            now: NOW,
            next_id: 1,
        }
    }

    fn fresh(&mut self) -> u128 {
        self.next_id += 1;
        self.next_id
    }

    /// An existing booking of the slot, or now and then one that does not exist.
    fn pick(&self, index: Index) -> (BookingId, Actor) {
        let bookings = self.slot.bookings();
        let picked = index.index(4 * bookings.len() + 1);
        match bookings.get(picked / 4) {
            Some(b) => (b.id(), Actor::student(b.student())),
            None => (booking_id(0xDEAD), student(1)),
        }
    }

    fn apply(&mut self, step: &Step) -> Applied {
        self.now += step.advance;
        let now = self.now;
        let before = self.slot.clone();
        let mut credit_before = None;
        let settings = settings();
        let result = match step.command {
            Command::Request { by, approval } => {
                let policy = match approval {
                    Some((one, group)) => self.policy.with_approval(one, group),
                    None => self.policy,
                };
                let id = booking_id(self.fresh());
                self.slot.request(id, &person(by), &policy, now)
            }
            Command::Approve { by, booking } => {
                let (id, _) = self.pick(booking);
                self.slot.approve(id, &by.resolve(teacher()), now)
            }
            Command::Decline { by, booking } => {
                let (id, _) = self.pick(booking);
                self.slot.decline(id, &by.resolve(teacher()), now)
            }
            Command::StudentCancel { by, booking } => {
                let (id, owner) = self.pick(booking);
                let policy = self.policy;
                self.slot.cancel_by_student(id, &by.resolve(owner), &policy, now)
            }
            Command::TeacherCancel { by, booking } => {
                let (id, _) = self.pick(booking);
                let credit = credit_id(self.fresh());
                self.slot
                    .cancel_by_teacher(id, credit, &by.resolve(teacher()), &settings, now)
            }
            Command::CancelAll { by, short } => {
                let seats = if short {
                    self.slot.booked_count().saturating_sub(1)
                } else {
                    self.slot.capacity().get()
                };
                let ids: Vec<_> = (0..seats).map(|_| credit_id(self.fresh())).collect();
                self.slot.cancel_all(&by.resolve(teacher()), &ids, &settings, now)
            }
            Command::Delete { by } => self.slot.delete(&by.resolve(teacher()), now),
            Command::Attend { by, booking, no_show } => {
                let (id, _) = self.pick(booking);
                let attendance = if no_show {
                    Attendance::NoShow
                } else {
                    Attendance::Completed
                };
                self.slot.mark_attendance(id, attendance, &by.resolve(teacher()), now)
            }
            Command::Redeem { by, credit } => {
                let i = credit.index(self.credits.len());
                let id = booking_id(self.fresh());
                let owner = Actor::student(self.credits[i].student());
                credit_before = Some((i, self.credits[i].clone()));
                self.credits[i].redeem_into(&mut self.slot, id, &by.resolve(owner), now)
            }
        };
        if let Ok(outcome) = &result {
            // Credits issued by a teacher cancellation can be redeemed later on.
            let issued = outcome
                .credits
                .iter()
                .filter(|c| c.status() == CreditStatus::Active && c.redeemed_booking().is_none());
            self.credits.extend(issued.cloned());
        }
        Applied {
            before,
            credit_before,
            result,
        }
    }
}

fn check_seats(slot: &Slot) -> Result<(), TestCaseError> {
    let confirmed = slot
        .bookings()
        .iter()
        .filter(|b| b.status() == BookingStatus::Confirmed)
        .count();
    prop_assert!(slot.booked_count() <= slot.capacity().get());
    prop_assert_eq!(slot.booked_count() as usize, confirmed);
    let mut active: Vec<_> = slot
        .bookings()
        .iter()
        .filter(|b| b.status().is_active())
        .map(|b| b.student())
        .collect();
    let count = active.len();
    active.sort();
    active.dedup();
    prop_assert_eq!(active.len(), count, "a student holds two active bookings");
    prop_assert_eq!(slot.check_invariants(), Ok(()));
    Ok(())
}

/// The audit entries of an accepted command tell exactly how each booking changed.
fn check_audit(before: &Slot, after: &Slot, outcome: &Outcome, now: OffsetDateTime) -> Result<(), TestCaseError> {
    prop_assert!(after.bookings().len() >= before.bookings().len(), "a booking vanished");
    for (old, new) in before.bookings().iter().zip(after.bookings()) {
        prop_assert_eq!(old.id(), new.id(), "bookings were reordered");
    }
    for entry in &outcome.audit {
        prop_assert_eq!(entry.slot, after.id());
        prop_assert_eq!(entry.at, now);
        prop_assert!(entry.actor.is_some());
        prop_assert!(after.booking(entry.booking).is_some(), "audit of an unknown booking");
        prop_assert_ne!(entry.from, Some(entry.to), "an audit entry without a change");
    }
    for booking in after.bookings() {
        let prior = before.booking(booking.id()).map(|b| b.status());
        let entries: Vec<&AuditEntry> = outcome.audit.iter().filter(|e| e.booking == booking.id()).collect();
        match entries.last() {
            None => {
                prop_assert_eq!(prior, Some(booking.status()), "a status changed without an audit entry");
                prop_assert_eq!(Some(booking), before.booking(booking.id()));
            }
            Some(last) => {
                prop_assert_eq!(last.to, booking.status());
                prop_assert_eq!(entries[0].from, prior);
                for pair in entries.windows(2) {
                    prop_assert_eq!(Some(pair[0].to), pair[1].from);
                }
                prop_assert_eq!(booking.updated_at(), now);
            }
        }
    }
    Ok(())
}

/// The events of an accepted command agree with the slot after it.
fn check_events(after: &Slot, outcome: &Outcome) -> Result<(), TestCaseError> {
    for event in &outcome.events {
        match event {
            DomainEvent::SeatReleased { booked_count, .. } => prop_assert_eq!(*booked_count, after.booked_count()),
            DomainEvent::BookingDeclined { booking, .. } => {
                prop_assert_eq!(status_of(after, *booking), BookingStatus::Declined)
            }
            DomainEvent::BookingConfirmed { booking, .. } => {
                prop_assert_eq!(status_of(after, *booking), BookingStatus::Confirmed)
            }
            DomainEvent::BookingTeacherCancelled { booking, credit, .. } => {
                prop_assert_eq!(status_of(after, *booking), BookingStatus::TeacherCancelled);
                let issued = outcome.credits.iter().find(|c| c.id() == *credit);
                prop_assert!(issued.is_some_and(|c| c.source_booking() == *booking && c.teacher() == after.teacher()));
            }
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn seat_invariants_hold_and_refusals_change_nothing(scenario in scenario()) {
        let mut world = World::new(&scenario);
        for step in &scenario.steps {
            let applied = world.apply(step);
            check_seats(&world.slot)?;
            match &applied.result {
                Err(_) => {
                    prop_assert_eq!(&world.slot, &applied.before, "a refused command changed the slot");
                    if let Some((i, credit)) = &applied.credit_before {
                        prop_assert_eq!(&world.credits[*i], credit, "a refused redemption changed the credit");
                    }
                }
                Ok(outcome) => {
                    check_events(&world.slot, outcome)?;
                    if let Some((i, _)) = &applied.credit_before {
                        let credit = &world.credits[*i];
                        prop_assert_eq!(credit.status(), CreditStatus::Redeemed);
                        let booking = credit.redeemed_booking().expect("a redeemed credit names its booking");
                        prop_assert_eq!(status_of(&world.slot, booking), BookingStatus::Confirmed);
                    }
                }
            }
        }
    }

    #[test]
    fn audit_entries_mirror_every_status_change(scenario in scenario()) {
        let mut world = World::new(&scenario);
        let mut history: Vec<AuditEntry> = Vec::new();
        for step in &scenario.steps {
            let applied = world.apply(step);
            if let Ok(outcome) = &applied.result {
                check_audit(&applied.before, &world.slot, outcome, world.now)?;
                history.extend(outcome.audit.iter().cloned());
            }
        }
        // Replaying the whole history gives every booking's final status.
        for booking in world.slot.bookings() {
            let entries: Vec<_> = history.iter().filter(|e| e.booking == booking.id()).collect();
            prop_assert!(!entries.is_empty(), "a booking without history");
            prop_assert_eq!(entries[0].from, None);
            prop_assert_eq!(entries[0].at, booking.created_at());
            for pair in entries.windows(2) {
                prop_assert_eq!(Some(pair[0].to), pair[1].from);
            }
            prop_assert_eq!(entries[entries.len() - 1].to, booking.status());
        }
        prop_assert_eq!(history.len(), history.iter().filter(|e| world.slot.booking(e.booking).is_some()).count());
    }
}
