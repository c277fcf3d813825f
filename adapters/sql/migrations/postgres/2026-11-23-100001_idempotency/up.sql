-- Answers to retried commands, per user and Idempotency-Key. A row without
-- a status is a reservation: its request is still running.
CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL,
    key          text NOT NULL,
    fingerprint  text NOT NULL,
    status       integer,
    content_type text,
    body         bytea,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
