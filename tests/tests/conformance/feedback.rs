//! Reviews, teacher ratings, lesson reports and progress.

use time::Duration;
use tutorbook_domain::{Actor, Band, Bands, BookingId, ReportContent, UserId};

use crate::backends::Store;
use crate::conformance;
use crate::world::{OTHER_TEACHER, STAFF, T0, TEACHER, World, at, code, race, student};

async fn a_lesson_is_reviewed_once_and_counts_in_the_rating<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 2).await;
    let booking = w.request(student(1), &slot).await;
    let other = w.request(student(2), &slot).await;
    let review = async |by: u128, booking: BookingId, stars: u8| {
        (w.feedback)
            .review(&Actor::student(student(by)), booking, stars, format!("{stars} stars"))
            .await
    };
    assert_eq!(code(review(1, booking.id(), 5).await), "review_too_early");

    w.clock.set(at(1, 11));
    let written = review(1, booking.id(), 5).await.unwrap();
    assert_eq!(written.teacher, TEACHER);
    assert_eq!(written.created_at, at(1, 11));
    assert_eq!(code(review(1, booking.id(), 1).await), "already_reviewed");
    assert_eq!(
        code(review(2, booking.id(), 1).await),
        "not_found",
        "another student's booking"
    );
    review(2, other.id(), 4).await.unwrap();

    let page = w.feedback.teacher_feedback(TEACHER).await.unwrap();
    assert_eq!(page.rating.count, 2);
    assert_eq!(page.rating.average, Some(4.5));
    assert_eq!(page.latest.len(), 2);
    assert!(page.latest.contains(&written));
    let nobody = w.feedback.teacher_feedback(OTHER_TEACHER).await.unwrap();
    assert_eq!((nobody.rating.count, nobody.rating.average), (0, None));
}

async fn latest_reviews_are_capped_and_newest_first<S: Store>(store: S) {
    let w = World::new(store);
    let mut ids = Vec::new();
    for n in 0..7 {
        let slot = w.open(TEACHER, at(1, 2 * n), 1).await;
        w.clock.set(T0);
        let booking = w.confirmed(student(1), &slot).await;
        w.clock.set(at(1, 2 * n) + Duration::minutes(10));
        let written = w
            .feedback
            .review(&Actor::student(student(1)), booking.id(), 3, String::new())
            .await
            .unwrap();
        ids.push(written.id);
        w.clock.set(T0);
    }
    let page = w.feedback.teacher_feedback(TEACHER).await.unwrap();
    assert_eq!(page.rating.count, 7);
    let latest: Vec<_> = page.latest.iter().map(|r| r.id).collect();
    let expected: Vec<_> = ids
        .iter()
        .rev()
        .take(tutorbook_ports::LATEST_REVIEWS)
        .copied()
        .collect();
    assert_eq!(latest, expected);
}

async fn a_report_is_written_edited_and_shown_in_progress<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let booking = w.confirmed(student(1), &slot).await;
    let content = |overall: f64, comments: &str| ReportContent {
        bands: Bands {
            speaking: Some(Band::new(6.0).unwrap()),
            overall: Some(Band::new(overall).unwrap()),
            ..Bands::default()
        },
        comments: comments.into(),
    };
    let write = async |by: UserId, content: ReportContent| {
        (w.feedback)
            .write_report(&Actor::teacher(by), booking.id(), content)
            .await
    };

    assert_eq!(code(write(OTHER_TEACHER, content(5.0, "no")).await), "not_found");
    let first = write(TEACHER, content(6.0, "Solid")).await.unwrap();
    w.clock.advance(Duration::hours(1));
    let edited = write(TEACHER, content(6.5, "Better")).await.unwrap();
    assert_eq!(edited.id(), first.id());
    assert_eq!(edited.created_at(), first.created_at());
    assert_eq!(edited.updated_at(), T0 + Duration::hours(1));

    for actor in [Actor::student(student(1)), Actor::teacher(TEACHER), Actor::staff(STAFF)] {
        assert_eq!(w.feedback.report(&actor, booking.id()).await.unwrap(), edited);
    }
    assert_eq!(
        code(w.feedback.report(&Actor::student(student(2)), booking.id()).await),
        "not_found"
    );

    let progress = w
        .feedback
        .progress(&Actor::student(student(1)), student(1))
        .await
        .unwrap();
    assert_eq!(progress.reports, vec![edited.clone()], "one report per booking");
    assert_eq!(progress.latest_overall, Some(Band::new(6.5).unwrap()));
    let theirs = w.feedback.progress(&Actor::teacher(TEACHER), student(1)).await.unwrap();
    assert_eq!(theirs.reports.len(), 1);
    let others = w
        .feedback
        .progress(&Actor::teacher(OTHER_TEACHER), student(1))
        .await
        .unwrap();
    assert!(others.reports.is_empty());
    assert_eq!(
        code(w.feedback.progress(&Actor::student(student(2)), student(1)).await),
        "forbidden"
    );
}

async fn racing_reviews_of_one_booking_keep_exactly_one<S: Store>(store: S) {
    let w = World::new(store);
    let slot = w.open(TEACHER, at(1, 10), 1).await;
    let booking = w.confirmed(student(1), &slot).await;
    w.clock.set(at(1, 11));
    let results = race(8, |n| {
        let (feedback, booking) = (w.feedback.clone(), booking.id());
        async move {
            let stars = u8::try_from(n % 5).unwrap_or(0) + 1;
            feedback
                .review(&Actor::student(student(1)), booking, stars, String::new())
                .await
        }
    })
    .await;
    let written = results.iter().filter(|r| r.is_ok()).count();
    let refused: Vec<_> = results.into_iter().filter_map(Result::err).map(|e| e.code()).collect();
    assert_eq!(written, 1, "one review per booking, refused: {refused:?}");
    assert!(refused.iter().all(|c| *c == "already_reviewed"), "{refused:?}");
    assert_eq!(w.feedback.teacher_feedback(TEACHER).await.unwrap().rating.count, 1);
}

conformance!(
    racing_reviews_of_one_booking_keep_exactly_one,
    a_lesson_is_reviewed_once_and_counts_in_the_rating,
    latest_reviews_are_capped_and_newest_first,
    a_report_is_written_edited_and_shown_in_progress,
);
