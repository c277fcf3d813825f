//! Row structs and their conversions to and from domain types. Rows never
//! leave this crate; a row that does not convert is reported as corrupt.

use diesel::prelude::*;
use time::Duration;
use tutorbook_domain::{
    AuditEntry, Band, Bands, Booking, BookingPolicy, BookingSource, BookingStatus, Buffers, CalendarStatus, Capacity,
    CreditId, CreditStatus, EnrollmentId, LessonReport, LessonWindow, MakeupCredit, Meeting, MeetingProvider, Rating,
    Review, Slot, SlotStatus, Waitlist, Zone,
};
use tutorbook_ports::effects::{NewReminder, Reminder, ReminderChannel, ReminderStatus};
use tutorbook_ports::{Error, OutboxMessage};
use uuid::Uuid;

use crate::schema::{
    booking_audit, bookings, credits, lesson_reports, outbox, reminders, reviews, slots, teacher_policies,
};
use crate::types::{DbId, DbInstant};

pub(crate) fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::Storage(format!("corrupt row: {what}"))
}

fn parse_text<T>(value: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> Result<T, Error> {
    parse(value).ok_or_else(|| corrupt(format!("unknown {what} {value:?}")))
}

fn count(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = slots, treat_none_as_default_value = false)]
pub(crate) struct SlotRow {
    pub id: DbId,
    pub teacher_id: DbId,
    pub starts_at: DbInstant,
    pub ends_at: DbInstant,
    pub blocked_from: DbInstant,
    pub blocked_until: DbInstant,
    pub zone: String,
    pub capacity: i32,
    pub booked_count: i32,
    pub package_session_id: Option<DbId>,
    pub meeting_provider: String,
    pub meeting_url: Option<String>,
    pub meeting_passcode: Option<String>,
    pub calendar_event_id: Option<String>,
    pub calendar_status: String,
    pub status: String,
    pub created_at: DbInstant,
    pub waitlist_mode: Option<String>,
    pub waitlist_offer_minutes: Option<i64>,
}

/// The columns a command may change on an existing slot.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = slots, treat_none_as_null = true)]
pub(crate) struct SlotChanges {
    pub booked_count: i32,
    pub status: String,
    pub meeting_provider: String,
    pub meeting_url: Option<String>,
    pub meeting_passcode: Option<String>,
    pub calendar_event_id: Option<String>,
    pub calendar_status: String,
    pub waitlist_mode: Option<String>,
    pub waitlist_offer_minutes: Option<i64>,
}

/// A waitlist as its two columns (mode, offer minutes).
fn waitlist_columns(waitlist: Option<Waitlist>) -> (Option<String>, Option<i64>) {
    match waitlist {
        None => (None, None),
        Some(w) => (Some(w.mode().to_owned()), w.offer_ttl().map(|d| d.whole_minutes())),
    }
}

/// A waitlist read back from its two columns.
fn waitlist_of(mode: Option<String>, offer_minutes: Option<i64>) -> Result<Option<Waitlist>, Error> {
    mode.map(|mode| Waitlist::parse(&mode, offer_minutes.map(Duration::minutes)).map_err(corrupt))
        .transpose()
}

fn provider_text(p: MeetingProvider) -> &'static str {
    match p {
        MeetingProvider::GoogleMeet => "google_meet",
        MeetingProvider::Zoom => "zoom",
        MeetingProvider::Teams => "teams",
        MeetingProvider::Custom => "custom",
    }
}

fn provider_parse(s: &str) -> Option<MeetingProvider> {
    [
        MeetingProvider::GoogleMeet,
        MeetingProvider::Zoom,
        MeetingProvider::Teams,
        MeetingProvider::Custom,
    ]
    .into_iter()
    .find(|p| provider_text(*p) == s)
}

pub(crate) fn calendar_text(c: CalendarStatus) -> &'static str {
    match c {
        CalendarStatus::Skipped => "skipped",
        CalendarStatus::Pending => "pending",
        CalendarStatus::Synced => "synced",
        CalendarStatus::Failed => "failed",
    }
}

fn calendar_parse(s: &str) -> Option<CalendarStatus> {
    [
        CalendarStatus::Skipped,
        CalendarStatus::Pending,
        CalendarStatus::Synced,
        CalendarStatus::Failed,
    ]
    .into_iter()
    .find(|c| calendar_text(*c) == s)
}

impl SlotRow {
    /// The row of a newly opened slot; `buffers` widen the blocked range the
    /// overlap constraint checks.
    pub fn new(slot: &Slot, buffers: Buffers) -> Self {
        let window = slot.window();
        let (blocked_from, blocked_until) = window.padded(buffers);
        let changes = SlotChanges::of(slot);
        Self {
            id: slot.id().into(),
            teacher_id: slot.teacher().into(),
            starts_at: window.start().into(),
            ends_at: window.end().into(),
            blocked_from: blocked_from.into(),
            blocked_until: blocked_until.into(),
            zone: slot.zone().name().to_owned(),
            capacity: count(slot.capacity().get()),
            booked_count: changes.booked_count,
            package_session_id: slot.package_session().map(DbId::from),
            meeting_provider: changes.meeting_provider,
            meeting_url: changes.meeting_url,
            meeting_passcode: changes.meeting_passcode,
            calendar_event_id: changes.calendar_event_id,
            calendar_status: changes.calendar_status,
            status: changes.status,
            created_at: slot.created_at().into(),
            waitlist_mode: changes.waitlist_mode,
            waitlist_offer_minutes: changes.waitlist_offer_minutes,
        }
    }

    /// Rebuilds the aggregate from the row and its bookings; also checks that
    /// the stored seat count matches the confirmed bookings.
    pub fn into_slot(self, bookings: Vec<BookingRow>) -> Result<Slot, Error> {
        let id = self.id.0;
        let bookings = bookings
            .into_iter()
            .map(BookingRow::into_booking)
            .collect::<Result<Vec<_>, _>>()?;
        let meeting = Meeting::restore(
            parse_text(&self.meeting_provider, provider_parse, "meeting provider")?,
            self.meeting_url,
            self.meeting_passcode,
            self.calendar_event_id,
            parse_text(&self.calendar_status, calendar_parse, "calendar status")?,
        );
        let capacity = u32::try_from(self.capacity).map_err(corrupt)?;
        let slot = Slot::restore(
            id.into(),
            self.teacher_id.0.into(),
            LessonWindow::new(self.starts_at.0, self.ends_at.0).map_err(corrupt)?,
            Zone::parse(&self.zone).map_err(corrupt)?,
            Capacity::restore(capacity).map_err(corrupt)?,
            self.package_session_id.map(|p| p.0.into()),
            meeting,
            parse_text(&self.status, SlotStatus::parse, "slot status")?,
            self.created_at.0,
            bookings,
        )
        .map_err(corrupt)?
        .with_waitlist(waitlist_of(self.waitlist_mode, self.waitlist_offer_minutes)?);
        if count(slot.booked_count()) != self.booked_count {
            return Err(corrupt(format!(
                "slot {id}: booked_count differs from confirmed bookings"
            )));
        }
        Ok(slot)
    }
}

impl SlotChanges {
    pub fn of(slot: &Slot) -> Self {
        let meeting = slot.meeting();
        let (waitlist_mode, waitlist_offer_minutes) = waitlist_columns(slot.waitlist());
        Self {
            waitlist_mode,
            waitlist_offer_minutes,
            booked_count: count(slot.booked_count()),
            status: slot.status().as_str().to_owned(),
            meeting_provider: provider_text(meeting.provider()).to_owned(),
            meeting_url: meeting.url().map(str::to_owned),
            meeting_passcode: meeting.passcode().map(str::to_owned),
            calendar_event_id: meeting.calendar_event_id().map(str::to_owned),
            calendar_status: calendar_text(meeting.calendar_status()).to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = bookings, treat_none_as_default_value = false)]
pub(crate) struct BookingRow {
    pub id: DbId,
    pub slot_id: DbId,
    pub student_id: DbId,
    pub status: String,
    pub credit_id: Option<DbId>,
    pub created_at: DbInstant,
    pub updated_at: DbInstant,
    pub enrollment_id: Option<DbId>,
    pub trial: bool,
    pub offer_expires_at: Option<DbInstant>,
}

impl BookingRow {
    pub fn of(b: &Booking) -> Self {
        let (credit_id, enrollment_id) = match b.source() {
            BookingSource::Direct | BookingSource::Trial => (None, None),
            BookingSource::Credit(credit) => (Some(credit.into()), None),
            BookingSource::Package(enrollment) => (None, Some(enrollment.into())),
        };
        Self {
            id: b.id().into(),
            slot_id: b.slot().into(),
            student_id: b.student().into(),
            status: b.status().as_str().to_owned(),
            credit_id,
            created_at: b.created_at().into(),
            updated_at: b.updated_at().into(),
            enrollment_id,
            trial: b.source() == BookingSource::Trial,
            offer_expires_at: b.offer_expires_at().map(DbInstant::from),
        }
    }

    fn into_booking(self) -> Result<Booking, Error> {
        Ok(Booking::restore(
            self.id.0.into(),
            self.slot_id.0.into(),
            self.student_id.0.into(),
            parse_text(&self.status, BookingStatus::parse, "booking status")?,
            match (self.credit_id, self.enrollment_id) {
                (Some(credit), _) => BookingSource::Credit(CreditId::from_uuid(credit.0)),
                (None, Some(enrollment)) => BookingSource::Package(EnrollmentId::from_uuid(enrollment.0)),
                (None, None) if self.trial => BookingSource::Trial,
                (None, None) => BookingSource::Direct,
            },
            self.created_at.0,
            self.updated_at.0,
        )
        .with_offer(self.offer_expires_at.map(|at| at.0)))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = credits, treat_none_as_null = true)]
pub(crate) struct CreditRow {
    pub id: DbId,
    pub student_id: DbId,
    pub teacher_id: DbId,
    pub source_booking_id: DbId,
    pub issued_at: DbInstant,
    pub expires_at: DbInstant,
    pub status: String,
    pub redeemed_booking_id: Option<DbId>,
}

impl CreditRow {
    pub fn of(c: &MakeupCredit) -> Self {
        Self {
            id: c.id().into(),
            student_id: c.student().into(),
            teacher_id: c.teacher().into(),
            source_booking_id: c.source_booking().into(),
            issued_at: c.issued_at().into(),
            expires_at: c.expires_at().into(),
            status: c.status().as_str().to_owned(),
            redeemed_booking_id: c.redeemed_booking().map(DbId::from),
        }
    }

    pub fn into_credit(self) -> Result<MakeupCredit, Error> {
        MakeupCredit::restore(
            self.id.0.into(),
            self.student_id.0.into(),
            self.teacher_id.0.into(),
            self.source_booking_id.0.into(),
            self.issued_at.0,
            self.expires_at.0,
            parse_text(&self.status, CreditStatus::parse, "credit status")?,
            self.redeemed_booking_id.map(|b| b.0.into()),
        )
        .map_err(corrupt)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = booking_audit, treat_none_as_default_value = false)]
pub(crate) struct AuditRow {
    pub id: DbId,
    pub booking_id: DbId,
    pub slot_id: DbId,
    pub actor_id: Option<DbId>,
    pub at: DbInstant,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
}

impl AuditRow {
    pub fn of(e: &AuditEntry) -> Self {
        Self {
            id: DbId(Uuid::now_v7()),
            booking_id: e.booking.into(),
            slot_id: e.slot.into(),
            actor_id: e.actor.map(DbId::from),
            at: e.at.into(),
            from_status: e.from.map(|s| s.as_str().to_owned()),
            to_status: e.to.as_str().to_owned(),
            reason: e.reason.clone(),
        }
    }

    pub fn into_entry(self) -> Result<AuditEntry, Error> {
        Ok(AuditEntry {
            booking: self.booking_id.0.into(),
            slot: self.slot_id.0.into(),
            actor: self.actor_id.map(|a| a.0.into()),
            at: self.at.0,
            from: self
                .from_status
                .map(|s| parse_text(&s, BookingStatus::parse, "booking status"))
                .transpose()?,
            to: parse_text(&self.to_status, BookingStatus::parse, "booking status")?,
            reason: self.reason,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub(crate) struct OutboxRow {
    pub id: DbId,
    pub kind: String,
    pub payload: String,
    pub occurred_at: DbInstant,
    pub available_at: DbInstant,
    pub attempts: i32,
    pub delivered_at: Option<DbInstant>,
    pub last_error: Option<String>,
    pub failed_at: Option<DbInstant>,
}

impl OutboxRow {
    /// A new row for `message`, claimable from `available_at` (the store's
    /// clock, which the claims compare against).
    pub fn of(message: &OutboxMessage, available_at: time::OffsetDateTime) -> Result<Self, Error> {
        Ok(Self {
            id: message.id.into(),
            kind: message.event.kind().to_owned(),
            payload: serde_json::to_string(&message.event).map_err(|e| Error::Storage(e.to_string()))?,
            occurred_at: message.occurred_at.into(),
            available_at: available_at.into(),
            attempts: 0,
            delivered_at: None,
            last_error: None,
            failed_at: None,
        })
    }

    pub fn into_message(self) -> Result<OutboxMessage, Error> {
        Ok(OutboxMessage {
            id: self.id.0,
            event: serde_json::from_str(&self.payload).map_err(corrupt)?,
            occurred_at: self.occurred_at.0,
            attempts: u32::try_from(self.attempts).map_err(corrupt)?,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = teacher_policies)]
pub(crate) struct PolicyRow {
    pub teacher_id: DbId,
    pub requires_approval_one_on_one: bool,
    pub requires_approval_group: bool,
    pub min_notice_minutes: i64,
    pub max_advance_minutes: i64,
    pub cancel_window_minutes: i64,
    pub buffer_before_minutes: i64,
    pub buffer_after_minutes: i64,
    pub default_length_minutes: i64,
    pub daily_limit: Option<i32>,
    pub trial_length_minutes: Option<i64>,
    pub waitlist_mode: Option<String>,
    pub waitlist_offer_minutes: Option<i64>,
}

impl PolicyRow {
    pub fn of(teacher: DbId, p: &BookingPolicy) -> Self {
        let (waitlist_mode, waitlist_offer_minutes) = waitlist_columns(p.waitlist());
        Self {
            teacher_id: teacher,
            requires_approval_one_on_one: p.requires_approval(true),
            requires_approval_group: p.requires_approval(false),
            min_notice_minutes: p.min_notice().whole_minutes(),
            max_advance_minutes: p.max_advance().whole_minutes(),
            cancel_window_minutes: p.cancel_window().whole_minutes(),
            buffer_before_minutes: p.buffers().before.whole_minutes(),
            buffer_after_minutes: p.buffers().after.whole_minutes(),
            default_length_minutes: p.default_length().whole_minutes(),
            daily_limit: p.daily_limit().and_then(|n| i32::try_from(n).ok()),
            trial_length_minutes: p.trial_length().map(|d| d.whole_minutes()),
            waitlist_mode,
            waitlist_offer_minutes,
        }
    }

    pub fn into_policy(self) -> Result<BookingPolicy, Error> {
        let waitlist = waitlist_of(self.waitlist_mode, self.waitlist_offer_minutes)?;
        BookingPolicy::default()
            .with_waitlist(waitlist)
            .with_approval(self.requires_approval_one_on_one, self.requires_approval_group)
            .with_min_notice(Duration::minutes(self.min_notice_minutes))
            .and_then(|p| p.with_max_advance(Duration::minutes(self.max_advance_minutes)))
            .and_then(|p| p.with_cancel_window(Duration::minutes(self.cancel_window_minutes)))
            .and_then(|p| {
                p.with_buffers(
                    Duration::minutes(self.buffer_before_minutes),
                    Duration::minutes(self.buffer_after_minutes),
                )
            })
            .and_then(|p| p.with_default_length(Duration::minutes(self.default_length_minutes)))
            .and_then(|p| p.with_daily_limit(self.daily_limit.and_then(|n| u32::try_from(n).ok())))
            .and_then(|p| p.with_trial(self.trial_length_minutes.map(Duration::minutes)))
            .map_err(corrupt)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reviews)]
pub(crate) struct ReviewRow {
    pub id: DbId,
    pub booking_id: DbId,
    pub slot_id: DbId,
    pub teacher_id: DbId,
    pub student_id: DbId,
    pub rating: i16,
    pub body: String,
    pub created_at: DbInstant,
}

impl ReviewRow {
    pub fn of(r: &Review) -> Self {
        Self {
            id: r.id.into(),
            booking_id: r.booking.into(),
            slot_id: r.slot.into(),
            teacher_id: r.teacher.into(),
            student_id: r.student.into(),
            rating: i16::from(r.rating.get()),
            body: r.text.clone(),
            created_at: r.created_at.into(),
        }
    }

    pub fn into_review(self) -> Result<Review, Error> {
        let stars = u8::try_from(self.rating).map_err(corrupt)?;
        Ok(Review {
            id: self.id.0.into(),
            booking: self.booking_id.0.into(),
            slot: self.slot_id.0.into(),
            teacher: self.teacher_id.0.into(),
            student: self.student_id.0.into(),
            rating: Rating::new(stars).map_err(corrupt)?,
            text: self.body,
            created_at: self.created_at.0,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = lesson_reports, treat_none_as_null = true)]
pub(crate) struct ReportRow {
    pub id: DbId,
    pub booking_id: DbId,
    pub slot_id: DbId,
    pub teacher_id: DbId,
    pub student_id: DbId,
    pub listening: Option<i16>,
    pub reading: Option<i16>,
    pub writing: Option<i16>,
    pub speaking: Option<i16>,
    pub overall: Option<i16>,
    pub comments: String,
    pub created_at: DbInstant,
    pub updated_at: DbInstant,
}

fn halves(band: Option<Band>) -> Option<i16> {
    band.map(|b| (b.value() * 2.0) as i16)
}

fn band(halves: Option<i16>) -> Result<Option<Band>, Error> {
    halves
        .map(|h| Band::new(f64::from(h) / 2.0).map_err(corrupt))
        .transpose()
}

impl ReportRow {
    pub fn of(r: &LessonReport) -> Self {
        let b = r.bands();
        Self {
            id: r.id().into(),
            booking_id: r.booking().into(),
            slot_id: r.slot().into(),
            teacher_id: r.teacher().into(),
            student_id: r.student().into(),
            listening: halves(b.listening),
            reading: halves(b.reading),
            writing: halves(b.writing),
            speaking: halves(b.speaking),
            overall: halves(b.overall),
            comments: r.comments().to_owned(),
            created_at: r.created_at().into(),
            updated_at: r.updated_at().into(),
        }
    }

    pub fn into_report(self) -> Result<LessonReport, Error> {
        Ok(LessonReport::restore(
            self.id.0.into(),
            self.booking_id.0.into(),
            self.slot_id.0.into(),
            self.teacher_id.0.into(),
            self.student_id.0.into(),
            Bands {
                listening: band(self.listening)?,
                reading: band(self.reading)?,
                writing: band(self.writing)?,
                speaking: band(self.speaking)?,
                overall: band(self.overall)?,
            },
            self.comments,
            self.created_at.0,
            self.updated_at.0,
        ))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reminders, treat_none_as_default_value = false)]
pub(crate) struct ReminderRow {
    pub id: DbId,
    pub slot_id: DbId,
    pub booking_id: Option<DbId>,
    pub recipient_id: DbId,
    pub channel: String,
    pub lead_minutes: i32,
    pub due_at: DbInstant,
    pub available_at: DbInstant,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
}

impl ReminderRow {
    /// A newly planned reminder, pending and claimable from its due time.
    pub fn of(r: &NewReminder) -> Self {
        Self {
            id: r.id.into(),
            slot_id: r.slot.into(),
            booking_id: r.booking.map(DbId::from),
            recipient_id: r.recipient.into(),
            channel: r.channel.as_str().to_owned(),
            lead_minutes: i32::try_from(r.lead.whole_minutes()).unwrap_or(i32::MAX),
            due_at: r.due_at.into(),
            available_at: r.due_at.into(),
            status: ReminderStatus::Pending.as_str().to_owned(),
            attempts: 0,
            last_error: None,
        }
    }

    pub fn into_reminder(self) -> Result<Reminder, Error> {
        Ok(Reminder {
            planned: NewReminder {
                id: self.id.0,
                slot: self.slot_id.0.into(),
                booking: self.booking_id.map(|b| b.0.into()),
                recipient: self.recipient_id.0.into(),
                channel: parse_text(&self.channel, ReminderChannel::parse, "reminder channel")?,
                lead: Duration::minutes(i64::from(self.lead_minutes)),
                due_at: self.due_at.0,
            },
            status: parse_text(&self.status, ReminderStatus::parse, "reminder status")?,
            attempts: u32::try_from(self.attempts).map_err(corrupt)?,
            last_error: self.last_error,
        })
    }
}
