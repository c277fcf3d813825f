-- SQLite dialect of the Postgres schema: ids are hyphenated UUID text,
-- instants are microseconds since the Unix epoch (UTC). SQLite has no
-- exclusion constraint: the store checks overlaps inside its serialized
-- write transaction.

CREATE TABLE slots (
    id                 TEXT PRIMARY KEY NOT NULL,
    teacher_id         TEXT NOT NULL,
    starts_at          BIGINT NOT NULL,
    ends_at            BIGINT NOT NULL,
    blocked_from       BIGINT NOT NULL,
    blocked_until      BIGINT NOT NULL,
    zone               TEXT NOT NULL,
    capacity           INTEGER NOT NULL CHECK (capacity >= 1),
    booked_count       INTEGER NOT NULL DEFAULT 0,
    package_session_id TEXT,
    meeting_provider   TEXT NOT NULL CHECK (meeting_provider IN ('google_meet', 'zoom', 'teams', 'custom')),
    meeting_url        TEXT,
    meeting_passcode   TEXT,
    calendar_event_id  TEXT,
    calendar_status    TEXT NOT NULL CHECK (calendar_status IN ('skipped', 'pending', 'synced', 'failed')),
    status             TEXT NOT NULL CHECK (status IN ('open', 'cancelled', 'deleted')),
    created_at         BIGINT NOT NULL,
    CONSTRAINT slots_window CHECK (ends_at > starts_at AND blocked_from <= starts_at AND blocked_until >= ends_at),
    CONSTRAINT slots_seats CHECK (booked_count BETWEEN 0 AND capacity)
);
CREATE INDEX slots_teacher_start ON slots (teacher_id, starts_at);
CREATE INDEX slots_open_start ON slots (starts_at) WHERE status = 'open';

CREATE TABLE credits (
    id                  TEXT PRIMARY KEY NOT NULL,
    student_id          TEXT NOT NULL,
    teacher_id          TEXT NOT NULL,
    source_booking_id   TEXT NOT NULL UNIQUE REFERENCES bookings (id) DEFERRABLE INITIALLY DEFERRED,
    issued_at           BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('active', 'redeemed', 'expired')),
    redeemed_booking_id TEXT UNIQUE REFERENCES bookings (id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT credits_redeemed CHECK ((status = 'redeemed') = (redeemed_booking_id IS NOT NULL))
);
CREATE INDEX credits_student ON credits (student_id, issued_at DESC);

CREATE TABLE bookings (
    id         TEXT PRIMARY KEY NOT NULL,
    slot_id    TEXT NOT NULL REFERENCES slots (id),
    student_id TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('requested', 'confirmed', 'waitlisted', 'declined', 'cancelled',
                                               'teacher_cancelled', 'expired', 'completed', 'no_show')),
    credit_id  TEXT REFERENCES credits (id) DEFERRABLE INITIALLY DEFERRED,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX bookings_one_active ON bookings (slot_id, student_id)
    WHERE status IN ('requested', 'confirmed', 'waitlisted');
CREATE INDEX bookings_slot ON bookings (slot_id, created_at);
CREATE INDEX bookings_student ON bookings (student_id);

CREATE TABLE booking_audit (
    id          TEXT PRIMARY KEY NOT NULL,
    booking_id  TEXT NOT NULL REFERENCES bookings (id),
    slot_id     TEXT NOT NULL REFERENCES slots (id),
    actor_id    TEXT,
    at          BIGINT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX booking_audit_booking ON booking_audit (booking_id, id);

CREATE TABLE outbox (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    occurred_at  BIGINT NOT NULL,
    available_at BIGINT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    last_error   TEXT
);
CREATE INDEX outbox_pending ON outbox (available_at, id) WHERE delivered_at IS NULL;

CREATE TABLE teacher_policies (
    teacher_id                   TEXT PRIMARY KEY NOT NULL,
    requires_approval_one_on_one BOOLEAN NOT NULL,
    requires_approval_group      BOOLEAN NOT NULL,
    min_notice_minutes           BIGINT NOT NULL CHECK (min_notice_minutes >= 0),
    max_advance_minutes          BIGINT NOT NULL CHECK (max_advance_minutes > 0),
    cancel_window_minutes        BIGINT NOT NULL CHECK (cancel_window_minutes >= 0),
    buffer_before_minutes        BIGINT NOT NULL CHECK (buffer_before_minutes >= 0),
    buffer_after_minutes         BIGINT NOT NULL CHECK (buffer_after_minutes >= 0)
);

CREATE TABLE reviews (
    id         TEXT PRIMARY KEY NOT NULL,
    booking_id TEXT NOT NULL UNIQUE REFERENCES bookings (id),
    slot_id    TEXT NOT NULL REFERENCES slots (id),
    teacher_id TEXT NOT NULL,
    student_id TEXT NOT NULL,
    rating     SMALLINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX reviews_teacher ON reviews (teacher_id, created_at DESC);

CREATE TABLE lesson_reports (
    id         TEXT PRIMARY KEY NOT NULL,
    booking_id TEXT NOT NULL UNIQUE REFERENCES bookings (id),
    slot_id    TEXT NOT NULL REFERENCES slots (id),
    teacher_id TEXT NOT NULL,
    student_id TEXT NOT NULL,
    listening  SMALLINT CHECK (listening BETWEEN 0 AND 18),
    reading    SMALLINT CHECK (reading BETWEEN 0 AND 18),
    writing    SMALLINT CHECK (writing BETWEEN 0 AND 18),
    speaking   SMALLINT CHECK (speaking BETWEEN 0 AND 18),
    overall    SMALLINT CHECK (overall BETWEEN 0 AND 18),
    comments   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX lesson_reports_student ON lesson_reports (student_id, created_at);
