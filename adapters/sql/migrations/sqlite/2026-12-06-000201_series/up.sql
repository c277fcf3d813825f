-- Recurring series (docs/series.md, docs/decisions/0022-recurring-series.md):
-- a series is written once with the bookings it made and never changes;
-- the bookings themselves live on their slots as any other booking. The
-- rule is kept as JSON (its occurrences are expanded from it again).
CREATE TABLE series (
    id         TEXT PRIMARY KEY NOT NULL,
    teacher_id TEXT NOT NULL,
    student_id TEXT NOT NULL,
    zone       TEXT NOT NULL,
    rule       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Each booking made by a series, with its occurrence's number (1..52).
CREATE TABLE series_bookings (
    booking_id TEXT PRIMARY KEY NOT NULL REFERENCES bookings (id),
    series_id  TEXT NOT NULL REFERENCES series (id),
    number     INTEGER NOT NULL CHECK (number BETWEEN 1 AND 52),
    UNIQUE (series_id, number)
);

-- A teacher's recurring slots: one slot per occurrence, opened together.
CREATE TABLE slot_series (
    id         TEXT PRIMARY KEY NOT NULL,
    teacher_id TEXT NOT NULL,
    zone       TEXT NOT NULL,
    rule       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE slot_series_slots (
    slot_id   TEXT PRIMARY KEY NOT NULL REFERENCES slots (id),
    series_id TEXT NOT NULL REFERENCES slot_series (id),
    number    INTEGER NOT NULL CHECK (number BETWEEN 1 AND 52),
    UNIQUE (series_id, number)
);
