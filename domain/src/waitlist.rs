//! How a full group slot keeps a line (docs/waitlists.md).
//!
//! A teacher turns a waitlist on per slot, or for all their new group slots
//! in their policy. When a seat frees up, the head of the line is either
//! confirmed at once (`auto_promote`) or offered the seat for a while
//! (`offer`); the slot's commands do that ([`crate::Slot::set_waitlist`]).

use crate::{DomainError, DomainResult};
use serde::{Deserialize, Serialize};
use time::Duration;

/// The shortest time an offered seat waits for its student.
pub const MIN_OFFER_TTL: Duration = Duration::minutes(5);

/// The longest time an offered seat waits for its student.
pub const MAX_OFFER_TTL: Duration = Duration::days(7);

/// A slot's waitlist: what happens to the head of the line when a seat frees up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Waitlist {
    /// The head of the line is confirmed in the same transaction that freed
    /// the seat (the default).
    AutoPromote,
    /// The head of the line is offered the seat until `ttl` has passed (or
    /// the lesson starts, whichever is first); the seat is kept for them
    /// meanwhile. Unanswered, the offer passes to the next in line.
    Offer {
        /// How long an offer stands.
        ttl: Duration,
    },
}

impl Waitlist {
    /// An `offer` waitlist whose offers stand for `ttl`: whole minutes from
    /// [`MIN_OFFER_TTL`] to [`MAX_OFFER_TTL`].
    pub fn offer(ttl: Duration) -> DomainResult<Self> {
        let whole_minutes = ttl.subsec_nanoseconds() == 0 && ttl.whole_seconds() % 60 == 0;
        if !whole_minutes || !(MIN_OFFER_TTL..=MAX_OFFER_TTL).contains(&ttl) {
            return Err(DomainError::invalid(
                "offer_ttl_minutes",
                "must be whole minutes from 5 minutes to 7 days",
            ));
        }
        Ok(Self::Offer { ttl })
    }

    /// Stable text form of the mode, as stored and sent over the wire.
    pub fn mode(&self) -> &'static str {
        match self {
            Self::AutoPromote => "auto_promote",
            Self::Offer { .. } => "offer",
        }
    }

    /// How long an offer stands, in `offer` mode.
    pub fn offer_ttl(&self) -> Option<Duration> {
        match self {
            Self::AutoPromote => None,
            Self::Offer { ttl } => Some(*ttl),
        }
    }

    /// Rebuilds a waitlist from its mode text and offer time to live, as
    /// stored or sent; `offer` needs a valid time to live, `auto_promote`
    /// takes none.
    pub fn parse(mode: &str, offer_ttl: Option<Duration>) -> DomainResult<Self> {
        match (mode, offer_ttl) {
            ("auto_promote", None) => Ok(Self::AutoPromote),
            ("auto_promote", Some(_)) => Err(DomainError::invalid(
                "offer_ttl_minutes",
                "only an offer waitlist has offers",
            )),
            ("offer", Some(ttl)) => Self::offer(ttl),
            ("offer", None) => Err(DomainError::invalid("offer_ttl_minutes", "an offer waitlist needs it")),
            _ => Err(DomainError::invalid("mode", "must be auto_promote or offer")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_stand_between_five_minutes_and_a_week() {
        assert!(Waitlist::offer(Duration::minutes(5)).is_ok());
        assert!(Waitlist::offer(Duration::days(7)).is_ok());
        assert!(Waitlist::offer(Duration::minutes(4)).is_err());
        assert!(Waitlist::offer(Duration::days(7) + Duration::MINUTE).is_err());
        assert!(Waitlist::offer(Duration::seconds(330)).is_err());
    }

    #[test]
    fn text_form_round_trips() {
        for waitlist in [Waitlist::AutoPromote, Waitlist::offer(Duration::hours(2)).unwrap()] {
            assert_eq!(Waitlist::parse(waitlist.mode(), waitlist.offer_ttl()), Ok(waitlist));
        }
        assert!(Waitlist::parse("auto_promote", Some(Duration::hours(1))).is_err());
        assert!(Waitlist::parse("offer", None).is_err());
        assert!(Waitlist::parse("lottery", None).is_err());
    }
}
