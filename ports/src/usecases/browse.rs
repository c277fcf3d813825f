//! Browse (docs/product.md §3): the days with bookable supply across
//! teachers and one day's slots, read by the store's browse queries and kept
//! for a moment in a small cache (docs/decisions/0023-browse-served-from-a-short-cache.md).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};

use time::{Date, Duration, OffsetDateTime};
use tutorbook_domain::{Actor, DomainError, Slot, SlotId, UserId, Zone};

use super::Bookings;
use crate::{BookingStore, Browse, Clock, IdGen, PolicyStore, Result, UnitOfWork, UserStore};

/// How far ahead browse looks (the default maximum advance of a booking).
pub const BROWSE_HORIZON: Duration = Duration::days(90);

/// Most distinct start instants browse counts for its list of days: with
/// lessons on the quarter hour, 90 days have 8,640; this bounds a store full
/// of odd starts (days beyond the bound are not listed, but may still be
/// asked for).
pub const MAX_BROWSE_STARTS: usize = 100_000;

/// How long a browse page may be served again when nothing was committed in
/// this process meanwhile: the most a page can lag a change made through
/// another process on the same database.
pub const DEFAULT_BROWSE_CACHE: Duration = Duration::SECOND;

/// Most slots the browse cache holds over all its pages, so that what
/// clients can ask for costs bounded memory (200 pages of 100 slots).
pub const MAX_CACHED_SLOTS: usize = 20_000;

/// Reads of missing pages that may run at once: a missing page's key takes
/// one of these locks, so that requests arriving together for a page that
/// just went stale read it once, not once each.
const READ_LANES: usize = 16;

/// One page of browse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowsePage {
    /// The zone days are counted in.
    pub zone: Zone,
    /// Every day with supply, in order, with how many slots start that day.
    pub days: Vec<(Date, u32)>,
    /// The day shown: the one asked for, else the first with supply.
    pub date: Option<Date>,
    /// Its slots after the cursor, by start.
    pub slots: Vec<Slot>,
    /// The cursor of the next page (the last slot's id) when more follow.
    pub next: Option<SlotId>,
}

/// What tells one browse page from another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PageKey {
    exclude: Option<UserId>,
    zone: &'static str,
    date: Option<Date>,
    after: Option<SlotId>,
    limit: usize,
}

/// A page as it was read, with when and after how many commits.
#[derive(Debug)]
struct Kept {
    page: Arc<BrowsePage>,
    read_at: OffsetDateTime,
    commits: u64,
}

/// Recently read browse pages. A page is served again only while no unit of
/// work has committed through the store since it was read
/// ([`UnitOfWork::commits`]) and for at most `ttl` by the use cases' clock,
/// so a change made through this store shows at once and one made elsewhere
/// within `ttl`. Shared by every clone of the use cases.
#[derive(Debug)]
pub(super) struct BrowseCache {
    ttl: Duration,
    pages: Mutex<HashMap<PageKey, Kept>>,
    /// One read of a missing page at a time per lane (see [`READ_LANES`]).
    lanes: [futures_util::lock::Mutex<()>; READ_LANES],
    lane_of: RandomState,
}

impl BrowseCache {
    /// A cache keeping pages for `ttl`; zero or less keeps nothing.
    pub(super) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            pages: Mutex::new(HashMap::new()),
            lanes: std::array::from_fn(|_| futures_util::lock::Mutex::new(())),
            lane_of: RandomState::new(),
        }
    }

    /// Whether pages are kept at all.
    fn keeps(&self) -> bool {
        self.ttl.is_positive()
    }

    /// The lock a read of `key`'s page takes.
    fn lane(&self, key: &PageKey) -> &futures_util::lock::Mutex<()> {
        let lane = usize::try_from(self.lane_of.hash_one(key)).unwrap_or_default() % READ_LANES;
        &self.lanes[lane]
    }

    fn get(&self, key: &PageKey, now: OffsetDateTime, commits: u64) -> Option<Arc<BrowsePage>> {
        let pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = pages.get(key)?;
        self.fresh(kept, now, commits).then(|| Arc::clone(&kept.page))
    }

    fn fresh(&self, kept: &Kept, now: OffsetDateTime, commits: u64) -> bool {
        kept.commits == commits && kept.read_at <= now && now < kept.read_at + self.ttl
    }

    /// Keeps `page`, read at `read_at` after `commits` commits: the count
    /// from before the read, so that a page read while a command committed
    /// is stale at once.
    fn put(&self, key: PageKey, page: Arc<BrowsePage>, read_at: OffsetDateTime, commits: u64) {
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        let held: usize = pages.values().map(|k| k.page.slots.len() + 1).sum();
        if held + page.slots.len() + 1 > MAX_CACHED_SLOTS {
            pages.retain(|_, kept| self.fresh(kept, read_at, commits));
            let held: usize = pages.values().map(|k| k.page.slots.len() + 1).sum();
            if held + page.slots.len() + 1 > MAX_CACHED_SLOTS {
                pages.clear();
            }
        }
        pages.insert(key, Kept { page, read_at, commits });
    }
}

impl<S, C, I> Bookings<S, C, I>
where
    S: BookingStore + PolicyStore + UserStore + UnitOfWork,
    C: Clock,
    I: IdGen,
{
    /// One page of browse (docs/product.md §3): every day (in `zone`) with
    /// bookable supply over the next [`BROWSE_HORIZON`] with its count, and
    /// the slots of `date` (else the first day with supply) after the slot
    /// `after`, by start, at most `limit`. A viewer does not see their own
    /// slots. The store counts starts and reads one page by its index, so the
    /// cost follows the page, not the supply; a cursor that is not a slot of
    /// the day is `invalid_input`. A page read moments ago is served again
    /// while nothing was committed in this process (see
    /// [`Bookings::with_browse_cache`]).
    pub async fn browse(
        &self,
        viewer: Option<&Actor>,
        zone: Zone,
        date: Option<Date>,
        after: Option<SlotId>,
        limit: usize,
    ) -> Result<Arc<BrowsePage>> {
        let now = self.clock.now();
        let key = PageKey {
            exclude: viewer.map(|v| v.user),
            zone: zone.name(),
            date,
            after,
            limit,
        };
        let cache = &self.browse_cache;
        if !cache.keeps() {
            return Ok(Arc::new(
                self.read_browse(key.exclude, zone, date, after, limit, now).await?,
            ));
        }
        if let Some(page) = cache.get(&key, now, self.store.commits()) {
            return Ok(page);
        }
        // Requests that missed together wait for the first one's read, then
        // take its page if nothing was committed since that read began
        // (their own command's commit included): else they read too.
        let _lane = cache.lane(&key).lock().await;
        let before = self.store.commits();
        if let Some(page) = cache.get(&key, now, before) {
            return Ok(page);
        }
        let page = Arc::new(self.read_browse(key.exclude, zone, date, after, limit, now).await?);
        cache.put(key, Arc::clone(&page), now, before);
        Ok(page)
    }

    /// Reads a browse page from the store.
    async fn read_browse(
        &self,
        exclude: Option<UserId>,
        zone: Zone,
        date: Option<Date>,
        after: Option<SlotId>,
        limit: usize,
        now: OffsetDateTime,
    ) -> Result<BrowsePage> {
        let horizon = Browse {
            from: now,
            to: now + BROWSE_HORIZON,
            exclude,
        };
        let mut days: Vec<(Date, u32)> = Vec::new();
        // Starts come in order, and a local date never goes back as time
        // goes on (not even when the clocks do), so days come in order too.
        for (start, count) in self.store.browse_starts(horizon, MAX_BROWSE_STARTS).await? {
            if start <= now {
                continue;
            }
            let day = zone.to_local(start).date();
            match days.last_mut() {
                Some((last, n)) if *last == day => *n = n.saturating_add(count),
                _ => days.push((day, count)),
            }
        }
        let date = date.or_else(|| days.first().map(|(day, _)| *day));
        let Some(day) = date else {
            return Ok(BrowsePage {
                zone,
                days,
                date,
                slots: Vec::new(),
                next: None,
            });
        };
        let day_start = zone.resolve_bound(day.midnight());
        let day_end = day
            .next_day()
            .map_or(day_start + Duration::DAY, |d| zone.resolve_bound(d.midnight()));
        let range = Browse {
            from: day_start.max(horizon.from),
            to: day_end.min(horizon.to),
            exclude,
        };
        let after = match after {
            None => None,
            Some(id) => {
                let slot = self
                    .store
                    .slot(id)
                    .await?
                    .filter(|s| (range.from..range.to).contains(&s.window().start()))
                    .ok_or_else(|| {
                        DomainError::invalid("cursor", "does not point into this day's slots; start over")
                    })?;
                Some((slot.window().start(), id))
            }
        };
        let mut slots = if range.from < range.to {
            self.store.browse_page(range, after, limit.saturating_add(1)).await?
        } else {
            Vec::new()
        };
        slots.retain(|s| s.is_browsable(now));
        let next = if slots.len() > limit {
            slots.truncate(limit);
            slots.last().map(Slot::id)
        } else {
            None
        };
        Ok(BrowsePage {
            zone,
            days,
            date,
            slots,
            next,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use tutorbook_domain::{Actor, PlatformSettings};

    use super::*;
    use crate::MockClock;
    use crate::usecases::testing::{MockStore, NOW, START, TEACHER, clock, no_ids, open_slot};

    type Service = Bookings<MockStore, MockClock, crate::MockIdGen>;

    /// A store with one browsable slot at [`START`], expecting `reads`
    /// browse reads (each a count of starts and a page), whose commit count
    /// is `commits`.
    fn store(reads: usize, commits: Arc<AtomicU64>) -> MockStore {
        let slot = open_slot(1, TEACHER, 4);
        let mut store = MockStore::new();
        store
            .expect_browse_starts()
            .times(reads)
            .returning(|_, _| Ok(vec![(START, 1)]));
        store
            .expect_browse_page()
            .times(reads)
            .returning(move |_, _, _| Ok(vec![slot.clone()]));
        store.expect_commits().returning(move || commits.load(Ordering::SeqCst));
        store
    }

    fn service(store: MockStore, clock: MockClock) -> Service {
        Bookings::new(store, clock, no_ids(), PlatformSettings::default())
    }

    async fn browse(service: &Service) -> Arc<BrowsePage> {
        service.browse(None, Zone::default(), None, None, 10).await.unwrap()
    }

    #[tokio::test]
    async fn a_page_is_read_once_while_nothing_is_committed() {
        let service = service(store(1, Arc::default()), clock());
        let first = browse(&service).await;
        assert_eq!(first.slots.len(), 1);
        assert!(Arc::ptr_eq(&first, &browse(&service).await));
    }

    #[tokio::test]
    async fn a_commit_through_the_store_reads_the_page_again() {
        let commits = Arc::new(AtomicU64::new(0));
        let service = service(store(2, Arc::clone(&commits)), clock());
        let first = browse(&service).await;
        commits.fetch_add(1, Ordering::SeqCst);
        assert!(!Arc::ptr_eq(&first, &browse(&service).await));
    }

    #[tokio::test]
    async fn other_viewers_zones_days_and_limits_are_other_pages() {
        let service = service(store(4, Arc::default()), clock());
        browse(&service).await;
        let teacher = Actor::teacher(TEACHER);
        service
            .browse(Some(&teacher), Zone::default(), None, None, 10)
            .await
            .unwrap();
        let utc = Zone::parse("UTC").unwrap();
        service.browse(None, utc, None, None, 10).await.unwrap();
        service.browse(None, Zone::default(), None, None, 11).await.unwrap();
    }

    #[tokio::test]
    async fn a_page_lasts_its_time_to_live_by_the_clock() {
        let mut clock = MockClock::new();
        let mut times = [NOW, NOW + Duration::milliseconds(999), NOW + DEFAULT_BROWSE_CACHE].into_iter();
        clock.expect_now().returning(move || times.next().unwrap());
        let service = service(store(2, Arc::default()), clock);
        let first = browse(&service).await;
        assert!(Arc::ptr_eq(&first, &browse(&service).await));
        assert!(!Arc::ptr_eq(&first, &browse(&service).await));
    }

    #[tokio::test]
    async fn a_zero_time_to_live_keeps_nothing() {
        let service = service(store(2, Arc::default()), clock()).with_browse_cache(Duration::ZERO);
        let first = browse(&service).await;
        assert!(!Arc::ptr_eq(&first, &browse(&service).await));
    }

    #[tokio::test]
    async fn a_page_read_while_a_commit_landed_is_not_kept() {
        let commits = Arc::new(AtomicU64::new(0));
        let slot = open_slot(1, TEACHER, 4);
        let mut store = MockStore::new();
        // The page's read is where another command commits.
        store
            .expect_browse_starts()
            .times(2)
            .returning(|_, _| Ok(vec![(START, 1)]));
        let landed = Arc::clone(&commits);
        store.expect_browse_page().times(2).returning(move |_, _, _| {
            landed.fetch_add(1, Ordering::SeqCst);
            Ok(vec![slot.clone()])
        });
        let seen = Arc::clone(&commits);
        store.expect_commits().returning(move || seen.load(Ordering::SeqCst));
        let service = service(store, clock());
        browse(&service).await;
        browse(&service).await;
    }

    #[test]
    fn the_cache_holds_a_bounded_number_of_slots() {
        let cache = BrowseCache::new(DEFAULT_BROWSE_CACHE);
        let page = Arc::new(BrowsePage {
            zone: Zone::default(),
            days: Vec::new(),
            date: None,
            slots: vec![open_slot(1, TEACHER, 4); 100],
            next: None,
        });
        for limit in 0..1_000 {
            let key = PageKey {
                exclude: None,
                zone: "Asia/Seoul",
                date: None,
                after: None,
                limit,
            };
            cache.put(key, Arc::clone(&page), NOW, 0);
            let pages = cache.pages.lock().unwrap();
            let held: usize = pages.values().map(|k| k.page.slots.len() + 1).sum();
            assert!(held <= MAX_CACHED_SLOTS, "{held} slots held after {limit} pages");
        }
    }
}
