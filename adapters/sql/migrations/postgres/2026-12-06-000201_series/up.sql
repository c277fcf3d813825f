-- Recurring series (docs/series.md, docs/decisions/0022-recurring-series.md):
-- a series is written once with the bookings it made and never changes;
-- the bookings themselves live on their slots as any other booking. The
-- rule is kept as JSON (its occurrences are expanded from it again).
CREATE TABLE series (
    id         uuid PRIMARY KEY,
    teacher_id uuid NOT NULL,
    student_id uuid NOT NULL,
    zone       text NOT NULL,
    rule       text NOT NULL,
    created_at timestamptz NOT NULL
);

-- Each booking made by a series, with its occurrence's number (1..52).
CREATE TABLE series_bookings (
    booking_id uuid PRIMARY KEY REFERENCES bookings (id),
    series_id  uuid NOT NULL REFERENCES series (id),
    number     integer NOT NULL CHECK (number BETWEEN 1 AND 52),
    UNIQUE (series_id, number)
);

-- A teacher's recurring slots: one slot per occurrence, opened together.
CREATE TABLE slot_series (
    id         uuid PRIMARY KEY,
    teacher_id uuid NOT NULL,
    zone       text NOT NULL,
    rule       text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE slot_series_slots (
    slot_id   uuid PRIMARY KEY REFERENCES slots (id),
    series_id uuid NOT NULL REFERENCES slot_series (id),
    number    integer NOT NULL CHECK (number BETWEEN 1 AND 52),
    UNIQUE (series_id, number)
);
