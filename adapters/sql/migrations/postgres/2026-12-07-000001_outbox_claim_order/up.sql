-- The outbox worker claims the oldest pending messages (ORDER BY id, a
-- time-ordered UUID) that are due. Keyed on (available_at, id), the index
-- made every claim read and sort the whole backlog: a claim cost grew with
-- the backlog (5-10 ms at a few thousand messages), so a backlog drained
-- ever slower. Keyed on id, a claim reads the pending messages in order
-- and stops at its limit (docs/performance.md).
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL AND failed_at IS NULL;
