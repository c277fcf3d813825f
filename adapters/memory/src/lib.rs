//! In-memory adapters for every tutorbook port: real, thread-safe
//! implementations with the same semantics as the SQL stores, for tests,
//! demos and embedders who keep state elsewhere.

mod clock;
mod store;
mod users;

pub use clock::ManualClock;
pub use store::MemoryStore;
