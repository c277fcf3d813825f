//! Browse (docs/product.md §3): the days with supply and one day's slots a
//! page at a time, read by the store's index. Every browsable slot is
//! reachable through the pages, whatever the supply; what is not browsable
//! never shows.

use std::collections::BTreeSet;

use time::Duration;
use tutorbook_domain::{
    Actor, BookingPolicy, Meeting, PlatformSettings, Slot, SlotDraft, SlotId, UserId, Waitlist, Zone,
};
use tutorbook_ports::{LockSet, WaitlistChoice, execute};
use uuid::Uuid;

use crate::backends::Store;
use crate::conformance;
use crate::world::{OTHER_TEACHER, TEACHER, World, at, code, slot_input, student};

/// Every slot `viewer` can reach by walking every day's pages of `limit`.
async fn walk<S: Store>(w: &World<S>, viewer: Option<&Actor>, zone: Zone, limit: usize) -> (Vec<SlotId>, u32) {
    let first = w.bookings.browse(viewer, zone, None, None, limit).await.unwrap();
    let counted = first.days.iter().map(|(_, n)| n).sum();
    let mut seen = Vec::new();
    for (day, count) in &first.days {
        let mut after = None;
        let mut on_day = 0;
        loop {
            let page = w.bookings.browse(viewer, zone, Some(*day), after, limit).await.unwrap();
            assert!(page.slots.len() <= limit);
            assert!(
                page.slots
                    .iter()
                    .all(|s| zone.to_local(s.window().start()).date() == *day)
            );
            on_day += page.slots.len();
            seen.extend(page.slots.iter().map(Slot::id));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(on_day, *count as usize, "{day}: the count matches the pages");
    }
    (seen, counted)
}

async fn browse_shows_what_can_be_booked_a_page_at_a_time<S: Store>(store: S) {
    let w = World::new(store);
    let seoul = Zone::parse("Asia/Seoul").unwrap();
    let open = w.open(TEACHER, at(1, 9), 2).await;
    let other = w.open(OTHER_TEACHER, at(1, 10), 1).await;
    let full = w.open(OTHER_TEACHER, at(2, 9), 1).await;
    w.confirmed(student(1), &full).await;
    let cancelled = w.open(TEACHER, at(2, 12), 1).await;
    w.bookings
        .cancel_slot(&Actor::teacher(TEACHER), cancelled.id())
        .await
        .unwrap();
    // A full slot with a line to join is shown.
    let input = tutorbook_ports::OpenSlot {
        waitlist: WaitlistChoice::On(Waitlist::AutoPromote),
        ..slot_input(TEACHER, at(3, 9), 2)
    };
    let lined = w.bookings.open_slot(&Actor::teacher(TEACHER), input).await.unwrap();
    w.confirmed(student(1), &lined).await;
    w.confirmed(student(2), &lined).await;

    let (seen, counted) = walk(&w, None, seoul, 1).await;
    assert_eq!(seen, [open.id(), other.id(), lined.id()]);
    assert_eq!(counted, 3);
    // A teacher does not see their own slots.
    let (seen, _) = walk(&w, Some(&Actor::teacher(TEACHER)), seoul, 50).await;
    assert_eq!(seen, [other.id()]);
    // A cursor from another day is refused.
    let day = seoul.to_local(at(3, 9)).date();
    assert_eq!(
        code(w.bookings.browse(None, seoul, Some(day), Some(open.id()), 10).await),
        "invalid_input"
    );
    // Days are the viewer's: 09:00 and 10:00 UTC on day 1 are one day in
    // Seoul (18:00 and 19:00), two in Honolulu (23:00, then midnight).
    let first = w.bookings.browse(None, seoul, None, None, 10).await.unwrap();
    assert_eq!(first.days[0], (seoul.to_local(at(1, 9)).date(), 2));
    let honolulu = Zone::parse("Pacific/Honolulu").unwrap();
    let page = w.bookings.browse(None, honolulu, None, None, 10).await.unwrap();
    let (late, midnight) = (honolulu.to_local(at(1, 9)), honolulu.to_local(at(1, 10)));
    assert_eq!((late.hour(), midnight.hour()), (23, 0));
    assert_eq!(page.days[..2], [(late.date(), 1), (midnight.date(), 1)]);
    assert_eq!(page.date, Some(late.date()));
    assert_eq!(page.slots.iter().map(Slot::id).collect::<Vec<_>>(), [open.id()]);
}

/// 20,000 open slots of 100 teachers: every one is reachable through pages
/// of 200, each exactly once, and the day counts add up.
async fn twenty_thousand_slots_are_all_reachable<S: Store>(store: S) {
    let w = World::new(store);
    let now = w.clock_now();
    let teachers: Vec<UserId> = (0..100)
        .map(|n| UserId::from_uuid(Uuid::from_u128(0x7000 + n)))
        .collect();
    let mut drafts = Vec::new();
    for (t, teacher) in teachers.iter().enumerate() {
        for n in 0..200_i64 {
            // Every teacher's lessons an hour apart, teachers staggered by a minute.
            let start = at(1, 0) + Duration::hours(n) + Duration::minutes(t as i64);
            drafts.push((*teacher, start));
        }
    }
    let mut locks = LockSet::new();
    for teacher in &teachers {
        locks = locks.schedule(*teacher, at(1, 0), at(1, 0) + Duration::days(10));
    }
    let opened: usize = execute(&w.store, locks, now, move |unit| {
        let settings = PlatformSettings::default();
        let policy = BookingPolicy::default();
        let count = drafts.len();
        for (teacher, start) in drafts {
            let draft = SlotDraft {
                teacher,
                window: tutorbook_domain::LessonWindow::new(start, start + Duration::minutes(50))?,
                zone: Zone::default(),
                capacity: 2,
                meeting: Meeting::default(),
                package_session: None,
                waitlist: None,
            };
            let id = SlotId::from_uuid(Uuid::now_v7());
            let (slot, _) = Slot::open(id, draft, &Actor::teacher(teacher), &[], &policy, &settings, now)?;
            unit.add_slot(slot);
        }
        Ok(count)
    })
    .await
    .unwrap();
    assert_eq!(opened, 20_000);
    let (seen, counted) = walk(&w, None, Zone::parse("Asia/Seoul").unwrap(), 200).await;
    assert_eq!(counted, 20_000);
    assert_eq!(seen.len(), 20_000);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 20_000, "each slot once");
}

/// Browse keeps a page for a moment (docs/decisions/0023-browse-served-from-a-short-cache.md),
/// but never past a change committed through the store: a seat taken, a
/// slot filled, a slot opened show on the next read, by the same clock.
async fn browse_shows_a_change_through_the_store_at_once<S: Store>(store: S) {
    let w = World::new(store);
    let seoul = Zone::parse("Asia/Seoul").unwrap();
    let read = || w.bookings.browse(None, seoul, None, None, 10);
    let slot = w.open(TEACHER, at(1, 9), 2).await;
    let first = read().await.unwrap();
    assert_eq!(first.slots[0].booked_count(), 0);
    assert_eq!(first, read().await.unwrap());

    w.confirmed(student(1), &slot).await;
    assert_eq!(read().await.unwrap().slots[0].booked_count(), 1);
    w.confirmed(student(2), &slot).await;
    let full = read().await.unwrap();
    assert!(full.days.is_empty() && full.slots.is_empty(), "{full:?}");
    let opened = w.open(OTHER_TEACHER, at(2, 9), 1).await;
    let page = read().await.unwrap();
    assert_eq!(page.slots.iter().map(Slot::id).collect::<Vec<_>>(), [opened.id()]);
}

conformance!(
    browse_shows_what_can_be_booked_a_page_at_a_time,
    browse_shows_a_change_through_the_store_at_once,
    twenty_thousand_slots_are_all_reachable,
);
