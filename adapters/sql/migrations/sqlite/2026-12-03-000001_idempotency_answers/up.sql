-- A command run under an Idempotency-Key stores its answer with the key in
-- its own transaction (decision 0015); the HTTP response beside it is kept
-- afterwards. A row holds an answer, a response, or both; rows are no longer
-- reserved before the command runs.
ALTER TABLE idempotency_keys ADD COLUMN answer TEXT;
