//! `ManualClock`, the settable clock this crate ships for tests and demos.
//! (The store itself is tested on every backend by the conformance suite in
//! `tests/tests/conformance`.)

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tutorbook_memory::ManualClock;
use tutorbook_ports::Clock;

const T0: OffsetDateTime = datetime!(2030-01-06 08:00 UTC);

#[test]
fn manual_clock_clones_share_one_time() {
    let clock = ManualClock::at(T0);
    let copy = clock.clone();
    clock.advance(Duration::hours(2));
    assert_eq!(copy.now(), T0 + Duration::hours(2));
    copy.set(datetime!(2030-01-13 00:00 UTC));
    assert_eq!(clock.now(), datetime!(2030-01-13 00:00 UTC));
    clock.advance(-Duration::days(1));
    assert_eq!(copy.now(), datetime!(2030-01-12 00:00 UTC));
}
