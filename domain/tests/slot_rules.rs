//! One test per slot rule (docs/product.md §3 and 5): opening, requesting, approving,
//! declining, cancelling, deleting, attendance, history, and that every
//! refusal leaves the slot exactly as it was.

mod common;

use common::*;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, Attendance, AuditEntry, Booking, BookingSource, BookingStatus, CancellationTier, Capacity, CreditStatus,
    DeclineReason, DomainError, DomainEvent, LessonWindow, Meeting, PlatformSettings, Slot, SlotDraft, SlotStatus,
    Zone,
};

// ----- open -----

fn open(draft: SlotDraft, actor: &Actor, existing: &[Slot]) -> Result<Slot, DomainError> {
    Slot::open(slot_id(2), draft, actor, existing, &policy(), &settings(), NOW).map(|(slot, _)| slot)
}

#[test]
fn open_one_on_one_slot_has_one_seat() {
    let (slot, outcome) = Slot::open(
        slot_id(1),
        draft(START, 1),
        &teacher(),
        &[],
        &policy(),
        &settings(),
        NOW,
    )
    .unwrap();
    assert_eq!(slot.capacity().get(), 1);
    assert!(slot.capacity().is_one_on_one());
    assert_eq!(slot.status(), SlotStatus::Open);
    assert_eq!(slot.booked_count(), 0);
    assert_eq!(slot.teacher(), user(TEACHER));
    assert_eq!(slot.window().start(), START);
    assert_eq!(slot.window().end(), START + LESSON);
    assert_eq!(slot.created_at(), NOW);
    assert!(slot.bookings().is_empty());
    assert!(slot.is_browsable(NOW));
    assert_eq!(
        outcome.events,
        vec![DomainEvent::SlotOpened {
            slot: slot_id(1),
            teacher: user(TEACHER),
            start: START
        }]
    );
    assert!(outcome.audit.is_empty());
}

#[test]
fn open_group_slot_takes_two_to_four_seats() {
    for seats in 2..=4 {
        let slot = open(draft(START, seats), &teacher(), &[]).unwrap();
        assert_eq!(slot.capacity().get(), seats);
        assert!(!slot.capacity().is_one_on_one());
    }
}

#[test]
fn open_refuses_zero_or_too_many_seats() {
    for seats in [0, 5, 100] {
        let error = open(draft(START, seats), &teacher(), &[]).unwrap_err();
        assert_eq!(error.code(), "invalid_capacity");
        assert_eq!(error, DomainError::InvalidCapacity { got: seats, max: 4 });
    }
}

#[test]
fn open_follows_the_platform_group_capacity() {
    let six = PlatformSettings::new(6, Duration::days(30)).unwrap();
    let open_with = |seats| Slot::open(slot_id(1), draft(START, seats), &teacher(), &[], &policy(), &six, NOW);
    assert!(open_with(6).is_ok());
    assert_eq!(open_with(7).unwrap_err().code(), "invalid_capacity");
}

#[test]
fn lesson_window_must_end_after_it_starts() {
    let same = LessonWindow::new(START, START).unwrap_err();
    assert_eq!(same.code(), "invalid_time_range");
    let backwards = LessonWindow::new(START, START - Duration::minutes(1)).unwrap_err();
    assert_eq!(backwards.code(), "invalid_time_range");
}

#[test]
fn open_refuses_a_start_not_in_the_future() {
    for start in [NOW, NOW - Duration::hours(1)] {
        let error = open(draft(start, 1), &teacher(), &[]).unwrap_err();
        assert_eq!(error.code(), "slot_in_past");
    }
    assert!(open(draft(NOW + Duration::minutes(1), 1), &teacher(), &[]).is_ok());
}

#[test]
fn open_refuses_an_overlap_with_the_teachers_open_slots() {
    let existing = [slot_at(slot_id(10), START, 1)];
    for start in [START, START + Duration::minutes(30), START - Duration::minutes(30)] {
        let error = open(draft(start, 1), &teacher(), &existing).unwrap_err();
        assert_eq!(error.code(), "slot_overlap", "start {start}");
    }
    // Back to back is fine without buffers.
    assert!(open(draft(START + LESSON, 1), &teacher(), &existing).is_ok());
    assert!(open(draft(START - LESSON, 1), &teacher(), &existing).is_ok());
}

#[test]
fn open_counts_buffers_as_part_of_the_lesson() {
    let existing = [slot_at(slot_id(10), START, 1)];
    let buffered = policy()
        .with_buffers(Duration::minutes(5), Duration::minutes(10))
        .unwrap();
    let open_with = |start: OffsetDateTime| {
        Slot::open(
            slot_id(2),
            draft(start, 1),
            &teacher(),
            &existing,
            &buffered,
            &settings(),
            NOW,
        )
    };
    // Right after the existing lesson: its after-buffer and the new before-buffer need 15 minutes.
    assert_eq!(open_with(START + LESSON).unwrap_err(), DomainError::SlotOverlap);
    assert_eq!(
        open_with(START + LESSON + Duration::minutes(14)).unwrap_err(),
        DomainError::SlotOverlap
    );
    assert!(open_with(START + LESSON + Duration::minutes(15)).is_ok());
    // Right before it.
    assert_eq!(open_with(START - LESSON).unwrap_err(), DomainError::SlotOverlap);
    assert!(open_with(START - LESSON - Duration::minutes(15)).is_ok());
}

#[test]
fn overlap_search_range_covers_every_possible_collision() {
    let buffered = policy()
        .with_buffers(Duration::minutes(5), Duration::minutes(10))
        .unwrap();
    let (from, to) = Slot::overlap_search_range(&window(START), &buffered);
    assert_eq!(from, START - Duration::minutes(15));
    assert_eq!(to, START + LESSON + Duration::minutes(15));
}

#[test]
fn cancelled_and_deleted_slots_do_not_block_a_new_one() {
    let mut cancelled = slot_at(slot_id(10), START, 1);
    cancelled.cancel_all(&teacher(), &[], &settings(), NOW).unwrap();
    let mut deleted = slot_at(slot_id(11), START, 2);
    deleted.delete(&teacher(), NOW).unwrap();
    assert_eq!(cancelled.status(), SlotStatus::Cancelled);
    assert_eq!(deleted.status(), SlotStatus::Deleted);
    assert!(open(draft(START, 1), &teacher(), &[cancelled, deleted]).is_ok());
}

#[test]
fn another_teachers_slot_does_not_block() {
    let theirs = open_draft(slot_id(10), draft_for(user(OTHER_TEACHER), START, 1));
    assert!(open(draft(START, 1), &teacher(), &[theirs]).is_ok());
}

#[test]
fn only_the_teacher_or_staff_opens_a_slot_for_the_teacher() {
    let impostors = [
        student(1),
        other_teacher(),
        // The teacher's id acting in a student role is not the teacher acting.
        Actor::student(user(TEACHER)),
    ];
    for actor in impostors {
        assert_eq!(open(draft(START, 1), &actor, &[]).unwrap_err().code(), "forbidden");
    }
    let by_staff = open(draft(START, 1), &staff(), &[]).unwrap();
    assert_eq!(by_staff.teacher(), user(TEACHER));
}

// ----- request -----

#[test]
fn request_on_one_on_one_waits_for_approval_without_a_seat() {
    let mut slot = slot(1);
    let outcome = slot.request(booking_id(1), &student(1), &policy(), NOW).unwrap();
    let booking = slot.booking(booking_id(1)).unwrap();
    assert_eq!(booking.status(), BookingStatus::Requested);
    assert_eq!(booking.student(), student(1).user);
    assert_eq!(booking.source(), BookingSource::Direct);
    assert_eq!(booking.created_at(), NOW);
    assert_eq!(slot.booked_count(), 0);
    assert_eq!(outcome.booking, Some(booking_id(1)));
    assert_eq!(
        outcome.events,
        vec![DomainEvent::BookingRequested {
            booking: booking_id(1),
            slot: slot.id(),
            student: student(1).user,
            teacher: user(TEACHER)
        }]
    );
    assert_eq!(
        outcome.audit,
        vec![AuditEntry {
            booking: booking_id(1),
            slot: slot.id(),
            actor: Some(student(1).user),
            at: NOW,
            from: None,
            to: BookingStatus::Requested,
            reason: "requested".into()
        }]
    );
}

#[test]
fn request_on_group_is_confirmed_with_a_seat() {
    let mut slot = slot(3);
    let outcome = slot.request(booking_id(1), &student(1), &policy(), NOW).unwrap();
    assert_eq!(status_of(&slot, booking_id(1)), BookingStatus::Confirmed);
    assert_eq!(slot.booked_count(), 1);
    assert_eq!(
        outcome.events,
        vec![DomainEvent::BookingConfirmed {
            booking: booking_id(1),
            slot: slot.id(),
            student: student(1).user,
            teacher: user(TEACHER)
        }]
    );
    assert_eq!(outcome.audit.len(), 1);
    assert_eq!(outcome.audit[0].from, None);
    assert_eq!(outcome.audit[0].to, BookingStatus::Confirmed);
    assert_eq!(outcome.audit[0].reason, "confirmed");
}

#[test]
fn request_follows_the_policy_approval_switches() {
    let mut group = slot(3);
    group
        .request(booking_id(1), &student(1), &approval_policy(), NOW)
        .unwrap();
    assert_eq!(status_of(&group, booking_id(1)), BookingStatus::Requested);
    assert_eq!(group.booked_count(), 0);

    let mut one = slot(1);
    one.request(booking_id(1), &student(1), &instant_policy(), NOW).unwrap();
    assert_eq!(status_of(&one, booking_id(1)), BookingStatus::Confirmed);
    assert_eq!(one.booked_count(), 1);
}

#[test]
fn request_refuses_a_package_session() {
    let mut slot = package_slot(4);
    assert_refused(&mut slot, "package_slot", |s| {
        s.request(booking_id(1), &student(1), &policy(), NOW)
    });
}

#[test]
fn request_refuses_ones_own_slot() {
    let mut slot = slot(2);
    assert_refused(&mut slot, "own_slot", |s| {
        s.request(booking_id(1), &teacher(), &policy(), NOW)
    });
}

#[test]
fn request_refuses_a_started_slot() {
    let mut slot = slot(2);
    for now in [START, START + Duration::minutes(1)] {
        assert_refused(&mut slot, "slot_in_past", |s| {
            s.request(booking_id(1), &student(1), &policy(), now)
        });
    }
}

#[test]
fn request_refuses_a_second_active_booking_of_the_student() {
    let mut slot = slot(3);
    ask(&mut slot, 1);
    assert_refused(&mut slot, "duplicate_booking", |s| {
        s.request(booking_id(2), &student(1), &approval_policy(), NOW)
    });
    let mut slot = self::slot(3);
    confirm(&mut slot, 1);
    assert_refused(&mut slot, "duplicate_booking", |s| {
        s.request(booking_id(2), &student(1), &policy(), NOW)
    });
}

#[test]
fn request_is_allowed_again_after_cancel_or_decline() {
    let mut slot = slot(1);
    let first = ask(&mut slot, 1);
    slot.cancel_by_student(first, &student(1), &policy(), NOW).unwrap();
    slot.request(booking_id(2), &student(1), &policy(), NOW).unwrap();
    slot.decline(booking_id(2), &teacher(), NOW).unwrap();
    slot.request(booking_id(3), &student(1), &policy(), NOW).unwrap();
    assert_eq!(status_of(&slot, booking_id(3)), BookingStatus::Requested);
    assert_eq!(slot.bookings().len(), 3);
    assert!(slot.check_invariants().is_ok());
}

#[test]
fn request_refuses_less_than_the_minimum_notice() {
    let mut slot = slot(2);
    let four_days = policy().with_min_notice(Duration::days(4)).unwrap();
    assert_refused(&mut slot, "min_notice", |s| {
        s.request(booking_id(1), &student(1), &four_days, NOW)
    });
    let error = slot
        .clone()
        .request(booking_id(1), &student(1), &four_days, NOW)
        .unwrap_err();
    assert_eq!(error, DomainError::MinNotice { minutes: 4 * 24 * 60 });
    // Exactly the notice is enough.
    let exact = policy().with_min_notice(START - NOW).unwrap();
    assert!(slot.request(booking_id(1), &student(1), &exact, NOW).is_ok());
}

#[test]
fn request_refuses_more_than_the_maximum_advance() {
    let far = NOW + Duration::days(100);
    let mut slot = slot_at(slot_id(3), far, 2);
    assert_refused(&mut slot, "max_advance", |s| {
        s.request(booking_id(1), &student(1), &policy(), NOW)
    });
    let error = slot
        .clone()
        .request(booking_id(1), &student(1), &policy(), NOW)
        .unwrap_err();
    assert_eq!(error, DomainError::MaxAdvance { days: 90 });
    // Exactly 90 days ahead is still bookable.
    let at_limit = far - Duration::days(90);
    assert!(slot.request(booking_id(1), &student(1), &policy(), at_limit).is_ok());
}

#[test]
fn request_refuses_a_full_slot() {
    let mut group = slot(2);
    confirm(&mut group, 1);
    confirm(&mut group, 2);
    assert!(group.is_full());
    assert!(!group.is_browsable(NOW));
    assert_refused(&mut group, "slot_full", |s| {
        s.request(booking_id(3), &student(3), &policy(), NOW)
    });

    let mut one = slot(1);
    confirm(&mut one, 1);
    assert_refused(&mut one, "slot_full", |s| {
        s.request(booking_id(2), &student(2), &policy(), NOW)
    });
}

#[test]
fn request_refuses_a_cancelled_or_deleted_slot() {
    let mut cancelled = slot(2);
    cancelled.cancel_all(&teacher(), &[], &settings(), NOW).unwrap();
    assert_refused(&mut cancelled, "slot_closed", |s| {
        s.request(booking_id(1), &student(1), &policy(), NOW)
    });
    let mut deleted = slot(2);
    deleted.delete(&teacher(), NOW).unwrap();
    assert_refused(&mut deleted, "slot_closed", |s| {
        s.request(booking_id(1), &student(1), &policy(), NOW)
    });
}

// ----- approve -----

#[test]
fn approve_is_for_the_teacher_or_staff_only() {
    let mut slot = slot(1);
    let booking = ask(&mut slot, 1);
    // The booking's own student sees it but may not approve; strangers
    // are told it does not exist.
    assert_refused(&mut slot, "forbidden", |s| s.approve(booking, &student(1), NOW));
    for actor in [student(2), other_teacher()] {
        assert_refused(&mut slot, "not_found", |s| s.approve(booking, &actor, NOW));
    }
    let outcome = slot.approve(booking, &staff(), NOW).unwrap();
    assert_eq!(outcome.audit[0].actor, Some(user(STAFF)));
    assert_eq!(status_of(&slot, booking), BookingStatus::Confirmed);
}

#[test]
fn approve_takes_only_a_request() {
    let mut slot = slot(3);
    let confirmed = confirm(&mut slot, 1);
    let declined = ask(&mut slot, 2);
    slot.decline(declined, &teacher(), NOW).unwrap();
    for booking in [confirmed, declined] {
        assert_refused(&mut slot, "invalid_booking_status", |s| {
            s.approve(booking, &teacher(), NOW)
        });
    }
    let error = slot.clone().approve(confirmed, &teacher(), NOW).unwrap_err();
    assert_eq!(error, DomainError::InvalidBookingStatus { status: "confirmed" });
    assert_refused(&mut slot, "not_found", |s| s.approve(booking_id(99), &teacher(), NOW));
}

#[test]
fn filling_the_last_seat_any_way_declines_the_waiting_requests() {
    // A request left over from an approval policy, then the seat went to an instant booking.
    let mut slot = slot(1);
    let waiting = ask(&mut slot, 1);
    confirm(&mut slot, 2);
    assert!(slot.is_full());
    assert_eq!(slot.booking(waiting).unwrap().status(), BookingStatus::Declined);
    assert_refused(&mut slot, "invalid_booking_status", |s| {
        s.approve(waiting, &teacher(), NOW)
    });
}

#[test]
fn approve_refuses_a_full_slot() {
    // Stored data where a request still waits on a full slot (written before
    // the automatic decline existed): approval must not overbook it.
    let full = slot(1);
    let at = |n: u128, status| {
        Booking::restore(
            booking_id(n),
            full.id(),
            student(n).user,
            status,
            BookingSource::Direct,
            NOW,
            NOW,
        )
    };
    let mut slot = Slot::restore(
        full.id(),
        full.teacher(),
        full.window(),
        full.zone(),
        full.capacity(),
        None,
        full.meeting().clone(),
        SlotStatus::Open,
        NOW,
        vec![at(1, BookingStatus::Confirmed), at(2, BookingStatus::Requested)],
    )
    .unwrap();
    assert_refused(&mut slot, "slot_full", |s| s.approve(booking_id(2), &teacher(), NOW));
}

#[test]
fn approve_refuses_once_the_lesson_started() {
    let mut slot = slot(1);
    let booking = ask(&mut slot, 1);
    assert_refused(&mut slot, "slot_in_past", |s| s.approve(booking, &teacher(), START));
}

#[test]
fn approve_fills_a_seat() {
    let mut slot = slot(1);
    let booking = ask(&mut slot, 1);
    let at = NOW + Duration::hours(2);
    let outcome = slot.approve(booking, &teacher(), at).unwrap();
    assert_eq!(status_of(&slot, booking), BookingStatus::Confirmed);
    assert_eq!(slot.booking(booking).unwrap().updated_at(), at);
    assert_eq!(slot.booked_count(), 1);
    assert_eq!(outcome.booking, Some(booking));
    assert_eq!(
        outcome.events,
        vec![DomainEvent::BookingConfirmed {
            booking,
            slot: slot.id(),
            student: student(1).user,
            teacher: user(TEACHER)
        }]
    );
    assert_eq!(
        outcome.audit,
        vec![AuditEntry {
            booking,
            slot: slot.id(),
            actor: Some(user(TEACHER)),
            at,
            from: Some(BookingStatus::Requested),
            to: BookingStatus::Confirmed,
            reason: "approved".into()
        }]
    );
}

#[test]
fn approving_the_last_seat_declines_the_competing_requests() {
    let mut slot = slot(1);
    let chosen = ask(&mut slot, 1);
    let second = ask(&mut slot, 2);
    let third = ask(&mut slot, 3);
    let outcome = slot.approve(chosen, &teacher(), NOW).unwrap();
    assert_eq!(status_of(&slot, chosen), BookingStatus::Confirmed);
    assert_eq!(status_of(&slot, second), BookingStatus::Declined);
    assert_eq!(status_of(&slot, third), BookingStatus::Declined);
    let declined: Vec<_> = outcome
        .events
        .iter()
        .filter(|e| matches!(e, DomainEvent::BookingDeclined { .. }))
        .cloned()
        .collect();
    assert_eq!(
        declined,
        vec![
            DomainEvent::BookingDeclined {
                booking: second,
                slot: slot.id(),
                student: student(2).user,
                reason: DeclineReason::SlotFilled
            },
            DomainEvent::BookingDeclined {
                booking: third,
                slot: slot.id(),
                student: student(3).user,
                reason: DeclineReason::SlotFilled
            },
        ]
    );
    let reasons: Vec<_> = outcome
        .audit
        .iter()
        .map(|a| (a.booking, a.from, a.to, a.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                chosen,
                Some(BookingStatus::Requested),
                BookingStatus::Confirmed,
                "approved"
            ),
            (
                second,
                Some(BookingStatus::Requested),
                BookingStatus::Declined,
                "slot_filled"
            ),
            (
                third,
                Some(BookingStatus::Requested),
                BookingStatus::Declined,
                "slot_filled"
            ),
        ]
    );
}

#[test]
fn group_requests_wait_until_the_slot_is_full() {
    let mut slot = slot(3);
    let asks: Vec<_> = (1..=4).map(|n| ask(&mut slot, n)).collect();
    let outcome = slot.approve(asks[0], &teacher(), NOW).unwrap();
    assert!(!outcome.events.iter().any(|e| e.kind() == "booking_declined"));
    slot.approve(asks[1], &teacher(), NOW).unwrap();
    assert_eq!(status_of(&slot, asks[2]), BookingStatus::Requested);
    assert_eq!(status_of(&slot, asks[3]), BookingStatus::Requested);
    let outcome = slot.approve(asks[2], &teacher(), NOW).unwrap();
    assert!(slot.is_full());
    assert_eq!(status_of(&slot, asks[3]), BookingStatus::Declined);
    assert_eq!(
        outcome.events.last(),
        Some(&DomainEvent::BookingDeclined {
            booking: asks[3],
            slot: slot.id(),
            student: student(4).user,
            reason: DeclineReason::SlotFilled
        })
    );
}

// ----- decline -----

#[test]
fn decline_turns_a_request_down_without_touching_seats() {
    let mut slot = slot(2);
    confirm(&mut slot, 1);
    let booking = ask(&mut slot, 2);
    let outcome = slot.decline(booking, &teacher(), NOW).unwrap();
    assert_eq!(status_of(&slot, booking), BookingStatus::Declined);
    assert_eq!(slot.booked_count(), 1);
    assert_eq!(
        outcome.events,
        vec![DomainEvent::BookingDeclined {
            booking,
            slot: slot.id(),
            student: student(2).user,
            reason: DeclineReason::ByTeacher
        }]
    );
    assert_eq!(outcome.audit.len(), 1);
    assert_eq!(outcome.audit[0].from, Some(BookingStatus::Requested));
    assert_eq!(outcome.audit[0].to, BookingStatus::Declined);
    assert_eq!(outcome.audit[0].reason, "declined_by_teacher");
    assert_eq!(outcome.audit[0].actor, Some(user(TEACHER)));
}

#[test]
fn decline_is_for_the_teacher_or_staff_and_requests_only() {
    let mut slot = slot(2);
    let confirmed = confirm(&mut slot, 1);
    let waiting = ask(&mut slot, 2);
    // The request's own student (2) sees it but may not decline it.
    assert_refused(&mut slot, "forbidden", |s| s.decline(waiting, &student(2), NOW));
    assert_refused(&mut slot, "not_found", |s| s.decline(waiting, &other_teacher(), NOW));
    assert_refused(&mut slot, "invalid_booking_status", |s| {
        s.decline(confirmed, &teacher(), NOW)
    });
    assert_refused(&mut slot, "not_found", |s| s.decline(booking_id(99), &teacher(), NOW));
    slot.decline(waiting, &staff(), NOW).unwrap();
    assert_refused(&mut slot, "invalid_booking_status", |s| {
        s.decline(waiting, &teacher(), NOW)
    });
}

// ----- student cancel -----

#[test]
fn student_cancels_only_their_own_booking_unless_staff() {
    let mut slot = slot(2);
    let booking = confirm(&mut slot, 1);
    for (actor, code) in [
        (student(2), "not_found"),
        (teacher(), "forbidden"),
        (other_teacher(), "not_found"),
    ] {
        assert_refused(&mut slot, code, |s| {
            s.cancel_by_student(booking, &actor, &policy(), NOW)
        });
    }
    let outcome = slot.cancel_by_student(booking, &staff(), &policy(), NOW).unwrap();
    assert_eq!(status_of(&slot, booking), BookingStatus::Cancelled);
    assert!(outcome.events.contains(&DomainEvent::BookingCancelled {
        booking,
        slot: slot.id(),
        student: student(1).user,
        by: staff()
    }));
}

#[test]
fn cancelling_a_confirmed_booking_gives_the_seat_back() {
    let mut slot = slot(2);
    confirm(&mut slot, 1);
    let booking = confirm(&mut slot, 2);
    assert!(slot.is_full());
    let outcome = slot.cancel_by_student(booking, &student(2), &policy(), NOW).unwrap();
    assert_eq!(status_of(&slot, booking), BookingStatus::Cancelled);
    assert_eq!(slot.booked_count(), 1);
    assert!(!slot.is_full());
    assert_eq!(
        outcome.events,
        vec![
            DomainEvent::BookingCancelled {
                booking,
                slot: slot.id(),
                student: student(2).user,
                by: student(2)
            },
            DomainEvent::SeatReleased {
                slot: slot.id(),
                booked_count: 1
            },
        ]
    );
    assert_eq!(outcome.audit.len(), 1);
    assert_eq!(outcome.audit[0].from, Some(BookingStatus::Confirmed));
    assert_eq!(outcome.audit[0].to, BookingStatus::Cancelled);
    assert_eq!(outcome.audit[0].reason, "cancelled_by_student");
}

#[test]
fn cancelling_a_request_touches_no_seat() {
    let mut slot = slot(1);
    let booking = ask(&mut slot, 1);
    let outcome = slot.cancel_by_student(booking, &student(1), &policy(), NOW).unwrap();
    assert_eq!(status_of(&slot, booking), BookingStatus::Cancelled);
    assert_eq!(slot.booked_count(), 0);
    assert!(!outcome.events.iter().any(|e| e.kind() == "seat_released"));
    assert_eq!(outcome.audit[0].from, Some(BookingStatus::Requested));
}

#[test]
fn student_cancel_of_a_confirmed_booking_closes_with_the_window() {
    let mut slot = slot(2);
    let booking = confirm(&mut slot, 1);
    let window_opens = START - Duration::hours(24);
    for now in [window_opens + Duration::seconds(1), START - Duration::hours(1), START] {
        assert_refused(&mut slot, "cancellation_window_closed", |s| {
            s.cancel_by_student(booking, &student(1), &policy(), now)
        });
    }
    let error = slot
        .clone()
        .cancel_by_student(booking, &student(1), &policy(), START)
        .unwrap_err();
    assert_eq!(error, DomainError::CancellationWindowClosed { hours: 24 });
    // Exactly 24 hours before the start is still allowed.
    slot.cancel_by_student(booking, &student(1), &policy(), window_opens)
        .unwrap();
    assert_eq!(status_of(&slot, booking), BookingStatus::Cancelled);
}

#[test]
fn the_cancellation_window_follows_the_policy_tier() {
    let mut slot = slot(2);
    let booking = confirm(&mut slot, 1);
    let three_hours_before = START - Duration::hours(3);
    assert_refused(&mut slot, "cancellation_window_closed", |s| {
        s.cancel_by_student(booking, &student(1), &policy(), three_hours_before)
    });
    let flexible = policy().with_cancellation_tier(CancellationTier::Flexible);
    slot.cancel_by_student(booking, &student(1), &flexible, three_hours_before)
        .unwrap();
}

#[test]
fn a_request_stays_cancellable_inside_the_window() {
    let mut slot = slot(1);
    let booking = ask(&mut slot, 1);
    let late = START - Duration::hours(1);
    slot.cancel_by_student(booking, &student(1), &policy(), late).unwrap();
    assert_eq!(status_of(&slot, booking), BookingStatus::Cancelled);
}

#[test]
fn student_cancel_needs_an_active_booking() {
    let mut slot = slot(2);
    let cancelled = confirm(&mut slot, 1);
    slot.cancel_by_student(cancelled, &student(1), &policy(), NOW).unwrap();
    let declined = ask(&mut slot, 2);
    slot.decline(declined, &teacher(), NOW).unwrap();
    assert_refused(&mut slot, "invalid_booking_status", |s| {
        s.cancel_by_student(cancelled, &student(1), &policy(), NOW)
    });
    assert_refused(&mut slot, "invalid_booking_status", |s| {
        s.cancel_by_student(declined, &student(2), &policy(), NOW)
    });
    assert_refused(&mut slot, "not_found", |s| {
        s.cancel_by_student(booking_id(99), &student(1), &policy(), NOW)
    });
}

// ----- teacher cancel -----

#[test]
fn teacher_cancel_issues_a_credit_and_frees_the_seat() {
    let mut slot = slot(2);
    let booking = confirm(&mut slot, 1);
    let at = NOW + Duration::hours(5);
    let outcome = slot
        .cancel_by_teacher(booking, credit_id(1), &teacher(), &settings(), at)
        .unwrap();
    assert_eq!(status_of(&slot, booking), BookingStatus::TeacherCancelled);
    assert_eq!(slot.booked_count(), 0);

    assert_eq!(outcome.credits.len(), 1);
    let credit = &outcome.credits[0];
    assert_eq!(credit.id(), credit_id(1));
    assert_eq!(credit.student(), student(1).user);
    assert_eq!(credit.teacher(), user(TEACHER));
    assert_eq!(credit.source_booking(), booking);
    assert_eq!(credit.issued_at(), at);
    assert_eq!(credit.expires_at(), at + Duration::days(30));
    assert_eq!(credit.status(), CreditStatus::Active);
    assert_eq!(credit.redeemed_booking(), None);

    assert_eq!(
        outcome.events,
        vec![
            DomainEvent::BookingTeacherCancelled {
                booking,
                slot: slot.id(),
                student: student(1).user,
                credit: credit_id(1)
            },
            DomainEvent::CreditIssued {
                credit: credit_id(1),
                student: student(1).user,
                teacher: user(TEACHER),
                expires_at: at + Duration::days(30)
            },
            DomainEvent::SeatReleased {
                slot: slot.id(),
                booked_count: 0
            },
        ]
    );
    assert_eq!(
        outcome.audit,
        vec![AuditEntry {
            booking,
            slot: slot.id(),
            actor: Some(user(TEACHER)),
            at,
            from: Some(BookingStatus::Confirmed),
            to: BookingStatus::TeacherCancelled,
            reason: "cancelled_by_teacher".into()
        }]
    );
}

#[test]
fn teacher_cancel_credit_follows_the_platform_validity() {
    let mut slot = slot(1);
    let booking = confirm(&mut slot, 1);
    let fortnight = PlatformSettings::new(4, Duration::days(14)).unwrap();
    let outcome = slot
        .cancel_by_teacher(booking, credit_id(1), &teacher(), &fortnight, NOW)
        .unwrap();
    assert_eq!(outcome.credits[0].expires_at(), NOW + Duration::days(14));
}

#[test]
fn teacher_cancel_takes_only_a_confirmed_booking() {
    let mut slot = slot(2);
    let waiting = ask(&mut slot, 1);
    assert_refused(&mut slot, "invalid_booking_status", |s| {
        s.cancel_by_teacher(waiting, credit_id(1), &teacher(), &settings(), NOW)
    });
    let booking = confirm(&mut slot, 2);
    slot.cancel_by_teacher(booking, credit_id(2), &teacher(), &settings(), NOW)
        .unwrap();
    assert_refused(&mut slot, "invalid_booking_status", |s| {
        s.cancel_by_teacher(booking, credit_id(3), &teacher(), &settings(), NOW)
    });
}

#[test]
fn teacher_cancel_refuses_a_started_lesson() {
    let mut slot = slot(1);
    let booking = confirm(&mut slot, 1);
    for now in [START, START + Duration::minutes(10)] {
        assert_refused(&mut slot, "slot_in_past", |s| {
            s.cancel_by_teacher(booking, credit_id(1), &teacher(), &settings(), now)
        });
    }
}

#[test]
fn teacher_cancel_is_for_the_slots_teacher_or_staff() {
    let mut slot = slot(1);
    let booking = confirm(&mut slot, 1);
    for (actor, code) in [(other_teacher(), "not_found"), (student(1), "forbidden")] {
        assert_refused(&mut slot, code, |s| {
            s.cancel_by_teacher(booking, credit_id(1), &actor, &settings(), NOW)
        });
    }
    let outcome = slot
        .cancel_by_teacher(booking, credit_id(1), &staff(), &settings(), NOW)
        .unwrap();
    // Staff cancel on the teacher's behalf: the credit is still with the slot's teacher.
    assert_eq!(outcome.credits[0].teacher(), user(TEACHER));
}

// ----- cancel the whole slot -----

#[test]
fn cancel_all_credits_every_seat_and_declines_every_request() {
    let mut slot = slot(3);
    let first = confirm(&mut slot, 1);
    let second = confirm(&mut slot, 2);
    let waiting = ask(&mut slot, 3);
    let gone = ask(&mut slot, 4);
    slot.cancel_by_student(gone, &student(4), &policy(), NOW).unwrap();

    let ids = [credit_id(1), credit_id(2), credit_id(3)];
    let outcome = slot.cancel_all(&teacher(), &ids, &settings(), NOW).unwrap();
    assert_eq!(slot.status(), SlotStatus::Cancelled);
    assert_eq!(slot.booked_count(), 0);
    assert_eq!(status_of(&slot, first), BookingStatus::TeacherCancelled);
    assert_eq!(status_of(&slot, second), BookingStatus::TeacherCancelled);
    assert_eq!(status_of(&slot, waiting), BookingStatus::Declined);
    assert_eq!(status_of(&slot, gone), BookingStatus::Cancelled);
    assert!(!slot.is_browsable(NOW));

    let credited: Vec<_> = outcome.credits.iter().map(|c| (c.id(), c.student())).collect();
    assert_eq!(
        credited,
        vec![(credit_id(1), student(1).user), (credit_id(2), student(2).user)]
    );
    assert!(
        outcome
            .credits
            .iter()
            .all(|c| c.expires_at() == NOW + Duration::days(30))
    );
    assert!(outcome.events.contains(&DomainEvent::BookingDeclined {
        booking: waiting,
        slot: slot.id(),
        student: student(3).user,
        reason: DeclineReason::SlotCancelled
    }));
    let kinds: Vec<_> = outcome.events.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [
            "booking_teacher_cancelled",
            "credit_issued",
            "booking_teacher_cancelled",
            "credit_issued",
            "booking_declined",
            "slot_cancelled",
            "seat_released",
        ]
    );
    let audit: Vec<_> = outcome
        .audit
        .iter()
        .map(|a| (a.booking, a.to, a.reason.as_str()))
        .collect();
    assert_eq!(
        audit,
        vec![
            (first, BookingStatus::TeacherCancelled, "cancelled_by_teacher"),
            (second, BookingStatus::TeacherCancelled, "cancelled_by_teacher"),
            (waiting, BookingStatus::Declined, "slot_cancelled"),
        ]
    );
}

#[test]
fn cancel_all_of_an_empty_slot_releases_no_seat() {
    let mut slot = slot(2);
    let outcome = slot.cancel_all(&teacher(), &[], &settings(), NOW).unwrap();
    assert_eq!(slot.status(), SlotStatus::Cancelled);
    assert_eq!(outcome.events, vec![DomainEvent::SlotCancelled { slot: slot.id() }]);
    assert!(outcome.credits.is_empty());
}

#[test]
fn cancel_all_without_enough_credit_ids_changes_nothing() {
    let mut slot = slot(3);
    confirm(&mut slot, 1);
    confirm(&mut slot, 2);
    ask(&mut slot, 3);
    assert_refused(&mut slot, "invalid_input", |s| {
        s.cancel_all(&teacher(), &[credit_id(1)], &settings(), NOW)
    });
    assert_eq!(slot.status(), SlotStatus::Open);
}

#[test]
fn cancel_all_is_refused_when_forbidden_started_or_closed() {
    let mut slot = slot(2);
    confirm(&mut slot, 1);
    let ids = [credit_id(1), credit_id(2)];
    for actor in [other_teacher(), student(1)] {
        assert_refused(&mut slot, "forbidden", |s| s.cancel_all(&actor, &ids, &settings(), NOW));
    }
    assert_refused(&mut slot, "slot_in_past", |s| {
        s.cancel_all(&teacher(), &ids, &settings(), START)
    });
    slot.cancel_all(&staff(), &ids, &settings(), NOW).unwrap();
    assert_refused(&mut slot, "slot_closed", |s| {
        s.cancel_all(&teacher(), &ids, &settings(), NOW)
    });
}

// ----- delete -----

#[test]
fn delete_removes_a_future_slot_nobody_booked() {
    let mut slot = slot(2);
    let outcome = slot.delete(&teacher(), NOW).unwrap();
    assert_eq!(slot.status(), SlotStatus::Deleted);
    assert_eq!(outcome.events, vec![DomainEvent::SlotDeleted { slot: slot.id() }]);
    assert!(outcome.audit.is_empty());
    assert_refused(&mut slot, "slot_closed", |s| s.delete(&teacher(), NOW));
}

#[test]
fn delete_refuses_a_slot_with_a_booking_or_a_request() {
    let mut booked = slot(2);
    confirm(&mut booked, 1);
    assert_refused(&mut booked, "slot_has_bookings", |s| s.delete(&teacher(), NOW));
    let mut asked = slot(1);
    ask(&mut asked, 1);
    assert_refused(&mut asked, "slot_has_bookings", |s| s.delete(&teacher(), NOW));
}

#[test]
fn delete_ignores_bookings_that_are_no_longer_active() {
    let mut slot = slot(2);
    let booking = confirm(&mut slot, 1);
    slot.cancel_by_student(booking, &student(1), &policy(), NOW).unwrap();
    let request = ask(&mut slot, 2);
    slot.decline(request, &teacher(), NOW).unwrap();
    slot.delete(&teacher(), NOW).unwrap();
    assert_eq!(slot.status(), SlotStatus::Deleted);
}

#[test]
fn delete_refuses_a_package_session() {
    let mut slot = package_slot(2);
    assert_refused(&mut slot, "package_slot", |s| s.delete(&teacher(), NOW));
}

#[test]
fn delete_refuses_a_started_slot() {
    let mut slot = slot(2);
    assert_refused(&mut slot, "slot_in_past", |s| s.delete(&teacher(), START));
}

#[test]
fn delete_is_for_the_teacher_or_staff() {
    let mut slot = slot(2);
    for actor in [other_teacher(), student(1)] {
        assert_refused(&mut slot, "forbidden", |s| s.delete(&actor, NOW));
    }
    slot.delete(&staff(), NOW).unwrap();
}

// ----- attendance -----

#[test]
fn attendance_waits_for_the_start() {
    let mut slot = slot(1);
    let booking = confirm(&mut slot, 1);
    assert_refused(&mut slot, "lesson_not_started", |s| {
        s.mark_attendance(booking, Attendance::Completed, &teacher(), START - Duration::seconds(1))
    });
    let outcome = slot
        .mark_attendance(booking, Attendance::Completed, &teacher(), START)
        .unwrap();
    assert_eq!(status_of(&slot, booking), BookingStatus::Completed);
    // booked_count counts confirmed bookings only (docs/product.md §5); the started slot stays unbookable.
    assert_eq!(slot.booked_count(), 0);
    assert!(!slot.is_browsable(START));
    assert_refused(&mut slot, "slot_in_past", |s| {
        s.request(booking_id(2), &student(2), &policy(), START)
    });
    assert_eq!(outcome.events, vec![DomainEvent::LessonCompleted { booking }]);
    assert_eq!(
        outcome.audit,
        vec![AuditEntry {
            booking,
            slot: slot.id(),
            actor: Some(user(TEACHER)),
            at: START,
            from: Some(BookingStatus::Confirmed),
            to: BookingStatus::Completed,
            reason: "completed".into()
        }]
    );
}

#[test]
fn attendance_records_a_no_show() {
    let mut slot = slot(2);
    let booking = confirm(&mut slot, 1);
    let after = START + Duration::hours(1);
    let outcome = slot
        .mark_attendance(booking, Attendance::NoShow, &staff(), after)
        .unwrap();
    assert_eq!(status_of(&slot, booking), BookingStatus::NoShow);
    assert_eq!(outcome.events, vec![DomainEvent::LessonNoShow { booking }]);
    assert_eq!(outcome.audit[0].reason, "no_show");
}

#[test]
fn attendance_is_for_confirmed_bookings_only() {
    let mut slot = slot(2);
    let waiting = ask(&mut slot, 1);
    let booking = confirm(&mut slot, 2);
    let after = START + Duration::minutes(5);
    assert_refused(&mut slot, "invalid_booking_status", |s| {
        s.mark_attendance(waiting, Attendance::Completed, &teacher(), after)
    });
    assert_refused(&mut slot, "forbidden", |s| {
        s.mark_attendance(booking, Attendance::Completed, &student(2), after)
    });
    slot.mark_attendance(booking, Attendance::Completed, &teacher(), after)
        .unwrap();
    assert_refused(&mut slot, "invalid_booking_status", |s| {
        s.mark_attendance(booking, Attendance::NoShow, &teacher(), after)
    });
}

// ----- history -----

#[test]
fn every_change_of_a_booking_is_an_audit_entry() {
    let mut slot = slot(1);
    let booking = booking_id(1);
    let t1 = NOW;
    let t2 = NOW + Duration::hours(1);
    let t3 = NOW + Duration::hours(2);
    let mut history = Vec::new();
    history.extend(slot.request(booking, &student(1), &policy(), t1).unwrap().audit);
    history.extend(slot.approve(booking, &teacher(), t2).unwrap().audit);
    history.extend(
        slot.cancel_by_student(booking, &student(1), &policy(), t3)
            .unwrap()
            .audit,
    );
    let rows: Vec<_> = history
        .iter()
        .map(|a| (a.booking, a.slot, a.actor, a.at, a.from, a.to, a.reason.as_str()))
        .collect();
    let id = slot.id();
    assert_eq!(
        rows,
        vec![
            (
                booking,
                id,
                Some(student(1).user),
                t1,
                None,
                BookingStatus::Requested,
                "requested"
            ),
            (
                booking,
                id,
                Some(user(TEACHER)),
                t2,
                Some(BookingStatus::Requested),
                BookingStatus::Confirmed,
                "approved"
            ),
            (
                booking,
                id,
                Some(student(1).user),
                t3,
                Some(BookingStatus::Confirmed),
                BookingStatus::Cancelled,
                "cancelled_by_student"
            ),
        ]
    );
    let b = slot.booking(booking).unwrap();
    assert_eq!(b.created_at(), t1);
    assert_eq!(b.updated_at(), t3);
}

// ----- restore -----

fn stored(n: u128, status: BookingStatus) -> Booking {
    Booking::restore(
        booking_id(n),
        slot_id(1),
        student(n).user,
        status,
        BookingSource::Direct,
        NOW,
        NOW,
    )
}

fn restore(capacity: u32, bookings: Vec<Booking>) -> Result<Slot, DomainError> {
    Slot::restore(
        slot_id(1),
        user(TEACHER),
        window(START),
        Zone::default_zone(),
        Capacity::restore(capacity).unwrap(),
        None,
        Meeting::default(),
        SlotStatus::Open,
        NOW,
        bookings,
    )
}

#[test]
fn restore_rebuilds_the_same_slot() {
    let mut slot = slot(3);
    confirm(&mut slot, 1);
    ask(&mut slot, 2);
    let again = Slot::restore(
        slot.id(),
        slot.teacher(),
        slot.window(),
        slot.zone(),
        slot.capacity(),
        slot.package_session(),
        slot.meeting().clone(),
        slot.status(),
        slot.created_at(),
        slot.bookings().to_vec(),
    )
    .unwrap();
    assert_eq!(again, slot);
}

#[test]
fn restore_refuses_more_confirmed_bookings_than_seats() {
    let error = restore(
        1,
        vec![stored(1, BookingStatus::Confirmed), stored(2, BookingStatus::Confirmed)],
    )
    .unwrap_err();
    assert_eq!(error.code(), "invalid_input");
    // Requests and finished bookings take no seat.
    assert!(
        restore(
            1,
            vec![
                stored(1, BookingStatus::Confirmed),
                stored(2, BookingStatus::Requested),
                stored(3, BookingStatus::Cancelled)
            ]
        )
        .is_ok()
    );
}

#[test]
fn restore_refuses_two_active_bookings_of_one_student() {
    let twice = Booking::restore(
        booking_id(7),
        slot_id(1),
        student(1).user,
        BookingStatus::Requested,
        BookingSource::Direct,
        NOW,
        NOW,
    );
    let error = restore(3, vec![stored(1, BookingStatus::Confirmed), twice.clone()]).unwrap_err();
    assert_eq!(error.code(), "invalid_input");
    // An old cancelled booking next to an active one is fine.
    assert!(restore(3, vec![stored(1, BookingStatus::Cancelled), twice]).is_ok());
}

#[test]
fn restore_refuses_a_booking_of_another_slot() {
    let foreign = Booking::restore(
        booking_id(1),
        slot_id(2),
        student(1).user,
        BookingStatus::Requested,
        BookingSource::Direct,
        NOW,
        NOW,
    );
    assert_eq!(restore(2, vec![foreign]).unwrap_err().code(), "invalid_input");
}

#[test]
fn a_slot_survives_a_json_round_trip() {
    let mut slot = slot(3);
    confirm(&mut slot, 1);
    ask(&mut slot, 2);
    let json = serde_json::to_string(&slot).unwrap();
    let back: Slot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, slot);
}

#[test]
fn slot_status_text_round_trips() {
    for status in [SlotStatus::Open, SlotStatus::Cancelled, SlotStatus::Deleted] {
        assert_eq!(SlotStatus::parse(status.as_str()), Some(status));
    }
    assert_eq!(SlotStatus::parse("closed"), None);
}

// ----- who sees what (docs/product.md §3) -----

#[test]
fn the_meeting_link_is_for_the_people_in_the_lesson_and_the_roster_for_its_teacher() {
    let mut slot = common::slot(3);
    slot.request(
        common::booking_id(1),
        &common::student(1),
        &common::instant_policy(),
        common::NOW,
    )
    .unwrap();
    // A request waiting for approval holds no seat.
    slot.request(
        common::booking_id(2),
        &common::student(2),
        &common::approval_policy(),
        common::NOW,
    )
    .unwrap();
    let cases = [
        (None, false, false),
        (Some(common::teacher()), true, true),
        (Some(common::staff()), true, true),
        (Some(common::other_teacher()), false, false),
        (Some(common::student(1)), true, false),
        (Some(common::student(2)), false, false),
        (Some(common::student(3)), false, false),
    ];
    for (viewer, meeting, roster) in cases {
        assert_eq!(slot.shows_meeting_to(viewer.as_ref()), meeting, "{viewer:?}");
        assert_eq!(slot.shows_roster_to(viewer.as_ref()), roster, "{viewer:?}");
    }
}

// ----- the booking jobs -----

#[test]
fn unanswered_requests_expire_at_the_start_by_the_system_once() {
    let mut slot = slot(3);
    let confirmed = confirm(&mut slot, 1);
    let waiting = ask(&mut slot, 2);
    assert_eq!(slot.expire_unanswered(START - Duration::minutes(1)), Default::default());

    let outcome = slot.expire_unanswered(START);
    assert_eq!(slot.booking(waiting).unwrap().status(), BookingStatus::Expired);
    assert_eq!(slot.booking(confirmed).unwrap().status(), BookingStatus::Confirmed);
    assert_eq!(outcome.audit.len(), 1);
    assert_eq!(
        (outcome.audit[0].actor, outcome.audit[0].reason.as_str()),
        (None, "expired")
    );
    assert_eq!(
        outcome.events,
        vec![DomainEvent::BookingExpired {
            booking: waiting,
            slot: slot.id(),
            student: student(2).user,
            waitlisted: false,
        }]
    );
    assert_eq!(
        slot.expire_unanswered(START + Duration::hours(1)),
        Default::default(),
        "once"
    );
}

#[test]
fn unmarked_lessons_complete_after_the_grace_and_marks_stand() {
    let mut slot = slot(3);
    let first = confirm(&mut slot, 1);
    let second = confirm(&mut slot, 2);
    let ended = START + LESSON;
    slot.mark_attendance(second, Attendance::NoShow, &teacher(), ended)
        .unwrap();
    let grace = Duration::hours(24);
    assert_eq!(
        slot.complete_unmarked(ended + grace - Duration::minutes(1), grace),
        Default::default()
    );

    let outcome = slot.complete_unmarked(ended + grace, grace);
    assert_eq!(slot.booking(first).unwrap().status(), BookingStatus::Completed);
    assert_eq!(slot.booking(second).unwrap().status(), BookingStatus::NoShow);
    assert_eq!(outcome.events, vec![DomainEvent::LessonCompleted { booking: first }]);
    assert_eq!(outcome.audit[0].actor, None);
    assert_eq!(
        slot.complete_unmarked(ended + grace * 2, grace),
        Default::default(),
        "once"
    );
}

// ----- reschedule -----

#[test]
fn a_move_keeps_the_status_and_gives_the_old_seat_back_only_when_the_new_is_taken() {
    let mut from = slot(2);
    let confirmed = confirm(&mut from, 1);
    let waiting = ask(&mut from, 2);
    let mut to = slot_at(slot_id(2), START + Duration::days(1), 2);
    let moved = booking_id(10);

    let outcome = from
        .reschedule_to(confirmed, &mut to, moved, &student(1), &instant_policy(), NOW)
        .unwrap();
    assert_eq!(to.booking(moved).unwrap().status(), BookingStatus::Confirmed);
    assert_eq!(from.booking(confirmed).unwrap().status(), BookingStatus::Cancelled);
    assert_eq!((from.booked_count(), to.booked_count()), (0, 1));
    assert!(matches!(
        outcome.events.last(),
        Some(DomainEvent::BookingRescheduled { confirmed: true, .. })
    ));
    // A student's request follows the target's approval rule, like a new one.
    let request = booking_id(11);
    from.reschedule_to(waiting, &mut to, request, &student(2), &approval_policy(), NOW)
        .unwrap();
    assert_eq!(to.booking(request).unwrap().status(), BookingStatus::Requested);

    // A full target keeps the old seat: nothing changes on either side.
    let mut full = slot_at(slot_id(3), START + Duration::days(2), 1);
    confirm(&mut full, 5);
    let (to_before, full_before) = (to.clone(), full.clone());
    let refused = to.reschedule_to(moved, &mut full, booking_id(12), &student(1), &instant_policy(), NOW);
    assert_eq!(refused.unwrap_err().code(), "slot_full");
    assert_eq!((to, full), (to_before, full_before));
}

#[test]
fn a_move_is_for_the_people_of_the_lesson_within_the_same_teacher() {
    let mut from = slot(2);
    let booking = confirm(&mut from, 1);
    let elsewhere = slot_at(slot_id(2), START + Duration::days(1), 2);
    let mut other_teachers = open_draft(
        slot_id(3),
        draft_for(other_teacher().user, START + Duration::days(1), 2),
    );
    let moved = booking_id(10);
    let code = |r: Result<_, DomainError>| r.unwrap_err().code();
    assert_eq!(
        code(
            from.clone()
                .reschedule_to(booking, &mut elsewhere.clone(), moved, &student(2), &policy(), NOW)
        ),
        "not_found"
    );
    assert_eq!(
        code(
            from.clone()
                .reschedule_to(booking, &mut other_teachers, moved, &student(1), &policy(), NOW)
        ),
        "invalid_input"
    );
    let mut same = from.clone();
    assert_eq!(
        code(
            from.clone()
                .reschedule_to(booking, &mut same, moved, &student(1), &policy(), NOW)
        ),
        "invalid_input"
    );
    // The teacher and staff may move it too.
    for actor in [teacher(), staff()] {
        assert!(
            from.clone()
                .reschedule_to(booking, &mut elsewhere.clone(), moved, &actor, &policy(), NOW)
                .is_ok()
        );
    }
}

#[test]
fn a_student_moves_a_confirmed_lesson_only_where_no_approval_waits_and_never_a_started_one() {
    let mut from = slot(2);
    let booking = confirm(&mut from, 1);
    let mut to = slot_at(slot_id(2), START + Duration::days(1), 2);
    let moved = booking_id(10);
    let refused = from
        .clone()
        .reschedule_to(booking, &mut to.clone(), moved, &student(1), &approval_policy(), NOW);
    assert_eq!(refused.unwrap_err().code(), "approval_required");
    // The teacher's move is their approval.
    assert!(
        from.clone()
            .reschedule_to(booking, &mut to.clone(), moved, &teacher(), &approval_policy(), NOW)
            .is_ok()
    );
    // Nobody moves a lesson that started.
    let started = START + Duration::minutes(5);
    let refused = from
        .clone()
        .reschedule_to(booking, &mut to, moved, &teacher(), &instant_policy(), started);
    assert_eq!(refused.unwrap_err().code(), "slot_in_past");
}

#[test]
fn a_move_that_fills_the_target_declines_its_waiting_requests() {
    let mut from = slot(2);
    let booking = confirm(&mut from, 1);
    let mut to = slot_at(slot_id(2), START + Duration::days(1), 2);
    confirm(&mut to, 2);
    let waiting = ask(&mut to, 3);
    from.reschedule_to(booking, &mut to, booking_id(10), &teacher(), &instant_policy(), NOW)
        .unwrap();
    assert_eq!(to.booked_count(), 2);
    assert_eq!(to.booking(waiting).unwrap().status(), BookingStatus::Declined);
}
