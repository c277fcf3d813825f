//! Application services: generic over the ports, so the compiler wires them
//! and `app` (or an embedder) picks the concrete adapters.

mod availability;
mod bookings;
mod browse;
mod feedback;
mod packages;
mod series;
mod users;

pub use availability::{BookableTimes, Schedules, Week};
pub use bookings::{Bookings, OpenSlot, WaitlistChoice};
pub use browse::{BROWSE_HORIZON, BrowsePage, DEFAULT_BROWSE_CACHE, MAX_BROWSE_STARTS, MAX_CACHED_SLOTS};
pub use feedback::{Feedback, LATEST_REVIEWS, TeacherFeedback};
pub use packages::{Packages, PaymentSettings};
pub use series::{SeriesAnswer, SeriesCancelled};
pub use users::{MAX_DISPLAY_NAME, MAX_USERS_PAGE, Users};

#[cfg(test)]
mod testing;

use tutorbook_domain::{Actor, BookingId, DomainError, Role, Slot, UserId};

use crate::{BookingStore, Error, Result, UserStore};

/// Checks the teacher a command gives new slots (or a package) to. Staff
/// acting for someone must name a teacher (`invalid_input` for a student or
/// an unknown id), so nobody else ever gets a schedule; a teacher acting for
/// themselves needs no read, and anyone else is left to the decision, which
/// refuses them (`forbidden`).
async fn check_named_teacher<S: UserStore>(store: &S, actor: &Actor, teacher: UserId) -> Result<()> {
    if !actor.is_staff() || (actor.user == teacher && actor.role == Role::Teacher) {
        return Ok(());
    }
    named_teacher(store, teacher).await.map(|_| ())
}

/// The user `id` names when it must name a teacher: `invalid_input` for a
/// student, staff or an unknown id (the id is a field of the caller's input).
async fn named_teacher<S: UserStore>(store: &S, id: UserId) -> Result<crate::User> {
    match store.user(id).await? {
        Some(user) if user.role == Role::Teacher => Ok(user),
        _ => Err(DomainError::invalid("teacher", "must name a teacher").into()),
    }
}

/// The slot of `booking`, read without a lock, when `actor` may see the
/// booking ([`Slot::shows_booking_to`]); `not_found` otherwise, so a
/// stranger learns nothing from an id.
async fn seen_slot_of<S: BookingStore>(store: &S, actor: &Actor, booking: BookingId) -> Result<Slot> {
    let not_found = || Error::not_found("booking");
    let slot = store.slot_of_booking(booking).await?.ok_or_else(not_found)?;
    let slot = store.slot(slot).await?.ok_or_else(not_found)?;
    if slot.shows_booking_to(booking, actor) {
        Ok(slot)
    } else {
        Err(not_found())
    }
}
