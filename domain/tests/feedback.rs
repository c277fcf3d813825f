//! Reviews, teacher ratings, lesson reports with IELTS bands, and progress (docs/product.md §7).

mod common;

use common::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_domain::{
    Actor, Attendance, Band, Bands, BookingId, DomainError, LessonReport, MAX_COMMENT_CHARS, MAX_REVIEW_CHARS,
    Progress, Rating, ReportContent, ReportId, Review, ReviewContent, ReviewId, Slot, TeacherRating,
};
use uuid::Uuid;

/// Ten minutes into the lesson.
const DURING: OffsetDateTime = datetime!(2026-12-04 10:10 UTC);

fn review_id(n: u128) -> ReviewId {
    ReviewId::from_uuid(Uuid::from_u128(0xEE00_0000 + n))
}

fn report_id(n: u128) -> ReportId {
    ReportId::from_uuid(Uuid::from_u128(0xAE00_0000 + n))
}

fn stars(n: u8) -> Rating {
    Rating::new(n).unwrap()
}

fn band(value: f64) -> Band {
    Band::new(value).unwrap()
}

/// A group slot where student 1 holds a confirmed booking.
fn lesson() -> (Slot, BookingId) {
    let mut slot = slot(3);
    let booking = confirm(&mut slot, 1);
    (slot, booking)
}

fn review(
    slot: &Slot,
    booking: BookingId,
    actor: &Actor,
    text: &str,
    now: OffsetDateTime,
) -> Result<Review, DomainError> {
    Review::write(
        None,
        review_id(1),
        slot,
        booking,
        actor,
        content_of(stars(4), text),
        now,
    )
}

fn content_of(rating: Rating, text: &str) -> ReviewContent {
    ReviewContent {
        rating,
        text: text.to_owned(),
    }
}

fn content(overall: Option<f64>, comments: &str) -> ReportContent {
    ReportContent {
        bands: Bands {
            listening: Some(band(6.5)),
            reading: Some(band(7.0)),
            writing: None,
            speaking: Some(band(6.0)),
            overall: overall.map(band),
        },
        comments: comments.to_owned(),
    }
}

fn report(
    existing: Option<LessonReport>,
    slot: &Slot,
    booking: BookingId,
    actor: &Actor,
    content: ReportContent,
    now: OffsetDateTime,
) -> Result<LessonReport, DomainError> {
    LessonReport::write(existing, report_id(1), slot, booking, actor, content, now)
}

// ----- reviews -----

#[test]
fn a_student_reviews_their_confirmed_lesson_after_it_starts() {
    let (slot, booking) = lesson();
    let written = Review::write(
        None,
        review_id(1),
        &slot,
        booking,
        &student(1),
        content_of(stars(5), "  Clear and patient.  "),
        DURING,
    )
    .unwrap();
    assert_eq!(written.id, review_id(1));
    assert_eq!(written.booking, booking);
    assert_eq!(written.slot, slot.id());
    assert_eq!(written.teacher, user(TEACHER));
    assert_eq!(written.student, student(1).user);
    assert_eq!(written.rating.get(), 5);
    assert_eq!(written.text, "Clear and patient.");
    assert_eq!(written.created_at, DURING);
}

#[test]
fn a_booking_is_reviewed_once() {
    let (slot, booking) = lesson();
    let first = review(&slot, booking, &student(1), "good", DURING).unwrap();
    let second = Review::write(
        Some(&first),
        review_id(2),
        &slot,
        booking,
        &student(1),
        content_of(stars(1), "changed my mind"),
        DURING,
    );
    assert_eq!(second, Err(DomainError::AlreadyReviewed));
}

#[test]
fn only_the_bookings_student_reviews() {
    let (mut slot, booking) = lesson();
    confirm(&mut slot, 2);
    // Another student of the lesson does not see this booking; its teacher
    // and staff see it but do not review it.
    for (actor, code) in [
        (student(2), "not_found"),
        (teacher(), "forbidden"),
        (staff(), "forbidden"),
    ] {
        assert_eq!(review(&slot, booking, &actor, "", DURING).unwrap_err().code(), code);
    }
    assert_eq!(
        review(&slot, booking_id(99), &student(1), "", DURING)
            .unwrap_err()
            .code(),
        "not_found"
    );
}

#[test]
fn a_completed_lesson_can_be_reviewed() {
    let (mut slot, booking) = lesson();
    slot.mark_attendance(booking, Attendance::Completed, &teacher(), DURING)
        .unwrap();
    assert!(review(&slot, booking, &student(1), "good", DURING).is_ok());
}

#[test]
fn only_confirmed_or_completed_lessons_are_reviewed() {
    let mut slot = slot(3);
    let requested = ask(&mut slot, 1);
    let cancelled = confirm(&mut slot, 2);
    slot.cancel_by_student(cancelled, &student(2), &policy(), NOW).unwrap();
    let missed = confirm(&mut slot, 3);
    slot.mark_attendance(missed, Attendance::NoShow, &teacher(), DURING)
        .unwrap();
    for (booking, n, status) in [
        (requested, 1, "requested"),
        (cancelled, 2, "cancelled"),
        (missed, 3, "no_show"),
    ] {
        let error = review(&slot, booking, &student(n), "", DURING).unwrap_err();
        assert_eq!(error, DomainError::InvalidBookingStatus { status });
    }
}

#[test]
fn a_review_waits_for_the_start() {
    let (slot, booking) = lesson();
    let error = review(&slot, booking, &student(1), "", START - Duration::seconds(1)).unwrap_err();
    assert_eq!(error.code(), "review_too_early");
    assert!(review(&slot, booking, &student(1), "", START).is_ok());
}

#[test]
fn ratings_are_one_to_five_stars() {
    for n in 1..=5 {
        assert_eq!(Rating::new(n).unwrap().get(), n);
    }
    for n in [0, 6, 255] {
        assert_eq!(Rating::new(n).unwrap_err().code(), "invalid_rating");
    }
    assert!(serde_json::from_str::<Rating>("6").is_err());
    assert_eq!(serde_json::from_str::<Rating>("3").unwrap(), stars(3));
}

#[test]
fn review_text_has_a_length_limit_in_characters() {
    let (slot, booking) = lesson();
    let longest = "가".repeat(MAX_REVIEW_CHARS);
    assert!(review(&slot, booking, &student(1), &longest, DURING).is_ok());
    let too_long = "a".repeat(MAX_REVIEW_CHARS + 1);
    let error = review(&slot, booking, &student(1), &too_long, DURING).unwrap_err();
    assert_eq!(error.code(), "invalid_input");
    // Surrounding whitespace does not count.
    let padded = format!("  {longest}\n");
    assert_eq!(
        review(&slot, booking, &student(1), &padded, DURING).unwrap().text,
        longest
    );
}

#[test]
fn teacher_rating_is_the_rounded_average_and_count() {
    let rate = |list: &[u8]| TeacherRating::of(list.iter().map(|&n| stars(n)));
    assert_eq!(
        rate(&[]),
        TeacherRating {
            average: None,
            count: 0
        }
    );
    assert_eq!(
        rate(&[4]),
        TeacherRating {
            average: Some(4.0),
            count: 1
        }
    );
    assert_eq!(rate(&[2, 3]).average, Some(2.5));
    // 13 / 3 = 4.333.. and 14 / 3 = 4.666..: two decimals, rounded half away from zero.
    assert_eq!(
        rate(&[5, 4, 4]),
        TeacherRating {
            average: Some(4.33),
            count: 3
        }
    );
    assert_eq!(rate(&[5, 5, 4]).average, Some(4.67));
    // 1/8 steps: 4.125 -> 4.13 (exactly representable, so the half rounds up).
    assert_eq!(rate(&[5, 5, 4, 4, 4, 4, 4, 3]).average, Some(4.13));
    assert_eq!(rate(&[1; 1000]).count, 1000);
}

// ----- bands -----

#[test]
fn bands_are_zero_to_nine_in_half_steps() {
    assert_eq!(band(6.5).value(), 6.5);
    assert_eq!(band(0.0).value(), 0.0);
    assert_eq!(band(9.0).value(), 9.0);
    assert_eq!(band(7.0).to_string(), "7.0");
    for bad in [6.3, 9.5, -0.5, 10.0, 0.25, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(Band::new(bad).unwrap_err(), DomainError::InvalidBand, "{bad}");
    }
    assert!(serde_json::from_str::<Band>("6.3").is_err());
    assert_eq!(serde_json::to_string(&band(6.5)).unwrap(), "6.5");
    assert!(band(6.5) > band(6.0));
}

// ----- lesson reports -----

#[test]
fn the_slots_teacher_writes_a_report() {
    let (slot, booking) = lesson();
    let written = report(
        None,
        &slot,
        booking,
        &teacher(),
        content(Some(6.5), " Good progress. "),
        DURING,
    )
    .unwrap();
    assert_eq!(written.id(), report_id(1));
    assert_eq!(written.booking(), booking);
    assert_eq!(written.slot(), slot.id());
    assert_eq!(written.teacher(), user(TEACHER));
    assert_eq!(written.student(), student(1).user);
    assert_eq!(written.bands().overall, Some(band(6.5)));
    assert_eq!(written.bands().writing, None);
    assert_eq!(written.comments(), "Good progress.");
    assert_eq!(written.created_at(), DURING);
    assert_eq!(written.updated_at(), DURING);
}

#[test]
fn only_the_slots_teacher_writes_a_report() {
    let (slot, booking) = lesson();
    for (actor, code) in [
        (other_teacher(), "not_found"),
        (student(1), "forbidden"),
        (staff(), "forbidden"),
    ] {
        let error = report(None, &slot, booking, &actor, content(None, ""), DURING).unwrap_err();
        assert_eq!(error.code(), code);
    }
    let error = report(None, &slot, booking_id(99), &teacher(), content(None, ""), DURING).unwrap_err();
    assert_eq!(error.code(), "not_found");
}

#[test]
fn reports_are_for_confirmed_or_completed_bookings() {
    let mut slot = slot(3);
    let requested = ask(&mut slot, 1);
    let confirmed = confirm(&mut slot, 2);
    let error = report(None, &slot, requested, &teacher(), content(None, ""), DURING).unwrap_err();
    assert_eq!(error, DomainError::InvalidBookingStatus { status: "requested" });
    slot.mark_attendance(confirmed, Attendance::Completed, &teacher(), DURING)
        .unwrap();
    assert!(report(None, &slot, confirmed, &teacher(), content(None, ""), DURING).is_ok());
}

#[test]
fn report_comments_have_a_length_limit() {
    let (slot, booking) = lesson();
    let longest = "é".repeat(MAX_COMMENT_CHARS);
    assert!(report(None, &slot, booking, &teacher(), content(None, &longest), DURING).is_ok());
    let too_long = "e".repeat(MAX_COMMENT_CHARS + 1);
    let error = report(None, &slot, booking, &teacher(), content(None, &too_long), DURING).unwrap_err();
    assert_eq!(error.code(), "invalid_input");
}

#[test]
fn editing_a_report_keeps_its_identity() {
    let (slot, booking) = lesson();
    let first = report(None, &slot, booking, &teacher(), content(Some(6.0), "first"), DURING).unwrap();
    let later = DURING + Duration::days(1);
    // The caller offers a fresh id; the existing report keeps its own.
    let edited = LessonReport::write(
        Some(first.clone()),
        report_id(2),
        &slot,
        booking,
        &teacher(),
        content(Some(6.5), "second"),
        later,
    )
    .unwrap();
    assert_eq!(edited.id(), first.id());
    assert_eq!(edited.created_at(), DURING);
    assert_eq!(edited.updated_at(), later);
    assert_eq!(edited.bands().overall, Some(band(6.5)));
    assert_eq!(edited.comments(), "second");
    assert_eq!(edited.booking(), booking);
    assert_eq!(edited.student(), student(1).user);
}

#[test]
fn an_edit_must_name_the_reports_own_booking() {
    let mut slot = slot(3);
    let first = confirm(&mut slot, 1);
    let second = confirm(&mut slot, 2);
    let existing = report(None, &slot, first, &teacher(), content(Some(6.0), ""), DURING).unwrap();
    let error = report(Some(existing), &slot, second, &teacher(), content(None, ""), DURING).unwrap_err();
    assert_eq!(error.code(), "invalid_input");
}

#[test]
fn progress_shows_reports_oldest_first_and_the_latest_overall_band() {
    let mut slot = slot(3);
    let booking = confirm(&mut slot, 1);
    let at = |days| DURING + Duration::days(days);
    let written = |n, overall, when| {
        LessonReport::write(
            None,
            report_id(n),
            &slot,
            booking,
            &teacher(),
            content(overall, ""),
            when,
        )
        .unwrap()
    };
    let oldest = written(1, Some(5.5), at(0));
    let middle = written(2, Some(6.5), at(1));
    // The newest report left the overall band out: the latest known one counts.
    let newest = written(3, None, at(2));
    let progress = Progress::of(vec![newest.clone(), oldest.clone(), middle.clone()]);
    assert_eq!(progress.reports, vec![oldest, middle, newest]);
    assert_eq!(progress.latest_overall, Some(band(6.5)));

    let empty = Progress::of(Vec::new());
    assert!(empty.reports.is_empty());
    assert_eq!(empty.latest_overall, None);
    assert_eq!(Progress::of(vec![written(4, None, at(3))]).latest_overall, None);
}
