DROP TABLE series_bookings;
DROP TABLE series;
