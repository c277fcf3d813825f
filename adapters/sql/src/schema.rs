//! Tables, written once for both backends with the shared column types.

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    slots (id) {
        id -> SqlId,
        teacher_id -> SqlId,
        starts_at -> SqlInstant,
        ends_at -> SqlInstant,
        blocked_from -> SqlInstant,
        blocked_until -> SqlInstant,
        zone -> Text,
        capacity -> Integer,
        booked_count -> Integer,
        package_session_id -> Nullable<SqlId>,
        meeting_provider -> Text,
        meeting_url -> Nullable<Text>,
        meeting_passcode -> Nullable<Text>,
        calendar_event_id -> Nullable<Text>,
        calendar_status -> Text,
        status -> Text,
        created_at -> SqlInstant,
        waitlist_mode -> Nullable<Text>,
        waitlist_offer_minutes -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    bookings (id) {
        id -> SqlId,
        slot_id -> SqlId,
        student_id -> SqlId,
        status -> Text,
        credit_id -> Nullable<SqlId>,
        created_at -> SqlInstant,
        updated_at -> SqlInstant,
        enrollment_id -> Nullable<SqlId>,
        trial -> Bool,
        offer_expires_at -> Nullable<SqlInstant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    credits (id) {
        id -> SqlId,
        student_id -> SqlId,
        teacher_id -> SqlId,
        source_booking_id -> SqlId,
        issued_at -> SqlInstant,
        expires_at -> SqlInstant,
        status -> Text,
        redeemed_booking_id -> Nullable<SqlId>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    booking_audit (id) {
        id -> SqlId,
        booking_id -> SqlId,
        slot_id -> SqlId,
        actor_id -> Nullable<SqlId>,
        at -> SqlInstant,
        from_status -> Nullable<Text>,
        to_status -> Text,
        reason -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    outbox (id) {
        id -> SqlId,
        kind -> Text,
        payload -> Text,
        occurred_at -> SqlInstant,
        available_at -> SqlInstant,
        attempts -> Integer,
        delivered_at -> Nullable<SqlInstant>,
        last_error -> Nullable<Text>,
        failed_at -> Nullable<SqlInstant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::SqlId;

    teacher_policies (teacher_id) {
        teacher_id -> SqlId,
        requires_approval_one_on_one -> Bool,
        requires_approval_group -> Bool,
        min_notice_minutes -> BigInt,
        max_advance_minutes -> BigInt,
        cancel_window_minutes -> BigInt,
        buffer_before_minutes -> BigInt,
        buffer_after_minutes -> BigInt,
        default_length_minutes -> BigInt,
        daily_limit -> Nullable<Integer>,
        trial_length_minutes -> Nullable<BigInt>,
        waitlist_mode -> Nullable<Text>,
        waitlist_offer_minutes -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::SqlId;

    availability_rules (id) {
        id -> SqlId,
        teacher_id -> SqlId,
        weekday -> SmallInt,
        start_minute -> Integer,
        end_minute -> Integer,
        zone -> Text,
        valid_from -> Nullable<Integer>,
        valid_until -> Nullable<Integer>,
        active -> Bool,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::SqlId;

    availability_exceptions (id) {
        id -> SqlId,
        teacher_id -> SqlId,
        kind -> Text,
        from_date -> Integer,
        until_date -> Integer,
        start_minute -> Nullable<Integer>,
        end_minute -> Nullable<Integer>,
        zone -> Text,
        note -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    reviews (id) {
        id -> SqlId,
        booking_id -> SqlId,
        slot_id -> SqlId,
        teacher_id -> SqlId,
        student_id -> SqlId,
        rating -> SmallInt,
        body -> Text,
        created_at -> SqlInstant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    lesson_reports (id) {
        id -> SqlId,
        booking_id -> SqlId,
        slot_id -> SqlId,
        teacher_id -> SqlId,
        student_id -> SqlId,
        listening -> Nullable<SmallInt>,
        reading -> Nullable<SmallInt>,
        writing -> Nullable<SmallInt>,
        speaking -> Nullable<SmallInt>,
        overall -> Nullable<SmallInt>,
        comments -> Text,
        created_at -> SqlInstant,
        updated_at -> SqlInstant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    packages (id) {
        id -> SqlId,
        teacher_id -> SqlId,
        title -> Text,
        description -> Text,
        class_type -> Text,
        capacity -> Integer,
        start_date -> Text,
        start_time -> Text,
        zone -> Text,
        recurrence -> Text,
        session_count -> Integer,
        first_start -> SqlInstant,
        status -> Text,
        creation_key -> Nullable<Text>,
        created_at -> SqlInstant,
        policy -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::SqlId;

    package_sessions (id) {
        id -> SqlId,
        package_id -> SqlId,
        position -> Integer,
        slot_id -> SqlId,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    enrollments (id) {
        id -> SqlId,
        package_id -> SqlId,
        student_id -> SqlId,
        status -> Text,
        created_at -> SqlInstant,
        cancelled_at -> Nullable<SqlInstant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    payments (id) {
        id -> SqlId,
        booking_id -> Nullable<SqlId>,
        enrollment_id -> Nullable<SqlId>,
        payer_id -> SqlId,
        provider -> Text,
        currency -> Text,
        base_amount -> BigInt,
        amount -> BigInt,
        refunded_amount -> BigInt,
        status -> Text,
        stub -> Bool,
        promotion_id -> Nullable<SqlId>,
        provider_reference -> Nullable<Text>,
        checkout_url -> Nullable<Text>,
        created_at -> SqlInstant,
        paid_at -> Nullable<SqlInstant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    refunds (id) {
        id -> SqlId,
        payment_id -> SqlId,
        enrollment_id -> SqlId,
        amount -> BigInt,
        currency -> Text,
        basis -> Text,
        idempotency_key -> Text,
        created_at -> SqlInstant,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    pricing_rates (currency) {
        currency -> Text,
        one_on_one -> BigInt,
        group_rate -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    promotions (id) {
        id -> SqlId,
        kind -> Text,
        percent -> Nullable<SmallInt>,
        fixed_amount -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        scope -> Text,
        starts_at -> SqlInstant,
        ends_at -> SqlInstant,
        active -> Bool,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    reminders (id) {
        id -> SqlId,
        slot_id -> SqlId,
        booking_id -> Nullable<SqlId>,
        recipient_id -> SqlId,
        channel -> Text,
        lead_minutes -> Integer,
        due_at -> SqlInstant,
        available_at -> SqlInstant,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::SqlInstant;

    reminder_plan (id) {
        id -> SmallInt,
        planned_through -> Nullable<SqlInstant>,
    }
}

diesel::joinable!(bookings -> slots (slot_id));
diesel::joinable!(package_sessions -> slots (slot_id));
diesel::joinable!(package_sessions -> packages (package_id));
diesel::joinable!(payments -> enrollments (enrollment_id));
diesel::joinable!(user_consents -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, user_consents);
diesel::allow_tables_to_appear_in_same_query!(
    slots,
    bookings,
    credits,
    booking_audit,
    reviews,
    lesson_reports,
    packages,
    package_sessions,
    enrollments,
    payments,
    teacher_policies,
);

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    users (id) {
        id -> SqlId,
        subject -> Text,
        role -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        zone -> Text,
        locale -> Text,
        created_at -> SqlInstant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    user_consents (user_id, document) {
        user_id -> SqlId,
        document -> Text,
        version -> Text,
        granted -> Bool,
        decided_at -> SqlInstant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    idempotency_keys (user_id, key) {
        user_id -> SqlId,
        key -> Text,
        fingerprint -> Text,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        body -> Nullable<Binary>,
        created_at -> SqlInstant,
        answer -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    series (id) {
        id -> SqlId,
        teacher_id -> SqlId,
        student_id -> SqlId,
        zone -> Text,
        rule -> Text,
        created_at -> SqlInstant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::SqlId;

    series_bookings (booking_id) {
        booking_id -> SqlId,
        series_id -> SqlId,
        number -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{SqlId, SqlInstant};

    slot_series (id) {
        id -> SqlId,
        teacher_id -> SqlId,
        zone -> Text,
        rule -> Text,
        created_at -> SqlInstant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::SqlId;

    slot_series_slots (slot_id) {
        slot_id -> SqlId,
        series_id -> SqlId,
        number -> Integer,
    }
}
