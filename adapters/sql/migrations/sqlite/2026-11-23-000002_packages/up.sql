-- SQLite dialect of the Postgres migration (TEXT ids, BIGINT microsecond
-- instants). Course packages, their session slots, enrollments, payments, refunds,
-- pricing and promotions (SPEC 8-10).

CREATE TABLE packages (
    id            TEXT PRIMARY KEY NOT NULL,
    teacher_id    TEXT NOT NULL,
    title         TEXT NOT NULL CHECK (length(title) > 0),
    description   TEXT NOT NULL,
    class_type    TEXT NOT NULL CHECK (class_type IN ('one_on_one', 'group')),
    capacity      INTEGER NOT NULL CHECK (capacity >= 1),
    -- The schedule as the teacher gave it; sessions are regenerated from it.
    start_date    TEXT NOT NULL,
    start_time    TEXT NOT NULL,
    zone          TEXT NOT NULL,
    recurrence    TEXT NOT NULL CHECK (recurrence IN ('weekdays', 'weekends', 'mwf', 'tts')),
    session_count INTEGER NOT NULL CHECK (session_count BETWEEN 1 AND 29),
    first_start   BIGINT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
    creation_key  TEXT,
    created_at    BIGINT NOT NULL,
    CONSTRAINT packages_one_on_one CHECK (class_type = 'group' OR capacity = 1)
);
-- A retried creation finds the package its first attempt made.
CREATE UNIQUE INDEX packages_creation_key ON packages (teacher_id, creation_key) WHERE creation_key IS NOT NULL;
CREATE INDEX packages_open_first_start ON packages (first_start) WHERE status = 'open';
CREATE INDEX packages_teacher ON packages (teacher_id, first_start);

-- One row per session: the slot that carries it.
CREATE TABLE package_sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    package_id TEXT NOT NULL REFERENCES packages (id),
    position   INTEGER NOT NULL CHECK (position >= 0),
    slot_id    TEXT NOT NULL UNIQUE REFERENCES slots (id),
    UNIQUE (package_id, position)
);

CREATE TABLE enrollments (
    id           TEXT PRIMARY KEY NOT NULL,
    package_id   TEXT NOT NULL REFERENCES packages (id),
    student_id   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'active', 'refunded', 'partially_refunded')),
    created_at   BIGINT NOT NULL,
    cancelled_at BIGINT,
    UNIQUE (package_id, student_id)
);
CREATE INDEX enrollments_student ON enrollments (student_id, created_at DESC);

ALTER TABLE bookings ADD COLUMN enrollment_id TEXT REFERENCES enrollments (id);

CREATE TABLE payments (
    id                 TEXT PRIMARY KEY NOT NULL,
    booking_id         TEXT REFERENCES bookings (id),
    enrollment_id      TEXT UNIQUE REFERENCES enrollments (id),
    payer_id           TEXT NOT NULL,
    provider           TEXT NOT NULL CHECK (provider IN ('toss', 'stripe')),
    currency           TEXT NOT NULL,
    base_amount        BIGINT NOT NULL CHECK (base_amount >= 0),
    amount             BIGINT NOT NULL CHECK (amount >= 0),
    refunded_amount    BIGINT NOT NULL CHECK (refunded_amount BETWEEN 0 AND amount),
    status             TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed', 'refunded', 'partially_refunded')),
    stub               BOOLEAN NOT NULL,
    promotion_id       TEXT,
    provider_reference TEXT,
    checkout_url       TEXT,
    created_at         BIGINT NOT NULL,
    paid_at            BIGINT,
    -- Exactly one of a booking or an enrollment.
    CONSTRAINT payments_one_target CHECK ((booking_id IS NULL) <> (enrollment_id IS NULL))
);
CREATE INDEX payments_booking ON payments (booking_id) WHERE booking_id IS NOT NULL;

CREATE TABLE refunds (
    id              TEXT PRIMARY KEY NOT NULL,
    payment_id      TEXT NOT NULL REFERENCES payments (id),
    enrollment_id   TEXT NOT NULL REFERENCES enrollments (id),
    amount          BIGINT NOT NULL CHECK (amount >= 0),
    currency        TEXT NOT NULL,
    basis           TEXT NOT NULL CHECK (basis IN ('prorata', 'academy_table', 'ecommerce')),
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL
);

-- The platform's pricing config: one set of per-session rates per currency.
CREATE TABLE pricing_rates (
    currency   TEXT PRIMARY KEY NOT NULL,
    one_on_one BIGINT NOT NULL CHECK (one_on_one > 0),
    group_rate BIGINT NOT NULL CHECK (group_rate > 0)
);

CREATE TABLE promotions (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('percent', 'fixed')),
    percent      SMALLINT CHECK (percent BETWEEN 1 AND 100),
    fixed_amount BIGINT CHECK (fixed_amount >= 0),
    currency     TEXT,
    scope        TEXT NOT NULL CHECK (scope IN ('all', 'single', 'package')),
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    active       BOOLEAN NOT NULL,
    CONSTRAINT promotions_window CHECK (ends_at > starts_at),
    CONSTRAINT promotions_amount CHECK (
        (kind = 'percent' AND percent IS NOT NULL AND fixed_amount IS NULL)
        OR (kind = 'fixed' AND fixed_amount IS NOT NULL AND currency IS NOT NULL AND percent IS NULL))
);
