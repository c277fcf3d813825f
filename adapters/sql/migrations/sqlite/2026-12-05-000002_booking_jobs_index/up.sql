-- The booking jobs look for requests and confirmed bookings by status
-- (BookingStore::overdue_slots): only those rows are indexed.
CREATE INDEX bookings_active_status ON bookings (status, slot_id) WHERE status IN ('requested', 'confirmed');
