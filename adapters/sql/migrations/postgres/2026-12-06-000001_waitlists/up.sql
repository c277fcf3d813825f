-- Waitlists (docs/waitlists.md): a slot's line setting, a teacher's default
-- for new group slots, and the deadline of a seat offered from the line.
ALTER TABLE slots ADD COLUMN waitlist_mode text CHECK (waitlist_mode IN ('auto_promote', 'offer'));
ALTER TABLE slots ADD COLUMN waitlist_offer_minutes bigint;
ALTER TABLE slots ADD CONSTRAINT slots_waitlist_offer
    CHECK ((waitlist_mode = 'offer') = (waitlist_offer_minutes IS NOT NULL));
ALTER TABLE teacher_policies ADD COLUMN waitlist_mode text CHECK (waitlist_mode IN ('auto_promote', 'offer'));
ALTER TABLE teacher_policies ADD COLUMN waitlist_offer_minutes bigint;
ALTER TABLE bookings ADD COLUMN offer_expires_at timestamptz;
ALTER TABLE bookings ADD CONSTRAINT bookings_offer_waitlisted
    CHECK (offer_expires_at IS NULL OR status = 'waitlisted');
-- The jobs find places on the line at the start (with the requests), and
-- offers by their deadline.
DROP INDEX bookings_active_status;
CREATE INDEX bookings_active_status ON bookings (status, slot_id)
    WHERE status IN ('requested', 'confirmed', 'waitlisted');
CREATE INDEX bookings_offer_deadline ON bookings (offer_expires_at, slot_id) WHERE offer_expires_at IS NOT NULL;
