-- Seed data (the same as ../migrations/0003_seed.sql, with real booleans
-- and the identity columns moved past the ids written here): five movies with their showtimes, the permission to add
-- movies (held by the `programmers` group), and two users whose passwords
-- are "<name>-secret" (PBKDF2-SHA256 as Django's make_password, 10,000
-- iterations to keep demo logins cheap): alice is staff and a programmer,
-- bob is a customer.
INSERT INTO auth_user (id, username, password, is_active, is_staff, is_superuser) VALUES
    (1, 'alice', 'pbkdf2_sha256$10000$demoalicesalt$RG6jdYcp1x+w6BKm2TKVKug9f2c8kWtKqp/E7/Pi2w8=', TRUE, TRUE, FALSE),
    (2, 'bob', 'pbkdf2_sha256$10000$demobobsalt$3KsIzMg9nGqs3X3BE5+6oN6vSKjCBi+avzgNk6u5jrM=', TRUE, FALSE, FALSE);
INSERT INTO auth_permission (id, app_label, codename, name) VALUES
    (1, 'movies', 'add_movie', 'Can add movie');
INSERT INTO auth_group (id, name) VALUES (1, 'programmers');
INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (1, 1);
INSERT INTO auth_user_groups (user_id, group_id) VALUES (1, 1);

INSERT INTO movies_movie (id, title, year, runtime_minutes, tagline, synopsis, poster) VALUES
    (1, 'The Lighthouse Keeper', 2024, 112, 'One light, one keeper, one long winter.',
     'A retired sailor takes the last manned lighthouse on the coast and finds the logbook of the keeper before him.',
     'posters/the-lighthouse-keeper.svg'),
    (2, 'Paper Moons', 2023, 97, 'Every night she folds a new one.',
     'In a town without electricity, a girl hangs paper moons over the square until the whole valley comes to look.',
     'posters/paper-moons.svg'),
    (3, 'The Last Tram', 2025, 104, 'The city sleeps. The tram does not.',
     'A driver, a pickpocket and a night nurse share the last tram of the year across a city that is about to close its lines.',
     'posters/the-last-tram.svg'),
    (4, 'A Quiet Orbit', 2026, 128, 'Four hundred days. Two astronauts. No small talk.',
     'Two astronauts who cannot stand each other keep a failing station alive, and learn to listen to it.',
     'posters/a-quiet-orbit.svg'),
    (5, 'Salt and Honey', 2022, 89, 'A family recipe, a family feud.',
     'Three sisters inherit a bakery and one secret recipe, and cannot agree on which half of it is true.',
     'posters/salt-and-honey.svg');

INSERT INTO movies_showtime (id, movie_id, starts_at, screen, seats) VALUES
    (1, 1, '2026-12-18 18:00', 'Screen 1', 12),
    (2, 1, '2026-12-18 21:00', 'Screen 1', 12),
    (3, 2, '2026-12-18 17:30', 'Screen 2', 8),
    (4, 2, '2026-12-19 20:15', 'Screen 2', 8),
    (5, 3, '2026-12-18 19:45', 'Screen 3', 10),
    (6, 4, '2026-12-18 20:30', 'Screen 1', 12),
    (7, 4, '2026-12-19 15:00', 'Screen 1', 12),
    (8, 5, '2026-12-19 18:30', 'Screen 3', 10);

-- Rows added later (a new movie, a user) take ids after these.
SELECT setval(pg_get_serial_sequence('auth_user', 'id'), (SELECT max(id) FROM auth_user));
SELECT setval(pg_get_serial_sequence('auth_permission', 'id'), (SELECT max(id) FROM auth_permission));
SELECT setval(pg_get_serial_sequence('auth_group', 'id'), (SELECT max(id) FROM auth_group));
SELECT setval(pg_get_serial_sequence('movies_movie', 'id'), (SELECT max(id) FROM movies_movie));
SELECT setval(pg_get_serial_sequence('movies_showtime', 'id'), (SELECT max(id) FROM movies_showtime));
