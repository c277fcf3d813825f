-- Slots, bookings, make-up credits, history, outbox, policies, reviews, reports.
-- The database guards the booking invariants as well as the code does.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE slots (
    id                 uuid PRIMARY KEY,
    teacher_id         uuid NOT NULL,
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL,
    -- The time the lesson blocks, buffers included (policy at creation).
    blocked_from       timestamptz NOT NULL,
    blocked_until      timestamptz NOT NULL,
    zone               text NOT NULL,
    capacity           integer NOT NULL CHECK (capacity >= 1),
    booked_count       integer NOT NULL DEFAULT 0,
    package_session_id uuid,
    meeting_provider   text NOT NULL CHECK (meeting_provider IN ('google_meet', 'zoom', 'teams', 'custom')),
    meeting_url        text,
    meeting_passcode   text,
    calendar_event_id  text,
    calendar_status    text NOT NULL CHECK (calendar_status IN ('skipped', 'pending', 'synced', 'failed')),
    status             text NOT NULL CHECK (status IN ('open', 'cancelled', 'deleted')),
    created_at         timestamptz NOT NULL,
    CONSTRAINT slots_window CHECK (ends_at > starts_at AND blocked_from <= starts_at AND blocked_until >= ends_at),
    CONSTRAINT slots_seats CHECK (booked_count BETWEEN 0 AND capacity),
    CONSTRAINT slots_no_overlap EXCLUDE USING gist (
        teacher_id WITH =,
        tstzrange(blocked_from, blocked_until) WITH &&
    ) WHERE (status = 'open')
);
CREATE INDEX slots_teacher_start ON slots (teacher_id, starts_at);
CREATE INDEX slots_open_start ON slots (starts_at) WHERE status = 'open';

CREATE TABLE credits (
    id                  uuid PRIMARY KEY,
    student_id          uuid NOT NULL,
    teacher_id          uuid NOT NULL,
    source_booking_id   uuid NOT NULL UNIQUE,
    issued_at           timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    status              text NOT NULL CHECK (status IN ('active', 'redeemed', 'expired')),
    redeemed_booking_id uuid UNIQUE,
    CONSTRAINT credits_redeemed CHECK ((status = 'redeemed') = (redeemed_booking_id IS NOT NULL))
);
CREATE INDEX credits_student ON credits (student_id, issued_at DESC);

CREATE TABLE bookings (
    id         uuid PRIMARY KEY,
    slot_id    uuid NOT NULL REFERENCES slots (id),
    student_id uuid NOT NULL,
    status     text NOT NULL CHECK (status IN ('requested', 'confirmed', 'waitlisted', 'declined', 'cancelled',
                                               'teacher_cancelled', 'expired', 'completed', 'no_show')),
    credit_id  uuid REFERENCES credits (id),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- One active booking per student and slot.
CREATE UNIQUE INDEX bookings_one_active ON bookings (slot_id, student_id)
    WHERE status IN ('requested', 'confirmed', 'waitlisted');
CREATE INDEX bookings_slot ON bookings (slot_id, created_at);
CREATE INDEX bookings_student ON bookings (student_id);

ALTER TABLE credits ADD CONSTRAINT credits_source_booking FOREIGN KEY (source_booking_id) REFERENCES bookings (id);
ALTER TABLE credits ADD CONSTRAINT credits_redeemed_booking FOREIGN KEY (redeemed_booking_id) REFERENCES bookings (id)
    DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE booking_audit (
    id          uuid PRIMARY KEY,
    booking_id  uuid NOT NULL REFERENCES bookings (id),
    slot_id     uuid NOT NULL REFERENCES slots (id),
    actor_id    uuid,
    at          timestamptz NOT NULL,
    from_status text,
    to_status   text NOT NULL,
    reason      text NOT NULL
);
CREATE INDEX booking_audit_booking ON booking_audit (booking_id, id);

CREATE TABLE outbox (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL,
    payload      text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    available_at timestamptz NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    delivered_at timestamptz,
    last_error   text
);
CREATE INDEX outbox_pending ON outbox (available_at, id) WHERE delivered_at IS NULL;

CREATE TABLE teacher_policies (
    teacher_id                   uuid PRIMARY KEY,
    requires_approval_one_on_one boolean NOT NULL,
    requires_approval_group      boolean NOT NULL,
    min_notice_minutes           bigint NOT NULL CHECK (min_notice_minutes >= 0),
    max_advance_minutes          bigint NOT NULL CHECK (max_advance_minutes > 0),
    cancel_window_minutes        bigint NOT NULL CHECK (cancel_window_minutes >= 0),
    buffer_before_minutes        bigint NOT NULL CHECK (buffer_before_minutes >= 0),
    buffer_after_minutes         bigint NOT NULL CHECK (buffer_after_minutes >= 0)
);

CREATE TABLE reviews (
    id         uuid PRIMARY KEY,
    booking_id uuid NOT NULL UNIQUE REFERENCES bookings (id),
    slot_id    uuid NOT NULL REFERENCES slots (id),
    teacher_id uuid NOT NULL,
    student_id uuid NOT NULL,
    rating     smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body       text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX reviews_teacher ON reviews (teacher_id, created_at DESC);

CREATE TABLE lesson_reports (
    id         uuid PRIMARY KEY,
    booking_id uuid NOT NULL UNIQUE REFERENCES bookings (id),
    slot_id    uuid NOT NULL REFERENCES slots (id),
    teacher_id uuid NOT NULL,
    student_id uuid NOT NULL,
    -- IELTS bands in half steps: 0..=18 is 0.0..=9.0.
    listening  smallint CHECK (listening BETWEEN 0 AND 18),
    reading    smallint CHECK (reading BETWEEN 0 AND 18),
    writing    smallint CHECK (writing BETWEEN 0 AND 18),
    speaking   smallint CHECK (speaking BETWEEN 0 AND 18),
    overall    smallint CHECK (overall BETWEEN 0 AND 18),
    comments   text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX lesson_reports_student ON lesson_reports (student_id, created_at);
