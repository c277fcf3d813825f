-- Delivery retries: a message the worker gave up on keeps its last error and
-- leaves the pending index.
ALTER TABLE outbox ADD COLUMN failed_at BIGINT;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (available_at, id) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_failed ON outbox (id) WHERE failed_at IS NOT NULL;
