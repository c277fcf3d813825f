//! Make-up credits (docs/product.md §6): what redemption checks, what it produces, and
//! that a refused redemption changes neither the credit nor the slot.

mod common;

use common::*;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, AuditEntry, BookingId, BookingSource, BookingStatus, CreditStatus, DomainEvent, MakeupCredit, Slot,
};

/// A future slot of the teacher that the credit can go into.
fn target(capacity: u32) -> Slot {
    slot_at(slot_id(2), START, capacity)
}

/// Redeems and expects refusal with `code`; neither the credit nor the slot may change.
#[track_caller]
fn assert_redeem_refused(credit: &mut MakeupCredit, slot: &mut Slot, actor: &Actor, now: OffsetDateTime, code: &str) {
    let (credit_before, slot_before) = (credit.clone(), slot.clone());
    let error = credit
        .redeem_into(slot, booking_id(50), actor, now)
        .expect_err("the redemption should be refused");
    assert_eq!(error.code(), code, "refused with the wrong error: {error}");
    assert_eq!(*credit, credit_before, "a refused redemption changed the credit");
    assert_eq!(*slot, slot_before, "a refused redemption changed the slot");
}

fn stored_credit(status: CreditStatus, expires_at: OffsetDateTime, redeemed: Option<BookingId>) -> MakeupCredit {
    MakeupCredit::restore(
        credit_id(7),
        student(1).user,
        user(TEACHER),
        booking_id(70),
        NOW - Duration::days(1),
        expires_at,
        status,
        redeemed,
    )
    .unwrap()
}

#[test]
fn redeeming_confirms_a_seat_and_uses_the_credit() {
    let mut credit = issued_credit(1);
    let mut slot = target(1);
    let booking = booking_id(50);
    let at = NOW + Duration::hours(1);
    let outcome = credit.redeem_into(&mut slot, booking, &student(1), at).unwrap();

    let made = slot.booking(booking).unwrap();
    // No approval, even on a 1:1 slot whose policy asks for it.
    assert_eq!(made.status(), BookingStatus::Confirmed);
    assert_eq!(made.source(), BookingSource::Credit(credit.id()));
    assert_eq!(made.student(), student(1).user);
    assert_eq!(slot.booked_count(), 1);

    assert_eq!(credit.status(), CreditStatus::Redeemed);
    assert_eq!(credit.redeemed_booking(), Some(booking));
    assert_eq!(outcome.credits, vec![credit.clone()]);
    assert_eq!(outcome.booking, Some(booking));
    assert_eq!(
        outcome.events,
        vec![
            DomainEvent::BookingConfirmed {
                booking,
                slot: slot.id(),
                student: student(1).user,
                teacher: user(TEACHER)
            },
            DomainEvent::CreditRedeemed {
                credit: credit.id(),
                booking,
                slot: slot.id()
            },
        ]
    );
    assert_eq!(
        outcome.audit,
        vec![AuditEntry {
            booking,
            slot: slot.id(),
            actor: Some(student(1).user),
            at,
            from: None,
            to: BookingStatus::Confirmed,
            reason: "credit_redeemed".into()
        }]
    );
}

#[test]
fn staff_may_redeem_for_the_student() {
    let mut credit = issued_credit(1);
    let mut slot = target(2);
    let outcome = credit.redeem_into(&mut slot, booking_id(50), &staff(), NOW).unwrap();
    // The seat is the credit owner's, the history names staff.
    assert_eq!(slot.booking(booking_id(50)).unwrap().student(), student(1).user);
    assert_eq!(outcome.audit[0].actor, Some(user(STAFF)));
}

#[test]
fn only_the_credits_student_or_staff_may_redeem() {
    let mut credit = issued_credit(1);
    let mut slot = target(2);
    for actor in [student(2), teacher(), other_teacher()] {
        // A credit is its student's: to anyone else it does not exist.
        assert_redeem_refused(&mut credit, &mut slot, &actor, NOW, "not_found");
    }
}

#[test]
fn redeeming_needs_a_slot_of_the_same_teacher() {
    let mut credit = issued_credit(1);
    let mut theirs = open_draft(slot_id(3), draft_for(user(OTHER_TEACHER), START, 2));
    assert_redeem_refused(&mut credit, &mut theirs, &student(1), NOW, "credit_wrong_teacher");
}

#[test]
fn redeeming_needs_a_future_slot() {
    let mut credit = issued_credit(1);
    let mut slot = target(2);
    for now in [START, START + Duration::hours(1)] {
        assert_redeem_refused(&mut credit, &mut slot, &student(1), now, "slot_in_past");
    }
}

#[test]
fn redeeming_needs_a_free_seat() {
    let mut credit = issued_credit(1);
    let mut slot = target(2);
    confirm(&mut slot, 2);
    confirm(&mut slot, 3);
    assert_redeem_refused(&mut credit, &mut slot, &student(1), NOW, "slot_full");
}

#[test]
fn redeeming_refuses_a_package_session() {
    let mut credit = issued_credit(1);
    let mut slot = package_slot(2);
    assert_redeem_refused(&mut credit, &mut slot, &student(1), NOW, "package_slot");
}

#[test]
fn redeeming_refuses_a_closed_slot() {
    let mut credit = issued_credit(1);
    let mut slot = target(2);
    slot.delete(&teacher(), NOW).unwrap();
    assert_redeem_refused(&mut credit, &mut slot, &student(1), NOW, "slot_closed");
}

#[test]
fn redeeming_refuses_a_student_already_on_the_slot() {
    let mut credit = issued_credit(1);
    let mut slot = target(2);
    ask(&mut slot, 1);
    assert_redeem_refused(&mut credit, &mut slot, &student(1), NOW, "duplicate_booking");
}

#[test]
fn a_credit_is_used_only_once() {
    let mut credit = issued_credit(1);
    let mut first = target(2);
    credit
        .redeem_into(&mut first, booking_id(40), &student(1), NOW)
        .unwrap();
    let mut second = slot_at(slot_id(3), START + Duration::days(2), 2);
    assert_redeem_refused(&mut credit, &mut second, &student(1), NOW, "credit_already_used");
    // Even after the expiry, a used credit says it was used.
    let late = credit.expires_at() + Duration::days(1);
    let mut later = slot_at(slot_id(4), late + Duration::days(1), 2);
    assert_redeem_refused(&mut credit, &mut later, &student(1), late, "credit_already_used");
}

#[test]
fn an_expired_credit_is_refused_from_its_expiry_on() {
    let mut credit = issued_credit(1);
    let expiry = credit.expires_at();
    assert_eq!(expiry, NOW + Duration::days(30));
    let mut slot = slot_at(slot_id(3), expiry + Duration::days(2), 2);
    assert_redeem_refused(&mut credit, &mut slot, &student(1), expiry, "credit_expired");
    assert_redeem_refused(
        &mut credit,
        &mut slot,
        &student(1),
        expiry + Duration::hours(1),
        "credit_expired",
    );
    // One second earlier it still works.
    credit
        .redeem_into(&mut slot, booking_id(50), &student(1), expiry - Duration::seconds(1))
        .unwrap();
    assert_eq!(credit.status(), CreditStatus::Redeemed);
}

#[test]
fn a_credit_marked_expired_is_refused() {
    let mut credit = stored_credit(CreditStatus::Expired, NOW + Duration::days(5), None);
    let mut slot = target(2);
    assert_redeem_refused(&mut credit, &mut slot, &student(1), NOW, "credit_expired");
}

#[test]
fn status_at_reads_an_active_credit_past_its_expiry_as_expired() {
    let expiry = NOW + Duration::days(3);
    let active = stored_credit(CreditStatus::Active, expiry, None);
    assert_eq!(active.status_at(expiry - Duration::seconds(1)), CreditStatus::Active);
    assert_eq!(active.status_at(expiry), CreditStatus::Expired);
    assert_eq!(active.status_at(expiry + Duration::days(1)), CreditStatus::Expired);
    // Reading does not change the stored status.
    assert_eq!(active.status(), CreditStatus::Active);

    let redeemed = stored_credit(CreditStatus::Redeemed, expiry, Some(booking_id(1)));
    assert_eq!(redeemed.status_at(expiry + Duration::days(1)), CreditStatus::Redeemed);
}

#[test]
fn expire_if_due_marks_only_due_active_credits() {
    let expiry = NOW + Duration::days(3);
    let mut credit = stored_credit(CreditStatus::Active, expiry, None);
    assert!(!credit.expire_if_due(expiry - Duration::seconds(1)));
    assert_eq!(credit.status(), CreditStatus::Active);
    assert!(credit.expire_if_due(expiry));
    assert_eq!(credit.status(), CreditStatus::Expired);
    assert!(!credit.expire_if_due(expiry + Duration::days(1)), "already expired");

    let mut redeemed = stored_credit(CreditStatus::Redeemed, expiry, Some(booking_id(1)));
    assert!(!redeemed.expire_if_due(expiry + Duration::days(1)));
    assert_eq!(redeemed.status(), CreditStatus::Redeemed);
}

#[test]
fn restore_refuses_an_inconsistent_redemption() {
    let restore = |status, redeemed| {
        MakeupCredit::restore(
            credit_id(1),
            student(1).user,
            user(TEACHER),
            booking_id(1),
            NOW,
            NOW + Duration::days(30),
            status,
            redeemed,
        )
    };
    assert_eq!(
        restore(CreditStatus::Redeemed, None).unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(
        restore(CreditStatus::Active, Some(booking_id(2))).unwrap_err().code(),
        "invalid_input"
    );
    assert!(restore(CreditStatus::Redeemed, Some(booking_id(2))).is_ok());
    assert!(restore(CreditStatus::Expired, None).is_ok());
}

#[test]
fn credit_status_text_round_trips() {
    for status in [CreditStatus::Active, CreditStatus::Redeemed, CreditStatus::Expired] {
        assert_eq!(CreditStatus::parse(status.as_str()), Some(status));
    }
    assert_eq!(CreditStatus::parse("used"), None);
}

#[test]
fn a_credit_survives_a_json_round_trip() {
    let credit = issued_credit(1);
    let json = serde_json::to_string(&credit).unwrap();
    assert_eq!(serde_json::from_str::<MakeupCredit>(&json).unwrap(), credit);
}

#[test]
fn a_credit_filling_the_last_seat_declines_the_waiting_requests() {
    let mut slot = target(1);
    slot.request(booking_id(60), &student(2), &policy(), NOW).unwrap();
    let mut credit = issued_credit(1);
    let outcome = credit.redeem_into(&mut slot, booking_id(50), &student(1), NOW).unwrap();

    assert_eq!(slot.booking(booking_id(60)).unwrap().status(), BookingStatus::Declined);
    assert!(outcome.events.iter().any(|e| matches!(
        e,
        DomainEvent::BookingDeclined { booking, reason: tutorbook_domain::DeclineReason::SlotFilled, .. }
            if *booking == booking_id(60)
    )));
    assert!(
        outcome
            .audit
            .iter()
            .any(|a| a.booking == booking_id(60) && a.to == BookingStatus::Declined)
    );
}
