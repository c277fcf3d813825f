//! Feedback use cases: reviews, teacher ratings, lesson reports and progress.

use tutorbook_domain::{
    Actor, BookingId, DomainError, LessonReport, Progress, Rating, ReportContent, ReportId, Review, ReviewId, Role,
    TeacherRating, UserId,
};

use crate::{BookingStore, Clock, Error, IdGen, ReportStore, Result, ReviewStore};

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
    S: BookingStore + ReviewStore + ReportStore,
    C: Clock,
    I: IdGen,
{
    /// Wires the use cases to their ports.
    pub fn new(store: S, clock: C, ids: I) -> Self {
        Self { store, clock, ids }
    }

    /// The booking's student reviews it once, after the start.
    pub async fn review(&self, actor: &Actor, booking: BookingId, rating: u8, text: String) -> Result<Review> {
        let rating = Rating::new(rating)?;
        let slot = self.slot_with(booking).await?;
        let id = ReviewId::from_uuid(self.ids.new_id());
        let review = Review::write(id, &slot, booking, actor, rating, text, self.clock.now())?;
        self.store.add_review(review.clone()).await?;
        Ok(review)
    }

    /// A teacher's rating and latest reviews (public).
    pub async fn teacher_feedback(&self, teacher: UserId) -> Result<TeacherFeedback> {
        Ok(TeacherFeedback {
            rating: self.store.teacher_rating(teacher).await?,
            latest: self.store.teacher_reviews(teacher, LATEST_REVIEWS).await?,
        })
    }

    /// The slot's teacher writes or edits the report on a booking.
    pub async fn write_report(
        &self,
        actor: &Actor,
        booking: BookingId,
        content: ReportContent,
    ) -> Result<LessonReport> {
        let slot = self.slot_with(booking).await?;
        let existing = self.store.report_of(booking).await?;
        let id = ReportId::from_uuid(self.ids.new_id());
        let report = LessonReport::write(existing, id, &slot, booking, actor, content, self.clock.now())?;
        self.store.save_report(report.clone()).await?;
        Ok(report)
    }

    /// The report on a booking, for its student, its teacher, or staff.
    pub async fn report(&self, actor: &Actor, booking: BookingId) -> Result<LessonReport> {
        let report = self
            .store
            .report_of(booking)
            .await?
            .ok_or_else(|| Error::not_found("report"))?;
        if !(actor.is_or_staff(report.student()) || actor.user == report.teacher()) {
            return Err(DomainError::Forbidden.into());
        }
        Ok(report)
    }

    /// A student's progress: their own, or any student's for staff and for a
    /// teacher who reported on them (only that teacher's reports).
    pub async fn progress(&self, actor: &Actor, student: UserId) -> Result<Progress> {
        let reports = self.store.student_reports(student).await?;
        let visible: Vec<LessonReport> = if actor.is_or_staff(student) {
            reports
        } else if actor.role == Role::Teacher {
            reports.into_iter().filter(|r| r.teacher() == actor.user).collect()
        } else {
            return Err(DomainError::Forbidden.into());
        };
        Ok(Progress::of(visible))
    }

    async fn slot_with(&self, booking: BookingId) -> Result<tutorbook_domain::Slot> {
        let slot = self
            .store
            .slot_of_booking(booking)
            .await?
            .ok_or_else(|| Error::not_found("booking"))?;
        self.store.slot(slot).await?.ok_or_else(|| Error::not_found("slot"))
    }
}
