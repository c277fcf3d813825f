-- The bare-SQL ceiling of scripts/load (pgbench -M prepared): the booking
-- transaction the service makes for POST /slots/{id}/bookings
-- (adapters/sql/src/unit.rs, conn.rs), without the service: lock the slot
-- row, read it with its bookings under the lock, and when a seat is free
-- and the student holds none, insert the booking, count the seat, write
-- the audit entry and the outbox message. A random student and slot each
-- time, as wrk's booking.lua picks them.
\set slot random(1, :nslots)
\set student random(1, :nstudents)
BEGIN;
SELECT s.id AS slot_id, s.teacher_id, st.id AS student_id
  FROM slots s, load_student_ids st
 WHERE s.id = (SELECT id FROM load_slot_ids WHERE n = :slot) AND st.n = :student
   FOR UPDATE OF s \gset
SELECT s.booked_count < s.capacity
       AND NOT EXISTS (SELECT 1 FROM bookings b
                        WHERE b.slot_id = s.id AND b.student_id = :student_id
                          AND b.status IN ('requested', 'confirmed', 'waitlisted')) AS free
  FROM slots s WHERE s.id = :slot_id \gset
\if :free
INSERT INTO bookings (id, slot_id, student_id, status, created_at, updated_at)
  VALUES (gen_random_uuid(), :slot_id, :student_id, 'confirmed', now(), now())
  RETURNING id AS booking_id \gset
UPDATE slots SET booked_count = booked_count + 1 WHERE id = :slot_id;
INSERT INTO booking_audit (id, booking_id, slot_id, actor_id, at, from_status, to_status, reason)
  VALUES (gen_random_uuid(), :booking_id, :slot_id, :student_id, now(), NULL, 'confirmed', 'confirmed');
INSERT INTO outbox (id, kind, payload, occurred_at, available_at)
  VALUES (gen_random_uuid(), 'booking_confirmed',
          json_build_object('type', 'booking_confirmed', 'booking', :booking_id::uuid,
                            'slot', :slot_id::uuid, 'student', :student_id::uuid,
                            'teacher', :teacher_id::uuid)::text,
          now(), now());
\endif
COMMIT;
