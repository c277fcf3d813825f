DROP INDEX bookings_active_status;
