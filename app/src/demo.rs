//! Demo data for a first start on a fresh machine: the development teacher
//! and student (the dev auto-login's users), a second teacher, and lesson
//! slots next week for both teachers. Seeded only into a store without users,
//! so restarts never duplicate it.

use time::{Duration, OffsetDateTime, Time};
use tutorbook_domain::{Actor, Meeting, Role};
use tutorbook_ports::{OpenSlot, UserStore};

use crate::auth::{dev_user, new_user};
use crate::state::AppState;

/// What the demo seeding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeded {
    /// The store already had users: nothing was added.
    AlreadyPopulated,
    /// Users and this many slots were added.
    Slots(usize),
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
                        },
                    )
                    .await?;
                opened += 1;
            }
        }
    }
    Ok(Seeded::Slots(opened))
}
