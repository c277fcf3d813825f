DROP INDEX bookings_offer_deadline;
DROP INDEX bookings_active_status;
CREATE INDEX bookings_active_status ON bookings (status, slot_id) WHERE status IN ('requested', 'confirmed');
ALTER TABLE bookings DROP COLUMN offer_expires_at;
ALTER TABLE teacher_policies DROP COLUMN waitlist_offer_minutes;
ALTER TABLE teacher_policies DROP COLUMN waitlist_mode;
ALTER TABLE slots DROP COLUMN waitlist_offer_minutes;
ALTER TABLE slots DROP COLUMN waitlist_mode;
