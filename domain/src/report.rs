//! Lesson reports with IELTS bands and a student's progress (docs/product.md §7).

use crate::{Actor, BookingId, BookingStatus, DomainError, DomainResult, ReportId, Slot, SlotId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// Longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 8000;

/// An IELTS band: 0 to 9 in steps of 0.5, held as half-steps so it is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Band(u8);

impl Band {
    /// Checks `0.0..=9.0` and a multiple of 0.5.
    pub fn new(value: f64) -> DomainResult<Self> {
        let halves = value * 2.0;
        if !value.is_finite() || !(0.0..=9.0).contains(&value) || halves.fract() != 0.0 {
            return Err(DomainError::InvalidBand);
        }
        // 0..=18 after the checks above.
        Ok(Self(halves as u8))
    }

    /// The band as a number.
    pub fn value(&self) -> f64 {
        f64::from(self.0) / 2.0
    }
}

impl TryFrom<f64> for Band {
    type Error = DomainError;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Band> for f64 {
    fn from(value: Band) -> Self {
        value.value()
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.value())
    }
}

/// The four IELTS skills and the overall band; a teacher may leave any unassessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Bands {
    /// Listening.
    pub listening: Option<Band>,
    /// Reading.
    pub reading: Option<Band>,
    /// Writing.
    pub writing: Option<Band>,
    /// Speaking.
    pub speaking: Option<Band>,
    /// Overall.
    pub overall: Option<Band>,
}

/// What a teacher writes: bands and comments.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReportContent {
    /// The assessed bands.
    pub bands: Bands,
    /// Free-text comments.
    pub comments: String,
}

/// A teacher's report on one booking; one per booking, editable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonReport {
    id: ReportId,
    booking: BookingId,
    slot: SlotId,
    teacher: UserId,
    student: UserId,
    bands: Bands,
    comments: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl LessonReport {
    /// Writes a new report, or revises `existing` (which must be the report on
    /// `booking`), on a confirmed or completed booking of the actor's own slot.
    pub fn write(
        existing: Option<Self>,
        id: ReportId,
        slot: &Slot,
        booking: BookingId,
        actor: &Actor,
        content: ReportContent,
        now: OffsetDateTime,
    ) -> DomainResult<Self> {
        let ReportContent { bands, comments } = content;
        if existing.as_ref().is_some_and(|previous| previous.booking != booking) {
            return Err(DomainError::invalid(
                "report",
                "the existing report is about another booking",
            ));
        }
        let reported = slot
            .booking(booking)
            .filter(|_| slot.shows_booking_to(booking, actor))
            .ok_or(DomainError::NotFound { entity: "booking" })?;
        if actor.user != slot.teacher() {
            return Err(DomainError::Forbidden);
        }
        if !matches!(reported.status(), BookingStatus::Confirmed | BookingStatus::Completed) {
            return Err(DomainError::InvalidBookingStatus {
                status: reported.status().as_str(),
            });
        }
        let comments = comments.trim().to_owned();
        if comments.chars().count() > MAX_COMMENT_CHARS {
            return Err(DomainError::invalid(
                "comments",
                format!("at most {MAX_COMMENT_CHARS} characters"),
            ));
        }
        Ok(match existing {
            Some(previous) => Self {
                bands,
                comments,
                updated_at: now,
                ..previous
            },
            None => Self {
                id,
                booking,
                slot: slot.id(),
                teacher: slot.teacher(),
                student: reported.student(),
                bands,
                comments,
                created_at: now,
                updated_at: now,
            },
        })
    }

    /// Rebuilds a stored report.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        id: ReportId,
        booking: BookingId,
        slot: SlotId,
        teacher: UserId,
        student: UserId,
        bands: Bands,
        comments: String,
        created_at: OffsetDateTime,
        updated_at: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            booking,
            slot,
            teacher,
            student,
            bands,
            comments,
            created_at,
            updated_at,
        }
    }

    /// Its id.
    pub fn id(&self) -> ReportId {
        self.id
    }

    /// The booking reported on.
    pub fn booking(&self) -> BookingId {
        self.booking
    }

    /// Its slot.
    pub fn slot(&self) -> SlotId {
        self.slot
    }

    /// The author.
    pub fn teacher(&self) -> UserId {
        self.teacher
    }

    /// The student it is about.
    pub fn student(&self) -> UserId {
        self.student
    }

    /// The bands.
    pub fn bands(&self) -> Bands {
        self.bands
    }

    /// The comments.
    pub fn comments(&self) -> &str {
        &self.comments
    }

    /// When first written.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// When last edited.
    pub fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
}

/// A student's progress: their reports (oldest first) and latest overall band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The reports, oldest lesson first.
    pub reports: Vec<LessonReport>,
    /// The overall band of the most recent report that has one.
    pub latest_overall: Option<Band>,
}

impl Progress {
    /// Orders the reports by when they were written and picks the latest overall band.
    pub fn of(mut reports: Vec<LessonReport>) -> Self {
        reports.sort_by_key(|r| (r.created_at, r.id));
        let latest_overall = reports.iter().rev().find_map(|r| r.bands.overall);
        Self {
            reports,
            latest_overall,
        }
    }
}
