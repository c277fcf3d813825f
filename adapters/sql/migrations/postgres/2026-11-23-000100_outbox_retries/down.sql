DROP INDEX outbox_failed;
DROP INDEX outbox_pending;
ALTER TABLE outbox DROP COLUMN failed_at;
CREATE INDEX outbox_pending ON outbox (available_at, id) WHERE delivered_at IS NULL;
