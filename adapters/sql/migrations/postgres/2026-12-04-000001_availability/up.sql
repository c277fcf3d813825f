-- A teacher's weekly hours and date exceptions (docs/availability.md), and
-- the policy's lesson length, daily limit and trial length, and which
-- bookings are trial lessons (at most one per student and teacher). Dates are Julian day numbers
-- and local times minutes after midnight, the same in both backends.
CREATE TABLE availability_rules (
    id           uuid PRIMARY KEY,
    teacher_id   uuid NOT NULL,
    weekday      smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_minute integer NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute   integer NOT NULL CHECK (end_minute BETWEEN 0 AND 1439),
    zone         text NOT NULL,
    valid_from   integer,
    valid_until  integer,
    active       boolean NOT NULL
);
CREATE INDEX availability_rules_teacher ON availability_rules (teacher_id);

CREATE TABLE availability_exceptions (
    id           uuid PRIMARY KEY,
    teacher_id   uuid NOT NULL,
    kind         text NOT NULL,
    from_date    integer NOT NULL,
    until_date   integer NOT NULL CHECK (until_date >= from_date),
    start_minute integer CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute   integer CHECK (end_minute BETWEEN 1 AND 1439),
    zone         text NOT NULL,
    note         text NOT NULL
);
CREATE INDEX availability_exceptions_teacher ON availability_exceptions (teacher_id, until_date);

ALTER TABLE teacher_policies ADD COLUMN default_length_minutes bigint NOT NULL DEFAULT 50
    CHECK (default_length_minutes BETWEEN 10 AND 480);
ALTER TABLE teacher_policies ADD COLUMN daily_limit integer CHECK (daily_limit BETWEEN 1 AND 100);
ALTER TABLE teacher_policies ADD COLUMN trial_length_minutes bigint
    CHECK (trial_length_minutes BETWEEN 10 AND 480);
ALTER TABLE bookings ADD COLUMN trial boolean NOT NULL DEFAULT false;
