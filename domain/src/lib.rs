//! The pure rules of tutorbook: slots, bookings, make-up credits, reviews,
//! lesson reports, course packages, pricing, promotions and refund quotes.
//! No I/O, no async, no clock: time comes in as `now`, ids come in from the
//! caller, and every command returns what it caused (events and audit
//! entries) for a store to persist atomically.

mod actor;
mod audit;
mod availability;
mod booking;
mod capacity;
mod consent;
mod credit;
mod enrollment;
mod error;
mod events;
mod ids;
mod locale;
mod meeting;
mod money;
mod package;
mod payment;
mod policy;
mod pricing;
mod promotion;
mod refund;
mod report;
mod review;
mod schedule;
mod series;
mod slot;
mod text;
mod waitlist;
mod window;
mod zone;

pub use actor::{Actor, Role};
pub use audit::AuditEntry;
pub use availability::{
    Availability, Bookable, BookableQuery, BusySlot, DateException, ExceptionDraft, ExceptionKind, LessonKind,
    MAX_EXCEPTION_DAYS, MAX_EXCEPTIONS, MAX_NOTE_CHARS, MAX_RANGE_DAYS, MAX_RULES, RuleDraft, TimeBooking, WeeklyRule,
    book_time, bookable_at, bookable_times, check_manager, check_range, check_rule_set, day_reach, move_to_time,
};
pub use booking::{Booking, BookingSource, BookingStatus};
pub use capacity::Capacity;
pub use consent::{Consent, ConsentDocument, missing_consents};
pub use credit::{CreditStatus, MakeupCredit};
pub use enrollment::{Enrolled, Enrollment, EnrollmentIds, EnrollmentStatus, EnrollmentTerms};
pub use error::{DomainError, DomainResult, RefusalKind};
pub use events::{DeclineReason, DomainEvent};
pub use ids::{
    BookingId, CreditId, EnrollmentId, ExceptionId, PackageId, PackageSessionId, PaymentId, PromotionId, RefundId,
    ReportId, ReviewId, RuleId, SeriesId, SlotId, UserId,
};
pub use locale::Locale;
pub use meeting::{CalendarStatus, Meeting, MeetingProvider};
pub use money::{Currency, Money};
pub use package::{ClassType, CoursePackage, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, PackageDetails, PackageStatus};
pub use payment::{Payment, PaymentProvider, PaymentRecord, PaymentStatus, PaymentTarget, Refund, check_movable};
pub use policy::{
    BookingPolicy, CancellationTier, DEFAULT_LESSON_LENGTH, MAX_ADVANCE, MAX_BUFFER, MAX_DAILY_LIMIT,
    MAX_LESSON_LENGTH, MAX_NOTICE, MIN_LESSON_LENGTH, PlatformSettings,
};
pub use pricing::{PricingConfig, SessionRates};
pub use promotion::{Discount, Percent, Promotion, PromotionScope, Purchase, best_promotion};
pub use refund::{CONSUMPTION_NOTICE, COOLING_OFF, EnrolledSession, RefundBasis, RefundQuote, refund_quote};
pub use report::{Band, Bands, LessonReport, MAX_COMMENT_CHARS, Progress, ReportContent};
pub use review::{MAX_REVIEW_CHARS, Rating, Review, ReviewContent, TeacherRating};
pub use schedule::{MAX_SESSIONS, MAX_SPAN_DAYS, MAX_TEACHING_HOURS, PackageSchedule, Recurrence, SESSION_LENGTH};
pub use series::{
    Frequency, MAX_INTERVAL, MAX_OCCURRENCES, MAX_SERIES_DAYS, Occurrence, OccurrenceAnswer, SeatsRequest, Series,
    SeriesBooked, SeriesDraft, SeriesEnd, SeriesMember, SeriesMode, SeriesRequest, SeriesRule, SlotSeries,
    SlotSeriesDraft, SlotSeriesMember, StrayMember, book_series, book_slot_series, series_search_range,
};
pub use slot::{Attendance, Outcome, Slot, SlotDraft, SlotStatus};
pub use text::{check_line, check_text, clean_line};
pub use waitlist::{MAX_OFFER_TTL, MIN_OFFER_TTL, Waitlist};
pub use window::{Buffers, EARLIEST_INSTANT, LATEST_INSTANT, LessonWindow, check_date, check_instant};
pub use zone::{DEFAULT_ZONE, Zone};
