//! Application services: generic over the ports, so the compiler wires them
//! and `app` (or an embedder) picks the concrete adapters.

mod availability;
mod bookings;
mod feedback;
mod packages;
mod users;

pub use availability::{BookableTimes, Schedules, Week};
pub use bookings::{Bookings, OpenSlot};
pub use feedback::{Feedback, LATEST_REVIEWS, TeacherFeedback};
pub use packages::{Packages, PaymentSettings};
pub use users::{MAX_DISPLAY_NAME, MAX_USERS_PAGE, Users};

#[cfg(test)]
mod testing;
