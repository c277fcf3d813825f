-- The outbox worker writes each message twice after it is inserted: the
-- claim's lease (available_at, attempts) and the delivery (delivered_at).
-- The lease changes no indexed column, so with room on the page it is a
-- HOT update: no entry in the primary key or the pending index, whose
-- right-hand pages the bookings' own inserts are filling at the same time
-- (docs/performance.md, "The outbox's own writes"). Half of each page is
-- left for the new versions: a pass updates every message of a page at
-- once. Applies to pages written from now on.
ALTER TABLE outbox SET (fillfactor = 50);
