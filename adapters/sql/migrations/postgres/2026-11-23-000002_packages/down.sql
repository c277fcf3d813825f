DROP TABLE promotions;
DROP TABLE pricing_rates;
DROP TABLE refunds;
DROP TABLE payments;
ALTER TABLE bookings DROP CONSTRAINT bookings_one_source;
ALTER TABLE bookings DROP COLUMN enrollment_id;
DROP TABLE enrollments;
DROP TABLE package_sessions;
DROP TABLE packages;
