-- The movies and bookings apps' tables (SQLite). A seat is booked at most
-- once per showtime: UNIQUE (showtime_id, seat) is what the booking view
-- relies on under concurrent requests.
CREATE TABLE movies_movie (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    year INTEGER NOT NULL,
    runtime_minutes INTEGER NOT NULL,
    tagline TEXT NOT NULL DEFAULT '',
    synopsis TEXT NOT NULL DEFAULT '',
    poster TEXT NOT NULL  -- a path under the static files
);
CREATE TABLE movies_showtime (
    id INTEGER PRIMARY KEY,
    movie_id INTEGER NOT NULL REFERENCES movies_movie (id) ON DELETE CASCADE,
    starts_at TEXT NOT NULL,  -- local time, 'YYYY-MM-DD HH:MM'
    screen TEXT NOT NULL,
    seats INTEGER NOT NULL CHECK (seats > 0)
);
CREATE INDEX movies_showtime_movie ON movies_showtime (movie_id, starts_at);
CREATE TABLE bookings_booking (
    id INTEGER PRIMARY KEY,
    showtime_id INTEGER NOT NULL REFERENCES movies_showtime (id) ON DELETE CASCADE,
    seat INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE,
    booked_at INTEGER NOT NULL,  -- Unix seconds
    UNIQUE (showtime_id, seat)
);
CREATE INDEX bookings_booking_user ON bookings_booking (user_id);
