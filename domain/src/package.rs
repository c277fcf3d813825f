//! Course packages (docs/product.md §8): a teacher-owned course of fifty-minute sessions
//! sold as one product.
//!
//! The caps are checked whenever the package's details are set (creation and
//! revision), so a `CoursePackage` always satisfies them. Some hold by
//! construction instead of by a check: sessions last [`crate::SESSION_LENGTH`]
//! (not an input), the total stays under [`crate::MAX_TEACHING_HOURS`] (see
//! `schedule.rs`), and auto-renewal cannot be asked for (there is no such field).
//! The price is not stored either: it is always computed from the platform's
//! pricing config ([`CoursePackage::price`]), so nobody can type one in.

use crate::{
    Actor, BookingPolicy, Capacity, Currency, DomainError, DomainEvent, DomainResult, LessonWindow, Meeting, Money,
    Outcome, PackageId, PackageSchedule, PackageSessionId, PlatformSettings, PricingConfig, Role, Slot, SlotDraft,
    SlotId, UserId, Zone,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Longest package title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;

/// Longest package description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// One-to-one or group: decides the seats and the per-session rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassType {
    /// One student; capacity is always 1.
    OneOnOne,
    /// Up to the platform's maximum group capacity (default 4).
    Group,
}

impl ClassType {
    /// Stable text form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::OneOnOne => "one_on_one",
            Self::Group => "group",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::OneOnOne, Self::Group].into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a package is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageStatus {
    /// Set aside by its teacher: not listed, takes no enrollments.
    Draft,
    /// Listed publicly and open for enrollment (the status on creation).
    Open,
    /// No longer listed nor enrollable; enrolled students keep their lessons.
    Closed,
}

impl PackageStatus {
    /// Stable text form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Open, Self::Closed]
            .into_iter()
            .find(|status| status.as_str() == s)
    }

    /// Whether the package appears in the public list and takes enrollments.
    pub fn is_open(&self) -> bool {
        *self == Self::Open
    }
}

/// What a teacher fills in to create or revise a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageDetails {
    /// Shown in the list; 1..=[`MAX_TITLE_CHARS`] characters once trimmed.
    pub title: String,
    /// Up to [`MAX_DESCRIPTION_CHARS`] characters; may be empty.
    pub description: String,
    /// One-to-one or group.
    pub class_type: ClassType,
    /// Seats of a group package (2..=max group capacity); ignored for a
    /// one-to-one package, whose capacity is forced to 1 (docs/product.md §8).
    pub capacity: u32,
    /// When the sessions take place.
    pub schedule: PackageSchedule,
    /// The package's own policy, when it has one: its sessions follow it
    /// instead of the teacher's (docs/product.md §8).
    pub policy: Option<BookingPolicy>,
}

/// A teacher's course package with its generated sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoursePackage {
    id: PackageId,
    teacher: UserId,
    title: String,
    description: String,
    class_type: ClassType,
    capacity: Capacity,
    schedule: PackageSchedule,
    status: PackageStatus,
    policy: Option<BookingPolicy>,
}

impl CoursePackage {
    /// Creates an open package of `teacher` (docs/product.md §8). Only the teacher or
    /// staff may; the details must satisfy the caps and the first session must
    /// be after `now`. The caller then opens one slot per session.
    pub fn create(
        id: PackageId,
        teacher: UserId,
        details: PackageDetails,
        actor: &Actor,
        settings: &PlatformSettings,
        now: OffsetDateTime,
    ) -> DomainResult<Self> {
        let acting_as_teacher = actor.role == Role::Teacher && actor.user == teacher;
        if !(acting_as_teacher || actor.is_staff()) {
            return Err(DomainError::Forbidden);
        }
        let (title, capacity) = check_details(&details, settings)?;
        check_future(&details.schedule, now)?;
        Ok(Self {
            id,
            teacher,
            title,
            description: details.description,
            class_type: details.class_type,
            capacity,
            schedule: details.schedule,
            status: PackageStatus::Open,
            policy: details.policy,
        })
    }

    /// Replaces the details of a package nobody is enrolled in yet; a new
    /// schedule must start after `now`. Returns whether the sessions or their
    /// seats changed, in which case the caller regenerates the package's slots.
    pub fn revise(
        &mut self,
        details: PackageDetails,
        actor: &Actor,
        enrolled_students: u32,
        settings: &PlatformSettings,
        now: OffsetDateTime,
    ) -> DomainResult<bool> {
        self.check_manager(actor)?;
        if enrolled_students > 0 {
            return Err(DomainError::PackageHasStudents);
        }
        let (title, capacity) = check_details(&details, settings)?;
        let schedule_changed = details.schedule != self.schedule;
        if schedule_changed {
            check_future(&details.schedule, now)?;
        }
        // Other buffers change what its session slots keep free around them.
        let buffers_changed = details.policy.map(|p| p.buffers()) != self.policy.map(|p| p.buffers());
        let slots_changed = schedule_changed || capacity != self.capacity || buffers_changed;
        self.title = title;
        self.description = details.description;
        self.class_type = details.class_type;
        self.capacity = capacity;
        self.schedule = details.schedule;
        self.policy = details.policy;
        Ok(slots_changed)
    }

    /// The `package_created` event of this package.
    pub fn created(&self) -> DomainEvent {
        DomainEvent::PackageCreated {
            package: self.id,
            teacher: self.teacher,
        }
    }

    /// The `package_deleted` event of this package.
    pub fn deleted(&self) -> DomainEvent {
        DomainEvent::PackageDeleted { package: self.id }
    }

    /// Moves the package to `status` (closing it takes it off the public
    /// list; enrolled students keep their lessons). Only its teacher or staff may.
    pub fn set_status(&mut self, status: PackageStatus, actor: &Actor) -> DomainResult<()> {
        self.check_manager(actor)?;
        self.status = status;
        Ok(())
    }

    /// Checks that the package may be deleted: by its teacher or staff, and
    /// only while nobody is enrolled.
    pub fn ensure_deletable(&self, actor: &Actor, enrolled_students: u32) -> DomainResult<()> {
        self.check_manager(actor)?;
        if enrolled_students > 0 {
            return Err(DomainError::PackageHasStudents);
        }
        Ok(())
    }

    /// Rebuilds a package read back from storage (its schedule regenerated
    /// from the stored start date, time, zone, recurrence and count).
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        id: PackageId,
        teacher: UserId,
        title: String,
        description: String,
        class_type: ClassType,
        capacity: Capacity,
        schedule: PackageSchedule,
        status: PackageStatus,
        policy: Option<BookingPolicy>,
    ) -> Self {
        Self {
            id,
            teacher,
            title,
            description,
            class_type,
            capacity,
            schedule,
            status,
            policy,
        }
    }

    /// Opens one slot per session (docs/product.md §8), each marked with its package
    /// session. `teacher_slots` are the teacher's slots the store found around
    /// the sessions (under the teacher's lock, without this package's own
    /// slots); any collision refuses the whole package with `slot_overlap`.
    /// `ids` holds a (slot, session) id pair per session. Used on creation
    /// and when a schedule change regenerates the slots.
    pub fn open_session_slots(
        &self,
        ids: &[(SlotId, PackageSessionId)],
        actor: &Actor,
        teacher_slots: &[Slot],
        policy: &BookingPolicy,
        settings: &PlatformSettings,
        now: OffsetDateTime,
    ) -> DomainResult<(Vec<Slot>, Outcome)> {
        if ids.len() < self.sessions().len() {
            return Err(DomainError::invalid("slots", "one slot id per session is needed"));
        }
        let mut seen = teacher_slots.to_vec();
        let mut opened = Vec::with_capacity(self.sessions().len());
        let mut outcome = Outcome::default();
        for (window, (slot_id, session)) in self.sessions().iter().zip(ids) {
            let draft = SlotDraft {
                teacher: self.teacher,
                window: *window,
                zone: self.zone(),
                capacity: self.capacity.get(),
                meeting: Meeting::default(),
                package_session: Some(*session),
                waitlist: None,
            };
            let (slot, opened_outcome) = Slot::open(*slot_id, draft, actor, &seen, policy, settings, now)?;
            outcome.events.extend(opened_outcome.events);
            seen.push(slot.clone());
            opened.push(slot);
        }
        Ok((opened, outcome))
    }

    /// Its own policy, when the teacher gave it one.
    pub fn policy(&self) -> Option<BookingPolicy> {
        self.policy
    }

    /// The policy its sessions follow: its own, else `teacher`'s. Its
    /// buffers can only widen the teacher's (each side the larger of the
    /// two): they keep the sessions apart from the slots the teacher has
    /// when the package is created or revised, the same on every store,
    /// whose row guards keep the teacher's buffers. Its notice and advance
    /// bound enrolling when the package has its own (buying a package is
    /// the request, so the teacher's own policy does not bound it).
    pub fn session_policy(&self, teacher: &BookingPolicy) -> BookingPolicy {
        let Some(own) = self.policy else {
            return *teacher;
        };
        let (mine, theirs) = (own.buffers(), teacher.buffers());
        own.with_buffers(mine.before.max(theirs.before), mine.after.max(theirs.after))
            .unwrap_or(own)
    }

    /// The zone its local times are in.
    pub fn zone(&self) -> Zone {
        self.schedule.zone()
    }

    /// The price in `currency`: sessions × the config's per-session rate for
    /// the package's class type (docs/product.md §8, 9).
    pub fn price(&self, pricing: &PricingConfig, currency: Currency) -> DomainResult<Money> {
        pricing.price(self.class_type, self.schedule.session_count(), currency)
    }

    /// Its id.
    pub fn id(&self) -> PackageId {
        self.id
    }

    /// The teacher who owns and teaches it.
    pub fn teacher(&self) -> UserId {
        self.teacher
    }

    /// The title (trimmed).
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// One-to-one or group.
    pub fn class_type(&self) -> ClassType {
        self.class_type
    }

    /// Seats of every session slot.
    pub fn capacity(&self) -> Capacity {
        self.capacity
    }

    /// When the sessions take place.
    pub fn schedule(&self) -> &PackageSchedule {
        &self.schedule
    }

    /// The sessions in UTC, in order.
    pub fn sessions(&self) -> &[LessonWindow] {
        self.schedule.sessions()
    }

    /// Where it is in its life.
    pub fn status(&self) -> PackageStatus {
        self.status
    }

    fn check_manager(&self, actor: &Actor) -> DomainResult<()> {
        if actor.is_or_staff(self.teacher) {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }
}

/// Checks the title, description (lengths, readable text) and seats; returns
/// the trimmed title and the capacity.
fn check_details(details: &PackageDetails, settings: &PlatformSettings) -> DomainResult<(String, Capacity)> {
    let title = details.title.trim();
    if title.is_empty() {
        return Err(DomainError::invalid("title", "must not be empty"));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(DomainError::invalid(
            "title",
            format!("must be at most {MAX_TITLE_CHARS} characters"),
        ));
    }
    if details.description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(DomainError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    crate::check_line("title", title)?;
    if !details.description.is_empty() {
        crate::check_text("description", &details.description)?;
    }
    let capacity = match details.class_type {
        ClassType::OneOnOne => Capacity::ONE_ON_ONE,
        // A group of one would be a one-to-one lesson sold at the group rate.
        ClassType::Group if details.capacity < 2 => {
            return Err(DomainError::InvalidCapacity {
                got: details.capacity,
                max: settings.max_group_capacity(),
            });
        }
        ClassType::Group => Capacity::new(details.capacity, settings)?,
    };
    Ok((title.to_owned(), capacity))
}

/// Refuses a schedule whose first session has already started.
fn check_future(schedule: &PackageSchedule, now: OffsetDateTime) -> DomainResult<()> {
    match schedule.sessions().first() {
        Some(first) if first.start() > now => Ok(()),
        _ => Err(DomainError::SlotInPast),
    }
}
