-- Users of the packaged service and their consent decisions (SPEC 1).
-- Ids are hyphenated text, instants microseconds since the epoch.
CREATE TABLE users (
    id           TEXT PRIMARY KEY NOT NULL,
    -- Provider-prefixed external identity: google:{sub}, host:{sub}, dev:{role}.
    subject      TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('student', 'teacher', 'staff')),
    display_name TEXT NOT NULL,
    email        TEXT,
    zone         TEXT NOT NULL,
    locale       TEXT NOT NULL CHECK (locale IN ('ko', 'en')),
    created_at   BIGINT NOT NULL
);

-- One row per (user, document): the latest decision overwrites the previous one.
CREATE TABLE user_consents (
    user_id    TEXT NOT NULL REFERENCES users (id),
    document   TEXT NOT NULL CHECK (document IN ('terms', 'privacy', 'cross_border', 'marketing')),
    version    TEXT NOT NULL,
    granted    BOOLEAN NOT NULL,
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, document)
);
