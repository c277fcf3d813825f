DROP TABLE slot_series_slots;
DROP TABLE slot_series;
DROP TABLE series_bookings;
DROP TABLE series;
