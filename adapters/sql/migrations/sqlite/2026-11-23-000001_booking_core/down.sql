DROP TABLE lesson_reports;
DROP TABLE reviews;
DROP TABLE teacher_policies;
DROP TABLE outbox;
DROP TABLE booking_audit;
DROP TABLE bookings;
DROP TABLE credits;
DROP TABLE slots;
