//! Feedback use cases: reviews, teacher ratings, lesson reports and progress.

use tutorbook_domain::{
    Actor, BookingId, DomainError, LessonReport, Progress, Rating, ReportContent, ReportId, Review, ReviewContent,
    ReviewId, Role, TeacherRating, UserId,
};

use crate::{Clock, Error, IdGen, LockSet, ReportStore, Result, ReviewStore, UnitOfWork, execute};

/// How many reviews a teacher's page shows.
pub const LATEST_REVIEWS: usize = 5;

/// The feedback use cases over a store `S`, a clock `C` and an id source `I`.
#[derive(Debug, Clone)]
pub struct Feedback<S, C, I> {
    store: S,
    clock: C,
    ids: I,
}

/// A teacher's rating with their latest reviews.
#[derive(Debug, Clone, PartialEq)]
pub struct TeacherFeedback {
    /// Average and count.
    pub rating: TeacherRating,
    /// The latest reviews, newest first.
    pub latest: Vec<Review>,
}

impl<S, C, I> Feedback<S, C, I>
where
    S: UnitOfWork + ReviewStore + ReportStore,
    C: Clock,
    I: IdGen,
{
    /// Wires the use cases to their ports.
    pub fn new(store: S, clock: C, ids: I) -> Self {
        Self { store, clock, ids }
    }

    /// The booking's student reviews it once, after the start. Decided
    /// under the lock of the booking's slot, so two racing reviews of one
    /// booking cannot both pass the domain's "once" rule.
    pub async fn review(&self, actor: &Actor, booking: BookingId, rating: u8, text: String) -> Result<Review> {
        let rating = Rating::new(rating)?;
        let id = ReviewId::from_uuid(self.ids.new_id());
        let actor = *actor;
        let now = self.clock.now();
        execute(&self.store, LockSet::new().feedback_of(booking), now, move |unit| {
            let slot = unit.slot(unit.slot_id_of(booking)?)?;
            let content = ReviewContent { rating, text };
            let review = Review::write(unit.review_of(booking), id, slot, booking, &actor, content, now)?;
            unit.add_review(review.clone());
            Ok(review)
        })
        .await
    }

    /// A teacher's rating and latest reviews (public).
    pub async fn teacher_feedback(&self, teacher: UserId) -> Result<TeacherFeedback> {
        Ok(TeacherFeedback {
            rating: self.store.teacher_rating(teacher).await?,
            latest: self.store.teacher_reviews(teacher, LATEST_REVIEWS).await?,
        })
    }

    /// The slot's teacher writes or edits the report on a booking, under
    /// the lock of its slot (two edits apply one after the other).
    pub async fn write_report(
        &self,
        actor: &Actor,
        booking: BookingId,
        content: ReportContent,
    ) -> Result<LessonReport> {
        let id = ReportId::from_uuid(self.ids.new_id());
        let actor = *actor;
        let now = self.clock.now();
        execute(&self.store, LockSet::new().feedback_of(booking), now, move |unit| {
            let slot = unit.slot(unit.slot_id_of(booking)?)?;
            let existing = unit.report_of(booking).cloned();
            let report = LessonReport::write(existing, id, slot, booking, &actor, content, now)?;
            unit.put_report(report.clone());
            Ok(report)
        })
        .await
    }

    /// The report on a booking, for its student, its teacher, or staff.
    pub async fn report(&self, actor: &Actor, booking: BookingId) -> Result<LessonReport> {
        let report = self
            .store
            .report_of(booking)
            .await?
            .ok_or_else(|| Error::not_found("report"))?;
        if !(actor.is_or_staff(report.student()) || actor.user == report.teacher()) {
            return Err(Error::not_found("report"));
        }
        Ok(report)
    }

    /// A student's progress: their own, or any student's for staff and for a
    /// teacher who reported on them (only that teacher's reports).
    pub async fn progress(&self, actor: &Actor, student: UserId) -> Result<Progress> {
        let sees_all = actor.is_or_staff(student);
        // Refuse before reading: who may ask does not depend on the reports.
        if !(sees_all || actor.role == Role::Teacher) {
            return Err(DomainError::Forbidden.into());
        }
        let reports = self.store.student_reports(student).await?;
        let visible: Vec<LessonReport> = if sees_all {
            reports
        } else {
            reports.into_iter().filter(|r| r.teacher() == actor.user).collect()
        };
        Ok(Progress::of(visible))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::testing::*;
    use crate::{Changes, MockClock, MockIdGen, Unit};
    use time::{Duration, OffsetDateTime};
    use tutorbook_domain::{Band, Bands, ReportContent, Slot, SlotId};

    type Service = Feedback<MockStore, MockClock, MockIdGen>;

    fn service_at(now: OffsetDateTime, store: MockStore, ids: MockIdGen) -> Service {
        Feedback::new(store, clock_at(now), ids)
    }

    /// A 1:1 slot of [`TEACHER`] with a confirmed booking of [`STUDENT`].
    fn booked_slot() -> (Slot, BookingId) {
        let mut slot = open_slot(1, TEACHER, 1);
        let booking = book(&mut slot, 2, STUDENT, &instant_policy());
        (slot, booking)
    }

    /// A store whose one unit of work finds `world`, runs the decision and
    /// hands what it would save to `saved`.
    fn store_saving(world: World, saved: impl Fn(&Changes<'_>) + Send + 'static) -> MockStore {
        let mut store = MockStore::new();
        store.expect_execute().times(1).returning(move |locks, _, decide| {
            assert!(
                !locks.feedback.is_empty(),
                "feedback is decided with the booking's feedback loaded"
            );
            let mut unit = Unit::new(world.load(&locks));
            decide(&mut unit)?;
            saved(&unit.changes());
            Ok(unit)
        });
        store
    }

    /// A store whose unit of work must refuse (nothing reaches `saved`).
    fn store_refusing(world: World) -> MockStore {
        store_saving(world, |_| panic!("a refused decision saves nothing"))
    }

    fn band(value: f64) -> Option<Band> {
        Some(Band::new(value).unwrap())
    }

    fn report(id: u128, teacher: UserId, written: OffsetDateTime, overall: Option<Band>) -> LessonReport {
        LessonReport::restore(
            ReportId::from_uuid(uuid(id)),
            BookingId::from_uuid(uuid(id + 100)),
            SlotId::from_uuid(uuid(id + 200)),
            teacher,
            STUDENT,
            Bands {
                overall,
                ..Bands::default()
            },
            format!("report {id}"),
            written,
            written,
        )
    }

    // ----- reviews -----

    #[tokio::test]
    async fn review_is_written_with_the_drawn_id_and_now_and_stored() {
        let (slot, booking) = booked_slot();
        let id = ReviewId::from_uuid(uuid(20));
        let store = store_saving(World::of(&slot), move |changes| {
            assert_eq!(changes.new_reviews.len(), 1);
            let r = changes.new_reviews[0];
            assert!(r.id == id && r.booking == booking && r.teacher == TEACHER && r.student == STUDENT);
            assert_eq!(
                (r.rating.get(), r.text.as_str(), r.created_at),
                (4, "Great lesson", LESSON_OVER)
            );
        });
        let review = service_at(LESSON_OVER, store, ids([uuid(20)]))
            .review(&Actor::student(STUDENT), booking, 4, "  Great lesson \n".into())
            .await
            .unwrap();
        assert_eq!(review.id, id);
        assert_eq!(review.slot, slot.id());
        assert_eq!(review.text, "Great lesson");
    }

    #[tokio::test]
    async fn review_with_a_bad_rating_touches_no_port() {
        let mut store = MockStore::new();
        store.expect_execute().never();
        let err = service_at(LESSON_OVER, store, no_ids())
            .review(
                &Actor::student(STUDENT),
                BookingId::from_uuid(uuid(2)),
                6,
                String::new(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.domain(), Some(&DomainError::InvalidRating));
    }

    #[tokio::test]
    async fn review_refusals_store_nothing() {
        let (slot, booking) = booked_slot();
        let cases = [
            (NOW, Actor::student(STUDENT), "review_too_early"),
            (LESSON_OVER, Actor::student(OTHER_STUDENT), "not_found"),
            (LESSON_OVER, Actor::teacher(TEACHER), "forbidden"),
        ];
        for (now, actor, code) in cases {
            let err = service_at(now, store_refusing(World::of(&slot)), ids([uuid(20)]))
                .review(&actor, booking, 5, String::new())
                .await
                .unwrap_err();
            assert_eq!(err.code(), code, "{actor:?}");
        }
    }

    #[tokio::test]
    async fn a_second_review_is_refused_by_the_domain() {
        let (slot, booking) = booked_slot();
        let first = Review::write(
            None,
            ReviewId::from_uuid(uuid(19)),
            &slot,
            booking,
            &Actor::student(STUDENT),
            ReviewContent {
                rating: Rating::new(5).unwrap(),
                text: String::new(),
            },
            LESSON_OVER,
        )
        .unwrap();
        let store = store_refusing(World::of(&slot).review(&first));
        let err = service_at(LESSON_OVER, store, ids([uuid(20)]))
            .review(&Actor::student(STUDENT), booking, 1, String::new())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Domain(DomainError::AlreadyReviewed)));
        assert_eq!(err.code(), "already_reviewed");
    }

    #[tokio::test]
    async fn an_unknown_booking_is_not_found() {
        let store = store_refusing(World::default());
        let err = service_at(LESSON_OVER, store, ids([uuid(20)]))
            .review(
                &Actor::student(STUDENT),
                BookingId::from_uuid(uuid(99)),
                5,
                String::new(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "not_found");
    }

    #[tokio::test]
    async fn teacher_feedback_reads_the_rating_and_the_latest_reviews() {
        let mut store = MockStore::new();
        let rating = TeacherRating {
            average: Some(4.5),
            count: 2,
        };
        store
            .expect_teacher_rating()
            .withf(|t| *t == TEACHER)
            .times(1)
            .returning(move |_| Ok(rating));
        store
            .expect_teacher_reviews()
            .withf(|t, limit| *t == TEACHER && *limit == LATEST_REVIEWS)
            .times(1)
            .returning(|_, _| Ok(Vec::new()));
        let got = service_at(NOW, store, no_ids())
            .teacher_feedback(TEACHER)
            .await
            .unwrap();
        assert_eq!(got, TeacherFeedback { rating, latest: vec![] });
    }

    // ----- reports -----

    fn content(comments: &str, overall: f64) -> ReportContent {
        ReportContent {
            bands: Bands {
                overall: band(overall),
                ..Bands::default()
            },
            comments: comments.into(),
        }
    }

    #[tokio::test]
    async fn write_report_creates_a_report_with_the_drawn_id_and_now() {
        let (slot, booking) = booked_slot();
        let id = ReportId::from_uuid(uuid(30));
        let store = store_saving(World::of(&slot), move |changes| {
            assert_eq!(changes.reports.len(), 1);
            let (insert, r) = changes.reports[0];
            assert!(insert && r.id() == id && r.booking() == booking && r.comments() == "Good");
        });
        let written = service_at(NOW, store, ids([uuid(30)]))
            .write_report(&Actor::teacher(TEACHER), booking, content(" Good ", 6.5))
            .await
            .unwrap();
        assert_eq!(written.id(), id);
        assert_eq!(written.slot(), slot.id());
        assert_eq!((written.teacher(), written.student()), (TEACHER, STUDENT));
        assert_eq!((written.created_at(), written.updated_at()), (NOW, NOW));
        assert_eq!(written.bands().overall, band(6.5));
    }

    #[tokio::test]
    async fn editing_a_report_keeps_its_id_and_creation_time() {
        let (slot, booking) = booked_slot();
        let earlier = NOW - Duration::days(1);
        let existing = LessonReport::restore(
            ReportId::from_uuid(uuid(31)),
            booking,
            slot.id(),
            TEACHER,
            STUDENT,
            Bands::default(),
            "first".into(),
            earlier,
            earlier,
        );
        let store = store_saving(World::of(&slot).report(&existing), |changes| {
            assert_eq!(changes.reports.len(), 1);
            assert!(!changes.reports[0].0, "an edit updates the row");
        });
        let edited = service_at(NOW, store, ids([uuid(32)]))
            .write_report(&Actor::teacher(TEACHER), booking, content("second", 7.0))
            .await
            .unwrap();
        assert_eq!(edited.id(), ReportId::from_uuid(uuid(31)));
        assert_eq!((edited.created_at(), edited.updated_at()), (earlier, NOW));
        assert_eq!(edited.comments(), "second");
        assert_eq!(edited.bands().overall, band(7.0));
    }

    #[tokio::test]
    async fn write_report_by_another_teacher_saves_nothing() {
        let (slot, booking) = booked_slot();
        let err = service_at(NOW, store_refusing(World::of(&slot)), ids([uuid(30)]))
            .write_report(&Actor::teacher(OTHER_TEACHER), booking, content("", 5.0))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "not_found");
    }

    #[tokio::test]
    async fn a_report_is_for_its_student_its_teacher_and_staff_only() {
        let stored = report(40, TEACHER, NOW, band(6.0));
        let booking = stored.booking();
        let cases = [
            (Actor::student(STUDENT), true),
            (Actor::teacher(TEACHER), true),
            (Actor::staff(STAFF), true),
            (Actor::student(OTHER_STUDENT), false),
            (Actor::teacher(OTHER_TEACHER), false),
        ];
        for (actor, allowed) in cases {
            let mut store = MockStore::new();
            let answer = stored.clone();
            store
                .expect_report_of()
                .withf(move |b| *b == booking)
                .times(1)
                .returning(move |_| Ok(Some(answer.clone())));
            let got = service_at(NOW, store, no_ids()).report(&actor, booking).await;
            if allowed {
                assert_eq!(got.unwrap(), stored, "{actor:?}");
            } else {
                assert_eq!(got.unwrap_err().code(), "not_found", "{actor:?}");
            }
        }
    }

    #[tokio::test]
    async fn a_missing_report_is_not_found() {
        let mut store = MockStore::new();
        store.expect_report_of().times(1).returning(|_| Ok(None));
        let err = service_at(NOW, store, no_ids())
            .report(&Actor::staff(STAFF), BookingId::from_uuid(uuid(2)))
            .await
            .unwrap_err();
        assert_eq!(err.domain(), Some(&DomainError::NotFound { entity: "report" }));
    }

    // ----- progress -----

    fn reports_of_student() -> Vec<LessonReport> {
        // Deliberately out of order: progress sorts by when they were written.
        vec![
            report(52, TEACHER, NOW - Duration::days(1), band(6.5)),
            report(50, TEACHER, NOW - Duration::days(10), band(5.5)),
            report(51, OTHER_TEACHER, NOW - Duration::days(5), band(6.0)),
            report(53, OTHER_TEACHER, NOW, None),
        ]
    }

    #[tokio::test]
    async fn progress_shows_each_viewer_what_they_may_see() {
        let id = |n| ReportId::from_uuid(uuid(n));
        let cases = [
            // The student and staff see every report; the latest band with one counts.
            (Actor::student(STUDENT), vec![id(50), id(51), id(52), id(53)], band(6.5)),
            (Actor::staff(STAFF), vec![id(50), id(51), id(52), id(53)], band(6.5)),
            // A teacher sees only their own reports.
            (Actor::teacher(TEACHER), vec![id(50), id(52)], band(6.5)),
            (Actor::teacher(OTHER_TEACHER), vec![id(51), id(53)], band(6.0)),
        ];
        for (actor, expected, latest) in cases {
            let mut store = MockStore::new();
            store
                .expect_student_reports()
                .withf(|s| *s == STUDENT)
                .times(1)
                .returning(|_| Ok(reports_of_student()));
            let progress = service_at(NOW, store, no_ids())
                .progress(&actor, STUDENT)
                .await
                .unwrap();
            let shown: Vec<ReportId> = progress.reports.iter().map(LessonReport::id).collect();
            assert_eq!(shown, expected, "{actor:?}");
            assert_eq!(progress.latest_overall, latest, "{actor:?}");
        }
    }

    #[tokio::test]
    async fn progress_of_another_student_is_refused_without_reading() {
        let mut store = MockStore::new();
        store.expect_student_reports().times(0);
        let err = service_at(NOW, store, no_ids())
            .progress(&Actor::student(OTHER_STUDENT), STUDENT)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "forbidden");
    }

    #[tokio::test]
    async fn progress_read_failure_is_storage_unavailable() {
        let mut store = MockStore::new();
        store
            .expect_student_reports()
            .times(1)
            .returning(|_| Err(storage_down()));
        let err = service_at(NOW, store, no_ids())
            .progress(&Actor::student(STUDENT), STUDENT)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "storage_unavailable");
    }
}
