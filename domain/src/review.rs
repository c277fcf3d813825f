//! Reviews of lessons and a teacher's rating (docs/product.md §7).

use crate::{Actor, BookingId, BookingStatus, DomainError, DomainResult, ReviewId, Slot, SlotId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Longest review text accepted, in characters.
pub const MAX_REVIEW_CHARS: usize = 4000;

/// A star rating from 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

impl Rating {
    /// Checks `1..=5`.
    pub fn new(stars: u8) -> DomainResult<Self> {
        if (1..=5).contains(&stars) {
            Ok(Self(stars))
        } else {
            Err(DomainError::InvalidRating)
        }
    }

    /// Number of stars.
    pub fn get(&self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Rating {
    type Error = DomainError;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Rating> for u8 {
    fn from(value: Rating) -> Self {
        value.0
    }
}

/// A student's review of one booking. At most one per booking:
/// [`Review::write`] refuses a second with [`DomainError::AlreadyReviewed`]
/// (the store's unique key on the booking backs this up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Its id.
    pub id: ReviewId,
    /// The reviewed booking.
    pub booking: BookingId,
    /// Its slot.
    pub slot: SlotId,
    /// The teacher reviewed.
    pub teacher: UserId,
    /// The author.
    pub student: UserId,
    /// Stars.
    pub rating: Rating,
    /// Free text (may be empty).
    pub text: String,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What a student writes in a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewContent {
    /// Stars.
    pub rating: Rating,
    /// Free text (may be empty; trimmed when written).
    pub text: String,
}

impl Review {
    /// Writes a review of `booking` on `slot`: only its student, only a
    /// confirmed or completed lesson, only once it has started, and only
    /// when the booking has no review yet (`existing`).
    pub fn write(
        existing: Option<&Review>,
        id: ReviewId,
        slot: &Slot,
        booking: BookingId,
        actor: &Actor,
        content: ReviewContent,
        now: OffsetDateTime,
    ) -> DomainResult<Self> {
        let ReviewContent { rating, text } = content;
        let reviewed = slot
            .booking(booking)
            .filter(|_| slot.shows_booking_to(booking, actor))
            .ok_or(DomainError::NotFound { entity: "booking" })?;
        if reviewed.student() != actor.user {
            return Err(DomainError::Forbidden);
        }
        if existing.is_some_and(|review| review.booking == booking) {
            return Err(DomainError::AlreadyReviewed);
        }
        if !matches!(reviewed.status(), BookingStatus::Confirmed | BookingStatus::Completed) {
            return Err(DomainError::InvalidBookingStatus {
                status: reviewed.status().as_str(),
            });
        }
        if now < slot.window().start() {
            return Err(DomainError::ReviewTooEarly);
        }
        let text = text.trim().to_owned();
        if text.chars().count() > MAX_REVIEW_CHARS {
            return Err(DomainError::invalid(
                "text",
                format!("at most {MAX_REVIEW_CHARS} characters"),
            ));
        }
        Ok(Self {
            id,
            booking,
            slot: slot.id(),
            teacher: slot.teacher(),
            student: actor.user,
            rating,
            text,
            created_at: now,
        })
    }
}

/// A teacher's average rating.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TeacherRating {
    /// Mean stars, `None` without reviews.
    pub average: Option<f64>,
    /// Number of reviews.
    pub count: u32,
}

impl TeacherRating {
    /// Aggregates ratings; the average is rounded to two decimals for display.
    pub fn of(ratings: impl IntoIterator<Item = Rating>) -> Self {
        let (sum, count) = ratings
            .into_iter()
            .fold((0_u64, 0_u32), |(sum, count), r| (sum + u64::from(r.get()), count + 1));
        Self::from_totals(sum, count)
    }

    /// Builds the rating from the sum of stars and the number of reviews (as a
    /// store's aggregate query returns them).
    pub fn from_totals(sum: u64, count: u32) -> Self {
        let average = (count > 0).then(|| {
            let mean = sum as f64 / f64::from(count);
            (mean * 100.0).round() / 100.0
        });
        Self { average, count }
    }
}
