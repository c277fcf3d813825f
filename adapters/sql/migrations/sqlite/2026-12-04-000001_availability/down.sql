ALTER TABLE bookings DROP COLUMN trial;
ALTER TABLE teacher_policies DROP COLUMN trial_length_minutes;
ALTER TABLE teacher_policies DROP COLUMN daily_limit;
ALTER TABLE teacher_policies DROP COLUMN default_length_minutes;
DROP TABLE availability_exceptions;
DROP TABLE availability_rules;
