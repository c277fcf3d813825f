//! In-memory adapters for every tutorbook port: real, thread-safe
//! implementations with the same semantics as the SQL stores, for tests,
//! demos and embedders who keep state elsewhere.

mod clock;
mod directory;
mod effects;
mod packages;
mod reminders;
mod store;
mod unit;
mod users;

pub use clock::ManualClock;
pub use directory::MemoryDirectory;
pub use effects::{MemoryCalendar, MemoryMailer};
pub use store::MemoryStore;
