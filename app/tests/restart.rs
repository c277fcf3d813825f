//! The embedded default store keeps its data across restarts.

use time::Duration;
use tutorbook_app::config::{Database, SQLITE_FILE};
use tutorbook_domain::{Actor, Meeting, UserId, Zone};
use tutorbook_ports::{BookingStore, OpenSlot, WaitlistChoice};
use uuid::Uuid;

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_survive_a_restart_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("tutorbook-restart-{}", Uuid::now_v7().simple()));
    let database = Database::Sqlite {
        path: dir.join("nested").join(SQLITE_FILE),
    };
    let teacher = Actor::teacher(UserId::from_uuid(Uuid::now_v7()));
    let start = common::now().replace_nanosecond(0).expect("valid") + Duration::days(3);

    let first = common::open(&database, common::auth_config()).await;
    let slot = first
        .bookings
        .open_slot(
            &teacher,
            OpenSlot {
                teacher: teacher.user,
                start,
                end: start + Duration::minutes(50),
                zone: Zone::default(),
                capacity: 2,
                meeting: Meeting::default(),
                waitlist: WaitlistChoice::TeacherDefault,
            },
        )
        .await
        .expect("slot opens");
    drop(first);

    // A second start runs no migration twice.
    let second = common::open(&database, common::auth_config()).await;
    let reloaded = second.store.slot(slot.id()).await.expect("read").expect("slot kept");
    assert_eq!(reloaded, slot);
}
