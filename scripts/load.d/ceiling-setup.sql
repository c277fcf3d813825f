-- For scripts/load's SQL ceiling: numbered copies of the seeded slot and
-- student ids, so that pgbench can pick one at random by number.
SET client_min_messages = warning;
DROP TABLE IF EXISTS load_slot_ids, load_student_ids;
CREATE TABLE load_slot_ids AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM slots;
ALTER TABLE load_slot_ids ADD PRIMARY KEY (n);
CREATE TABLE load_student_ids AS
  SELECT row_number() OVER (ORDER BY id) AS n, id FROM users WHERE role = 'student';
ALTER TABLE load_student_ids ADD PRIMARY KEY (n);
ANALYZE load_slot_ids, load_student_ids;
