-- Browse reads open slots that are not package sessions by (start, id),
-- a page at a time (BookingStore::browse_page, browse_starts): only those
-- rows are indexed.
CREATE INDEX slots_browse ON slots (starts_at, id) WHERE status = 'open' AND package_session_id IS NULL;
