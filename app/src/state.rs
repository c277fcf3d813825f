//! Shared application state handed to the HTTP layer: the use cases wired to
//! their adapters.

use tutorbook_domain::PlatformSettings;
use tutorbook_memory::MemoryStore;
use tutorbook_ports::{Bookings, Feedback, SystemClock, UuidV7};

/// The store the service runs on. The in-memory store for now; the SQL
/// stores replace it when persistence lands.
pub type Store = MemoryStore;

/// The use cases, wired to [`Store`], the system clock and UUID v7 ids.
///
/// Attached to every request as poem data, so handlers take
/// `poem::web::Data<&AppState>`. Cheap to clone: the store is shared.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Slots, bookings, credits, history.
    pub bookings: Bookings<Store, SystemClock, UuidV7>,
    /// Reviews, ratings, lesson reports, progress.
    pub feedback: Feedback<Store, SystemClock, UuidV7>,
}

impl AppState {
    /// Wires the use cases to `store` with the platform `settings`.
    pub fn new(store: Store, settings: PlatformSettings) -> Self {
        Self {
            bookings: Bookings::new(store.clone(), SystemClock, UuidV7, settings),
            feedback: Feedback::new(store, SystemClock, UuidV7),
        }
    }

    /// A fresh in-memory store with the default platform settings.
    pub fn in_memory() -> Self {
        Self::new(MemoryStore::new(), PlatformSettings::default())
    }
}
