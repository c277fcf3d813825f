//! What the API sends and receives: DTOs kept apart from the domain types, so
//! the wire format changes only on purpose. Times are RFC 3339; ids UUIDs.

use poem_openapi::{Enum, Object};
use time::OffsetDateTime;
use tutorbook_domain::{
    Actor, AuditEntry, Band, Booking, ConsentDocument, DomainError, LessonReport, Locale, MakeupCredit, Review, Role,
    Slot, Waitlist,
};
use tutorbook_ports::User;

use crate::http::enums::{BookingStatusDto, CreditStatusDto, SlotStatusDto, WaitlistModeDto};
use uuid::Uuid;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum RoleDto {
    /// Books lessons.
    Student,
    /// Opens slots and teaches.
    Teacher,
    /// Runs the school.
    Staff,
}

impl From<Role> for RoleDto {
    fn from(role: Role) -> Self {
        match role {
            Role::Student => Self::Student,
            Role::Teacher => Self::Teacher,
            Role::Staff => Self::Staff,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(role: RoleDto) -> Self {
        match role {
            RoleDto::Student => Self::Student,
            RoleDto::Teacher => Self::Teacher,
            RoleDto::Staff => Self::Staff,
        }
    }
}

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum LocaleDto {
    /// Korean (default).
    Ko,
    /// English.
    En,
}

impl From<Locale> for LocaleDto {
    fn from(locale: Locale) -> Self {
        match locale {
            Locale::Ko => Self::Ko,
            Locale::En => Self::En,
        }
    }
}

impl From<LocaleDto> for Locale {
    fn from(locale: LocaleDto) -> Self {
        match locale {
            LocaleDto::Ko => Self::Ko,
            LocaleDto::En => Self::En,
        }
    }
}

/// A legal document users decide on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum DocumentDto {
    /// Terms of service (required).
    Terms,
    /// Privacy policy (required).
    Privacy,
    /// Transfer of personal data abroad (required).
    CrossBorder,
    /// Marketing messages (optional).
    Marketing,
}

impl From<ConsentDocument> for DocumentDto {
    fn from(d: ConsentDocument) -> Self {
        match d {
            ConsentDocument::Terms => Self::Terms,
            ConsentDocument::Privacy => Self::Privacy,
            ConsentDocument::CrossBorder => Self::CrossBorder,
            ConsentDocument::Marketing => Self::Marketing,
        }
    }
}

impl From<DocumentDto> for ConsentDocument {
    fn from(d: DocumentDto) -> Self {
        match d {
            DocumentDto::Terms => Self::Terms,
            DocumentDto::Privacy => Self::Privacy,
            DocumentDto::CrossBorder => Self::CrossBorder,
            DocumentDto::Marketing => Self::Marketing,
        }
    }
}

/// A user as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UserView {
    /// User id.
    pub id: Uuid,
    /// Role.
    pub role: RoleDto,
    /// Display name.
    pub display_name: String,
    /// Email, when known.
    pub email: Option<String>,
    /// IANA time zone of their times.
    pub zone: String,
    /// Language of their messages.
    pub locale: LocaleDto,
    /// Sign-up time.
    pub created_at: OffsetDateTime,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.as_uuid(),
            role: u.role.into(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            zone: u.zone.name().to_owned(),
            locale: u.locale.into(),
            created_at: u.created_at,
        }
    }
}

/// A booking.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct BookingView {
    /// Booking id.
    pub id: Uuid,
    /// Its slot.
    pub slot: Uuid,
    /// The student.
    pub student: Uuid,
    /// Where the booking stands.
    pub status: BookingStatusDto,
    /// The make-up credit it was booked with, if any.
    pub credit: Option<Uuid>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last changed.
    pub updated_at: OffsetDateTime,
    /// For a waitlisted booking offered a freed seat: accept it before this
    /// (`POST /bookings/{id}/offer/accept`).
    pub offer_expires_at: Option<OffsetDateTime>,
}

impl From<&Booking> for BookingView {
    fn from(b: &Booking) -> Self {
        Self {
            id: b.id().as_uuid(),
            slot: b.slot().as_uuid(),
            student: b.student().as_uuid(),
            status: b.status().into(),
            credit: match b.source() {
                tutorbook_domain::BookingSource::Credit(c) => Some(c.as_uuid()),
                _ => None,
            },
            created_at: b.created_at(),
            updated_at: b.updated_at(),
            offer_expires_at: b.offer_expires_at(),
        }
    }
}

/// A slot. Meeting details and bookings are shown only to the slot's teacher,
/// staff and (meeting details) its confirmed students.
#[derive(Debug, Clone, PartialEq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SlotView {
    /// Slot id.
    pub id: Uuid,
    /// The teacher's user id.
    pub teacher: Uuid,
    /// Start (RFC 3339, UTC).
    pub start: OffsetDateTime,
    /// End (RFC 3339, UTC).
    pub end: OffsetDateTime,
    /// The teacher's IANA zone.
    pub zone: String,
    /// Seats.
    pub capacity: u32,
    /// Seats taken.
    pub booked_count: u32,
    /// Seats a newcomer could still take: capacity less confirmed seats and
    /// seats held for a waitlist offer.
    pub seats_left: u32,
    /// The line it keeps once full; absent without one.
    pub waitlist: Option<WaitlistSetting>,
    /// How many wait in its line (with a waitlist).
    pub waitlist_length: Option<u32>,
    /// Whether it is bookable.
    pub status: SlotStatusDto,
    /// Meeting link, for the people in the lesson.
    pub meeting_url: Option<String>,
    /// The bookings, for the teacher and staff.
    pub bookings: Option<Vec<BookingView>>,
}

impl SlotView {
    /// The slot as `viewer` may see it.
    pub fn of(slot: &Slot, viewer: Option<&Actor>) -> Self {
        Self {
            id: slot.id().as_uuid(),
            teacher: slot.teacher().as_uuid(),
            start: slot.window().start(),
            end: slot.window().end(),
            zone: slot.zone().name().to_owned(),
            capacity: slot.capacity().get(),
            booked_count: slot.booked_count(),
            seats_left: slot.capacity().get().saturating_sub(slot.seats_held()),
            waitlist: slot.waitlist().map(|w| WaitlistSetting::of(Some(w))),
            waitlist_length: slot
                .waitlist()
                .map(|_| u32::try_from(slot.waitlist_line().len()).unwrap_or(u32::MAX)),
            status: slot.status().into(),
            meeting_url: slot
                .shows_meeting_to(viewer)
                .then(|| slot.meeting().url().map(str::to_owned))
                .flatten(),
            bookings: slot
                .shows_roster_to(viewer)
                .then(|| slot.bookings().iter().map(BookingView::from).collect()),
        }
    }
}

/// A waitlist setting (docs/waitlists.md): off, `auto_promote` (the head
/// of the line takes a freed seat at once), or `offer` (the head is offered
/// it for `offer_ttl_minutes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WaitlistSetting {
    /// What happens to the head of the line when a seat frees up.
    pub mode: WaitlistModeDto,
    /// How long an offer stands, in whole minutes (5 to 10080, a week):
    /// required for `offer`, refused otherwise.
    #[oai(validator(minimum(value = "5"), maximum(value = "10080")))]
    pub offer_ttl_minutes: Option<u32>,
}

impl WaitlistSetting {
    /// The setting of `waitlist` (`off` for none).
    pub fn of(waitlist: Option<Waitlist>) -> Self {
        match waitlist {
            None => Self {
                mode: WaitlistModeDto::Off,
                offer_ttl_minutes: None,
            },
            Some(w) => Self {
                mode: match w {
                    Waitlist::AutoPromote => WaitlistModeDto::AutoPromote,
                    Waitlist::Offer { .. } => WaitlistModeDto::Offer,
                },
                offer_ttl_minutes: w.offer_ttl().and_then(|d| u32::try_from(d.whole_minutes()).ok()),
            },
        }
    }

    /// The waitlist it names (`None` for `off`); `invalid_input` when the
    /// offer time to live is missing or does not belong.
    pub fn waitlist(&self) -> Result<Option<Waitlist>, DomainError> {
        let ttl = self.offer_ttl_minutes.map(|m| time::Duration::minutes(i64::from(m)));
        match self.mode {
            WaitlistModeDto::Off if ttl.is_some() => Err(DomainError::invalid(
                "offer_ttl_minutes",
                "only an offer waitlist has offers",
            )),
            WaitlistModeDto::Off => Ok(None),
            WaitlistModeDto::AutoPromote => Waitlist::parse("auto_promote", ttl).map(Some),
            WaitlistModeDto::Offer => Waitlist::parse("offer", ttl).map(Some),
        }
    }
}

/// A make-up credit.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CreditView {
    /// Credit id.
    pub id: Uuid,
    /// The student holding it.
    pub student: Uuid,
    /// The teacher it is for.
    pub teacher: Uuid,
    /// The cancelled booking it replaces.
    pub source_booking: Uuid,
    /// Its state, as of now.
    pub status: CreditStatusDto,
    /// Issued.
    pub issued_at: OffsetDateTime,
    /// Expires.
    pub expires_at: OffsetDateTime,
    /// The booking it was redeemed into.
    pub redeemed_booking: Option<Uuid>,
}

impl CreditView {
    /// The credit with its status as of `now`.
    pub fn of(c: &MakeupCredit, now: OffsetDateTime) -> Self {
        Self {
            id: c.id().as_uuid(),
            student: c.student().as_uuid(),
            teacher: c.teacher().as_uuid(),
            source_booking: c.source_booking().as_uuid(),
            status: c.status_at(now).into(),
            issued_at: c.issued_at(),
            expires_at: c.expires_at(),
            redeemed_booking: c.redeemed_booking().map(|b| b.as_uuid()),
        }
    }
}

/// One change in a booking's history.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditView {
    /// Who caused it; absent for the system.
    pub actor: Option<Uuid>,
    /// When.
    pub at: OffsetDateTime,
    /// Status before; absent when the booking was created.
    pub from: Option<BookingStatusDto>,
    /// Status after.
    pub to: BookingStatusDto,
    /// Why, in a stable word (`requested`, `approved`, `slot_filled`, ...).
    pub reason: String,
}

impl From<&AuditEntry> for AuditView {
    fn from(e: &AuditEntry) -> Self {
        Self {
            actor: e.actor.map(|a| a.as_uuid()),
            at: e.at,
            from: e.from.map(Into::into),
            to: e.to.into(),
            reason: e.reason.clone(),
        }
    }
}

/// A review.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct ReviewView {
    /// Review id.
    pub id: Uuid,
    /// The reviewed booking.
    pub booking: Uuid,
    /// The teacher.
    pub teacher: Uuid,
    /// The author.
    pub student: Uuid,
    /// 1 to 5 stars.
    pub rating: u8,
    /// Free text.
    pub text: String,
    /// Written.
    pub created_at: OffsetDateTime,
}

impl From<&Review> for ReviewView {
    fn from(r: &Review) -> Self {
        Self {
            id: r.id.as_uuid(),
            booking: r.booking.as_uuid(),
            teacher: r.teacher.as_uuid(),
            student: r.student.as_uuid(),
            rating: r.rating.get(),
            text: r.text.clone(),
            created_at: r.created_at,
        }
    }
}

/// IELTS bands, each 0–9 in steps of 0.5; absent when not assessed.
#[derive(Debug, Clone, Copy, PartialEq, Default, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct BandsDto {
    /// Listening.
    pub listening: Option<f64>,
    /// Reading.
    pub reading: Option<f64>,
    /// Writing.
    pub writing: Option<f64>,
    /// Speaking.
    pub speaking: Option<f64>,
    /// Overall.
    pub overall: Option<f64>,
}

fn band(value: Option<Band>) -> Option<f64> {
    value.map(|b| b.value())
}

impl From<tutorbook_domain::Bands> for BandsDto {
    fn from(b: tutorbook_domain::Bands) -> Self {
        Self {
            listening: band(b.listening),
            reading: band(b.reading),
            writing: band(b.writing),
            speaking: band(b.speaking),
            overall: band(b.overall),
        }
    }
}

impl TryFrom<BandsDto> for tutorbook_domain::Bands {
    type Error = tutorbook_domain::DomainError;

    fn try_from(b: BandsDto) -> Result<Self, Self::Error> {
        let parse = |v: Option<f64>| v.map(Band::new).transpose();
        Ok(Self {
            listening: parse(b.listening)?,
            reading: parse(b.reading)?,
            writing: parse(b.writing)?,
            speaking: parse(b.speaking)?,
            overall: parse(b.overall)?,
        })
    }
}

/// A lesson report.
#[derive(Debug, Clone, PartialEq, Object)]
pub struct ReportView {
    /// Report id.
    pub id: Uuid,
    /// The booking reported on.
    pub booking: Uuid,
    /// The teacher.
    pub teacher: Uuid,
    /// The student.
    pub student: Uuid,
    /// Bands.
    pub bands: BandsDto,
    /// Comments.
    pub comments: String,
    /// First written.
    pub created_at: OffsetDateTime,
    /// Last edited.
    pub updated_at: OffsetDateTime,
}

impl From<&LessonReport> for ReportView {
    fn from(r: &LessonReport) -> Self {
        Self {
            id: r.id().as_uuid(),
            booking: r.booking().as_uuid(),
            teacher: r.teacher().as_uuid(),
            student: r.student().as_uuid(),
            bands: r.bands().into(),
            comments: r.comments().to_owned(),
            created_at: r.created_at(),
            updated_at: r.updated_at(),
        }
    }
}
