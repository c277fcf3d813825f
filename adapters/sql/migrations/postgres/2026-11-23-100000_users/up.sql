-- Users of the packaged service and their consent decisions (SPEC 1).
CREATE TABLE users (
    id           uuid PRIMARY KEY,
    -- Provider-prefixed external identity: google:{sub}, host:{sub}, dev:{role}.
    subject      text NOT NULL UNIQUE,
    role         text NOT NULL CHECK (role IN ('student', 'teacher', 'staff')),
    display_name text NOT NULL,
    email        text,
    zone         text NOT NULL,
    locale       text NOT NULL CHECK (locale IN ('ko', 'en')),
    created_at   timestamptz NOT NULL
);

-- One row per (user, document): the latest decision overwrites the previous one.
CREATE TABLE user_consents (
    user_id    uuid NOT NULL REFERENCES users (id),
    document   text NOT NULL CHECK (document IN ('terms', 'privacy', 'cross_border', 'marketing')),
    version    text NOT NULL,
    granted    boolean NOT NULL,
    decided_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, document)
);
