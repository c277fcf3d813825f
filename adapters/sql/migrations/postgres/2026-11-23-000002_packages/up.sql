-- Course packages, their session slots, enrollments, payments, refunds,
-- pricing and promotions (SPEC 8-10).

CREATE TABLE packages (
    id            uuid PRIMARY KEY,
    teacher_id    uuid NOT NULL,
    title         text NOT NULL CHECK (length(title) > 0),
    description   text NOT NULL,
    class_type    text NOT NULL CHECK (class_type IN ('one_on_one', 'group')),
    capacity      integer NOT NULL CHECK (capacity >= 1),
    -- The schedule as the teacher gave it; sessions are regenerated from it.
    start_date    text NOT NULL,
    start_time    text NOT NULL,
    zone          text NOT NULL,
    recurrence    text NOT NULL CHECK (recurrence IN ('weekdays', 'weekends', 'mwf', 'tts')),
    session_count integer NOT NULL CHECK (session_count BETWEEN 1 AND 29),
    first_start   timestamptz NOT NULL,
    status        text NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
    creation_key  text,
    created_at    timestamptz NOT NULL,
    CONSTRAINT packages_one_on_one CHECK (class_type = 'group' OR capacity = 1)
);
-- A retried creation finds the package its first attempt made.
CREATE UNIQUE INDEX packages_creation_key ON packages (teacher_id, creation_key) WHERE creation_key IS NOT NULL;
CREATE INDEX packages_open_first_start ON packages (first_start) WHERE status = 'open';
CREATE INDEX packages_teacher ON packages (teacher_id, first_start);

-- One row per session: the slot that carries it.
CREATE TABLE package_sessions (
    id         uuid PRIMARY KEY,
    package_id uuid NOT NULL REFERENCES packages (id),
    position   integer NOT NULL CHECK (position >= 0),
    slot_id    uuid NOT NULL UNIQUE REFERENCES slots (id),
    UNIQUE (package_id, position)
);

CREATE TABLE enrollments (
    id           uuid PRIMARY KEY,
    package_id   uuid NOT NULL REFERENCES packages (id),
    student_id   uuid NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'active', 'refunded', 'partially_refunded')),
    created_at   timestamptz NOT NULL,
    cancelled_at timestamptz,
    UNIQUE (package_id, student_id)
);
CREATE INDEX enrollments_student ON enrollments (student_id, created_at DESC);

ALTER TABLE bookings ADD COLUMN enrollment_id uuid REFERENCES enrollments (id);
ALTER TABLE bookings ADD CONSTRAINT bookings_one_source CHECK (credit_id IS NULL OR enrollment_id IS NULL);

CREATE TABLE payments (
    id                 uuid PRIMARY KEY,
    booking_id         uuid REFERENCES bookings (id),
    enrollment_id      uuid UNIQUE REFERENCES enrollments (id),
    payer_id           uuid NOT NULL,
    provider           text NOT NULL CHECK (provider IN ('toss', 'stripe')),
    currency           text NOT NULL,
    base_amount        bigint NOT NULL CHECK (base_amount >= 0),
    amount             bigint NOT NULL CHECK (amount >= 0),
    refunded_amount    bigint NOT NULL CHECK (refunded_amount BETWEEN 0 AND amount),
    status             text NOT NULL CHECK (status IN ('pending', 'paid', 'failed', 'refunded', 'partially_refunded')),
    stub               boolean NOT NULL,
    promotion_id       uuid,
    provider_reference text,
    checkout_url       text,
    created_at         timestamptz NOT NULL,
    paid_at            timestamptz,
    -- Exactly one of a booking or an enrollment.
    CONSTRAINT payments_one_target CHECK ((booking_id IS NULL) <> (enrollment_id IS NULL))
);
CREATE INDEX payments_booking ON payments (booking_id) WHERE booking_id IS NOT NULL;

CREATE TABLE refunds (
    id              uuid PRIMARY KEY,
    payment_id      uuid NOT NULL REFERENCES payments (id),
    enrollment_id   uuid NOT NULL REFERENCES enrollments (id),
    amount          bigint NOT NULL CHECK (amount >= 0),
    currency        text NOT NULL,
    basis           text NOT NULL CHECK (basis IN ('prorata', 'academy_table', 'ecommerce')),
    idempotency_key text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL
);

-- The platform's pricing config: one set of per-session rates per currency.
CREATE TABLE pricing_rates (
    currency   text PRIMARY KEY,
    one_on_one bigint NOT NULL CHECK (one_on_one > 0),
    group_rate bigint NOT NULL CHECK (group_rate > 0)
);

CREATE TABLE promotions (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('percent', 'fixed')),
    percent      smallint CHECK (percent BETWEEN 1 AND 100),
    fixed_amount bigint CHECK (fixed_amount >= 0),
    currency     text,
    scope        text NOT NULL CHECK (scope IN ('all', 'single', 'package')),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    active       boolean NOT NULL,
    CONSTRAINT promotions_window CHECK (ends_at > starts_at),
    CONSTRAINT promotions_amount CHECK (
        (kind = 'percent' AND percent IS NOT NULL AND fixed_amount IS NULL)
        OR (kind = 'fixed' AND fixed_amount IS NOT NULL AND currency IS NOT NULL AND percent IS NULL))
);
