-- Answers to retried commands, per user and Idempotency-Key. A row without
-- a status is a reservation: its request is still running.
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    status       INTEGER,
    content_type TEXT,
    body         BLOB,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
