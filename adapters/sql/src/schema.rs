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

diesel::joinable!(bookings -> slots (slot_id));
diesel::allow_tables_to_appear_in_same_query!(slots, bookings, credits, booking_audit, reviews, lesson_reports);

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
    }
}
