//! The domain's enums as they appear in the API: `poem_openapi::Enum`s, so
//! the OpenAPI document lists every value a field can take. Each mirrors one
//! domain enum variant for variant (the wire name is the variant in
//! snake_case, the same word as the domain's `as_str`); the conversions are
//! exhaustive matches, so a new domain variant does not compile until the
//! API has it too. A value outside an input enum is refused at the door with
//! `400 invalid_input`.

use time::Weekday;
use tutorbook_domain::{
    BookingStatus, CancellationTier, ClassType, CreditStatus, EnrollmentStatus, ExceptionKind, Frequency,
    PackageStatus, PaymentProvider, PaymentStatus, PromotionScope, Recurrence, RefundBasis, SeriesMode, SlotStatus,
};

/// Declares an API enum mirroring a domain enum, with the conversion from it.
macro_rules! mirror {
    ($(#[$meta:meta])* $name:ident from $domain:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
        #[oai(rename_all = "snake_case")]
        pub enum $name {
            $(
                #[allow(missing_docs)]
                $variant,
            )+
        }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value {
                    $($domain::$variant => Self::$variant,)+
                }
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => Self::$variant,)+
                }
            }
        }
    };
}

mirror! {
    /// Where a booking stands (`docs/product.md` §5).
    BookingStatusDto from BookingStatus {
        Requested, Confirmed, Waitlisted, Declined, Cancelled, TeacherCancelled, Expired, Completed, NoShow,
    }
}

/// What a slot does with its line when a seat frees up (docs/waitlists.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum WaitlistModeDto {
    /// No waitlist: a full slot refuses requests (`slot_full`).
    Off,
    /// The head of the line is confirmed at once.
    AutoPromote,
    /// The head of the line is offered the seat for a while.
    Offer,
}

mirror! {
    /// A day of the week.
    WeekdayDto from Weekday { Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday }
}

mirror! {
    /// Why a date exception exists (`docs/availability.md`); `extra_hours` adds hours.
    ExceptionKindDto from ExceptionKind { DayOff, Holiday, Vacation, SickLeave, Other, ExtraHours }
}

mirror! {
    /// Whether a slot is bookable.
    SlotStatusDto from SlotStatus { Open, Cancelled, Deleted }
}

mirror! {
    /// A make-up credit's state, as of now.
    CreditStatusDto from CreditStatus { Active, Redeemed, Expired }
}

mirror! {
    /// Whether a package is on sale.
    PackageStatusDto from PackageStatus { Draft, Open, Closed }
}

mirror! {
    /// A named cancel window: `flexible` (2 h), `moderate` (24 h), `strict` (48 h).
    CancellationTierDto from CancellationTier { Flexible, Moderate, Strict }
}

mirror! {
    /// 1:1 or group.
    ClassTypeDto from ClassType { OneOnOne, Group }
}

mirror! {
    /// The days a package meets.
    RecurrenceDto from Recurrence { Weekdays, Weekends, Mwf, Tts }
}

mirror! {
    /// Who collects a payment.
    PaymentProviderDto from PaymentProvider { Toss, Stripe }
}

mirror! {
    /// Where a payment stands.
    PaymentStatusDto from PaymentStatus { Pending, Paid, Failed, Refunded, PartiallyRefunded }
}

mirror! {
    /// Where an enrollment stands.
    EnrollmentStatusDto from EnrollmentStatus { Pending, Active, Refunded, PartiallyRefunded }
}

mirror! {
    /// The rule a refund amount comes from (`docs/product.md` §10).
    RefundBasisDto from RefundBasis { Prorata, AcademyTable, Ecommerce }
}

mirror! {
    /// What a promotion applies to.
    PromotionScopeDto from PromotionScope { All, Single, Package }
}

/// How a promotion takes money off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum DiscountKindDto {
    /// A share of the price.
    Percent,
    /// A fixed amount.
    Fixed,
}

mirror! {
    /// How often a series repeats (`docs/series.md`).
    FrequencyDto from Frequency { Weekly, Biweekly, Monthly }
}

mirror! {
    /// Book a series all or nothing, or book what can be booked (`docs/series.md`).
    SeriesModeDto from SeriesMode { AllOrNothing, BestEffort }
}
