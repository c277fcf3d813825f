DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (available_at, id) WHERE delivered_at IS NULL AND failed_at IS NULL;
