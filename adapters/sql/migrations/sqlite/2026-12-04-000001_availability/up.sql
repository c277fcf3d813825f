-- A teacher's weekly hours and date exceptions (docs/availability.md), and
-- the policy's lesson length, daily limit and trial length, and which
-- bookings are trial lessons (at most one per student and teacher). Dates are Julian day numbers
-- and local times minutes after midnight, the same in both backends.
CREATE TABLE availability_rules (
    id           TEXT PRIMARY KEY NOT NULL,
    teacher_id   TEXT NOT NULL,
    weekday      SMALLINT NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute   INTEGER NOT NULL CHECK (end_minute BETWEEN 0 AND 1439),
    zone         TEXT NOT NULL,
    valid_from   INTEGER,
    valid_until  INTEGER,
    active       BOOLEAN NOT NULL
);
CREATE INDEX availability_rules_teacher ON availability_rules (teacher_id);

CREATE TABLE availability_exceptions (
    id           TEXT PRIMARY KEY NOT NULL,
    teacher_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    from_date    INTEGER NOT NULL,
    until_date   INTEGER NOT NULL CHECK (until_date >= from_date),
    start_minute INTEGER CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute   INTEGER CHECK (end_minute BETWEEN 1 AND 1439),
    zone         TEXT NOT NULL,
    note         TEXT NOT NULL
);
CREATE INDEX availability_exceptions_teacher ON availability_exceptions (teacher_id, until_date);

ALTER TABLE teacher_policies ADD COLUMN default_length_minutes BIGINT NOT NULL DEFAULT 50
    CHECK (default_length_minutes BETWEEN 10 AND 480);
ALTER TABLE teacher_policies ADD COLUMN daily_limit INTEGER CHECK (daily_limit BETWEEN 1 AND 100);
ALTER TABLE teacher_policies ADD COLUMN trial_length_minutes BIGINT
    CHECK (trial_length_minutes BETWEEN 10 AND 480);
ALTER TABLE bookings ADD COLUMN trial BOOLEAN NOT NULL DEFAULT false;
