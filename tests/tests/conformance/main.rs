//! One set of scenarios written against the store ports, run on the memory,
//! SQLite and Postgres stores alike: the stores must be indistinguishable
//! through the use cases, including under concurrency.

mod availability;
mod backends;
mod bookings;
mod browse;
mod credits;
mod effects;
mod feedback;
mod idempotency;
mod instances;
mod jobs;
mod outbox;
mod packages;
mod races;
mod reads;
mod refusals;
mod reminders;
mod reschedule;
mod series;
mod smoke;
mod users;
mod waitlists;
mod world;
