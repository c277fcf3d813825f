//! Demo data for a first start on a fresh machine: the development teacher
//! and student (the dev auto-login's users), a second teacher, lesson slots
//! next week for both teachers, and a group course package of the second
//! teacher the week after. Seeded only into a store without users,
//! so restarts never duplicate it.

use time::{Duration, OffsetDateTime, Time};
use tutorbook_domain::{Actor, ClassType, Meeting, PackageDetails, PackageSchedule, Recurrence, Role};
use tutorbook_ports::{OpenSlot, UserStore, WaitlistChoice};

use crate::auth::{dev_user, new_user};
use crate::state::AppState;

/// What the demo seeding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeded {
    /// The store already had users: nothing was added.
    AlreadyPopulated,
    /// Users, `slots` single slots and `packages` course packages were added.
    Data {
        /// Single lesson slots opened.
        slots: usize,
        /// Course packages created.
        packages: usize,
    },
}

/// Seeds the demo data into an empty store, relative to `now`.
pub async fn seed(state: &AppState, now: OffsetDateTime) -> Result<Seeded, tutorbook_ports::Error> {
    if !state.store.users(None, 1).await?.is_empty() {
        return Ok(Seeded::AlreadyPopulated);
    }
    let first = state.store.create_user(dev_user(Role::Teacher, now)).await?;
    state.store.create_user(dev_user(Role::Student, now)).await?;
    let second = state
        .store
        .create_user(new_user(
            "demo:teacher2".into(),
            Role::Teacher,
            "Demo Teacher Two".into(),
            Some("teacher2@demo.invalid".into()),
            Some("ko"),
            Some("Asia/Manila"),
            now,
        ))
        .await?;

    // Next week's Monday to Friday, 10:00 and 14:00 UTC (1:1), plus a group
    // class at 16:00 on Wednesday.
    let today = now.date();
    let days_to_monday = i64::from(7 - today.weekday().number_days_from_monday());
    let monday = today + Duration::days(days_to_monday);
    let mut opened = 0;
    for teacher in [&first, &second] {
        let actor = Actor::teacher(teacher.id);
        for day in 0..5 {
            let date = monday + Duration::days(day);
            let mut lessons = vec![(10, 1), (14, 1)];
            if day == 2 {
                lessons.push((16, 4));
            }
            for (hour, capacity) in lessons {
                let start = date
                    .with_time(Time::from_hms(hour, 0, 0).map_err(|e| tutorbook_ports::Error::Storage(e.to_string()))?)
                    .assume_utc();
                // The second teacher teaches an hour later so that the two overlap little.
                let start = if teacher.id == second.id {
                    start + Duration::hours(1)
                } else {
                    start
                };
                state
                    .bookings
                    .open_slot(
                        &actor,
                        OpenSlot {
                            teacher: teacher.id,
                            start,
                            end: start + Duration::minutes(50),
                            zone: teacher.zone,
                            capacity,
                            meeting: Meeting::default(),
                            waitlist: WaitlistChoice::TeacherDefault,
                        },
                    )
                    .await?;
                opened += 1;
            }
        }
    }
    // The week after, Mon/Wed/Fri at 19:00 in the second teacher's zone: a
    // six-session group course of four seats.
    let storage = |e: tutorbook_domain::DomainError| tutorbook_ports::Error::from(e);
    let course = PackageDetails {
        title: "IELTS Speaking: six mock interviews".into(),
        description: "Three weeks of timed speaking practice with band feedback after each session.".into(),
        class_type: ClassType::Group,
        capacity: 4,
        schedule: PackageSchedule::new(
            monday + Duration::days(7),
            Time::from_hms(19, 0, 0).map_err(|e| tutorbook_ports::Error::Storage(e.to_string()))?,
            second.zone,
            Recurrence::Mwf,
            6,
        )
        .map_err(storage)?,
        policy: None,
    };
    state
        .packages
        .create(
            &Actor::teacher(second.id),
            second.id,
            course,
            Some("demo-package".into()),
        )
        .await?;
    Ok(Seeded::Data {
        slots: opened,
        packages: 1,
    })
}
